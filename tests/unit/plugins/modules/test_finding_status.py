# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""finding_status end to end against in-memory vendors: change, converge, check mode, diff, errors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

import pytest

from ansible_collections.scanops.security.plugins.modules import finding_status
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_findings import (
    KOLEGA_REPO_1,
    FakeHarborGuard,
    FakeKolega,
    harbor_items,
    kolega_items,
)
from ansible_collections.scanops.security.tests.unit.plugins.modules.utils import run_module


@pytest.fixture
def run(monkeypatch, capsys):
    return lambda vendor, args: run_module(finding_status, monkeypatch, capsys, vendor, args)


def writes(vendor):
    return len(vendor.writes)


def test_change_then_converged_rerun_sends_no_write(run):
    vendor = FakeKolega(kolega_items(450))
    args = dict(provider="kolega", repository=KOLEGA_REPO_1, rule_id=["rule-1"], path="test/*", status="false_positive")
    result = run(vendor, args)
    expected = [i["id"] for i in kolega_items(450) if i["check_id"] == "rule-1" and i["file_path"].startswith("test/")]
    assert result["changed"] is True
    assert result["counts"] == {"matched": len(expected), "changed": len(expected), "unchanged": 0, "failed": 0}
    assert sorted(c["id"] for c in result["changed_findings"]) == sorted(expected)
    assert result["changed_findings"][0]["before"] == "open" and result["changed_findings"][0]["after"] == "false_positive"
    # three list pages (450 at 200 a page) plus one PATCH per finding
    assert result["api_calls"]["GET"] == 3 and result["api_calls"]["PATCH"] == len(expected)
    assert writes(vendor) == len(expected)

    again = run(vendor, args)
    assert again["changed"] is False
    assert again["counts"] == {"matched": len(expected), "changed": 0, "unchanged": len(expected), "failed": 0}
    assert again["api_calls"].get("PATCH", 0) == 0 and writes(vendor) == len(expected)


def test_check_mode_writes_nothing_and_diff_shows_each_finding(run):
    vendor = FakeKolega(kolega_items(10))
    args = dict(provider="kolega", repository=KOLEGA_REPO_1, ids=["fnd_0001", "fnd_0002"], status="resolved",
                _ansible_check_mode=True, _ansible_diff=True)
    result = run(vendor, args)
    assert result["changed"] is True and writes(vendor) == 0
    assert result["diff"] == {"before": {"fnd_0001": {"status": "open"}, "fnd_0002": {"status": "open"}},
                              "after": {"fnd_0001": {"status": "resolved"}, "fnd_0002": {"status": "resolved"}}}
    assert [i["status"] for i in vendor.items[:3]] == ["open", "open", "open"]


def test_check_mode_on_harborguard_predicts_the_real_run_and_writes_nothing(run):
    # A second provider for check mode, with the triage fields: PUT instead of PATCH, note and assignee compared.
    vendor = FakeHarborGuard(harbor_items(6))
    vendor.items[3]["triage"] = {"status": "WONT_FIX", "note": "accepted", "assignee": "team"}
    args = dict(provider="harborguard", package=["openssl"], status="ignored", note="accepted", assignee="team", _ansible_diff=True)
    checked = run(vendor, dict(args, _ansible_check_mode=True))
    assert checked["changed"] is True and writes(vendor) == 0
    assert checked["api_calls"].get("PUT", 0) == 0
    assert checked["counts"] == {"matched": 2, "changed": 1, "unchanged": 1, "failed": 0}
    assert checked["diff"] == {"before": {"v0": {"status": "open", "note": None, "assignee": None}},
                               "after": {"v0": {"status": "ignored", "note": "accepted", "assignee": "team"}}}
    real = run(vendor, args)
    assert (real["changed"], real["counts"], real["diff"]) == (checked["changed"], checked["counts"], checked["diff"])
    assert [w[1] for w in vendor.writes] == ["v0"]
    rechecked = run(vendor, dict(args, _ansible_check_mode=True))
    assert rechecked["changed"] is False and writes(vendor) == 1


def test_partial_failure_fails_with_exact_lists_and_the_rerun_converges(run):
    vendor = FakeKolega(kolega_items(30))
    vendor.fail = {"fnd_0004": 503}
    args = dict(provider="kolega", repository=KOLEGA_REPO_1, status="ignored", retries=1)
    result = run(vendor, args)
    assert result["failed"] is True and result["changed"] is True
    assert result["counts"] == {"matched": 30, "changed": 29, "unchanged": 0, "failed": 1}
    assert [f["id"] for f in result["failed_findings"]] == ["fnd_0004"]
    assert "fnd_0004" not in [c["id"] for c in result["changed_findings"]]
    assert result["msg"].startswith("Set finding status: 1 of 30 writes failed, 29 findings changed")
    assert "Set status of finding fnd_0004: boom 503 (HTTP 503 E503)" in result["msg"]

    vendor.fail = {}
    again = run(vendor, args)
    assert again["changed"] is True and [c["id"] for c in again["changed_findings"]] == ["fnd_0004"]
    assert again["api_calls"]["PATCH"] == 1


def test_a_failed_write_run_returns_the_error_of_the_write_it_names(run):
    vendor = FakeKolega(kolega_items(5))
    vendor.fail = {"fnd_0002": 403}
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, status="ignored", concurrency=1))
    assert result["failed"] is True
    assert result["error"]["status"] == 403 and result["error"]["method"] == "PATCH" and result["error"]["path"].endswith("fnd_0002")


class FailingListKolega(FakeKolega):
    def get(self, request, params):
        return self.error(401)


def test_a_failed_listing_returns_zero_counts_and_empty_lists(run):
    result = run(FailingListKolega(kolega_items(5)), dict(provider="kolega", repository=KOLEGA_REPO_1, status="ignored"))
    assert result["failed"] is True and result["error"]["status"] == 401 and result["api_calls"]["total"] == 1
    assert (result["matched"], result["unchanged"], result["changed_findings"], result["failed_findings"]) == (0, 0, [], [])
    assert result["counts"] == {"matched": 0, "changed": 0, "unchanged": 0, "failed": 0}


def test_unknown_status_is_an_error_listing_the_vendor_words(run):
    vendor = FakeKolega(kolega_items(3))
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, status="acknowledged"))
    assert result["failed"] is True
    assert result["msg"].startswith("status: finding status 'acknowledged' is not supported by kolega; use one of: open, resolved")
    assert vendor.gets == []


@pytest.mark.parametrize("args,expected", [
    (dict(provider="kolega", repository=KOLEGA_REPO_1, status="open", note="x"), "note: kolega findings cannot store a triage note"),
    (dict(provider="agilesec", status="open"), "provider: AgileSec findings cannot be given a status: Keyfactor documents only a "
                                               "read API for them (the Search API of the AgileSec Analytics store)"),
    (dict(provider="kolega", repository=KOLEGA_REPO_1, status="open", concurrency=64), "concurrency must be between 1 and 32"),
    (dict(provider="kolega", repository=KOLEGA_REPO_1, status="open", ids=["nope"]), "Set finding status: ids not found in kolega findings"),
])
def test_bad_input_fails_clearly(run, args, expected):
    vendor = FakeKolega(kolega_items(3))
    result = run(vendor, args)
    assert result["failed"] is True and result["msg"].startswith(expected)
    assert writes(vendor) == 0


def test_harborguard_triage_with_note_and_assignee(run):
    vendor = FakeHarborGuard(harbor_items(6))
    args = dict(provider="harborguard", scan_id="scan_0", severity=["low"], status="WONT_FIX", note="accepted",
                assignee="team", _ansible_diff=True)
    result = run(vendor, args)
    assert result["counts"]["changed"] == 3
    assert sorted(w[1] for w in vendor.writes) == ["v0", "v2", "v4"]
    assert vendor.writes[0][2] == {"status": "WONT_FIX", "assignee": "team", "note": "accepted"}
    assert result["diff"]["after"]["v0"] == {"status": "ignored", "note": "accepted", "assignee": "team"}
    args["note"] = "accepted again"
    result = run(vendor, args)
    assert result["counts"]["changed"] == 3  # the note differs now, so each is written again
    args.pop("note")
    assert run(vendor, args)["changed"] is False


def test_large_change_diff_is_a_summary(run):
    vendor = FakeKolega(kolega_items(120))
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, status="resolved", _ansible_diff=True))
    assert result["diff"] == {"before": {"findings": 120, "status": {"open": 120}},
                              "after": {"findings": 120, "status": {"resolved": 120}}}


def test_a_platform_without_the_assumed_triage_body_fails_naming_it_and_stops_writing(run):
    vendor = FakeHarborGuard(harbor_items(6))
    vendor.fail = dict((item["id"], 400) for item in vendor.items)
    result = run(vendor, dict(provider="harborguard", status="resolved", concurrency=1))
    assert result["failed"] is True and result["changed"] is False
    assert re.match(r"^Set status of finding \S+: HarborGuard does not document PUT /api/vulnerabilities/\{vulnId\}/triage with "
                    r"the body field status; the collection assumes it \(docs/assumptions.md, HarborGuard: Triage request body\) "
                    r"and https://vendor.example.test answered HTTP 400 \(boom 400\); 6 of 6 writes not done, 0 findings changed$",
                    result["msg"]), result["msg"]
    # The first refusal stops the others: they would all meet the same missing assumption.
    assert writes(vendor) == 1 and result["counts"]["failed"] == 6
