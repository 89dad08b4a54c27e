# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``serve.py --documented-only``: every row of documented.py's tables, and documented calls unchanged."""

import re

import httpx
import pytest

from emu_helpers import AGILESEC, CLOUDGENI, HARBORGUARD, KOLEGA, PENAXTRA, wait_for
from scanops_emulator import CLIENT_BASE_PATHS
from scanops_emulator.admin_client import AdminClient
from scanops_emulator.documented import ASSUMED_ROUTES, REJECTED_FIELDS, not_found_body
from scanops_emulator.launcher import running_emulator

CREDENTIALS = {"cloudgeni": CLOUDGENI, "kolega": KOLEGA, "agilesec": dict(AGILESEC, **{"content-type": "application/json"}),
               "harborguard": HARBORGUARD, "penaxtra": PENAXTRA}
# Values for the placeholders of the tables' paths; ids of objects that exist in the default seed.
SAMPLE_IDS = {"orgId": "org_123", "repoId": "repo_abc123", "scanId": "scan_xyz789", "findingId": "finding_1",
              "webhookId": "wh_1", "sensorId": "0" * 24, "callbackId": "1" * 24, "expression": "agilesec.*.v3.event-*"}
# The AgileSec Search API's demo user (basic authentication, not the scan API token).
SEARCH_AUTH = ("analytics-reader", "kf-search-demo-7d41c9e2b05a")
GIT_SENSOR = {"sensorType": "GIT Sensor", "sensorName": "documented-git",
              "sensorConfig": {"repositoryUrl": "https://github.com/acme/api.git"}}


@pytest.fixture(scope="module")
def strict_url():
    with running_emulator(profile="test", port=0, documented_only=True) as base_url:
        yield base_url


@pytest.fixture()
def strict(strict_url):
    with AdminClient(strict_url) as admin:
        admin.reset()
    with httpx.Client(base_url=strict_url, timeout=10.0) as client:
        yield client


def url(vendor, path):
    return CLIENT_BASE_PATHS[vendor] + re.sub(r"\{(\w+)\}", lambda match: SAMPLE_IDS[match.group(1)], path)


def test_health_says_documented_only(strict):
    assert strict.get("/_emulator/health").json()["documented_only"] is True


@pytest.mark.parametrize("vendor,method,path,row", ASSUMED_ROUTES, ids=["%s %s %s" % row[:3] for row in ASSUMED_ROUTES])
def test_assumed_routes_answer_the_vendors_404(strict, http, vendor, method, path, row):
    body = {"url": "https://hooks.example.test/x"} if method in ("POST", "PUT", "PATCH") else None
    auth = SEARCH_AUTH if path.startswith("/searchdb/") else None
    answer = strict.request(method, url(vendor, path), json=body, headers=CREDENTIALS[vendor], auth=auth)
    assert (answer.status_code, answer.json()) == (404, not_found_body(vendor)), row
    # The same request on the full emulator reaches the assumed route (whatever it answers, not the bare 404).
    full = http.request(method, url(vendor, path), json=body, headers=CREDENTIALS[vendor], auth=auth)
    assert full.json() != not_found_body(vendor)


def test_agilesec_requires_the_documented_content_type(strict, http):
    token_only = {"isg-api-token": AGILESEC["isg-api-token"]}
    bare = strict.get(url("agilesec", "/v3/scan/" + "f" * 24), headers=token_only)
    assert (bare.status_code, bare.json()) == (400, {"status": "failed", "message": "Missing required header: content-type."})
    typed = strict.get(url("agilesec", "/v3/scan/" + "f" * 24), headers=CREDENTIALS["agilesec"])
    assert (typed.status_code, typed.json()["message"]) == (404, "The specified executionId was not found.")
    # Without the flag the Scan API routes check it too; the assumed routes do not.
    assert http.get(url("agilesec", "/v3/scan/" + "f" * 24), headers=token_only).status_code == 400
    assert http.get(url("agilesec", "/v3/sensors"), headers=token_only).status_code == 200


def test_agilesec_documented_flow_is_unchanged(strict):
    created = strict.post(url("agilesec", "/v3/scan/create"), json=GIT_SENSOR, headers=CREDENTIALS["agilesec"]).json()
    assert created["status"] == "successful" and created["message"] == "Create new sensor and trigger scan successfully"
    execution = strict.post(url("agilesec", "/v3/scan/execute"), json={"sensorId": created["sensorId"]},
                            headers=CREDENTIALS["agilesec"]).json()
    assert execution["message"] == "Scan execution started successfully."
    done = wait_for(lambda: strict.get(url("agilesec", "/v3/scan/" + execution["executionId"]),
                                       headers=CREDENTIALS["agilesec"]).json()["status"] == "successful")
    assert done
    unexpected = strict.post(url("agilesec", "/v3/scan/create"), json=dict(GIT_SENSOR, sensorName="x", extra=1),
                             headers=CREDENTIALS["agilesec"])
    assert unexpected.json()["message"] == "Unexpected field 'extra' found in request body."


def rejected_rows(vendor):
    return [row for row in REJECTED_FIELDS if row[0] == vendor]


def test_harborguard_triage_body_fields_are_rejected(strict, http):
    vulns = strict.get(url("harborguard", "/api/vulnerabilities"), params={"limit": 1}, headers=HARBORGUARD).json()["data"]
    path = url("harborguard", "/api/vulnerabilities/%s/triage" % vulns[0]["id"])
    for _vendor, methods, _path, field, allowed, _row in rejected_rows("harborguard"):
        assert allowed is None
        value = "ACKNOWLEDGED" if field == "status" else "someone"
        for method in methods:
            answer = strict.request(method, path, json={field: value}, headers=HARBORGUARD)
            assert answer.status_code == 400, (method, field)
            assert answer.json()["error"]["code"] == "VALIDATION_ERROR" and answer.json()["error"]["issues"][0]["path"] == field
            assert http.request(method, path, json={field: value}, headers=HARBORGUARD).status_code == 200
    # Documented reads of the same vulnerability are unchanged.
    assert strict.get(url("harborguard", "/api/vulnerabilities"), params={"limit": 1}, headers=HARBORGUARD).json()["data"] == vulns


def test_penaxtra_statuses_after_triaged_are_rejected(strict):
    finding = strict.get(url("penaxtra", "/api/v2/findings"), headers=PENAXTRA).json()["data"][0]
    path = url("penaxtra", "/api/v2/findings/" + finding["id"])
    (_vendor, _methods, _path, _field, allowed, _row), = rejected_rows("penaxtra")
    for status in allowed:
        answer = strict.patch(path, json={"status": status}, headers=PENAXTRA)
        assert (answer.status_code, answer.json()["status"]) == (200, status)
    for status in ("in_progress", "fixed", "risk_accepted", "false_positive"):
        answer = strict.patch(path, json={"status": status}, headers=PENAXTRA)
        assert (answer.status_code, answer.json()) == (400, {"error": "invalid_status"}), status
    assert strict.get(path, headers=PENAXTRA).json()["status"] == allowed[-1]


def test_documented_calls_answer_as_on_the_full_emulator(strict, http):
    for vendor, path, params in (("cloudgeni", "/organizations/org_123/repositories", {"limit": 5}),
                                 ("kolega", "/api/v1/repositories", {"limit": 3}),
                                 ("harborguard", "/api/scans", {"limit": 3}),
                                 ("penaxtra", "/api/v2/cloud-posture-runs", None)):
        first = strict.get(url(vendor, path), params=params, headers=CREDENTIALS[vendor])
        second = http.get(url(vendor, path), params=params, headers=CREDENTIALS[vendor])
        assert first.status_code == second.status_code == 200
        # Seed timestamps follow each process's clock; ids, keys and order do not.
        items = [body.get("data", body.get("items")) for body in (first.json(), second.json())]
        assert [item["id"] for item in items[0]] == [item["id"] for item in items[1]], vendor
        assert [sorted(item) for item in items[0]] == [sorted(item) for item in items[1]], vendor


def test_kolega_fix_answers_leave_out_the_assumed_refinements(strict):
    admin_url = str(strict.base_url)
    with AdminClient(admin_url) as admin:
        admin.config("kolega", running_seconds=0.2, queued_seconds=0.05, finding_count=3)
    repo = next(item for item in strict.get(url("kolega", "/api/v1/repositories"), headers=KOLEGA).json()["items"]
                if item["name"] == "web-frontend")
    base = url("kolega", "/api/v1/repositories/%s" % repo["id"])
    batch = strict.post(base + "/scans", json={"scan_type": "secrets_scan"}, headers=KOLEGA).json()
    wait_for(lambda: strict.get("%s/scans/%s" % (base, batch["batch_id"]), headers=KOLEGA).json()["status"] == "completed")
    finding = strict.get(base + "/findings", headers=KOLEGA).json()["items"][0]
    fix = strict.post(base + "/fixes", json={"finding_ids": [finding["id"]], "title": "t", "instructions": "i",
                                             "source_repo": "acme/web"}, headers=KOLEGA)
    assert fix.status_code == 201 and "refinements" not in fix.json() and fix.json()["finding_ids"] == [finding["id"]]
    fix_path = "%s/fixes/%s" % (base, fix.json()["id"])
    done = wait_for(lambda: strict.get(fix_path, headers=KOLEGA).json()["status"] == "completed" and strict.get(fix_path, headers=KOLEGA))
    assert "refinements" not in done.json() and int(done.headers["content-length"]) == len(done.content)
    refined = strict.post(fix_path + "/refine", json={"instructions": "Add a test"}, headers=KOLEGA).json()
    assert "refinements" not in refined and refined["status"] in ("pending", "running")
    listed = strict.get(base + "/fixes", headers=KOLEGA).json()
    assert listed["total"] == 1 and "refinements" not in listed["items"][0] and listed["items"][0]["id"] == fix.json()["id"]
    # The refinement happened; the diff (documented) still shows it once the fix completes again.
    wait_for(lambda: strict.get(fix_path, headers=KOLEGA).json()["status"] == "completed")
    assert "# refinement: Add a test" in strict.get(fix_path + "/diff", headers=KOLEGA).json()["diff"]
