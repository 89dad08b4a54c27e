# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault-injection harness: the emulator, modules run as real processes, the summary table.

Every case follows the same script (``FaultRunner.case``):

1. install the case's faults for one vendor through the emulator's admin API;
2. run the module once (the *fault run*): it must converge, or fail with a clear message;
3. remove the faults and run it again (the *re-run*): it must converge;
4. count, in the emulator's request log, how many create requests the server acted on: more
   than the case allows is a duplicate scan, sensor or endpoint;
5. check that the faults really fired, that no output holds a traceback, and that no output
   holds a credential or secret the case used.

The five providers of one (module, fault) pair run concurrently: faults, request-log reads and
targets are all scoped by vendor, so they cannot see each other.
"""

import collections
import concurrent.futures
import json
import os
import secrets
import subprocess
import sys
import threading
import time

import httpx
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
EMULATOR_DIR = os.path.join(COLLECTION_ROOT, "tests", "emulator")
MODULES_DIR = os.path.join(COLLECTION_ROOT, "plugins", "modules")
OUTPUT_DIR = os.path.join(COLLECTION_ROOT, "tests", "output", "faults")
MODULE_PACKAGE = "ansible_collections.scanops.security.plugins.modules"
PROVIDERS = ("cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra")
CLIENT_PATHS = {
    "cloudgeni": "/cloudgeni/api/v1",
    "kolega": "/kolega",
    "agilesec": "/agilesec",
    "harborguard": "/harborguard",
    "penaxtra": "/penaxtra",
}
CLOUDGENI_ORG = "org_123"

# Fast settings every fault run uses: a few retries inside a short deadline, short HTTP timeouts.
REQUEST_TIMEOUT = 2.0
FAST = {"retries": 4, "retry_timeout": 12, "timeout": REQUEST_TIMEOUT}
# A latency fault longer than REQUEST_TIMEOUT: the client gives up, the server still acts.
TIMEOUT_LATENCY_MS = 3000
SLOW_LATENCY_MS = 400

# What the terminal summary counts, per fault kind.
ROWS = collections.OrderedDict()
ROWS_LOCK = threading.Lock()
CASES = []
RUNNERS = []

TRACEBACK_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "Exception ignored in", "HUNG: no result")


def module_exists(name):
    """True once the module has landed in plugins/modules."""
    return os.path.exists(os.path.join(MODULES_DIR, name + ".py"))


def require_module(name):
    """Skip (visibly, with the reason) a case whose module has not landed yet."""
    if not module_exists(name):
        pytest.skip("module %s has not landed in plugins/modules" % name)


# ---------------------------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------------------------
class Emulator:
    """The emulator in a subprocess (its own launcher) and a thin client of its admin API (``/_emulator/``)."""

    def __init__(self):
        self.process = None
        self.url = None
        self.http = None
        self.keys = None

    def start(self):
        sys.path.insert(0, EMULATOR_DIR)
        from scanops_emulator.launcher import start_emulator  # pylint: disable=import-outside-toplevel
        self.process, self.url = start_emulator(profile="test", port=0)
        self.http = httpx.Client(base_url=self.url + "/_emulator", timeout=30)

    def stop(self):
        if self.http is not None:
            self.http.close()
        if self.process is not None:
            from scanops_emulator.launcher import stop_emulator  # pylint: disable=import-outside-toplevel
            stop_emulator(self.process)

    def _call(self, method, path, **kwargs):
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise AssertionError("emulator admin %s %s: HTTP %s %s" % (method, path, answer.status_code, answer.text[:300]))
        return answer.json() if answer.content else None

    def reset(self):
        """Back to the default seed, with the session's keys seeded again."""
        self._call("POST", "/reset", json={})
        if self.keys is not None:
            self._seed_keys()

    def configure(self, vendor, changes):
        return self._call("PATCH", "/config/%s" % vendor, json=changes)

    def seed(self, specs):
        return self._call("POST", "/seed", json=specs)["created"]

    def add_faults(self, specs):
        return [fault["id"] for fault in self._call("POST", "/faults", json=specs)["faults"]]

    def faults(self):
        return self._call("GET", "/faults")["faults"]

    def remove_faults(self, ids):
        for fault_id in ids:
            self._call("DELETE", "/faults/%d" % fault_id)

    def requests(self, vendor=None, method=None, path=None, since_id=0):
        params = {"since_id": since_id}
        for key, value in (("vendor", vendor), ("method", method), ("path", path)):
            if value:
                params[key] = value
        return self._call("GET", "/requests", params=params)

    def last_request_id(self):
        items = self.requests()["items"]
        return items[-1]["id"] if items else 0

    def state(self, vendor):
        return self._call("GET", "/state/%s" % vendor)

    def session_keys(self):
        """A fresh random full-access credential per vendor, so a leak can't hide behind a demo value.

        ``reset()`` seeds the same values again: a reset forgets every seeded key.
        """
        if self.keys is None:
            self.keys = {
                "cloudgeni": "cg_live_" + secrets.token_hex(16),
                "kolega": "kcp_live_" + secrets.token_hex(12),
                "agilesec": "isg_" + secrets.token_hex(16),
                "harborguard": "hg_ak_" + secrets.token_hex(24),
                "penaxtra": "pnx_" + secrets.token_hex(16),
            }
            self._seed_keys()
        return dict(self.keys)

    def _seed_keys(self):
        keys = self.keys
        self.seed([
            {"vendor": "cloudgeni", "kind": "api_key", "scope": "admin", "key": keys["cloudgeni"]},
            {"vendor": "kolega", "kind": "api_key", "key": keys["kolega"]},
            {"vendor": "agilesec", "kind": "api_token", "token": keys["agilesec"]},
            {"vendor": "harborguard", "kind": "api_key", "role": "admin", "key": keys["harborguard"]},
            {"vendor": "penaxtra", "kind": "api_key", "token": keys["penaxtra"]},
        ])


# ---------------------------------------------------------------------------------------------
# Running modules
# ---------------------------------------------------------------------------------------------
class ModuleRun:
    """One module process: exit code, output, the parsed result and what is wrong with it."""

    def __init__(self, name, args, returncode, stdout, stderr, elapsed):
        self.name = name
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.result = None
        try:
            self.result = json.loads(stdout)
        except ValueError:
            # AnsibleModule prints exactly one JSON document; anything else is a crash.
            self.result = None

    @property
    def output(self):
        return self.stdout + self.stderr

    @property
    def traceback(self):
        """A crash: no JSON result, a Python traceback anywhere, or an ``exception`` in the result."""
        if self.result is None:
            return True
        if any(marker in self.output for marker in TRACEBACK_MARKERS):
            return True
        return bool(self.result.get("exception"))

    @property
    def failed(self):
        return self.returncode != 0 or bool(self.result and self.result.get("failed"))

    @property
    def msg(self):
        return (self.result or {}).get("msg") or ""

    @property
    def changed(self):
        return bool((self.result or {}).get("changed"))

    @property
    def clean_failure(self):
        """Failed with a message a person can act on, and no crash."""
        return self.failed and not self.traceback and len(self.msg.strip()) >= 10

    def describe(self):
        if self.traceback:
            return "CRASH rc=%s stdout=%r stderr=%r" % (self.returncode, self.stdout[-600:], self.stderr[-600:])
        if self.failed:
            return "failed (%.1f s): %s" % (self.elapsed, self.msg)
        return "ok (%.1f s) changed=%s" % (self.elapsed, self.changed)


def run_module(name, args, check_mode=False, timeout=90):
    """Run ``plugins/modules/<name>.py`` as its own Python process, the way Ansible's debug mode does."""
    module_args = dict(args)
    if check_mode:
        module_args["_ansible_check_mode"] = True
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": module_args})
    env = dict(os.environ)
    env.pop("SCANOPS_API_KEY", None)
    # The stage is a throw-away copy: let the ~300 module processes share compiled bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()
    try:
        completed = subprocess.run([sys.executable, "-m", "%s.%s" % (MODULE_PACKAGE, name), payload], env=env,
                                   capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        # A hang is a defect like a crash: report it with whatever the module printed.
        return ModuleRun(name, module_args, None, _text(exc.stdout), "HUNG: no result after %d s\n%s" % (timeout, _text(exc.stderr)),
                         time.monotonic() - started)
    return ModuleRun(name, module_args, completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)


def _text(data):
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------
class Outcome:
    """What one case found; ``problems`` empty means it passed."""

    def __init__(self, module, provider, fault):
        self.module = module
        self.provider = provider
        self.fault = fault
        self.fired = 0
        self.runs = []
        self.creates = None
        self.problems = []

    @property
    def first(self):
        return self.runs[0] if self.runs else None

    def label(self):
        return "%s/%s/%s" % (self.module, self.provider, self.fault)


# Which faults a retrying client must absorb: the request is safe to repeat, or the server said
# it did nothing (429). Everything else may end in a clean failure instead.

# Every fault that can duplicate a create or break a read, as (fault kind, where it is injected).
# acted_5xx and drop_after let the server act first: a client that sends the create again
# (a retry, or a look for the lost object that finds nothing) makes a second one.
CREATE_AND_READ_FAULTS = [
    ("drop_before", "create"),
    ("drop_after", "create"),
    ("acted_5xx", "create"),
    ("timeout", "create"),
    ("5xx_burst", "create"),
    ("rate_limit", "create"),
    ("rate_limit", "read"),
    ("5xx_burst", "read"),
    ("drop_after", "read"),
    ("timeout", "read"),
    ("malformed_json", "read"),
]

ABSORBED = {("rate_limit", "read"), ("5xx_burst", "read"), ("drop_before", "read"), ("drop_after", "read"),
            ("timeout", "read"), ("slow", "any"), ("rate_limit", "create")}


def faults_for(kind, where, vendor, create=None, count=None):
    """Fault specs of ``kind`` aimed at ``where``: "create" (the create request), "read" (every GET), "any"."""
    if where == "create":
        method, path = create
    elif where == "read":
        method, path = "GET", "*"
    else:
        method, path = "*", "*"
    return fault_specs(kind, vendor, method, path, count)


def fault_specs(kind, vendor, method, path, count=None):
    """Admin fault specs for a named fault kind aimed at ``method path`` of ``vendor``."""
    base = {"vendor": vendor, "method": method, "path": path}
    if kind == "rate_limit":
        return [dict(base, kind="rate_limit", retry_after=1, count=count or 2)]
    if kind == "5xx_burst":
        return [dict(base, kind="error", status=502, count=1), dict(base, kind="error", status=503, count=count or 2)]
    if kind == "acted_5xx":
        # The server acts on the request, then a 502 arrives in place of its answer.
        return [dict(base, kind="error_after", status=502, count=count or 1)]
    if kind == "drop_before":
        return [dict(base, kind="drop_before", count=count or 1)]
    if kind == "drop_after":
        return [dict(base, kind="drop_after", count=count or 1)]
    if kind == "timeout":
        return [dict(base, kind="latency", latency_ms=TIMEOUT_LATENCY_MS, count=count or 1)]
    if kind == "malformed_json":
        return [dict(base, kind="malformed_json", count=count or 1)]
    if kind == "slow":
        return [dict(base, kind="latency", latency_ms=SLOW_LATENCY_MS, count=count or 5)]
    raise ValueError("unknown fault kind %s" % kind)


class FaultRunner:
    """Runs cases against the session's emulator and records them for the summary."""

    def __init__(self, server):
        self.emulator = server
        self.keys = server.session_keys()
        self.secret_values = {"%s api_key" % name: key for name, key in self.keys.items()}
        self.lock = threading.Lock()
        RUNNERS.append(self)

    def connection(self, provider, **overrides):
        """Shared module options pointing at the emulator, with the fast retry settings."""
        options = {"provider": provider, "api_url": self.emulator.url + CLIENT_PATHS[provider], "api_key": self.keys[provider]}
        if provider == "cloudgeni":
            options["organization"] = CLOUDGENI_ORG
        options.update(FAST)
        options.update(overrides)
        return options

    def vendor_api(self, provider):
        """An httpx client of a vendor's API with the session's credential (for a case's setup only)."""
        key = self.keys[provider]
        headers = {"X-CLOUDGENI-API-KEY": key} if provider == "cloudgeni" else {"Authorization": "Bearer %s" % key}
        if provider == "agilesec":
            headers = {"isg-api-token": key, "content-type": "application/json"}
        return httpx.Client(base_url=self.emulator.url + CLIENT_PATHS[provider], headers=headers, timeout=30)

    def new_secret(self, name):
        """A random secret value the outputs of every run are searched for."""
        value = "s3cr3t-%s-%s" % (name, secrets.token_hex(10))
        with self.lock:
            self.secret_values["%s %s" % (name, value[-6:])] = value
        return value

    def leaked(self, text):
        with self.lock:
            values = dict(self.secret_values)
        return sorted(name for name, value in values.items() if value and value in text)

    def case(self, module, provider, fault, faults, args, rerun_args=None, create=None, max_creates=None,
             min_creates=0, first_must_converge=False, verify=None, idempotent=True):
        """Run one case; answer an ``Outcome`` (its ``problems`` list is empty when it passed).

        Args:
            faults: admin fault specs (all for ``provider``'s vendor).
            args: module arguments of the fault run (connection options included).
            rerun_args: arguments of the re-run (default: ``args``).
            create: ``(method, path glob)`` of the request that creates a scan, sensor or endpoint.
            max_creates: how many such requests the server may act on over both runs (more is a duplicate).
            min_creates: how many it must have acted on once the re-run converged (the object exists).
            first_must_converge: the fault is one the client absorbs (retries): failing is a defect.
            verify: ``callable(outcome)`` returning a list of further problems.
            idempotent: after a fault run that converged, the re-run must report ``changed: false``.
        """
        outcome = Outcome(module, provider, fault)
        since = self.emulator.last_request_id()
        fault_ids = self.emulator.add_faults(faults)
        try:
            outcome.runs.append(run_module(module, args))
        finally:
            fired = {fault["id"]: fault["fired"] for fault in self.emulator.faults() if fault["id"] in fault_ids}
            self.emulator.remove_faults(fault_ids)
        outcome.fired = sum(fired.values())
        outcome.runs.append(run_module(module, rerun_args or args))
        first, rerun = outcome.runs
        if outcome.fired == 0:
            outcome.problems.append("the fault never fired: the case tested nothing (%s)" % json.dumps(faults))
        for label, run in (("fault run", first), ("re-run", rerun)):
            if run.traceback:
                outcome.problems.append("%s crashed: %s" % (label, run.describe()))
            leaks = self.leaked(run.output)
            if leaks:
                outcome.problems.append("%s output contains secret values: %s" % (label, ", ".join(leaks)))
        if first.failed and not first.clean_failure and not first.traceback:
            outcome.problems.append("fault run failed without a clear message: %r" % first.msg)
        if first.failed and first_must_converge:
            outcome.problems.append("fault run should have absorbed the fault: %s" % first.describe())
        if rerun.failed:
            outcome.problems.append("re-run did not converge: %s" % rerun.describe())
        elif idempotent and not first.failed and rerun.changed:
            outcome.problems.append("the fault run converged but the re-run changed something again")
        if create:
            method, path = create
            # The log holds absolute paths (/agilesec/v3/...): match the vendor-relative glob as a suffix.
            logged = self.emulator.requests(vendor=provider, method=method, path=path if path.startswith("*") else "*" + path,
                                            since_id=since)["items"]
            # A fault that let the server act (acted_5xx) logs the 5xx it sent and, as acted_status, what the server did.
            outcome.creates = sum(1 for item in logged if acted_ok(item))
            if max_creates is not None and outcome.creates > max_creates:
                outcome.problems.append("duplicate: the server acted on %d create requests (%s %s), at most %d allowed"
                                        % (outcome.creates, method, path, max_creates))
            if not rerun.failed and outcome.creates < min_creates:
                outcome.problems.append("the request log shows %d create requests (%s %s) acted on, expected at least %d"
                                        % (outcome.creates, method, path, min_creates))
        if verify is not None and not rerun.failed:
            outcome.problems.extend(verify(outcome) or [])
        record(outcome)
        return outcome

    def run_providers(self, function, providers):
        """Run ``function(provider)`` for every provider concurrently; answer {provider: Outcome}."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(providers)) as pool:
            futures = {provider: pool.submit(function, provider) for provider in providers}
            return {provider: future.result() for provider, future in futures.items()}


def acted_ok(item):
    """True when the server acted on a logged request with success, whatever the client got."""
    status = item.get("acted_status") or item.get("status")
    return status is not None and 200 <= int(status) < 300


def record(outcome):
    with ROWS_LOCK:
        CASES.append(outcome)
        row = ROWS.setdefault(outcome.fault, collections.Counter())
        row["cases"] += 1
        row["faults injected"] += outcome.fired
        row["runs"] += len(outcome.runs)
        first = outcome.first
        if not first.failed:
            row["converged"] += 1
        elif first.clean_failure:
            row["clean failures"] += 1
        if outcome.creates is not None and any(problem.startswith("duplicate") for problem in outcome.problems):
            row["duplicates"] += 1
        row["tracebacks"] += sum(1 for run in outcome.runs if run.traceback)
        row["re-run converged"] += 0 if outcome.runs[-1].failed else 1
        row["secret leaks"] += sum(1 for problem in outcome.problems if "secret values" in problem)


def assert_outcomes(outcomes):
    """Fail the test with every problem of every provider's case."""
    problems = ["%s: %s" % (outcome.label(), problem) for outcome in outcomes.values() for problem in outcome.problems]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
COLUMNS = ("cases", "faults injected", "runs", "converged", "clean failures", "re-run converged", "duplicates", "tracebacks",
           "secret leaks")


def summary_lines():
    """The summary table, one row per fault kind and a total."""
    total = collections.Counter()
    header = "| fault | " + " | ".join(COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 1)]
    for fault, row in ROWS.items():
        total.update(row)
        lines.append("| %s | %s |" % (fault, " | ".join(str(row[column]) for column in COLUMNS)))
    lines.append("| **total** | %s |" % " | ".join(str(total[column]) for column in COLUMNS))
    return lines


def write_report():
    """Write every case's outcome to tests/output/faults/summary.md (secret values masked); answer the path."""
    values = set()
    for runner in RUNNERS:
        values.update(value for value in runner.secret_values.values() if value)

    def masked(text):
        for value in values:
            text = text.replace(value, "********")
        return text.replace("|", "/")

    os.makedirs(OUTPUT_DIR, exist_ok=True)
    path = os.path.join(OUTPUT_DIR, "summary.md")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(summary_lines()) + "\n\n| case | fired | fault run | re-run | creates | problems |\n|---|---|---|---|---|---|\n")
        for outcome in CASES:
            first, rerun = outcome.runs[0], outcome.runs[-1]
            handle.write("| %s | %d | %s | %s | %s | %s |\n" % (
                outcome.label(), outcome.fired, masked(first.describe())[:400], masked(rerun.describe())[:300],
                "" if outcome.creates is None else outcome.creates, masked("; ".join(outcome.problems))[:600]))
    return path
