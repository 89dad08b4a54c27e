# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scan lifecycles over wall-clock time, pagination walks, and 20,000 findings in one scope."""

import time

from emu_helpers import AGILESEC, AS, CG, CLOUDGENI, HARBORGUARD, HG, KO, KOLEGA, PENAXTRA, PENAXTRA_AWS, PX, wait_for


def observed(fetch, terminal, timeout=10.0):
    """Poll ``fetch`` and answer the distinct statuses seen, in order, until a terminal one."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = fetch()
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in terminal:
            return seen
        time.sleep(0.02)
    raise AssertionError("no terminal status, saw %s" % seen)


def test_cloudgeni_lifecycle_and_summary_matches_findings(http, admin):
    admin.config("cloudgeni", queued_seconds=0.3, running_seconds=0.5)
    scan = http.post(CG + "/repositories/repo_abc123/scans", json={"type": "full"}, headers=CLOUDGENI).json()
    path = CG + "/repositories/repo_abc123/scans/" + scan["id"]
    assert observed(lambda: http.get(path, headers=CLOUDGENI).json()["status"], ("completed", "failed")) == ["queued", "running", "completed"]
    summary = http.get(path, headers=CLOUDGENI).json()["summary"]
    counted = {}
    for item in http.get(path + "/findings", params={"limit": 100}, headers=CLOUDGENI).json()["data"]:
        counted[item["severity"]] = counted.get(item["severity"], 0) + 1
    assert summary["total"] == sum(counted.values())
    assert all(summary[severity] == counted.get(severity, 0) for severity in ("critical", "high", "medium", "low", "info"))
    first = http.get(path + "/findings", headers=CLOUDGENI).json()["data"][0]
    assert first["checkId"].startswith("CKV_") and first["resource"]["file"].endswith((".tf", ".bicep")) and first["remediation"]["description"]
    resolved = http.patch(path + "/findings/" + first["id"], json={"status": "resolved"}, headers=CLOUDGENI)
    assert resolved.json()["status"] == "resolved"
    again = http.get(path + "/findings", params={"status": "resolved"}, headers=CLOUDGENI).json()
    assert [item["id"] for item in again["data"]] == [first["id"]]
    admin.next_scan("cloudgeni", outcome="failed")
    failed = http.post(CG + "/repositories/repo_abc123/scans", json={}, headers=CLOUDGENI).json()
    fpath = CG + "/repositories/repo_abc123/scans/" + failed["id"]
    assert observed(lambda: http.get(fpath, headers=CLOUDGENI).json()["status"], ("completed", "failed"))[-1] == "failed"


def test_kolega_progress_and_partial_failure(http, admin):
    repo = next(item for item in http.get(KO + "/repositories", headers=KOLEGA).json()["items"] if item["name"] == "data-pipeline")
    admin.scope("kolega", repo["id"], queued_seconds=0.3, running_seconds=0.8, outcome="partial_failure")
    batch = http.post(KO + "/repositories/%s/scans" % repo["id"], json={"scan_type": "secrets_scan"}, headers=KOLEGA).json()
    path = KO + "/repositories/%s/scans/%s/progress" % (repo["id"], batch["batch_id"])
    percents = []

    def status():
        body = http.get(path, headers=KOLEGA).json()
        percents.append(body["percent_complete"])
        return body["status"]
    seen = observed(status, ("completed", "failed", "partial_failure"))
    assert seen[0] == "queued" and seen[-1] == "partial_failure" and "running" in seen
    assert percents == sorted(percents) and percents[0] == 0.0 and percents[-1] == 100.0
    final = http.get(path, headers=KOLEGA).json()
    assert [entry["status"] for entry in final["repositories"]] == ["completed", "completed", "failed"]
    assert final["scans_failed"] == 1 and final["scans_completed"] == 2 and final["error_message"]


def test_agilesec_execution_states(http, admin):
    admin.config("agilesec", queued_seconds=0.3, running_seconds=0.5)
    created = http.post(AS + "/scan/create", json={"sensorType": "Artifactory Sensor", "sensorName": "artifacts",
                                                   "sensorConfig": {"url": "https://artifactory.acme.example", "token": "abc"},
                                                   "priority": "low"}, headers=AGILESEC).json()
    path = AS + "/scan/" + created["executionId"]
    seen = observed(lambda: http.get(path, headers=AGILESEC).json()["status"], ("successful", "failed"))
    assert seen == ["pending", "running", "successful"]
    final = http.get(path, headers=AGILESEC).json()
    assert "cryptographic observations" in final["message"] and final["ranBy"] == "automation@acme.example"


def test_harborguard_states_grade_and_triage(http, admin):
    admin.config("harborguard", queued_seconds=0.3, running_seconds=0.5, finding_count=40)
    scan_id = http.post(HG + "/scans", json={"image": "ghcr.io/acme/api:1.4.8", "scanners": ["trivy", "grype"]}, headers=HARBORGUARD).json()["scanId"]
    seen = observed(lambda: http.get(HG + "/scans/%s/status" % scan_id, headers=HARBORGUARD).json()["data"]["status"], ("COMPLETE", "FAILED"))
    assert seen == ["QUEUED", "IN_PROGRESS", "COMPLETE"]
    detail = http.get(HG + "/scans/" + scan_id, headers=HARBORGUARD).json()["data"]
    assert len(detail["vulnerabilities"]) == 40 and detail["compliance"] in "ABCDF" and 0 <= detail["riskScore"] <= 100
    found = http.get(HG + "/scans", params={"search": "ghcr.io/acme/api:1.4.8"}, headers=HARBORGUARD).json()["data"]
    assert [item["id"] for item in found] == [scan_id]
    vuln = detail["vulnerabilities"][0]
    assert vuln["cveId"].startswith("CVE-") and vuln["package"] and vuln["scanner"] in ("trivy", "grype")
    by_id = http.put(HG + "/vulnerabilities/%s/triage" % vuln["id"], json={"status": "ACKNOWLEDGED", "note": "tracked"}, headers=HARBORGUARD)
    assert by_id.json()["data"]["status"] == "ACKNOWLEDGED" and by_id.json()["data"]["updatedBy"] == "ci-pipeline (API key)"
    by_cve = http.post(HG + "/vulnerabilities/%s/triage" % vuln["cveId"], json={"status": "WONT_FIX"}, headers=HARBORGUARD)
    assert by_cve.status_code == 200
    listed = http.get(HG + "/vulnerabilities", params={"cveId": vuln["cveId"], "image": "ghcr.io/acme/api:1.4.8"}, headers=HARBORGUARD).json()
    assert listed["data"] and {item["triage"]["status"] for item in listed["data"]} == {"WONT_FIX"}
    bad = http.put(HG + "/vulnerabilities/%s/triage" % vuln["id"], json={"status": "DONE"}, headers=HARBORGUARD)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"


def test_penaxtra_run_appears_newest_first_and_findings(http, admin):
    admin.config("penaxtra", running_seconds=0.3, finding_count=7)
    before = http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).json()["data"]
    accepted = http.post(PX + "/cloud-posture-runs", json={"integration_id": PENAXTRA_AWS}, headers=PENAXTRA)
    assert accepted.status_code == 202 and "id" not in accepted.json()
    runs = http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).json()["data"]
    assert len(runs) == len(before) + 1 and runs[0]["integration_id"] == PENAXTRA_AWS and runs[0]["status"] == "running"
    run = wait_for(lambda: [item for item in http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).json()["data"]
                            if item["id"] == runs[0]["id"] and item["status"] == "completed"])[0]
    assert run["finding_count"] == 7 and run["duration_ms"] >= 300 and run["asset_count"] == 412
    findings = [item for item in http.get(PX + "/findings", headers=PENAXTRA).json()["data"] if item["scan_id"] == run["id"]]
    assert len(findings) == 7
    stamps = [item["discovered_at"] for item in http.get(PX + "/findings", headers=PENAXTRA).json()["data"]]
    assert stamps == sorted(stamps, reverse=True)
    detail = http.get(PX + "/findings/" + findings[0]["id"], headers=PENAXTRA).json()
    assert detail["risk_refs"] and detail["summary"]
    patched = http.patch(PX + "/findings/" + findings[0]["id"], json={"status": "triaged"}, headers=PENAXTRA)
    assert patched.json()["status"] == "triaged"
    assert http.get(PX + "/findings/" + findings[0]["id"], headers=PENAXTRA).json()["status"] == "triaged"
    assert http.patch(PX + "/findings/" + findings[0]["id"], json={"status": "done"}, headers=PENAXTRA).json()["error"] == "invalid_status"


def test_pagination_walks_every_page(http, admin):
    seen = []
    offset = 0
    while True:
        body = http.get(CG + "/repositories", params={"limit": 7, "offset": offset}, headers=CLOUDGENI).json()
        seen.extend(item["id"] for item in body["data"])
        offset += 7
        if offset >= body["pagination"]["total"]:
            break
    assert len(seen) == len(set(seen)) == 25
    names = [item["fullName"] for item in http.get(CG + "/repositories", params={"limit": 100}, headers=CLOUDGENI).json()["data"]
             if item["name"] == "infrastructure"]
    assert sorted(names) == ["myorg/infrastructure", "platform-team/infrastructure"]

    for number in range(5):
        admin.seed("kolega", "repository", name="svc-%d" % number)
    skip, kolega_ids = 0, []
    while True:
        body = http.get(KO + "/repositories", params={"limit": 2, "skip": skip}, headers=KOLEGA).json()
        kolega_ids.extend(item["id"] for item in body["items"])
        skip += 2
        if not body["has_next"]:
            break
    assert len(kolega_ids) == len(set(kolega_ids)) == body["total"] == 10

    page, harbor_ids = 1, []
    while True:
        body = http.get(HG + "/scans", params={"page": page, "limit": 4}, headers=HARBORGUARD).json()
        harbor_ids.extend(item["id"] for item in body["data"])
        if not body["meta"]["hasNext"]:
            assert body["links"]["next"] is None
            break
        assert body["links"]["next"] == "/api/scans?page=%d&limit=4" % (page + 1)
        page += 1
    assert len(harbor_ids) == len(set(harbor_ids)) == 6 and body["meta"]["totalPages"] == 2


def test_twenty_thousand_findings_are_seeded_and_paged(http, admin):
    admin.scope("cloudgeni", "repo_abc", finding_count=20000, queued_seconds=0, running_seconds=0.05)
    scan = http.post(CG + "/repositories/repo_abc/scans", json={}, headers=CLOUDGENI).json()
    path = CG + "/repositories/repo_abc/scans/" + scan["id"]
    wait_for(lambda: http.get(path, headers=CLOUDGENI).json()["status"] == "completed")
    assert http.get(path, headers=CLOUDGENI).json()["summary"]["total"] == 20000
    ids = set()
    offset = 0
    while offset < 20000:
        body = http.get(path + "/findings", params={"limit": 100, "offset": offset}, headers=CLOUDGENI).json()
        assert body["pagination"]["total"] == 20000
        ids.update(item["id"] for item in body["data"])
        offset += 100
    assert len(ids) == 20000
    high = http.get(path + "/findings", params={"severity": "high", "limit": 1}, headers=CLOUDGENI).json()["pagination"]["total"]
    assert high == http.get(path, headers=CLOUDGENI).json()["summary"]["high"]

    # A repository without findings in the default seed (payments-service has some).
    repo_id = next(item["id"] for item in http.get(KO + "/repositories", headers=KOLEGA).json()["items"] if item["name"] == "data-pipeline")
    admin.scope("kolega", repo_id, finding_count=20000, queued_seconds=0, running_seconds=0.05)
    batch = http.post(KO + "/repositories/%s/scans" % repo_id, json={"scan_type": "sbom_scan"}, headers=KOLEGA).json()
    wait_for(lambda: http.get(KO + "/repositories/%s/scans/%s" % (repo_id, batch["batch_id"]), headers=KOLEGA).json()["status"] == "completed")
    last = http.get(KO + "/repositories/%s/findings" % repo_id, params={"limit": 200, "skip": 19900}, headers=KOLEGA).json()
    assert last["total"] == 20000 and len(last["items"]) == 100 and last["has_next"] is False
    # One "created" event per finding (the default seed holds payments-service's events too).
    assert http.get(KO + "/finding-events", params={"limit": 1, "repository_id": repo_id}, headers=KOLEGA).json()["total"] == 20000


def test_penaxtra_findings_are_newest_first_across_overlapping_runs(http, admin):
    # A long run on one integration and a shorter one started just after it on another: their
    # findings interleave in time, and the list must still be newest first ("newest first").
    gcp = "7a2d4f6b-1c3e-4a5b-8d7f-9e0a1b2c3d4e"
    admin.scope("penaxtra", PENAXTRA_AWS, queued_seconds=0, running_seconds=3.0, finding_count=30)
    admin.scope("penaxtra", gcp, queued_seconds=0, running_seconds=1.5, finding_count=3)
    for integration in (PENAXTRA_AWS, gcp):
        assert http.post(PX + "/cloud-posture-runs", json={"integration_id": integration}, headers=PENAXTRA).status_code == 202
    wait_for(lambda: all(run["status"] == "completed"
                         for run in http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).json()["data"][:2]), timeout=15)
    rows = http.get(PX + "/findings", headers=PENAXTRA).json()["data"]
    runs = [run["id"] for run in http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).json()["data"][:2]]
    newest = [row for row in rows if row["scan_id"] in runs]
    assert len(newest) == 33
    stamps = [row["discovered_at"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_harborguard_sort_takes_only_the_sortable_fields(http):
    by_risk = http.get(HG + "/scans", params={"sort": "riskScore:desc"}, headers=HARBORGUARD).json()["data"]
    scores = [scan["riskScore"] for scan in by_risk if scan["riskScore"] is not None]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 2
    for wrong in ("string", "image:asc", "riskScore:down"):
        answer = http.get(HG + "/scans", params={"sort": wrong}, headers=HARBORGUARD)
        assert answer.status_code == 400, wrong
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR" and answer.json()["error"]["issues"][0]["path"] == "sort"
