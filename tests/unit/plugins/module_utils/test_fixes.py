# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fixes.py: fix identity by finding set, adoption, lost answers, quotas, refine once, pull requests once, cancel."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.scanops.security.plugins.module_utils import fixes as X
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_kolega_fixes import FakeKolegaFixes, finding

CRITICAL = ["fnd_000", "fnd_001", "fnd_002"]


def defaults(**changes):
    params = dict((name, spec.get("default")) for name, spec in X.finding_fix_spec().items())
    params.update(provider="kolega", repository="repo_1", title="Remove hard-coded keys", instructions="Read them from the environment",
                  wait_sleep=5.0)
    params.update(changes)
    return params


@pytest.fixture
def vendor():
    return FakeKolegaFixes()


@pytest.fixture
def run(make_adapter, fake_time, vendor):
    def runner(check_mode=False, **changes):
        adapter, _recorder = make_adapter("kolega", vendor, retries=1)
        fix_run = X.FixRun(adapter, defaults(**changes), check_mode=check_mode, sleep=fake_time.sleep, clock=fake_time.clock)
        fix_run.validate()
        result = fix_run.run()
        result["warnings"] = fix_run.warnings
        return result
    return runner


def test_creates_once_waits_and_a_rerun_only_reads(run, vendor, fake_time):
    result = run(severity=["critical"])
    assert result["changed"] is True and result["actions"] == ["create"]
    assert result["finding_ids"] == CRITICAL and result["fix"]["finding_ids"] == CRITICAL
    assert result["fix"]["status"] == "completed" and result["fix"]["progress"]["agent_steps_completed"] == 2
    expected = {"finding_ids": CRITICAL, "title": "Remove hard-coded keys", "instructions": "Read them from the environment",
                "source_repo": "acme/payments-api", "source_repo_provider": "github"}
    assert vendor.bodies("/fixes") == [expected]
    assert fake_time.sleeps == [5.0, 5.0]
    assert result["diff"]["before"] == {"fix_id": None}
    assert result["diff"]["after"]["fix_id"] == result["fix"]["id"] and result["diff"]["after"]["status"] == "completed"

    vendor.requests = []
    again = run(severity=["critical"])
    assert again["changed"] is False and again["actions"] == ["adopt"] and again["fix"]["id"] == result["fix"]["id"]
    assert vendor.writes() == []
    assert again["diff"]["before"] == again["diff"]["after"]


def test_the_set_is_order_free_and_a_different_set_is_another_fix(run, vendor):
    existing = vendor.add_fix(["fnd_002", "fnd_000", "fnd_001"])
    vendor.add_fix(["fnd_000", "fnd_001"])
    result = run(ids=["fnd_001", "fnd_002", "fnd_000"])
    assert result["changed"] is False and result["fix"]["id"] == existing["id"]
    assert vendor.writes() == []
    subset = run(ids=["fnd_000"])
    assert subset["actions"] == ["create"] and vendor.bodies("/fixes")[0]["finding_ids"] == ["fnd_000"]


def test_a_running_fix_is_adopted_and_waited_for(run, vendor):
    running = vendor.add_fix(CRITICAL, status="running")
    result = run(severity=["critical"])
    assert result["actions"] == ["adopt"] and result["changed"] is False
    assert result["fix"]["id"] == running["id"] and result["fix"]["status"] == "completed"
    assert vendor.writes() == []


def test_of_several_fixes_the_one_with_pull_requests_wins_with_a_warning(run, vendor):
    with_prs = vendor.add_fix(CRITICAL, pull_requests=1)
    vendor.add_fix(CRITICAL)
    result = run(severity=["critical"], state="pull_request")
    assert result["fix"]["id"] == with_prs["id"] and result["changed"] is False
    assert vendor.writes() == []
    assert any("2 fixes exist for these 3 findings" in w for w in result["warnings"])


def test_cancelled_fixes_are_history_and_failed_ones_stop_the_task(run, vendor):
    vendor.add_fix(CRITICAL, status="cancelled")
    failed = vendor.add_fix(CRITICAL, status="failed")
    with pytest.raises(ScanopsError) as info:
        run(severity=["critical"])
    assert "fix %s for these findings failed" % failed["id"] in info.value.message and "retry_failed=true" in info.value.message
    assert vendor.writes() == []
    result = run(severity=["critical"], retry_failed=True)
    assert result["actions"] == ["create"] and len(vendor.posts("/fixes")) == 1


@pytest.mark.parametrize("drop", [None, 503], ids=["dropped", "5xx"])
def test_a_lost_create_answer_adopts_the_fix_it_made(run, vendor, drop):
    vendor.faults.append(("POST", "/fixes", "after", drop))
    result = run(severity=["critical"])
    assert len(vendor.fixes) == 1 and len(vendor.posts("/fixes")) == 1
    assert result["fix"]["id"] == vendor.fixes[0]["id"] and result["changed"] is True
    assert any("the fix it made was found" in w for w in result["warnings"])


def test_a_create_lost_before_the_server_acted_is_sent_once_more(run, vendor):
    vendor.faults.append(("POST", "/fixes", "before", 503))
    result = run(severity=["critical"])
    assert len(vendor.fixes) == 1 and len(vendor.posts("/fixes")) == 2
    assert result["fix"]["status"] == "completed"
    assert any("no new fix exists; creating it once more" in w for w in result["warnings"])


def test_pull_requests_are_opened_once_and_never_again(run, vendor):
    options = {"title": "security: keys", "body": None, "branch_name": "fix/keys"}
    result = run(severity=["critical"], state="pull_request", pull_request=options)
    assert result["actions"] == ["create", "open_pull_requests"]
    assert result["pull_request_urls"] == ["https://github.com/acme/payments-api/pull/101"]
    assert vendor.bodies("/pull-requests") == [{"title": "security: keys", "branch_name": "fix/keys"}]
    assert vendor.quota["prs"]["used"] == 1
    vendor.requests = []
    again = run(severity=["critical"], state="pull_request")
    assert again["changed"] is False and again["pull_request_urls"] == result["pull_request_urls"]
    assert vendor.writes() == []


@pytest.mark.parametrize("drop", [None, 502], ids=["dropped", "5xx"])
def test_a_lost_pull_request_answer_is_looked_up_not_resent(run, vendor, drop):
    vendor.add_fix(CRITICAL)
    vendor.faults.append(("POST", "/pull-requests", "after", drop))
    result = run(severity=["critical"], state="pull_request")
    assert len(vendor.posts("/pull-requests")) == 1 and len(vendor.fixes[0]["pull_requests"]) == 1
    assert result["changed"] is True and len(result["pull_request_urls"]) == 1


def test_a_pull_request_call_lost_before_acting_is_sent_once_more(run, vendor):
    vendor.add_fix(CRITICAL)
    vendor.faults.append(("POST", "/pull-requests", "before", None))
    result = run(severity=["critical"], state="pull_request")
    assert len(vendor.posts("/pull-requests")) == 2 and len(vendor.fixes[0]["pull_requests"]) == 1
    assert len(result["pull_request_urls"]) == 1


def test_an_exhausted_quota_fails_before_the_post_naming_it(run, vendor):
    vendor.quota["prs"]["used"] = 10
    with pytest.raises(ScanopsError) as info:
        run(severity=["critical"])
    message = info.value.message
    assert "prs quota is exhausted: 0 left of 10" in message and "resets at 2026-02-01T00:00:00Z" in message
    assert vendor.writes() == []
    vendor.add_fix(CRITICAL)
    with pytest.raises(ScanopsError) as info:
        run(severity=["critical"], state="pull_request")
    assert "prs quota is exhausted" in info.value.message and vendor.writes() == []


def test_check_mode_reads_everything_and_writes_nothing(run, vendor):
    result = run(check_mode=True, severity=["critical"], state="pull_request", refine="Add a test")
    assert result["changed"] is True and result["actions"] == ["create", "refine", "open_pull_requests"]
    assert vendor.writes() == [] and result["fix"] is None
    reads = [r.url.path for r in vendor.requests]
    assert "/api/v1/quotas/balance" in reads and "/api/v1/repositories/repo_1" in reads
    assert result["diff"]["after"] == {"fix_id": X.NEW, "status": "completed", "finding_ids": CRITICAL,
                                       "refinements": ["Add a test"], "pull_requests": [X.NEW]}
    existing = vendor.add_fix(CRITICAL)
    predicted = run(check_mode=True, severity=["critical"], state="pull_request")
    assert predicted["actions"] == ["adopt", "open_pull_requests"] and predicted["fix"]["id"] == existing["id"]
    assert vendor.writes() == []


def test_refine_runs_once_per_distinct_text(run, vendor):
    vendor.add_fix(CRITICAL)
    first = run(severity=["critical"], refine="Also rotate the keys")
    assert first["changed"] is True and first["actions"] == ["adopt", "refine"]
    assert first["fix"]["refinements"] == ["Also rotate the keys"] and first["fix"]["status"] == "completed"
    same = run(severity=["critical"], refine="  Also rotate the keys\n")
    assert same["changed"] is False and len(vendor.posts("/refine")) == 1
    other = run(severity=["critical"], refine="Add a test")
    assert other["changed"] is True and len(vendor.posts("/refine")) == 2
    assert other["fix"]["refinements"] == ["Also rotate the keys", "Add a test"]


def test_without_a_refinement_history_refine_fails_instead_of_repeating(make_adapter, fake_time):
    vendor = FakeKolegaFixes(refinements_field=False)
    vendor.add_fix(CRITICAL)
    adapter, _recorder = make_adapter("kolega", vendor)
    fix_run = X.FixRun(adapter, defaults(severity=["critical"], refine="Add a test"), sleep=fake_time.sleep, clock=fake_time.clock)
    fix_run.validate()
    with pytest.raises(ScanopsError) as info:
        fix_run.run()
    assert "did not list the refinements" in info.value.message and vendor.writes() == []


def test_a_lost_refine_answer_is_looked_up_not_resent(run, vendor):
    vendor.add_fix(CRITICAL)
    vendor.faults.append(("POST", "/refine", "after", None))
    result = run(severity=["critical"], refine="Add a test")
    assert len(vendor.posts("/refine")) == 1 and result["fix"]["refinements"] == ["Add a test"]


def test_a_fix_that_fails_fails_the_task_with_its_error(make_adapter, fake_time):
    vendor = FakeKolegaFixes(outcome="failed")
    adapter, _recorder = make_adapter("kolega", vendor)
    fix_run = X.FixRun(adapter, defaults(severity=["critical"]), sleep=fake_time.sleep, clock=fake_time.clock)
    fix_run.validate()
    with pytest.raises(ScanopsError) as info:
        fix_run.run()
    assert "ended failed: The agent could not produce a passing change" in info.value.message
    snapshot = fix_run.snapshot()
    assert snapshot["changed"] is True and snapshot["fix"]["id"] == vendor.fixes[0]["id"]


def test_the_wait_timeout_fails_with_the_fix_id_and_a_rerun_adopts_it(make_adapter, fake_time, run, vendor):
    vendor.polls_to_finish = 1000
    adapter, _recorder = make_adapter("kolega", vendor)
    fix_run = X.FixRun(adapter, defaults(severity=["critical"], wait_timeout=12), sleep=fake_time.sleep, clock=fake_time.clock)
    fix_run.validate()
    with pytest.raises(ScanopsError) as info:
        fix_run.run()
    assert "still running after the wait_timeout of 12 s; a re-run adopts it" in info.value.message
    assert abs(sum(fake_time.sleeps) - 12.0) < 1e-9
    vendor.polls_to_finish = 1
    again = run(severity=["critical"])
    assert again["actions"] == ["adopt"] and len(vendor.posts("/fixes")) == 1


def test_without_wait_the_fix_is_started_and_pull_requests_wait_for_a_later_run(run, vendor, fake_time):
    result = run(severity=["critical"], state="pull_request", wait=False)
    assert result["actions"] == ["create"] and result["fix"]["status"] in ("queued", "running")
    assert fake_time.sleeps == [] and vendor.posts("/pull-requests") == []
    assert any("pull requests are opened once it has completed" in w for w in result["warnings"])


def test_absent_cancels_pending_and_running_fixes_only(run, vendor):
    done = vendor.add_fix(CRITICAL)
    running = vendor.add_fix(CRITICAL, status="running")
    predicted = run(check_mode=True, severity=["critical"], state="absent", title=None, instructions=None)
    assert predicted["changed"] is True and predicted["cancelled"] == [running["id"]] and vendor.writes() == []
    result = run(severity=["critical"], state="absent", title=None, instructions=None)
    assert result["changed"] is True and result["cancelled"] == [running["id"]]
    assert result["fix"]["status"] == "cancelled" and done["status"] == "completed"
    again = run(severity=["critical"], state="absent", title=None, instructions=None)
    assert again["changed"] is False and again["cancelled"] == [] and len(vendor.posts("/cancel")) == 1


def test_a_cancel_that_loses_its_answer_is_read_back(run, vendor):
    running = vendor.add_fix(CRITICAL, status="running")
    vendor.faults.append(("POST", "/cancel", "after", None))
    result = run(severity=["critical"], state="absent", title=None, instructions=None)
    assert result["cancelled"] == [running["id"]] and len(vendor.posts("/cancel")) == 1


def test_source_repo_defaults_to_the_only_one_and_is_checked(make_adapter, fake_time):
    vendor = FakeKolegaFixes(findings=[finding(n, repository_id="repo_2") for n in range(2)])
    adapter, _recorder = make_adapter("kolega", vendor)

    def attempt(**changes):
        fix_run = X.FixRun(adapter, defaults(repository="repo_2", **changes), sleep=fake_time.sleep, clock=fake_time.clock)
        fix_run.validate()
        return fix_run.run()

    with pytest.raises(ScanopsError) as info:
        attempt()
    assert "source_repo is required: platform has 2 source repositories (acme/api, acme/worker)" in info.value.message
    with pytest.raises(ScanopsError) as info:
        attempt(source_repo="acme/other")
    assert "'acme/other' is not a source repository of platform" in info.value.message
    attempt(source_repo="acme/api", branch="develop")
    assert vendor.bodies("/fixes")[0]["source_repo_provider"] == "gitlab"
    assert vendor.bodies("/fixes")[0]["source_scan_branch"] == "develop"


def test_no_matching_finding_means_nothing_to_do(run, vendor):
    result = run(severity=["high"])
    assert result["changed"] is False and result["fix"] is None and vendor.writes() == []
    assert any("nothing to fix" in w for w in result["warnings"])


def test_unknown_ids_fail_before_any_write(run, vendor):
    with pytest.raises(ScanopsError) as info:
        run(ids=["fnd_000", "fnd_999"])
    assert "fnd_999" in info.value.message and vendor.writes() == []


@pytest.mark.parametrize("changes,message", [
    (dict(title=None), "title is required with state=present"),
    (dict(title="x" * 201), "title: at most 200 characters"),
    (dict(refine=" "), "refine: must not be empty"),
    (dict(refine="x" * 12001), "refine: at most 12000 characters"),
    (dict(state="absent", refine="x"), "refine: not used with state=absent"),
    (dict(pull_request={"title": "t"}), "pull_request: only used with state=pull_request"),
    (dict(source_repo="payments"), "source_repo: expected the repository's full name"),
    (dict(wait_timeout=-1), "wait_timeout must not be negative"),
    (dict(package=["openssl"]), "package: kolega findings carry no package field"),
    (dict(current_status=["acknowledged"]), "current_status:"),
])
def test_bad_input_fails_before_any_request(make_adapter, vendor, changes, message):
    adapter, _recorder = make_adapter("kolega", vendor)
    fix_run = X.FixRun(adapter, defaults(**changes))
    with pytest.raises(ScanopsError) as info:
        fix_run.validate()
    assert message in info.value.message
    assert vendor.requests == []


@pytest.mark.parametrize("provider", ["cloudgeni", "agilesec", "harborguard", "penaxtra"])
def test_other_providers_offer_no_fixes(provider):
    with pytest.raises(ScanopsError) as info:
        X.require_fix_provider("finding_fix", provider)
    assert info.value.message.startswith("finding_fix: ") and "offers no fixes API (only Kolega DevSec does)" in info.value.message


def test_info_lists_exact_sets_or_any_overlap(make_adapter, vendor):
    exact = vendor.add_fix(CRITICAL, pull_requests=1)
    overlap = vendor.add_fix(["fnd_000", "fnd_004"])
    vendor.add_fix(["fnd_005"])
    adapter, _recorder = make_adapter("kolega", vendor)

    def query(**changes):
        params = dict((name, spec.get("default")) for name, spec in X.finding_fix_info_spec().items())
        params.update(provider="kolega", repository="payments")
        params.update(changes)
        fix_query = X.FixQuery(adapter, params)
        fix_query.validate()
        return fix_query.run()

    assert [f["id"] for f in query(severity=["critical"])] == [exact["id"]]
    assert sorted(f["id"] for f in query(severity=["critical"], match="any")) == sorted([exact["id"], overlap["id"]])
    assert len(query()) == 3
    one = query(fix_id=exact["id"], return_diff=True, return_progress=True)
    assert one[0]["pull_request_urls"] and one[0]["diff"].startswith("--- a/") and one[0]["progress"] is not None
    with pytest.raises(ScanopsError):
        query(fix_id=exact["id"], ids=["fnd_000"])
