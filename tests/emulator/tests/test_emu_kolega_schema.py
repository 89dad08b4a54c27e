# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Kolega path of kolega-openapi.json, with each body checked against the published schemas."""

import json
import os

import httpx
import jsonschema
import pytest

from emu_helpers import KO, KOLEGA, KOLEGA_READONLY, VENDOR_DOCS, wait_for


@pytest.fixture(scope="module")
def openapi():
    path = os.path.join(VENDOR_DOCS, "kolega-openapi.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class Checker:
    """Validates answers against the operation's documented response schema and records coverage."""

    def __init__(self, document):
        self.document = document
        self.covered = set()

    def check(self, answer, method, template, status):
        assert answer.status_code == status, answer.text
        operation = self.document["paths"][template][method.lower()]
        schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
        wrapped = dict(schema, components=self.document["components"])
        jsonschema.validate(answer.json(), wrapped, cls=jsonschema.Draft202012Validator)
        self.covered.add((method.upper(), template))
        return answer.json()


def test_every_kolega_path_answers_its_documented_schema(http, admin, openapi):  # pylint: disable=redefined-outer-name
    checker = Checker(openapi)
    check = checker.check
    admin.config("kolega", running_seconds=0.3, queued_seconds=0.05, finding_count=9)

    me = check(http.get(KO + "/me", headers=KOLEGA), "GET", "/api/v1/me", 200)
    assert me["api_key"]["key_prefix"].startswith("kcp_live_")
    assert "scans:write" in me["api_key"]["scopes"]
    check(http.get(KO + "/quotas/balance", headers=KOLEGA), "GET", "/api/v1/quotas/balance", 200)
    listing = check(http.get(KO + "/repositories", headers=KOLEGA), "GET", "/api/v1/repositories", 200)
    archived = check(http.get(KO + "/repositories", params={"include_archived": "true"}, headers=KOLEGA), "GET", "/api/v1/repositories", 200)
    assert archived["total"] == listing["total"] + 1
    repo = next(item for item in listing["items"] if item["name"] == "payments-service")
    repo_path = KO + "/repositories/" + repo["id"]
    check(http.get(repo_path, headers=KOLEGA), "GET", "/api/v1/repositories/{repository_id}", 200)

    # deep_ai_scan: the default seed already holds this repository's secrets and semgrep findings.
    batch = check(http.post(repo_path + "/scans", json={"scan_type": "deep_ai_scan"}, headers=KOLEGA),
                  "POST", "/api/v1/repositories/{repository_id}/scans", 202)
    assert batch["status"] == "queued"
    progress = check(http.get("%s/scans/%s/progress" % (repo_path, batch["batch_id"]), headers=KOLEGA),
                     "GET", "/api/v1/repositories/{repository_id}/scans/{scan_id}/progress", 200)
    assert [entry["repository"] for entry in progress["repositories"]] == ["acme/payments-api", "acme/payments-worker"]
    wait_for(lambda: http.get("%s/scans/%s" % (repo_path, batch["batch_id"]), headers=KOLEGA).json()["status"] == "completed")
    detail = check(http.get("%s/scans/%s" % (repo_path, batch["batch_id"]), headers=KOLEGA),
                   "GET", "/api/v1/repositories/{repository_id}/scans/{scan_id}", 200)
    assert detail["scans_completed"] == 2 and detail["completed_at"]
    check(http.get(repo_path + "/scans", params={"scan_type": "deep_ai_scan"}, headers=KOLEGA),
          "GET", "/api/v1/repositories/{repository_id}/scans", 200)
    results = check(http.get("%s/scans/%s/results" % (repo_path, batch["batch_id"]), headers=KOLEGA),
                    "GET", "/api/v1/repositories/{repository_id}/scans/{scan_id}/results", 200)
    assert results["findings_count"] == 9 == len(results["findings"])

    findings = check(http.get(repo_path + "/findings", params={"scan_batch_id": batch["batch_id"]}, headers=KOLEGA),
                     "GET", "/api/v1/repositories/{repository_id}/findings", 200)
    assert findings["total"] == 9
    first = findings["items"][0]
    assert first["cwe"] and first["owasp"]
    check(http.get("%s/findings/%s" % (repo_path, first["id"]), headers=KOLEGA),
          "GET", "/api/v1/repositories/{repository_id}/findings/{finding_id}", 200)
    changed = check(http.patch("%s/findings/%s" % (repo_path, first["id"]), json={"status": "false_positive"}, headers=KOLEGA),
                    "PATCH", "/api/v1/repositories/{repository_id}/findings/{finding_id}", 200)
    assert changed["status"] == "false_positive" and changed["resolved_at"]
    events = check(http.get(KO + "/finding-events", params={"finding_id": first["id"]}, headers=KOLEGA), "GET", "/api/v1/finding-events", 200)
    assert [event["event_type"] for event in events["items"]] == ["status_changed", "created"]
    assert events["items"][0]["previous_status"] == "open" and events["items"][0]["new_status"] == "false_positive"

    fix_body = {"finding_ids": [first["id"]], "title": "Remove the hard-coded query", "instructions": "Use bound parameters",
                "source_repo": "acme/payments-api"}
    fix = check(http.post(repo_path + "/fixes", json=fix_body, headers=KOLEGA), "POST", "/api/v1/repositories/{repository_id}/fixes", 201)
    fix_path = "%s/fixes/%s" % (repo_path, fix["id"])
    pending_diff = check(http.get(fix_path + "/diff", headers=KOLEGA), "GET", "/api/v1/repositories/{repository_id}/fixes/{fix_id}/diff", 200)
    assert pending_diff["diff"] is None
    wait_for(lambda: http.get(fix_path, headers=KOLEGA).json()["status"] == "completed")
    check(http.get(fix_path, headers=KOLEGA), "GET", "/api/v1/repositories/{repository_id}/fixes/{fix_id}", 200)
    check(http.get(repo_path + "/fixes", params={"finding_id": first["id"]}, headers=KOLEGA), "GET", "/api/v1/repositories/{repository_id}/fixes", 200)
    diff = check(http.get(fix_path + "/diff", headers=KOLEGA), "GET", "/api/v1/repositories/{repository_id}/fixes/{fix_id}/diff", 200)
    assert first["file_path"] in diff["diff"]
    progress = check(http.get(fix_path + "/progress", headers=KOLEGA), "GET", "/api/v1/repositories/{repository_id}/fixes/{fix_id}/progress", 200)
    assert progress["agent_steps_completed"] > 0
    prs = check(http.post(fix_path + "/pull-requests", json={"title": "Fix SQL injection"}, headers=KOLEGA),
                "POST", "/api/v1/repositories/{repository_id}/fixes/{fix_id}/pull-requests", 201)
    assert prs["pull_requests"][0]["pr_url"].startswith("https://github.com/acme/payments-api/pull/")
    admin.config("kolega", running_seconds=5)  # the refined run stays cancellable for the next call
    refined = check(http.post(fix_path + "/refine", json={"instructions": "Also add a test"}, headers=KOLEGA),
                    "POST", "/api/v1/repositories/{repository_id}/fixes/{fix_id}/refine", 200)
    assert refined["status"] in ("pending", "running")
    cancelled = check(http.post(fix_path + "/cancel", headers=KOLEGA), "POST", "/api/v1/repositories/{repository_id}/fixes/{fix_id}/cancel", 200)
    assert cancelled["status"] == "cancelled"

    documented = {(method.upper(), path) for path, operations in openapi["paths"].items() for method in operations}
    assert documented - checker.covered == set()


def test_kolega_validation_errors_are_fastapi_422(http, openapi):  # pylint: disable=redefined-outer-name
    checker = Checker(openapi)
    repo_id = http.get(KO + "/repositories", headers=KOLEGA).json()["items"][0]["id"]
    answer = http.get(KO + "/repositories", params={"limit": 201}, headers=KOLEGA)
    body = checker.check(answer, "GET", "/api/v1/repositories", 422)
    assert body["detail"][0]["loc"] == ["query", "limit"]
    checker.check(http.post(KO + "/repositories/%s/scans" % repo_id, json={"scan_type": "full"}, headers=KOLEGA),
                  "POST", "/api/v1/repositories/{repository_id}/scans", 422)
    checker.check(http.post(KO + "/repositories/%s/fixes" % repo_id, json={"title": "", "instructions": "x", "source_repo": "acme/x"},
                            headers=KOLEGA), "POST", "/api/v1/repositories/{repository_id}/fixes", 422)
    checker.check(http.get(KO + "/finding-events", params={"start": "yesterday"}, headers=KOLEGA), "GET", "/api/v1/finding-events", 422)


def test_kolega_errors_quota_and_scopes(http, admin):
    repo_id = http.get(KO + "/repositories", headers=KOLEGA).json()["items"][0]["id"]
    assert http.get(KO + "/me").json() == {"detail": {"detail": "Missing API key: send it as 'Authorization: Bearer <key>'",
                                                      "error_code": "UNAUTHORIZED"}}
    unknown = http.get(KO + "/me", headers={"Authorization": "Bearer kcp_live_nope"})
    assert unknown.status_code == 401 and unknown.json()["detail"]["error_code"] == "UNAUTHORIZED"
    denied = http.post(KO + "/repositories/%s/scans" % repo_id, json={"scan_type": "secrets_scan"}, headers=KOLEGA_READONLY)
    assert denied.status_code == 403 and denied.json()["detail"]["error_code"] == "INSUFFICIENT_SCOPE"
    missing = http.get(KO + "/repositories/nope", headers=KOLEGA)
    assert missing.status_code == 404 and missing.json() == {"detail": {"detail": "Repository not found", "error_code": "NOT_FOUND"}}

    admin.config("kolega", quotas={"deep_ai_scans": {"plan": 1, "used": 1}})
    balance = http.get(KO + "/quotas/balance", headers=KOLEGA).json()
    assert balance["deep_ai_scans"]["remaining"] == 0
    refused = http.post(KO + "/repositories/%s/scans" % repo_id, json={"scan_type": "deep_ai_scan"}, headers=KOLEGA)
    assert refused.status_code == 403
    assert refused.json()["detail"]["error_code"] == "OPERATION_FAILED" and refused.json()["detail"]["quota_type"] == "deep_ai_scans"
    allowed = http.post(KO + "/repositories/%s/scans" % repo_id, json={"scan_type": "sbom_scan"}, headers=KOLEGA)
    assert allowed.status_code == 202
    assert http.get(KO + "/quotas/balance", headers=KOLEGA).json()["sast_scans"]["used"] == 1


def test_the_contract_hook_rejects_bodies_off_the_schema(kolega_contract):
    """The hook on every ``http`` client really validates: a body missing required fields fails."""
    request = httpx.Request("GET", "http://127.0.0.1/kolega/api/v1/quotas/balance")
    with pytest.raises(jsonschema.ValidationError):
        kolega_contract(httpx.Response(200, json={"period_start": "2026-01-01T00:00:00Z"}, request=request))
    error = httpx.Request("GET", "http://127.0.0.1/kolega/api/v1/repositories/x")
    with pytest.raises(jsonschema.ValidationError):
        kolega_contract(httpx.Response(404, json={"detail": "Repository not found"}, request=error))
    kolega_contract(httpx.Response(404, json={"detail": {"detail": "Repository not found", "error_code": "NOT_FOUND"}}, request=error))
