# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scan_run and scan_info end to end (main()) against an in-memory CloudGeni."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.scanops.security.plugins.modules import scan_info, scan_run
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import FakeTime
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_scans import FakeCloudGeni, locked
from ansible_collections.scanops.security.tests.unit.plugins.modules.utils import run_module


class WallClock(FakeTime):
    """The fake vendor stamps scans with this clock; modules compare them with the real time."""

    def wallclock(self):
        import time  # pylint: disable=import-outside-toplevel
        return time.time()


@pytest.fixture
def vendor():
    return FakeCloudGeni(WallClock(), polls_to_finish=1)


@pytest.fixture
def run(monkeypatch, capsys, vendor):
    def runner(module, args, check=False):
        defaults = dict(provider="cloudgeni", organization="org_1", api_url="https://cg.example.test/api/v1")
        if module is scan_run:
            defaults["wait_sleep"] = 0
        if check:
            args = dict(args, _ansible_check_mode=True)
        return run_module(module, monkeypatch, capsys, vendor, args, defaults=defaults)
    return runner


def posts(vendor):
    return len(vendor.scans)


def test_trigger_then_reuse_then_check_mode(run, vendor):
    first = run(scan_run, dict(repository="myorg/infrastructure", max_age="1h", fail_on="critical"))
    assert first["changed"] is True and first["reused"] is False
    assert first["scan"]["status"] == "completed" and first["gate"]["passed"] is True
    assert first["api_calls"]["POST"] == 1
    second = run(scan_run, dict(repository="myorg/infrastructure", max_age="1h", fail_on="critical"))
    assert second["changed"] is False and second["reused"] is True
    assert second["scan"]["id"] == first["scan"]["id"] and "POST" not in second["api_calls"]
    checked = run(scan_run, dict(repository="myorg/infrastructure", force=True), check=True)
    assert checked["changed"] is True and checked["scan"] is None
    assert posts(vendor) == 1


def test_gate_failure_fails_the_task_with_counts(run, vendor):
    vendor.summary = {"total": 4, "critical": 1, "high": 3, "medium": 0, "low": 0, "info": 0}
    result = run(scan_run, dict(repository="repo_a", fail_on="high"))
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("Scan gate of myorg/infrastructure (main): gate failed")
    assert "1 critical, 3 high" in result["msg"]
    assert result["scan"]["id"] == vendor.scans[0]["id"]


def test_reports_are_written(run, vendor, tmp_path):
    vendor.findings = [{"id": "f1", "checkId": "CKV_AWS_19", "title": "S3", "severity": "high", "status": "open",
                        "resource": {"file": "main.tf", "line": 3}}]
    paths = dict(sarif_path=str(tmp_path / "scan.sarif"), junit_path=str(tmp_path / "junit.xml"),
                 markdown_path=str(tmp_path / "summary.md"))
    result = run(scan_run, dict(repository="repo_a", **paths))
    assert sorted(os.path.basename(p) for p in result["reports"]) == ["junit.xml", "scan.sarif", "summary.md"]
    assert all(os.path.getsize(p) > 0 for p in paths.values())
    assert "CKV_AWS_19" in (tmp_path / "scan.sarif").read_text()


def test_bad_input_is_reported_before_any_request(run, vendor):
    result = run(scan_run, dict(provider="kolega", repository="payments"))
    assert result["failed"] is True
    assert "scan_type" in result["msg"] and "Traceback" not in json.dumps(result)
    assert vendor.scans == []


def test_scan_info_lists_read_only(run, vendor):
    vendor.add_scan(age=120)
    vendor.add_scan(age=60, status="running")
    result = run(scan_info, dict(repository="myorg/infrastructure"), check=True)
    assert result["changed"] is False
    assert [s["status"] for s in result["scans"]] == ["running", "completed"]
    assert all("raw" in s for s in result["scans"])
    assert result["api_calls"].get("POST") is None
    one = run(scan_info, dict(repository="repo_a", scan_id=vendor.scans[0]["id"]))
    assert [s["id"] for s in one["scans"]] == [vendor.scans[0]["id"]]


def test_scan_info_unknown_scan_is_a_clean_error(run, vendor):
    result = run(scan_info, dict(repository="repo_a", scan_id="scan_nope"))
    assert result["failed"] is True
    assert result["msg"] == "Get scan scan_nope of myorg/infrastructure (main): Scan not found (HTTP 404 not_found)"


def test_bulk_targets_through_main(monkeypatch, capsys, vendor):
    # Bulk mode calls the vendor from several threads: serialize the fake.
    def run(module, args, check=False):
        defaults = dict(provider="cloudgeni", organization="org_1", api_url="https://cg.example.test/api/v1", wait_sleep=0)
        if check:
            args = dict(args, _ansible_check_mode=True)
        return run_module(module, monkeypatch, capsys, locked(vendor), args, defaults=defaults)

    # The fake starts scans on "main" when no branch is sent, so networking (default branch trunk) names its branch.
    targets = [dict(repository="repo_a", name="infra"), dict(repository="myorg/networking", branch="trunk")]
    first = run(scan_run, dict(targets=targets, max_age="1h", concurrency=2))
    assert first["changed"] is True and first["scan"] is None
    assert [e["name"] for e in first["scans"]] == ["targets[0] (infra)", "targets[1] (myorg/networking (trunk))"]
    assert first["api_calls"]["POST"] == 2 and first["gate"]["passed"] is True
    again = run(scan_run, dict(targets=targets, max_age="1h"))
    assert again["changed"] is False and "POST" not in again["api_calls"]
    checked = run(scan_run, dict(targets=targets + [dict(repository="repo_b")], max_age="1h"), check=True)
    assert checked["changed"] is True and [e["changed"] for e in checked["scans"]] == [False, False, True]
    assert posts(vendor) == 2


def test_bulk_mixed_with_top_level_target_fails_naming_options(run, vendor):
    result = run(scan_run, dict(targets=[dict(repository="repo_a")], repository="repo_b", branch="main"))
    assert result["failed"] is True
    assert result["msg"] == ("Invalid options: targets is mutually exclusive with the top-level target options; "
                             "remove repository, branch or set it in each targets entry")
    assert vendor.scans == []


def test_bulk_suboptions_are_type_checked(run, vendor):
    result = run(scan_run, dict(targets=[dict(image="x:1", scanners=["nmap"])], provider="harborguard"))
    assert result["failed"] is True and "nmap" in result["msg"] and "targets" in result["msg"]
