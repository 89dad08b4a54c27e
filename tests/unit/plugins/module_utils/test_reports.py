# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report writers: SARIF 2.1.0 against the official schema, JUnit XML counts, Markdown, files."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import datetime
import hashlib
import json
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.scanops.security.plugins.module_utils import reports
from ansible_collections.scanops.security.plugins.module_utils.gate import evaluate_gate

jsonschema = pytest.importorskip("jsonschema")

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
TODAY = datetime.date(2026, 4, 27)
PROVIDERS = ["cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra"]


def _read(name, mode="r"):
    with open(os.path.join(FIXTURES, name), mode) as stream:
        return stream.read()


@pytest.fixture(scope="module")
def schema():
    return json.loads(_read("sarif-schema-2.1.0.json"))


@pytest.fixture
def scans():
    """provider -> (normalized scan, normalized findings)."""
    data = json.loads(_read("normalized_scans.json"))
    return dict((item["scan"]["provider"], (item["scan"], item["findings"])) for item in copy.deepcopy(data["scans"]))


POLICY = {"fail_on": "high", "max_findings": {"critical": 0}, "ignore": [
    {"id": "CVE-2023-0286", "reason": "openssl not reachable from the API", "expires": "2026-06-30"},
    {"id": "CKV_AWS_24", "reason": "bastion allow-list moved to the firewall", "expires": "2026-04-01"},
]}


@pytest.fixture
def results(scans):
    out = []
    for provider in PROVIDERS:
        scan, findings = scans[provider]
        out.append({"scan": scan, "findings": findings, "gate": evaluate_gate(scan, findings, POLICY, today=TODAY)})
    return out


def validate(document, schema):
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "; ".join("%s: %s" % ("/".join(str(p) for p in e.path), e.message) for e in errors[:5])


def run_of(document, provider):
    return [run for run in document["runs"] if run["properties"]["scan"]["provider"] == provider][0]


def result_of(run, finding_id):
    return [r for r in run["results"] if r["properties"]["finding_id"] == finding_id][0]


# -- SARIF ----------------------------------------------------------------------------------------------------------
def test_schema_fixture_is_the_recorded_official_file():
    assert hashlib.sha256(_read("sarif-schema-2.1.0.json", "rb")).hexdigest() == SCHEMA_SHA256


def test_schema_rejects_a_broken_log(schema):
    # The validation below is only worth something if the schema can say no.
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "fatal", "message": {}}]}]}
    assert list(jsonschema.Draft4Validator(schema).iter_errors(broken))


def test_sarif_validates_against_the_official_schema(results, schema):
    document = reports.sarif_document(results)
    validate(document, schema)
    # Round trip through JSON text the way the file is written.
    validate(json.loads(json.dumps(document)), schema)
    assert document["version"] == "2.1.0"
    assert [run["tool"]["driver"]["name"] for run in document["runs"]] == [
        "CloudGeni", "Kolega DevSec", "Keyfactor AgileSec", "HarborGuard", "Penaxtra"]


def test_sarif_without_findings_or_gate_validates(scans, schema):
    scan, dummy = scans["kolega"]
    document = reports.sarif_document([{"scan": scan, "findings": None, "gate": None}])
    validate(document, schema)
    run = document["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["properties"]["findings_included"] is False


def test_sarif_levels_follow_severity(results):
    document = reports.sarif_document(results)
    levels = {}
    for run in document["runs"]:
        for item in run["results"]:
            levels.setdefault(item["properties"]["severity"], set()).add(item["level"])
    assert levels == {"critical": {"error"}, "high": {"error"}, "medium": {"warning"}, "low": {"note"}, "info": {"note"}}


def test_sarif_rules_are_the_distinct_rule_ids(results):
    run = run_of(reports.sarif_document(results), "cloudgeni")
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == sorted(set(f["rule_id"] for f in results[0]["findings"]))
    assert len(rule_ids) == 6  # seven findings, CKV_AWS_19 twice
    for item in run["results"]:
        assert run["tool"]["driver"]["rules"][item["ruleIndex"]]["id"] == item["ruleId"]
    rule = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "CKV_AWS_20"][0]
    assert rule["shortDescription"]["text"] == "S3 Bucket Public Read ACL"
    assert rule["fullDescription"]["text"] == "S3 bucket ACL grants READ to everyone"
    assert rule["help"]["text"] == "Use a private ACL and serve content through CloudFront"
    assert rule["properties"]["security-severity"] == "9.5"
    assert rule["defaultConfiguration"]["level"] == "error"


def test_sarif_cve_rules_link_to_the_advisory_and_semgrep_rules_carry_cwe(results):
    document = reports.sarif_document(results)
    rules = dict((r["id"], r) for r in run_of(document, "harborguard")["tool"]["driver"]["rules"])
    assert rules["CVE-2023-38545"]["helpUri"] == "https://nvd.nist.gov/vuln/detail/CVE-2023-38545"
    kolega = dict((r["id"], r) for r in run_of(document, "kolega")["tool"]["driver"]["rules"])
    sqli = kolega["python.django.security.injection.sql.sql-injection-using-raw.sql-injection-using-raw"]
    assert "CWE-89" in sqli["properties"]["tags"]


def test_sarif_iac_finding_has_file_and_line_plus_resource(results):
    item = result_of(run_of(reports.sarif_document(results), "cloudgeni"), "fnd_01HX7Q1")
    location = item["locations"][0]
    assert location["physicalLocation"] == {"artifactLocation": {"uri": "storage/public.tf"},
                                            "region": {"startLine": 12, "startColumn": 1, "endLine": 12, "endColumn": 1}}
    assert location["logicalLocations"] == [{"name": "aws_s3_bucket.public_assets", "fullyQualifiedName": "aws_s3_bucket.public_assets",
                                             "kind": "resource"}]
    assert item["ruleId"] == "CKV_AWS_20"
    assert item["properties"] == {"severity": "critical", "status": "open", "vendor_status": "OPEN", "provider": "cloudgeni",
                                  "finding_id": "fnd_01HX7Q1", "first_seen": "2026-04-20T09:12:44Z"}


def test_sarif_file_uris_are_escaped(results):
    item = result_of(run_of(reports.sarif_document(results), "cloudgeni"), "fnd_01HX7Q7")
    assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "azure/storage%20account.bicep"


def test_sarif_file_without_line_points_at_its_first_line(results):
    item = result_of(run_of(reports.sarif_document(results), "agilesec"), "obs-0002")
    assert item["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "certs/legacy-chain.pem"},
                                                        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}}


def test_sarif_package_and_cloud_findings_get_a_pseudo_path_and_keep_logical_locations(results):
    document = reports.sarif_document(results)
    region = {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
    cve = result_of(run_of(document, "harborguard"), "vul_a1")
    assert cve["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": "image/ghcr.io/acme/api/curl"}, "region": region},
                                 "logicalLocations": [{"name": "curl", "fullyQualifiedName": "curl@7.81.0-1ubuntu1.10", "kind": "module"}]}]
    assert cve["message"]["text"] == "CVE-2023-38545 (curl 7.81.0-1ubuntu1.10); fixed in 7.81.0-1ubuntu1.14"
    cloud = result_of(run_of(document, "penaxtra"), "pxf_901")
    assert cloud["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": "cloud/penaxtra/arn:aws:iam::123456789012:root"},
                                                        "region": region},
                                   "logicalLocations": [{"name": "arn:aws:iam::123456789012:root",
                                                         "fullyQualifiedName": "arn:aws:iam::123456789012:root", "kind": "resource"}]}]


def test_agilesec_search_findings_name_their_source(scans):
    scan, _findings = scans["agilesec"]
    on_host = {"id": "doc1", "provider": "agilesec", "rule_id": "legacy-tls-version", "title": "TLS 1.0 enabled", "severity": "high",
               "status": None, "location": {"source": "https://git.acme.example/payments.git", "file": None, "line": None,
                                            "host": "git.acme.example"}}
    in_file = dict(on_host, id="doc2", location=dict(on_host["location"], file="deploy/nginx/nginx.conf", line=12))
    run = reports.sarif_document([{"scan": scan, "findings": [on_host, in_file], "gate": None}])["runs"][0]
    source = {"name": "https://git.acme.example/payments.git", "fullyQualifiedName": "https://git.acme.example/payments.git",
              "kind": "resource"}
    assert [loc["logicalLocations"] for loc in result_of(run, "doc1")["locations"]] == [[source]]
    (in_file_location,) = result_of(run, "doc2")["locations"]
    assert in_file_location["logicalLocations"] == [source]
    assert in_file_location["physicalLocation"]["artifactLocation"] == {"uri": "deploy/nginx/nginx.conf"}
    assert in_file_location["physicalLocation"]["region"]["startLine"] == 12
    summary = reports.markdown_summary([{"scan": scan, "findings": [on_host], "gate": None}])
    assert "https://git.acme.example/payments.git" in summary


def test_sarif_suppressions_for_ignored_and_vendor_triaged_findings(results):
    document = reports.sarif_document(results)
    harbor = run_of(document, "harborguard")
    ignored = result_of(harbor, "vul_a3")
    assert ignored["suppressions"] == [{"kind": "external", "status": "accepted",
                                        "justification": "openssl not reachable from the API (until 2026-06-30)"}]
    wont_fix = result_of(harbor, "vul_a6")
    assert wont_fix["suppressions"][0]["justification"] == "marked ignored on HarborGuard"
    assert "suppressions" not in result_of(harbor, "vul_a1")
    # The expired CloudGeni entry suppresses nothing.
    assert "suppressions" not in result_of(run_of(document, "cloudgeni"), "fnd_01HX7Q4")


def test_sarif_gate_in_invocation_and_properties(results, scans):
    document = reports.sarif_document(results)
    run = run_of(document, "cloudgeni")
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert [n["message"]["text"] for n in invocation["toolExecutionNotifications"]] == results[0]["gate"]["reasons"]
    assert run["properties"]["gate"]["passed"] is False
    assert run["properties"]["gate"]["expired_ignores"][0]["id"] == "CKV_AWS_24"
    assert run["properties"]["scan"]["id"] == "scn_8f2a61"
    # The category is the target's (its own per run of a file), the last part the scan.
    assert run["automationDetails"]["id"] == "scanops/cloudgeni/acme/infrastructure/scn_8f2a61"
    scan, findings = scans["agilesec"]
    passing = reports.sarif_document([{"scan": scan, "findings": findings, "gate": evaluate_gate(scan, findings, {"fail_on": "critical"})}])
    assert passing["runs"][0]["invocations"][0]["executionSuccessful"] is True
    assert "raw" not in passing["runs"][0]["properties"]["scan"]


# -- JUnit -------------------------------------------------------------------------------------------------------------
def parse_junit(results):
    text = reports.junit_document(results)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_counts_are_consistent(results):
    root = parse_junit(results)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 5
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
        assert suite.get("errors") == "0"
    for attribute in ("tests", "failures", "skipped"):
        assert int(root.get(attribute)) == sum(int(s.get(attribute)) for s in suites)
    assert int(root.get("tests")) == len(root.findall("testsuite/testcase"))


def test_junit_gate_checks_and_findings_at_or_above_threshold(results):
    suite = parse_junit(results).findall("testsuite")[0]
    assert suite.get("name") == "CloudGeni acme/infrastructure (scan scn_8f2a61)"
    gate_cases = [c for c in suite.findall("testcase") if c.get("classname") == "scanops.cloudgeni.gate"]
    assert [c.get("name") for c in gate_cases] == ["gate: scan status", "gate: fail_on high", "gate: max_findings critical"]
    assert gate_cases[0].find("failure") is None
    assert gate_cases[1].find("failure").get("message") == "findings at or above high: 1 critical, 3 high"
    assert gate_cases[2].find("failure").get("message") == "1 critical finding (at most 0 allowed)"
    finding_cases = [c for c in suite.findall("testcase") if c.get("classname") == "scanops.cloudgeni.findings"]
    # fail_on high: the critical and the three high findings, none of the medium/low ones.
    assert len(finding_cases) == 4
    assert all(c.find("failure") is not None for c in finding_cases)
    assert finding_cases[0].get("name") == "critical CKV_AWS_20: S3 Bucket Public Read ACL @ storage/public.tf:12"
    assert "file: storage/public.tf" in finding_cases[0].find("failure").text
    assert finding_cases[0].find("failure").get("type") == "critical"


def test_junit_ignored_findings_are_skipped(results):
    suite = parse_junit(results).findall("testsuite")[3]
    skipped = [c for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert [c.get("name") for c in skipped] == ["high CVE-2023-0286: CVE-2023-0286 @ openssl 3.0.2-0ubuntu1.10"]
    assert skipped[0].find("skipped").get("message") == "not counted: openssl not reachable from the API (until 2026-06-30)"


def test_junit_lists_no_finding_failure_when_no_severity_check_failed(scans):
    scan, findings = scans["agilesec"]
    gate = evaluate_gate(scan, findings, {})
    suite = parse_junit([{"scan": scan, "findings": findings, "gate": gate}]).find("testsuite")
    # Only the status check: a gate without severity checks fails no finding (the failures match the gate).
    assert suite.get("tests") == "1"
    assert suite.get("failures") == "0"


def test_junit_threshold_from_count_limits(scans):
    scan, findings = scans["agilesec"]
    gate = evaluate_gate(scan, findings, {"max_findings": {"medium": 5}})
    suite = parse_junit([{"scan": scan, "findings": findings, "gate": gate}]).find("testsuite")
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names == ["gate: scan status", "gate: max_findings medium", "high RSA-1024: RSA-1024 @ src/main/java/com/acme/crypto/KeyFactory.java:42",
                     "medium SHA-1: SHA-1 @ certs/legacy-chain.pem"]


def test_junit_failed_scan_without_gate(scans):
    scan, dummy = scans["penaxtra"]
    scan["status"] = "failed"
    suite = parse_junit([{"scan": scan, "findings": None, "gate": None}]).find("testsuite")
    assert suite.get("tests") == "1"
    assert suite.find("testcase/failure").get("message") == "scan run_55e0 is failed"


def test_junit_strips_characters_xml_cannot_carry(scans):
    scan, findings = scans["kolega"]
    findings[0]["title"] = "bad \x1b[31mANSI\x00 title"
    root = parse_junit([{"scan": scan, "findings": findings, "gate": evaluate_gate(scan, findings, {"fail_on": "info"})}])
    names = [case.get("name") for case in root.findall("testsuite/testcase")]
    assert any("bad ?[31mANSI? title" in name for name in names)


# -- Markdown ----------------------------------------------------------------------------------------------------------
def test_markdown_table_has_counts_and_gate(results):
    text = reports.markdown_summary(results)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Provider | Target | Scan | Status | Critical | High | Medium | Low | Info | Gate |"
    assert ("| CloudGeni | acme/infrastructure | [scn\\_8f2a61](https://app.cloudgeni.ai/scans/scn_8f2a61) | completed"
            " | 1 | 3 | 2 | 0 | 0 | **failed** |") in rows
    assert ("| HarborGuard | ghcr.io/acme/api:1.4.7 | [scn-3kp9q1](https://harborguard.co/dashboard/scans/scn-3kp9q1) | completed"
            " | 1 | 2 | 1 | 0 | 1 | **failed** |") in rows
    assert "- findings at or above high: 1 critical, 3 high" in text
    assert "- openssl not reachable" not in text
    assert "- CVE-2023-0286 vul\\_a3: openssl not reachable from the API (until 2026-06-30)" in text
    assert "- CKV\\_AWS\\_24 (expired 2026-04-01): bastion allow-list moved to the firewall" in text


def test_markdown_top_findings_are_bounded_and_worst_first(results):
    text = reports.markdown_summary(results, top=2)
    section = text.split("## HarborGuard")[1].split("## Penaxtra")[0]
    assert "Top findings (2 of 5 counted):" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and "Severity" not in line]
    assert [row.split(" | ")[0] for row in rows] == ["| critical", "| high"]


def test_markdown_escapes_table_breaking_text(scans):
    scan, findings = scans["penaxtra"]
    scan["target"] = "prod | eu"
    text = reports.markdown_summary([{"scan": scan, "findings": None, "gate": None}])
    assert "| Penaxtra | prod \\| eu | run\\_55e0 | completed | 1 | 1 | 1 | 1 | 0 | not evaluated |" in text
    assert "Top findings" not in text


# -- files --------------------------------------------------------------------------------------------------------------
def test_write_reports_creates_parents_and_returns_paths(results, schema, tmp_path):
    target = tmp_path / "out" / "nested"
    sarif, junit, markdown = str(target / "scan.sarif"), str(target / "junit.xml"), str(target / "summary.md")
    written = reports.write_reports(results, sarif_path=sarif, junit_path=junit, markdown_path=markdown)
    assert written == [sarif, junit, markdown]
    with open(sarif) as stream:
        validate(json.load(stream), schema)
    root = ET.parse(junit).getroot()
    assert root.get("failures") == parse_junit(results).get("failures")
    with open(markdown) as stream:
        assert stream.read() == reports.markdown_summary(results)
    assert sorted(os.listdir(str(target))) == ["junit.xml", "scan.sarif", "summary.md"]


def test_write_reports_only_what_is_asked(results, tmp_path):
    path = str(tmp_path / "only.md")
    assert reports.write_reports(results, markdown_path=path) == [path]
    assert os.listdir(str(tmp_path)) == ["only.md"]
    assert reports.write_reports(results) == []


def test_write_replaces_existing_file_and_leaves_no_temp_on_failure(results, tmp_path, monkeypatch):
    path = tmp_path / "report.md"
    path.write_text("old")
    reports.write_reports(results, markdown_path=str(path))
    assert path.read_text().startswith("# Scan results")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(reports.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        reports.write_reports(results, markdown_path=str(path))
    assert os.listdir(str(tmp_path)) == ["report.md"]
    assert path.read_text().startswith("# Scan results")


# Each provider's own severity words, through its adapter's normalizer, to the SARIF level and the
# rule's default level: one case per (provider, vendor word).
def _raw_finding(provider, word):
    if provider == "cloudgeni":
        return {"id": "f1", "checkId": "CKV_AWS_1", "title": "t", "severity": word, "status": "open",
                "resource": {"type": "aws_s3_bucket", "name": "b", "file": "main.tf", "line": 3}}
    if provider == "kolega":
        return {"id": "f1", "check_id": "rule-1", "title": "t", "severity": word, "status": "open", "file_path": "app.py", "line": 3}
    if provider == "agilesec":
        return {"_id": "f1", "_source": {"analysis": {"priority": word}, "observation": {"file": {"path": "a.pem"}},
                                         "crypto": {"key": {"algorithm": "RSA", "size": 1024}}}}
    if provider == "harborguard":
        return {"id": "f1", "cveId": "CVE-2024-0001", "severity": word, "package": "openssl", "version": "1", "triage": {"status": "OPEN"}}
    return {"id": "f1", "scan_id": "s1", "title": "t", "severity": word, "status": "open"}


SARIF_LEVEL_CASES = [
    ("cloudgeni", "critical", "error"), ("cloudgeni", "high", "error"), ("cloudgeni", "medium", "warning"),
    ("cloudgeni", "low", "note"), ("cloudgeni", "info", "note"),
    ("kolega", "critical", "error"), ("kolega", "high", "error"), ("kolega", "medium", "warning"), ("kolega", "low", "note"),
    ("kolega", "none", "note"),
    ("agilesec", "critical", "error"), ("agilesec", "high", "error"), ("agilesec", "medium", "warning"),
    ("agilesec", "low", "note"), ("agilesec", "informational", "note"),
    ("harborguard", "CRITICAL", "error"), ("harborguard", "HIGH", "error"), ("harborguard", "MEDIUM", "warning"),
    ("harborguard", "LOW", "note"), ("harborguard", "NEGLIGIBLE", "note"),
    ("penaxtra", "critical", "error"), ("penaxtra", "high", "error"), ("penaxtra", "medium", "warning"),
    ("penaxtra", "low", "note"), ("penaxtra", "info", "note"),
]


@pytest.mark.parametrize("provider,word,level", SARIF_LEVEL_CASES, ids=["%s-%s" % case[:2] for case in SARIF_LEVEL_CASES])
def test_sarif_level_per_provider_and_vendor_severity(make_adapter, scans, schema, provider, word, level):
    adapter, _recorder = make_adapter(provider, [])
    finding = adapter.normalize_finding(_raw_finding(provider, word))
    scan, dummy = scans[provider]
    document = reports.sarif_document([{"scan": scan, "findings": [finding], "gate": None}])
    validate(document, schema)
    run = document["runs"][0]
    assert [item["level"] for item in run["results"]] == [level]
    assert run["tool"]["driver"]["rules"][run["results"][0]["ruleIndex"]]["defaultConfiguration"]["level"] == level


def test_sarif_level_cases_cover_every_provider_and_severity():
    from ansible_collections.scanops.security.plugins.module_utils.vocabulary import SEVERITIES  # pylint: disable=import-outside-toplevel
    for provider in PROVIDERS:
        levels = [level for name, _word, level in SARIF_LEVEL_CASES if name == provider]
        assert len(levels) == len(SEVERITIES), provider
        assert levels == [reports.SARIF_LEVELS[severity] for severity in SEVERITIES], provider
