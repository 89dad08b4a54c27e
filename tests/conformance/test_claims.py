# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Claims the documentation makes about results, checked against the modules' behaviour on the emulator.

* How the gate counts, per provider (docs/getting-started.md and scan_run's RETURN ``gate.counts``):
  the ``counts_source`` each provider gets, and that each vendor status listed as not counted is
  left out of ``gate.counts`` and listed in ``gate.excluded``.
* The provider matrix's gate row (docs/providers.md, generated from the adapters' declarations):
  the calls it names are the ones scan_run's gate sends.
* ``sensor_id`` and ``callback_id`` after a removal: the id the removed object had.
* The diff of a write-only secret that is replaced: ``(write-only, unknown)`` before, ``********``
  after, as scan_sensor's and callback_endpoint's diff_mode and docs/developing.md say.
"""

import os
import re
import time

import pytest

from ansible_collections.scanops.security.plugins.module_utils.providers import ADAPTERS
from ansible_collections.scanops.security.tests.conformance.returns import parse_return
from ansible_collections.scanops.security.tests.utils.module_runner import (
    COLLECTION_ROOT,
    client_overrides,
    load_module,
    run_main,
    shared_trust_store,
)

DOCS = os.path.join(COLLECTION_ROOT, "docs")
WAIT = dict(wait_sleep=0.05, wait_timeout=60)
PROVIDER_ROWS = {"CloudGeni": "cloudgeni", "Kolega DevSec": "kolega", "Keyfactor AgileSec": "agilesec", "HarborGuard": "harborguard",
                 "Penaxtra": "penaxtra"}


def run(platform, module_name, provider, **args):
    options = platform.defaults(provider)
    options.update(args)
    with client_overrides(sleep=lambda seconds: None), shared_trust_store():
        outcome = run_main(load_module(module_name), options, timeout=120)
    assert not outcome.crashed, outcome.output
    return outcome.result


@pytest.fixture
def fresh(admin):
    admin.reset()
    for vendor in ("cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra"):
        admin.config(vendor, queued_seconds=0.02, running_seconds=0.1)
    return admin


# -- how the gate counts ---------------------------------------------------------------------------------
def getting_started_table():
    """``{provider: (counts_source values, statuses not counted)}`` from docs/getting-started.md."""
    with open(os.path.join(DOCS, "getting-started.md"), encoding="utf-8") as handle:
        text = handle.read()
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in PROVIDER_ROWS:
            sources = re.findall(r"\(`(\w+)`\)", cells[1])
            rows[PROVIDER_ROWS[cells[0]]] = (sources, re.findall(r"`(\w+)`", cells[2]))
    return rows


def return_doc_statuses():
    """``{provider: statuses}`` from the "Per provider" item of scan_run's RETURN ``gate.counts``."""
    doc = parse_return(load_module("scan_run"))["gate"]["contains"]["counts"]["description"]
    item = [line for line in doc if line.startswith("Per provider:")][0]
    found = {}
    for segment in item[len("Per provider:"):].split(";"):
        name = segment.split(",")[0].strip()
        provider = {"CloudGeni": "cloudgeni", "Kolega": "kolega", "AgileSec": "agilesec", "HarborGuard": "harborguard",
                    "Penaxtra": "penaxtra"}[name]
        less = segment.split(" less ", 1)[1].split(" (")[0] if " less " in segment else ""
        found[provider] = re.findall(r"C\((\w+)\)", less)
    return found


def test_both_documents_name_the_same_statuses_per_provider():
    table = getting_started_table()
    assert set(table) == set(PROVIDER_ROWS.values())
    assert dict((provider, statuses) for provider, (_sources, statuses) in table.items()) == return_doc_statuses()


def kolega_batch(platform):
    repos = platform.get("kolega", "/api/v1/repositories", limit=200)["items"]
    repo = [item["id"] for item in repos if item["name"] == "web-frontend"][0]
    batch = platform.post("kolega", "/api/v1/repositories/%s/scans" % repo, {"scan_type": "secrets_scan"})
    deadline = time.monotonic() + 30
    while platform.get("kolega", "/api/v1/repositories/%s/scans/%s/progress" % (repo, batch["batch_id"]))["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return dict(repository="web-frontend", scan_type="secrets_scan", scan_id=batch["batch_id"])


def judged_scan(platform, provider):
    """scan_run options that judge an existing finished scan with findings."""
    if provider == "cloudgeni":
        return dict(repository="repo_abc123", scan_id="scan_xyz789")
    if provider == "kolega":
        return kolega_batch(platform)
    if provider == "harborguard":
        return dict(image="ghcr.io/acme/api:1.4.7", scan_id="scn-3kp9q1")
    if provider == "penaxtra":
        integration = "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"
        runs = [item for item in platform.get("penaxtra", "/api/v2/cloud-posture-runs")["data"]
                if item.get("integration_id") == integration and item.get("status") == "completed"]
        return dict(integration_id=integration, scan_id=runs[0]["id"])
    created = platform.post("agilesec", "/v3/scan/create", {"sensorType": "GIT Sensor", "sensorName": "claims-git",
                                                            "sensorConfig": {"repositoryUrl": "https://github.com/acme/c.git"}})
    return dict(sensor=created["sensorId"], scan_id=created["executionId"])


def status_scope(provider, judged):
    """finding_status options that reach the findings of the judged scan."""
    keys = {"cloudgeni": ("repository", "scan_id"), "kolega": ("repository",), "harborguard": ("image",), "penaxtra": ()}[provider]
    return dict((key, judged[key]) for key in keys)


@pytest.mark.parametrize("provider", ["cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra"])
def test_the_gate_counts_as_the_documents_say(provider, platform, fresh):
    sources, statuses = getting_started_table()[provider]
    judged = judged_scan(platform, provider)
    first = run(platform, "scan_run", provider, return_findings=True, findings_limit=100000, **dict(judged, **WAIT))
    assert not first.get("failed"), first.get("msg")
    gate = first["gate"]
    assert gate["counts_source"] in sources, "%s counted from %s; the table says %s" % (provider, gate["counts_source"], sources)
    if not statuses:
        assert sum(gate["counts"].values()) == 0
        return
    counted = [finding for finding in first["findings"] if finding["vendor_status"] not in statuses]
    assert len(counted) >= len(statuses), "too few counted findings to try every status"
    assert sum(gate["counts"].values()) == len(counted)
    triaged = dict((finding["id"], status) for finding, status in zip(counted, statuses))
    for finding_id, status in triaged.items():
        written = run(platform, "finding_status", provider, ids=[finding_id], status=status, **status_scope(provider, judged))
        assert not written.get("failed") and written["changed"], written.get("msg")
    again = run(platform, "scan_run", provider, **dict(judged, **WAIT))["gate"]
    assert sum(again["counts"].values()) == len(counted) - len(triaged)
    excluded = dict((item["id"], item) for item in again["excluded"])
    assert set(triaged) <= set(excluded), "not listed in gate.excluded: %s" % sorted(set(triaged) - set(excluded))


def test_cloudgeni_counts_from_its_summary_only_when_it_says_nothing_was_found(platform, fresh):
    fresh.config("cloudgeni", finding_count=0)
    result = run(platform, "scan_run", "cloudgeni", repository="repo_abc", **WAIT)
    assert not result.get("failed"), result.get("msg")
    assert result["gate"]["counts_source"] == "summary" and sum(result["gate"]["counts"].values()) == 0
    assert "summary" in getting_started_table()["cloudgeni"][0]


# -- the provider matrix's gate row -----------------------------------------------------------------------
def declared(provider, method, path):
    for call in ADAPTERS[provider].CALLS:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(call.path)) + "$"
        if call.method == method and re.match(pattern, path):
            return call
    return None


@pytest.mark.parametrize("provider", ["cloudgeni", "kolega", "harborguard", "penaxtra"])
def test_the_matrix_gate_row_names_the_calls_the_gate_sends(provider, platform, fresh):
    judged = judged_scan(platform, provider)
    since = max([entry["id"] for entry in fresh.requests()["items"]] or [0])
    result = run(platform, "scan_run", provider, **dict(judged, **WAIT))
    assert not result.get("failed"), result.get("msg")
    base = platform.api_url(provider)[len(platform.base_url):]
    sent = set()
    for entry in fresh.requests(vendor=provider, since_id=since)["items"]:
        call = declared(provider, entry["method"], entry["path"][len(base):])
        assert call is not None and "scan_run" in call.modules, "%s %s is not declared for scan_run" % (entry["method"], entry["path"])
        sent.add(call.name)
    gate_calls = set(call.name for call in ADAPTERS[provider].CALLS if "scan_results" in call.operations and "scan_run" in call.modules)
    assert gate_calls and gate_calls <= sent, "declared for the gate but not sent: %s" % sorted(gate_calls - sent)
    with open(os.path.join(DOCS, "providers.md"), encoding="utf-8") as handle:
        row = [line for line in handle if line.startswith("| gate counts and report findings")][0]
    for name in gate_calls:
        assert ADAPTERS[provider].declared(name).path in row


# -- ids after a removal ----------------------------------------------------------------------------------
def test_removal_returns_the_removed_ids(platform, fresh):
    sensor = fresh.seed("agilesec", "sensor", sensorName="claims-gone", sensorType="GIT Sensor",
                        sensorConfig={"repositoryUrl": "https://github.com/acme/c.git"})
    hook = fresh.seed("agilesec", "callback_endpoint", name="claims-gone", url=platform.base_url + "/_emulator/health", authType="none")
    for name, args, key, object_key, object_id in (
            ("scan_sensor", dict(name="claims-gone", state="absent"), "sensor_id", "sensor", sensor["sensorId"]),
            ("callback_endpoint", dict(name="claims-gone", state="absent"), "callback_id", "endpoint", hook["callbackId"])):
        predicted = run(platform, name, "agilesec", _ansible_check_mode=True, **args)
        removed = run(platform, name, "agilesec", **args)
        gone = run(platform, name, "agilesec", **args)
        assert (predicted[key], predicted[object_key], predicted["changed"]) == (object_id, None, True)
        assert (removed[key], removed[object_key], removed["changed"]) == (object_id, None, True)
        assert (gone[key], gone[object_key], gone["changed"]) == (None, None, False)
        assert "the id the removed" in " ".join(parse_return(load_module(name))[key]["description"])


# -- a replaced write-only secret in the diff --------------------------------------------------------------
def test_a_replaced_secret_shows_as_unknown_before_and_masked_after(platform, fresh):
    url = platform.base_url + "/_emulator/health"
    config = {"repositoryUrl": "https://github.com/acme/c.git", "token": "claims-token-1a2b3c"}
    run(platform, "scan_sensor", "agilesec", name="claims-secret", sensor_type="GIT Sensor", config=config)
    run(platform, "callback_endpoint", "agilesec", name="claims-secret", url=url, auth_type="bearer", token="claims-token-4d5e6f")
    sensor = run(platform, "scan_sensor", "agilesec", name="claims-secret", config=config, update_secrets="always", _ansible_diff=True)
    hook = run(platform, "callback_endpoint", "agilesec", name="claims-secret", url=url, auth_type="bearer", token="claims-token-4d5e6f",
               update_token="always", _ansible_diff=True)
    assert sensor["diff"]["before"]["sensorConfig"]["token"] == "(write-only, unknown)"
    assert sensor["diff"]["after"]["sensorConfig"]["token"] == "********"
    assert hook["diff"]["before"]["token"] == "(write-only, unknown)" and hook["diff"]["after"]["token"] == "********"
    with open(os.path.join(DOCS, "developing.md"), encoding="utf-8") as handle:
        developing = handle.read()
    for text in (developing, load_module("scan_sensor").DOCUMENTATION, load_module("callback_endpoint").DOCUMENTATION):
        assert "(write-only, unknown)" in text and "********" in text
