# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The default seed holds what the collection's examples name, and the example company's
receivers (hooks.acme.example) are answered by the emulator itself."""

import time

from emu_helpers import AGILESEC, AS, CG, CLOUDGENI, KO, KOLEGA, PENAXTRA, PENAXTRA_AWS, PX, wait_for

# Named in the modules' EXAMPLES (finding_info, finding_status): the newest aws-prod run and two of its findings.
NEWEST_AWS_RUN = "74e78e85-9cf1-433a-b338-ae0766d8c286"
AWS_FINDINGS = {"d8892382-7094-42c6-bf97-66e11d0d503f", "5bdd0622-288b-4e51-9215-14e27b1edaf4"}


def test_agilesec_holds_the_payments_sensor_and_its_callback_endpoints(http):
    hooks = {hook["name"]: hook for hook in http.get(AS + "/callback-endpoints", headers=AGILESEC).json()["data"]}
    assert sorted(hooks) == ["legacy-ci-results", "scanops-results"]
    assert hooks["scanops-results"]["url"] == "https://hooks.acme.example/scanops" and hooks["scanops-results"]["authType"] == "bearer"
    assert hooks["legacy-ci-results"]["headerName"] == "X-CI-Token" and "token" not in hooks["legacy-ci-results"]
    sensors = http.get(AS + "/sensors", headers=AGILESEC).json()["data"]
    assert [sensor["sensorName"] for sensor in sensors] == ["payments-git"]
    sensor = sensors[0]
    assert sensor["callbackId"] == hooks["scanops-results"]["callbackId"] and sensor["lastExecutionId"] is None
    assert sensor["sensorConfig"]["password"] == "********" and sensor["labels"] == [{"team": "payments"}, {"env": "prod"}]


def test_the_example_receivers_are_reachable_and_take_deliveries(http, admin):
    created = http.post(AS + "/callback-endpoints", headers=AGILESEC, json={"name": "examples", "url": "https://hooks.acme.example/x"})
    assert created.status_code == 200, created.text
    # Any other host is called for real: a name that cannot resolve is not reachable.
    refused = http.post(AS + "/callback-endpoints", headers=AGILESEC, json={"name": "elsewhere", "url": "https://receiver.invalid/x"})
    assert refused.json() == {"status": "failed", "message": "Callback URL is not reachable: https://receiver.invalid/x"}
    sensor = http.get(AS + "/sensors", headers=AGILESEC).json()["data"][0]
    execution = http.post(AS + "/scan/execute", headers=AGILESEC, json={"sensorId": sensor["sensorId"]}).json()
    delivery = admin.wait_for_deliveries(1, vendor="agilesec")[0]
    assert (delivery["url"], delivery["status_code"], delivery["delivered"]) == ("https://hooks.acme.example/scanops", 200, True)
    assert execution["executionId"] in delivery["body"]
    assert delivery["request_headers"]["Authorization"] == "<redacted>"
    hook = http.post(CG + "/webhooks", headers=CLOUDGENI, json={"url": "https://hooks.acme.example/cloudgeni", "events": ["scan.completed"]})
    assert hook.status_code in (200, 201), hook.text


def test_kolega_payments_service_has_scans_findings_and_a_fix(http):
    repo = next(item for item in http.get(KO + "/repositories", headers=KOLEGA).json()["items"] if item["name"] == "payments-service")
    base = "%s/repositories/%s" % (KO, repo["id"])
    scans = http.get(base + "/scans", headers=KOLEGA).json()["items"]
    assert sorted((scan["scan_type"], scan["status"]) for scan in scans) == [("secrets_scan", "completed"), ("semgrep_scan", "completed")]
    findings = http.get(base + "/findings", params={"limit": 200}, headers=KOLEGA).json()["items"]
    by_type = {}
    for finding in findings:
        by_type.setdefault(finding["scan_type"], []).append(finding["severity"])
    assert (len(by_type["secrets_scan"]), by_type["secrets_scan"].count("critical")) == (14, 2)
    assert (len(by_type["semgrep_scan"]), by_type["semgrep_scan"].count("critical")) == (16, 1)
    private_key = [f for f in findings if f["check_id"] == "private-key"]
    assert [f["file_path"] for f in private_key] == ["docker/ssl/server.key"]
    fixes = http.get(base + "/fixes", headers=KOLEGA).json()["items"]
    assert len(fixes) == 1 and fixes[0]["status"] == "completed"
    critical_sql = [f["id"] for f in findings if f["scan_type"] == "semgrep_scan" and f["severity"] == "critical"]
    assert fixes[0]["finding_ids"] == critical_sql
    assert [pr["pr_url"] for pr in fixes[0]["pull_requests"]] == ["https://github.com/acme/payments-api/pull/100"]
    # The next pull request gets the next number.
    body = {"finding_ids": [private_key[0]["id"]], "title": "t", "instructions": "i", "source_repo": "acme/payments-api"}
    fix = http.post(base + "/fixes", headers=KOLEGA, json=body).json()
    wait_for(lambda: http.get("%s/fixes/%s" % (base, fix["id"]), headers=KOLEGA).json()["status"] == "completed")
    opened = http.post("%s/fixes/%s/pull-requests" % (base, fix["id"]), headers=KOLEGA).json()
    assert opened["pull_requests"][0]["pr_number"] == 101


def test_penaxtra_newest_scheduled_run_has_stable_ids_and_is_six_hours_old(http):
    runs = http.get(PX + "/cloud-posture-runs", headers=PENAXTRA).json()["data"]
    newest = max((run for run in runs if run["integration_id"] == PENAXTRA_AWS), key=lambda run: run["started_at"])
    assert newest["id"] == NEWEST_AWS_RUN and newest["trigger"] == "scheduled" and newest["status"] == "completed"
    age = time.time() - time.mktime(time.strptime(newest["completed_at"], "%Y-%m-%dT%H:%M:%SZ")) + time.mktime(time.gmtime(0))
    assert 5 * 3600 < age < 7 * 3600, age
    for finding_id in sorted(AWS_FINDINGS):
        finding = http.get(PX + "/findings/" + finding_id, headers=PENAXTRA).json()
        assert finding["scan_id"] == NEWEST_AWS_RUN, finding
