# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions as code: checking the entries and resolving overlaps (issue 20, items 5 to 7)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import json
import subprocess
import sys

import pytest

from ansible_collections.scanops.security.plugins.plugin_utils import triage
from ansible_collections.scanops.security.plugins.plugin_utils.triage import TriageError

TODAY = "2025-06-01"


def entry(**overrides):
    base = {"id": "e", "provider": "harborguard", "cve": "CVE-2023-0286", "reason": "accepted", "owner": "team@acme.example"}
    base.update(overrides)
    return dict((key, value) for key, value in base.items() if value is not None)


def check(*entries, **options):
    return triage.check_exceptions(list(entries), options.pop("today", TODAY), **options)


# -- checking -----------------------------------------------------------------------------------
@pytest.mark.parametrize("provider,word,normalized,vendor", [
    ("harborguard", "ignored", "ignored", "WONT_FIX"),
    ("harborguard", "WONT_FIX", "ignored", "WONT_FIX"),
    ("harborguard", "wont_fix", "ignored", "WONT_FIX"),
    ("penaxtra", "risk_accepted", "ignored", "risk_accepted"),
    ("penaxtra", "Triaged", "acknowledged", "triaged"),
    ("cloudgeni", "suppressed", "ignored", "suppressed"),
    ("kolega", "FALSE_POSITIVE", "false_positive", "false_positive"),
])
def test_a_status_is_taken_in_either_vocabulary_in_any_case(provider, word, normalized, vendor):
    checked = check(entry(provider=provider, status=word, repository="r"))[0]
    assert (checked["status"], checked["vendor_status"]) == (normalized, vendor)


@pytest.mark.parametrize("provider,word", [("harborguard", "OPEN"), ("harborguard", "open"), ("kolega", "Open"),
                                           ("penaxtra", "open"), ("cloudgeni", "OPEN")])
def test_a_status_that_means_open_is_refused_in_every_spelling(provider, word):
    with pytest.raises(TriageError) as caught:
        check(entry(provider=provider, status=word))
    assert "exception 1 (e) needs a status other than open" in caught.value.message
    assert "would change nothing" in caught.value.message


def test_a_status_the_provider_does_not_know_is_refused_with_its_words():
    with pytest.raises(TriageError) as caught:
        check(entry(provider="cloudgeni", status="acknowledged"))
    assert "exception 1 (e) needs a status cloudgeni knows" in caught.value.message
    assert "ignored (suppressed)" in caught.value.message


def test_every_entry_at_fault_is_named_with_all_it_lacks():
    with pytest.raises(TriageError) as caught:
        check(entry(id="ok"), entry(id="no-owner", owner=" "), entry(id=None, provider="agilesec", cve=None, expires="31.12.2025"),
              "not a mapping")
    message = caught.value.message
    assert "exception 2 (no-owner) needs an owner" in message
    assert ("exception 3 (no id) needs a provider (cloudgeni, kolega, harborguard or penaxtra), at least one of rule_id, cve, "
            "path, package, severity or ids and an expires date written YYYY-MM-DD (got '31.12.2025')") in message
    assert "exception 4 (no id) must be a mapping, got str" in message
    assert "exception 1" not in message
    assert message.endswith("Nothing was sent.")


def test_state_scope_and_harborguard_annotations():
    scopes = {"harborguard": {"image": "app:1"}, "kolega": {"repository": "web"}}
    held, expired, dated = check(entry(id="held"), entry(id="old", expires=datetime.date(2025, 5, 31), image="app:2"),
                                 entry(id="dated", provider="kolega", expires="2025-06-01", cve=["CVE-1", "CVE-2"]), scopes=scopes)
    assert (held["state"], expired["state"], dated["state"]) == ("active", "expired", "active")  # holds through its day
    assert held["scope"] == {"image": "app:1"} and expired["scope"] == {"image": "app:2"} and dated["scope"] == {"repository": "web"}
    assert held["note"] == "accepted (owner team@acme.example)" and held["assignee"] == "team@acme.example"
    assert expired["note"] == "Exception old expired on 2025-05-31; re-opened" and expired["assignee"] is None
    assert dated["note"] is None and dated["selectors"] == {"cve": ["CVE-1", "CVE-2"]}
    plain = check(entry(), annotate=False)[0]
    assert plain["note"] is None and plain["assignee"] is None


# The filters are controller code: importing it here would switch every module test in this process
# to the controller's warning display, so they run in a child process.
FILTER_CHECK = """
import json, sys
from ansible.errors import AnsibleFilterError
from ansible_collections.scanops.security.plugins.filter.triage_exceptions import FilterModule as Checks
from ansible_collections.scanops.security.plugins.filter.triage_plan import FilterModule as Plans
args = json.loads(sys.argv[1])
check, plan = Checks().filters()["triage_exceptions"], Plans().filters()["triage_plan"]
answers = []
for exceptions, selections in args:
    try:
        answers.append(plan(check(exceptions, "2025-06-01"), selections))
    except AnsibleFilterError as err:
        answers.append("AnsibleFilterError: " + err.message)
print(json.dumps(answers))
"""


def test_the_filters_answer_and_fail_with_the_message():
    cases = [([entry(status="OPEN")], []),
             ([entry(id="first", reason="one"), entry(id="second", reason="two")], [selection(("v1", "open")), selection(("v1", "open"))]),
             ([entry(id="held"), entry(id="old", expires="2025-01-31")], [selection(("v1", "ignored")), selection(("v1", "ignored"))])]
    done = subprocess.run([sys.executable, "-c", FILTER_CHECK, json.dumps(cases)], capture_output=True, text=True, check=True)
    refused, conflict, plan = json.loads(done.stdout)
    assert refused.startswith("AnsibleFilterError: exception 1 (e) needs a status other than open")
    assert conflict.startswith("AnsibleFilterError: exceptions first and second are both active")
    assert [(item["id"], item["apply_ids"], item["kept_by"]) for item in plan] == [("held", ["v1"], {}), ("old", [], {"held": 1})]


# -- planning -----------------------------------------------------------------------------------
def selection(*findings):
    return {"findings": [{"id": finding_id, "status": status} for finding_id, status in findings]}


def apply(plan, exceptions, statuses, annotations):
    """What finding_status would do with the plan; answers how many findings it changed."""
    changed = 0
    for exception, item in zip(exceptions, plan):
        for finding_id in item["apply_ids"]:
            wanted = "open" if exception["state"] == "expired" else exception["status"]
            want_note = (exception["note"], exception["assignee"])
            if statuses[finding_id] != wanted or (exception["note"] is not None and annotations.get(finding_id) != want_note):
                changed += 1
                statuses[finding_id] = wanted
                if exception["note"] is not None:
                    annotations[finding_id] = want_note
    return changed


def select(exceptions, statuses, chosen):
    return [selection(*[(finding_id, statuses[finding_id]) for finding_id in chosen[exception["id"]]]) for exception in exceptions]


def test_an_active_exception_wins_over_an_expired_one_and_a_second_run_changes_nothing():
    # The case: an active and an expired exception on the same CVE and image.
    exceptions = check(entry(id="active"), entry(id="expired", expires="2025-01-31"))
    statuses = {"vuln-1": "open", "vuln-2": "ignored"}
    chosen = {"active": ["vuln-1", "vuln-2"], "expired": ["vuln-1", "vuln-2"]}
    annotations = {}
    first = triage.plan_exceptions(exceptions, select(exceptions, statuses, chosen))
    assert first[0]["apply_ids"] == ["vuln-1", "vuln-2"]
    assert first[1]["apply_ids"] == [] and first[1]["kept_by"] == {"active": 2}
    assert apply(first, exceptions, statuses, annotations) == 2
    assert statuses == {"vuln-1": "ignored", "vuln-2": "ignored"}
    second = triage.plan_exceptions(exceptions, select(exceptions, statuses, chosen))
    assert apply(second, exceptions, statuses, annotations) == 0


def test_an_expired_exception_reopens_only_what_still_carries_its_status_and_no_active_one_holds():
    exceptions = check(entry(id="held", cve="CVE-1"), entry(id="old", expires="2025-01-31", cve=["CVE-1", "CVE-2"]))
    statuses = {"a": "ignored", "b": "ignored", "c": "acknowledged"}
    chosen = {"held": ["a"], "old": ["a", "b", "c"]}
    plan = triage.plan_exceptions(exceptions, select(exceptions, statuses, chosen))
    assert plan[1]["apply_ids"] == ["b"] and plan[1]["kept_by"] == {"held": 1}
    apply(plan, exceptions, statuses, {})
    assert statuses == {"a": "ignored", "b": "open", "c": "acknowledged"}
    again = triage.plan_exceptions(exceptions, select(exceptions, statuses, chosen))
    assert again[1]["apply_ids"] == []


def test_two_expired_exceptions_reopen_a_finding_once():
    exceptions = check(entry(id="old", expires="2025-01-31"), entry(id="older", expires="2024-01-31"))
    plan = triage.plan_exceptions(exceptions, [selection(("a", "ignored")), selection(("a", "ignored"), ("b", "ignored"))])
    assert plan[0]["apply_ids"] == ["a"] and plan[1]["apply_ids"] == ["b"]


def test_active_exceptions_that_want_different_states_are_an_error_naming_both():
    exceptions = check(entry(id="first", status="ignored"), entry(id="second", status="acknowledged"),
                       entry(id="third", provider="penaxtra", severity="low"))
    with pytest.raises(TriageError) as caught:
        triage.plan_exceptions(exceptions, [selection(("v1", "open"), ("v2", "open")), selection(("v2", "open"), ("v1", "open")),
                                            selection(("p1", "open"))])
    message = caught.value.message
    assert "exceptions first and second are both active and select 2 of the same harborguard findings (v2, v1)" in message
    assert "want ignored" in message and "acknowledged" in message
    assert "third" not in message and message.endswith("nothing was written.")


def test_harborguard_notes_that_differ_conflict_and_agreeing_exceptions_share():
    exceptions = check(entry(id="first", reason="one"), entry(id="second", reason="two"))
    with pytest.raises(TriageError, match="note 'one \\(owner team@acme.example\\)', assignee 'team@acme.example' vs ignored, note 'two"):
        triage.plan_exceptions(exceptions, [selection(("v1", "open")), selection(("v1", "open"))])
    agreeing = check(entry(id="first", provider="kolega", repository="r", rule_id="x"),
                     entry(id="second", provider="kolega", repository="r", severity="low"))
    plan = triage.plan_exceptions(agreeing, [selection(("k1", "open"), ("k2", "open")), selection(("k2", "open"), ("k3", "open"))])
    assert plan[0]["apply_ids"] == ["k1", "k2"] and plan[1]["apply_ids"] == ["k3"] and plan[1]["shared_with"] == {"first": 1}


def test_unmatched_selectors_are_reported_per_exception():
    exceptions = check(entry(id="stale", cve=None, ids=["vuln-1", "vuln-9"]), entry(id="none", cve=["CVE-1"], severity="high"),
                       entry(id="gone", cve=None, ids=["vuln-7"]))
    plan = triage.plan_exceptions(exceptions, [selection(("vuln-1", "open")), selection(), selection()])
    assert plan[0]["unmatched"] == ["ids vuln-9 (not found)"] and plan[0]["apply_ids"] == ["vuln-1"]
    assert plan[1]["unmatched"] == ["cve CVE-1; severity high: no finding matches"]
    assert plan[2]["unmatched"] == ["ids vuln-7 (not found)"]


def test_an_unreadable_active_exception_keeps_expired_ones_of_its_provider_from_writing():
    exceptions = check(entry(id="held"), entry(id="old", expires="2025-01-31"),
                       entry(id="other", provider="penaxtra", severity="low", expires="2025-01-31"))
    plan = triage.plan_exceptions(exceptions, [{"msg": "List harborguard findings: boom (HTTP 503)"}, selection(("v1", "ignored")),
                                               selection(("p1", "ignored"))])
    assert plan[0]["error"] == "List harborguard findings: boom (HTTP 503)" and plan[0]["apply_ids"] == []
    assert plan[1]["error"].startswith("not applied: an active harborguard exception could not be read")
    assert plan[1]["apply_ids"] == []
    assert plan[2]["error"] is None and plan[2]["apply_ids"] == ["p1"]


def test_vendor_ids_and_messages_keep_their_type():
    """Ids and messages from the vendor are passed on as the objects they are (ansible marks them unsafe)."""
    class Marked(str):
        pass

    exceptions = check(entry(id="held"), entry(id="old", expires="2025-01-31", provider="penaxtra", severity="low"))
    plan = triage.plan_exceptions(exceptions, [{"findings": [{"id": Marked("{{ lookup('pipe', 'id') }}"), "status": "open"}]},
                                               {"msg": Marked("List penaxtra findings: {{ boom }}")}])
    assert isinstance(plan[0]["apply_ids"][0], Marked)
    assert isinstance(plan[1]["error"], Marked)
