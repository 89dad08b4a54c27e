# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitHub code scanning's documented upload rules for SARIF, as a checker for the tests.

Taken from GitHub's "SARIF support for code scanning" reference (supported properties and the
file limits table) and its changelog that stopped combining runs of one tool and category in one
upload. The 2.1.0 JSON schema allows much that code scanning rejects or cannot display; these
are the rules a file has to meet on top of it:

* ``$schema``, ``version`` 2.1.0 and ``runs`` are required; at most 20 runs per file;
* a run has ``tool.driver.name``, ``tool.driver.rules`` and ``results``; at most 25,000 of each;
* within one file, no two runs share a tool name and a category (``automationDetails.id`` up to
  its last ``/``);
* a rule has an ``id``, ``shortDescription.text`` and ``fullDescription.text`` (each at most 1024
  characters), ``help.text``; ``name`` at most 255 characters; at most 20 ``tags``; a
  ``security-severity`` is a number from 0 to 10;
* a result has ``ruleId`` naming a rule of its run, a non-empty ``message.text``, between 1 and
  1000 ``locations`` whose first has ``physicalLocation.artifactLocation.uri`` (not empty) and a
  ``region`` with ``startLine``, ``startColumn``, ``endLine``, ``endColumn``, and
  ``partialFingerprints`` with ``primaryLocationLineHash``; ``level`` is none, note, warning or
  error.

Required values may not be empty strings.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

MAX_RUNS = 20
MAX_RESULTS = 25000
MAX_RULES = 25000
MAX_LOCATIONS = 1000
MAX_TAGS = 20
MAX_DESCRIPTION = 1024
MAX_RULE_NAME = 255
LEVELS = ("none", "note", "warning", "error")


def _text(value):
    return isinstance(value, str) and value.strip() != ""


def category(run):
    """The code scanning category of a run: ``automationDetails.id`` up to its last slash ('' without one)."""
    run_id = ((run.get("automationDetails") or {}).get("id")) or ""
    return run_id.rsplit("/", 1)[0] if "/" in run_id else ""


def _rule_problems(where, rule):
    problems = []
    if not _text(rule.get("id")):
        problems.append("%s: rule without an id" % where)
    for key in ("shortDescription", "fullDescription"):
        text = (rule.get(key) or {}).get("text")
        if not _text(text):
            problems.append("%s: %s.text is required" % (where, key))
        elif len(text) > MAX_DESCRIPTION:
            problems.append("%s: %s.text is longer than %d characters" % (where, key, MAX_DESCRIPTION))
    if not _text((rule.get("help") or {}).get("text")):
        problems.append("%s: help.text is required" % where)
    if rule.get("name") is not None and len(str(rule["name"])) > MAX_RULE_NAME:
        problems.append("%s: name is longer than %d characters" % (where, MAX_RULE_NAME))
    properties = rule.get("properties") or {}
    if len(properties.get("tags") or []) > MAX_TAGS:
        problems.append("%s: more than %d tags" % (where, MAX_TAGS))
    severity = properties.get("security-severity")
    if severity is not None:
        try:
            number = float(severity)
        except (TypeError, ValueError):
            number = None
        if number is None or not 0.0 <= number <= 10.0:
            problems.append("%s: security-severity %r is not a number from 0 to 10" % (where, severity))
    return problems


def _region_problems(where, region):
    problems = []
    for key in ("startLine", "startColumn", "endLine", "endColumn"):
        value = (region or {}).get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append("%s: region.%s must be a whole number from 1" % (where, key))
    return problems


def _result_problems(where, result, rule_ids):
    problems = []
    if not _text(result.get("ruleId")):
        problems.append("%s: ruleId is required" % where)
    elif result["ruleId"] not in rule_ids:
        problems.append("%s: ruleId %s names no rule of the run" % (where, result["ruleId"]))
    if not _text((result.get("message") or {}).get("text")):
        problems.append("%s: message.text is required" % where)
    if result.get("level") is not None and result["level"] not in LEVELS:
        problems.append("%s: level %r is not one of %s" % (where, result["level"], ", ".join(LEVELS)))
    locations = result.get("locations") or []
    if not locations:
        problems.append("%s: at least one location is required" % where)
    elif len(locations) > MAX_LOCATIONS:
        problems.append("%s: more than %d locations" % (where, MAX_LOCATIONS))
    else:
        physical = locations[0].get("physicalLocation") or {}
        if not _text((physical.get("artifactLocation") or {}).get("uri")):
            problems.append("%s: locations[0].physicalLocation.artifactLocation.uri is required" % where)
        problems.extend(_region_problems(where + " locations[0].physicalLocation", physical.get("region")))
    if not _text((result.get("partialFingerprints") or {}).get("primaryLocationLineHash")):
        problems.append("%s: partialFingerprints.primaryLocationLineHash is required" % where)
    return problems


def upload_problems(document):
    """Every way ``document`` (a SARIF log as a dict) breaks code scanning's upload rules; [] when it meets them."""
    problems = []
    if not _text(document.get("$schema")):
        problems.append("$schema is required")
    if document.get("version") != "2.1.0":
        problems.append("version must be 2.1.0")
    runs = document.get("runs")
    if not isinstance(runs, list):
        return problems + ["runs is required"]
    if len(runs) > MAX_RUNS:
        problems.append("%d runs in one file, more than %d" % (len(runs), MAX_RUNS))
    seen = {}
    for index, run in enumerate(runs):
        where = "runs[%d]" % index
        driver = (run.get("tool") or {}).get("driver") or {}
        if not _text(driver.get("name")):
            problems.append("%s: tool.driver.name is required" % where)
        rules = driver.get("rules")
        if not isinstance(rules, list):
            problems.append("%s: tool.driver.rules is required" % where)
            rules = []
        results = run.get("results")
        if not isinstance(results, list):
            problems.append("%s: results is required" % where)
            results = []
        if len(rules) > MAX_RULES:
            problems.append("%s: more than %d rules" % (where, MAX_RULES))
        if len(results) > MAX_RESULTS:
            problems.append("%s: more than %d results" % (where, MAX_RESULTS))
        key = (driver.get("name"), category(run))
        if key in seen:
            problems.append("%s: tool %s and category %r are already those of runs[%d]" % (where, key[0], key[1], seen[key]))
        seen.setdefault(key, index)
        rule_ids = set()
        for number, rule in enumerate(rules):
            problems.extend(_rule_problems("%s rule %d" % (where, number), rule))
            rule_ids.add(rule.get("id"))
        for number, result in enumerate(results):
            problems.extend(_result_problems("%s result %d" % (where, number), result, rule_ids))
    return problems
