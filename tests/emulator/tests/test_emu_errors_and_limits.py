# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documented error bodies, status codes and rate-limit answers, per vendor."""

import time

from emu_helpers import (AGILESEC, AGILESEC_EXPIRED, AS, CG, CLOUDGENI, CLOUDGENI_OTHER_ORG, CLOUDGENI_READONLY, HARBORGUARD,
                         HARBORGUARD_ADMIN_PAT, HARBORGUARD_SENSOR, HARBORGUARD_VIEWER_PAT, HG, PENAXTRA, PENAXTRA_AWS, PENAXTRA_EXPIRED,
                         PENAXTRA_IP_RESTRICTED, PENAXTRA_OTHER_TENANT, PENAXTRA_READONLY, PX)


# ---------------------------------------------------------------- CloudGeni
def test_cloudgeni_errors(http):
    assert http.get(CG + "/repositories").status_code == 401
    wrong_header = http.get(CG + "/repositories", headers={"x-api-key": CLOUDGENI["X-CLOUDGENI-API-KEY"]})
    assert wrong_header.status_code == 401 and wrong_header.json()["error"] == "unauthorized"
    assert http.get(CG + "/repositories", headers=CLOUDGENI_OTHER_ORG).json()["error"] == "forbidden"
    readonly = http.post(CG + "/repositories/repo_abc123/scans", json={}, headers=CLOUDGENI_READONLY)
    assert readonly.status_code == 403 and readonly.json()["details"] == {"requiredScope": "read-write"}
    branch = http.post(CG + "/repositories/repo_abc123/scans", json={"branch": "invalid/name"}, headers=CLOUDGENI)
    assert branch.status_code == 400
    assert branch.json() == {"error": "bad_request", "message": "Invalid branch name",
                             "details": {"field": "branch", "issue": "Branch 'invalid/name' does not exist"}}
    missing = http.get(CG + "/repositories/repo_abc123/scans/scan_nope", headers=CLOUDGENI)
    assert missing.status_code == 404 and missing.json() == {"error": "not_found", "message": "Scan not found", "details": {"scanId": "scan_nope"}}
    limit = http.get(CG + "/repositories", params={"limit": 101}, headers=CLOUDGENI)
    assert limit.status_code == 400 and limit.json()["details"]["field"] == "limit"
    first = http.post(CG + "/repositories/repo_abc123/scans", json={}, headers=CLOUDGENI).json()
    conflict = http.post(CG + "/repositories/repo_abc123/scans", json={}, headers=CLOUDGENI)
    assert conflict.status_code == 409
    assert conflict.json() == {"error": "conflict", "message": "A scan is already running for this repository",
                               "details": {"existingScanId": first["id"]}}


def test_cloudgeni_rate_limits(http, admin):
    admin.limits("cloudgeni", trigger_per_window=2, status_per_window=3, findings_per_window=1, window_seconds=60)
    for repo in ("repo_abc", "repo_def456"):
        assert http.post(CG + "/repositories/%s/scans" % repo, json={}, headers=CLOUDGENI).status_code == 201
    limited = http.post(CG + "/repositories/repo_001landin/scans", json={}, headers=CLOUDGENI)
    assert limited.status_code == 429
    body = limited.json()
    assert body["error"] == "rate_limited" and body["message"] == "Rate limit exceeded" and 0 < body["details"]["retryAfterSeconds"] <= 60
    assert "retry-after" not in limited.headers and not any(name.startswith("x-ratelimit") for name in limited.headers)
    statuses = [http.get(CG + "/repositories/repo_abc/scans/scan_xyz", headers=CLOUDGENI).status_code for _attempt in range(4)]
    assert statuses == [200, 200, 200, 429]
    findings = [http.get(CG + "/repositories/repo_abc/scans/scan_xyz/findings", headers=CLOUDGENI).status_code for _attempt in range(2)]
    assert findings == [200, 429]
    admin.limits("cloudgeni", enabled=False)
    assert http.get(CG + "/repositories/repo_abc/scans/scan_xyz", headers=CLOUDGENI).status_code == 200


# ---------------------------------------------------------------- AgileSec
def create(http, body, headers=None):
    return http.post(AS + "/scan/create", json=body, headers=headers or AGILESEC)


def test_agilesec_scan_api_requires_the_json_content_type(http):
    token = {"isg-api-token": AGILESEC["isg-api-token"]}
    body = b'{"sensorId": "0123456789abcdef01234567"}'
    missing = {"status": "failed", "message": "Missing required header: content-type."}
    for answer in (http.get(AS + "/scan/0123456789abcdef01234567", headers=token),
                   http.post(AS + "/scan/execute", content=body, headers=token),
                   http.post(AS + "/scan/create", content=body, headers=dict(token, **{"content-type": "text/plain"})),
                   http.post(AS + "/scan", content=body, headers=token)):
        assert (answer.status_code, answer.json()) == (400, missing)
    # The assumed routes check it only in documented-only mode.
    assert http.get(AS + "/sensors", headers=token).status_code == 200
    # With the header (any charset parameter) the route answers as usual; without a token 401 comes first.
    unknown = http.get(AS + "/scan/0123456789abcdef01234567", headers=dict(token, **{"content-type": "application/json; charset=utf-8"}))
    assert unknown.status_code == 404
    assert http.get(AS + "/scan/0123456789abcdef01234567").status_code == 401


def test_agilesec_documented_messages(http):
    good = {"sensorType": "GIT Sensor", "sensorName": "checkout-git", "sensorConfig": {"url": "https://github.com/acme/checkout.git"}}
    cases = [
        ({}, AGILESEC_EXPIRED, 401, "Unauthorized access."),
        (dict(good, sensorName=None), None, 400, "Invalid type for sensorName: expected string."),
        ({"sensorType": "GIT Sensor", "sensorConfig": {}}, None, 400, "Missing required field: sensorName."),
        (dict(good, sensorConfig=[]), None, 400, "Invalid type for sensorConfig: expected object."),
        (dict(good, incrementalScan="yes"), None, 400, "Invalid type for incrementalScan: expected boolean."),
        (dict(good, autoResolutionInterval="30"), None, 400, "Invalid type for autoResolutionInterval: expected integer."),
        (dict(good, colour="blue"), None, 400, "Unexpected field 'colour' found in request body."),
        (dict(good, priority="urgent"), None, 400, "Invalid type or value for priority: expected string ['low', 'medium', 'high']."),
        (dict(good, sensorConfig={"url": "not a url"}), None, 400, "Invalid input for sensorConfig."),
        (dict(good, callbackId="123"), None, 400, "Invalid format for callbackId: expected a 24-hex-character ObjectId."),
        (dict(good, labels=[{"a": "1", "b": "2"}]), None, 400, "Invalid type for labels: expected array of single key/value objects."),
        (dict(good, sensorType="SVN Sensor"), None, 404, "Unknown sensorType: no matching record found for SVN Sensor."),
        (dict(good, callbackId="0123456789abcdef01234567"), None, 404, "callbackId not found."),
    ]
    for body, headers, status, message in cases:
        answer = create(http, body, headers)
        assert (answer.status_code, answer.json()) == (status, {"status": "failed", "message": message}), body
    assert http.post(AS + "/scan/create", json=good).status_code == 401
    created = create(http, good)
    assert created.status_code == 200 and created.json()["message"] == "Create new sensor and trigger scan successfully"
    duplicate = create(http, good)
    assert (duplicate.status_code, duplicate.json()) == (400, {"status": "failed", "message": "Sensor name already exists."})
    legacy = http.post(AS + "/scan", json=dict(good, sensorName="legacy", priority="x"), headers=AGILESEC)
    assert legacy.json()["message"] == "Invalid type or value for priority: expected one of ['low', 'medium', 'high']."
    legacy = http.post(AS + "/scan", json=dict(good, sensorName="legacy", incrementalScan=True), headers=AGILESEC)
    assert legacy.json()["message"] == "Unexpected field 'incrementalScan' found in request body."
    assert http.post(AS + "/scan", json=dict(good, sensorName="legacy"), headers=AGILESEC).json()["message"] == "Scan has been successfully submitted."
    execute = http.post(AS + "/scan/execute", json={}, headers=AGILESEC)
    assert (execute.status_code, execute.json()["message"]) == (400, "sensorId is required")
    execute = http.post(AS + "/scan/execute", json={"sensorId": "0" * 24}, headers=AGILESEC)
    assert (execute.status_code, execute.json()["message"]) == (404, "The specified execution id not found.")
    again = http.post(AS + "/scan/execute", json={"sensorId": created.json()["sensorId"]}, headers=AGILESEC)
    assert again.json() == {"executionId": again.json()["executionId"], "status": "successful", "message": "Scan execution started successfully."}
    # Section 7 words the status API's 404 differently from /v3/scan/execute's.
    unknown = http.get(AS + "/scan/" + "f" * 24, headers=AGILESEC)
    assert (unknown.status_code, unknown.json()) == (404, {"status": "failed", "message": "The specified executionId was not found."})


def test_agilesec_sensor_management(http):
    body = {"sensorType": "GitHub Sensor", "sensorName": "gh-org", "sensorConfig": {"organization": "acme", "token": "ghp_secret"},
            "labels": [{"team": "platform"}]}
    sensor_id = create(http, body).json()["sensorId"]
    listed = http.get(AS + "/sensors", params={"name": "gh-org"}, headers=AGILESEC).json()
    assert listed["total"] == 1 and listed["page"] == 1 and listed["pageSize"] == 50
    sensor = listed["data"][0]
    assert sensor["sensorId"] == sensor_id and sensor["sensorConfig"]["token"] == "********" and sensor["lastExecutionId"]
    updated = http.put(AS + "/sensors/" + sensor_id, json={"priority": "high", "sensorConfig": {"organization": "acme", "token": "********"}},
                       headers=AGILESEC)
    assert updated.status_code == 200 and updated.json()["priority"] == "high"
    retyped = http.put(AS + "/sensors/" + sensor_id, json={"sensorType": "GIT Sensor"}, headers=AGILESEC)
    assert retyped.json() == {"status": "failed", "message": "Unexpected field 'sensorType' found in request body."}
    deleted = http.delete(AS + "/sensors/" + sensor_id, headers=AGILESEC)
    assert deleted.json() == {"status": "successful", "message": "Sensor deleted successfully."}
    assert http.get(AS + "/sensors/" + sensor_id, headers=AGILESEC).json() == {"status": "failed", "message": "Sensor not found."}


def test_agilesec_callback_url_must_be_reachable(http):
    unreachable = http.post(AS + "/callback-endpoints", json={"name": "dead", "url": "http://127.0.0.1:9/hook"}, headers=AGILESEC)
    assert unreachable.status_code == 400
    assert unreachable.json() == {"status": "failed", "message": "Callback URL is not reachable: http://127.0.0.1:9/hook"}
    api_token = http.post(AS + "/callback-endpoints", json={"name": "x", "url": "http://127.0.0.1:9/", "authType": "api_token", "token": "t"},
                          headers=AGILESEC)
    assert api_token.json() == {"status": "failed", "message": "Missing required field: headerName."}


# ---------------------------------------------------------------- HarborGuard
def test_harborguard_auth_roles_and_errors(http):
    anonymous = http.get(HG + "/scans")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": {"code": "UNAUTHORIZED", "message": "Authentication required: send X-API-Key or Authorization: Bearer",
                                          "issues": []}}
    assert http.get(HG + "/scans", headers={"Authorization": "Bearer " + HARBORGUARD["X-API-Key"]}).status_code == 200
    assert http.get(HG + "/scans", headers=HARBORGUARD_VIEWER_PAT).json()["error"]["code"] == "FORBIDDEN"
    assert http.get(HG + "/scans/scn-3kp9q1", headers=HARBORGUARD_VIEWER_PAT).status_code == 200
    assert http.delete(HG + "/scans/scn-3kp9q1", headers=HARBORGUARD).status_code == 403
    assert http.post(HG + "/scans/upload", json={}, headers=HARBORGUARD).status_code == 403
    assert http.post(HG + "/scans/upload", json={}, headers=HARBORGUARD_ADMIN_PAT).status_code == 403
    assert http.post(HG + "/scans/upload", json={"image": {"name": "x"}}, headers=HARBORGUARD_SENSOR).status_code == 200
    invalid = http.get(HG + "/scans", params={"limit": 500}, headers=HARBORGUARD)
    assert invalid.status_code == 400
    assert invalid.json() == {"error": {"code": "VALIDATION_ERROR", "message": "Invalid query parameters",
                                        "issues": [{"path": "limit", "message": "Number must be less than or equal to 200"}]}}
    no_image = http.post(HG + "/scans", json={"scanners": ["trivy"]}, headers=HARBORGUARD)
    assert no_image.json()["error"]["issues"] == [{"path": "image", "message": "Required"}]
    missing = http.get(HG + "/scans/scn-000000", headers=HARBORGUARD)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert http.delete(HG + "/scans/scn-3kp9q1", headers=HARBORGUARD_ADMIN_PAT).json() == {"data": {"id": "scn-3kp9q1", "deleted": True}}


def test_harborguard_scan_rate_limit(http, admin):
    admin.limits("harborguard", scan_posts_per_window=3)
    answers = [http.post(HG + "/scans", json={"image": "ghcr.io/acme/api:2.%d.0" % number}, headers=HARBORGUARD) for number in range(4)]
    assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert 0 < int(limited.headers["retry-after"]) <= 60 and limited.headers["x-ratelimit-limit"] == "3"
    assert int(limited.headers["x-ratelimit-reset"]) >= int(time.time())
    assert http.get(HG + "/scans", headers=HARBORGUARD).status_code == 200


def test_harborguard_plan_limit(http, admin):
    admin.config("harborguard", plan_scan_limit=6)
    answer = http.post(HG + "/scans", json={"image": "ghcr.io/acme/api:9.9.9"}, headers=HARBORGUARD)
    assert answer.status_code == 402 and answer.json()["error"]["code"] == "PLAN_LIMIT"


# ---------------------------------------------------------------- Penaxtra
def test_penaxtra_token_errors(http):
    assert (http.get(PX + "/cloud-posture-runs").status_code, http.get(PX + "/cloud-posture-runs").json()) == (401, {"error": "missing_token"})
    assert http.get(PX + "/cloud-posture-runs", headers={"Authorization": "Bearer nope"}).json() == {"error": "invalid_token"}
    assert http.get(PX + "/cloud-posture-runs", headers=PENAXTRA_EXPIRED).json() == {"error": "expired_token"}
    restricted = http.get(PX + "/cloud-posture-runs", headers=PENAXTRA_IP_RESTRICTED)
    assert (restricted.status_code, restricted.json()) == (403, {"error": "ip_not_allowed"})
    scope = http.post(PX + "/cloud-posture-runs", json={"integration_id": PENAXTRA_AWS}, headers=PENAXTRA_READONLY)
    assert scope.status_code == 403 and scope.json()["error"] == "missing_scope"


def test_penaxtra_request_errors(http):
    cases = [({}, 400, {"error": "invalid_integration_id"}), ({"integration_id": "aws-prod"}, 400, {"error": "invalid_integration_id"}),
             ({"integration_id": PENAXTRA_OTHER_TENANT}, 404, {"error": "integration_not_found"}),
             ({"integration_id": PENAXTRA_AWS, "padding": "x" * (1024 * 1024)}, 413, {"error": "payload_too_large", "limit_bytes": 1048576})]
    for body, status, expected in cases:
        answer = http.post(PX + "/cloud-posture-runs", json=body, headers=PENAXTRA)
        assert (answer.status_code, answer.json()) == (status, expected)
    assert http.get(PX + "/findings/not-a-uuid", headers=PENAXTRA).json() == {"error": "invalid_finding_id"}
    missing = http.get(PX + "/findings/00000000-0000-4000-8000-000000000000", headers=PENAXTRA)
    assert (missing.status_code, missing.json()) == (404, {"error": "finding_not_found"})


def test_penaxtra_manual_run_cap_and_token_bucket(http, admin):
    admin.limits("penaxtra", requests_per_window=60, burst=5)
    runs = [http.post(PX + "/cloud-posture-runs", json={"integration_id": PENAXTRA_AWS}, headers=PENAXTRA) for _attempt in range(3)]
    assert [answer.status_code for answer in runs] == [202, 202, 429]
    capped = runs[-1]
    assert capped.json()["error"] == "rate_limited" and 86000 < capped.json()["retry_after_seconds"] <= 86400
    assert capped.headers["retry-after"] == str(capped.json()["retry_after_seconds"])
    assert runs[0].headers["x-ratelimit-limit"] == "60" and runs[0].headers["x-ratelimit-remaining"] == "4"
    answers = [http.get(PX + "/cloud-posture-runs", headers=PENAXTRA) for _attempt in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    body = answers[-1].json()
    assert body == {"error": "rate_limited", "retry_after_seconds": body["retry_after_seconds"], "limit": 60, "window": "60s"}
    assert answers[-1].headers["x-ratelimit-remaining"] == "0" and int(answers[-1].headers["retry-after"]) >= 1
    admin.limits("penaxtra", enabled=False)
    assert http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).status_code == 200
