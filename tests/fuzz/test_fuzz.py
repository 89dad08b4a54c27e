# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module, every option, every bad value: a clean failure naming the option, before any request."""

import collections
import time

import pytest

import fuzz_harness
from fuzz_harness import SUMMARY, Case, RequestLog, generate, judge, module_names, run_case, run_cases

from ansible_collections.scanops.security.tests.utils.module_runner import ModuleRun

MINIMUM_CASES = 1000
COUNTS = collections.OrderedDict()


@pytest.fixture(scope="module")
def all_cases(emulator_url):
    return generate(emulator_url)


@pytest.fixture(scope="module")
def request_log(admin_http):
    return RequestLog(admin_http)


def test_every_module_is_discovered_and_fuzzed(all_cases):
    names = module_names()
    covered = collections.Counter(case.module for case in all_cases)
    assert names and set(covered) == set(names), "modules without cases: %s" % sorted(set(names) - set(covered))
    assert len(all_cases) >= MINIMUM_CASES


@pytest.mark.parametrize("module", module_names())
def test_bad_values_fail_cleanly_before_any_request(module, all_cases, request_log):
    cases = [case for case in all_cases if case.module == module]
    started = time.monotonic()
    run_cases(cases, request_log)
    elapsed = time.monotonic() - started
    _count(module, cases, elapsed)
    broken = [case for case in cases if case.problems]
    assert not broken, "%d of %d cases of %s went wrong:\n%s" % (
        len(broken), len(cases), module, "\n".join("%s -> %s" % (case.id, "; ".join(case.problems)) for case in broken[:40]))


def _count(module, cases, elapsed):
    row = collections.Counter()
    for case in cases:
        result = case.result or {}
        row["cases"] += 1
        failed = bool(result.get("failed"))
        row["failed"] += failed
        row["failed before any request"] += failed and not case.requests
        row["message names the option"] += not any(p.startswith("message does not name") for p in case.problems)
        row["tracebacks"] += any(p.startswith("traceback") for p in case.problems)
        row["requests sent"] += len(case.requests)
        row["secret leaks"] += any("credential" in p for p in case.problems)
    row["options"] = len(set(case.option for case in cases))
    row["baselines"] = len(set(case.provider for case in cases))
    COUNTS[module] = (row, elapsed)
    total = collections.Counter()
    seconds = 0.0
    header = ("module", "cases", "options", "failed", "pre-req", "named", "tracebacks", "requests", "leaks", "secs")
    lines = ["%-24s %6s %8s %7s %9s %7s %11s %9s %8s %6s" % header]
    for name, (counts, spent) in COUNTS.items():
        total.update(counts)
        seconds += spent
        lines.append("%-24s %6d %8d %7d %9d %7d %11d %9d %8d %6.1f" % (
            name, counts["cases"], counts["options"], counts["failed"], counts["failed before any request"],
            counts["message names the option"], counts["tracebacks"], counts["requests sent"], counts["secret leaks"], spent))
    lines.append("%-24s %6d %8d %7d %9d %7d %11d %9d %8d %6.1f" % (
        "all", total["cases"], total["options"], total["failed"], total["failed before any request"],
        total["message names the option"], total["tracebacks"], total["requests sent"], total["secret leaks"], seconds))
    lines.append("fuzz: %d cases over %d modules: %d failed, %d failed before any request, %d named the option, "
                 "%d tracebacks, %d requests reached the emulator, %d secret leaks"
                 % (total["cases"], len(COUNTS), total["failed"], total["failed before any request"],
                    total["message names the option"], total["tracebacks"], total["requests sent"], total["secret leaks"]))
    SUMMARY["fuzz suite: bad inputs derived from every module's argument spec (pre-req = failed before any request)"] = lines


# -- the checks can fail --------------------------------------------------------------------------------------------
def _judged(result, output=None, requests=(), option="timeout"):
    case = Case("scan_info", "harborguard", option, "test", {}, ("hunter2-secret",))
    case.result = result
    case.output = output if output is not None else repr(result)
    case.crashed = ModuleRun(case.output, result).crashed
    case.requests = list(requests)
    judge(case)
    return case.problems


def test_judge_accepts_a_clean_early_failure():
    assert _judged({"failed": True, "msg": "timeout: must be a finite number (got nan)"}) == []


@pytest.mark.parametrize("result,output,requests,fragment", [
    ({"changed": False}, None, (), "did not fail"),
    (None, "Traceback (most recent call last):\n  boom", (), "traceback"),
    ({"failed": True, "msg": "MODULE FAILURE", "exception": "x"}, None, (), "traceback"),
    ({"failed": True, "msg": "something went wrong"}, None, (), "does not name timeout"),
    ({"failed": True, "msg": "timeout: bad"}, None, ({"method": "GET", "path": "/harborguard/api/scans"},), "reached the emulator"),
    ({"failed": True, "msg": "timeout: bad hunter2-secret"}, None, (), "credential"),
])
def test_judge_catches_each_kind_of_defect(result, output, requests, fragment):
    problems = _judged(result, output, requests)
    assert any(fragment in problem for problem in problems), problems


def test_suboption_messages_must_name_both_levels():
    assert _judged({"failed": True, "msg": "targets[0].image: too long"}, option="targets[0].image") == []
    assert _judged({"failed": True, "msg": "image: too long"}, option="targets[0].image")


def test_a_request_in_a_batch_is_pinned_on_the_case_that_sent_it(monkeypatch, request_log, emulator_url):
    import httpx

    class Quiet(object):
        @staticmethod
        def main():
            print('{"failed": true, "msg": "timeout: bad"}')

    class Talks(object):
        @staticmethod
        def main():
            httpx.get(emulator_url + "/harborguard/api/scans")
            print('{"failed": true, "msg": "timeout: bad"}')

    modules = {"quiet": Quiet, "talks": Talks}
    monkeypatch.setattr(fuzz_harness, "load_module", lambda name: modules[name])
    cases = [Case(name, "harborguard", "timeout", "batch", {}, ()) for name in ("quiet", "talks", "quiet")]
    run_cases(cases, request_log, batch=10)
    assert [bool(case.problems) for case in cases] == [False, True, False]
    assert "reached the emulator: GET /harborguard/api/scans" in cases[1].problems[0]


def test_a_hanging_module_is_stopped_and_reported(monkeypatch, request_log):
    monkeypatch.setattr(fuzz_harness, "CASE_SECONDS", 1)

    class Hangs(object):
        @staticmethod
        def main():
            time.sleep(30)

    monkeypatch.setattr(fuzz_harness, "load_module", lambda name: Hangs)
    case = run_case(Case("scan_info", "harborguard", "timeout", "hang", {}, ()), request_log)
    assert case.problems and case.problems[0].startswith("traceback")
