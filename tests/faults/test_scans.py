# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults against scan_run (all five providers) and scan_info.

scan_run waits for the scan and reuses a completed one younger than ``max_age``, so over the
fault run and the re-run the vendor must have started exactly one scan of the target: a trigger
that is dropped, times out or gets a 5xx must be looked for before it is sent again.
"""

import pytest

from fault_harness import ABSORBED, CREATE_AND_READ_FAULTS, PROVIDERS, assert_outcomes, faults_for, require_module, run_module

SENSOR = "fault-scan-sensor"
TARGETS = {
    "cloudgeni": {"repository": "myorg/networking", "branch": "main", "scan_type": "static"},
    "kolega": {"repository": "web-frontend", "scan_type": "secrets_scan"},
    "agilesec": {"sensor": SENSOR},
    "harborguard": {"image": "ghcr.io/acme/worker:0.9.0", "scanners": ["trivy"]},
    "penaxtra": {"integration_id": "7a2d4f6b-1c3e-4a5b-8d7f-9e0a1b2c3d4e"},
}
CREATE = {
    "cloudgeni": ("POST", "*/scans"),
    "kolega": ("POST", "*/scans"),
    "agilesec": ("POST", "/v3/scan/execute"),
    "harborguard": ("POST", "/api/scans"),
    "penaxtra": ("POST", "/api/v2/cloud-posture-runs"),
}
# Fast polling against the emulator (a scan takes about half a second in its test profile);
# max_age lets the re-run reuse the scan the fault run started instead of starting another.
WAITING = {"wait": True, "wait_timeout": 30, "wait_sleep": 0.2, "max_age": "1h"}

# Slow answers are covered in test_resources (same client); here every fault that can duplicate
# a scan or break the wait.
FAULTS = CREATE_AND_READ_FAULTS
# A trigger the server acted on whose answer was lost: scan_run must find the scan it started and
# adopt it in the same run (not fail, not trigger again).
ADOPTED = {("drop_after", "create"), ("acted_5xx", "create")}

INFO_TARGETS = {
    "cloudgeni": {"repository": "myorg/infrastructure"},
    "kolega": {"repository": "payments-service"},
    "harborguard": {"image": "ghcr.io/acme/api:1.4.7"},
    "penaxtra": {"integration_id": "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"},
}
# scan_info reads through the same client as finding_info (whose listing faults are in test_findings).
INFO_FAULTS = ["5xx_burst", "drop_after", "malformed_json"]


def seed_sensor(runner):
    runner.emulator.seed([{"vendor": "agilesec", "kind": "sensor", "sensorName": SENSOR, "sensorType": "GIT Sensor"}])


@pytest.mark.parametrize("kind,where", FAULTS, ids=["%s-%s" % fault for fault in FAULTS])
def test_scan_run_under_fault(fault_runner, kind, where):
    require_module("scan_run")
    fault_runner.emulator.reset()
    seed_sensor(fault_runner)

    def one(provider):
        args = fault_runner.connection(provider, **dict(TARGETS[provider], **WAITING))
        return fault_runner.case("scan_run", provider, "%s/%s" % (kind, where), faults_for(kind, where, provider, CREATE[provider]), args,
                                 create=CREATE[provider], max_creates=1, min_creates=1,
                                 first_must_converge=(kind, where) in ABSORBED or (kind, where) in ADOPTED)

    assert_outcomes(fault_runner.run_providers(one, PROVIDERS))


def scan_ids(run):
    return sorted(scan["id"] for scan in (run.result or {}).get("scans", []))


@pytest.mark.parametrize("kind", INFO_FAULTS)
def test_scan_info_under_fault(fault_runner, kind):
    require_module("scan_info")
    fault_runner.emulator.reset()

    # After the reset Kolega has no scan batch: start one (it completes in about half a second).
    with fault_runner.vendor_api("kolega") as api:
        repos = api.get("/api/v1/repositories", params={"limit": 200}).json()["items"]
        repo = [item for item in repos if item["name"] == INFO_TARGETS["kolega"]["repository"]][0]
        api.post("/api/v1/repositories/%s/scans" % repo["id"], json={"scan_type": "secrets_scan"}).raise_for_status()

    def one(provider):
        args = fault_runner.connection(provider, **INFO_TARGETS[provider])
        baseline = run_module("scan_info", args)
        expected = scan_ids(baseline)

        def verify(outcome):
            problems = [] if not baseline.failed and expected else ["the run without faults failed or found nothing: %s" % baseline.describe()]
            for label, run in (("fault run", outcome.runs[0]), ("re-run", outcome.runs[1])):
                if not run.failed and scan_ids(run) != expected:
                    problems.append("%s listed scans %s, the run without faults %s" % (label, scan_ids(run), expected))
            return problems

        return fault_runner.case("scan_info", provider, "%s/read" % kind, faults_for(kind, "read", provider), args,
                                 first_must_converge=(kind, "read") in ABSORBED, verify=verify)

    assert_outcomes(fault_runner.run_providers(one, list(INFO_TARGETS)))


BULK_IMAGES = ["ghcr.io/acme/api:1.4.6", "ghcr.io/acme/web:2.0.1", "ghcr.io/acme/worker:0.9.0", "docker.io/library/nginx:1.25.3"]


@pytest.mark.parametrize("kinds", [("drop_after", "timeout"), ("drop_before", "5xx_burst")], ids=["drop_after+timeout", "drop_before+5xx"])
def test_scan_run_bulk_under_fault(fault_runner, kinds):
    """Bulk mode (``targets``): two of four triggers hit by faults; still one scan per image over both runs."""
    require_module("scan_run")
    fault_runner.emulator.reset()
    faults = []
    for kind in kinds:
        faults.extend(faults_for(kind, "create", "harborguard", CREATE["harborguard"], count=1))
    # The emulator's test profile enforces no limit: rate_limit spares the 6 s pacing of HarborGuard's documented 10 triggers a minute.
    args = fault_runner.connection("harborguard", targets=[{"image": image} for image in BULK_IMAGES], rate_limit=10, **WAITING)
    outcome = fault_runner.case("scan_run", "harborguard", "bulk %s/create" % "+".join(kinds), faults, args,
                                create=CREATE["harborguard"], max_creates=len(BULK_IMAGES), min_creates=len(BULK_IMAGES))
    assert_outcomes({"harborguard": outcome})
