# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions as code for the ``findings_triage`` role: check the entries, then resolve overlaps.

Runs on the controller, behind the ``triage_exceptions`` and ``triage_plan`` filters:

1. ``check_exceptions`` validates every entry before any request (platform, reason, owner, a
   selector, the expiry date, and a status the provider knows that is not a no-op) and answers
   one normalized entry per exception: its state on the day judged, its scope, the status in
   the collection's words, and the note and assignee HarborGuard gets.
2. The role reads what each exception selects (``finding_info``), then ``plan_exceptions``
   decides which findings each exception writes, so that overlapping exceptions converge:
   an active exception wins over an expired one (the expired one leaves those findings alone),
   two active ones that want the same finding in different states are an error naming both, and
   a finding that several agreeing active ones select is written by the first only.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError, VocabularyError
from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class

PROVIDERS = ("cloudgeni", "kolega", "harborguard", "penaxtra")
SELECTORS = ("rule_id", "cve", "path", "package", "severity", "ids")
LIST_SELECTORS = ("rule_id", "cve", "package", "severity", "ids")
SCOPE_KEYS = ("repository", "scan_id", "image")
ACTIVE = "active"
EXPIRED = "expired"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# HarborGuard triage carries a note and an assignee besides the status.
ANNOTATED_PROVIDERS = ("harborguard",)


class TriageError(ScanopsError):
    """Exceptions that can't be applied as written; the message names each one and why."""


def _text(value):
    return "" if value is None else str(value).strip()


def _label(index, entry):
    name = entry.get("id") if isinstance(entry, dict) else None
    return "exception %d (%s)" % (index + 1, _text(name) or "no id")


def _join(words):
    return words[0] if len(words) == 1 else "%s and %s" % (", ".join(words[:-1]), words[-1])


def check_exceptions(entries, today, default_status="ignored", annotate=True, scopes=None):
    """Normalized exceptions; TriageError listing every entry at fault (nothing has been sent).

    A status is accepted in the collection's words or the provider's own (any case), as
    ``finding_status`` takes it; one that means ``open`` would change nothing and is refused.
    """
    if not _DATE.match(_text(today)):
        raise TriageError("findings_triage_today: %r is not a date written YYYY-MM-DD" % (today,))
    problems = []
    checked = []
    for index, entry in enumerate(entries or []):
        label = _label(index, entry)
        if not isinstance(entry, dict):
            problems.append("%s must be a mapping, got %s" % (label, type(entry).__name__))
            continue
        needs = []
        provider = _text(entry.get("provider"))
        if provider not in PROVIDERS:
            needs.append("a provider (cloudgeni, kolega, harborguard or penaxtra)")
        for key in ("reason", "owner"):
            if not _text(entry.get(key)):
                needs.append("a reason" if key == "reason" else "an owner")
        selectors = dict((key, entry[key]) for key in SELECTORS if entry.get(key) not in (None, "", []))
        if not selectors:
            needs.append("at least one of rule_id, cve, path, package, severity or ids")
        expires = _text(entry.get("expires")) or None
        if expires is not None and not _DATE.match(expires):
            needs.append("an expires date written YYYY-MM-DD (got %r)" % expires)
        word = _text(entry.get("status")) or _text(default_status)
        status = vendor_status = None
        if provider in PROVIDERS:
            vocabulary = get_adapter_class(provider).VOCABULARY
            try:
                status = vocabulary.normalize_finding_status(word)
                vendor_status = vocabulary.finding_status_to_vendor(word)
            except VocabularyError as err:
                needs.append("a status %s knows (%s)" % (provider, err.message))
            else:
                if status == "open":
                    needs.append("a status other than open (%r is %s's open: applying it would change nothing)" % (word, provider))
        if needs:
            problems.append("%s needs %s" % (label, _join(needs)))
            continue
        scope = dict((key, value) for key, value in ((scopes or {}).get(provider) or {}).items() if key in SCOPE_KEYS)
        scope.update((key, entry[key]) for key in SCOPE_KEYS if entry.get(key) not in (None, ""))
        state = EXPIRED if expires is not None and expires < _text(today) else ACTIVE
        exception_id = _text(entry.get("id")) or str(index + 1)
        reason, owner = _text(entry.get("reason")), _text(entry.get("owner"))
        note = assignee = None
        if annotate and provider in ANNOTATED_PROVIDERS:
            if state == EXPIRED:
                note = "Exception %s expired on %s; re-opened" % (exception_id, expires)
            else:
                note = "%s (owner %s%s)" % (reason, owner, (", until %s" % expires) if expires else "")
                assignee = owner
        checked.append({
            "index": index, "id": exception_id, "provider": provider, "reason": reason, "owner": owner,
            "expires": expires, "state": state, "status": status, "vendor_status": vendor_status,
            "selectors": dict((key, _as_list(value) if key in LIST_SELECTORS else _text(value)) for key, value in selectors.items()),
            "scope": scope, "note": note, "assignee": assignee,
        })
    if problems:
        raise TriageError("; ".join(problems) + ". Nothing was sent.")
    return checked


def _as_list(value):
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(item) for item in values]


def _wanted(exception):
    """What an active exception wants a finding to hold: status, and the annotations when set."""
    return (exception["status"], exception["note"], exception["assignee"])


def _describe_wanted(exception):
    words = [exception["status"]]
    if exception["note"] is not None:
        words.append("note %r" % exception["note"])
    if exception["assignee"] is not None:
        words.append("assignee %r" % exception["assignee"])
    return ", ".join(words)


def plan_exceptions(exceptions, selections):
    """Which findings each exception writes; TriageError when active exceptions conflict.

    Args:
        exceptions: the output of ``check_exceptions``.
        selections: one ``finding_info`` result per exception, in the same order: ``findings``,
            or ``msg`` when reading failed.

    Answers one entry per exception: ``matched`` (findings it selects), ``apply_ids`` (the
    ids to pass to ``finding_status``), ``unmatched`` (selectors that found nothing), ``kept_by``
    (for an expired exception, findings an active one holds, by its id), ``shared_with``
    (findings an earlier agreeing active exception writes) and ``error``.
    """
    if len(selections or []) != len(exceptions or []):
        raise TriageError("%d exceptions but %d selections" % (len(exceptions or []), len(selections or [])))
    plans = []
    claims = {}          # (provider, finding id) -> the active exception that writes it
    unreadable = set()   # providers where an active exception could not be read
    conflicts = []
    for exception, selection in zip(exceptions, selections):
        selection = selection or {}
        plan = {"id": exception["id"], "matched": 0, "apply_ids": [], "unmatched": [], "kept_by": {}, "shared_with": {},
                "error": None, "findings": []}
        plans.append(plan)
        if selection.get("msg") or not isinstance(selection.get("findings"), list):
            # Vendor text stays the object it came as (on older ansible-core it carries the unsafe mark).
            plan["error"] = selection.get("msg") or "the findings could not be read"
            if exception["state"] == ACTIVE:
                unreadable.add(exception["provider"])
            continue
        findings = [f for f in selection["findings"] if isinstance(f, dict) and f.get("id") is not None]
        plan["findings"] = findings
        plan["matched"] = len(findings)
        plan["unmatched"] = _unmatched(exception, findings)
        if exception["state"] != ACTIVE:
            continue
        for finding in findings:
            key = (exception["provider"], str(finding["id"]))
            holder = claims.get(key)
            if holder is None:
                claims[key] = exception
                plan["apply_ids"].append(_same_text(finding["id"]))
            elif _wanted(holder) == _wanted(exception):
                plan["shared_with"][holder["id"]] = plan["shared_with"].get(holder["id"], 0) + 1
            else:
                conflicts.append((holder, exception, str(finding["id"])))
    if conflicts:
        raise TriageError(_conflict_message(conflicts))
    reopened = set()     # (provider, finding id) an earlier expired exception re-opens
    for exception, plan in zip(exceptions, plans):
        if exception["state"] != EXPIRED or plan["error"]:
            continue
        if exception["provider"] in unreadable:
            plan["error"] = ("not applied: an active %s exception could not be read, so it is unknown which of these findings it holds"
                             % exception["provider"])
            continue
        for finding in plan["findings"]:
            holder = claims.get((exception["provider"], str(finding["id"])))
            if holder is not None:
                plan["kept_by"][holder["id"]] = plan["kept_by"].get(holder["id"], 0) + 1
            elif finding.get("status") == exception["status"] and (exception["provider"], str(finding["id"])) not in reopened:
                # Re-open only what still carries this exception's status; other triage stays.
                reopened.add((exception["provider"], str(finding["id"])))
                plan["apply_ids"].append(_same_text(finding["id"]))
    for plan in plans:
        del plan["findings"]
    return plans


def _same_text(value):
    """``value`` as text, the very object when it is text already (str() would drop a subclass such as ansible's unsafe text)."""
    return value if isinstance(value, str) else str(value)


def _unmatched(exception, findings):
    """Selectors of the exception that found nothing: each missing id, or the whole selection."""
    found = set(str(f["id"]) for f in findings)
    missing = [i for i in exception["selectors"].get("ids", []) if i not in found]
    unmatched = ["ids %s (not found)" % ", ".join(missing)] if missing else []
    if not findings and not missing:
        unmatched.append("%s: no finding matches" % _describe_selectors(exception["selectors"]))
    return unmatched


def _describe_selectors(selectors):
    return "; ".join("%s %s" % (key, ", ".join(value) if isinstance(value, list) else value) for key, value in selectors.items())


def _conflict_message(conflicts):
    pairs = {}
    for first, second, finding_id in conflicts:
        pairs.setdefault((first["id"], second["id"]), (first, second, []))[2].append(finding_id)
    parts = []
    for first, second, ids in pairs.values():
        shown = ", ".join(ids[:5]) + (" and %d more" % (len(ids) - 5) if len(ids) > 5 else "")
        parts.append("exceptions %s and %s are both active and select %d of the same %s findings (%s) but want %s vs %s"
                     % (first["id"], second["id"], len(ids), first["provider"], shown,
                        _describe_wanted(first), _describe_wanted(second)))
    return "; ".join(parts) + ". Narrow one of them or make them agree; nothing was written."
