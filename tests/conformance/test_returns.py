# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's results checked against its own RETURN block, in every kind of outcome.

For each scenario (a module on a provider, scenarios.py) the module runs in-process against one
emulator, and every result is checked with returns.check_result:

* ``check``: check mode with diff on fresh state; no write reaches the platform;
* ``success``: the real run, which must predict nothing check mode did not (same ``changed``);
* ``rerun``: the same again (``rerun`` overrides), converged: ``changed`` false and reads only;
* ``input-error``: ``provider`` outside its choices (AnsibleModule's own check) and each of the
  scenario's bad values (the module's checks): failed, no request sent, the option named;
* ``api-401`` (a wrong key), ``api-404`` (a base URL with no API below it, and a real object
  that does not exist where the scenario names one), ``api-5xx`` (every request answered 503,
  after ``retries`` retries): failed with the documented ``error``, ``api_calls`` counting every
  request, the failed ones and their retries included;
* ``partial``: the first write of the success run, and the last call after it, answered 503 on
  fresh state: what was done before must still be in the documented keys, and a re-run without
  the fault must succeed;
* extra cases a scenario names (``gate-failed``: a gate that fails);
* ``documented-only``: the success run against a second emulator that serves only what the vendor
  pages document; a flow that needs a call, field or value the collection assumes fails with
  ``error.undocumented`` and ``error.assumption``, any other flow succeeds.
"""

import json

import pytest

from ansible_collections.scanops.security.tests.conformance.returns import (
    Case,
    check_result,
    documented_paths,
    parse_return,
    seen_paths,
)
from ansible_collections.scanops.security.tests.conformance.scenarios import COVERAGE, SUMMARY, scenarios_for
from ansible_collections.scanops.security.tests.documented.matrix import API_KEYS, CLIENT_BASE_PATHS
from ansible_collections.scanops.security.tests.utils.module_runner import (
    client_overrides,
    load_module,
    module_names,
    run_main,
    shared_trust_store,
)

SCENARIOS = scenarios_for(module_names())
WRONG_KEY = "conformance-wrong-key-0000"
RETRIES = 2
RUN_SECONDS = 120
READS = ("GET", "HEAD")


class RequestLog(object):
    """The emulator's request log from a cursor, without its own admin requests."""

    def __init__(self, admin):
        self.admin = admin
        self.cursor = 0

    def new(self):
        items = self.admin.requests(since_id=self.cursor)["items"]
        if items:
            self.cursor = max(entry["id"] for entry in items)
        return [entry for entry in items if entry["vendor"] != "admin"]


class ScenarioRun(object):
    """Runs every case of one scenario and collects the problems."""

    def __init__(self, scenario, emulator_url, admin, platform, out_dir, strict=None):
        self.scenario = scenario
        self.emulator_url = emulator_url
        self.admin = admin
        self.platform = platform
        self.out_dir = out_dir
        self.strict = strict
        self.module = load_module(scenario.module)
        self.doc = parse_return(self.module)
        self.log = RequestLog(admin)
        self.problems = []
        self.prepared = {}
        self.coverage = COVERAGE.setdefault(scenario.module, {"scenarios": [], "cases": {}, "seen": set(),
                                                              "documented": documented_paths(self.doc)})
        self.coverage["scenarios"].append(scenario.label)

    # -- plumbing --------------------------------------------------------------------------------
    def connection(self, emulator_url=None):
        provider = self.scenario.provider
        values = dict(provider=provider, api_url=(emulator_url or self.emulator_url) + CLIENT_BASE_PATHS[provider],
                      api_key=API_KEYS[provider], rate_limit=0, retries=RETRIES)
        if provider == "cloudgeni":
            values["organization"] = "org_123"
        return values

    def fresh(self):
        """A reset emulator with what the scenario needs; answers the success run's options."""
        self.admin.reset()
        # Scans and fixes that finish within a poll or two: the suite is about results, not waiting.
        self.admin.config(self.scenario.provider, queued_seconds=0.02, running_seconds=0.1)
        self.prepared = dict(out=str(self.out_dir))
        if self.scenario.prepare is not None:
            self.prepared.update(self.scenario.prepare(self.platform, self.admin))
        self.log.new()
        args = self.connection()
        args.update(self.scenario.args(self.prepared))
        return args

    def problem(self, kind, text):
        self.problems.append("%s %s: %s" % (self.scenario.id, kind, text))

    def run(self, kind, args, log=None):
        """Run the module once; check its result against RETURN. Answers ``(result or None, requests)``."""
        log = log or self.log
        log.new()
        with client_overrides(sleep=lambda seconds: None), shared_trust_store():
            outcome = run_main(self.module, args, timeout=RUN_SECONDS)
        requests = log.new()
        self.coverage["cases"][kind] = self.coverage["cases"].get(kind, 0) + 1
        if outcome.crashed:
            self.problem(kind, "no clean result: %s" % outcome.output[-800:])
            return None, requests
        result = outcome.result
        for secret in (API_KEYS[self.scenario.provider],) + self.scenario.secrets:
            if secret in outcome.output:
                self.problem(kind, "a secret is in the output")
        for text in check_result(self.doc, result, Case(kind, args, result, self.scenario.provider)):
            self.problem(kind, text)
        self.coverage["seen"] |= seen_paths(result, self.doc)
        return result, requests

    def expect(self, kind, condition, text):
        if not condition:
            self.problem(kind, text)

    # -- the cases -------------------------------------------------------------------------------
    def run_all(self):
        args = self.fresh()
        check, writes = self.check_mode(args)
        sequence = self.success(args, check)
        if sequence is None:
            return
        self.rerun(args)
        for kind, overrides in self.scenario.extra:
            self.extra(kind, dict(args, **overrides))
        self.input_errors(args)
        self.api_errors(args)
        self.partial_failures(sequence, any(method not in READS for method, _route in sequence))
        if self.strict is not None:
            self.documented_only()

    def check_mode(self, args):
        result, requests = self.run("check", dict(args, _ansible_check_mode=True, _ansible_diff=True))
        writes = [entry for entry in requests if entry["method"] not in READS]
        self.expect("check", not writes, "check mode sent writes: %s" % ["%s %s" % (e["method"], e["path"]) for e in writes])
        self.expect("check", result is None or not result.get("failed"), "failed: %s" % (result or {}).get("msg"))
        return result, writes

    def success(self, args, check):
        result, requests = self.run("success", dict(args, _ansible_diff=True))
        if result is None or result.get("failed"):
            self.problem("success", "the success run failed (%s); the other cases need it" % (result or {}).get("msg"))
            return None
        if check is not None:
            self.expect("check", check.get("changed") == result.get("changed"),
                        "check mode said changed=%s, the real run changed=%s" % (check.get("changed"), result.get("changed")))
        self.expect("success", result.get("api_calls", {}).get("total") == len(requests),
                    "api_calls.total is %s, the platform received %d requests" % (result.get("api_calls", {}).get("total"), len(requests)))
        return [(entry["method"], entry["route"]) for entry in requests]

    def rerun(self, args):
        result, requests = self.run("rerun", dict(args, _ansible_diff=True, **self.scenario.rerun))
        if result is None:
            return
        self.expect("rerun", not result.get("failed"), "failed: %s" % result.get("msg"))
        if self.scenario.converges:
            self.expect("rerun", result.get("changed") is False, "a converged re-run reported changed=%s" % result.get("changed"))
            writes = ["%s %s" % (e["method"], e["path"]) for e in requests if e["method"] not in READS]
            self.expect("rerun", not writes, "a converged re-run sent writes: %s" % writes)

    def extra(self, kind, args):
        result, _requests = self.run(kind, args)
        if result is not None and kind == "gate-failed":
            self.expect(kind, result.get("failed") is True, "a failing gate did not fail the task")
            gate = result.get("gate") or {}
            self.expect(kind, gate.get("passed") is False, "gate.passed is %r" % gate.get("passed"))

    def input_errors(self, args):
        for option, value in (("provider", "conformance-nope"),) + self.scenario.bad:
            result, requests = self.run("input-error", dict(args, **{option: value}))
            if result is None:
                continue
            self.expect("input-error", result.get("failed") is True, "%s=%r was accepted" % (option, value))
            self.expect("input-error", option in (result.get("msg") or ""), "%s=%r: the message does not name it: %r"
                        % (option, value, result.get("msg")))
            self.expect("input-error", not requests, "%s=%r: %d request(s) were sent" % (option, value, len(requests)))
            calls = result.get("api_calls")
            self.expect("input-error", calls is None or calls.get("total") == 0, "%s=%r: api_calls %r" % (option, value, calls))

    def api_error(self, kind, args, status):
        result, requests = self.run(kind, args)
        if result is None:
            return None
        self.expect(kind, result.get("failed") is True, "did not fail")
        if "error" in result:
            status_seen = (result["error"] or {}).get("status")
            self.expect(kind, status_seen == status, "error.status is %r, expected %d (msg: %s)" % (status_seen, status, result.get("msg")))
        else:
            # Without an error dict (bulk scan_run: one per target would not fit), the message names the status.
            self.expect(kind, "HTTP %d" % status in (result.get("msg") or ""), "the message does not say HTTP %d: %s"
                        % (status, result.get("msg")))
        total = (result.get("api_calls") or {}).get("total")
        self.expect(kind, total == len(requests), "api_calls.total is %r, the platform received %d requests" % (total, len(requests)))
        return result

    def api_errors(self, args):
        self.api_error("api-401", dict(args, api_key=WRONG_KEY), 401)
        self.api_error("api-404", dict(args, api_url=args["api_url"] + "/conformance-missing"), 404)
        if self.scenario.missing is not None:
            self.api_error("api-404", dict(args, **self.scenario.missing(self.prepared)), 404)
        self.admin.add_fault("error", vendor=self.scenario.provider, status=503)
        try:
            result = self.api_error("api-5xx", args, 503)
        finally:
            self.admin.clear_faults()
        if result is not None and (result.get("error") or {}).get("method") in READS:
            retries = (result.get("api_calls") or {}).get("retries")
            self.expect("api-5xx", retries is not None and retries >= RETRIES, "a read answered 503 was retried %r times, not %d"
                        % (retries, RETRIES))

    def partial_failures(self, sequence, wrote):
        points = partial_points(sequence)
        if not points:
            SUMMARY.append("%s: no partial-failure case (one endpoint: %s)" % (self.scenario.id, sorted(set(sequence))))
            return
        for method, route in points:
            args = self.fresh() if wrote else dict(self.connection(), **self.scenario.args(self.prepared))
            self.admin.add_fault("error", vendor=self.scenario.provider, method=method, path=route, status=503)
            try:
                result, requests = self.run("partial", args)
            finally:
                self.admin.clear_faults()
            if result is None:
                continue
            answered = [entry for entry in requests if entry["fault"] is None]
            self.expect("partial", answered, "%s %s failed first; nothing was done before it" % (method, route))
            total = (result.get("api_calls") or {}).get("total")
            self.expect("partial", total == len(requests), "%s %s: api_calls.total is %r, the platform received %d requests"
                        % (method, route, total, len(requests)))
            if not result.get("failed"):
                warnings = json.dumps(result.get("warnings", []))[:200]
                SUMMARY.append("%s: went on after %s %s answered 503 (%s)" % (self.scenario.id, method, route, warnings))
            again, _requests = self.run("rerun", dict(args, **self.scenario.rerun))
            self.expect("rerun", again is not None and not again.get("failed"),
                        "the re-run after %s %s failed: %s" % (method, route, (again or {}).get("msg")))

    def documented_only(self):
        strict = self.strict
        strict.admin.reset()
        strict.admin.config(self.scenario.provider, queued_seconds=0.02, running_seconds=0.1)
        prepared = dict(out=str(self.out_dir))
        if self.scenario.prepare is not None:
            prepared.update(self.scenario.prepare(strict.platform, strict.admin))
        log = RequestLog(strict.admin)
        result, requests = self.run("documented-only", dict(self.connection(strict.url), **self.scenario.args(prepared)), log)
        if result is None:
            return
        total = (result.get("api_calls") or {}).get("total")
        self.expect("documented-only", total == len(requests), "api_calls.total is %r, the platform received %d requests"
                    % (total, len(requests)))
        if not result.get("failed"):
            SUMMARY.append("%s: documented-only: succeeds (%d requests)" % (self.scenario.id, len(requests)))
            return
        error = result.get("error") or {}
        self.expect("documented-only", error.get("undocumented") and error.get("assumption"),
                    "failed without naming the assumption the platform refused: %s" % result.get("msg"))
        SUMMARY.append("%s: documented-only: fails naming %s (%s)" % (self.scenario.id, error.get("undocumented"), error.get("assumption")))


def partial_points(sequence):
    """The calls to fail for the partial-failure cases: the first write that follows another call, and the
    last call after it that was not made before it (with no write, the last call not made first)."""
    writes = [index for index, (method, _route) in enumerate(sequence) if method not in READS and index > 0]
    points = []
    cut = 1
    if writes:
        points.append(sequence[writes[0]])
        cut = writes[0] + 1
    before = set(sequence[:cut])
    later = [call for call in sequence[cut:] if call not in before]
    if later:
        points.append(later[-1])
    return points


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.id for scenario in SCENARIOS])
def test_every_result_keeps_the_return_contract(scenario, emulator_url, admin, platform, strict, tmp_path):
    run = ScenarioRun(scenario, emulator_url, admin, platform, tmp_path, strict)
    run.run_all()
    assert not run.problems, "\n".join(run.problems)


def test_every_module_has_a_scenario():
    covered = set(scenario.module for scenario in SCENARIOS)
    assert covered == set(module_names()), "no scenario (and no plain EXAMPLES task) for %s" % sorted(set(module_names()) - covered)


def test_partial_points_pick_the_first_write_and_a_later_call():
    sequence = [("GET", "/a"), ("GET", "/b"), ("POST", "/b"), ("GET", "/c/{id}"), ("GET", "/c/{id}/status"), ("GET", "/b")]
    assert partial_points(sequence) == [("POST", "/b"), ("GET", "/c/{id}/status")]
    assert partial_points([("GET", "/a"), ("GET", "/b"), ("GET", "/a")]) == [("GET", "/b")]
    assert partial_points([("GET", "/a"), ("GET", "/a")]) == []
    assert partial_points([("POST", "/a"), ("GET", "/a")]) == [("GET", "/a")]
