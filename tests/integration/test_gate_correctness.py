# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 19 against the emulator: the gate judges the scan of this target and the findings the vendor still reports open.

Each test drives ``scans.run_scan`` in this process with a real adapter and client against the
session's emulator (the ``test`` profile: a scan takes about half a second), so the vendor's
behaviour (CloudGeni's per-repository 409, HarborGuard's substring search and scan bodies,
Penaxtra's 202 without a run id, Kolega's finding ids) is the emulator's, not a fake's.
"""

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class
from ansible_collections.scanops.security.plugins.module_utils.scans import ScanFailure, run_scan

from scanops_emulator import CLIENT_BASE_PATHS  # pylint: disable=import-error

from conftest import DEMO_API_KEYS  # pylint: disable=import-error

PATHS = CLIENT_BASE_PATHS
CLOUDGENI_ORG = "org_123"


def options(**overrides):
    """scan_run's options with their defaults, polling fast enough for the emulator's short scans."""
    base = dict(repository=None, branch=None, commit=None, scan_type=None, sensor=None, image=None, scanners=None,
                integration_id=None, max_age=None, force=False, wait=True, wait_timeout=60, wait_sleep=0.2,
                on_timeout="fail", on_conflict="wait", fail_on=None, max_findings=None, max_risk_score=None,
                min_compliance_grade=None, ignore=None, return_findings=False, findings_limit=500, sarif_path=None,
                junit_path=None, markdown_path=None, targets=None, concurrency=None)
    base.update(overrides)
    return base


@pytest.fixture
def emulator(emulator_url, admin):
    """The session's emulator, back at its default seed."""
    admin.reset()
    return emulator_url


@pytest.fixture
def adapter(emulator):
    adapters = []

    def build(provider):
        built = get_adapter_class(provider)(DEMO_API_KEYS[provider], api_url=emulator + PATHS[provider],
                                            organization=CLOUDGENI_ORG, rate_limit=0, retries=2, retry_timeout=10)
        adapters.append(built)
        return built

    yield build
    for built in adapters:
        built.close()


@pytest.fixture
def vendor_http(emulator):
    """A plain client on the emulator, for setting the scene the way another user of the vendor would."""
    with httpx.Client(base_url=emulator, timeout=10.0) as client:
        yield client


def posts(admin, vendor=None):
    """Statuses of the POSTs the emulator answered for ``vendor`` (every vendor when None)."""
    return [entry["status"] for entry in admin.requests(vendor=vendor, method="POST")["items"]]


def scan(adapter, **overrides):
    warnings = []
    result = run_scan(adapter, options(**overrides), warn=warnings.append)
    result["warnings"] = warnings
    return result


# -- item 1: CloudGeni's 409 is per repository -------------------------------------------------------------------
def test_cloudgeni_running_scan_of_another_branch_and_type_is_waited_for_not_judged(adapter, admin, vendor_http):
    # Long enough to be still running when our trigger arrives, however loaded the machine (the module waits it out).
    admin.next_scan("cloudgeni", queued_seconds=1.0, running_seconds=9.0)
    other = vendor_http.post(PATHS["cloudgeni"] + "/organizations/org_123/repositories/repo_abc123/scans",
                             headers={"X-CLOUDGENI-API-KEY": DEMO_API_KEYS["cloudgeni"]},
                             json={"branch": "develop", "type": "full"}).json()
    result = scan(adapter("cloudgeni"), repository="myorg/infrastructure", branch="main", scan_type="static", fail_on="critical")
    mine = result["scan"]["raw"]
    assert mine["id"] != other["id"]
    assert (mine["repositoryId"], mine["branch"], mine["type"]) == ("repo_abc123", "main", "static")
    assert result["target"] == "myorg/infrastructure (main)" and result["reused"] is False and result["changed"] is True
    assert any("scan %s (branch develop, type full" % other["id"] in w and "waiting for it to finish" in w
               for w in result["warnings"])
    # The gate judged the scan it names.
    assert result["gate"]["message"] == "gate passed for cloudgeni scan %s" % mine["id"]
    assert posts(admin, "cloudgeni") == [201, 409, 201]


# -- item 2: one repository named two ways in bulk mode ----------------------------------------------------------
def test_cloudgeni_bulk_targets_naming_one_repository_two_ways_scan_both_branches(adapter, admin):
    result = scan(adapter("cloudgeni"), targets=[dict(repository="repo_abc123", branch="main"),
                                                 dict(repository="myorg/infrastructure", branch="develop")], concurrency=4)
    scans = [entry["scan"]["raw"] for entry in result["scans"]]
    assert [(s["repositoryId"], s["branch"]) for s in scans] == [("repo_abc123", "main"), ("repo_abc123", "develop")]
    assert scans[0]["id"] != scans[1]["id"] and result["gate"]["passed"] is True
    assert posts(admin, "cloudgeni") == [201, 201]


def test_bulk_duplicates_are_found_after_resolution_on_every_provider(adapter, admin):
    duplicates = {
        "cloudgeni": [dict(repository="repo_abc123"), dict(repository="myorg/infrastructure", branch="main")],
        "kolega": [dict(repository="payments-service", scan_type="secrets_scan"),
                   dict(repository="3b0a9a70-5b8d-5b7b-8f31-000000000000", scan_type="secrets_scan")],
        "harborguard": [dict(image="docker.io/library/nginx:1.25.3"), dict(image="nginx:1.25.3")],
        "penaxtra": [dict(integration_id="3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"),
                     dict(integration_id="3F6C9A2E-8B1D-4E7A-9C5F-2D8E4B6A1C03")],
    }
    kolega = adapter("kolega")
    duplicates["kolega"][1]["repository"] = next(r["id"] for r in kolega.list_repositories() if r["name"] == "payments-service")
    for provider, targets in duplicates.items():
        with pytest.raises(ScanFailure) as info:
            scan(kolega if provider == "kolega" else adapter(provider), targets=targets)
        assert "targets[1] names the same target as targets[0]" in info.value.msg, provider
    assert [entry for entry in admin.requests(method="POST")["items"] if entry["vendor"] != "admin"] == []


# -- item 3: HarborGuard scans are matched by their own image -----------------------------------------------------
def test_harborguard_reuses_and_adopts_only_scans_of_the_exact_image(adapter, admin, vendor_http):
    harborguard = adapter("harborguard")
    exact = scan(harborguard, image="ghcr.io/acme/api:1.4.7", max_age="30d")
    assert exact["reused"] is True and exact["scan"]["id"] == "scn-3kp9q1"
    hub = scan(harborguard, image="nginx:1.25.3", max_age="30d")
    assert hub["reused"] is True and hub["scan"]["raw"]["image"]["name"] == "docker.io/library/nginx"
    assert posts(admin, "harborguard") == []
    # A prefix of the seeded tag, and the image's default tag: neither may reuse the 1.4.7 scan.
    for wanted in ("ghcr.io/acme/api:1.4", "ghcr.io/acme/api"):
        result = scan(harborguard, image=wanted, max_age="30d")
        assert result["reused"] is False and result["scan"]["id"] != "scn-3kp9q1", wanted
        assert result["scan"]["raw"]["image"]["tag"] == (wanted.rsplit(":", 1)[1] if wanted.endswith("1.4") else "latest")
    # A running scan of 1.4.7 is not adopted for 1.4.
    admin.next_scan("harborguard", queued_seconds=0.2, running_seconds=3.0)
    running = vendor_http.post(PATHS["harborguard"] + "/api/scans", headers={"X-API-Key": DEMO_API_KEYS["harborguard"]},
                               json={"image": "ghcr.io/acme/api:1.4.7"}).json()
    result = scan(harborguard, image="ghcr.io/acme/api:1.4", wait=False)
    assert result["scan"]["id"] != running["scanId"] and result["changed"] is True
    assert posts(admin, "harborguard") == [202, 202, 202, 202]


# -- item 4: Penaxtra's 202 carries no run id ----------------------------------------------------------------------
PENAXTRA_AWS = "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"


def test_penaxtra_202_without_a_new_run_is_a_failure_not_a_pass(adapter, admin):
    admin.config("penaxtra", enqueue_seconds=30)
    with pytest.raises(ScanFailure) as info:
        scan(adapter("penaxtra"), integration_id=PENAXTRA_AWS, wait_timeout=1, wait_sleep=0.2, fail_on="critical")
    assert "no new run appeared in its run list within the wait_timeout of 1 s, so no scan was judged" in info.value.msg
    assert info.value.result["scan"] is None and info.value.result["gate"] is None and info.value.result["changed"] is True
    assert posts(admin, "penaxtra") == [202]


def test_penaxtra_run_started_by_another_client_beside_ours_is_reported_not_claimed(adapter, admin, vendor_http):
    import threading  # pylint: disable=import-outside-toplevel
    # Accepted runs show in the list a second after their 202; this task looks again only after 2 s,
    # by when the run another client started a moment after ours is listed too.
    admin.config("penaxtra", enqueue_seconds=1.0)
    outcome = {}

    def converge():
        try:
            outcome["result"] = scan(adapter("penaxtra"), integration_id=PENAXTRA_AWS, wait_sleep=2.0)
        except ScanFailure as failure:
            outcome["failure"] = failure

    worker = threading.Thread(target=converge)
    worker.start()
    for _poll in range(500):
        if admin.requests(vendor="penaxtra", method="POST")["total"]:
            break
        worker.join(0.01)
    other = vendor_http.post(PATHS["penaxtra"] + "/api/v2/cloud-posture-runs", json={"integration_id": PENAXTRA_AWS},
                             headers={"Authorization": "Bearer " + DEMO_API_KEYS["penaxtra"]})
    worker.join(30)
    assert other.status_code == 202 and posts(admin, "penaxtra") == [202, 202]
    failure = outcome.get("failure")
    assert failure is not None, "the task claimed run %s" % outcome["result"]["scan"]["id"]
    new_runs = sorted(r["id"] for r in adapter("penaxtra").list_runs(PENAXTRA_AWS) if r["trigger"] == "manual")
    assert len(new_runs) == 2
    assert "2 new runs of integration %s appeared after it" % PENAXTRA_AWS in failure.msg
    assert sorted(c["id"] for c in failure.result["candidates"]) == new_runs
    assert failure.result["scan"] is None and failure.result["gate"] is None


# -- items 5 and 6: the gate counts the findings the vendor still reports open, the same way whatever is returned ---
TARGETS = {
    "cloudgeni": dict(repository="myorg/infrastructure"),
    "kolega": dict(repository="payments-service", scan_type="secrets_scan"),
    "harborguard": dict(image="ghcr.io/acme/api:1.4.7"),
    "penaxtra": dict(integration_id=PENAXTRA_AWS),
}
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def triage_away(provider, vendor, result, finding):
    """Mark one finding the way a user would on the platform: suppressed, false positive, won't fix, risk accepted."""
    raw = result["scan"]["raw"]
    if provider == "cloudgeni":
        vendor.update_finding_status(raw["repositoryId"], raw["id"], finding["id"], "ignored")
    elif provider == "kolega":
        vendor.update_finding_status(raw["repository_id"], finding["id"], "false_positive")
    elif provider == "harborguard":
        vendor.set_triage(finding["id"], status="ignored")
    else:
        vendor.update_finding_status(finding["id"], "false_positive")


@pytest.mark.parametrize("provider", sorted(TARGETS))
def test_vendor_triaged_findings_never_count_whatever_is_returned(adapter, admin, provider):
    admin.config(provider, finding_count=8)
    vendor = adapter(provider)
    first = scan(vendor, max_age="30d", return_findings=True, **TARGETS[provider])
    worst = max((f for f in first["findings"] if f["status"] == "open"), key=lambda f: RANK[f["severity"]])
    triage_away(provider, vendor, first, worst)
    verdicts = []
    for extra in (dict(), dict(return_findings=True)):
        again = scan(vendor, max_age="30d", **dict(TARGETS[provider], **extra))
        assert again["reused"] is True and again["scan"]["id"] == first["scan"]["id"]
        gate = again["gate"]
        verdicts.append((gate["counts"], gate["counts_source"], [e["id"] for e in gate["excluded"]]))
    expected = dict(first["gate"]["counts"])
    expected[worst["severity"]] -= 1
    assert verdicts[0] == verdicts[1] == (expected, "findings", [worst["id"]])


def test_kolega_one_finding_id_for_scan_run_finding_info_finding_status_and_ignore(adapter):
    from ansible_collections.scanops.security.plugins.module_utils import findings  # pylint: disable=import-outside-toplevel
    kolega = adapter("kolega")
    first = scan(kolega, return_findings=True, **TARGETS["kolega"])
    repo_id = first["scan"]["raw"]["repository_id"]
    marked, accepted = first["findings"][:2]
    # finding_info and finding_status select by these ids ...
    source = findings.source_for(kolega, {"repository": repo_id, "scan_id": first["scan"]["id"]})
    found, missing = findings.select_findings(source, findings.Selection(ids=[marked["id"], accepted["id"]]))
    assert missing == [] and sorted(f["id"] for f in found) == sorted([marked["id"], accepted["id"]])
    # ... and finding_status writes to them.
    source.write(marked["id"], "false_positive")
    again = scan(kolega, max_age="1h", return_findings=True, ignore=[{"id": accepted["id"], "reason": "test fixture"}],
                 **TARGETS["kolega"])
    gate = again["gate"]
    assert [e["id"] for e in gate["excluded"]] == [marked["id"]]
    assert [i["id"] for i in gate["ignored"]] == [accepted["id"]] and gate["unmatched_ignores"] == []
    assert sorted(f["id"] for f in again["findings"]) == sorted(f["id"] for f in first["findings"])


# -- item 8: a scan that did not complete fails on its status, with an ignore list too, and is reported ---------------
@pytest.mark.parametrize("provider", sorted(TARGETS))
def test_failed_scan_with_an_ignore_list_fails_on_its_status_and_writes_reports(adapter, admin, provider, tmp_path):
    admin.next_scan(provider, outcome="failed")
    junit = tmp_path / "gate.xml"
    with pytest.raises(ScanFailure) as info:
        scan(adapter(provider), force=True, fail_on="high", junit_path=str(junit),
             ignore=[{"id": "CVE-2024-0001", "reason": "accepted", "expires": "2030-01-01"}], **TARGETS[provider])
    scan_id = info.value.result["scan"]["id"]
    assert info.value.msg.startswith("Scan gate of ")
    assert "gate failed for %s scan %s: scan %s failed" % (provider, scan_id, scan_id) in info.value.msg
    assert info.value.result["reports"] == [str(junit)] and "scan %s failed" % scan_id in junit.read_text()


# -- items 7 and 11: reports code scanning accepts, showing every finding that broke the gate --------------------------
def read_json(path):
    import json  # pylint: disable=import-outside-toplevel
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


@pytest.mark.parametrize("provider", sorted(TARGETS) + ["agilesec"])
def test_reports_meet_the_upload_rules_and_show_what_broke_the_gate(adapter, admin, provider, tmp_path):
    import xml.etree.ElementTree as ET  # pylint: disable=import-outside-toplevel
    from ansible_collections.scanops.security.tests.unit.plugins.module_utils.github_sarif import \
        upload_problems  # pylint: disable=import-outside-toplevel
    target = dict(TARGETS.get(provider) or {})
    if provider == "agilesec":
        admin.seed("agilesec", "sensor", sensorName="gate-sensor", sensorType="GIT Sensor")
        target = dict(sensor="gate-sensor")
    admin.config(provider, finding_count=12)
    paths = dict(sarif_path=str(tmp_path / "scan.sarif"), junit_path=str(tmp_path / "junit.xml"))
    try:
        result = scan(adapter(provider), max_age="30d", fail_on="low", findings_limit=2, return_findings=True, **dict(target, **paths))
    except ScanFailure as failure:
        result = failure.result
    gate = result["gate"]
    counted = sum(gate["counts"][s] for s in ("critical", "high", "medium", "low"))
    if provider != "agilesec":
        # Every counted finding at or above low broke the gate: all are returned though the limit is 2, worst first.
        assert counted > 2 and gate["passed"] is False
        returned = result["findings"]
        assert len([f for f in returned if f["severity"] != "info" and f["status"] not in ("resolved", "ignored", "false_positive")]) == counted
        assert [RANK[f["severity"]] for f in returned] == sorted((RANK[f["severity"]] for f in returned), reverse=True)
    document = read_json(paths["sarif_path"])
    assert upload_problems(document) == []
    assert len(document["runs"][0]["results"]) == len(result.get("findings") or [])
    suite = ET.parse(paths["junit_path"]).getroot().find("testsuite")
    failed_findings = [c for c in suite.findall("testcase") if c.get("classname").endswith(".findings") and c.find("failure") is not None]
    assert len(failed_findings) == (counted if provider != "agilesec" else 0)


def test_bulk_sarif_gives_each_target_its_own_category(adapter, tmp_path):
    from ansible_collections.scanops.security.tests.unit.plugins.module_utils.github_sarif import \
        category, upload_problems  # pylint: disable=import-outside-toplevel
    sarif = str(tmp_path / "release.sarif")
    targets = [dict(image="ghcr.io/acme/api:1.4.7"), dict(image="docker.io/library/nginx:1.25.3"), dict(image="ghcr.io/acme/web:2.0.1")]
    scan(adapter("harborguard"), targets=targets, max_age="30d", sarif_path=sarif)
    document = read_json(sarif)
    assert upload_problems(document) == []
    expected = ["scanops/harborguard/ghcr.io/acme/api:1.4.7", "scanops/harborguard/docker.io/library/nginx:1.25.3",
                "scanops/harborguard/ghcr.io/acme/web:2.0.1"]
    assert [category(run) for run in document["runs"]] == expected
