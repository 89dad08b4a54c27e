# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults around finding_fix's two writes on Kolega: the fix create and the pull request call.

A write whose answer is dropped, delayed past the client's timeout or answered with a 5xx may or
may not have been acted on. The module must look (list the fixes of the finding set, read the
fix) before it sends again, so over the fault run and the re-run the server acts on one create
and one pull request call: no duplicate fix, no duplicate pull request.
"""

import time

import pytest

from fault_harness import assert_outcomes, faults_for, require_module

CREATE = ("POST", "*/repositories/*/fixes")
PULL_REQUESTS = ("POST", "*/pull-requests")
WHERE = {"create": CREATE, "pull_requests": PULL_REQUESTS}
# A timed-out create is not among them: the emulator never acts on a request whose client gave up
# (it reads the body after the delay), so the case would only repeat the 5xx one.
FAULTS = [("drop_after", "create"), ("5xx_burst", "create"), ("acted_5xx", "create"),
          ("drop_after", "pull_requests"), ("5xx_burst", "pull_requests"), ("acted_5xx", "pull_requests")]
# A drop or a 5xx after the server acted is absorbed by looking; the others may end in a clean failure.
ABSORBED = {("drop_after", "create"), ("drop_after", "pull_requests"), ("acted_5xx", "create"), ("acted_5xx", "pull_requests")}
FIX = {"repository": "web-frontend", "severity": ["critical"], "state": "pull_request", "source_repo": "acme/web",
       "title": "Remove committed secrets", "instructions": "Read the secrets from the environment.",
       "wait_sleep": 0.2, "wait_timeout": 30}


def scan_repository(runner):
    """A completed secrets scan of web-frontend (its findings include critical ones); answers the repository id."""
    runner.emulator.configure("kolega", {"next": [{"finding_count": 12, "queued_seconds": 0, "running_seconds": 0.1}]})
    with runner.vendor_api("kolega") as api:
        repos = api.get("/api/v1/repositories", params={"limit": 200}).json()["items"]
        repo = [item for item in repos if item["name"] == FIX["repository"]][0]
        api.post("/api/v1/repositories/%s/scans" % repo["id"], json={"scan_type": "secrets_scan"}).raise_for_status()
    time.sleep(0.5)  # the scan completes after 0.1 s; findings appear with it
    return repo["id"]


@pytest.mark.parametrize("kind,where", FAULTS, ids=["%s-%s" % fault for fault in FAULTS])
def test_finding_fix_under_fault(fault_runner, kind, where):
    require_module("finding_fix")
    fault_runner.emulator.reset()
    repository_id = scan_repository(fault_runner)

    def verify(outcome):
        with fault_runner.vendor_api("kolega") as api:
            fixes = api.get("/api/v1/repositories/%s/fixes" % repository_id, params={"limit": 200}).json()["items"]
        rerun = outcome.runs[-1].result or {}
        problems = []
        if len(fixes) != 1:
            problems.append("duplicate: the vendor holds %d fixes for one finding set (%s)" % (len(fixes), [f["id"] for f in fixes]))
        pull_requests = sum(len(fix["pull_requests"]) for fix in fixes)
        if pull_requests != 1:
            problems.append("duplicate: the vendor holds %d pull requests, expected 1" % pull_requests)
        if not rerun.get("finding_ids") or rerun.get("fix", {}).get("finding_ids") != rerun.get("finding_ids"):
            problems.append("the re-run's fix is not the fix of the selected findings: %r" % rerun.get("fix"))
        return problems

    args = fault_runner.connection("kolega", **FIX)
    # Two writes, each must have been acted on exactly once over both runs; the other is counted by verify.
    outcome = fault_runner.case("finding_fix", "kolega", "%s/%s" % (kind, where), faults_for(kind, "create", "kolega", WHERE[where]),
                                args, create=WHERE[where], max_creates=1, min_creates=1,
                                first_must_converge=(kind, where) in ABSORBED, verify=verify)
    assert_outcomes({"kolega": outcome})
