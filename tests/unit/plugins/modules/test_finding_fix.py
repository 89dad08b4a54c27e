# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""finding_fix and finding_fix_info end to end against an in-memory Kolega: states, re-run, check mode, diff, errors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.scanops.security.plugins.modules import finding_fix, finding_fix_info
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_kolega_fixes import FakeKolegaFixes
from ansible_collections.scanops.security.tests.unit.plugins.modules.utils import run_module, warning_texts

BASE = dict(provider="kolega", repository="payments", severity=["critical"], title="Remove hard-coded keys",
            instructions="Read them from the environment", wait_sleep=0)


@pytest.fixture
def run(monkeypatch, capsys):
    return lambda module, vendor, args: run_module(module, monkeypatch, capsys, vendor, args)


def test_pull_request_state_converges_and_the_rerun_only_reads(run):
    vendor = FakeKolegaFixes()
    args = dict(BASE, state="pull_request", _ansible_diff=True)
    predicted = run(finding_fix, vendor, dict(args, _ansible_check_mode=True))
    assert predicted["changed"] is True and predicted["actions"] == ["create", "open_pull_requests"]
    assert vendor.writes() == []

    result = run(finding_fix, vendor, args)
    assert result["changed"] is True and result["actions"] == predicted["actions"]
    assert result["fix"]["status"] == "completed" and result["pull_request_urls"] == ["https://github.com/acme/payments-api/pull/101"]
    assert result["diff"]["before"] == {"fix_id": None}
    assert result["diff"]["after"]["pull_requests"] == result["pull_request_urls"]
    assert result["api_calls"]["POST"] == 2

    again = run(finding_fix, vendor, args)
    assert again["changed"] is False and again["actions"] == ["adopt"]
    assert again["api_calls"].get("POST", 0) == 0 and again["diff"]["before"] == again["diff"]["after"]
    assert len(vendor.fixes) == 1 and len(vendor.fixes[0]["pull_requests"]) == 1


def test_diff_is_returned_only_in_diff_mode(run):
    vendor = FakeKolegaFixes()
    assert "diff" not in run(finding_fix, vendor, dict(BASE))


def test_return_diff_adds_the_code_diff(run):
    vendor = FakeKolegaFixes()
    result = run(finding_fix, vendor, dict(BASE, return_diff=True))
    assert result["fix"]["diff"].startswith("--- a/")
    # The diff is read last; api_calls counts that request too.
    assert vendor.requests[-1].url.path.endswith("/diff")
    assert result["api_calls"]["total"] == len(vendor.requests)


def test_quota_failure_names_the_quota_before_any_write(run):
    vendor = FakeKolegaFixes()
    vendor.quota["prs"]["used"] = 10
    result = run(finding_fix, vendor, dict(BASE))
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("Create fix for 3 findings of payments: the Kolega prs quota is exhausted: 0 left of 10")
    assert "resets at 2026-02-01T00:00:00Z" in result["msg"] and vendor.writes() == []


@pytest.mark.parametrize("provider", ["cloudgeni", "agilesec", "harborguard", "penaxtra"])
def test_other_providers_fail_before_any_request(run, provider):
    vendor = FakeKolegaFixes()
    for module, extra in ((finding_fix, dict(title="t", instructions="i")), (finding_fix_info, {})):
        result = run(module, vendor, dict(provider=provider, repository="r", **extra))
        assert result["failed"] is True and "offers no fixes API (only Kolega DevSec does)" in result["msg"]
    assert vendor.requests == []


def test_an_empty_selection_warns_and_changes_nothing(run):
    vendor = FakeKolegaFixes()
    result = run(finding_fix, vendor, dict(BASE, severity=["high"]))
    assert result["changed"] is False and result["fix"] is None
    assert any("nothing to fix" in text for text in warning_texts(result))


def test_absent_without_title_cancels_the_running_fix(run):
    vendor = FakeKolegaFixes()
    running = vendor.add_fix(["fnd_000", "fnd_001", "fnd_002"], status="running")
    result = run(finding_fix, vendor, dict(provider="kolega", repository="payments", severity=["critical"], state="absent"))
    assert result["changed"] is True and result["cancelled"] == [running["id"]] and result["fix"]["status"] == "cancelled"


def test_info_lists_the_fixes_of_a_selection(run):
    vendor = FakeKolegaFixes()
    fix = vendor.add_fix(["fnd_000", "fnd_001", "fnd_002"], pull_requests=1)
    result = run(finding_fix_info, vendor, dict(provider="kolega", repository="payments", severity=["critical"]))
    assert result["changed"] is False and result["count"] == 1 and result["fixes"][0]["id"] == fix["id"]
    assert result["fixes"][0]["pull_request_urls"] == ["https://github.com/acme/payments-api/pull/101"]
    assert vendor.writes() == []
