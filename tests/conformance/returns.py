# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's RETURN block read as a contract, and a module result checked against it.

``check_result(doc, result, case)`` answers the problems of one result:

* every key of the result is documented (Ansible's own keys such as ``changed``, ``msg`` and
  ``warnings`` aside), at every level that has ``contains``;
* every documented key is there when its ``returned`` condition holds for the case, and absent
  when it does not; a condition this file does not know is itself a problem, so a new phrase has
  to be taught here (``CONDITIONS``) before it can be used;
* every value has the documented ``type`` (list items their ``elements``); a value may be null
  only when the key's description says when it is null;
* ``sample`` values have the documented shape (``check_samples``).

``returned`` conditions are answered True (must be there), False (must not be there) or None
(this case cannot tell; only the value is checked when present).
"""

import re

import yaml

# Keys Ansible itself defines for every module result.
STANDARD_KEYS = frozenset(("changed", "failed", "msg", "warnings", "deprecations", "invocation", "diff", "skipped",
                           "skip_reason", "exception", "_ansible_no_log"))
_NULL_WORDS = re.compile(r"\b(null|none)\b", re.IGNORECASE)
_TYPES = {
    "str": (str,),
    "path": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
    "complex": (dict, list),
}
FINISHED = ("completed", "failed", "cancelled")


def parse_return(module):
    """The RETURN block of an imported module, as a dict."""
    doc = yaml.safe_load(module.RETURN) or {}
    if not isinstance(doc, dict):
        raise AssertionError("%s: RETURN is not a mapping" % module.__name__)
    return doc


class Case(object):
    """What a condition may look at: the module arguments, the kind of case and the result."""

    def __init__(self, kind, args, result, provider=None):
        self.kind = kind
        self.args = args
        self.result = result
        self.provider = provider if provider is not None else args.get("provider")

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    @property
    def refused(self):
        """The options were refused before the module did anything."""
        return self.kind == "input-error"

    @property
    def request_failed(self):
        """The case made a request fail on purpose (a wrong key, a missing object or path, a server error)."""
        return self.kind in ("api-401", "api-404", "api-5xx", "partial", "documented-only")


def _scan_finished(case):
    scan = case.result.get("scan")
    return isinstance(scan, dict) and scan.get("status") in FINISHED


def _targets(case):
    return case.args.get("targets") is not None


def _when_request_failed(case):
    if not case.failed:
        return False
    if case.refused:
        return False
    return True if case.request_failed else None


# ``returned`` phrases -> fn(case, parent) answering True, False or None. ``parent`` is the dict that
# holds the key (the result itself at the top level).
CONDITIONS = {
    "always": lambda case, parent: True,
    "success": lambda case, parent: not case.failed,
    "when a request to the platform failed": lambda case, parent: _when_request_failed(case),
    "when a request to the platform failed, not with O(targets)":
        lambda case, parent: False if _targets(case) else _when_request_failed(case),
    "with O(targets)": lambda case, parent: _targets(case),
    "with O(targets), once the options are accepted": lambda case, parent: _targets(case) and not case.refused,
    "when the target failed": lambda case, parent: None,
    "when the target was resolved, not with O(targets)":
        lambda case, parent: False if (_targets(case) or case.refused) else (True if not case.failed else None),
    "when O(return_findings=true) and the scan finished, not with O(targets)":
        lambda case, parent: (False if (_targets(case) or not case.args.get("return_findings")) else
                              (True if (not case.failed and _scan_finished(case)) else None)),
    "with O(return_findings=true), when the target's scan finished":
        lambda case, parent: False if not case.args.get("return_findings") else None,
    "when several runs could be the one the trigger started":
        lambda case, parent: None if case.provider == "penaxtra" and not case.refused else False,
    "with O(return_diff=true)": lambda case, parent: bool(case.args.get("return_diff")),
    "with O(return_diff=true), not in a failed result": lambda case, parent: bool(case.args.get("return_diff")) and not case.failed,
    # An AssumedCallError's two extra keys: whether a platform lacks an assumption is not up to the case.
    "when the platform refused a call, a field or a value the collection assumes": lambda case, parent: None,
    "when findings were cut": lambda case, parent: None if case.args.get("return_findings") or case.args.get("sarif_path") or
    case.args.get("junit_path") or case.args.get("markdown_path") else False,
}


def _raw_included(case):
    include_raw = case.args.get("include_raw")
    return not case.args.get("fields") if include_raw is None else bool(include_raw)


# Phrases whose answer depends on the key they describe too: fn(case, parent, key).
KEYED_CONDITIONS = {
    "unless O(fields) leaves it out":
        lambda case, parent, key: case.args.get("fields") is None or key in case.args["fields"],
    "with O(include_raw=true), or when neither O(include_raw) nor O(fields) is set":
        lambda case, parent, key: _raw_included(case),
    # finding_info's crypto facts: AgileSec findings only.
    "when O(provider=agilesec), unless O(fields) leaves it out":
        lambda case, parent, key: case.provider == "agilesec" and (case.args.get("fields") is None or key in case.args["fields"]),
}


def condition(phrase, case, parent, key=None):
    """True, False or None for a ``returned`` phrase; raises KeyError for a phrase nobody taught this file."""
    if phrase in KEYED_CONDITIONS:
        return KEYED_CONDITIONS[phrase](case, parent, key)
    return CONDITIONS[phrase](case, parent)


def null_allowed(spec):
    description = spec.get("description")
    if isinstance(description, list):
        description = " ".join(str(line) for line in description)
    return bool(_NULL_WORDS.search(str(description or "")))


def check_value(path, value, spec, case, problems, parent=None):
    """Type, elements and contained keys of one value."""
    kind = spec.get("type")
    if value is None:
        if not null_allowed(spec):
            problems.append("%s: null, and its description does not say when it is null" % path)
        return
    if kind == "raw" or kind is None:
        return
    if kind not in _TYPES:
        problems.append("%s: documented type %r is not one this suite knows" % (path, kind))
        return
    if isinstance(value, bool) and kind in ("int", "float"):
        problems.append("%s: a boolean where the documentation says %s" % (path, kind))
        return
    if not isinstance(value, _TYPES[kind]):
        problems.append("%s: %s where the documentation says %s" % (path, type(value).__name__, kind))
        return
    if kind == "list":
        elements = spec.get("elements")
        for index, item in enumerate(value):
            item_path = "%s[%d]" % (path, index)
            if elements:
                check_value(item_path, item, dict(spec, type=elements, elements=None), case, problems, parent)
    elif kind == "dict" and spec.get("contains"):
        check_keys(path, value, spec["contains"], case, problems)


def check_keys(path, mapping, documented, case, problems):
    """Every key documented, every documented key there under its condition, every value of its type."""
    prefix = "%s." % path if path else ""
    for key in sorted(mapping):
        if key not in documented and not (not path and key in STANDARD_KEYS):
            problems.append("%s%s: returned but not documented" % (prefix, key))
    for key in sorted(documented):
        spec = documented[key] or {}
        phrase = spec.get("returned")
        if phrase is None:
            # A contained key without its own condition comes with its parent.
            expected = True if path else None
            if not path:
                problems.append("%s: no returned condition" % key)
        else:
            try:
                expected = condition(phrase, case, mapping, key)
            except KeyError:
                problems.append("%s%s: returned condition %r is not one tests/conformance/returns.py knows" % (prefix, key, phrase))
                expected = None
        present = key in mapping
        if expected is True and not present:
            problems.append("%s%s: missing (returned: %s)" % (prefix, key, phrase or "with its parent"))
        elif expected is False and present:
            problems.append("%s%s: present although returned: %s" % (prefix, key, phrase))
        if present:
            check_value(prefix + key, mapping[key], spec, case, problems, mapping)


def check_result(doc, result, case):
    """The problems of one module result (an empty list when it keeps its RETURN contract)."""
    problems = []
    if case.failed and not isinstance(result.get("msg"), str):
        problems.append("msg: a failed result without a message")
    check_keys("", result, doc, case, problems)
    return problems


def check_samples(doc, path=""):
    """The problems of the ``sample`` values of a RETURN block (or of a ``contains`` level)."""
    problems = []
    for key, spec in sorted(doc.items()):
        spec = spec or {}
        where = "%s%s" % ("%s." % path if path else "", key)
        if "sample" in spec:
            sample_problems = []
            check_value("%s (sample)" % where, spec["sample"], _sample_spec(spec), Case("sample", {}, {}), sample_problems)
            problems.extend(sample_problems)
        if spec.get("contains"):
            problems.extend(check_samples(spec["contains"], where))
    return problems


def _sample_spec(spec):
    """The spec a sample is checked against: a sample may leave contained keys out, never add one."""
    if not spec.get("contains"):
        return spec
    relaxed = dict((name, dict(sub or {}, returned="when a sample shows it")) for name, sub in spec["contains"].items())
    return dict(spec, contains=relaxed)


CONDITIONS["when a sample shows it"] = lambda case, parent: None


def documented_paths(doc, path=""):
    """Every documented key path (``gate.counts``, ``scans[].scan``...), for the coverage count."""
    paths = []
    for key, spec in sorted(doc.items()):
        spec = spec or {}
        where = "%s%s" % (path, key)
        paths.append(where)
        if spec.get("contains"):
            joint = "[]." if spec.get("type") == "list" else "."
            paths.extend(documented_paths(spec["contains"], where + joint))
    return paths


def seen_paths(result, doc, path=""):
    """The documented key paths present in ``result``."""
    seen = set()
    if not isinstance(result, dict):
        return seen
    for key, spec in doc.items():
        spec = spec or {}
        if key not in result:
            continue
        where = "%s%s" % (path, key)
        seen.add(where)
        value = result[key]
        if spec.get("contains"):
            if spec.get("type") == "list" and isinstance(value, list):
                for item in value:
                    seen |= seen_paths(item, spec["contains"], where + "[].")
            elif isinstance(value, dict):
                seen |= seen_paths(value, spec["contains"], where + ".")
    return seen
