# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 19, items 7 and 11: reports that code scanning and JUnit consumers accept, and that show what broke the gate.

SARIF is checked against GitHub code scanning's documented upload rules (``github_sarif``) as
well as the SARIF 2.1.0 schema, for findings of every provider at every severity.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import os
import xml.etree.ElementTree as ET

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils import reports
from ansible_collections.scanops.security.plugins.module_utils.gate import evaluate_gate, failing_findings, worst_first
from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.github_sarif import category, upload_problems

jsonschema = pytest.importorskip("jsonschema")

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")
SEVERITY_WORDS = {  # each vendor's word for the five normalized severities
    "cloudgeni": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
    "kolega": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
    "harborguard": {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "NEGLIGIBLE"},
    "penaxtra": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
    "agilesec": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
}
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def raw_finding(provider, severity, number):
    """A finding as the vendor's API answers it (the shapes of the vendor pages), at one severity."""
    word = SEVERITY_WORDS[provider][severity]
    if provider == "cloudgeni":
        resource = {"type": "aws_s3_bucket", "name": "bucket_%d" % number}
        if number % 2 == 0:
            resource.update(file="storage/main.tf", line=10 + number)  # static analysis; the others are cloud findings
        return {"id": "finding_%d" % number, "checkId": "CKV_AWS_%d" % number, "title": "S3 check %d" % number,
                "description": "Bucket %d is not encrypted" % number, "severity": word, "status": "open", "resource": resource}
    if provider == "kolega":
        return {"id": "0b5e6a3c-0000-4000-8000-%012d" % number, "check_id": "generic-api-key-%d" % number,
                "severity": word, "status": "open", "file_path": "app/settings_%d.py" % number,
                "message": "Hard-coded key %d" % number, "title": "Hard-coded key", "cwe": ["CWE-798"]}
    if provider == "harborguard":
        return {"id": "vuln-abc-%05d" % number, "scanId": "scn-abc", "cveId": "CVE-2024-%05d" % number, "severity": word,
                "package": "openssl", "version": "3.0.%d" % number, "fixedVersion": "3.0.99", "triage": {"status": "OPEN"}}
    if provider == "penaxtra":
        return {"id": "11111111-0000-4000-8000-%012d" % number, "scan_id": "run-1", "title": "Root account has access keys %d" % number,
                "severity": word, "status": "open", "discovered_at": "2026-05-22T10:14:00Z"}
    # A Search API hit in the v3.5 layout (the fields below the documented containers are the collection's assumption).
    observation = {"sensor": {"id": "sen-1", "name": "git-payments", "execution_id": "exec-1"},
                   "source": {"name": "repo", "url": "https://git.example.test/repo.git"},
                   "file": {"path": "certs/chain_%d.pem" % number, "line": number + 1}}
    return {"_index": "agilesec.example_com.v3.event-x509", "_id": "obs-%d" % number,
            "_source": {"observation": observation, "crypto": {"x509": {"signature_algorithm": "sha1WithRSAEncryption"}},
                        "analysis": {"priority": word, "policy": {"rule": "sha1-signature-%d" % number}}}}


SCAN_RAW = {
    "cloudgeni": {"id": "scan_xyz789", "repositoryId": "repo_abc123", "branch": "main", "type": "static", "status": "completed"},
    "kolega": {"batch_id": "batch-1", "repository_id": "repo-1", "status": "completed"},
    "harborguard": {"id": "scn-abc", "status": "COMPLETE", "image": {"name": "registry:5000/team/app", "tag": "2.0"}},
    "penaxtra": {"id": "run-1", "integration_id": "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03", "status": "completed"},
    "agilesec": {"executionId": "exec-1", "sensorName": "git-payments", "status": "successful"},
}


def provider_result(provider, policy=None, severities=("critical", "high", "medium", "low", "info")):
    # Only the normalizers are used: a mock transport spares building a TLS context per call.
    adapter = get_adapter_class(provider)("k", api_url="https://vendor.example.test",
                                          transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    try:
        findings = [adapter.normalize_finding(raw_finding(provider, severity, number))
                    for number, severity in enumerate(severities)]
        scan = adapter.normalize_scan(SCAN_RAW[provider])
    finally:
        adapter.close()
    scan["target"] = {"cloudgeni": "myorg/infrastructure (main)", "harborguard": "image registry:5000/team/app:2.0"}.get(provider, scan["target"])
    gate = evaluate_gate(scan, findings, policy if policy is not None else {"fail_on": "high"})
    return {"scan": scan, "gate": gate, "findings": findings, "category": "scanops/%s/target" % provider}


@pytest.fixture(scope="module")
def schema():
    with open(os.path.join(FIXTURES, "sarif-schema-2.1.0.json")) as stream:
        return json.load(stream)


def schema_errors(document, schema):
    return [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(document)]


# -- the checker can say no ---------------------------------------------------------------------------------------
def test_the_upload_rules_reject_what_code_scanning_rejects():
    result_without_location = {"message": {"text": "Root account has access keys"}, "level": "error",
                               "partialFingerprints": {"primaryLocationLineHash": "0123456789abcdef:1"}}
    logical_only = {"ruleId": "CVE-2024-1", "message": {"text": "openssl"},
                    "locations": [{"logicalLocations": [{"name": "openssl", "kind": "module"}]}],
                    "partialFingerprints": {"primaryLocationLineHash": "0123456789abcdef:1"}}
    rule = {"id": "CVE-2024-1", "shortDescription": {"text": "x"}, "fullDescription": {"text": "x"}, "help": {"text": "x"}}
    run = {"tool": {"driver": {"name": "HarborGuard", "rules": [rule]}}, "results": [result_without_location, logical_only],
           "automationDetails": {"id": "scanops/harborguard/scn-1"}}
    document = {"$schema": reports.SARIF_SCHEMA, "version": "2.1.0", "runs": [run, dict(run, automationDetails={"id": "scanops/harborguard/scn-2"})]}
    problems = upload_problems(document)
    assert "runs[0] result 0: ruleId is required" in problems
    assert "runs[0] result 0: at least one location is required" in problems
    assert "runs[0] result 1: locations[0].physicalLocation.artifactLocation.uri is required" in problems
    assert "runs[1]: tool HarborGuard and category 'scanops/harborguard' are already those of runs[0]" in problems
    assert upload_problems(dict(document, runs=[run] * 21))[0] == "21 runs in one file, more than 20"
    assert category({"automationDetails": {"id": "a/b/c"}}) == "a/b" and category({}) == ""


# -- SARIF for every provider and severity ---------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["cloudgeni", "kolega", "harborguard", "penaxtra", "agilesec"])
def test_sarif_meets_the_upload_rules_for_every_provider(provider, schema):
    document = reports.sarif_document([provider_result(provider)])
    assert upload_problems(document) == []
    assert schema_errors(document, schema) == []


@pytest.mark.parametrize("provider", ["cloudgeni", "kolega", "harborguard", "penaxtra", "agilesec"])
@pytest.mark.parametrize("severity", ["critical", "high", "medium", "low", "info"])
def test_sarif_level_per_severity_and_provider(provider, severity):
    document = reports.sarif_document([provider_result(provider, severities=(severity,))])
    run = document["runs"][0]
    (result,) = run["results"]
    assert result["level"] == LEVELS[severity]
    assert result["properties"]["severity"] == severity
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["id"] == result["ruleId"] and rule["defaultConfiguration"]["level"] == LEVELS[severity]
    assert upload_problems(document) == []


def test_every_result_has_a_rule_and_a_stable_location(schema):
    penaxtra = reports.sarif_document([provider_result("penaxtra")])["runs"][0]
    # Penaxtra lists no control id: the rule id comes from the title, the location is the integration.
    first = penaxtra["results"][0]
    assert first["ruleId"] == "penaxtra/root-account-has-access-keys-0"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "cloud/penaxtra/3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"
    harbor = reports.sarif_document([provider_result("harborguard")])["runs"][0]
    uris = set(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in harbor["results"])
    assert uris == {"image/registry:5000/team/app/openssl"}
    cloud = reports.sarif_document([provider_result("cloudgeni")])["runs"][0]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in cloud["results"]]
    assert "storage/main.tf" in uris and "cloud/cloudgeni/aws_s3_bucket.bucket_1" in uris
    # The same finding in a later scan gets the same fingerprint (no new alert for an unchanged problem).
    again = reports.sarif_document([provider_result("harborguard")])["runs"][0]
    assert [r["partialFingerprints"] for r in harbor["results"]] == [r["partialFingerprints"] for r in again["results"]]
    assert len(set(r["partialFingerprints"]["primaryLocationLineHash"] for r in harbor["results"])) == len(harbor["results"])


def test_bulk_runs_get_one_category_each_that_stays_the_same_for_the_target():
    first = provider_result("harborguard")
    second = dict(provider_result("harborguard"), category="scanops/harborguard/other-image")
    unnamed = dict(provider_result("harborguard"))
    del unnamed["category"]
    document = reports.sarif_document([first, second, unnamed, dict(unnamed)])
    assert upload_problems(document) == []
    categories = [category(run) for run in document["runs"]]
    assert categories[:2] == ["scanops/harborguard/target", "scanops/harborguard/other-image"]
    assert len(set(categories)) == 4
    # The run id part is the scan id, after the category.
    assert document["runs"][0]["automationDetails"]["id"] == "scanops/harborguard/target/scn-abc"


def test_more_than_20_runs_are_split_over_files_that_each_meet_the_rules(tmp_path):
    one = provider_result("penaxtra")
    results = [dict(copy.deepcopy(one), category="scanops/penaxtra/integration-%d" % number) for number in range(45)]
    written = reports.write_reports(results, sarif_path=str(tmp_path / "all.sarif"))
    assert [os.path.basename(path) for path in written] == ["all.sarif", "all-2.sarif", "all-3.sarif"]
    runs = []
    for path in written:
        with open(path) as stream:
            document = json.load(stream)
        assert upload_problems(document) == []
        runs.extend(document["runs"])
    assert len(runs) == 45 and len(set(category(run) for run in runs)) == 45


def test_results_and_text_beyond_the_limits_are_cut(monkeypatch):
    monkeypatch.setattr(reports, "SARIF_MAX_RESULTS", 3)
    result = provider_result("kolega", policy={})
    result["findings"][0]["title"] = "t" * 5000
    result["findings"][0]["raw"]["message"] = "m" * 5000
    run = reports.sarif_document([result])["runs"][0]
    assert len(run["results"]) == 3 and run["properties"]["results_left_out"] == 2
    assert upload_problems({"$schema": reports.SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}) == []
    # The worst findings are the ones kept.
    assert [r["properties"]["severity"] for r in run["results"]] == ["critical", "high", "medium"]


# -- JUnit: failing findings are the gate's -------------------------------------------------------------------------
def junit_suite(result):
    root = ET.fromstring(reports.junit_document([result]).encode("utf-8"))
    return root.find("testsuite")


def finding_cases(suite):
    return [case for case in suite.findall("testcase") if case.get("classname").endswith(".findings")]


@pytest.mark.parametrize("provider", ["cloudgeni", "kolega", "harborguard", "penaxtra"])
@pytest.mark.parametrize("policy, failing", [({"fail_on": "high"}, 2), ({"max_findings": {"medium": 0}}, 1),
                                             ({"fail_on": "low", "max_findings": {"critical": 5}}, 4), ({"fail_on": "critical",
                                                                                                         "max_findings": {"info": 9}}, 1)])
def test_junit_failing_findings_match_the_gate_counts(provider, policy, failing):
    result = provider_result(provider, policy=policy)
    gate = result["gate"]
    suite = junit_suite(result)
    failed = [case for case in finding_cases(suite) if case.find("failure") is not None]
    assert len(failed) == failing == len(failing_findings(gate, result["findings"]))
    assert int(suite.get("failures")) == failing + sum(1 for check in gate["checks"] if not check["passed"])
    assert suite.find("properties/property[@name='gate.passed']").get("value") == "false"


def test_junit_passing_gate_has_no_failing_findings():
    result = provider_result("cloudgeni", policy={"max_findings": {"high": 3}})
    suite = junit_suite(result)
    assert result["gate"]["passed"] is True and suite.get("failures") == "0"
    # Findings at the limited severity and above are listed, passing: counted, but within what the gate allows.
    assert [case.get("name").split(" ")[0] for case in finding_cases(suite)] == ["critical", "high"]


def test_junit_ignored_findings_are_skipped_and_not_failed():
    result = provider_result("harborguard", policy={"fail_on": "high", "ignore": [{"id": "CVE-2024-00000", "reason": "not reachable"}]})
    suite = junit_suite(result)
    cases = finding_cases(suite)
    assert [c.find("skipped") is not None for c in cases] == [True, False]
    assert [c.find("failure") is not None for c in cases] == [False, True]


# -- item 7: worst first, and every finding that broke the gate ----------------------------------------------------
def test_worst_first_keeps_the_vendor_order_within_a_severity():
    findings = [{"id": str(n), "severity": s} for n, s in enumerate(["low", "high", "medium", "high", "critical", "low"])]
    assert [f["id"] for f in worst_first(findings)] == ["4", "1", "3", "2", "0", "5"]
