# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two runs on one controller converge the same fresh targets at the same moment: never two scans.

One ``ansible-playbook`` with two inventory hosts on this machine (``connection: local``) and
``forks: 2``: every task runs in two module processes at once, which is what two playbooks
started together do. Each task is one ``scan_run`` with ``targets`` listing fresh targets of one
provider (seeded for the test, scans kept running), so one task pair is as many trials as it has
targets, each target raced by the two processes. The first playbook runs as is; the second with
1.5 s of emulator latency on each provider's history read, the window that let both runs see "no
scan yet" (issue 11's reproduction). Afterwards the emulator's request log says how many triggers
each provider acted on (one per target, or there was a duplicate) and the two hosts' results say
whether both runs report the same scan.
"""

import collections
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(COLLECTION_ROOT, "tests", "emulator"))

from scanops_emulator import CLIENT_BASE_PATHS, DEMO_API_KEYS  # noqa: E402 pylint: disable=wrong-import-position
from scanops_emulator.launcher import start_emulator, stop_emulator  # noqa: E402 pylint: disable=wrong-import-position

PROVIDERS = ("cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra")
TRIALS_PER_RUN = 10  # two playbook runs, so 20 trials per provider
LATENCY_MS = 1500
CLIENT_PATHS = CLIENT_BASE_PATHS
KEYS = DEMO_API_KEYS
# The request that starts a scan, and the read that tells a run whether one is already there.
TRIGGERS = {"cloudgeni": ("POST", "*/repositories/*/scans"), "kolega": ("POST", "*/api/v1/repositories/*/scans"),
            "agilesec": ("POST", "*/v3/scan/execute"), "harborguard": ("POST", "*/api/scans"),
            "penaxtra": ("POST", "*/api/v2/cloud-posture-runs")}
HISTORY_READS = {"cloudgeni": "*/repositories/*/scans", "kolega": "/api/v1/repositories/*/scans", "agilesec": "/v3/sensors/*",
                 "harborguard": "/api/scans", "penaxtra": "/api/v2/cloud-posture-runs"}
OUTPUT_DIR = os.path.join(COLLECTION_ROOT, "tests", "output", "races")
ROWS = collections.OrderedDict()
SECONDS = collections.OrderedDict()


class Admin(object):
    def __init__(self, url):
        self.http = httpx.Client(base_url=url + "/_emulator", timeout=60)

    def call(self, method, path, **kwargs):
        answer = self.http.request(method, path, **kwargs)
        assert answer.status_code < 400, "%s %s: %s" % (method, path, answer.text[:300])
        return answer.json() if answer.content else None


@pytest.fixture(scope="module")
def emulator():
    process, url = start_emulator(profile="test", port=0)
    admin = Admin(url)
    try:
        for provider in PROVIDERS:
            # Scans stay queued for the whole test: a run that comes second must find the first's scan active.
            admin.call("PATCH", "/config/%s" % provider, json={"queued_seconds": 600, "running_seconds": 600})
        yield url, admin
    finally:
        admin.http.close()
        stop_emulator(process)


def seed_targets(admin, run):
    """``{provider: [target options]}``: TRIALS_PER_RUN fresh targets per provider, unknown to any earlier run."""
    specs, targets = [], dict((provider, []) for provider in PROVIDERS)
    for index in range(TRIALS_PER_RUN):
        tag = "%s-%02d" % (run, index)
        specs.append({"vendor": "cloudgeni", "kind": "repository", "id": "repo_race_%s" % tag.replace("-", "_"),
                      "name": "race-%s" % tag, "fullName": "race/race-%s" % tag})
        targets["cloudgeni"].append({"repository": "repo_race_%s" % tag.replace("-", "_")})
        specs.append({"vendor": "kolega", "kind": "repository", "name": "race-%s" % tag})
        targets["kolega"].append({"repository": "race-%s" % tag, "scan_type": "secrets_scan"})
        specs.append({"vendor": "agilesec", "kind": "sensor", "sensorName": "race-%s" % tag, "sensorType": "GIT Sensor"})
        targets["agilesec"].append({"sensor": "race-%s" % tag})
        specs.append({"vendor": "harborguard", "kind": "image", "reference": "registry.race.example/app-%s:1.0" % tag})
        targets["harborguard"].append({"image": "registry.race.example/app-%s:1.0" % tag})
    specs.extend({"vendor": "penaxtra", "kind": "integration", "name": "race-%s-%02d" % (run, index)} for index in range(TRIALS_PER_RUN))
    created = admin.call("POST", "/seed", json=specs)["created"]
    targets["penaxtra"] = [{"integration_id": entry["object"]["id"]} for entry in created if entry["object"].get("asset_count")]
    assert len(targets["penaxtra"]) == TRIALS_PER_RUN
    return targets


def playbook(emulator_url, targets, run):
    tasks = []
    for provider in PROVIDERS:
        options = {"provider": provider, "api_url": emulator_url + CLIENT_PATHS[provider], "api_key": KEYS[provider],
                   "targets": targets[provider], "concurrency": TRIALS_PER_RUN, "wait": False, "rate_limit": 0, "timeout": 20}
        if provider == "cloudgeni":
            options["organization"] = "org_123"
        tasks.append({"name": "race %s (%s)" % (provider, run), "scanops.security.scan_run": options, "ignore_errors": True})
    return [{"name": "two runs converge the same targets", "hosts": "racers", "gather_facts": False, "tasks": tasks}]


def run_playbook(emulator_url, targets, run, tmp_path):
    """Run the playbook; ``{provider: [result of race_a, result of race_b]}`` read from the oneline callback."""
    book = tmp_path / ("%s.yml" % run)
    book.write_text(json.dumps(playbook(emulator_url, targets, run)))
    inventory = tmp_path / "inventory.ini"
    hosts = ["race_%s ansible_connection=local ansible_python_interpreter=%s" % (name, sys.executable) for name in ("a", "b")]
    inventory.write_text("[racers]\n%s\n" % "\n".join(hosts))
    env = dict(os.environ, ANSIBLE_FORKS="2", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.oneline", SCANOPS_CACHE_DIR=str(tmp_path / "cache"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), str(book)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    with open(os.path.join(OUTPUT_DIR, "%s.log" % run), "w", encoding="utf-8") as handle:
        handle.write(completed.stdout + completed.stderr)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    # One line per host and task, "race_a | CHANGED => {...}", the tasks in playbook order.
    by_host = collections.defaultdict(list)
    for line in completed.stdout.splitlines():
        if " => {" in line and line.startswith("race_"):
            by_host[line.split(" | ", 1)[0]].append(json.loads(line.split(" => ", 1)[1]))
    assert [len(by_host[host]) for host in ("race_a", "race_b")] == [len(PROVIDERS)] * 2, completed.stdout[-3000:]
    return dict((provider, [by_host["race_a"][index], by_host["race_b"][index]]) for index, provider in enumerate(PROVIDERS))


def acted_triggers(admin, provider, since):
    method, path = TRIGGERS[provider]
    items = admin.call("GET", "/requests", params={"vendor": provider, "method": method, "path": path, "since_id": since})["items"]
    return sum(1 for entry in items if entry["status"] and 200 <= entry["status"] < 300)


def last_request_id(admin):
    items = admin.call("GET", "/requests", params={"vendor": "admin"})["items"]
    return items[-1]["id"] if items else 0


@pytest.mark.parametrize("run", ["plain", "latency"])
def test_two_runs_on_one_controller_start_one_scan_per_target(run, emulator, tmp_path):
    emulator_url, admin = emulator
    targets = seed_targets(admin, run)
    fault_ids = []
    if run == "latency":
        for provider in PROVIDERS:
            spec = {"kind": "latency", "vendor": provider, "method": "GET", "path": HISTORY_READS[provider], "latency_ms": LATENCY_MS}
            fault_ids.extend(fault["id"] for fault in admin.call("POST", "/faults", json=spec)["faults"])
    since = last_request_id(admin)
    started = time.monotonic()
    try:
        results = run_playbook(emulator_url, targets, run, tmp_path)
        SECONDS[run] = time.monotonic() - started
    finally:
        for fault_id in fault_ids:
            admin.call("DELETE", "/faults/%d" % fault_id)
    problems = []
    for provider in PROVIDERS:
        first, second = results[provider]
        scans = acted_triggers(admin, provider, since)
        same = failed = 0
        for index in range(TRIALS_PER_RUN):
            entries = [(host.get("scans") or [{}] * TRIALS_PER_RUN)[index] for host in (first, second)]
            ids = [((entry or {}).get("scan") or {}).get("id") for entry in entries]
            failed += sum(1 for entry in entries if (entry or {}).get("error"))
            same += ids[0] is not None and ids[0] == ids[1]
        row = ROWS.setdefault(provider, collections.Counter())
        row["trials"] += TRIALS_PER_RUN
        row["latency trials"] += TRIALS_PER_RUN if run == "latency" else 0
        row["scans started"] += scans
        row["duplicates"] += max(0, scans - TRIALS_PER_RUN)
        row["both report the same scan"] += same
        row["failed runs"] += failed
        if scans != TRIALS_PER_RUN or same != TRIALS_PER_RUN or failed:
            problems.append("%s: %d scans started for %d targets, %d of %d pairs report the same scan, %d runs failed"
                            % (provider, scans, TRIALS_PER_RUN, same, TRIALS_PER_RUN, failed))
    assert not problems, "; ".join(problems)


def summary_lines():
    lines = ["%-12s %7s %9s %9s %11s %6s %7s" % ("provider", "trials", "latency", "scans", "duplicates", "same", "failed")]
    total = collections.Counter()
    for provider, row in ROWS.items():
        total.update(row)
        lines.append("%-12s %7d %9d %9d %11d %6d %7d" % (provider, row["trials"], row["latency trials"], row["scans started"],
                                                         row["duplicates"], row["both report the same scan"], row["failed runs"]))
    lines.append("races: %d trials (%d with %d ms on the history read) over %d providers: %d scans started, %d duplicate scans, "
                 "%d of %d pairs report the same scan, %d runs failed"
                 % (total["trials"], total["latency trials"], LATENCY_MS, len(ROWS), total["scans started"], total["duplicates"],
                    total["both report the same scan"], total["trials"], total["failed runs"]))
    lines.append("playbook wall time: %s" % ", ".join("%s %.1f s" % item for item in SECONDS.items()))
    return lines
