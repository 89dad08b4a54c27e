# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Injected faults: real connection drops, vendor-shaped 5xx/429, latency, malformed JSON; the request log."""

import json
import time

import httpx
import pytest

from emu_helpers import (AGILESEC, CG, CLOUDGENI, HARBORGUARD, HARBORGUARD_KEY, HG, KO, KOLEGA, PENAXTRA, PENAXTRA_AWS, PENAXTRA_TOKEN, PX)

SCANS = CG + "/repositories/repo_def456/scans"
# A dropped connection surfaces as one of these (never as an HTTP status).
CONNECTION_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)


def scan_total(http):
    return http.get(SCANS, headers=CLOUDGENI).json()["pagination"]["total"]


def test_drop_after_the_server_acted_leaves_exactly_one_scan(emulator_url, http, admin):
    admin.add_fault("drop_after", vendor="cloudgeni", method="POST", path="*/repositories/*/scans", count=1)
    with httpx.Client(base_url=emulator_url, timeout=5.0) as client:
        with pytest.raises(CONNECTION_ERRORS):
            client.post(SCANS, json={"branch": "main"}, headers=CLOUDGENI)
    assert scan_total(http) == 1
    # The scan the client never heard about blocks a second one, as on the real service.
    retry = http.post(SCANS, json={"branch": "main"}, headers=CLOUDGENI)
    assert retry.status_code == 409 and retry.json()["details"]["existingScanId"].startswith("scan_")
    assert scan_total(http) == 1
    logged = admin.requests(vendor="cloudgeni", method="POST")["items"]
    assert [entry["fault"] for entry in logged] == ["drop_after", None]
    assert logged[0]["status"] == 201


def test_error_after_the_server_acted_answers_5xx_and_leaves_exactly_one_scan(http, admin):
    admin.add_fault("error_after", vendor="cloudgeni", method="POST", path="*/repositories/*/scans", status=502, count=1)
    answer = http.post(SCANS, json={"branch": "main"}, headers=CLOUDGENI)
    assert answer.status_code == 502
    assert answer.json() == {"error": "bad_gateway", "message": "Bad gateway", "details": {}}
    # The scan was created all the same: a blind retry would be refused (409) or duplicate it.
    assert scan_total(http) == 1
    logged = admin.requests(vendor="cloudgeni", method="POST")["items"]
    assert [(entry["fault"], entry["status"], entry["acted_status"]) for entry in logged] == [("error_after", 502, 201)]


def test_error_after_uses_each_vendors_body_and_only_5xx(http, admin):
    admin.add_fault("error_after", vendor="penaxtra", method="POST", path="*/cloud-posture-runs", status=502, count=1)
    answer = http.post(PX + "/cloud-posture-runs", json={"integration_id": PENAXTRA_AWS}, headers=PENAXTRA)
    assert answer.status_code == 502 and answer.json() == {"error": "enqueue_failed"}
    runs = http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).json()["data"]
    assert any(run["integration_id"] == PENAXTRA_AWS and run["trigger"] == "manual" for run in runs)
    refused = http.post("/_emulator/faults", json={"kind": "error_after", "status": 429})
    assert refused.status_code == 400 and "500, 502, 503 or 504" in refused.text


def test_drop_before_the_server_acted_changes_nothing(emulator_url, http, admin):
    admin.add_fault("drop_before", vendor="cloudgeni", method="POST", path="/api/v1/organizations/*/repositories/*/scans", count=1)
    with httpx.Client(base_url=emulator_url, timeout=5.0) as client:
        with pytest.raises(CONNECTION_ERRORS):
            client.post(SCANS, json={}, headers=CLOUDGENI)
    assert scan_total(http) == 0
    assert http.post(SCANS, json={}, headers=CLOUDGENI).status_code == 201
    assert scan_total(http) == 1


def test_redirect_fault_answers_the_location_and_acts_on_nothing(http, admin):
    admin.add_fault("redirect", vendor="cloudgeni", method="POST", path="*/repositories/*/scans", status=308,
                    location="http://127.0.0.1:9/elsewhere{path}?{query}", count=1)
    moved = http.post(SCANS + "?x=1", json={"branch": "main"}, headers=CLOUDGENI)
    assert moved.status_code == 308
    assert moved.headers["location"] == "http://127.0.0.1:9/elsewhere/cloudgeni/api/v1/organizations/org_123/repositories/repo_def456/scans?x=1"
    assert scan_total(http) == 0
    # count 1: the same request now goes through.
    assert http.post(SCANS, json={"branch": "main"}, headers=CLOUDGENI).status_code == 201
    assert [entry["fault"] for entry in admin.requests(vendor="cloudgeni", method="POST")["items"]] == ["redirect", None]
    for bad in ({"status": 200, "location": "/x"}, {"status": 307}):
        answer = http.post("/_emulator/faults", json=dict(bad, kind="redirect"))
        assert answer.status_code == 400 and "location" in answer.json()["error"]


def test_server_errors_use_each_vendors_body(http, admin):
    admin.add_fault("error", vendor="*", method="GET", path="*", status=503, count=5)
    repo_id = "11601e5e-8f4b-42e4-a031-b3c4c9ae10fd"
    answers = {
        "cloudgeni": http.get(CG + "/repositories", headers=CLOUDGENI),
        "kolega": http.get(KO + "/repositories/%s" % repo_id, headers=KOLEGA),
        "agilesec": http.get("/agilesec/v3/sensors", headers=AGILESEC),
        "harborguard": http.get(HG + "/scans", headers=HARBORGUARD),
        "penaxtra": http.get(PX + "/cloud-posture-runs", headers=PENAXTRA),
    }
    assert {vendor: answer.status_code for vendor, answer in answers.items()} == dict.fromkeys(answers, 503)
    assert answers["cloudgeni"].json() == {"error": "service_unavailable", "message": "Service unavailable", "details": {}}
    assert answers["kolega"].json() == {"detail": {"detail": "Service unavailable", "error_code": "INTERNAL_ERROR"}}
    assert answers["agilesec"].json() == {"status": "failed", "message": "Service unavailable."}
    assert answers["harborguard"].json() == {"error": {"code": "SERVICE_UNAVAILABLE", "message": "Service unavailable", "issues": []}}
    assert answers["penaxtra"].json() == {"error": "service_unavailable"}
    assert http.get(CG + "/repositories", headers=CLOUDGENI).status_code == 200
    admin.add_fault("error", vendor="penaxtra", method="POST", path="/api/v2/cloud-posture-runs", status=502, count=1)
    failed = http.post(PX + "/cloud-posture-runs", json={"integration_id": PENAXTRA_AWS}, headers=PENAXTRA)
    assert (failed.status_code, failed.json()) == (502, {"error": "enqueue_failed"})


def test_rate_limit_faults_carry_the_vendor_hint(http, admin):
    admin.add_fault("rate_limit", vendor="harborguard", method="POST", path="/api/scans", retry_after=7, count=1)
    limited = http.post(HG + "/scans", json={"image": "ghcr.io/acme/api:1.4.7"}, headers=HARBORGUARD)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    admin.add_fault("rate_limit", vendor="cloudgeni", retry_after=9, count=1)
    limited = http.get(CG + "/repositories", headers=CLOUDGENI)
    assert limited.json() == {"error": "rate_limited", "message": "Rate limit exceeded", "details": {"retryAfterSeconds": 9}}
    admin.add_fault("rate_limit", vendor="penaxtra", retry_after=0, count=1)
    breaker = http.get(PX + "/cloud-posture-runs", headers=PENAXTRA)
    assert breaker.status_code == 429 and breaker.json()["retry_after_seconds"] == 0


def test_latency_probability_and_malformed_json(http, admin):
    fault = admin.add_fault("latency", vendor="harborguard", method="GET", path="/api/scans", latency_ms=300)
    started = time.monotonic()
    assert http.get(HG + "/scans", headers=HARBORGUARD).status_code == 200
    assert time.monotonic() - started >= 0.3
    admin.remove_fault(fault["id"])
    admin.add_fault("error", vendor="harborguard", status=500, probability=0.0)
    assert all(http.get(HG + "/scans", headers=HARBORGUARD).status_code == 200 for _attempt in range(5))
    admin.clear_faults()
    admin.add_fault("malformed_json", vendor="harborguard", method="POST", path="/api/scans", count=1)
    broken = http.post(HG + "/scans", json={"image": "ghcr.io/acme/api:3.0.0"}, headers=HARBORGUARD)
    assert broken.status_code == 202
    with pytest.raises(ValueError):
        json.loads(broken.text)
    found = http.get(HG + "/scans", params={"search": "ghcr.io/acme/api:3.0.0"}, headers=HARBORGUARD).json()
    assert found["meta"]["total"] == 1


def test_request_log_counts_endpoints_and_never_stores_credentials(http, admin):
    admin.clear_requests()
    for _attempt in range(3):
        http.get(CG + "/repositories", headers=CLOUDGENI)
    http.get(HG + "/scans", headers={"Authorization": "Bearer " + HARBORGUARD_KEY})
    http.get(PX + "/cloud-posture-runs", params={"note": "x"}, headers={"Authorization": "Bearer " + PENAXTRA_TOKEN})
    log = admin.requests()
    assert log["counters"]["GET /cloudgeni/api/v1/organizations/{org_id}/repositories"] == 3
    penaxtra = admin.requests(vendor="penaxtra")["items"]
    assert len(penaxtra) == 1 and penaxtra[0]["query"] == "note=x" and penaxtra[0]["status"] == 200 and penaxtra[0]["timestamp"]
    dumped = json.dumps(log)
    for secret in (CLOUDGENI["X-CLOUDGENI-API-KEY"], HARBORGUARD_KEY, PENAXTRA_TOKEN):
        assert secret not in dumped
    admin.clear_requests()
    assert admin.requests(vendor="cloudgeni")["total"] == 0


def test_requests_answered_by_a_fault_keep_their_route(http, admin):
    """A fault answers before the application routes the request; the log and counters still name the route."""
    admin.clear_requests()
    scan = HG + "/scans/scn-3kp9q1"
    for kind in ("error", "rate_limit", "latency"):
        admin.add_fault(kind, vendor="harborguard", method="GET", path=scan, count=1, latency_ms=1 if kind == "latency" else None)
        http.get(scan, headers=HARBORGUARD)
    http.get(scan, headers=HARBORGUARD)
    log = admin.requests(vendor="harborguard")
    assert [entry["fault"] for entry in log["items"]] == ["error", "rate_limit", "latency", None]
    assert set(entry["route"] for entry in log["items"]) == {"/harborguard/api/scans/{scan_id}"}
    assert log["counters"] == {"GET /harborguard/api/scans/{scan_id}": 4}
    # A path no route serves is logged as it was sent.
    http.get(HG + "/nowhere", headers=HARBORGUARD)
    assert admin.requests(vendor="harborguard", path="*/nowhere")["items"][0]["route"] == HG + "/nowhere"


def test_a_fault_matches_a_route_template_whatever_the_id(http, admin):
    """``path`` may be a route template as the request log shows it, so one fault hits one endpoint for every id."""
    admin.add_fault("error", vendor="harborguard", method="GET", path="/api/scans/{scan_id}", status=502)
    assert http.get(HG + "/scans/scn-3kp9q1", headers=HARBORGUARD).status_code == 502
    assert http.get(HG + "/scans/scn-other", headers=HARBORGUARD).status_code == 502
    # Neither the list nor a longer path below the same id is that endpoint.
    assert http.get(HG + "/scans", headers=HARBORGUARD).status_code == 200
    assert http.get(HG + "/scans/scn-3kp9q1/status", headers=HARBORGUARD).status_code != 502
