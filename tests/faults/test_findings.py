# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults against finding_info and finding_status on the four providers that have findings.

finding_info: a fault in the middle of the listing (page 2 where the scope has several pages)
must neither lose nor repeat a finding: every converged run returns exactly the ids of a run
without faults. finding_status: after the re-run every selected finding carries the status (no
lost update), and a re-run after a converged fault run writes nothing.
"""

import time

import pytest

from fault_harness import CLOUDGENI_ORG, assert_outcomes, fault_specs, require_module, run_module

PROVIDERS = ("cloudgeni", "kolega", "harborguard", "penaxtra")
# Enough findings for several pages where the vendor pages (CloudGeni 100, Kolega and HarborGuard
# 200 a page); Penaxtra lists its 200 newest in one page.
FINDINGS = {"cloudgeni": 150, "kolega": 450, "harborguard": 450}
LIST_PATH = {"cloudgeni": "*/findings", "kolega": "*/findings", "harborguard": "*/vulnerabilities", "penaxtra": "*/findings"}
WRITE = {"cloudgeni": ("PATCH", "*/findings/*"), "kolega": ("PATCH", "*/findings/*"), "harborguard": ("PUT", "*/triage"),
         "penaxtra": ("PATCH", "*/findings/*")}
TARGET_STATUS = {"cloudgeni": "suppressed", "kolega": "ignored", "harborguard": "acknowledged", "penaxtra": "triaged"}
# finding_status changes a slice of each scope: the modules pace themselves at the documented
# limits (CloudGeni: 60 requests a minute, burst 10), so big batches would only measure pacing.
SELECTION = {provider: {"severity": ["critical"]} for provider in PROVIDERS}

# Slow responses and drops before a request is read are covered by test_scans and test_resources
# (the same client); these two modules get the faults that can lose or repeat work in a listing or a batch.
INFO_FAULTS = ["rate_limit", "5xx_burst", "drop_after", "timeout", "malformed_json"]
# A timed-out write is retried like a dropped one (drop_after): the client code path is the same.
STATUS_FAULTS = [("rate_limit", "write"), ("5xx_burst", "write"), ("drop_after", "write"), ("malformed_json", "write")]
ABSORBED_KINDS = ("rate_limit", "5xx_burst", "drop_before", "drop_after", "timeout", "slow")


def prepare_scope(runner, provider):
    """Create a scope with several pages of findings where the vendor allows it; answer the module's scope options."""
    emulator = runner.emulator
    if provider == "penaxtra":
        return {}
    emulator.configure(provider, {"next": [{"finding_count": FINDINGS[provider], "queued_seconds": 0, "running_seconds": 0.1}]})
    with runner.vendor_api(provider) as api:
        if provider == "cloudgeni":
            answer = api.post("/organizations/%s/repositories/repo_abc/scans" % CLOUDGENI_ORG, json={"type": "static"})
            answer.raise_for_status()
            scope = {"repository": "repo_abc", "scan_id": answer.json()["id"]}
        elif provider == "kolega":
            repos = api.get("/api/v1/repositories", params={"limit": 200}).json()["items"]
            repo = [item for item in repos if item["name"] == "payments-service"][0]
            api.post("/api/v1/repositories/%s/scans" % repo["id"], json={"scan_type": "secrets_scan"}).raise_for_status()
            scope = {"repository": repo["id"]}
        else:
            image = "ghcr.io/acme/faults:1.0.0"
            emulator.seed([{"vendor": "harborguard", "kind": "scan", "image": image}])
            scope = {"image": image}
    time.sleep(0.5)  # the scan completes after 0.1 s; findings appear with it
    return scope


def finding_ids(run):
    return sorted(finding["id"] for finding in (run.result or {}).get("findings", []))


def list_faults(kind, provider):
    """``kind`` on the findings list; on page 2 where there is one (a 1 ms latency fault lets page 1 through)."""
    specs = fault_specs(kind, provider, "GET", LIST_PATH[provider])
    if provider != "penaxtra":
        specs.insert(0, {"vendor": provider, "method": "GET", "path": LIST_PATH[provider], "kind": "latency", "latency_ms": 1, "count": 1})
    return specs


@pytest.mark.parametrize("kind", INFO_FAULTS)
def test_finding_info_under_fault(fault_runner, kind):
    require_module("finding_info")
    fault_runner.emulator.reset()

    def one(provider):
        args = fault_runner.connection(provider, **prepare_scope(fault_runner, provider))
        baseline = run_module("finding_info", args)
        expected = finding_ids(baseline)

        def verify(outcome):
            problems = [] if not baseline.failed and expected else ["the run without faults failed or found nothing: %s" % baseline.describe()]
            for label, run in (("fault run", outcome.runs[0]), ("re-run", outcome.runs[1])):
                if not run.failed and finding_ids(run) != expected:
                    problems.append("%s listed %d findings (%d distinct), the run without faults %d"
                                    % (label, len(finding_ids(run)), len(set(finding_ids(run))), len(expected)))
            return problems

        return fault_runner.case("finding_info", provider, "%s/list" % kind, list_faults(kind, provider), args,
                                 first_must_converge=kind in ABSORBED_KINDS, verify=verify)

    assert_outcomes(fault_runner.run_providers(one, PROVIDERS))


@pytest.mark.parametrize("kind,where", STATUS_FAULTS, ids=["%s-%s" % fault for fault in STATUS_FAULTS])
def test_finding_status_under_fault(fault_runner, kind, where):
    require_module("finding_status")
    require_module("finding_info")
    fault_runner.emulator.reset()

    def one(provider):
        scope = prepare_scope(fault_runner, provider)
        selection = dict(scope, **SELECTION[provider])
        args = fault_runner.connection(provider, status=TARGET_STATUS[provider], **selection)
        if where == "write":
            method, path = WRITE[provider]
            # Let the first write through so the fault lands in the middle of the batch.
            faults = [{"vendor": provider, "method": method, "path": path, "kind": "latency", "latency_ms": 1, "count": 1}]
            faults.extend(fault_specs(kind, provider, method, path))
        else:
            faults = list_faults(kind, provider)

        def verify(outcome):
            check = run_module("finding_info", fault_runner.connection(provider, **selection))
            if check.failed:
                return ["could not list the findings afterwards: %s" % check.describe()]
            findings = check.result.get("findings", [])
            target = TARGET_STATUS[provider]
            wrong = [finding["id"] for finding in findings if target not in (finding["status"], str(finding["vendor_status"]).lower())]
            problems = [] if findings else ["the selection matched no findings: the case tested nothing"]
            if wrong:
                problems.append("lost update: %d of %d findings are not %s after the re-run (%s)"
                                % (len(wrong), len(findings), TARGET_STATUS[provider], ", ".join(wrong[:5])))
            return problems

        return fault_runner.case("finding_status", provider, "%s/%s" % (kind, where), faults, args,
                                 first_must_converge=kind in ABSORBED_KINDS, verify=verify)

    assert_outcomes(fault_runner.run_providers(one, PROVIDERS))
