# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan gate: policy validation, thresholds, count limits, ignores, risk score and grade."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import datetime
import json
import os

import pytest

from ansible_collections.scanops.security.plugins.module_utils.gate import evaluate_gate, validate_policy

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")
TODAY = datetime.date(2026, 4, 27)


def load(provider):
    with open(os.path.join(FIXTURES, "normalized_scans.json")) as stream:
        data = json.load(stream)
    for item in data["scans"]:
        if item["scan"]["provider"] == provider:
            return copy.deepcopy(item["scan"]), copy.deepcopy(item["findings"])
    raise AssertionError("no %s scan in the fixture" % provider)


def check(gate, name):
    return [c for c in gate["checks"] if c["name"] == name][0]


# -- policy validation --------------------------------------------------------------------------------------
def test_empty_policy_normalizes_every_key():
    assert validate_policy(None) == {"fail_on": None, "max_findings": None, "max_risk_score": None,
                                     "min_compliance_grade": None, "ignore": []}


def test_policy_is_normalized():
    policy = validate_policy({"fail_on": "HIGH", "max_findings": {"High": "3", "critical": 0}, "max_risk_score": "40.5",
                              "min_compliance_grade": "b",
                              "ignore": [{"id": " CVE-2023-0286 ", "reason": "not reachable", "expires": datetime.date(2026, 5, 1)}]})
    assert policy == {"fail_on": "high", "max_findings": {"critical": 0, "high": 3}, "max_risk_score": 40.5,
                      "min_compliance_grade": "B",
                      "ignore": [{"id": "CVE-2023-0286", "reason": "not reachable", "expires": "2026-05-01"}]}


@pytest.mark.parametrize("policy, words", [
    ({"fail_on": "severe"}, ["policy.fail_on", "'severe'", "critical, high, medium, low, info"]),
    ({"max_findings": {"hgh": 1}}, ["policy.max_findings.hgh", "unknown severity"]),
    ({"max_findings": {"high": -1}}, ["policy.max_findings.high", "negative"]),
    ({"max_findings": {"high": "three"}}, ["policy.max_findings.high", "whole number"]),
    ({"max_findings": {"high": True}}, ["policy.max_findings.high", "whole number"]),
    ({"max_findings": [0]}, ["policy.max_findings", "{severity: count}"]),
    ({"max_risk_score": -5}, ["policy.max_risk_score", "negative"]),
    ({"max_risk_score": "high"}, ["policy.max_risk_score", "number"]),
    ({"min_compliance_grade": "A+"}, ["policy.min_compliance_grade", "'A+'", "A (best) to F (worst)"]),
    ({"min_compliance_grade": 1}, ["policy.min_compliance_grade"]),
    ({"fail_below": "high"}, ["policy: unknown key(s) fail_below"]),
    ({"ignore": "CVE-2023-0286"}, ["policy.ignore", "list"]),
    ({"ignore": [{"id": "CKV_AWS_20"}]}, ["policy.ignore[0] (CKV_AWS_20)", "'reason' is required"]),
    ({"ignore": [{"id": "CKV_AWS_20", "reason": "  "}]}, ["policy.ignore[0] (CKV_AWS_20)", "'reason' is required"]),
    ({"ignore": [{"reason": "why"}]}, ["policy.ignore[0]", "'id' is required"]),
    ({"ignore": [{"id": "X", "reason": "r", "expires": "2026-02-30"}]}, ["policy.ignore[0] (X).expires", "YYYY-MM-DD", "2026-02-30"]),
    ({"ignore": [{"id": "X", "reason": "r", "expires": "next week"}]}, ["policy.ignore[0] (X).expires", "YYYY-MM-DD"]),
    ({"ignore": [{"id": "X", "reason": "r", "until": "2026-01-01"}]}, ["policy.ignore[0]", "unknown key(s) until"]),
    ({"ignore": [{"id": "A", "reason": "r"}, "B"]}, ["policy.ignore[1]"]),
])
def test_policy_errors_name_the_key(policy, words):
    with pytest.raises(ValueError) as caught:
        validate_policy(policy)
    for word in words:
        assert word in str(caught.value)


def test_evaluate_validates_the_policy_too():
    scan, findings = load("cloudgeni")
    with pytest.raises(ValueError, match=r"policy\.fail_on"):
        evaluate_gate(scan, findings, {"fail_on": "urgent"})


def test_ignore_without_findings_is_refused():
    scan, dummy = load("harborguard")
    with pytest.raises(ValueError, match="policy.ignore needs the scan's findings"):
        evaluate_gate(scan, None, {"ignore": [{"id": "CVE-2023-0286", "reason": "not reachable"}]})


@pytest.mark.parametrize("status, words", [("failed", "failed"), ("cancelled", "was cancelled")])
def test_ignore_list_never_hides_a_scan_that_did_not_complete(status, words):
    """Issue 19, item 8: the status check decides; the ignore list is not an error without findings then."""
    scan, dummy = load("harborguard")
    scan["status"], scan["vendor_status"] = status, status
    gate = evaluate_gate(scan, None, {"fail_on": "high", "ignore": [{"id": "CVE-2023-0286", "reason": "not reachable"}]},
                         counts_source="none")
    assert gate["passed"] is False
    assert gate["reasons"][0] == "scan %s %s" % (scan["id"], words)
    assert gate["counts_source"] == "none" and gate["unmatched_ignores"] == []


def test_counts_source_says_how_the_counts_were_obtained():
    scan, findings = load("cloudgeni")
    assert evaluate_gate(scan, findings, {})["counts_source"] == "findings"
    assert evaluate_gate(scan, None, {})["counts_source"] == "summary"
    assert evaluate_gate(scan, None, {}, counts_source="none")["counts_source"] == "none"


@pytest.mark.parametrize("ids", [("CKV_AWS_19", "CKV_AWS_19"), ("CVE-2023-0286", "cve-2023-0286 ")])
def test_an_id_listed_twice_in_ignore_is_rejected(ids):
    entries = [{"id": ids[0], "reason": "one", "expires": "2026-05-01"}, {"id": ids[1], "reason": "other", "expires": "2027-01-01"}]
    with pytest.raises(ValueError) as info:
        validate_policy({"ignore": entries})
    assert str(info.value) == "policy.ignore[1] (%s): the id is already listed as ignore[0]; list each id once" % ids[1].strip()


# -- thresholds and counts ----------------------------------------------------------------------------------
def test_empty_policy_passes_a_completed_scan():
    scan, findings = load("kolega")
    gate = evaluate_gate(scan, findings, {})
    assert gate["passed"] is True
    assert gate["reasons"] == []
    assert gate["counts"] == {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 0}
    assert [c["name"] for c in gate["checks"]] == ["scan status"]
    assert gate["message"] == "gate passed for kolega scan batch_7d41c2"


def test_fail_on_lists_the_counts_at_or_above_the_threshold():
    scan, findings = load("cloudgeni")
    gate = evaluate_gate(scan, findings, {"fail_on": "high"})
    assert gate["passed"] is False
    # one critical and three high count; the resolved low finding does not.
    assert gate["reasons"] == ["findings at or above high: 1 critical, 3 high"]
    assert gate["counts"] == {"critical": 1, "high": 3, "medium": 2, "low": 0, "info": 0}
    assert gate["excluded"] == [{"id": "fnd_01HX7Q6", "rule_id": "CKV_AWS_18", "severity": "low", "status": "resolved"}]
    assert "gate failed for cloudgeni scan scn_8f2a61: findings at or above high" in gate["message"]


def test_fail_on_passes_when_nothing_reaches_it():
    scan, findings = load("agilesec")
    gate = evaluate_gate(scan, findings, {"fail_on": "critical"})
    assert gate["passed"] is True
    assert check(gate, "fail_on critical") == {"name": "fail_on critical", "passed": True, "detail": "no findings at or above critical"}


def test_fail_on_info_counts_everything():
    scan, findings = load("agilesec")
    gate = evaluate_gate(scan, findings, {"fail_on": "info"})
    assert gate["reasons"] == ["findings at or above info: 1 high, 1 medium, 1 info"]


def test_max_findings_reports_each_broken_limit():
    scan, findings = load("penaxtra")
    gate = evaluate_gate(scan, findings, {"max_findings": {"critical": 0, "high": 3, "medium": 0}})
    assert gate["passed"] is False
    assert gate["reasons"] == ["1 critical finding (at most 0 allowed)", "1 medium finding (at most 0 allowed)"]
    assert check(gate, "max_findings high") == {"name": "max_findings high", "passed": True, "detail": "1 high finding (at most 3 allowed)"}


def test_max_findings_limit_is_inclusive_and_plural():
    scan, findings = load("cloudgeni")
    assert evaluate_gate(scan, findings, {"max_findings": {"high": 3}})["passed"] is True
    gate = evaluate_gate(scan, findings, {"max_findings": {"high": 2}})
    assert gate["reasons"] == ["3 high findings (at most 2 allowed)"]


def test_scan_counts_are_used_without_findings():
    scan, dummy = load("harborguard")
    gate = evaluate_gate(scan, None, {"fail_on": "critical", "max_findings": {"high": 2}})
    assert gate["counts"] == {"critical": 1, "high": 3, "medium": 1, "low": 1, "info": 1}
    assert gate["reasons"] == ["findings at or above critical: 1 critical", "3 high findings (at most 2 allowed)"]
    assert gate["unmatched_ignores"] == []


def test_unknown_finding_severity_counts_as_info():
    scan, findings = load("kolega")
    findings[0]["severity"] = "weird"
    gate = evaluate_gate(scan, findings, {})
    assert gate["counts"]["info"] == 1
    assert gate["counts"]["critical"] == 0


# -- scan status ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status, vendor, reason", [
    ("failed", "ERROR", "scan scn_8f2a61 failed (cloudgeni says ERROR)"),
    ("cancelled", "CANCELED", "scan scn_8f2a61 was cancelled (cloudgeni says CANCELED)"),
    ("failed", "FAILED", "scan scn_8f2a61 failed"),
    ("running", "IN_PROGRESS", "scan scn_8f2a61 has not finished (status running (cloudgeni says IN_PROGRESS)); the gate needs a completed scan"),
])
def test_unsuccessful_scans_fail_the_gate(status, vendor, reason):
    scan, dummy = load("cloudgeni")
    scan.update(status=status, vendor_status=vendor, counts={"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0})
    gate = evaluate_gate(scan, [], {})
    assert gate["passed"] is False
    assert gate["reasons"] == [reason]
    assert check(gate, "scan status")["passed"] is False


# -- ignores ----------------------------------------------------------------------------------------------------
def test_active_ignore_removes_findings_from_the_counts():
    scan, findings = load("harborguard")
    policy = {"fail_on": "high", "ignore": [{"id": "cve-2023-38545", "reason": "curl not used at runtime", "expires": "2026-04-27"},
                                            {"id": "vul_a2", "reason": "patched base image pending"}]}
    gate = evaluate_gate(scan, findings, policy, today=TODAY)
    assert gate["counts"]["critical"] == 0
    assert gate["counts"]["high"] == 2
    assert gate["ignored"] == [
        {"id": "vul_a1", "rule_id": "CVE-2023-38545", "severity": "critical", "reason": "curl not used at runtime", "expires": "2026-04-27"},
        {"id": "vul_a2", "rule_id": "CVE-2023-4911", "severity": "high", "reason": "patched base image pending", "expires": None},
    ]
    assert gate["expired_ignores"] == []
    assert gate["reasons"] == ["findings at or above high: 2 high"]


def test_expired_ignore_counts_again_and_is_reported():
    scan, findings = load("harborguard")
    policy = {"fail_on": "critical",
              "ignore": [{"id": "CVE-2023-38545", "reason": "curl not used at runtime", "expires": "2026-04-26"}]}
    gate = evaluate_gate(scan, findings, policy, today=TODAY)
    assert gate["ignored"] == []
    assert gate["counts"]["critical"] == 1
    assert gate["expired_ignores"] == [{"id": "CVE-2023-38545", "reason": "curl not used at runtime", "expires": "2026-04-26", "matched": 1}]
    assert gate["reasons"] == ["findings at or above critical: 1 critical",
                               "ignore entry CVE-2023-38545 expired on 2026-04-26; its 1 finding counted again"]
    # The same entry one day earlier still holds and the gate passes.
    earlier = evaluate_gate(scan, findings, policy, today="2026-04-26")
    assert earlier["passed"] is True
    assert [i["id"] for i in earlier["ignored"]] == ["vul_a1"]


def test_ignore_turns_a_failing_gate_into_a_passing_one():
    scan, findings = load("penaxtra")
    policy = {"max_findings": {"critical": 0}}
    assert evaluate_gate(scan, findings, policy, today=TODAY)["passed"] is False
    policy["ignore"] = [{"id": "CIS-AWS-1.4", "reason": "break-glass keys, tracked in SEC-142", "expires": "2026-06-30"}]
    gate = evaluate_gate(scan, findings, policy, today=TODAY)
    assert gate["passed"] is True
    assert gate["counts"]["critical"] == 0


def test_unmatched_ignores_are_listed():
    scan, findings = load("kolega")
    gate = evaluate_gate(scan, findings, {"ignore": [{"id": "semgrep.rule.that.never.fired", "reason": "legacy"}]}, today=TODAY)
    assert gate["unmatched_ignores"] == ["semgrep.rule.that.never.fired"]
    assert gate["ignored"] == []


def test_today_defaults_to_the_current_date():
    scan, findings = load("kolega")
    long_gone = {"ignore": [{"id": findings[0]["rule_id"], "reason": "old", "expires": "2001-01-01"}]}
    far_away = {"ignore": [{"id": findings[0]["rule_id"], "reason": "new", "expires": "2999-01-01"}]}
    assert evaluate_gate(scan, findings, long_gone)["expired_ignores"][0]["matched"] == 1
    assert len(evaluate_gate(scan, findings, far_away)["ignored"]) == 1


# -- HarborGuard risk score and compliance grade --------------------------------------------------------------------
def test_risk_score_and_grade_pass_within_limits():
    scan, findings = load("harborguard")
    gate = evaluate_gate(scan, findings, {"max_risk_score": 47, "min_compliance_grade": "B"})
    assert gate["passed"] is True
    assert check(gate, "risk score")["detail"] == "risk score 47 (at most 47 allowed)"
    assert check(gate, "compliance grade")["detail"] == "compliance grade B (B or better required)"


def test_risk_score_and_grade_fail_beyond_limits():
    scan, findings = load("harborguard")
    gate = evaluate_gate(scan, findings, {"max_risk_score": 40, "min_compliance_grade": "A"})
    assert gate["passed"] is False
    assert gate["reasons"] == ["risk score 47 (at most 40 allowed)", "compliance grade B (A or better required)"]


def test_worse_grade_letters_fail():
    scan, findings = load("harborguard")
    scan["raw"]["compliance"] = "f"
    gate = evaluate_gate(scan, findings, {"min_compliance_grade": "D"})
    assert gate["reasons"] == ["compliance grade F (D or better required)"]


@pytest.mark.parametrize("provider", ["cloudgeni", "penaxtra"])
def test_risk_and_grade_limits_fail_when_the_scan_has_none(provider):
    scan, findings = load(provider)
    gate = evaluate_gate(scan, findings, {"max_risk_score": 10, "min_compliance_grade": "C"})
    assert gate["passed"] is False
    assert gate["reasons"] == ["max_risk_score is set but the %s scan reports no risk score" % provider,
                               "min_compliance_grade is set but the %s scan reports no compliance grade" % provider]


def test_unreadable_grade_fails():
    scan, findings = load("harborguard")
    scan["raw"]["compliance"] = "N/A"
    gate = evaluate_gate(scan, findings, {"min_compliance_grade": "C"})
    assert gate["reasons"] == ["compliance grade 'N/A' is not a letter grade A to F"]


def test_result_is_json_serializable_and_echoes_the_policy():
    scan, findings = load("harborguard")
    policy = {"fail_on": "critical", "ignore": [{"id": "CVE-2023-0286", "reason": "r", "expires": datetime.date(2026, 5, 1)}]}
    gate = evaluate_gate(scan, findings, policy, today=TODAY)
    assert json.loads(json.dumps(gate))["policy"]["ignore"][0]["expires"] == "2026-05-01"
    assert set(gate) >= {"passed", "reasons", "counts", "ignored", "expired_ignores", "policy"}


def test_an_active_entry_wins_over_an_expired_one_for_the_same_finding():
    scan, findings = load("harborguard")
    policy = {"fail_on": "critical", "ignore": [{"id": "CVE-2023-38545", "reason": "old waiver", "expires": "2026-01-31"},
                                                {"id": "vul_a1", "reason": "renewed waiver", "expires": "2026-12-31"}]}
    gate = evaluate_gate(scan, findings, policy, today=TODAY)
    assert gate["passed"] is True
    assert [(i["id"], i["reason"]) for i in gate["ignored"]] == [("vul_a1", "renewed waiver")]
    assert gate["expired_ignores"] == [{"id": "CVE-2023-38545", "reason": "old waiver", "expires": "2026-01-31", "matched": 0}]


def test_validate_policy_is_idempotent():
    policy = {"fail_on": "Critical", "max_findings": {"HIGH": 2, "low": None}, "max_risk_score": 12,
              "min_compliance_grade": "c", "ignore": [{"id": "CKV_AWS_20", "reason": "public site bucket", "expires": "2026-07-01"}]}
    once = validate_policy(policy)
    assert once["max_findings"] == {"high": 2}
    assert validate_policy(once) == once


def test_ignores_match_case_insensitively_across_many_findings():
    scan, dummy = load("kolega")
    findings = [{"id": "f-%d" % i, "rule_id": "rule-%d" % (i % 500), "severity": "high", "status": "open"} for i in range(20000)]
    ignores = [{"id": "RULE-%d" % i, "reason": "accepted"} for i in range(0, 500, 2)]
    gate = evaluate_gate(scan, findings, {"max_findings": {"high": 10000}, "ignore": ignores}, today=TODAY)
    assert gate["counts"]["high"] == 10000
    assert len(gate["ignored"]) == 10000
    assert gate["passed"] is True
