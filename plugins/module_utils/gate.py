# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan gate: decide whether a finished scan is acceptable under a policy.

Pure functions, no I/O. ``validate_policy`` checks a policy before any request is sent;
``evaluate_gate`` judges a normalized scan (and its normalized findings) against it.

Policy keys (all optional):

``fail_on``
    a severity; the gate fails when any counted finding is at or above it.
``max_findings``
    ``{severity: maximum count}``, e.g. ``{critical: 0, high: 3}``.
``max_risk_score``
    highest acceptable HarborGuard ``riskScore`` (read from ``scan.raw``).
``min_compliance_grade``
    worst acceptable HarborGuard ``compliance`` letter grade (A best ... F worst).
``ignore``
    ``[{id, reason, expires}]``: findings whose rule id (check, CVE, rule) or finding id equals
    ``id`` (case-insensitive) are not counted until ``expires`` (``YYYY-MM-DD``, the last day
    the entry holds, judged in UTC). Expired entries count again and are listed in
    ``expired_ignores``. An id may appear once.

Findings the vendor itself marks resolved, false positive or ignored (each vendor's words for
them are mapped to those) are not counted either; they are listed under ``excluded``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import re

from ansible_collections.scanops.security.plugins.module_utils.vocabulary import (
    CANCELLED,
    COMPLETED,
    FAILED,
    SEVERITIES,
    empty_counts,
    severity_at_least,
    severity_rank,
)

POLICY_KEYS = ("fail_on", "max_findings", "max_risk_score", "min_compliance_grade", "ignore")
IGNORE_KEYS = ("id", "reason", "expires")
# Letter grades from best to worst; HarborGuard documents A..F.
GRADES = ("A", "B", "C", "D", "E", "F")
# Normalized finding statuses that mean the vendor no longer considers the finding live.
UNCOUNTED_STATUSES = ("resolved", "false_positive", "ignored")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def policy_spec():
    """The gate options of scan_run and the scan lookup (documented in the ``scanops.security.gate`` fragment)."""
    return dict(
        fail_on=dict(type="str", choices=["critical", "high", "medium", "low", "info"]),
        max_findings=dict(type="dict"),
        max_risk_score=dict(type="float"),
        min_compliance_grade=dict(type="str", choices=list(GRADES)),
        ignore=dict(type="list", elements="dict", options=dict(
            id=dict(type="str", required=True),
            reason=dict(type="str", required=True),
            expires=dict(type="str"),
        )),
    )


def _plural(number, word):
    return "%d %s%s" % (number, word, "" if number == 1 else "s")


def _severity(value, key):
    word = str(value).strip().lower() if isinstance(value, str) else None
    if word not in SEVERITIES:
        raise ValueError("policy.%s: unknown severity %r; use one of %s" % (key, value, ", ".join(SEVERITIES)))
    return word


def _count(value, key):
    if isinstance(value, bool):
        raise ValueError("policy.%s: expected a whole number, got %r" % (key, value))
    if isinstance(value, str) and re.match(r"^\s*-?\d+\s*$", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("policy.%s: expected a whole number, got %r" % (key, value))
    if value < 0:
        raise ValueError("policy.%s: must not be negative (got %d)" % (key, value))
    return value


def _number(value, key):
    if isinstance(value, bool):
        raise ValueError("policy.%s: expected a number, got %r" % (key, value))
    if isinstance(value, str):
        try:
            value = float(value) if "." in value else int(value)
        except ValueError:
            raise ValueError("policy.%s: expected a number, got %r" % (key, value))
    if not isinstance(value, (int, float)):
        raise ValueError("policy.%s: expected a number, got %r" % (key, value))
    if value < 0:
        raise ValueError("policy.%s: must not be negative (got %s)" % (key, value))
    return value


def _grade(value, key):
    word = value.strip().upper() if isinstance(value, str) else None
    if word not in GRADES:
        raise ValueError("policy.%s: unknown grade %r; use a letter from A (best) to F (worst)" % (key, value))
    return word


def parse_date(value, key):
    """``YYYY-MM-DD`` text or a ``datetime.date`` as a date; ValueError naming ``key`` otherwise."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return datetime.datetime.strptime(value.strip(), "%Y-%m-%d").date()
        except ValueError:
            pass
    raise ValueError("policy.%s: expected a date as YYYY-MM-DD, got %r" % (key, value))


def _ignore_entries(entries):
    if not isinstance(entries, (list, tuple)):
        raise ValueError("policy.ignore: expected a list of {id, reason, expires} entries, got %r" % (entries,))
    normalized = []
    seen = {}
    for index, entry in enumerate(entries):
        key = "ignore[%d]" % index
        if not isinstance(entry, dict):
            raise ValueError("policy.%s: expected {id, reason, expires}, got %r" % (key, entry))
        unknown = sorted(str(k) for k in entry if k not in IGNORE_KEYS)
        if unknown:
            raise ValueError("policy.%s: unknown key(s) %s; an entry has id, reason and expires"
                             % (key, ", ".join(unknown)))
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not entry_id.strip():
            raise ValueError("policy.%s: 'id' is required (a rule id, CVE id or finding id)" % key)
        entry_id = entry_id.strip()
        key = "ignore[%d] (%s)" % (index, entry_id)
        if entry_id.casefold() in seen:
            # Two entries for one id would leave it unclear which reason and expiry apply.
            raise ValueError("policy.%s: the id is already listed as ignore[%d]; list each id once"
                             % (key, seen[entry_id.casefold()]))
        seen[entry_id.casefold()] = index
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("policy.%s: 'reason' is required; say why the finding may be ignored" % key)
        expires = entry.get("expires")
        if expires is not None and expires != "":
            expires = parse_date(expires, key + ".expires").isoformat()
        else:
            expires = None
        normalized.append({"id": entry_id, "reason": reason.strip(), "expires": expires})
    return normalized


def validate_policy(policy):
    """Check a gate policy and return its normalized form.

    The normalized policy has every key of ``POLICY_KEYS``: severities lower-case, counts as
    ints, the grade upper-case, ignore entries as ``{id, reason, expires}`` with ``expires`` an
    ISO date string or None. Unset keys are None (``ignore``: an empty list).

    Raises:
        ValueError: naming the offending key (``policy.<key>``).
    """
    if policy is None:
        policy = {}
    if not isinstance(policy, dict):
        raise ValueError("policy: expected a dictionary, got %r" % (policy,))
    unknown = sorted(str(k) for k in policy if k not in POLICY_KEYS)
    if unknown:
        raise ValueError("policy: unknown key(s) %s; use %s" % (", ".join(unknown), ", ".join(POLICY_KEYS)))
    result = {"fail_on": None, "max_findings": None, "max_risk_score": None, "min_compliance_grade": None, "ignore": []}
    if policy.get("fail_on") is not None:
        result["fail_on"] = _severity(policy["fail_on"], "fail_on")
    limits = policy.get("max_findings")
    if limits is not None:
        if not isinstance(limits, dict):
            raise ValueError("policy.max_findings: expected {severity: count}, got %r" % (limits,))
        checked = {}
        for sev, value in limits.items():
            name = _severity(sev, "max_findings.%s" % sev)
            if value is None:
                continue
            if name in checked:
                raise ValueError("policy.max_findings.%s: %s is given twice" % (sev, name))
            checked[name] = _count(value, "max_findings.%s" % sev)
        result["max_findings"] = dict((sev, checked[sev]) for sev in SEVERITIES if sev in checked)
    if policy.get("max_risk_score") is not None:
        result["max_risk_score"] = _number(policy["max_risk_score"], "max_risk_score")
    if policy.get("min_compliance_grade") is not None:
        result["min_compliance_grade"] = _grade(policy["min_compliance_grade"], "min_compliance_grade")
    if policy.get("ignore") is not None:
        result["ignore"] = _ignore_entries(policy["ignore"])
    return result


def _today(today):
    if today is None:
        return datetime.datetime.now(datetime.timezone.utc).date()
    return parse_date(today, "today")


def _index(entries):
    """Entries by case-folded id; the first entry with an id wins."""
    table = {}
    for entry in entries:
        table.setdefault(entry["id"].casefold(), entry)
    return table


def _lookup(table, finding):
    """The entry matching the finding's rule id, else its finding id, or None."""
    for value in (finding.get("rule_id"), finding.get("id")):
        if value is not None and str(value).casefold() in table:
            return table[str(value).casefold()]
    return None


def _check(name, passed, detail):
    return {"name": name, "passed": passed, "detail": detail}


def _status_check(scan):
    status = scan.get("status")
    vendor = scan.get("vendor_status")
    label = "scan %s" % scan.get("id") if scan.get("id") is not None else "the scan"
    said = " (%s says %s)" % (scan.get("provider") or "the vendor", vendor) if vendor and str(vendor).lower() != status else ""
    if status == COMPLETED:
        return _check("scan status", True, "%s completed" % label)
    if status == FAILED:
        return _check("scan status", False, "%s failed%s" % (label, said))
    if status == CANCELLED:
        return _check("scan status", False, "%s was cancelled%s" % (label, said))
    return _check("scan status", False, "%s has not finished (status %s%s); the gate needs a completed scan"
                  % (label, status, said))


def _breakdown(counts, severities):
    return ", ".join("%d %s" % (counts[sev], sev) for sev in severities if counts.get(sev))


def _raw_value(scan, *names):
    raw = scan.get("raw")
    if not isinstance(raw, dict):
        return None
    for name in names:
        if raw.get(name) is not None:
            return raw[name]
    return None


def _risk_check(scan, limit):
    name = "risk score"
    score = _raw_value(scan, "riskScore", "risk_score")
    if isinstance(score, str):
        try:
            score = float(score)
        except ValueError:
            score = None
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        return _check(name, False, "max_risk_score is set but the %s scan reports no risk score" % (scan.get("provider") or ""))
    if score > limit:
        return _check(name, False, "risk score %s (at most %s allowed)" % (score, limit))
    return _check(name, True, "risk score %s (at most %s allowed)" % (score, limit))


def _grade_check(scan, minimum):
    name = "compliance grade"
    grade = _raw_value(scan, "compliance", "complianceGrade")
    word = grade.strip().upper() if isinstance(grade, str) else None
    if word not in GRADES:
        if grade is None:
            return _check(name, False, "min_compliance_grade is set but the %s scan reports no compliance grade"
                          % (scan.get("provider") or ""))
        return _check(name, False, "compliance grade %r is not a letter grade A to F" % (grade,))
    if GRADES.index(word) > GRADES.index(minimum):
        return _check(name, False, "compliance grade %s (%s or better required)" % (word, minimum))
    return _check(name, True, "compliance grade %s (%s or better required)" % (word, minimum))


def evaluate_gate(scan, findings, policy, today=None, counts_source=None):
    """Judge a normalized scan against a policy.

    Args:
        scan: a normalized scan (``normalize_scan``).
        findings: its normalized findings, or None to use ``scan["counts"]``.
        policy: a policy dict (see the module docstring); validated here too.
        today: ``datetime.date`` or ``YYYY-MM-DD`` for deciding which ignores expired
            (default: today in UTC).
        counts_source: how the counts were obtained, copied to the result: ``findings`` (every
            finding of the scan with its vendor status), ``summary`` (the vendor's totals) or
            ``none`` (nothing to count); by default ``findings`` or ``summary`` by ``findings``.

    Returns:
        ``{passed, reasons, counts, counts_source, ignored, expired_ignores, excluded,
        unmatched_ignores, checks, message, policy}``. ``counts`` are the counted findings per
        severity; ``reasons`` lists what broke the gate (empty when it passed); ``checks`` is one
        ``{name, passed, detail}`` per check that ran (scan status first).

    Raises:
        ValueError: bad policy (naming the key), or an ignore list without the findings of a
            completed scan (a scan that did not complete fails on its status alone).
    """
    policy = validate_policy(policy)
    if not isinstance(scan, dict):
        raise ValueError("scan: expected a normalized scan dictionary, got %r" % (scan,))
    if findings is None and policy["ignore"] and scan.get("status") == COMPLETED:
        raise ValueError("policy.ignore needs the scan's findings; fetch them before evaluating the gate")
    if counts_source is None:
        counts_source = "findings" if findings is not None else "summary"
    day = _today(today)

    active, expired = [], []
    for entry in policy["ignore"]:
        if entry["expires"] is not None and parse_date(entry["expires"], "ignore.expires") < day:
            expired.append(dict(entry, matched=0))
        else:
            active.append(dict(entry, matched=0))

    active_ids, expired_ids = _index(active), _index(expired)
    counts = empty_counts()
    ignored, excluded = [], []
    if findings is None:
        for sev in SEVERITIES:
            value = (scan.get("counts") or {}).get(sev)
            counts[sev] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    else:
        for finding in findings:
            hit = _lookup(active_ids, finding)
            lapsed = _lookup(expired_ids, finding) if hit is None else None
            if lapsed is not None:
                lapsed["matched"] += 1
            if hit is not None:
                hit["matched"] += 1
                ignored.append({"id": finding.get("id"), "rule_id": finding.get("rule_id"),
                                "severity": finding.get("severity"), "reason": hit["reason"], "expires": hit["expires"]})
                continue
            if finding.get("status") in UNCOUNTED_STATUSES:
                excluded.append({"id": finding.get("id"), "rule_id": finding.get("rule_id"),
                                 "severity": finding.get("severity"), "status": finding.get("status")})
                continue
            sev = str(finding.get("severity") or "info").lower()
            counts[sev if sev in counts else "info"] += 1

    checks = [_status_check(scan)]
    if policy["fail_on"]:
        at_or_above = [sev for sev in SEVERITIES if severity_at_least(sev, policy["fail_on"])]
        total = sum(counts[sev] for sev in at_or_above)
        name = "fail_on %s" % policy["fail_on"]
        if total:
            checks.append(_check(name, False, "findings at or above %s: %s" % (policy["fail_on"], _breakdown(counts, at_or_above))))
        else:
            checks.append(_check(name, True, "no findings at or above %s" % policy["fail_on"]))
    for sev, limit in (policy["max_findings"] or {}).items():
        detail = "%d %s %s (at most %d allowed)" % (counts[sev], sev, "finding" if counts[sev] == 1 else "findings", limit)
        checks.append(_check("max_findings %s" % sev, counts[sev] <= limit, detail))
    if policy["max_risk_score"] is not None:
        checks.append(_risk_check(scan, policy["max_risk_score"]))
    if policy["min_compliance_grade"] is not None:
        checks.append(_grade_check(scan, policy["min_compliance_grade"]))

    reasons = [check["detail"] for check in checks if not check["passed"]]
    passed = not reasons
    if not passed:
        # Say why findings the user meant to ignore were counted.
        reasons.extend("ignore entry %s expired on %s; its %s counted again"
                       % (e["id"], e["expires"], _plural(e["matched"], "finding")) for e in expired if e["matched"])
    subject = "%s scan %s" % (scan.get("provider") or "", scan.get("id"))
    message = "gate passed for %s" % subject.strip() if passed else "gate failed for %s: %s" % (subject.strip(), "; ".join(reasons))
    return {
        "passed": passed,
        "reasons": reasons,
        "counts": counts,
        "counts_source": counts_source,
        "ignored": ignored,
        "expired_ignores": [{"id": e["id"], "reason": e["reason"], "expires": e["expires"], "matched": e["matched"]}
                            for e in expired],
        "unmatched_ignores": [e["id"] for e in active if not e["matched"]] if findings is not None else [],
        "excluded": excluded,
        "checks": checks,
        "message": message,
        "policy": policy,
    }


# -- which findings to show ------------------------------------------------------------------------------
def worst_first(findings):
    """Findings by severity, worst first; the vendor's order is kept within a severity."""
    return sorted(findings, key=lambda finding: -severity_rank(finding.get("severity")))


def _counted_severity(finding):
    word = str(finding.get("severity") or "info").lower()
    return word if word in SEVERITIES else "info"


def failing_findings(gate, findings):
    """The findings that broke the gate: counted findings of a severity a failed check counts.

    ``fail_on`` breaks with every counted severity at or above it, a ``max_findings`` limit with
    the severity it limits. Ignored and vendor-triaged findings never fail. Empty when the gate
    passed or was not evaluated.
    """
    if not isinstance(gate, dict) or gate.get("passed") or not findings:
        return []
    policy = gate.get("policy") or {}
    counts = gate.get("counts") or {}
    broken = set()
    fail_on = policy.get("fail_on")
    if fail_on:
        at_or_above = [sev for sev in SEVERITIES if severity_at_least(sev, fail_on)]
        broken.update(sev for sev in at_or_above if counts.get(sev))
    for sev, limit in (policy.get("max_findings") or {}).items():
        if counts.get(sev, 0) > limit:
            broken.add(sev)
    uncounted = set((item.get("id"), item.get("rule_id")) for item in (gate.get("ignored") or []) + (gate.get("excluded") or []))
    return [f for f in findings if _counted_severity(f) in broken and (f.get("id"), f.get("rule_id")) not in uncounted]


def bounded_findings(findings, gate, limit):
    """``(shown, cut)``: at most ``limit`` findings, worst first, plus every finding that broke the gate.

    The findings a report or a result shows must include those that failed the gate, however many
    there are; ``cut`` is True when some findings were left out.
    """
    ordered = worst_first(findings)
    if len(ordered) <= limit:
        return ordered, False
    failing = set(id(finding) for finding in failing_findings(gate, ordered))
    shown = [finding for index, finding in enumerate(ordered) if index < limit or id(finding) in failing]
    return shown, len(shown) < len(ordered)
