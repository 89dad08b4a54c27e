# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kolega fix lifecycle finding_fix relies on; every body is checked against kolega-openapi.json by ``http``."""

from emu_helpers import KO, KOLEGA, wait_for


def _repository_with_findings(http, admin, count=4):
    admin.config("kolega", running_seconds=0.2, queued_seconds=0.05, finding_count=count)
    repo = next(item for item in http.get(KO + "/repositories", headers=KOLEGA).json()["items"] if item["name"] == "web-frontend")
    path = KO + "/repositories/" + repo["id"]
    batch = http.post(path + "/scans", json={"scan_type": "secrets_scan"}, headers=KOLEGA).json()
    wait_for(lambda: http.get("%s/scans/%s" % (path, batch["batch_id"]), headers=KOLEGA).json()["status"] == "completed")
    findings = http.get(path + "/findings", headers=KOLEGA).json()["items"]
    return path, [finding["id"] for finding in findings]


def _create(http, path, finding_ids):
    body = {"finding_ids": finding_ids, "title": "Remove the key", "instructions": "Read it from the environment",
            "source_repo": "acme/web"}
    return http.post(path + "/fixes", json=body, headers=KOLEGA)


def _completed(http, fix_path):
    return wait_for(lambda: http.get(fix_path, headers=KOLEGA).json()["status"] == "completed" and http.get(fix_path, headers=KOLEGA).json())


def test_a_fix_lists_its_refinements_and_runs_again_for_each(http, admin):
    path, ids = _repository_with_findings(http, admin)
    fix = _create(http, path, ids[:2]).json()
    assert fix["status"] == "pending" and fix["refinements"] == [] and sorted(fix["finding_ids"]) == sorted(ids[:2])
    fix_path = "%s/fixes/%s" % (path, fix["id"])
    early = http.post(fix_path + "/refine", json={"instructions": "Add a test"}, headers=KOLEGA)
    assert early.status_code == 409 and early.json()["detail"]["error_code"] == "INVALID_STATE"
    _completed(http, fix_path)
    refined = http.post(fix_path + "/refine", json={"instructions": "Add a test"}, headers=KOLEGA).json()
    assert refined["status"] in ("pending", "running")
    assert [entry["instructions"] for entry in refined["refinements"]] == ["Add a test"]
    done = _completed(http, fix_path)
    assert [entry["instructions"] for entry in done["refinements"]] == ["Add a test"]
    assert "# refinement: Add a test" in http.get(fix_path + "/diff", headers=KOLEGA).json()["diff"]
    listed = http.get(path + "/fixes", params={"finding_id": ids[1]}, headers=KOLEGA).json()["items"]
    assert [item["id"] for item in listed] == [fix["id"]] and listed[0]["refinements"] == done["refinements"]
    assert http.get(path + "/fixes", params={"finding_id": ids[3]}, headers=KOLEGA).json()["items"] == []


def test_pull_requests_use_the_prs_quota_and_are_opened_once(http, admin):
    path, ids = _repository_with_findings(http, admin)
    fix = _create(http, path, ids[:1]).json()
    fix_path = "%s/fixes/%s" % (path, fix["id"])
    early = http.post(fix_path + "/pull-requests", json={}, headers=KOLEGA)
    assert early.status_code == 409 and early.json()["detail"]["error_code"] == "INVALID_STATE"
    _completed(http, fix_path)
    used = http.get(KO + "/quotas/balance", headers=KOLEGA).json()["prs"]["used"]
    opened = http.post(fix_path + "/pull-requests", json={"branch_name": "fix/key"}, headers=KOLEGA)
    assert opened.status_code == 201 and opened.json()["pull_requests"][0]["branch_name"] == "fix/key"
    assert http.get(KO + "/quotas/balance", headers=KOLEGA).json()["prs"]["used"] == used + 1
    again = http.post(fix_path + "/pull-requests", json={}, headers=KOLEGA)
    assert again.status_code == 409 and again.json()["detail"]["error_code"] == "CONFLICT"
    assert len(http.get(fix_path, headers=KOLEGA).json()["pull_requests"]) == 1


def test_an_exhausted_prs_quota_refuses_fixes_and_pull_requests(http, admin):
    path, ids = _repository_with_findings(http, admin)
    fix = _create(http, path, ids[:1]).json()
    fix_path = "%s/fixes/%s" % (path, fix["id"])
    _completed(http, fix_path)
    admin.config("kolega", quotas={"prs": {"plan": 3, "topup": 0, "used": 3}})
    balance = http.get(KO + "/quotas/balance", headers=KOLEGA).json()
    assert balance["prs"]["remaining"] == 0 and balance["period_end"]
    for answer in (_create(http, path, ids[1:2]), http.post(fix_path + "/pull-requests", json={}, headers=KOLEGA)):
        assert answer.status_code == 403
        assert answer.json()["detail"]["error_code"] == "OPERATION_FAILED" and answer.json()["detail"]["quota_type"] == "prs"
    assert len(http.get(path + "/fixes", headers=KOLEGA).json()["items"]) == 1


def test_cancel_stops_only_pending_or_running_fixes(http, admin):
    path, ids = _repository_with_findings(http, admin)
    admin.config("kolega", running_seconds=5)
    fix = _create(http, path, ids[:1]).json()
    fix_path = "%s/fixes/%s" % (path, fix["id"])
    cancelled = http.post(fix_path + "/cancel", headers=KOLEGA).json()
    assert cancelled["status"] == "cancelled"
    progress = http.get(fix_path + "/progress", headers=KOLEGA).json()
    assert progress["status"] == "cancelled"
    again = http.post(fix_path + "/cancel", headers=KOLEGA)
    assert again.status_code == 409 and again.json()["detail"]["error_code"] == "INVALID_STATE"
