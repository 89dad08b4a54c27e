# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module on every provider it supports, against a server that serves only what the vendor
pages document (the emulator's documented-only mode).

Documented flows must succeed; each flow that needs an assumption must fail with the one message
that names it (``<vendor> does not document <what>; the collection assumes it (docs/assumptions.md,
<section>) and <api_url> answered HTTP <status>``), before any write succeeds. Every request a
module sends must be one its adapter declares for that module.
"""

import os
import re
import time

import pytest

from ansible_collections.scanops.security.plugins.module_utils.providers import ADAPTERS
from ansible_collections.scanops.security.plugins.modules import (
    callback_endpoint,
    callback_endpoint_info,
    finding_fix,
    finding_fix_info,
    finding_info,
    finding_status,
    scan_info,
    scan_run,
    scan_sensor,
    scan_sensor_info,
)
from ansible_collections.scanops.security.tests.documented.matrix import CLIENT_BASE_PATHS, ROWS, run_module

MODULES = {module.__name__.rsplit(".", 1)[-1]: module for module in (
    scan_run, scan_info, finding_info, finding_status, scan_sensor, scan_sensor_info, callback_endpoint, callback_endpoint_info,
    finding_fix, finding_fix_info)}
MODULES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins", "modules")
GIT_SENSOR = {"sensorType": "GIT Sensor", "sensorName": "documented-git",
              "sensorConfig": {"repositoryUrl": "https://github.com/acme/api.git"}}
WAIT = dict(wait_sleep=0.2, wait_timeout=60)
# The emulator's AgileSec Search API user; with the index named, no assumed call is needed to read findings.
SEARCH = dict(search_username="analytics-reader", search_password="kf-search-demo-7d41c9e2b05a")
SEARCH_INDEX = "agilesec.acme_example.v3.event-*"
NAMED = re.compile(r": (?P<vendor>[\w ]+?) does not document (?P<what>.+?); the collection assumes it \(docs/assumptions.md, "
                   r"(?P<section>[^)]+)\) and (?P<url>\S+) answered HTTP (?P<status>\d+)")


class Case(object):
    """One flow: ``args(prepared)`` builds the module options; ``assumed`` names the declared call
    (and, for an assumed field or value, what of it) the flow needs; ``optional`` names assumed
    calls a documented flow may try and go on without."""

    def __init__(self, module, provider, flow, args, assumed=None, part=None, optional=()):
        self.module = module
        self.provider = provider
        self.flow = flow
        self.args = args
        self.assumed = assumed
        self.part = part
        self.optional = optional

    @property
    def kind(self):
        return "assumed" if self.assumed else "documented"

    @property
    def id(self):
        return "%s-%s-%s" % (self.module, self.provider, re.sub(r"\W+", "_", self.flow).strip("_"))


CASES = [
    Case("scan_run", "cloudgeni", "repository by full name", lambda p: dict(repository="myorg/infrastructure", **WAIT)),
    Case("scan_run", "kolega", "repository by name", lambda p: dict(repository="web-frontend", scan_type="semgrep_scan", **WAIT)),
    Case("scan_run", "agilesec", "sensor by id, gate on the Search API findings",
         lambda p: dict(sensor=p["sensor_id"], search_index=SEARCH_INDEX, max_findings={"critical": 1000},
                        **dict(SEARCH, **WAIT)), optional=("get_sensor",)),
    Case("scan_run", "agilesec", "sensor by name", lambda p: dict(sensor="documented-git", **WAIT), assumed="list_sensors"),
    Case("scan_run", "harborguard", "image", lambda p: dict(image="ghcr.io/acme/worker:0.9.0", **WAIT)),
    Case("scan_run", "penaxtra", "integration", lambda p: dict(integration_id=p["integration"], **WAIT)),
    Case("scan_info", "cloudgeni", "scans of a repository", lambda p: dict(repository="myorg/infrastructure")),
    Case("scan_info", "kolega", "batches of a repository id", lambda p: dict(repository=p["kolega_repo"])),
    Case("scan_info", "agilesec", "execution by scan_id", lambda p: dict(sensor=p["sensor_id"], scan_id=p["execution_id"])),
    Case("scan_info", "agilesec", "last execution of a sensor", lambda p: dict(sensor=p["sensor_id"]), assumed="get_sensor"),
    Case("scan_info", "harborguard", "scans of an image", lambda p: dict(image="ghcr.io/acme/api:1.4.7")),
    Case("scan_info", "penaxtra", "runs of an integration", lambda p: dict(integration_id=p["integration"])),
    Case("finding_info", "cloudgeni", "findings of a scan", lambda p: dict(repository="repo_abc123", scan_id="scan_xyz789")),
    Case("finding_info", "kolega", "repository by name", lambda p: dict(repository="web-frontend")),
    Case("finding_info", "kolega", "repository by id", lambda p: dict(repository=p["kolega_repo"], severity=["high", "critical"])),
    Case("finding_info", "agilesec", "findings of an execution, index named",
         lambda p: dict(scan_id=p["execution_id"], search_index=SEARCH_INDEX, kind=["certificate"], **SEARCH)),
    Case("finding_info", "agilesec", "findings of a sensor, index detected", lambda p: dict(sensor=p["sensor_id"], **SEARCH),
         assumed="resolve_search_indexes"),
    Case("finding_info", "harborguard", "vulnerabilities of an image", lambda p: dict(image="ghcr.io/acme/api:1.4.7")),
    Case("finding_info", "penaxtra", "newest findings by severity", lambda p: dict(severity=["high"])),
    Case("finding_status", "cloudgeni", "check mode (reads only)",
         lambda p: dict(repository="repo_abc123", scan_id="scan_xyz789", severity=["high"], status="resolved",
                        _ansible_check_mode=True)),
    Case("finding_status", "cloudgeni", "resolve",
         lambda p: dict(repository="repo_abc123", scan_id="scan_xyz789", severity=["high"], status="resolved"),
         assumed="update_finding_status"),
    Case("finding_fix", "kolega", "fix with a pull request",
         lambda p: dict(repository="web-frontend", ids=[p["kolega_finding"]], title="Remove the key", instructions="Read it from the env.",
                        source_repo="acme/web", state="pull_request", **WAIT)),
    Case("finding_fix_info", "kolega", "fixes of a repository", lambda p: dict(repository="web-frontend")),
    Case("finding_status", "kolega", "ignore", lambda p: dict(repository="web-frontend", status="ignored")),
    Case("finding_status", "harborguard", "acknowledge",
         lambda p: dict(image="ghcr.io/acme/api:1.4.7", severity=["critical"], status="acknowledged"),
         assumed="set_triage", part=" with the body field status"),
    Case("finding_status", "penaxtra", "acknowledge (triaged)", lambda p: dict(ids=[p["penaxtra_findings"][0]], status="acknowledged")),
    Case("finding_status", "penaxtra", "resolve (fixed)", lambda p: dict(ids=[p["penaxtra_findings"][1]], status="resolved"),
         assumed="update_finding_status", part=' with status "fixed"'),
    Case("scan_sensor", "agilesec", "create",
         lambda p: dict(name="documented-new", sensor_type="GIT Sensor", config={"repositoryUrl": "https://github.com/acme/web.git"}),
         assumed="list_sensors"),
    Case("scan_sensor_info", "agilesec", "list", lambda p: dict(), assumed="list_sensors"),
    Case("callback_endpoint", "agilesec", "register", lambda p: dict(name="documented-cb", url="https://hooks.example.test/cb"),
         assumed="list_callback_endpoints"),
    Case("callback_endpoint", "cloudgeni", "register", lambda p: dict(url="https://hooks.example.test/cg"), assumed="list_webhooks"),
    Case("callback_endpoint_info", "agilesec", "list", lambda p: dict(), assumed="list_callback_endpoints"),
    Case("callback_endpoint_info", "cloudgeni", "list", lambda p: dict(), assumed="list_webhooks"),
]


@pytest.fixture(scope="session")
def prepared(platform):
    """Objects the flows need, made with documented calls only."""
    created = platform.post("agilesec", "/v3/scan/create", GIT_SENSOR)
    repos = platform.get("kolega", "/api/v1/repositories", limit=200)["items"]
    kolega_repo = [repo["id"] for repo in repos if repo["name"] == "web-frontend"][0]
    batch = platform.post("kolega", "/api/v1/repositories/%s/scans" % kolega_repo, {"scan_type": "secrets_scan"})
    deadline = time.monotonic() + 30
    while platform.get("kolega", "/api/v1/repositories/%s/scans/%s/progress" % (kolega_repo, batch["batch_id"]))["status"] != "completed":
        assert time.monotonic() < deadline, "the Kolega batch did not complete"
        time.sleep(0.1)
    kolega_findings = platform.get("kolega", "/api/v1/repositories/%s/findings" % kolega_repo, limit=1)["items"]
    findings = platform.get("penaxtra", "/api/v2/findings")["data"]
    return {"kolega_finding": kolega_findings[0]["id"], "sensor_id": created["sensorId"], "execution_id": created["executionId"], "kolega_repo": kolega_repo,
            "integration": "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03", "penaxtra_findings": [item["id"] for item in findings[:2]]}


def declared_call(provider, method, path):
    """The adapter's declared call for a request (path relative to the client base URL), or None."""
    for call in ADAPTERS[provider].CALLS:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(call.path)) + "$"
        if call.method == method and re.match(pattern, path):
            return call
    return None


def sent_requests(admin, since_id, provider):
    entries = [entry for entry in admin.requests(since_id=since_id)["items"] if entry["vendor"] != "admin"]
    assert all(entry["vendor"] == provider for entry in entries), entries
    base = CLIENT_BASE_PATHS[provider]
    return [(entry, declared_call(provider, entry["method"], entry["path"][len(base):])) for entry in entries]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_module_against_the_published_api_alone(case, platform, prepared, admin, capsys):
    since = admin.requests()["items"][-1]["id"] if admin.requests()["items"] else 0
    args = dict(platform.defaults(case.provider), **case.args(prepared))
    result = run_module(MODULES[case.module], capsys, args)
    sent = sent_requests(admin, since, case.provider)
    row = [case.module, case.provider, case.flow, case.kind, "FAILED (see the test report)"]
    ROWS.append(row)
    assert sent, "the module sent no request"
    undeclared = sorted(set("%s %s" % (entry["method"], entry["path"]) for entry, call in sent if call is None))
    assert not undeclared, "not declared by the %s adapter: %s" % (case.provider, ", ".join(undeclared))
    strangers = sorted(set(call.name for _entry, call in sent if case.module not in call.modules))
    assert not strangers, "%s sent %s, declared for other modules only" % (case.module, ", ".join(strangers))
    assumed_sent = [(entry, call) for entry, call in sent if not call.documented]
    if case.assumed is None:
        assert not result.get("failed"), result.get("msg")
        # No documented call was answered with an error the module then read as a hint (such as a 404 as "a name").
        refused = [(entry["method"], entry["path"], entry["status"]) for entry, call in sent if call.documented and entry["status"] >= 400]
        assert not refused, refused
        assert all(call.name in case.optional for _entry, call in assumed_sent), [call.name for _e, call in assumed_sent]
        tried = sorted(set(call.name for _entry, call in assumed_sent))
        row[4] = "passed" + (" (went on without %s)" % ", ".join(tried) if tried else "")
        return
    call = ADAPTERS[case.provider].declared(case.assumed)
    assert result.get("failed") is True, "the flow needs %s and should have failed" % case.assumed
    named = NAMED.search(result["msg"])
    assert named, result["msg"]
    assert named.group("vendor") == ADAPTERS[case.provider].DISPLAY_NAME
    assert named.group("what") == "%s %s%s" % (call.method, call.path, case.part or "")
    assert named.group("section") == "%s: %s" % (ADAPTERS[case.provider].DISPLAY_NAME, call.assumption)
    # A Search API call names the search base it was sent to (api_url + /searchdb by default).
    assert named.group("url") == platform.api_url(case.provider) + ("/searchdb" if call.path.startswith("/searchdb/") else "")
    refused = [entry for entry, sent_call in sent if sent_call is call]
    assert refused and refused[-1]["status"] == int(named.group("status")) and refused[-1]["status"] in (400, 404, 405)
    # Never a wrong action: nothing was written.
    writes = [entry for entry, _call in sent if entry["method"] != "GET" and entry["status"] < 300]
    assert not writes, writes
    row[4] = "failed naming %s (HTTP %s)" % (call.assumption, named.group("status"))


def test_every_module_and_provider_is_in_the_matrix():
    pairs = set((case.module, case.provider) for case in CASES)
    supported = {"scan_run": ADAPTERS, "scan_info": ADAPTERS, "finding_info": ADAPTERS,
                 "finding_fix": ("kolega",), "finding_fix_info": ("kolega",),
                 "finding_status": ("cloudgeni", "kolega", "harborguard", "penaxtra"), "scan_sensor": ("agilesec",),
                 "scan_sensor_info": ("agilesec",), "callback_endpoint": ("agilesec", "cloudgeni"),
                 "callback_endpoint_info": ("agilesec", "cloudgeni")}
    shipped = set(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith(".py") and not name.startswith("_"))
    assert set(MODULES) == set(supported) == shipped
    assert pairs == set((module, provider) for module, providers in supported.items() for provider in providers)
    # Every assumed call some module sends is exercised as an assumed flow or gone without in a documented one.
    exercised = set((case.provider, name) for case in CASES for name in ((case.assumed,) if case.assumed else case.optional))
    for provider, adapter in ADAPTERS.items():
        for call in adapter.CALLS:
            # Assumed writes are never reached: the lookups before them fail first.
            if not call.documented and call.modules and call.method == "GET":
                assert (provider, call.name) in exercised, (provider, call.name)
