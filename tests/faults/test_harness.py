# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness's own checks must be able to fail: crashes, unclear failures, leaks, duplicates."""

import json

from fault_harness import ModuleRun, fault_specs, faults_for


def make_run(stdout, stderr="", returncode=0):
    return ModuleRun("scan_run", {}, returncode, stdout, stderr, 0.1)


def test_a_traceback_is_a_crash_not_a_clean_failure():
    crashed = make_run("", "Traceback (most recent call last):\n  File ...\nKeyError: 'id'\n", returncode=1)
    assert crashed.traceback and not crashed.clean_failure
    with_exception = make_run(json.dumps({"failed": True, "msg": "Trigger scan: boom boom", "exception": "Traceback ..."}), returncode=1)
    assert with_exception.traceback and not with_exception.clean_failure
    garbage = make_run("not json at all", returncode=0)
    assert garbage.traceback


def test_a_clear_failure_and_a_converged_run_are_told_apart():
    clean = make_run(json.dumps({"failed": True, "msg": "Trigger scan of repo_abc: Bad gateway (HTTP 502 bad_gateway)"}), returncode=1)
    assert clean.failed and clean.clean_failure and not clean.traceback
    vague = make_run(json.dumps({"failed": True, "msg": "error"}), returncode=1)
    assert vague.failed and not vague.clean_failure
    converged = make_run(json.dumps({"changed": True, "scan": {"id": "scan_1"}}))
    assert not converged.failed and converged.changed


def test_secret_values_are_found_in_output(fault_runner):
    secret = fault_runner.new_secret("harness_check")
    assert fault_runner.leaked("msg: Unauthorized for token %s" % secret)
    assert fault_runner.leaked("api key %s" % fault_runner.keys["penaxtra"]) == ["penaxtra api_key"]
    assert not fault_runner.leaked("msg: Unauthorized for token ********")


def test_fault_specs_aim_at_the_vendor_and_request():
    burst = fault_specs("5xx_burst", "kolega", "GET", "*/findings")
    assert [spec["status"] for spec in burst] == [502, 503]
    assert all(spec["vendor"] == "kolega" and spec["method"] == "GET" for spec in burst)
    create = faults_for("drop_after", "create", "harborguard", ("POST", "/api/scans"))
    assert create == [{"vendor": "harborguard", "method": "POST", "path": "/api/scans", "kind": "drop_after", "count": 1}]


def test_the_request_log_counts_creates_the_server_acted_on(fault_runner):
    """The duplicate check reads the emulator's log: two acted-on creates must count as two."""
    emulator = fault_runner.emulator
    emulator.reset()
    since = emulator.last_request_id()
    with fault_runner.vendor_api("harborguard") as api:
        for image in ("ghcr.io/acme/harness:1.0", "ghcr.io/acme/harness:1.0"):
            assert api.post("/api/scans", json={"image": image}).status_code < 300
    logged = emulator.requests(vendor="harborguard", method="POST", path="*/api/scans", since_id=since)["items"]
    assert sum(1 for item in logged if 200 <= item["status"] < 300) == 2
