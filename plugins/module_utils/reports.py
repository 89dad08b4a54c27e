# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report files for scan results: SARIF 2.1.0, JUnit XML and a Markdown summary.

Every function takes ``results``: a list of ``{"scan": normalized scan, "gate": gate result
(``gate.evaluate_gate``) or None, "findings": [normalized findings] or None, "category": the
target's code scanning category (optional)}``.

``sarif_document``, ``junit_document`` and ``markdown_summary`` return the content (a dict, an
XML string and a Markdown string); ``write_reports`` writes the files atomically.

SARIF files meet GitHub code scanning's upload rules, not only the 2.1.0 schema: every result
has a ``ruleId`` (derived from the title when the vendor gives none) and a physical location
with a region (a stable pseudo-path when the finding is not in a file: ``image/<image
name>/<package>`` for an image package, ``cloud/<provider>/<resource>`` for a cloud resource,
``<root>/<provider>/<target>`` otherwise), a ``primaryLocationLineHash`` fingerprint; each run
has a category of its own (``automationDetails.id`` = ``<category>/<scan id>``, one category per
target), at most 25,000 results, and a file holds at most 20 runs (``write_reports`` writes the
rest to ``<name>-2.sarif``, ``<name>-3.sarif``...). Standard library only.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET

from urllib.parse import quote

from ansible_collections.scanops.security.plugins.module_utils._version import COLLECTION_VERSION
from ansible_collections.scanops.security.plugins.module_utils.gate import failing_findings
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import (
    SEVERITIES,
    empty_counts,
    severity_at_least,
    severity_rank,
)

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"

DISPLAY_NAMES = {
    "cloudgeni": "CloudGeni",
    "kolega": "Kolega DevSec",
    "agilesec": "Keyfactor AgileSec",
    "harborguard": "HarborGuard",
    "penaxtra": "Penaxtra",
}
SARIF_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# The numeric "security-severity" code scanning UIs read from rule properties.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}
MARKDOWN_TOP = 20
# GitHub code scanning's upload limits (runs per file, results per run) and the lengths it displays.
SARIF_MAX_RUNS = 20
SARIF_MAX_RESULTS = 25000
SARIF_MAX_TEXT = 1024
SARIF_MAX_NAME = 255
SARIF_MAX_TAGS = 10
# Where findings that are not in a file are placed, by provider: a stable pseudo-path root.
PSEUDO_ROOTS = {"cloudgeni": "cloud", "penaxtra": "cloud", "harborguard": "image", "kolega": "repository",
                "agilesec": "sensor"}

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_GHSA = re.compile(r"^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$", re.IGNORECASE)
_CWE = re.compile(r"\bCWE-\d+\b", re.IGNORECASE)
# Characters XML 1.0 cannot carry at all.
_XML_ILLEGAL = re.compile(u"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_URI_SAFE = "/:@-._~!$&'()*+,;="


# -- small helpers -----------------------------------------------------------------------------------
def display_name(provider):
    """``CloudGeni`` for ``cloudgeni``; unknown providers as given."""
    return DISPLAY_NAMES.get(provider, provider or "scanops")


def _text(value):
    return "" if value is None else str(value)


def _findings(result):
    return [f for f in (result.get("findings") or []) if isinstance(f, dict)]


def _scan(result):
    return result.get("scan") or {}


def _gate(result):
    return result.get("gate") if isinstance(result.get("gate"), dict) else None


def _suppressions(result):
    """``{(finding id, rule id): reason}`` for the findings the gate did not count."""
    gate = _gate(result)
    table = {}
    if gate:
        for item in gate.get("excluded") or []:
            table[(item.get("id"), item.get("rule_id"))] = "marked %s on %s" % (
                item.get("status"), display_name(_scan(result).get("provider")))
        for item in gate.get("ignored") or []:
            expiry = " (until %s)" % item["expires"] if item.get("expires") else ""
            table[(item.get("id"), item.get("rule_id"))] = "%s%s" % (item.get("reason"), expiry)
    return table


def _key(finding):
    return (finding.get("id"), finding.get("rule_id"))


def _cut(text, limit):
    text = _text(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def sarif_rule_id(finding):
    """The finding's rule id, or one made from its title when the vendor lists none (Penaxtra)."""
    if finding.get("rule_id") not in (None, ""):
        return str(finding["rule_id"])
    slug = re.sub(r"[^a-z0-9]+", "-", _text(finding.get("title")).lower()).strip("-")[:80]
    return "%s/%s" % (finding.get("provider") or "scanops", slug or "finding")


def _severity(finding):
    word = str(finding.get("severity") or "info").lower()
    return word if word in SARIF_LEVELS else "info"


def _location_text(finding):
    loc = finding.get("location") or {}
    if loc.get("file"):
        return "%s:%s" % (loc["file"], loc["line"]) if _line(loc.get("line")) else str(loc["file"])
    if loc.get("package"):
        return ("%s %s" % (loc["package"], loc.get("version") or "")).strip()
    if loc.get("resource"):
        return str(loc["resource"])
    # AgileSec: a finding without a file (a protocol seen on a host) is where its sensor looked.
    if loc.get("source") or loc.get("host"):
        return str(loc.get("source") or loc.get("host"))
    return ""


def _line(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and value >= 1 else None


def _sorted_findings(findings):
    return sorted(findings, key=lambda f: (-severity_rank(f.get("severity")), _text(f.get("rule_id")), _text(f.get("id"))))


def _threshold(gate):
    """The severity from which findings fail in JUnit: fail_on, else the lowest limited one."""
    policy = (gate or {}).get("policy") or {}
    if policy.get("fail_on"):
        return policy["fail_on"]
    limited = [sev for sev in SEVERITIES if sev in (policy.get("max_findings") or {})]
    return limited[-1] if limited else None


# -- SARIF -------------------------------------------------------------------------------------------
def _uri(path):
    path = str(path).replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return quote(path, safe=_URI_SAFE)


def _raw_text(finding, *names):
    raw = finding.get("raw")
    if not isinstance(raw, dict):
        return None
    source = raw.get("_source") if isinstance(raw.get("_source"), dict) else raw
    for name in names:
        value = source.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _help_uri(rule_id):
    if _CVE.match(rule_id):
        return "https://nvd.nist.gov/vuln/detail/%s" % rule_id.upper()
    if _GHSA.match(rule_id):
        return "https://github.com/advisories/%s" % rule_id
    return None


def _rule(rule_id, findings):
    severity = max((_severity(f) for f in findings), key=severity_rank)
    first = findings[0]
    title = _text(first.get("title")) or rule_id
    rule = {
        "id": rule_id,
        "name": _cut(rule_id, SARIF_MAX_NAME),
        "shortDescription": {"text": _cut(title, SARIF_MAX_TEXT)},
        "defaultConfiguration": {"level": SARIF_LEVELS.get(severity, "note")},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(severity, "0.0"),
            "severity": severity,
            "tags": ["security", first.get("provider") or "scanops"],
        },
    }
    description = _raw_text(first, "description", "summary", "message")
    # Code scanning requires a full description and help text for every rule.
    rule["fullDescription"] = {"text": _cut(description or title, SARIF_MAX_TEXT)}
    advice = _raw_text(first, "remediation", "recommendation", "fix", "help")
    help_uri = _help_uri(rule_id) or _raw_text(first, "helpUri", "help_url", "reference", "referenceUrl")
    rule["help"] = {"text": advice or description or title}
    if help_uri and re.match(r"^https?://", help_uri):
        rule["helpUri"] = help_uri
    cwes = sorted(set(m.upper() for m in _CWE.findall(json.dumps(first.get("raw"), default=str))))
    rule["properties"]["tags"] = (rule["properties"]["tags"] + cwes)[:SARIF_MAX_TAGS]
    return rule


def _image_name(scan):
    raw = scan.get("raw") if isinstance(scan.get("raw"), dict) else {}
    image = raw.get("image")
    if isinstance(image, dict) and image.get("name"):
        return str(image["name"])
    return _text(scan.get("target")) or "unknown"


def _artifact(finding, scan):
    """``(uri, line)`` of a finding: its file, or a stable pseudo-path when it is not in a file."""
    loc = finding.get("location") or {}
    if loc.get("file"):
        return _uri(loc["file"]), _line(loc.get("line")) or 1
    provider = finding.get("provider") or scan.get("provider") or "scanops"
    if loc.get("package"):
        path = "image/%s/%s" % (_image_name(scan), loc["package"])
    elif loc.get("resource"):
        path = "cloud/%s/%s" % (provider, loc["resource"])
    else:
        path = "%s/%s/%s" % (PSEUDO_ROOTS.get(provider, "target"), provider, _text(scan.get("target")) or _text(scan.get("id")))
    return _uri(path), 1


def _sarif_location(finding, scan):
    loc = finding.get("location") or {}
    uri, line = _artifact(finding, scan)
    # Code scanning needs a file and a region; the column is unknown, so the region is the line's start.
    location = {"physicalLocation": {"artifactLocation": {"uri": uri},
                                     "region": {"startLine": line, "startColumn": 1, "endLine": line, "endColumn": 1}}}
    logical = []
    if loc.get("package"):
        version = loc.get("version")
        name = "%s@%s" % (loc["package"], version) if version else str(loc["package"])
        logical.append({"name": str(loc["package"]), "fullyQualifiedName": name, "kind": "module"})
    if loc.get("resource"):
        logical.append({"name": str(loc["resource"]), "fullyQualifiedName": str(loc["resource"]), "kind": "resource"})
    if loc.get("source"):
        logical.append({"name": str(loc["source"]), "fullyQualifiedName": str(loc["source"]), "kind": "resource"})
    if logical:
        location["logicalLocations"] = logical
    return [location]


def _line_hash(rule_id, location, seen):
    """``<16 hex>:<n>``: the same rule at the same place hashes alike in every scan; n counts repeats within a run."""
    physical = location["physicalLocation"]
    where = "%s\0%s\0%s" % (rule_id, physical["artifactLocation"]["uri"], physical["region"]["startLine"])
    digest = hashlib.sha256(where.encode("utf-8")).hexdigest()[:16]
    seen[digest] = seen.get(digest, 0) + 1
    return "%s:%d" % (digest, seen[digest])


def _sarif_result(finding, scan, rule_index, suppressed, seen):
    severity = _severity(finding)
    title = _text(finding.get("title")) or _text(finding.get("rule_id")) or "finding"
    where = _location_text(finding)
    loc = finding.get("location") or {}
    text = _cut("%s (%s)" % (title, where) if where and not loc.get("file") else title, SARIF_MAX_TEXT)
    if loc.get("fixed_version"):
        text += "; fixed in %s" % loc["fixed_version"]
    item = {
        "message": {"text": text},
        "level": SARIF_LEVELS.get(severity, "note"),
        "properties": {
            "severity": severity,
            "status": finding.get("status"),
            "vendor_status": finding.get("vendor_status"),
            "provider": finding.get("provider"),
            "finding_id": finding.get("id"),
        },
    }
    if finding.get("first_seen"):
        item["properties"]["first_seen"] = finding["first_seen"]
    rule_id = sarif_rule_id(finding)
    item["ruleId"] = rule_id
    item["ruleIndex"] = rule_index[rule_id]
    item["locations"] = _sarif_location(finding, scan)
    item["partialFingerprints"] = {"primaryLocationLineHash": _line_hash(rule_id, item["locations"][0], seen)}
    if finding.get("id") is not None:
        item["partialFingerprints"]["scanopsFindingId/v1"] = "%s/%s" % (finding.get("provider"), finding["id"])
    reason = suppressed.get(_key(finding))
    if reason is not None:
        item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": reason}]
    return item


def sarif_category(result):
    """The code scanning category of a result's run: its ``category``, else ``scanops/<provider>/<target>``."""
    if result.get("category"):
        return str(result["category"]).rstrip("/")
    scan = _scan(result)
    return "scanops/%s/%s" % (scan.get("provider") or "scanops", _text(scan.get("target")) or _text(scan.get("id")) or "scan")


def _sarif_run(result, category):
    scan = _scan(result)
    gate = _gate(result)
    ordered = _sorted_findings(_findings(result))
    findings = ordered[:SARIF_MAX_RESULTS]
    provider = scan.get("provider")
    by_rule = {}
    for finding in findings:
        by_rule.setdefault(sarif_rule_id(finding), []).append(finding)
    rule_ids = sorted(by_rule)
    rule_index = dict((rule_id, i) for i, rule_id in enumerate(rule_ids))
    suppressed = _suppressions(result)
    driver = {
        "name": display_name(provider),
        "organization": "scanops.security",
        "semanticVersion": COLLECTION_VERSION,
        "rules": [_rule(rule_id, by_rule[rule_id]) for rule_id in rule_ids],
        "properties": {"provider": provider},
    }
    summary_keys = ("provider", "id", "target", "status", "vendor_status", "created_at", "started_at", "completed_at",
                    "duration_seconds", "counts", "url")
    summary = dict((k, scan.get(k)) for k in summary_keys)
    properties = {"scan": summary, "findings_included": result.get("findings") is not None}
    if len(ordered) > len(findings):
        properties["results_left_out"] = len(ordered) - len(findings)
    invocation = {"executionSuccessful": bool(gate["passed"]) if gate else scan.get("status") == "completed"}
    if gate:
        gate_keys = ("passed", "reasons", "counts", "ignored", "expired_ignores", "checks", "policy")
        properties["gate"] = dict((k, gate.get(k)) for k in gate_keys if k in gate)
        invocation["toolExecutionNotifications"] = [
            {"message": {"text": reason}, "level": "error", "descriptor": {"id": "scanops-gate"}}
            for reason in gate.get("reasons") or []]
    if scan.get("started_at") or scan.get("created_at"):
        invocation["startTimeUtc"] = scan.get("started_at") or scan.get("created_at")
    if scan.get("completed_at"):
        invocation["endTimeUtc"] = scan["completed_at"]
    seen = {}
    run_id = re.sub(r"[/\s]+", "-", _text(scan.get("id")) or "scan")
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": [_sarif_result(f, scan, rule_index, suppressed, seen) for f in findings],
        "properties": properties,
        # Category (up to the last slash) per target, so alerts of a target are tracked across uploads; then the scan.
        "automationDetails": {"id": "%s/%s" % (category, run_id)},
    }
    if scan.get("url") and re.match(r"^https?://", str(scan["url"])):
        run["automationDetails"]["properties"] = {"url": scan["url"]}
    return run


def _sarif_runs(results):
    """One run per result; a category repeated for one tool gets a suffix, since code scanning takes each once per upload."""
    runs, taken = [], set()
    for result in results:
        tool = display_name(_scan(result).get("provider"))
        category, number = sarif_category(result), 1
        while (tool, category if number == 1 else "%s-%d" % (category, number)) in taken:
            number += 1
        category = category if number == 1 else "%s-%d" % (category, number)
        taken.add((tool, category))
        runs.append(_sarif_run(result, category))
    return runs


def sarif_document(results):
    """A SARIF 2.1.0 log (dict): one run per scan, the gate in each run's properties and invocation."""
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": _sarif_runs(results)}


def sarif_documents(results):
    """SARIF logs of at most ``SARIF_MAX_RUNS`` runs each (code scanning's limit per file), categories unique across all."""
    runs = _sarif_runs(results)
    chunks = [runs[start:start + SARIF_MAX_RUNS] for start in range(0, len(runs), SARIF_MAX_RUNS)] or [[]]
    return [{"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": chunk} for chunk in chunks]


# -- JUnit -------------------------------------------------------------------------------------------
def _xml(value):
    return _XML_ILLEGAL.sub("?", _text(value))


def _testcase(parent, classname, name, failure=None, skipped=None, details=None):
    case = ET.SubElement(parent, "testcase", {"classname": _xml(classname), "name": _xml(name), "time": "0"})
    if failure is not None:
        element = ET.SubElement(case, "failure", {"message": _xml(failure[0]), "type": _xml(failure[1])})
        element.text = _xml(details or failure[0])
    elif skipped is not None:
        ET.SubElement(case, "skipped", {"message": _xml(skipped)})
    return case


def _finding_details(finding):
    loc = finding.get("location") or {}
    lines = ["rule: %s" % _text(finding.get("rule_id")), "severity: %s" % _text(finding.get("severity")),
             "status: %s" % _text(finding.get("status")), "finding id: %s" % _text(finding.get("id"))]
    for key in ("file", "line", "package", "version", "fixed_version", "resource", "source", "host"):
        if loc.get(key) not in (None, ""):
            lines.append("%s: %s" % (key.replace("_", " "), loc[key]))
    return "\n".join(lines)


def _junit_suite(parent, result):
    scan = _scan(result)
    gate = _gate(result)
    provider = _text(scan.get("provider")) or "scanops"
    name = "%s %s (scan %s)" % (display_name(scan.get("provider")), _text(scan.get("target")), _text(scan.get("id")))
    suite = ET.SubElement(parent, "testsuite", {"name": _xml(name)})
    props = ET.SubElement(suite, "properties")
    for key in ("provider", "id", "target", "status", "url"):
        if scan.get(key) is not None:
            ET.SubElement(props, "property", {"name": "scan.%s" % key, "value": _xml(scan[key])})
    if gate:
        ET.SubElement(props, "property", {"name": "gate.passed", "value": "true" if gate.get("passed") else "false"})
        ET.SubElement(props, "property", {"name": "gate.counts_source", "value": _xml(gate.get("counts_source"))})
        for severity in SEVERITIES:
            ET.SubElement(props, "property", {"name": "gate.counts.%s" % severity,
                                              "value": str((gate.get("counts") or {}).get(severity, 0))})
        for check in gate.get("checks") or []:
            failure = None if check.get("passed") else (check.get("detail"), "gate")
            _testcase(suite, "scanops.%s.gate" % provider, "gate: %s" % check.get("name"), failure=failure,
                      details=check.get("detail"))
    else:
        status = scan.get("status")
        failure = None if status == "completed" else ("scan %s is %s" % (_text(scan.get("id")), status), "scan")
        _testcase(suite, "scanops.%s.gate" % provider, "scan status", failure=failure)
    threshold = _threshold(gate)
    suppressed = _suppressions(result)
    findings = _findings(result)
    # The findings that broke the gate fail, exactly; others the policy looks at are listed, passed or skipped.
    failing = set(id(f) for f in failing_findings(gate, findings))
    for finding in _sorted_findings(findings) if gate else []:
        severity = _severity(finding)
        if id(finding) not in failing and (threshold is None or not severity_at_least(severity, threshold)):
            continue
        title = _text(finding.get("title")) or _text(finding.get("rule_id"))
        where = _location_text(finding)
        case_name = "%s %s: %s%s" % (severity, _text(finding.get("rule_id")), title, " @ %s" % where if where else "")
        classname = "scanops.%s.findings" % provider
        if _key(finding) in suppressed:
            _testcase(suite, classname, case_name, skipped="not counted: %s" % suppressed[_key(finding)])
        elif id(finding) in failing:
            message = "%s finding %s: %s" % (severity, _text(finding.get("rule_id")), title)
            _testcase(suite, classname, case_name, failure=(message, severity), details=_finding_details(finding))
        else:
            _testcase(suite, classname, case_name)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", "%.3f" % float(scan.get("duration_seconds") or 0))
    if scan.get("completed_at") or scan.get("created_at"):
        suite.set("timestamp", _xml(scan.get("completed_at") or scan.get("created_at")))
    return suite


def junit_document(results):
    """JUnit XML text: a testsuite per scan, a testcase per gate check and per finding the policy looks at.

    Exactly the findings that broke the gate fail (``gate.failing_findings``: counted findings of a
    severity a failed check counts), so the failures match the gate's counts. Other findings from
    the gate's ``fail_on`` severity up (else from the lowest severity ``max_findings`` limits) are
    listed as passed, those the gate did not count (ignored, vendor-triaged) as skipped.
    """
    root = ET.Element("testsuites", {"name": "scanops.security"})
    suites = [_junit_suite(root, r) for r in results]
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute)) for s in suites)))
    root.set("time", "%.3f" % sum(float(s.get("time")) for s in suites))
    _indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _indent(element, level=0):
    pad = "\n" + "  " * level
    if len(element):
        if not (element.text or "").strip():
            element.text = pad + "  "
        for child in element:
            _indent(child, level + 1)
            if not (child.tail or "").strip():
                child.tail = pad + "  "
        if not (element[-1].tail or "").strip():
            element[-1].tail = pad


# -- Markdown ----------------------------------------------------------------------------------------
def _md(value):
    text = _text(value).replace("\r", " ").replace("\n", " ")
    return re.sub(r"([\\`*_|<>\[\]])", r"\\\1", text)


def _gate_word(gate):
    if not gate:
        return "not evaluated"
    return "passed" if gate.get("passed") else "**failed**"


def markdown_summary(results, top=MARKDOWN_TOP):
    """Markdown: a table of the scans and their gates, the gate reasons, the ``top`` worst findings.

    The table's counts are the gate's counted findings when a gate was evaluated (ignored and
    vendor-triaged findings left out), else the scan's own counts.
    """
    lines = ["# Scan results", "",
             "| Provider | Target | Scan | Status | Critical | High | Medium | Low | Info | Gate |",
             "|---|---|---|---|--:|--:|--:|--:|--:|---|"]
    for result in results:
        scan = _scan(result)
        gate = _gate(result)
        counts = empty_counts()
        counts.update(dict((k, v) for k, v in ((gate or {}).get("counts") or scan.get("counts") or {}).items() if k in counts))
        scan_id = _md(scan.get("id"))
        if scan.get("url") and re.match(r"^https?://", str(scan["url"])):
            scan_id = "[%s](%s)" % (scan_id, str(scan["url"]).replace(")", "%29").replace(" ", "%20"))
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            _md(display_name(scan.get("provider"))), _md(scan.get("target")), scan_id, _md(scan.get("status")),
            " | ".join(str(counts[sev]) for sev in SEVERITIES), _gate_word(gate)))
    for result in results:
        scan = _scan(result)
        gate = _gate(result)
        findings = _findings(result)
        heading = "## %s %s (scan %s)" % (_md(display_name(scan.get("provider"))), _md(scan.get("target")), _md(scan.get("id")))
        lines.extend(["", heading, ""])
        if gate:
            lines.append("Gate: %s" % _gate_word(gate))
            lines.extend("- %s" % _md(reason) for reason in gate.get("reasons") or [])
            if gate.get("ignored"):
                lines.extend(["", "Ignored (%d):" % len(gate["ignored"]), ""])
                lines.extend("- %s %s: %s%s" % (_md(i.get("rule_id")), _md(i.get("id")), _md(i.get("reason")),
                                                " (until %s)" % i["expires"] if i.get("expires") else "")
                             for i in gate["ignored"])
            if gate.get("expired_ignores"):
                lines.extend(["", "Expired ignore entries (counted again):", ""])
                lines.extend("- %s (expired %s): %s" % (_md(e.get("id")), _md(e.get("expires")), _md(e.get("reason")))
                             for e in gate["expired_ignores"])
        else:
            lines.append("Gate: not evaluated")
        if result.get("findings") is None:
            continue
        suppressed = _suppressions(result)
        counted = [f for f in _sorted_findings(findings) if _key(f) not in suppressed]
        shown = counted[:max(0, int(top))]
        lines.extend(["", "Top findings (%d of %d counted):" % (len(shown), len(counted)), ""])
        if shown:
            lines.extend(["| Severity | Rule | Title | Location |", "|---|---|---|---|"])
            lines.extend("| %s | %s | %s | %s |" % (_md(f.get("severity")), _md(f.get("rule_id")), _md(f.get("title")),
                                                    _md(_location_text(f))) for f in shown)
        else:
            lines.append("None.")
    return "\n".join(lines) + "\n"


# -- files -------------------------------------------------------------------------------------------
def _umask():
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_atomic(path, content):
    """Write ``content`` (text) to ``path`` through a temporary file and a rename; parents are created."""
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return path


def write_reports(results, sarif_path=None, junit_path=None, markdown_path=None, markdown_top=MARKDOWN_TOP):
    """Write the requested reports; returns the absolute paths written, in SARIF, JUnit, Markdown order.

    More than ``SARIF_MAX_RUNS`` scans go to several SARIF files: ``sarif_path``, then
    ``<name>-2<ext>``, ``<name>-3<ext>``...
    """
    results = list(results or [])
    written = []
    if sarif_path:
        root, extension = os.path.splitext(sarif_path)
        for number, document in enumerate(sarif_documents(results), 1):
            path = sarif_path if number == 1 else "%s-%d%s" % (root, number, extension)
            written.append(write_atomic(path, json.dumps(document, indent=2, sort_keys=False, default=str) + "\n"))
    if junit_path:
        written.append(write_atomic(junit_path, junit_document(results)))
    if markdown_path:
        written.append(write_atomic(markdown_path, markdown_summary(results, top=markdown_top)))
    return written
