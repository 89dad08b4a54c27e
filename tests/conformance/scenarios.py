# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The conformance suite's scenarios: for each module and provider, options that succeed against the
emulator's default seed, from which every case is derived (see test_returns.py).

A module without an entry in ``SCENARIOS`` is still covered: its scenarios are the first task of each
provider in its EXAMPLES (tasks with Jinja2 templates left out), without the re-run convergence
check, and the coverage table says so. An entry here makes the success run deliberate.
"""

import time

import yaml

from ansible_collections.scanops.security.tests.utils.module_runner import load_module

# Filled by the tests, printed by conftest.py.
COVERAGE = {}
SUMMARY = []

WAIT = dict(wait_sleep=0.1, wait_timeout=60)
HARBORGUARD_IMAGE = "ghcr.io/acme/worker:0.9.0"
PENAXTRA_INTEGRATION = "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"
SENSOR_NAME = "conformance-git"
SENSOR_SECRET = "conformance-sensor-token-5d1c"
CALLBACK_SECRET = "conformance-callback-token-8e2a"


class Scenario(object):
    """One module on one provider.

    ``args(prepared)`` gives the options of the success run; ``prepare(platform, admin)`` makes what
    they need on a freshly reset emulator (answers ``prepared``). ``rerun`` holds option overrides
    for the re-run, which must report no change when ``converges``. ``bad`` lists ``(option, value)``
    pairs the module itself must refuse before any request, ``missing(prepared)`` option overrides
    that make the platform answer 404 for a real object, and ``extra`` more ``(kind, overrides)``
    cases (a failed gate...).
    """

    def __init__(self, module, provider, args, label=None, prepare=None, rerun=None, converges=True, bad=(), missing=None,
                 extra=(), secrets=()):
        self.module = module
        self.provider = provider
        self.args = args
        self.label = label or provider
        self.prepare = prepare
        self.rerun = rerun or {}
        self.converges = converges
        self.bad = tuple(bad)
        self.missing = missing
        self.extra = tuple(extra)
        self.secrets = tuple(secrets)

    @property
    def id(self):
        return "%s-%s" % (self.module, self.label)


# -- what scenarios need on a fresh emulator ------------------------------------------------------------
def seeded_sensor(platform, admin):
    sensor = admin.seed("agilesec", "sensor", sensorName=SENSOR_NAME, sensorType="GIT Sensor",
                        sensorConfig={"repositoryUrl": "https://github.com/acme/conformance.git"})
    return {"sensor_id": sensor["sensorId"]}


def sensor_with_execution(platform, admin):
    created = platform.post("agilesec", "/v3/scan/create", {"sensorType": "GIT Sensor", "sensorName": SENSOR_NAME,
                                                            "sensorConfig": {"repositoryUrl": "https://github.com/acme/c.git"}})
    return {"sensor_id": created["sensorId"], "execution_id": created["executionId"]}


def kolega_findings(platform, admin):
    repos = platform.get("kolega", "/api/v1/repositories", limit=200)["items"]
    repo = [item["id"] for item in repos if item["name"] == "web-frontend"][0]
    batch = platform.post("kolega", "/api/v1/repositories/%s/scans" % repo, {"scan_type": "secrets_scan"})
    deadline = time.monotonic() + 30
    while platform.get("kolega", "/api/v1/repositories/%s/scans/%s/progress" % (repo, batch["batch_id"]))["status"] != "completed":
        assert time.monotonic() < deadline, "the Kolega batch did not complete"
        time.sleep(0.05)
    findings = platform.get("kolega", "/api/v1/repositories/%s/findings" % repo, limit=5)["items"]
    return {"kolega_repo": repo, "kolega_findings": [item["id"] for item in findings]}


def kolega_fix(platform, admin):
    prepared = kolega_findings(platform, admin)
    platform.post("kolega", "/api/v1/repositories/%s/fixes" % prepared["kolega_repo"],
                  {"finding_ids": prepared["kolega_findings"][:1], "title": "Conformance", "instructions": "Fix it.",
                   "source_repo": "acme/web"})
    return prepared


def penaxtra_findings(platform, admin):
    return {"penaxtra_findings": [item["id"] for item in platform.get("penaxtra", "/api/v2/findings")["data"][:3]]}


def callback_url(platform, admin):
    # AgileSec checks that a callback URL answers; the emulator's own health page does.
    return {"callback_url": platform.base_url + "/_emulator/health"}


def existing_sensor(platform, admin):
    prepared = seeded_sensor(platform, admin)
    return prepared


def existing_callback(platform, admin):
    prepared = callback_url(platform, admin)
    admin.seed("agilesec", "callback_endpoint", name="conformance-cb", url=prepared["callback_url"], authType="bearer",
               token=CALLBACK_SECRET)
    return prepared


# -- the scenarios ---------------------------------------------------------------------------------------
def _scan_run(provider, target, label=None, prepare=None, gate=True, **options):
    def args(prepared):
        values = dict(target(prepared) if callable(target) else target, **WAIT)
        values.update(options)
        return values
    # A gate that fails on any finding (AgileSec executions carry none).
    extra = (("gate-failed", dict(fail_on="info", max_age="1h")),) if gate else ()
    return Scenario("scan_run", provider, args, label=label, prepare=prepare, rerun=dict(max_age="1h"),
                    bad=(("max_age", "soon"), ("wait_timeout", -1)), extra=extra)


SCENARIOS = [
    _scan_run("cloudgeni", dict(repository="myorg/infrastructure", branch="main"), return_findings=True, findings_limit=2,
              ignore=[{"id": "CKV_CONFORMANCE_1", "reason": "conformance suite"}]),
    _scan_run("kolega", dict(repository="web-frontend", scan_type="semgrep_scan"), return_findings=True),
    _scan_run("agilesec", dict(sensor=SENSOR_NAME), prepare=seeded_sensor, gate=False),
    _scan_run("harborguard", dict(image=HARBORGUARD_IMAGE), return_findings=True, findings_limit=1),
    _scan_run("penaxtra", dict(integration_id=PENAXTRA_INTEGRATION)),
    _scan_run("harborguard", dict(targets=[{"image": HARBORGUARD_IMAGE}, {"name": "web", "image": "ghcr.io/acme/web:2.0.1"}]),
              label="harborguard-targets", return_findings=True, findings_limit=1),

    Scenario("scan_info", "cloudgeni", lambda p: dict(repository="myorg/infrastructure"),
             missing=lambda p: dict(scan_id="scan_conformance_missing")),
    Scenario("scan_info", "kolega", lambda p: dict(repository="web-frontend")),
    Scenario("scan_info", "agilesec", lambda p: dict(sensor=p["sensor_id"], scan_id=p["execution_id"]), prepare=sensor_with_execution,
             missing=lambda p: dict(scan_id="0" * 24)),
    Scenario("scan_info", "harborguard", lambda p: dict(image="ghcr.io/acme/api:1.4.7"), bad=(("branch", "main"),),
             missing=lambda p: dict(scan_id="scn-missing")),
    Scenario("scan_info", "penaxtra", lambda p: dict(integration_id=PENAXTRA_INTEGRATION)),

    Scenario("finding_info", "cloudgeni", lambda p: dict(repository="repo_abc123", scan_id="scan_xyz789"), bad=(("limit", 0),),
             missing=lambda p: dict(scan_id="scan_conformance_missing")),
    Scenario("finding_info", "kolega", lambda p: dict(repository="web-frontend", severity=["critical", "high"]), prepare=kolega_findings),
    Scenario("finding_info", "harborguard", lambda p: dict(image="ghcr.io/acme/api:1.4.7")),
    Scenario("finding_info", "penaxtra", lambda p: dict(severity=["high"])),
    # Large result sets: only some normalized fields, no vendor bodies; and the findings written to a file instead.
    Scenario("finding_info", "harborguard", lambda p: dict(image="ghcr.io/acme/api:1.4.7", fields=["severity", "status"]),
             label="harborguard-fields", bad=(("fields", ["colour"]),)),
    Scenario("finding_info", "kolega", lambda p: dict(repository="web-frontend", include_raw=False,
                                                      output_file=p["out"] + "/findings.jsonl"),
             label="kolega-output-file", prepare=kolega_findings),

    Scenario("finding_status", "cloudgeni", lambda p: dict(repository="repo_abc123", scan_id="scan_xyz789", severity=["high"], status="resolved"),
             bad=(("concurrency", 0),)),
    Scenario("finding_status", "kolega", lambda p: dict(repository="web-frontend", ids=p["kolega_findings"][:2], status="ignored"),
             prepare=kolega_findings),
    Scenario("finding_status", "harborguard", lambda p: dict(image="ghcr.io/acme/api:1.4.7", severity=["critical"], status="acknowledged",
                                                             note="conformance")),
    Scenario("finding_status", "penaxtra", lambda p: dict(ids=p["penaxtra_findings"][:2], status="acknowledged"), prepare=penaxtra_findings),

    Scenario("finding_fix", "kolega", lambda p: dict(repository="web-frontend", ids=p["kolega_findings"][:1], title="Remove the key",
                                                     instructions="Read it from the environment.", source_repo="acme/web",
                                                     state="pull_request", return_diff=True, **WAIT),
             prepare=kolega_findings, bad=(("title", " "),)),
    Scenario("finding_fix_info", "kolega", lambda p: dict(repository="web-frontend", return_diff=True, return_progress=True),
             prepare=kolega_fix, missing=lambda p: dict(fix_id="f" * 8)),

    Scenario("scan_sensor", "agilesec", lambda p: dict(name=SENSOR_NAME, sensor_type="GIT Sensor",
                                                       config={"repositoryUrl": "https://github.com/acme/c.git", "token": SENSOR_SECRET}),
             bad=(("config", {"repositoryUrl": "not a url"}),), secrets=(SENSOR_SECRET,)),
    Scenario("scan_sensor", "agilesec", lambda p: dict(name=SENSOR_NAME, state="absent"), label="agilesec-absent", prepare=existing_sensor),

    Scenario("scan_sensor_info", "agilesec", lambda p: dict(name=SENSOR_NAME), prepare=seeded_sensor),

    Scenario("callback_endpoint", "agilesec", lambda p: dict(name="conformance-cb", url=p["callback_url"], auth_type="bearer",
                                                             token=CALLBACK_SECRET),
             prepare=callback_url, bad=(("header_name", "X-Token"),), secrets=(CALLBACK_SECRET,)),
    Scenario("callback_endpoint", "agilesec", lambda p: dict(name="conformance-cb", state="absent"), label="agilesec-absent",
             prepare=existing_callback),
    Scenario("callback_endpoint", "cloudgeni", lambda p: dict(url="https://hooks.example.test/conformance", events=["scan.completed"]),
             bad=(("events", ["scan.deleted"]),)),

    Scenario("callback_endpoint_info", "agilesec", lambda p: dict(name="conformance-cb"), prepare=existing_callback),
    Scenario("callback_endpoint_info", "cloudgeni", lambda p: dict()),
]


def _untemplated(value):
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, dict):
        return all(_untemplated(item) for item in value.values())
    if isinstance(value, list):
        return all(_untemplated(item) for item in value)
    return True


def example_scenarios(name):
    """Scenarios of a module nobody wrote scenarios for: the first plain EXAMPLES task of each provider."""
    found = {}
    for task in yaml.safe_load(load_module(name).EXAMPLES) or []:
        args = task.get("scanops.security.%s" % name) if isinstance(task, dict) else None
        if not isinstance(args, dict) or not args.get("provider") or args["provider"] in found or not _untemplated(args):
            continue
        options = dict((key, value) for key, value in args.items() if key != "provider")
        found[args["provider"]] = Scenario(name, args["provider"], lambda p, options=options: dict(options),
                                           label="%s-from-EXAMPLES" % args["provider"], converges=False)
    return [found[provider] for provider in sorted(found)]


def scenarios_for(names):
    by_module = {}
    for scenario in SCENARIOS:
        by_module.setdefault(scenario.module, []).append(scenario)
    chosen = []
    for name in names:
        chosen.extend(by_module.get(name) or example_scenarios(name))
    return chosen
