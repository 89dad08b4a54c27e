# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provider adapters: credentials, redirects, error parsing, endpoints and normalizers."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers import PROVIDERS, get_adapter_class
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import SECRET

AUTH = {
    "cloudgeni": ("X-CLOUDGENI-API-KEY", SECRET),
    "kolega": ("Authorization", "Bearer " + SECRET),
    "agilesec": ("isg-api-token", SECRET),
    "harborguard": ("Authorization", "Bearer " + SECRET),
    "penaxtra": ("Authorization", "Bearer " + SECRET),
}

DEFAULT_URLS = {
    "cloudgeni": "https://api.cloudgeni.ai/api/v1",
    "kolega": "https://api.kolega.dev",
    "agilesec": "https://api.agilesec.net",
    "harborguard": "https://harborguard.co",
    "penaxtra": "https://penaxtra.com",
}

# One documented (or assumed, for AgileSec) error body per provider, with the credential echoed
# back in the message to prove it is redacted, and what the rendered error must say.
ERRORS = {
    "cloudgeni": (409, {"error": "conflict", "message": "A scan is already running (key %s)" % SECRET,
                        "details": {"existingScanId": "scan_abc123"}},
                  "Trigger scan repo_1: A scan is already running (key ********) (HTTP 409 conflict)"),
    "kolega": (403, {"detail": {"detail": "Quota exhausted for %s" % SECRET, "error_code": "OPERATION_FAILED",
                                "quota_type": "sast_scans"}},
               "Trigger scan repo_1: Quota exhausted for ******** (quota: sast_scans) (HTTP 403 OPERATION_FAILED)"),
    "agilesec": (404, {"status": "failed", "message": "callbackId not found."},
                 "Trigger scan repo_1: callbackId not found. (HTTP 404)"),
    "harborguard": (400, {"error": {"code": "VALIDATION_ERROR", "message": "Invalid body",
                                    "issues": [{"path": "image", "message": "Required"}]}},
                    "Trigger scan repo_1: Invalid body (image: Required) (HTTP 400 VALIDATION_ERROR)"),
    "penaxtra": (404, {"error": "integration_not_found"},
                 "Trigger scan repo_1: no such integration in this tenant (HTTP 404 integration_not_found)"),
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_registry_and_defaults(provider):
    cls = get_adapter_class(provider)
    assert cls.NAME == provider
    assert cls.DEFAULT_API_URL == DEFAULT_URLS[provider]


def test_unknown_provider_names_the_known_ones():
    with pytest.raises(ValueError) as info:
        get_adapter_class("snyk")
    assert "cloudgeni" in str(info.value) and "penaxtra" in str(info.value)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_credential_header(make_adapter, provider):
    adapter, rec = make_adapter(provider, lambda request: httpx.Response(200, json={}))
    adapter.client.request("GET", "/probe")
    name, value = AUTH[provider]
    assert rec.requests[0].headers[name] == value
    assert str(rec.requests[0].url).startswith(DEFAULT_URLS[provider] + "/probe")


def test_harborguard_x_api_key_scheme(make_adapter):
    adapter, rec = make_adapter("harborguard", lambda request: httpx.Response(200, json={}), auth_scheme="x_api_key")
    adapter.client.request("GET", "/api/scans/x")
    assert rec.requests[0].headers["X-API-Key"] == SECRET
    assert "Authorization" not in rec.requests[0].headers


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("auth_scheme", ["bearer", "x_api_key"])
def test_cross_origin_redirect_carries_no_credential(make_adapter, provider, auth_scheme):
    def answer(request):
        if request.url.host == "elsewhere.example.test":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(302, headers={"Location": "https://elsewhere.example.test/landing"})

    adapter, rec = make_adapter(provider, answer, auth_scheme=auth_scheme)
    assert adapter.client.request("GET", "/start") == {"ok": True}
    first, second = rec.requests
    header = "X-API-Key" if provider == "harborguard" and auth_scheme == "x_api_key" else AUTH[provider][0]
    assert header in first.headers
    assert header not in second.headers
    assert all(SECRET not in value for value in second.headers.values())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_same_origin_redirect_keeps_the_credential(make_adapter, provider):
    def answer(request):
        if request.url.path.endswith("/moved"):
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(308, headers={"Location": DEFAULT_URLS[provider] + "/moved"})

    adapter, rec = make_adapter(provider, answer)
    adapter.client.request("GET", "/start")
    name, value = AUTH[provider]
    assert rec.requests[1].headers[name] == value


@pytest.mark.parametrize("provider", PROVIDERS)
def test_error_bodies_render_code_and_message_without_the_credential(make_adapter, provider):
    status, body, expected = ERRORS[provider]
    adapter, _rec = make_adapter(provider, [httpx.Response(status, json=body)])
    with pytest.raises(ScanopsApiError) as info:
        adapter.client.request("POST", "/anything", json_body={})
    err = info.value
    assert err.describe("Trigger scan", "repo_1") == expected
    assert err.provider == provider
    assert SECRET not in json.dumps(err.to_dict())
    assert err.may_have_acted is False


def test_cloudgeni_conflict_details_name_the_running_scan(make_adapter):
    status, body, _text = ERRORS["cloudgeni"]
    adapter, _rec = make_adapter("cloudgeni", [httpx.Response(status, json=body)])
    with pytest.raises(ScanopsApiError) as info:
        adapter.trigger_scan("repo_1", branch="main")
    assert info.value.details == {"existingScanId": "scan_abc123"}


def test_kolega_validation_error_lists_the_fields(make_adapter):
    body = {"detail": [{"loc": ["body", "scan_type"], "msg": "Input should be 'secrets_scan'", "type": "enum"}]}
    adapter, _rec = make_adapter("kolega", [httpx.Response(422, json=body)])
    with pytest.raises(ScanopsApiError) as info:
        adapter.trigger_scan("repo_1", "nope")
    assert info.value.describe("Trigger scan", "repo_1") == \
        "Trigger scan repo_1: body.scan_type: Input should be 'secrets_scan' (HTTP 422)"


def test_penaxtra_retry_after_seconds_is_honoured(make_adapter, fake_time):
    adapter, rec = make_adapter("penaxtra", [
        httpx.Response(429, json={"error": "rate_limited", "retry_after_seconds": 13, "limit": 60, "window": "1m"}),
        httpx.Response(200, json={"data": []}),
    ])
    assert adapter.list_runs() == []
    assert fake_time.sleeps == [13.0]
    assert len(rec.requests) == 2


def test_penaxtra_circuit_breaker_falls_back_to_backoff(make_adapter, fake_time):
    adapter, _rec = make_adapter("penaxtra", [
        httpx.Response(429, json={"error": "rate_limited", "retry_after_seconds": 0}),
        httpx.Response(200, json={"data": []}),
    ])
    adapter.list_runs()
    assert len(fake_time.sleeps) == 1 and fake_time.sleeps[0] > 0


def test_penaxtra_manual_run_cap_fails_saying_when(make_adapter, fake_time):
    adapter, rec = make_adapter("penaxtra", [httpx.Response(
        429, json={"error": "rate_limited", "retry_after_seconds": 40000}, headers={"Retry-After": "40000"})])
    with pytest.raises(ScanopsApiError) as info:
        adapter.trigger_run("5d1c0f3e-0000-4000-8000-000000000001")
    assert len(rec.requests) == 1
    assert fake_time.sleeps == []
    assert "allowed in 40000 s" in info.value.describe("Trigger run", "x")


def bodies(rec):
    return [json.loads(r.content) if r.content else None for r in rec.requests]


def test_cloudgeni_endpoints(make_adapter):
    adapter, rec = make_adapter("cloudgeni", lambda request: httpx.Response(200, json={"id": "x", "data": [],
                                                                                       "pagination": {"total": 0}}))
    adapter.trigger_scan("repo_1", branch="main", scan_type="static")
    adapter.update_finding_status("repo_1", "scan_1", "f/1", "ignored")
    adapter.list_findings("repo_1", "scan_1", severity="HIGH", status="resolved")
    adapter.create_webhook("https://hooks.example.test/cg", secret="whsec_abcdef")
    calls = [(r.method, r.url.path) for r in rec.requests]
    assert calls == [
        ("POST", "/api/v1/organizations/org_1/repositories/repo_1/scans"),
        ("PATCH", "/api/v1/organizations/org_1/repositories/repo_1/scans/scan_1/findings/f/1"),
        ("GET", "/api/v1/organizations/org_1/repositories/repo_1/scans/scan_1/findings"),
        ("POST", "/api/v1/organizations/org_1/webhooks"),
    ]
    # an id with a slash stays one path segment
    assert rec.requests[1].url.raw_path.endswith(b"/findings/f%2F1")
    sent = bodies(rec)
    assert sent[0] == {"branch": "main", "type": "static"}
    assert sent[1] == {"status": "suppressed"}
    assert dict(rec.requests[2].url.params) == {"severity": "high", "status": "resolved", "limit": "100", "offset": "0"}
    assert sent[3] == {"url": "https://hooks.example.test/cg", "events": ["scan.completed"], "active": True,
                       "secret": "whsec_abcdef"}


def test_cloudgeni_without_organization_is_a_clear_error(make_adapter):
    adapter, rec = make_adapter("cloudgeni", [], organization=None)
    with pytest.raises(ScanopsError) as info:
        adapter.list_repositories()
    assert "CLOUDGENI_ORG_ID" in str(info.value)
    assert rec.requests == []


def test_kolega_endpoints(make_adapter):
    adapter, rec = make_adapter("kolega", lambda request: httpx.Response(200, json={"items": [], "has_next": False}))
    adapter.trigger_scan("repo_1", "secrets_scan")
    adapter.get_scan_progress("repo_1", "batch_1")
    adapter.update_finding_status("repo_1", "fnd_1", "needs_manual_review")
    adapter.list_findings("repo_1", scan_batch_id="batch_1", status="ignored")
    adapter.quota_balance()
    calls = [(r.method, r.url.path) for r in rec.requests]
    assert calls == [
        ("POST", "/api/v1/repositories/repo_1/scans"),
        ("GET", "/api/v1/repositories/repo_1/scans/batch_1/progress"),
        ("PATCH", "/api/v1/repositories/repo_1/findings/fnd_1"),
        ("GET", "/api/v1/repositories/repo_1/findings"),
        ("GET", "/api/v1/quotas/balance"),
    ]
    assert bodies(rec)[0] == {"scan_type": "secrets_scan"}
    assert bodies(rec)[2] == {"status": "needs_manual_review"}
    assert rec.requests[3].url.params["limit"] == "200"
    assert rec.requests[3].url.params["scan_batch_id"] == "batch_1"


def test_kolega_fix_endpoints(make_adapter):
    adapter, rec = make_adapter("kolega", lambda request: httpx.Response(200, json={"items": [], "has_next": False}))
    adapter.list_fixes("repo_1", finding_id="fnd_1")
    adapter.get_fix("repo_1", "fix_1")
    adapter.get_fix_progress("repo_1", "fix_1")
    adapter.get_fix_diff("repo_1", "fix_1")
    adapter.create_fix("repo_1", ["fnd_1", "fnd_2"], "Title", "Do it", "acme/api", source_repo_provider="gitlab")
    adapter.refine_fix("repo_1", "fix_1", "Also add a test")
    adapter.cancel_fix("repo_1", "fix/1")
    adapter.create_pull_requests("repo_1", "fix_1", title="PR title")
    calls = [(r.method, r.url.raw_path.decode()) for r in rec.requests]
    assert calls == [
        ("GET", "/api/v1/repositories/repo_1/fixes?finding_id=fnd_1&limit=200&skip=0"),
        ("GET", "/api/v1/repositories/repo_1/fixes/fix_1"),
        ("GET", "/api/v1/repositories/repo_1/fixes/fix_1/progress"),
        ("GET", "/api/v1/repositories/repo_1/fixes/fix_1/diff"),
        ("POST", "/api/v1/repositories/repo_1/fixes"),
        ("POST", "/api/v1/repositories/repo_1/fixes/fix_1/refine"),
        ("POST", "/api/v1/repositories/repo_1/fixes/fix%2F1/cancel"),
        ("POST", "/api/v1/repositories/repo_1/fixes/fix_1/pull-requests"),
    ]
    sent = bodies(rec)
    assert sent[4] == {"finding_ids": ["fnd_1", "fnd_2"], "title": "Title", "instructions": "Do it", "source_repo": "acme/api",
                       "source_repo_provider": "gitlab"}
    assert sent[5] == {"instructions": "Also add a test"}
    assert sent[7] == {"title": "PR title"}
    assert adapter.quota_of("create_fix") == "prs" and adapter.quota_of("create_pull_requests") == "prs"
    assert adapter.quota_of("refine") is None


def test_kolega_normalize_fix():
    adapter = adapter_of("kolega")
    raw = {"id": "fix_1", "repository_id": "r1", "finding_ids": ["b", "a"], "title": "T", "status": "completed",
           "source_repo": "acme/api", "source_scan_branch": "main", "created_at": "2026-01-01T00:00:00Z",
           "refinements": [{"instructions": "Add a test", "created_at": "2026-01-01T00:01:00Z"}],
           "pull_requests": [{"repo_full_name": "acme/api", "branch_name": "b", "pr_number": 7,
                              "pr_url": "https://github.com/acme/api/pull/7", "merge_status": "open", "created_at": "2026-01-01T00:02:00Z"}]}
    fix = adapter.normalize_fix(raw)
    assert fix["finding_ids"] == ["a", "b"] and fix["status"] == "completed" and fix["branch"] == "main"
    assert fix["pull_request_urls"] == ["https://github.com/acme/api/pull/7"] and fix["pull_requests"][0]["number"] == 7
    assert fix["refinements"] == ["Add a test"] and fix["progress"] is None
    running = adapter.normalize_fix(raw, progress={"fix_id": "fix_1", "status": "pending", "agent_steps_completed": 3})
    assert running["status"] == "queued" and running["progress"]["agent_steps_completed"] == 3
    assert adapter.normalize_fix(dict(raw, refinements=None))["refinements"] is None
    del raw["refinements"]
    assert adapter.fix_refinements(raw) is None
    adapter.close()


def test_agilesec_endpoints(make_adapter):
    adapter, rec = make_adapter("agilesec", lambda request: httpx.Response(200, json={"data": [], "total": 0}))
    adapter.create_sensor_and_scan("GIT Sensor", "repo-scan", {"url": "https://git.example.test/r.git"},
                                   priority="high", labels={"team": "crypto"})
    adapter.execute_sensor("sen_1")
    adapter.get_execution("exe_1")
    adapter.list_sensors(name="repo-scan")
    adapter.update_sensor("sen_1", priority="low")
    adapter.create_callback_endpoint("cb", "https://cb.example.test", auth_type="bearer", token="tok_secret_1")
    calls = [(r.method, r.url.path) for r in rec.requests]
    assert calls == [("POST", "/v3/scan/create"), ("POST", "/v3/scan/execute"), ("GET", "/v3/scan/exe_1"),
                     ("GET", "/v3/sensors"), ("PUT", "/v3/sensors/sen_1"), ("POST", "/v3/callback-endpoints")]
    sent = bodies(rec)
    assert sent[0] == {"sensorType": "GIT Sensor", "sensorName": "repo-scan",
                       "sensorConfig": {"url": "https://git.example.test/r.git"}, "priority": "high",
                       "labels": [{"team": "crypto"}]}
    assert sent[1] == {"sensorId": "sen_1"}
    assert dict(rec.requests[3].url.params) == {"name": "repo-scan", "page": "1", "pageSize": "100"}
    assert sent[5] == {"name": "cb", "url": "https://cb.example.test", "authType": "bearer", "token": "tok_secret_1"}


def test_agilesec_sends_its_required_content_type_on_every_request(make_adapter):
    adapter, rec = make_adapter("agilesec", lambda request: httpx.Response(200, json={"data": [], "total": 0}))
    adapter.get_execution("exe_1")
    adapter.list_sensors()
    adapter.delete_sensor("sen_1")
    adapter.execute_sensor("sen_1")
    assert [r.headers.get("content-type") for r in rec.requests] == ["application/json"] * 4
    # Other vendors document no such header: their bodiless requests carry none.
    other, rec = make_adapter("harborguard", lambda request: httpx.Response(200, json={"data": {}}))
    other.get_scan("scn-1")
    assert "content-type" not in rec.requests[0].headers


def test_agilesec_callback_token_is_redacted_from_errors(make_adapter):
    adapter, _rec = make_adapter("agilesec", [httpx.Response(400, json={
        "status": "failed", "message": "Callback URL is not reachable: https://cb.example.test?t=tok_secret_1"})])
    with pytest.raises(ScanopsApiError) as info:
        adapter.create_callback_endpoint("cb", "https://cb.example.test", auth_type="bearer", token="tok_secret_1")
    assert "tok_secret_1" not in info.value.describe("Create callback endpoint", "cb")


def test_harborguard_endpoints(make_adapter):
    adapter, rec = make_adapter("harborguard", lambda request: httpx.Response(
        200, json={"data": {"status": "FIXED"}, "meta": {"hasNext": False}}))
    adapter.create_scan("ghcr.io/acme/api:1.4.7", ["trivy"])
    assert adapter.set_triage("CVE-2024-1", status="resolved", note="patched") == {"status": "FIXED"}
    adapter.list_scans(status="completed", search="ghcr.io/acme/api:1.4.7")
    calls = [(r.method, r.url.path) for r in rec.requests]
    assert calls == [("POST", "/api/scans"), ("PUT", "/api/vulnerabilities/CVE-2024-1/triage"), ("GET", "/api/scans")]
    sent = bodies(rec)
    assert sent[0] == {"image": "ghcr.io/acme/api:1.4.7", "scanners": ["trivy"]}
    assert sent[1] == {"status": "FIXED", "note": "patched"}
    assert rec.requests[2].url.params["status"] == "COMPLETE"
    assert rec.requests[2].url.params["limit"] == "200"


def test_penaxtra_endpoints_and_local_filters(make_adapter):
    findings = [{"id": "f1", "scan_id": "run_a", "status": "open", "severity": "high"},
                {"id": "f2", "scan_id": "run_b", "status": "triaged", "severity": "high"},
                {"id": "f3", "scan_id": "run_a", "status": "triaged", "severity": "high"}]

    def answer(request):
        if request.url.path == "/api/v2/findings":
            return httpx.Response(200, json={"data": findings})
        if request.url.path == "/api/v2/cloud-posture-runs" and request.method == "GET":
            return httpx.Response(200, json={"data": [{"id": "r1", "integration_id": "i1"}, {"id": "r2", "integration_id": "i2"}]})
        return httpx.Response(202 if request.method == "POST" else 200, json={"accepted": True})

    adapter, rec = make_adapter("penaxtra", answer)
    assert [f["id"] for f in adapter.list_findings(severity="HIGH", scan_id="run_a", status="acknowledged")] == ["f3"]
    assert [r["id"] for r in adapter.list_runs(integration_id="i2")] == ["r2"]
    adapter.trigger_run("i1")
    adapter.update_finding_status("f1", "ignored")
    assert [(r.method, r.url.path) for r in rec.requests] == [
        ("GET", "/api/v2/findings"), ("GET", "/api/v2/cloud-posture-runs"),
        ("POST", "/api/v2/cloud-posture-runs"), ("PATCH", "/api/v2/findings/f1")]
    assert dict(rec.requests[0].url.params) == {"severity": "high"}
    assert bodies(rec)[2] == {"integration_id": "i1"}
    assert bodies(rec)[3] == {"status": "risk_accepted"}


def test_unsupported_status_fails_before_any_request(make_adapter):
    adapter, rec = make_adapter("harborguard", [])
    with pytest.raises(ScanopsError) as info:
        adapter.set_triage("CVE-1", status="false_positive")
    assert "WONT_FIX" in str(info.value)
    assert rec.requests == []


# ---------------------------------------------------------------------------------- normalizers
SCAN_KEYS = set(("provider", "id", "target", "status", "vendor_status", "created_at", "started_at", "completed_at",
                 "duration_seconds", "counts", "url", "raw"))
FINDING_KEYS = set(("id", "provider", "rule_id", "title", "severity", "status", "vendor_status", "location",
                    "first_seen", "raw"))


def adapter_of(provider):
    return get_adapter_class(provider)(SECRET, organization="org_1", transport=httpx.MockTransport(lambda r: None))


def test_cloudgeni_normalizers():
    adapter = adapter_of("cloudgeni")
    raw = {"id": "scan_xyz789", "repositoryId": "repo_abc123", "status": "completed", "createdAt": "2024-01-15T10:35:00Z",
           "completedAt": "2024-01-15T10:36:30Z", "summary": {"total": 15, "critical": 0, "high": 2, "medium": 5, "low": 8, "info": 0}}
    scan = adapter.normalize_scan(raw)
    assert set(scan) == SCAN_KEYS
    assert scan["status"] == "completed" and scan["target"] == "repo_abc123"
    assert scan["counts"] == {"critical": 0, "high": 2, "medium": 5, "low": 8, "info": 0}
    assert scan["duration_seconds"] == 90.0
    finding = adapter.normalize_finding({"id": "finding_123", "checkId": "CKV_AWS_19", "title": "S3 Bucket Encryption",
                                         "severity": "high", "status": "suppressed",
                                         "resource": {"type": "aws_s3_bucket", "name": "data_bucket",
                                                      "file": "storage/main.tf", "line": 15}})
    assert set(finding) == FINDING_KEYS
    assert finding["status"] == "ignored" and finding["vendor_status"] == "suppressed"
    assert finding["location"] == {"file": "storage/main.tf", "line": 15, "resource": "aws_s3_bucket.data_bucket"}
    assert finding["rule_id"] == "CKV_AWS_19"
    adapter.close()


def test_kolega_normalizers():
    adapter = adapter_of("kolega")
    scan = adapter.normalize_scan({"batch_id": "b1", "repository_id": "r1", "status": "partial_failure",
                                   "created_at": "2026-01-01T00:00:00Z", "started_at": "2026-01-01T00:00:10.5Z",
                                   "completed_at": "2026-01-01T00:01:10.5Z"},
                                  counts=adapter.count_severities([{"severity": "HIGH"}, {"severity": "low"}]))
    assert scan["status"] == "failed" and scan["id"] == "b1" and scan["duration_seconds"] == 60.0
    assert scan["counts"] == {"critical": 0, "high": 1, "medium": 0, "low": 1, "info": 0}
    finding = adapter.normalize_finding({"id": "f1", "check_id": "generic-api-key", "severity": "critical",
                                         "status": "false_positive", "file_path": "app/settings.py",
                                         "message": "Hard-coded key", "first_detected_at": "2026-01-01T00:00:00Z"})
    assert finding["status"] == "false_positive" and finding["title"] == "Hard-coded key"
    assert finding["location"]["file"] == "app/settings.py"
    summary = adapter.normalize_finding({"check_id": "x", "file_path": "a.py", "severity": "low", "message": "m",
                                         "fingerprint": "fp1"})
    # A batch results summary has no API id (scan_run reads the findings list, whose ids finding_status takes).
    assert summary["id"] is None
    adapter.close()


def test_agilesec_normalize_execution():
    adapter = adapter_of("agilesec")
    scan = adapter.normalize_scan({"sensorId": "s1", "executionId": "e1", "status": "pending", "ranAt": "2026-01-01T00:00:00Z"},
                                  target="repo-scan")
    assert scan["status"] == "queued" and scan["id"] == "e1" and scan["target"] == "repo-scan"
    assert scan["counts"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}
    adapter.close()


def test_harborguard_normalizers():
    adapter = adapter_of("harborguard")
    raw = {"id": "scn-1", "image": {"name": "ghcr.io/acme/api", "tag": "1.4.7", "digest": "sha256:0"},
           "status": "COMPLETE", "scannedAt": "2026-04-26T14:22:11.000Z", "duration": 38211, "url": "/dashboard/scans/scn-1",
           "vulnerabilities": [{"severity": "CRITICAL"}, {"severity": "NEGLIGIBLE"}, {"severity": "HIGH"}]}
    scan = adapter.normalize_scan(raw)
    assert scan["target"] == "ghcr.io/acme/api:1.4.7"
    assert scan["status"] == "completed" and scan["duration_seconds"] == 38.211
    assert scan["counts"] == {"critical": 1, "high": 1, "medium": 0, "low": 0, "info": 1}
    assert scan["url"] == "https://harborguard.co/dashboard/scans/scn-1"
    finding = adapter.normalize_finding({"id": "v1", "cveId": "CVE-2024-12345", "severity": "UNKNOWN", "package": "openssl",
                                         "version": "3.0.1", "fixedVersion": "3.0.2", "triage": {"status": "WONT_FIX"},
                                         "timeline": {"firstSeenAt": "2026-01-01T00:00:00Z"}})
    assert finding["severity"] == "info" and finding["status"] == "ignored"
    assert finding["location"] == {"package": "openssl", "version": "3.0.1", "fixed_version": "3.0.2"}
    assert finding["first_seen"] == "2026-01-01T00:00:00Z"
    # GET /api/scans/{id} carries no url: the documented /dashboard/scans/<id> page is used
    assert adapter.normalize_scan({"id": "scn-2", "status": "QUEUED"})["url"] == "https://harborguard.co/dashboard/scans/scn-2"
    adapter.close()


def test_penaxtra_normalizers():
    adapter = adapter_of("penaxtra")
    scan = adapter.normalize_scan({"id": "run1", "integration_id": "i1", "trigger": "manual", "status": "running",
                                   "started_at": "2026-05-22T10:14:00Z", "completed_at": None, "duration_ms": None})
    assert scan["status"] == "running" and scan["target"] == "i1" and scan["duration_seconds"] is None
    finding = adapter.normalize_finding({"id": "f1", "scan_id": "run1", "title": "Public bucket", "severity": "high",
                                         "status": "triaged", "discovered_at": "2026-05-22T10:14:30Z"})
    assert finding["status"] == "acknowledged" and finding["first_seen"] == "2026-05-22T10:14:30Z"
    adapter.close()


def test_cloudgeni_rate_limit_hint_in_details_is_honoured(make_adapter, fake_time):
    adapter, rec = make_adapter("cloudgeni", [
        httpx.Response(429, json={"error": "rate_limited", "message": "Rate limit exceeded", "details": {"retryAfterSeconds": 6}}),
        httpx.Response(200, json={"id": "scan_1", "status": "running"}),
    ])
    assert adapter.get_scan("repo_1", "scan_1")["status"] == "running"
    assert fake_time.sleeps == [6.0]
    assert len(rec.requests) == 2
