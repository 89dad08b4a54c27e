# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scans.py: target resolution, ambiguity, max_age, reuse selection, duplicate avoidance, waiting, gate."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import threading
import time

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.scans import (
    ScanFailure,
    iso,
    parse_max_age,
    run_scan,
    scan_info,
)
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import EPOCH, FakeTime

ORG = "/api/v1/organizations/org_1"
REPOS = [
    {"id": "repo_a", "name": "infrastructure", "fullName": "myorg/infrastructure", "defaultBranch": "main"},
    {"id": "repo_b", "name": "infrastructure", "fullName": "platform/infrastructure", "defaultBranch": "main"},
    {"id": "repo_c", "name": "networking", "fullName": "myorg/networking", "defaultBranch": "trunk"},
]
INTEGRATION = "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"


def params(**overrides):
    base = dict(repository=None, branch=None, commit=None, scan_type=None, sensor=None, image=None, scanners=None,
                integration_id=None, max_age=None, force=False, wait=True, wait_timeout=1800, wait_sleep=None,
                on_timeout="fail", fail_on=None, max_findings=None, max_risk_score=None, min_compliance_grade=None,
                ignore=None, return_findings=False, findings_limit=500, sarif_path=None, junit_path=None,
                markdown_path=None, scan_id=None, status=None, sort=None, targets=None, concurrency=None)
    base.update(overrides)
    return base


def json_response(status, body):
    return httpx.Response(status, json=body)


class FakeCloudGeni(object):
    """A tiny CloudGeni: repositories, scans that finish after ``polls_to_finish`` status reads."""

    def __init__(self, fake_time, polls_to_finish=2, summary=None):
        self.time = fake_time
        self.scans = []  # newest last
        self.polls_to_finish = polls_to_finish
        self.summary = summary or {"total": 3, "critical": 0, "high": 1, "medium": 2, "low": 0, "info": 0}
        self.polls = {}
        self.post_action = None  # callable(request) -> exception to raise after creating, or None
        self.findings = None  # None: one open finding per severity count of the summary
        self.counter = 0
        self.conflicts = 0
        self.outcome = "completed"  # how polled scans end

    def add_scan(self, repo="repo_a", branch="main", commit="a1b2c3d4e5f6", scan_type="static", status="completed",
                 age=0.0):
        self.counter += 1
        created = self.time.wallclock() - age
        scan = {"id": "scan_%d" % self.counter, "repositoryId": repo, "branch": branch, "commit": commit, "type": scan_type,
                "status": status, "createdAt": iso(created)}
        if status == "completed":
            scan["completedAt"] = iso(created + 1)
            scan["summary"] = dict(self.summary)
        self.scans.append(scan)
        return scan

    def summary_findings(self):
        """The findings the summary counts, all open (what a vendor whose summary is right would list)."""
        findings = []
        for severity in ("critical", "high", "medium", "low", "info"):
            for number in range(self.summary.get(severity) or 0):
                findings.append({"id": "f_%s_%d" % (severity, number), "checkId": "CKV_%s_%d" % (severity.upper(), number),
                                 "title": "%s check %d" % (severity, number), "severity": severity, "status": "open",
                                 "resource": {"file": "main.tf", "line": number + 1}})
        return findings

    def __call__(self, request):
        path = request.url.path
        method = request.method
        query = dict(request.url.params)
        if path == ORG + "/repositories" and method == "GET":
            return json_response(200, {"data": REPOS, "pagination": {"total": len(REPOS), "limit": 100, "offset": 0}})
        parts = path[len(ORG):].strip("/").split("/")
        repo = parts[1]
        if len(parts) == 3 and method == "POST":
            active = [s for s in self.scans if s["repositoryId"] == repo and s["status"] in ("queued", "running")]
            if active:
                self.conflicts += 1
                return json_response(409, {"error": "conflict", "message": "A scan is already running for this repository",
                                           "details": {"existingScanId": active[0]["id"]}})
            body = json.loads(request.content or b"{}")
            scan = self.add_scan(repo, body.get("branch", "main"), body.get("commit", "ffffffffffff"),
                                 body.get("type", "static"), status="queued")
            if self.post_action is not None:
                exc = self.post_action(request)
                if exc is not None:
                    raise exc
            return json_response(201, scan)
        if len(parts) == 3 and method == "GET":
            scans = [s for s in reversed(self.scans) if s["repositoryId"] == repo
                     and (not query.get("branch") or s["branch"] == query["branch"])
                     and (not query.get("status") or s["status"] == query["status"])]
            return json_response(200, {"data": scans, "pagination": {"total": len(scans), "limit": 100, "offset": 0}})
        if len(parts) == 4 and method == "GET":
            scan = next((s for s in self.scans if s["id"] == parts[3]), None)
            if scan is None:
                return json_response(404, {"error": "not_found", "message": "Scan not found"})
            if scan["status"] in ("queued", "running"):
                self.polls[scan["id"]] = self.polls.get(scan["id"], 0) + 1
                if self.polls[scan["id"]] >= self.polls_to_finish:
                    scan["status"] = self.outcome
                    scan["completedAt"] = iso(self.time.wallclock())
                    if self.outcome == "completed":
                        scan["summary"] = dict(self.summary)
                else:
                    scan["status"] = "running"
            return json_response(200, scan)
        if len(parts) == 5 and parts[4] == "findings":
            items = self.findings if self.findings is not None else self.summary_findings()
            return json_response(200, {"data": items, "pagination": {"total": len(items), "limit": 100, "offset": 0}})
        return json_response(404, {"error": "not_found", "message": "no route %s %s" % (method, path)})


def methods(recorder, method="POST"):
    return [r for r in recorder.requests if r.method == method]


@pytest.fixture
def cloudgeni(make_adapter, fake_time):
    def factory(**fake_options):
        fake = FakeCloudGeni(fake_time, **fake_options)
        adapter, recorder = make_adapter("cloudgeni", fake, api_url="https://cg.example.test/api/v1")
        return fake, adapter, recorder
    return factory


def run(adapter, fake_time, check_mode=False, today=None, **options):
    warnings = []
    result = run_scan(adapter, params(**options), check_mode=check_mode, warn=warnings.append, sleep=fake_time.sleep,
                      clock=fake_time.clock, wallclock=fake_time.wallclock, today=today)
    result["warnings"] = warnings
    return result


def fail(adapter, fake_time, check_mode=False, today=None, **options):
    with pytest.raises(ScanFailure) as info:
        run_scan(adapter, params(**options), check_mode=check_mode, sleep=fake_time.sleep, clock=fake_time.clock,
                 wallclock=fake_time.wallclock, today=today)
    return info.value


# -- parsers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, seconds", [
    ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("90", 90), (45, 45), ("1w", 604800), ("2.5h", 9000),
    (None, None), ("", None),
])
def test_parse_max_age(value, seconds):
    assert parse_max_age(value) == seconds


@pytest.mark.parametrize("value", ["abc", "10x", "-5", "1h foo", "h", True])
def test_parse_max_age_rejects(value):
    with pytest.raises(ScanopsError) as info:
        parse_max_age(value)
    assert "max_age" in info.value.message


# -- target resolution --------------------------------------------------------------------------------
def test_full_name_resolves_and_default_branch_is_used(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    result = run(adapter, fake_time, repository="myorg/networking")
    assert result["changed"] is True
    assert result["scan"]["raw"]["repositoryId"] == "repo_c"
    history = [r for r in recorder.requests if r.method == "GET" and r.url.path.endswith("/repo_c/scans")]
    assert history and history[0].url.params["branch"] == "trunk"


def test_ambiguous_name_fails_listing_candidates_before_any_trigger(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    failure = fail(adapter, fake_time, repository="infrastructure")
    assert "ambiguous" in failure.msg and "repo_a" in failure.msg and "repo_b" in failure.msg
    assert methods(recorder) == []


def test_unknown_repository(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    failure = fail(adapter, fake_time, repository="nope")
    assert "no repository matches repository 'nope'" in failure.msg


@pytest.mark.parametrize("provider, options, expected", [
    ("kolega", dict(repository="r"), "scan_type"),
    ("penaxtra", dict(integration_id="not-a-uuid"), "integration_id"),
    ("cloudgeni", dict(repository="r", scan_type="sbom_scan"), "scan_type"),
    ("cloudgeni", dict(repository="r", commit="xyz"), "commit"),
    ("cloudgeni", dict(repository="r", image="x:1"), "image is not an option"),
    ("harborguard", dict(), "image"),
    ("cloudgeni", dict(repository="r", max_age="soon"), "max_age"),
    ("cloudgeni", dict(repository="r", max_findings={"severe": 1}), "max_findings"),
])
def test_bad_input_fails_before_any_request(make_adapter, fake_time, provider, options, expected):
    adapter, recorder = make_adapter(provider, lambda request: json_response(500, {}))
    failure = fail(adapter, fake_time, **options)
    assert expected in failure.msg
    assert recorder.requests == []


# -- reuse ----------------------------------------------------------------------------------------------
def test_running_scan_is_adopted_without_trigger(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    running = fake.add_scan(status="running")
    result = run(adapter, fake_time, repository="repo_a")
    assert (result["changed"], result["reused"]) == (False, True)
    assert result["scan"]["id"] == running["id"] and result["scan"]["status"] == "completed"
    assert methods(recorder) == []


def test_recent_completed_scan_is_reused_within_max_age(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    recent = fake.add_scan(age=600)
    result = run(adapter, fake_time, repository="repo_a", max_age="30m", fail_on="critical")
    assert (result["changed"], result["reused"]) == (False, True)
    assert result["scan"]["id"] == recent["id"]
    assert result["gate"]["passed"] is True
    assert methods(recorder) == []


def test_old_scan_is_not_reused(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    old = fake.add_scan(age=7200)
    result = run(adapter, fake_time, repository="repo_a", max_age="1h")
    assert result["changed"] is True and result["scan"]["id"] != old["id"]
    assert len(methods(recorder)) == 1


def test_scan_of_another_commit_or_type_is_not_reused(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.add_scan(commit="1111111aaaa", age=60)
    fake.add_scan(scan_type="full", commit="2222222bbbb", age=30)
    result = run(adapter, fake_time, repository="repo_a", commit="2222222", max_age="1h")
    assert result["changed"] is True
    assert json.loads(methods(recorder)[0].content) == {"commit": "2222222"}
    matching = fake.add_scan(commit="2222222bbbb", age=10)
    again = run(adapter, fake_time, repository="repo_a", commit="2222222", max_age="1h", force=False)
    assert again["changed"] is False and again["scan"]["id"] in (matching["id"], result["scan"]["id"])


def test_force_triggers_even_with_a_recent_scan(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.add_scan(age=60)
    result = run(adapter, fake_time, repository="repo_a", max_age="1h", force=True)
    assert (result["changed"], result["reused"]) == (True, False)
    assert len(methods(recorder)) == 1


def test_conflict_adopts_a_running_scan_of_the_same_target(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    running = fake.add_scan(status="running", branch="main")
    result = run(adapter, fake_time, repository="repo_a", force=True)
    assert (result["changed"], result["reused"]) == (False, True)
    assert result["scan"]["id"] == running["id"]
    assert len(methods(recorder)) == 1
    assert any(running["id"] in w for w in result["warnings"])


# -- issue 19, item 1: the 409 is per repository; another branch's or type's scan is never judged as ours ---------
@pytest.mark.parametrize("branch, scan_type, commit", [("develop", "full", "a1b2c3d4e5f6"), ("main", "full", "a1b2c3d4e5f6"),
                                                       ("develop", "static", "a1b2c3d4e5f6"), ("main", "static", "9999999aaaa")])
def test_conflict_with_a_scan_of_another_target_waits_for_it_then_triggers(cloudgeni, fake_time, branch, scan_type, commit):
    fake, adapter, recorder = cloudgeni(polls_to_finish=3)
    other = fake.add_scan(status="running", branch=branch, scan_type=scan_type, commit=commit)
    wanted = dict(repository="myorg/infrastructure", branch="main", scan_type="static", fail_on="high")
    if commit != "a1b2c3d4e5f6":
        wanted["commit"] = "a1b2c3d"
    failure = fail(adapter, fake_time, force=True, **wanted)
    scan = failure.result["scan"]["raw"]
    assert scan["id"] != other["id"]
    assert (scan["branch"], scan["type"]) == ("main", "static")
    assert failure.result["reused"] is False and failure.result["changed"] is True
    # The other scan finished before this one was triggered, and the gate names this one.
    assert other["status"] == "completed" and scan["createdAt"] >= other["completedAt"]
    assert "gate failed for cloudgeni scan %s" % scan["id"] in failure.msg
    assert len(methods(recorder)) == 2 and fake.conflicts == 1


def test_conflict_waits_within_the_one_wait_timeout(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni(polls_to_finish=1000)
    other = fake.add_scan(status="running", branch="develop")
    failure = fail(adapter, fake_time, repository="repo_a", branch="main", wait_timeout=30, wait_sleep=5)
    assert "scan %s (branch develop" % other["id"] in failure.msg
    assert "still running after the wait_timeout of 30 s, so the scan of repository repo_a, branch main, type static " \
           "was not triggered" in failure.msg
    assert failure.result["scan"] is None and failure.result["timed_out"] is True and failure.result["changed"] is False
    assert sum(fake_time.sleeps) <= 30.0 + 1e-9
    assert len(methods(recorder)) == 1
    warned = run(adapter, fake_time, repository="repo_a", branch="main", wait_timeout=10, wait_sleep=5, on_timeout="warn",
                 fail_on="info")
    assert warned["scan"] is None and warned["gate"] is None and warned["timed_out"] is True
    assert any("was not triggered" in w for w in warned["warnings"])


def test_conflict_with_another_target_fails_with_on_conflict_fail(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    other = fake.add_scan(status="running", branch="develop", scan_type="full")
    failure = fail(adapter, fake_time, repository="repo_a", branch="main", on_conflict="fail")
    assert failure.msg.startswith("Trigger scan of myorg/infrastructure (main): A scan is already running for this repository "
                                  "(HTTP 409 conflict); CloudGeni refused the scan because scan %s (branch develop, type full"
                                  % other["id"])
    assert "which is not a scan of repository repo_a, branch main, type static (on_conflict=fail)" in failure.msg
    assert failure.result["scan"] is None and failure.result["reused"] is False
    assert len(methods(recorder)) == 1 and len(fake.scans) == 1


# -- check mode -------------------------------------------------------------------------------------------
def test_check_mode_reports_change_without_trigger(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    result = run(adapter, fake_time, check_mode=True, repository="repo_a", max_age="1h")
    assert result["changed"] is True and result["scan"] is None and result["gate"] is None
    assert methods(recorder) == [] and fake.scans == []


def test_check_mode_evaluates_gate_on_reused_scan(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.add_scan(age=60)
    failure = fail(adapter, fake_time, check_mode=True, repository="repo_a", max_age="1h", fail_on="high")
    assert failure.result["changed"] is False
    assert "1 high" in failure.msg
    assert methods(recorder) == []


# -- duplicates ------------------------------------------------------------------------------------------
def test_lost_answer_adopts_the_scan_it_created(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.post_action = lambda request: httpx.RemoteProtocolError("Server disconnected", request=request)
    result = run(adapter, fake_time, repository="repo_a")
    assert len(methods(recorder)) == 1 and len(fake.scans) == 1
    assert result["changed"] is True and result["scan"]["id"] == fake.scans[0]["id"]
    assert any("was found" in w for w in result["warnings"])


def test_lost_answer_without_a_new_scan_triggers_once_more(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.add_scan(age=30)  # an older scan must not be mistaken for the lost one
    calls = []

    def drop_before_creating(request):
        calls.append(1)
        if len(calls) == 1:
            fake.scans.pop()  # the vendor never stored it
            return httpx.ReadTimeout("timed out", request=request)
        return None
    fake.post_action = drop_before_creating
    result = run(adapter, fake_time, repository="repo_a")
    assert len(methods(recorder)) == 2
    assert len(fake.scans) == 2 and result["scan"]["id"] == fake.scans[-1]["id"]


# -- waiting ----------------------------------------------------------------------------------------------
def test_wait_false_returns_the_id_at_once(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    result = run(adapter, fake_time, repository="repo_a", wait=False, fail_on="info")
    assert result["scan"]["id"] == fake.scans[0]["id"] and result["scan"]["status"] == "queued"
    assert result["gate"] is None and fake_time.sleeps == []


def test_polling_keeps_the_vendor_interval_for_a_young_scan(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni(polls_to_finish=6)
    run(adapter, fake_time, repository="repo_a")
    # 25 s waited at most: a fifth of it never exceeds the 5 s default, so a short scan is seen within 5 s.
    assert fake_time.sleeps == [5.0] * len(fake_time.sleeps) and len(fake_time.sleeps) >= 5


def test_polling_backs_off_for_a_long_scan(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni(polls_to_finish=30)
    run(adapter, fake_time, repository="repo_a")
    assert fake_time.sleeps[0] == 5.0
    assert all(b >= a for a, b in zip(fake_time.sleeps, fake_time.sleeps[1:]))
    assert fake_time.sleeps[-1] == 60.0 and max(fake_time.sleeps) <= 60.0
    # Each wait is at most a fifth of the time already waited, once past the default.
    waited = 0.0
    for sleep in fake_time.sleeps:
        assert sleep <= max(5.0, waited * 0.2) + 1e-9
        waited += sleep


def test_timeout_fails_with_scan_id_and_status(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni(polls_to_finish=1000)
    failure = fail(adapter, fake_time, repository="repo_a", wait_timeout=20, wait_sleep=4)
    scan_id = fake.scans[0]["id"]
    assert scan_id in failure.msg and "running" in failure.msg
    assert failure.result["scan"]["id"] == scan_id and failure.result["timed_out"] is True
    assert failure.result["changed"] is True
    assert sum(fake_time.sleeps) <= 20.0 + 1e-9


def test_timeout_warns_when_asked(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni(polls_to_finish=1000)
    result = run(adapter, fake_time, repository="repo_a", wait_timeout=10, wait_sleep=2, on_timeout="warn", fail_on="low")
    assert result["timed_out"] is True and result["gate"] is None
    assert result["scan"]["id"] == fake.scans[0]["id"]
    assert any(fake.scans[0]["id"] in w for w in result["warnings"])


# -- gate and findings ----------------------------------------------------------------------------------
def test_gate_failure_names_the_counts(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni(summary={"total": 5, "critical": 2, "high": 3, "medium": 0, "low": 0, "info": 0})
    failure = fail(adapter, fake_time, repository="repo_a", max_findings={"critical": 0, "high": 5})
    assert "2 critical findings (at most 0 allowed)" in failure.msg
    assert failure.result["gate"]["passed"] is False and failure.result["changed"] is True
    # The summary cannot tell which findings CloudGeni marked suppressed or resolved: the findings are read.
    assert failure.result["gate"]["counts_source"] == "findings"
    assert len([r for r in recorder.requests if r.url.path.endswith("/findings")]) == 1


def test_a_summary_of_no_findings_is_enough(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni(summary={"total": 0, "critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0})
    result = run(adapter, fake_time, repository="repo_a", fail_on="low")
    assert result["gate"]["passed"] is True and result["gate"]["counts_source"] == "summary"
    assert not [r for r in recorder.requests if r.url.path.endswith("/findings")]


def test_ignore_list_with_expired_entry(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.findings = [
        {"id": "f1", "checkId": "CKV_AWS_19", "severity": "high", "status": "open", "resource": {}},
        {"id": "f2", "checkId": "CKV_AWS_20", "severity": "high", "status": "open", "resource": {}},
    ]
    ignore = [{"id": "CKV_AWS_19", "reason": "accepted", "expires": "2030-01-01"},
              {"id": "ckv_aws_20", "reason": "was accepted", "expires": "2024-01-01"}]
    failure = fail(adapter, fake_time, repository="repo_a", fail_on="high", ignore=ignore, today="2025-06-01")
    gate = failure.result["gate"]
    assert gate["counts"]["high"] == 1
    assert [i["id"] for i in gate["ignored"]] == ["f1"]
    assert gate["expired_ignores"][0]["id"] == "ckv_aws_20"
    assert "1 high" in failure.msg and "expired" in failure.msg


# -- issue 19, item 5: the verdict does not depend on what is returned; triaged findings never count ------------
def test_suppressed_findings_do_not_count_whether_findings_are_returned_or_not(cloudgeni, fake_time, tmp_path):
    fake, adapter, recorder = cloudgeni(summary={"total": 3, "critical": 0, "high": 1, "medium": 1, "low": 1, "info": 0})
    fake.findings = [
        {"id": "f1", "checkId": "CKV_AWS_19", "severity": "high", "status": "suppressed", "resource": {}},
        {"id": "f2", "checkId": "CKV_AWS_20", "severity": "medium", "status": "open", "resource": {}},
        {"id": "f3", "checkId": "CKV_AWS_21", "severity": "low", "status": "resolved", "resource": {}},
    ]
    fake.add_scan(age=60)
    verdicts = []
    for extra in (dict(), dict(return_findings=True), dict(junit_path=str(tmp_path / "j.xml"))):
        result = run(adapter, fake_time, repository="repo_a", max_age="1h", fail_on="high", **extra)
        gate = result["gate"]
        verdicts.append((gate["passed"], gate["counts"], gate["counts_source"], [e["id"] for e in gate["excluded"]]))
    assert verdicts[0] == verdicts[1] == verdicts[2]
    assert verdicts[0] == (True, {"critical": 0, "high": 0, "medium": 1, "low": 0, "info": 0}, "findings", ["f1", "f3"])


# -- issue 19, item 8: a scan that did not complete fails on its status, ignore list or not, and is reported --------
@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
def test_failed_scan_with_an_ignore_list_fails_on_its_status_and_is_reported(cloudgeni, fake_time, tmp_path, outcome):
    fake, adapter, recorder = cloudgeni()
    fake.outcome = outcome
    junit = tmp_path / "gate.xml"
    failure = fail(adapter, fake_time, repository="repo_a", fail_on="high", junit_path=str(junit),
                   ignore=[{"id": "CKV_AWS_19", "reason": "accepted", "expires": "2030-01-01"}])
    scan_id = fake.scans[0]["id"]
    word = "failed" if outcome == "failed" else "was cancelled"
    assert failure.msg == "Scan gate of myorg/infrastructure (main): gate failed for cloudgeni scan %s: scan %s %s" % (
        scan_id, scan_id, word)
    assert failure.result["gate"]["counts_source"] == "none"
    assert failure.result["reports"] == [str(junit)]
    assert "scan %s %s" % (scan_id, word) in junit.read_text()
    assert not [r for r in recorder.requests if r.url.path.endswith("/findings")]


# -- issue 19, item 7: worst first, and every finding that broke the gate is returned and reported ---------------------
def test_findings_limit_keeps_the_worst_first_and_every_finding_that_failed_the_gate(cloudgeni, fake_time, tmp_path):
    fake, adapter, recorder = cloudgeni()
    low_and_medium = [{"id": "f%02d" % i, "checkId": "CKV_LOW_%d" % i, "severity": "low" if i % 2 else "medium",
                       "status": "open", "resource": {"file": "main.tf", "line": i + 1}} for i in range(21)]
    severe = [{"id": "c1", "checkId": "CKV_AWS_1", "severity": "critical", "status": "open", "resource": {}}] + [
        {"id": "h%d" % i, "checkId": "CKV_AWS_%d" % (10 + i), "severity": "high", "status": "open", "resource": {}} for i in range(8)]
    fake.findings = low_and_medium + severe  # the vendor lists the severe ones last
    paths = dict(sarif_path=str(tmp_path / "r.sarif"), junit_path=str(tmp_path / "r.xml"))
    failure = fail(adapter, fake_time, repository="repo_a", fail_on="high", findings_limit=5, return_findings=True, **paths)
    assert "findings at or above high: 1 critical, 8 high" in failure.msg
    returned = failure.result["findings"]
    assert [f["id"] for f in returned] == ["c1"] + ["h%d" % i for i in range(8)]
    assert failure.result["findings_truncated"] is True
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    assert sorted(r["properties"]["finding_id"] for r in sarif["runs"][0]["results"]) == sorted(f["id"] for f in returned)
    junit = (tmp_path / "r.xml").read_text()
    assert junit.count("<failure ") == 9 + 1  # nine findings and the fail_on check
    # With room to spare, the rest follow worst first, in the vendor's order within a severity.
    roomy = fail(adapter, fake_time, repository="repo_a", max_age="1h", fail_on="high", findings_limit=12, return_findings=True)
    assert [f["id"] for f in roomy.result["findings"]] == ["c1"] + ["h%d" % i for i in range(8)] + ["f00", "f02", "f04"]


def test_return_findings_is_bounded(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.findings = [{"id": "f%d" % i, "checkId": "C%d" % i, "severity": "low", "status": "open", "resource": {}} for i in range(5)]
    result = run(adapter, fake_time, repository="repo_a", return_findings=True, findings_limit=2)
    assert [f["id"] for f in result["findings"]] == ["f0", "f1"]
    assert result["findings_truncated"] is True
    assert result["gate"]["counts"]["low"] == 5


def test_api_calls_are_counted(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    result = run(adapter, fake_time, repository="repo_a")
    assert result["api_calls"]["total"] == len(recorder.requests)
    assert result["api_calls"]["POST"] == 1


# -- Penaxtra ----------------------------------------------------------------------------------------------
class FakePenaxtra(object):
    def __init__(self, fake_time, manual_left=2):
        self.time = fake_time
        self.runs = []  # newest first
        self.manual_left = manual_left
        self.reads = 0
        # What a POST starts: one "manual" run by default; the run shows in the list after ``visible_after`` reads.
        self.post_starts = ["manual"]
        self.visible_after = 0
        self.complete_after = 2
        self.pending = []

    def add_run(self, status="completed", age=0.0, trigger="manual"):
        started = self.time.wallclock() - age
        run = {"id": "00000000-0000-4000-8000-%012d" % (len(self.runs) + 1), "integration_id": INTEGRATION,
               "trigger": trigger, "started_at": iso(started), "status": status, "finding_count": 1,
               "completed_at": iso(started + 5) if status == "completed" else None}
        self.runs.insert(0, run)
        return run

    def __call__(self, request):
        if request.url.path == "/api/v2/cloud-posture-runs" and request.method == "POST":
            if self.manual_left <= 0:
                return json_response(429, {"error": "rate_limited", "retry_after_seconds": 3600})
            self.manual_left -= 1
            for trigger in self.post_starts:
                self.pending.append((self.reads + self.visible_after, trigger))
            return json_response(202, {"accepted": True, "integration_id": INTEGRATION, "trigger": "manual",
                                       "poll": "/api/v2/cloud-posture-runs"})
        if request.url.path == "/api/v2/cloud-posture-runs":
            for due, trigger in [p for p in self.pending if p[0] <= self.reads]:
                self.pending.remove((due, trigger))
                self.add_run(status="running", trigger=trigger)
            self.reads += 1
            for run in self.runs:
                if run["status"] == "running" and self.reads > self.complete_after:
                    run["status"] = "completed"
                    run["completed_at"] = iso(self.time.wallclock())
            return json_response(200, {"data": self.runs})
        if request.url.path == "/api/v2/findings":
            return json_response(200, {"data": [{"id": "pf1", "scan_id": self.runs[0]["id"], "severity": "medium",
                                                 "status": "open", "control_id": "IAM-1"}]})
        return json_response(404, {"error": "not_found"})


def test_penaxtra_finds_the_run_it_started_and_polls_every_10_s(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.add_run(age=7200, trigger="scheduled")
    adapter, recorder = make_adapter("penaxtra", fake)
    result = run(adapter, fake_time, integration_id=INTEGRATION)
    assert result["changed"] is True and result["scan"]["id"] == fake.runs[0]["id"]
    assert result["gate"]["counts"]["medium"] == 1
    assert fake_time.sleeps and min(fake_time.sleeps) >= 10.0


# -- issue 19, item 4: a 202 without a run is never a pass; locate and wait share one wait_timeout --------------
def test_penaxtra_202_followed_by_no_new_run_fails(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.post_starts = []
    adapter, recorder = make_adapter("penaxtra", fake)
    failure = fail(adapter, fake_time, integration_id=INTEGRATION, wait_timeout=60, fail_on="critical")
    assert failure.msg == ("Find the run started on integration %s: Penaxtra accepted the run of integration %s (HTTP 202), "
                           "but no new run appeared in its run list within the wait_timeout of 60 s, so no scan was judged"
                           % (INTEGRATION, INTEGRATION))
    assert failure.result["changed"] is True and failure.result["scan"] is None and failure.result["gate"] is None
    assert failure.result["timed_out"] is True
    assert sum(fake_time.sleeps) <= 60.0 + 1e-9 and min(fake_time.sleeps) >= 10.0
    warned = run(adapter, fake_time, integration_id=INTEGRATION, wait_timeout=20, on_timeout="warn", fail_on="critical")
    assert warned["timed_out"] is True and warned["scan"] is None and warned["gate"] is None
    assert any("no scan was judged" in w for w in warned["warnings"])


def test_penaxtra_202_without_wait_still_returns_the_run(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.visible_after = 2
    adapter, recorder = make_adapter("penaxtra", fake)
    result = run(adapter, fake_time, integration_id=INTEGRATION, wait=False)
    assert result["scan"]["id"] == fake.runs[0]["id"] and result["changed"] is True


def test_penaxtra_locating_and_waiting_share_one_wait_timeout(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.visible_after = 4  # the run shows after 40 s of looking
    fake.complete_after = 1000
    adapter, recorder = make_adapter("penaxtra", fake)
    failure = fail(adapter, fake_time, integration_id=INTEGRATION, wait_timeout=60)
    assert "still running after the wait_timeout of 60 s" in failure.msg
    assert failure.result["scan"]["id"] == fake.runs[0]["id"]
    assert sum(fake_time.sleeps) == pytest.approx(60.0)


def test_penaxtra_two_new_runs_after_the_202_are_both_reported_and_none_claimed(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.post_starts = ["manual", "manual"]  # another controller triggered at the same moment
    adapter, recorder = make_adapter("penaxtra", fake)
    failure = fail(adapter, fake_time, integration_id=INTEGRATION, fail_on="critical")
    ids = sorted(r["id"] for r in fake.runs)
    assert "2 new runs of integration %s appeared after it" % INTEGRATION in failure.msg
    assert all(run_id in failure.msg for run_id in ids)
    assert sorted(c["id"] for c in failure.result["candidates"]) == ids
    assert failure.result["scan"] is None and failure.result["gate"] is None and failure.result["changed"] is True


def test_penaxtra_a_scheduled_run_starting_beside_ours_is_not_claimed(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.post_starts = ["manual", "scheduled"]  # the scheduled one is newer in the list
    adapter, recorder = make_adapter("penaxtra", fake)
    result = run(adapter, fake_time, integration_id=INTEGRATION)
    manual = next(r for r in fake.runs if r["trigger"] == "manual")
    assert fake.runs[0]["trigger"] == "scheduled"
    assert result["scan"]["id"] == manual["id"]


def test_penaxtra_run_pushed_out_of_the_newest_100_fails_clearly(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.complete_after = 1000
    original = fake.__call__

    def busy_tenant(request):
        answer = original(request)
        if request.method == "GET" and fake.reads == 2:
            # A hundred runs of other integrations start: ours is now the 101st.
            for number in range(100):
                fake.runs.insert(0, dict(fake.runs[-1], id="ffffffff-0000-4000-8000-%012d" % number,
                                         integration_id="7a2d4f6b-1c3e-4a5b-8d7f-9e0a1b2c3d4e"))
            del fake.runs[100:]
        return answer

    adapter, recorder = make_adapter("penaxtra", busy_tenant)
    failure = fail(adapter, fake_time, integration_id=INTEGRATION)
    assert "is no longer among the 100 newest runs Penaxtra lists, so its status cannot be read" in failure.msg
    assert failure.msg.startswith("Poll scan ")
    assert sum(fake_time.sleeps) < 60


def test_newest_failed_scan_is_not_hidden_by_reusing_an_older_completed_one(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.add_scan(age=1200)
    newest = fake.add_scan(status="failed", age=600)
    result = run(adapter, fake_time, repository="repo_a", max_age="1h")
    assert result["reused"] is False and result["changed"] is True
    assert result["scan"]["id"] not in (newest["id"], fake.scans[0]["id"])
    assert len(methods(recorder)) == 1


def test_penaxtra_verify_runs_are_never_reused(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    fake.add_run(age=60, trigger="verify")
    adapter, recorder = make_adapter("penaxtra", fake)
    result = run(adapter, fake_time, integration_id=INTEGRATION, max_age="1h")
    assert result["changed"] is True and len(methods(recorder)) == 1


def test_penaxtra_429_says_when_the_next_run_is_allowed(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time, manual_left=0)
    adapter, recorder = make_adapter("penaxtra", fake, retries=0)
    failure = fail(adapter, fake_time, integration_id=INTEGRATION)
    assert "HTTP 429 rate_limited" in failure.msg
    assert "next manual run of this integration is allowed at %s" % iso(fake_time.wallclock() + 3600) in failure.msg


def test_penaxtra_429_reuses_a_run_max_age_allows(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time, manual_left=0)
    recent = fake.add_run(age=1800)
    adapter, recorder = make_adapter("penaxtra", fake, retries=0)
    result = run(adapter, fake_time, integration_id=INTEGRATION, max_age="1h", force=True)
    assert (result["changed"], result["reused"]) == (False, True)
    assert result["scan"]["id"] == recent["id"]
    assert any("next manual run" in w for w in result["warnings"])


def test_scan_id_judges_that_scan_even_when_a_newer_one_failed_and_starts_none(make_adapter, fake_time, tmp_path):
    # The EDA gate's case: an event names a completed run; a newer run of the integration failed since.
    fake = FakePenaxtra(fake_time)
    judged = fake.add_run(age=120)
    fake.add_run(status="failed", age=30)
    adapter, recorder = make_adapter("penaxtra", fake)
    sarif = str(tmp_path / "run.sarif")
    result = run(adapter, fake_time, integration_id=INTEGRATION, scan_id=judged["id"], fail_on="high", sarif_path=sarif)
    assert (result["scan"]["id"], result["reused"], result["changed"]) == (judged["id"], True, False)
    assert result["gate"]["passed"] is True and result["reports"] == [sarif]
    assert methods(recorder) == []


def test_scan_id_of_a_running_scan_is_waited_for(make_adapter, fake_time):
    fake = FakePenaxtra(fake_time)
    running = fake.add_run(status="running")
    adapter, recorder = make_adapter("penaxtra", fake)
    result = run(adapter, fake_time, integration_id=INTEGRATION, scan_id=running["id"])
    assert result["scan"]["status"] == "completed" and methods(recorder) == []


@pytest.mark.parametrize("option", [{"force": True}, {"max_age": "1h"}])
def test_scan_id_refuses_options_that_would_pick_another_scan(make_adapter, fake_time, option):
    adapter, recorder = make_adapter("penaxtra", FakePenaxtra(fake_time))
    failure = fail(adapter, fake_time, integration_id=INTEGRATION, scan_id="00000000-0000-4000-8000-000000000001", **option)
    assert "does not apply with scan_id" in failure.msg and recorder.requests == []


# -- scan_info -----------------------------------------------------------------------------------------------
def test_scan_info_lists_with_filters(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    fake.add_scan(age=100)
    fake.add_scan(branch="develop", age=50)
    scans = scan_info(adapter, params(repository="myorg/infrastructure", branch="develop"))
    assert [s["raw"]["branch"] for s in scans] == ["develop"]
    assert scans[0]["provider"] == "cloudgeni" and scans[0]["status"] == "completed"
    assert methods(recorder) == []


def test_scan_info_sort_is_harborguard_only(cloudgeni, fake_time):
    fake, adapter, recorder = cloudgeni()
    with pytest.raises(ScanFailure) as info:
        scan_info(adapter, params(repository="repo_a", sort="scannedAt:desc"))
    assert "sort" in info.value.msg and recorder.requests == []


def test_epoch_reference_is_stable():
    # The fakes build timestamps from EPOCH; iso() must round-trip it to whole seconds.
    assert iso(EPOCH) == "2023-11-14T22:13:20Z"


# -- bulk mode (targets) -------------------------------------------------------------------------------
def locked(handler):
    """Serialize a fake vendor: bulk mode calls it from several threads."""
    lock = threading.Lock()

    def answer(request):
        with lock:
            return handler(request)
    return answer


@pytest.fixture
def bulk_cloudgeni(make_adapter, fake_time):
    fake = FakeCloudGeni(fake_time, polls_to_finish=1)
    adapter, recorder = make_adapter("cloudgeni", locked(fake), api_url="https://cg.example.test/api/v1")
    return fake, adapter, recorder


def bulk(adapter, fake_time, check_mode=False, **options):
    options.setdefault("concurrency", 4)
    return run(adapter, fake_time, check_mode=check_mode, **options)


THREE = [dict(repository="repo_a", name="a"), dict(repository="repo_b"), dict(repository="repo_c", branch="trunk")]


@pytest.mark.parametrize("options, expected", [
    (dict(targets=[], concurrency=4), "targets must list at least one target"),
    (dict(targets=[dict(repository="repo_a")], repository="repo_b", concurrency=4),
     "targets is mutually exclusive with the top-level target options; remove repository"),
    (dict(targets=[dict(repository="repo_a"), dict(branch="main")], concurrency=4),
     "CloudGeni needs the targets[1].repository option"),
    (dict(targets=[dict(repository="repo_a"), dict(repository="repo_b", commit="zz")], concurrency=4),
     "targets[1].commit 'zz' is not a commit SHA"),
    (dict(targets=[dict(repository="repo_a", image="x:1")], concurrency=4), "targets[0].image is not an option for CloudGeni"),
    (dict(targets=[dict(repository="repo_a", colour="red")], concurrency=4), "targets[0].colour is not a target option"),
    (dict(targets=[dict(repository="repo_a"), dict(repository="repo_a")], concurrency=4),
     "targets[1] names the same target as targets[0]"),
    (dict(targets=[dict(repository="repo_a", name="x"), dict(repository="repo_b", name="x")], concurrency=4),
     "targets[1].name 'x' is already the name of targets[0]"),
    (dict(targets=[dict(repository="repo_a")], concurrency=0), "concurrency must be between 1 and 32"),
    (dict(targets=[dict(repository="repo_a")], concurrency=4, max_age="soon"), "max_age"),
])
def test_bulk_bad_input_fails_before_any_request(bulk_cloudgeni, fake_time, options, expected):
    _fake, adapter, recorder = bulk_cloudgeni
    failure = fail(adapter, fake_time, **options)
    assert expected in failure.msg
    assert failure.msg.startswith("Invalid options: ")
    assert recorder.requests == []


def test_bulk_triggers_each_target_then_reuses_then_check_mode(bulk_cloudgeni, fake_time):
    fake, adapter, recorder = bulk_cloudgeni
    first = bulk(adapter, fake_time, targets=THREE, max_age="1h", fail_on="critical")
    assert first["changed"] is True and first["reused"] is False and first["scan"] is None
    assert [e["name"] for e in first["scans"]] == ["targets[0] (a)", "targets[1] (platform/infrastructure (main))",
                                                   "targets[2] (myorg/networking (trunk))"]
    assert [e["target"] for e in first["scans"]] == ["myorg/infrastructure (main)", "platform/infrastructure (main)",
                                                     "myorg/networking (trunk)"]
    assert len(methods(recorder)) == 3
    assert sorted(e["scan"]["id"] for e in first["scans"]) == sorted(s["id"] for s in fake.scans)
    assert [e["scan"]["raw"]["repositoryId"] for e in first["scans"]] == ["repo_a", "repo_b", "repo_c"]
    assert all(e["changed"] and e["gate"]["passed"] and "error" not in e for e in first["scans"])
    assert first["gate"]["passed"] is True and first["gate"]["not_evaluated"] == []
    # One policy for every target, carried like a single target's gate does.
    assert first["gate"]["policy"] == first["scans"][0]["gate"]["policy"] and first["gate"]["policy"]["fail_on"] == "critical"
    assert first["gate"]["counts"]["high"] == 3  # one high finding per scan's summary, summed
    assert first["api_calls"]["POST"] == 3
    second = bulk(adapter, fake_time, targets=THREE, max_age="1h", fail_on="critical")
    assert second["changed"] is False and second["reused"] is True
    assert [e["scan"]["id"] for e in second["scans"]] == [e["scan"]["id"] for e in first["scans"]]
    assert len(methods(recorder)) == 3
    checked = bulk(adapter, fake_time, check_mode=True, targets=THREE + [dict(repository="repo_a", branch="dev")],
                   max_age="1h")
    assert checked["changed"] is True
    assert [e["changed"] for e in checked["scans"]] == [False, False, False, True]
    assert checked["scans"][3]["scan"] is None and checked["gate"]["not_evaluated"] == ["targets[3] (myorg/infrastructure (dev))"]
    assert len(methods(recorder)) == 3


def test_bulk_gate_failure_names_each_target(bulk_cloudgeni, fake_time):
    fake, adapter, _recorder = bulk_cloudgeni
    failure = fail(adapter, fake_time, targets=THREE, fail_on="high", concurrency=2)
    gate = failure.result["gate"]
    assert gate["passed"] is False and len(gate["reasons"]) == 3
    assert gate["reasons"][0].startswith("targets[0] (a): ")
    assert failure.msg.startswith("Scan gate of 3 targets: gate failed for 3 of 3 targets: targets[0] (a): ")
    assert failure.result["changed"] is True and len(fake.scans) == 3


def test_bulk_one_failing_target_does_not_stop_the_others(bulk_cloudgeni, fake_time):
    fake, adapter, recorder = bulk_cloudgeni
    targets = [dict(repository="repo_a"), dict(repository="nope", name="missing"), dict(repository="repo_c")]
    failure = fail(adapter, fake_time, targets=targets, max_age="1h")
    entries = failure.result["scans"]
    assert [("error" in e) for e in entries] == [False, True, False]
    assert "no repository matches repository 'nope'" in entries[1]["error"]
    assert entries[0]["scan"]["status"] == entries[2]["scan"]["status"] == "completed"
    assert failure.msg.startswith("Run scans of 3 targets: 1 of 3 targets failed: targets[1] (missing): Resolve scan target nope")
    started = [e["scan"]["id"] for e in (entries[0], entries[2])]
    assert "scans started by this run: targets[0] (myorg/infrastructure (main)): %s, targets[2] (myorg/networking (trunk)): %s" \
        % tuple(started) in failure.msg
    assert len(methods(recorder)) == 2 and len(fake.scans) == 2


def test_bulk_wait_failure_reports_the_started_scan_and_a_rerun_adopts_it(bulk_cloudgeni, fake_time):
    fake, adapter, recorder = bulk_cloudgeni
    fake.polls_to_finish = 1000
    failure = fail(adapter, fake_time, targets=THREE[:2], wait_timeout=5, wait_sleep=1)
    assert [e["timed_out"] for e in failure.result["scans"]] == [True, True]
    assert all(e["changed"] and e["scan"]["id"] in failure.msg for e in failure.result["scans"])
    fake.polls_to_finish = 1
    fake.polls.clear()
    again = bulk(adapter, fake_time, targets=THREE[:2], max_age="1h")
    assert again["changed"] is False and again["reused"] is True
    assert len(methods(recorder)) == 2


def test_bulk_same_repository_runs_one_after_another(bulk_cloudgeni, fake_time):
    # Concurrent CloudGeni triggers on one repository would answer 409 and adopt the other branch's scan.
    fake, adapter, _recorder = bulk_cloudgeni
    result = bulk(adapter, fake_time, targets=[dict(repository="repo_a", branch="main"), dict(repository="repo_a", branch="dev")])
    assert [e["reused"] for e in result["scans"]] == [False, False]
    assert [e["scan"]["raw"]["branch"] for e in result["scans"]] == ["main", "dev"]
    assert len(fake.scans) == 2


def test_bulk_one_repository_named_two_ways_scans_both_branches(make_adapter, fake_time):
    """Issue 19, item 2: repo_a and myorg/infrastructure are one repository, so its targets run one after another."""
    fake = FakeCloudGeni(fake_time, polls_to_finish=2)
    inner = locked(fake)
    # Two triggers sent at the same moment meet here (the race the old option-string grouping allowed).
    barrier = threading.Barrier(2, timeout=0.3)

    def handler(request):
        if request.method == "POST":
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return inner(request)

    adapter, recorder = make_adapter("cloudgeni", handler, api_url="https://cg.example.test/api/v1")
    result = run(adapter, fake_time, targets=[dict(repository="repo_a", branch="main"),
                                              dict(repository="myorg/infrastructure", branch="develop")], concurrency=4)
    scans = [e["scan"]["raw"] for e in result["scans"]]
    assert [(s["repositoryId"], s["branch"]) for s in scans] == [("repo_a", "main"), ("repo_a", "develop")]
    assert scans[0]["id"] != scans[1]["id"]
    assert [e["reused"] for e in result["scans"]] == [False, False]
    assert fake.conflicts == 0 and len(methods(recorder)) == 2


def test_bulk_reports_cover_every_target(bulk_cloudgeni, fake_time, tmp_path):
    _fake, adapter, _recorder = bulk_cloudgeni
    result = bulk(adapter, fake_time, targets=THREE, sarif_path=str(tmp_path / "all.sarif"), markdown_path=str(tmp_path / "all.md"))
    assert sorted(os.path.basename(p) for p in result["reports"]) == ["all.md", "all.sarif"]
    sarif = json.loads((tmp_path / "all.sarif").read_text())
    assert len(sarif["runs"]) == 3


def test_bulk_runs_targets_concurrently_on_one_client(make_adapter):
    """Requests of different targets overlap on the one adapter with concurrency > 1, and never with concurrency 1."""
    clock = FakeTime()
    fake = FakeCloudGeni(clock, polls_to_finish=1)
    inner = locked(fake)
    active, peak = [0], [0]
    guard = threading.Lock()

    def slow(request):
        with guard:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        try:
            return inner(request)
        finally:
            with guard:
                active[0] -= 1

    adapter, recorder = make_adapter("cloudgeni", slow, api_url="https://cg.example.test/api/v1")
    targets = [dict(repository=r) for r in ("repo_a", "repo_b", "repo_c")]
    result = run_scan(adapter, params(targets=targets, concurrency=3, wait_sleep=0), sleep=lambda s: None)
    assert result["changed"] is True and len(methods(recorder)) == 3
    assert peak[0] >= 2
    peak[0] = 0
    adapter2, recorder2 = make_adapter("cloudgeni", slow, api_url="https://cg.example.test/api/v1")
    run_scan(adapter2, params(targets=targets, concurrency=1, wait_sleep=0, force=True), sleep=lambda s: None)
    assert peak[0] == 1 and len(methods(recorder2)) == 3


# -- two runs on one controller converge the same target -----------------------------------------------------------
class RacyHarborGuard(object):
    """A HarborGuard whose scan list is read by two runs before either triggers, unless something serializes them.

    Every list read waits (at most ``rendezvous`` seconds) for a second list read; without a lock both runs get
    past it having seen no scan and both trigger.
    """

    def __init__(self, rendezvous=1.0):
        self.scans = []
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(2, timeout=rendezvous)

    def __call__(self, request):
        if request.method == "GET" and request.url.path == "/api/scans":
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                pass
            with self.lock:
                data = [dict(s) for s in reversed(self.scans)]
            return json_response(200, {"data": data, "meta": {"page": 1, "pageSize": 100, "total": len(data), "totalPages": 1,
                                                              "hasNext": False, "hasPrev": False}})
        if request.method == "POST" and request.url.path == "/api/scans":
            with self.lock:
                scan = {"id": "scn-%d" % (len(self.scans) + 1), "status": "QUEUED", "image": {"name": "ghcr.io/acme/api", "tag": "9.9"},
                        "createdAt": iso(time.time())}
                self.scans.append(scan)
            return json_response(201, {"scanId": scan["id"], "status": "QUEUED", "message": "queued"})
        return json_response(404, {"error": {"code": "NOT_FOUND", "message": "no route", "issues": []}})


def test_two_runs_on_one_controller_start_one_scan(make_adapter):
    vendor = RacyHarborGuard()
    results, errors = [], []

    def one_run():
        adapter, _rec = make_adapter("harborguard", vendor, api_url="https://hg.example.test")
        try:
            results.append(run_scan(adapter, params(image="ghcr.io/acme/api:9.9", wait=False), wallclock=time.time))
        except Exception as err:  # pylint: disable=broad-except
            errors.append(err)

    threads = [threading.Thread(target=one_run) for _index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(vendor.scans) == 1
    assert sorted(r["scan"]["id"] for r in results) == ["scn-1", "scn-1"]
    assert sorted((r["changed"], r["reused"]) for r in results) == [(False, True), (True, False)]


def test_check_mode_takes_no_lock_and_a_busy_lock_fails_clearly(make_adapter, monkeypatch):
    from ansible_collections.scanops.security.plugins.module_utils import scans
    from ansible_collections.scanops.security.plugins.module_utils.client import origin_of
    from ansible_collections.scanops.security.plugins.module_utils.controller_lock import controller_lock
    vendor = RacyHarborGuard(rendezvous=0.01)
    adapter, _rec = make_adapter("harborguard", vendor, api_url="https://hg.example.test")
    wanted = params(image="ghcr.io/acme/api:9.9", wait=False, wait_timeout=0)
    strategy = scans.strategy_for(adapter, wanted)
    strategy.resolve()
    key = ("scan", origin_of("https://hg.example.test"), adapter.organization, strategy.identity())
    monkeypatch.setattr(scans, "TARGET_LOCK_TIMEOUT", 0.1)
    with controller_lock(key, 1):
        checked = run_scan(adapter, dict(wanted), check_mode=True)
        assert checked["changed"] is True
        with pytest.raises(ScanFailure) as info:
            run_scan(adapter, dict(wanted))
    assert info.value.msg.startswith("Wait for the other run on this controller that is starting a scan of image ghcr.io/acme/api:9.9: "
                                     "another process on this controller held the lock")
    assert vendor.scans == []


def test_without_a_usable_lock_directory_the_run_goes_on_with_a_warning(make_adapter, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("SCANOPS_CACHE_DIR", str(blocker))
    vendor = RacyHarborGuard(rendezvous=0.01)
    adapter, _rec = make_adapter("harborguard", vendor, api_url="https://hg.example.test")
    warnings = []
    result = run_scan(adapter, params(image="ghcr.io/acme/api:9.9", wait=False), warn=warnings.append)
    assert result["changed"] is True and len(vendor.scans) == 1
    assert len(warnings) == 1 and "without the controller lock another run on this controller could start a second scan" in warnings[0]
