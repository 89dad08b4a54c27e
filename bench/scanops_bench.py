# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks 2 to 5 and 7 of docs/performance.md, each next to what a user would write instead.

    python bench/scanops_bench.py [--only noop,wait,fanout,large,crypto] [--output results.json]

Every benchmark starts its own emulator (so one cannot disturb the next), drives Ansible the way
a user does (ansible-playbook, or the vendor page's curl loop), and records wall time, the API
requests in the emulator's request log, and peak memory: the largest resident set of the
ansible-playbook process tree (``ru_maxrss`` from ``wait4``: the controller, its forks and the
module processes). Needs the collection staged as ansible_collections/scanops/security on
ANSIBLE_COLLECTIONS_PATH and PYTHONPATH (bench/run.sh does that). A benchmark, not a test.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

from scanops_emulator.admin_client import AdminClient  # noqa: E402  pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402  pylint: disable=wrong-import-position

# The emulator's documented demo credentials (docs/emulator.md); HarborGuard's admin PAT can trigger and triage.
KEYS = {
    "cloudgeni": "cg_live_demo_admin_4f7c2a9e1b3d5f60",
    "kolega": "kcp_live_demo_5b1e9c3a7d2f4e6081a9",
    "agilesec": "isg_demo_token_7c3e9a1f5b2d4e60a8c1",
    "harborguard": "hg_pat_a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718",
    "penaxtra": "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e",
}
CLIENT_PATHS = {"cloudgeni": "/cloudgeni/api/v1", "kolega": "/kolega", "agilesec": "/agilesec", "harborguard": "/harborguard",
                "penaxtra": "/penaxtra"}
AUTH_HEADERS = {"cloudgeni": "X-CLOUDGENI-API-KEY", "agilesec": "isg-api-token"}


def auth_header(provider):
    """``{header: value}`` a hand-written uri task or curl call sends."""
    name = AUTH_HEADERS.get(provider, "Authorization")
    return {name: KEYS[provider] if name != "Authorization" else "Bearer " + KEYS[provider]}


class Harness:
    """One emulator, a work directory, and a playbook runner that measures wall time and memory."""

    def __init__(self, base, workdir):
        self.base = base
        self.admin = AdminClient(base)
        self.workdir = workdir
        self.inventory = os.path.join(workdir, "inventory.ini")
        with open(self.inventory, "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)

    def url(self, provider):
        return self.base + CLIENT_PATHS[provider]

    def connection(self, provider):
        options = {"provider": provider, "api_url": self.url(provider), "api_key": KEYS[provider]}
        if provider == "cloudgeni":
            options["organization"] = "org_123"
        return options

    def last_id(self):
        items = self.admin.requests()["items"]
        return items[-1]["id"] if items else 0

    def log(self, vendor=None, since=0):
        return self.admin.requests(vendor=vendor, since_id=since)["items"]

    def run_playbook(self, name, tasks, gather=False, extra_env=None):
        """Run a one-play playbook; answer ``{seconds, peak_rss_mb, returncode, output}``."""
        play = [{"hosts": "localhost", "gather_facts": gather, "tasks": tasks}]
        path = os.path.join(self.workdir, name + ".yml")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(play, handle)  # JSON is YAML
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                   ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_RETRY_FILES_ENABLED="0")
        env.update(extra_env or {})
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory, path]
        return run_measured(command, env)


def run_measured(command, env=None, cwd=None):
    """Run a command; wall seconds, CPU seconds and peak RSS (MiB) of its process tree, exit code and output.

    CPU time (user + system of the process and every child it waited for) moves far less with the load of a
    shared machine than wall time does.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        _pid, status, usage = os.wait4(process.pid, 0)
        finished = time.time()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    return {"seconds": round(seconds, 2), "finished_at": finished, "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "returncode": process.returncode, "output": text}


def must_succeed(result, what):
    if result["returncode"] != 0:
        sys.stderr.write(result["output"][-4000:])
        raise RuntimeError("%s failed (exit %s)" % (what, result["returncode"]))
    return result


def count_requests(items):
    """Requests, reads, writes and 429s in a slice of the request log."""
    return {"requests": len(items), "reads": sum(1 for item in items if item["method"] == "GET"),
            "writes": sum(1 for item in items if item["method"] != "GET"),
            "http_429": sum(1 for item in items if item.get("status") == 429)}


# ---------------------------------------------------------------------------------------------
# 2. Idempotent no-op cost
# ---------------------------------------------------------------------------------------------
NOOP_TASKS = 20
NOOP_REPEATS = 4


def noop_tasks(harness, kind):
    """20 tasks that find nothing to change (10 callback endpoints, 10 sensors), or 20 bare uri GETs."""
    tasks = []
    conn = harness.connection("agilesec")
    for index in range(NOOP_TASKS // 2):
        if kind == "collection":
            tasks.append({"name": "callback %d" % index, "scanops.security.callback_endpoint": dict(
                conn, name="bench-callback-%d" % index, url=harness.base + "/_emulator/health", auth_type="bearer",
                token="bench-token-%d" % index)})
        elif kind == "uri":
            tasks.append({"name": "callback %d" % index, "ansible.builtin.uri": {
                "url": harness.url("agilesec") + "/v3/callback-endpoints?name=bench-callback-%d" % index, "headers": auth_header("agilesec")}})
        else:
            tasks.append({"name": "noop %d" % index, "ansible.builtin.meta": "noop"})
    for index in range(NOOP_TASKS // 2):
        if kind == "collection":
            tasks.append({"name": "sensor %d" % index, "scanops.security.scan_sensor": dict(
                conn, name="bench-sensor-%d" % index, sensor_type="GIT Sensor", priority="low",
                config={"repositoryUrl": "https://github.com/acme/bench-%d.git" % index, "token": "bench-git-%d" % index})})
        elif kind == "uri":
            tasks.append({"name": "sensor %d" % index, "ansible.builtin.uri": {
                "url": harness.url("agilesec") + "/v3/sensors?name=bench-sensor-%d" % index, "headers": auth_header("agilesec")}})
        else:
            tasks.append({"name": "noop %d" % index, "ansible.builtin.meta": "noop"})
    return tasks


_COLLECTION = "ansible_collections.scanops.security.plugins."
# What each module's process imports before its first request: the module, its provider's adapter (loaded when the
# adapter is built) and, for scan_sensor checking a config, jsonschema.
IMPORTS = {
    "callback_endpoint": ("import {0}modules.callback_endpoint\nfrom {0}module_utils.providers import get_adapter_class\n"
                          "get_adapter_class('agilesec')").format(_COLLECTION),
    "scan_sensor": ("import {0}modules.scan_sensor\nfrom {0}module_utils.providers import get_adapter_class\n"
                    "get_adapter_class('agilesec')\nfrom {0}module_utils.sensors import _load_jsonschema\n"
                    "_load_jsonschema()").format(_COLLECTION),
    "uri": "import ansible.modules.uri",
}
HEAVY_IMPORTS = ("httpx", "jsonschema", "httpx._main", "ssl")


def import_costs():
    """Milliseconds each module's process spends importing (``python -X importtime``), and its heaviest imports.

    The totals leave out what the interpreter imports before any code runs (measured with ``pass``).
    """
    costs = {}
    for name, code in [("startup", "pass")] + list(IMPORTS.items()):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="")
        samples = []
        for _repeat in range(3):
            answer = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, check=True)
            rows, total = {}, 0.0
            for line in answer.stderr.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[1].strip().isdigit():
                    rows[parts[2].strip()] = int(parts[1].strip()) / 1000.0
                    if not parts[2].startswith("  "):  # a top-level import: its cumulative time counts once
                        total += int(parts[1].strip()) / 1000.0
            samples.append((total, rows))
        heavy = {lib: statistics.median(rows.get(lib, 0.0) for _total, rows in samples) for lib in HEAVY_IMPORTS}
        costs[name] = {"total_ms": round(statistics.median(total for total, _rows in samples), 1),
                       "heaviest_ms": {lib: round(ms, 1) for lib, ms in heavy.items() if round(ms, 1) > 0}}
    startup = costs.pop("startup")["total_ms"]
    for row in costs.values():
        row["total_ms"] = round(max(0.0, row["total_ms"] - startup), 1)
    return costs


PAYLOAD_RUNS = 3


def payload_costs(harness, kinds=("collection", "uri")):
    """The module processes of one converged task of each module, run again by themselves from their kept AnsiballZ files.

    ``ANSIBLE_KEEP_REMOTE_FILES`` keeps each task's payload (the module, every module_util it imports, and its
    arguments); running one directly measures the module process alone: payload size, CPU (median of
    PAYLOAD_RUNS runs), its result's size and the requests it sent.
    """
    keep = os.path.join(harness.workdir, "kept")
    costs = {}
    for kind in kinds:
        tasks = noop_tasks(harness, kind)
        tasks = [tasks[0], tasks[NOOP_TASKS // 2]] if kind == "collection" else tasks[:1]
        must_succeed(harness.run_playbook("payload-" + kind, tasks, extra_env={"ANSIBLE_KEEP_REMOTE_FILES": "1",
                                                                               "ANSIBLE_REMOTE_TMP": keep}), "kept payloads")
    for directory, _dirs, files in os.walk(keep):
        for filename in files:
            if not (filename.startswith("AnsiballZ_") and filename.endswith(".py")):
                continue
            name = filename[len("AnsiballZ_"):-3]
            path = os.path.join(directory, filename)
            cpu, result_bytes, requests = [], 0, 0
            for _repeat in range(PAYLOAD_RUNS):
                since = harness.last_id()
                result = must_succeed(run_measured([sys.executable, path]), "payload " + name)
                cpu.append(result["cpu_seconds"])
                result_bytes = len(result["output"].encode("utf-8"))
                requests = len(harness.log("agilesec", since))
            costs[name] = {"payload_bytes": os.path.getsize(path), "cpu_seconds": statistics.median(cpu), "all_cpu_seconds": cpu,
                           "result_bytes": result_bytes, "requests": requests}
    return costs


def bench_noop(harness):
    admin = harness.admin
    admin.reset()
    must_succeed(harness.run_playbook("noop-setup", noop_tasks(harness, "collection")), "creating the callback endpoints and sensors")
    runs = {"collection": [], "uri": [], "empty": []}
    for _repeat in range(NOOP_REPEATS):
        for kind in ("empty", "uri", "collection"):
            since = harness.last_id()
            result = must_succeed(harness.run_playbook("noop-" + kind, noop_tasks(harness, kind)), "no-op play " + kind)
            changed = result["output"].count("changed: [localhost]")
            runs[kind].append(dict(count_requests(harness.log("agilesec", since)), seconds=result["seconds"],
                                   cpu_seconds=result["cpu_seconds"], peak_rss_mb=result["peak_rss_mb"], changed=changed))
    rows = {}
    for kind, samples in runs.items():
        rows[kind] = {"seconds": statistics.median(sample["seconds"] for sample in samples),
                      "all_seconds": [sample["seconds"] for sample in samples],
                      "cpu_seconds": statistics.median(sample["cpu_seconds"] for sample in samples),
                      "all_cpu_seconds": [sample["cpu_seconds"] for sample in samples],
                      "requests": samples[-1]["requests"], "writes": max(sample["writes"] for sample in samples),
                      "changed": max(sample["changed"] for sample in samples),
                      "peak_rss_mb": max(sample["peak_rss_mb"] for sample in samples)}
    empty, empty_cpu = rows["empty"]["seconds"], rows["empty"]["cpu_seconds"]
    for kind in ("collection", "uri"):
        rows[kind]["per_task_seconds"] = round((rows[kind]["seconds"] - empty) / NOOP_TASKS, 3)
        rows[kind]["per_task_cpu_seconds"] = round((rows[kind]["cpu_seconds"] - empty_cpu) / NOOP_TASKS, 3)
        # Each repeat ran the three plays back to back: the ratio of one repeat compares runs made under the same load.
        rows[kind]["per_task_each_run"] = [round((sample["seconds"] - base["seconds"]) / NOOP_TASKS, 3)
                                           for sample, base in zip(runs[kind], runs["empty"])]
    rows["ratio_per_task"] = round(rows["collection"]["per_task_seconds"] / rows["uri"]["per_task_seconds"], 2)
    rows["ratio_per_task_cpu"] = round(rows["collection"]["per_task_cpu_seconds"] / rows["uri"]["per_task_cpu_seconds"], 2)
    rows["ratio_each_run"] = [round(mine / theirs, 2) if theirs > 0 else None for mine, theirs in
                              zip(rows["collection"]["per_task_each_run"], rows["uri"]["per_task_each_run"])]
    rows["import_ms"] = import_costs()
    rows["payloads"] = payload_costs(harness)
    rows["ratio_play"] = round(rows["collection"]["seconds"] / rows["uri"]["seconds"], 2)
    return rows


# ---------------------------------------------------------------------------------------------
# 3. Waiting for a scan
# ---------------------------------------------------------------------------------------------
QUEUED_SECONDS = 1.0
RUNNING_SECONDS = 6.0
WAIT_TARGETS = {
    "cloudgeni": ({"repository": "repo_abc", "scan_type": "static"}, "repo_abc"),
    "kolega": ({"repository": "web-frontend", "scan_type": "secrets_scan"}, "web-frontend"),
    "agilesec": ({"sensor": "bench-wait-sensor"}, "bench-wait-sensor"),
    "harborguard": ({"image": "ghcr.io/acme/api:1.4.7"}, "ghcr.io/acme/api:1.4.7"),
    # Two integrations: Penaxtra allows 2 manual runs per integration and day (limits are on here).
    "penaxtra": ({"integration_id": "7a2d4f6b-1c3e-4a5b-8d7f-9e0a1b2c3d4e"}, "b5e8c1d4-6f2a-4b9c-a3e7-0d1f2a3b4c5d"),
}
CREATE_PATHS = {"cloudgeni": "/scans", "kolega": "/scans", "agilesec": "/v3/scan/execute", "harborguard": "/api/scans",
                "penaxtra": "/api/v2/cloud-posture-runs"}

# The CloudGeni page's loop (trigger, then `sleep 5` until the status is final), written for each vendor.
CURL_LOOP = r"""
set -u
H="$AUTH_HEADER"
case "$PROVIDER" in
cloudgeni)
  REPO="$TARGET"
  ID=$(curl -s -X POST -H "$H" -H "Content-Type: application/json" -d '{"type": "static"}' \
    "$API/organizations/org_123/repositories/$REPO/scans" | jq -r '.id')
  status() { curl -s -H "$H" "$API/organizations/org_123/repositories/$REPO/scans/$ID" | jq -r '.status'; }
  DONE="completed failed" ;;
kolega)
  REPO=$(curl -s -H "$H" "$API/api/v1/repositories?limit=200" | jq -r --arg n "$TARGET" '.items[] | select(.name == $n) | .id')
  ID=$(curl -s -X POST -H "$H" -H "Content-Type: application/json" -d '{"scan_type": "secrets_scan"}' \
    "$API/api/v1/repositories/$REPO/scans" | jq -r '.batch_id')
  status() { curl -s -H "$H" "$API/api/v1/repositories/$REPO/scans/$ID/progress" | jq -r '.status'; }
  DONE="completed succeeded failed partial_failure cancelled" ;;
agilesec)
  SENSOR=$(curl -s -H "$H" "$API/v3/sensors?name=$TARGET" | jq -r '.data[0].sensorId')
  ID=$(curl -s -X POST -H "$H" -H "Content-Type: application/json" -d "{\"sensorId\": \"$SENSOR\"}" \
    "$API/v3/scan/execute" | jq -r '.executionId')
  status() { curl -s -H "$H" -H "Content-Type: application/json" "$API/v3/scan/$ID" | jq -r '.status'; }
  DONE="successful failed" ;;
harborguard)
  ID=$(curl -s -X POST -H "$H" -H "Content-Type: application/json" -d "{\"image\": \"$TARGET\"}" "$API/api/scans" | jq -r '.scanId')
  status() { curl -s -H "$H" "$API/api/scans/$ID/status" | jq -r '.data.status'; }
  DONE="COMPLETE COMPLETED FAILED CANCELLED" ;;
penaxtra)
  curl -s -X POST -H "$H" -H "Content-Type: application/json" -d "{\"integration_id\": \"$TARGET\"}" \
    "$API/api/v2/cloud-posture-runs" >/dev/null
  status() { curl -s -H "$H" "$API/api/v2/cloud-posture-runs?integration_id=$TARGET" \
    | jq -r --arg i "$TARGET" '[.data[] | select(.integration_id == $i)][0].status'; }
  DONE="completed failed" ;;
esac
while true; do
  STATUS=$(status)
  case " $DONE " in *" $STATUS "*) break ;; esac
  sleep 5
done
echo "final status: $STATUS"
"""


def completion_time(harness, provider, since):
    """When the scan triggered after log id ``since`` completed in the emulator (trigger time + its plan)."""
    for item in harness.log(provider, since):
        if item["method"] == "POST" and item["path"].endswith(CREATE_PATHS[provider]) and item["status"] in (200, 201, 202):
            return _stamp(item) + QUEUED_SECONDS + RUNNING_SECONDS
    return None


def _stamp(item):
    return datetime.datetime.fromisoformat(item["timestamp"].replace("Z", "+00:00")).timestamp()


# The status reads of each vendor (emulator route suffixes); other reads fetch results once the scan is done.
STATUS_ROUTES = {"cloudgeni": ("/scans/{scan_id}",), "kolega": ("/progress", "/scans/{scan_id}"), "agilesec": ("/v3/scan/{execution_id}",),
                 "harborguard": ("/status", "/api/scans/{scan_id}"), "penaxtra": ("/cloud-posture-runs",)}


def polls(harness, provider, since):
    """Status reads after the trigger (what waiting cost) and the gap before the last one (the interval in effect)."""
    items = harness.log(provider, since)
    trigger = [index for index, item in enumerate(items) if item["method"] == "POST"]
    if not trigger:
        return 0, None
    stamps = [_stamp(items[trigger[0]])]
    for item in items[trigger[0] + 1:]:
        if item["method"] == "GET" and item["route"].endswith(STATUS_ROUTES[provider]):
            # Reads within 0.2 s of the previous one belong to the same poll (e.g. status, then the scan's details).
            if _stamp(item) - stamps[-1] > 0.2 or len(stamps) == 1:
                stamps.append(_stamp(item))
    return len(stamps) - 1, (round(stamps[-1] - stamps[-2], 2) if len(stamps) > 1 else None)


def wait_module(harness, provider):
    since = harness.last_id()
    task = {"name": "scan and wait", "scanops.security.scan_run": dict(harness.connection(provider), **WAIT_TARGETS[provider][0])}
    result = must_succeed(harness.run_playbook("wait-%s" % provider, [task]), "scan_run on %s" % provider)
    return since, result


def wait_curl(harness, provider):
    since = harness.last_id()
    (name, value), = auth_header(provider).items()
    env = dict(os.environ, PROVIDER=provider, API=harness.url(provider), TARGET=WAIT_TARGETS[provider][1], AUTH_HEADER="%s: %s" % (name, value))
    result = must_succeed(run_measured(["bash", "-c", CURL_LOOP], env), "curl loop on %s" % provider)
    return since, result


def bench_wait(harness):
    admin = harness.admin
    admin.reset()
    admin.seed("agilesec", "sensor", sensorName="bench-wait-sensor", sensorType="GIT Sensor")
    for provider in KEYS:
        admin.config(provider, queued_seconds=QUEUED_SECONDS, running_seconds=RUNNING_SECONDS)
        admin.limits(provider, enabled=True)
    rows = {}
    for approach, function in (("collection", wait_module), ("curl_loop", wait_curl)):
        # The five providers at once: each vendor's log, limits and scans are its own.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(KEYS)) as pool:
            futures = {provider: pool.submit(function, harness, provider) for provider in KEYS}
            for provider, future in futures.items():
                since, result = future.result()
                done = completion_time(harness, provider, since)
                items = harness.log(provider, since)
                count, last_gap = polls(harness, provider, since)
                rows.setdefault(provider, {})[approach] = {
                    "seconds": result["seconds"], "peak_rss_mb": result["peak_rss_mb"],
                    "completion_to_return": round(result["finished_at"] - done, 2) if done else None,
                    "polls": count, "last_poll_gap": last_gap, "requests": len(items),
                    "http_429": sum(1 for item in items if item.get("status") == 429)}
    return {"queued_seconds": QUEUED_SECONDS, "running_seconds": RUNNING_SECONDS, "providers": rows}


# ---------------------------------------------------------------------------------------------
# 4. Fan-out under a rate limit
# ---------------------------------------------------------------------------------------------
FANOUT_IMAGES = 200
FANOUT_WINDOW = 6
FANOUT_PER_WINDOW = 60  # 600 a minute, as a sliding 6 s window
FANOUT_CONCURRENCY = 8  # scan_run's default
# The other providers with a documented limit, each told its limit the same way (rate_limit) or left at the
# documented one: CloudGeni's 10 triggers, 60 status and 30 findings calls a minute with the minute shrunk to
# 1 s, so rate_limit 10 is the trigger limit exactly; Penaxtra's bucket as documented (60 a minute, burst 120),
# with the collection's own documented pace.
FANOUT_OTHERS = {
    "cloudgeni": {"targets": 50, "limits": {"window_seconds": 1, "trigger_per_window": 10, "status_per_window": 60,
                                            "findings_per_window": 30}, "rate_limit": 10.0},
    "penaxtra": {"targets": 50, "limits": {"window_seconds": 60, "requests_per_window": 60, "burst": 120}, "rate_limit": None},
}


def fanout_floor():
    """Earliest time the last of FANOUT_IMAGES POSTs can be accepted under the sliding window."""
    windows = -(-FANOUT_IMAGES // FANOUT_PER_WINDOW) - 1
    return float(windows * FANOUT_WINDOW)


def _epoch(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def limited_span(limited, accepted):
    """Seconds from the first limited request to the last one accepted, in the emulator's log: what the window's floor bounds."""
    if not limited or not accepted:
        return None
    return round(_epoch(accepted[-1]["timestamp"]) - _epoch(limited[0]["timestamp"]), 2)


def startup_floor(harness):
    """A bare one-task playbook (one uri GET of the emulator): what any fan-out playbook pays to start and end."""
    tasks = [{"name": "one GET", "ansible.builtin.uri": {"url": harness.base + "/_emulator/health"}}]
    return must_succeed(harness.run_playbook("fanout-startup", tasks), "fan-out start-up floor")["seconds"]


def fanout_other(harness, provider, setting):
    """The collection's bulk scan_run on another provider with a documented limit: its wall time, floor and 429s."""
    admin = harness.admin
    admin.reset()
    count = setting["targets"]
    if provider == "cloudgeni":
        names = ["fanout-%03d" % index for index in range(count)]
        admin.seed_many({"vendor": "cloudgeni", "kind": "repository", "id": "repo_fanout_%03d" % index, "name": name,
                         "fullName": "acme/" + name} for index, name in enumerate(names))
        targets = [{"repository": name} for name in names]
    else:
        created = admin.seed_many({"vendor": "penaxtra", "kind": "integration", "name": "fanout-%03d" % index}
                                  for index in range(count))
        targets = [{"integration_id": item["object"]["id"]} for item in created]
    admin.limits(provider, enabled=True, **setting["limits"])
    options = dict(harness.connection(provider), targets=targets, concurrency=FANOUT_CONCURRENCY, wait=False, force=True)
    if setting["rate_limit"] is not None:
        options["rate_limit"] = setting["rate_limit"]
    since = harness.last_id()
    tasks = [{"name": "scan every target", "scanops.security.scan_run": options}]
    extra_env = {"SCANOPS_CACHE_DIR": os.path.join(harness.workdir, "cache-" + provider)}
    result = must_succeed(harness.run_playbook("fanout-" + provider, tasks, extra_env=extra_env), "fan-out " + provider)
    items = harness.log(provider, since)
    posts = [item for item in items if item["method"] == "POST"]
    accepted = [item for item in posts if item["status"] == 202 or item["status"] == 201]
    limits = setting["limits"]
    if provider == "cloudgeni":
        per_window, window = limits["trigger_per_window"], limits["window_seconds"]
        floor = float((-(-count // per_window) - 1) * window)
        limit = "scan triggers %d per %d s sliding window (the documented 10 a minute, the minute shrunk to 1 s)" % (per_window, window)
        paced = (posts, accepted)
    else:
        # Every request draws from one bucket: the floor is the requests past the burst at the refill rate.
        rate = limits["requests_per_window"] / float(limits["window_seconds"])
        floor = max(0.0, (len(items) - limits["burst"]) / rate)
        limit = "every request, a bucket of %d refilled at %d a minute (as documented)" % (limits["burst"], limits["requests_per_window"])
        paced = (items, items)
    return dict(count_requests(items), seconds=result["seconds"], peak_rss_mb=result["peak_rss_mb"], targets=count,
                scans_started=len(accepted), floor_seconds=round(floor, 1), limit=limit, rate_limit=setting["rate_limit"],
                limited_span=limited_span(*paced))


def bench_fanout(harness):
    admin = harness.admin
    rows = {}
    images = ["ghcr.io/acme/fanout-%03d:1.0" % index for index in range(FANOUT_IMAGES)]
    per_second = FANOUT_PER_WINDOW / float(FANOUT_WINDOW)
    plays = {
        # The collection: one scan_run task with every image in targets (one process, one connection pool,
        # FANOUT_CONCURRENCY threads), told the scaled-up limit.
        "collection": [{"name": "scan every image", "scanops.security.scan_run": dict(
            harness.connection("harborguard"), targets=[{"image": image} for image in images], concurrency=FANOUT_CONCURRENCY,
            wait=False, force=True, rate_limit=per_second)}],
        # For contrast, what benchmark 4 measured before bulk mode: one scan_run task per image in a loop.
        "collection_loop": [{"name": "scan every image", "scanops.security.scan_run": dict(
            harness.connection("harborguard"), image="{{ item }}", wait=False, force=True, rate_limit=per_second),
            "loop": images}],
        # By hand: one uri POST per image, retried while the vendor answers 429.
        "uri_loop": [{"name": "scan every image", "ansible.builtin.uri": {
            "url": harness.url("harborguard") + "/api/scans", "method": "POST", "headers": auth_header("harborguard"),
            "body_format": "json", "body": {"image": "{{ item }}"}, "status_code": [202, 429]},
            "register": "answer", "until": "answer.status != 429", "retries": 30, "delay": 1, "loop": images}],
    }
    rows["startup_seconds"] = startup_floor(harness)
    for approach, tasks in plays.items():
        admin.reset()
        admin.limits("harborguard", enabled=True, window_seconds=FANOUT_WINDOW, scan_posts_per_window=FANOUT_PER_WINDOW)
        since = harness.last_id()
        # Each approach starts with the controller's pace for the emulator untouched by the one before.
        result = must_succeed(harness.run_playbook("fanout-" + approach, tasks, extra_env={
            "SCANOPS_CACHE_DIR": os.path.join(harness.workdir, "cache-" + approach)}), "fan-out " + approach)
        everything = harness.log("harborguard", since)
        items = [item for item in everything if item["method"] == "POST"]
        accepted = [item for item in items if item["status"] == 202]
        rows[approach] = dict(count_requests(items), seconds=result["seconds"], peak_rss_mb=result["peak_rss_mb"],
                              cpu_seconds=result["cpu_seconds"],
                              scans_started=len(accepted), reads=sum(1 for item in everything if item["method"] == "GET"),
                              limited_span=limited_span(items, accepted),
                              # Where the rest of the time goes: the first window's POSTs (which the window allows at
                              # once), the playbook before its first request and after its last.
                              first_window=limited_span(items, accepted[:FANOUT_PER_WINDOW]),
                              before_first_request=round(_epoch(everything[0]["timestamp"]) - (result["finished_at"] - result["seconds"]), 2)
                              if everything else None,
                              after_last_request=round(result["finished_at"] - _epoch(everything[-1]["timestamp"]), 2) if everything else None)
        if approach == "collection":
            rows["load_average"] = round(os.getloadavg()[0], 1)
    rows["floor_seconds"] = fanout_floor()
    rows["images"] = FANOUT_IMAGES
    rows["limit"] = "%d per %d s sliding window (%d a minute)" % (FANOUT_PER_WINDOW, FANOUT_WINDOW, FANOUT_PER_WINDOW * 60 // FANOUT_WINDOW)
    rows["concurrency"] = FANOUT_CONCURRENCY
    rows["others"] = {provider: fanout_other(harness, provider, setting) for provider, setting in FANOUT_OTHERS.items()}
    return rows


# ---------------------------------------------------------------------------------------------
# 5. Large result sets
# ---------------------------------------------------------------------------------------------
LARGE_FINDINGS = 20000
LARGE_REPO = "data-pipeline"


def bench_large(harness):
    import httpx  # pylint: disable=import-outside-toplevel
    admin = harness.admin
    admin.reset()
    headers = auth_header("kolega")
    api = harness.url("kolega") + "/api/v1"
    repos = httpx.get(api + "/repositories", params={"limit": 200}, headers=headers).json()["items"]
    repo_id = [repo["id"] for repo in repos if repo["name"] == LARGE_REPO][0]
    admin.scope("kolega", "%s:secrets_scan" % repo_id, finding_count=LARGE_FINDINGS, queued_seconds=0, running_seconds=0.2)
    batch = httpx.post(api + "/repositories/%s/scans" % repo_id, json={"scan_type": "secrets_scan"}, headers=headers).json()
    deadline = time.time() + 60
    while httpx.get(api + "/repositories/%s/scans/%s" % (repo_id, batch["batch_id"]), headers=headers).json()["status"] != "completed":
        if time.time() > deadline:
            raise RuntimeError("the 20,000-finding scan did not complete")
        time.sleep(0.2)
    # Client-side pacing off, as on the raw walk: Kolega documents no limit, and the collection's own assumed pace
    # (10 requests a second) would make 100 pages take 10 s by design; the emulator runs without vendor limits here.
    connection = dict(harness.connection("kolega"), repository=repo_id, rate_limit=0)
    count_task = {"name": "count them", "ansible.builtin.debug": {"msg": "{{ listed.findings | length }} findings, count {{ listed.count }}"}}
    output_file = os.path.join(harness.workdir, "findings.jsonl")
    plays = {
        # finding_info as before: every normalized field and the vendor's body, registered.
        "collection": [{"name": "every finding", "scanops.security.finding_info": connection, "register": "listed"}, count_task],
        "collection_no_raw": [{"name": "every finding, no raw", "scanops.security.finding_info": dict(connection, include_raw=False),
                               "register": "listed"}, count_task],
        "collection_fields": [{"name": "every finding, four fields", "scanops.security.finding_info": dict(
            connection, fields=LARGE_FIELDS), "register": "listed"}, count_task],
        # Everything (raw included) into a JSON Lines file; the result holds the count.
        "collection_file": [{"name": "every finding into a file", "scanops.security.finding_info": dict(
            connection, output_file=output_file), "register": "listed"}, count_task],
    }
    raw_walk = [sys.executable, "-c", RAW_KOLEGA_WALK, api + "/repositories/%s/findings" % repo_id, KEYS["kolega"], str(LARGE_FINDINGS)]
    # One walk first, not measured: the emulator builds the 20,000 findings once, for every approach alike.
    must_succeed(run_measured(raw_walk), "warm-up walk")
    rows = {"findings": LARGE_FINDINGS, "repeats": LARGE_REPEATS, "fields": LARGE_FIELDS,
            "load_average": [round(os.getloadavg()[0], 1)]}
    runs = dict((approach, []) for approach in ["raw_walk"] + list(plays))
    # Every row once; then the rows the goal compares (the floor and output_file) again, for their spread.
    order = ["raw_walk"] + list(plays) + ["raw_walk", "collection_file"] * (LARGE_REPEATS - 1)
    for approach in order:
        since = harness.last_id()
        if approach == "raw_walk":
            result = must_succeed(run_measured(raw_walk), "raw httpx walk")
        else:
            result = must_succeed(harness.run_playbook("large-" + approach, plays[approach]), "large result set " + approach)
        counted = [line for line in result["output"].splitlines() if "findings\"" in line or " findings" in line]
        sample = dict(count_requests(harness.log("kolega", since)), seconds=result["seconds"], cpu_seconds=result["cpu_seconds"],
                      peak_rss_mb=result["peak_rss_mb"], reported=counted[-1].strip() if counted else None)
        if approach == "collection_file":
            with open(output_file, encoding="utf-8") as handle:
                sample["file_lines"] = sum(1 for _line in handle)
            sample["file_mb"] = round(os.path.getsize(output_file) / 1048576.0, 1)
            os.unlink(output_file)  # every repeat writes the file anew
        runs[approach].append(sample)
    for approach, samples in runs.items():
        row = dict(samples[-1])
        row.update(seconds=statistics.median(sample["seconds"] for sample in samples), all_seconds=[sample["seconds"] for sample in samples],
                   cpu_seconds=statistics.median(sample["cpu_seconds"] for sample in samples),
                   peak_rss_mb=max(sample["peak_rss_mb"] for sample in samples),
                   http_429=sum(sample["http_429"] for sample in samples))
        rows[approach] = row
    rows["load_average"].append(round(os.getloadavg()[0], 1))
    return rows


LARGE_REPEATS = 2
LARGE_FIELDS = ["severity", "status", "rule_id", "location"]
# By hand: the same pages with httpx in one Python process, one keep-alive connection, every item kept.
RAW_KOLEGA_WALK = """
import sys
import httpx
url, key, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
items = []
with httpx.Client(headers={"Authorization": "Bearer " + key}, timeout=60) as client:
    for skip in range(0, total, 200):
        items.extend(client.get(url, params={"limit": 200, "skip": skip}).raise_for_status().json()["items"])
print("%d findings" % len(items))
"""


# ---------------------------------------------------------------------------------------------
# 7. AgileSec crypto findings through the Search API
# ---------------------------------------------------------------------------------------------
CRYPTO_FINDINGS = 20000
CRYPTO_SENSOR = "bench-crypto"
CRYPTO_REPEATS = 3
# The emulator's Search API demo user (docs/emulator.md) and the index pattern it serves.
SEARCH_USER = ("analytics-reader", "kf-search-demo-7d41c9e2b05a")
SEARCH_INDEX = "agilesec.acme_example.v3.event-*"
SEARCH_PAGE = 1000

# By hand: the same query, sort and page size the collection sends, walked with search_after; every hit kept.
RAW_WALK = """
import json, sys
import httpx
url, user, password, execution = sys.argv[1:5]
body = {"size": %d, "query": {"bool": {"filter": [{"term": {"observation.sensor.id": sys.argv[5]}},
                                                  {"term": {"observation.sensor.execution_id": execution}}]}},
        "sort": [{"_index": "asc"}, {"_id": "asc"}]}
hits = []
with httpx.Client(auth=(user, password), timeout=60) as client:
    while True:
        page = client.post(url, json=body).raise_for_status().json()["hits"]["hits"]
        hits.extend(page)
        if len(page) < body["size"]:
            break
        body["search_after"] = page[-1]["sort"]
print("%%d findings" %% len(hits))
""" % SEARCH_PAGE

# The collection's adapter without Ansible: the same walk, each hit normalized into the finding shape.
ADAPTER_WALK = """
import json, sys
from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import AgileSecAdapter, search_query
api_url, key, user, password, index, sensor, execution = sys.argv[1:8]
with AgileSecAdapter(key, api_url=api_url, search_username=user, search_password=password, search_index=index, rate_limit=0) as adapter:
    findings = [adapter.normalize_finding(hit) for hit in adapter.iter_search(search_query(sensor_id=sensor, execution_id=execution))]
# The size of what finding_info hands to Ansible as its result (the findings, each with the hit as raw).
print("%d findings, %.1f MB as JSON" % (len(findings), len(json.dumps({"findings": findings})) / 1e6))
"""


def bench_crypto(harness):
    """20,000 findings of one AgileSec execution: finding_info vs a raw httpx search_after walk of the same pages."""
    import httpx  # pylint: disable=import-outside-toplevel
    admin = harness.admin
    admin.reset()
    admin.scope("agilesec", CRYPTO_SENSOR, finding_count=CRYPTO_FINDINGS, queued_seconds=0, running_seconds=0.2)
    headers = dict(auth_header("agilesec"), **{"content-type": "application/json"})
    created = httpx.post(harness.url("agilesec") + "/v3/scan/create", headers=headers, json={
        "sensorType": "GIT Sensor", "sensorName": CRYPTO_SENSOR,
        "sensorConfig": {"repositoryUrl": "https://git.acme.example/crypto/monorepo.git"}, "labels": [{"team": "crypto"}]}).json()
    sensor, execution = created["sensorId"], created["executionId"]
    deadline = time.time() + 60
    while httpx.get(harness.url("agilesec") + "/v3/scan/" + execution, headers=headers).json()["status"] != "successful":
        if time.time() > deadline:
            raise RuntimeError("the 20,000-finding execution did not complete")
        time.sleep(0.2)
    search_url = harness.url("agilesec") + "/searchdb/" + SEARCH_INDEX + "/_search"
    raw = [sys.executable, "-c", RAW_WALK, search_url, SEARCH_USER[0], SEARCH_USER[1], execution, sensor]
    adapter = [sys.executable, "-c", ADAPTER_WALK, harness.url("agilesec"), KEYS["agilesec"], SEARCH_USER[0], SEARCH_USER[1],
               SEARCH_INDEX, sensor, execution]
    # One walk first: the emulator builds its 20,000 documents and caches the query once, for every approach alike.
    must_succeed(run_measured(raw), "warm-up walk")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    connection = dict(harness.connection("agilesec"), search_username=SEARCH_USER[0], search_password=SEARCH_USER[1],
                      search_index=SEARCH_INDEX, rate_limit=0)
    tasks = [{"name": "every crypto finding of the execution", "scanops.security.finding_info": dict(connection, scan_id=execution),
              "register": "listed"},
             {"name": "count them", "ansible.builtin.debug": {"msg": "{{ listed.findings | length }} findings"}}]
    runs = {"finding_info": [], "raw_walk": [], "adapter_walk": []}
    for _repeat in range(CRYPTO_REPEATS):
        for approach in ("raw_walk", "adapter_walk", "finding_info"):
            since = harness.last_id()
            if approach == "finding_info":
                result = must_succeed(harness.run_playbook("crypto-finding-info", tasks), "finding_info over 20,000 findings")
            else:
                result = must_succeed(run_measured(raw if approach == "raw_walk" else adapter), approach)
            counted = [line.strip() for line in result["output"].splitlines() if " findings" in line]
            searches = [item for item in harness.log("agilesec", since) if "/searchdb/" in item["path"]]
            runs[approach].append(dict(count_requests(searches), seconds=result["seconds"], cpu_seconds=result["cpu_seconds"],
                                       peak_rss_mb=result["peak_rss_mb"], reported=counted[-1] if counted else None))
    rows = {"findings": CRYPTO_FINDINGS, "page_size": SEARCH_PAGE, "repeats": CRYPTO_REPEATS,
            "load_average": [round(load, 1) if load is not None else None,
                             round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None]}
    for approach, samples in runs.items():
        rows[approach] = {"seconds": statistics.median(sample["seconds"] for sample in samples),
                          "all_seconds": [sample["seconds"] for sample in samples],
                          "cpu_seconds": statistics.median(sample["cpu_seconds"] for sample in samples),
                          "requests": samples[-1]["requests"], "http_429": sum(sample["http_429"] for sample in samples),
                          "peak_rss_mb": max(sample["peak_rss_mb"] for sample in samples), "reported": samples[-1]["reported"]}
    return rows


BENCHMARKS = {"noop": bench_noop, "wait": bench_wait, "fanout": bench_fanout, "large": bench_large, "crypto": bench_crypto}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset of %s" % ", ".join(BENCHMARKS))
    parser.add_argument("--output", help="write the results as JSON here")
    args = parser.parse_args()
    results = {}
    for name in [item.strip() for item in args.only.split(",") if item.strip()]:
        if name not in BENCHMARKS:
            parser.error("unknown benchmark %s" % name)
        started = time.perf_counter()
        with running_emulator(profile="test", port=0) as base, tempfile.TemporaryDirectory() as workdir:
            results[name] = BENCHMARKS[name](Harness(base, workdir))
        results[name]["benchmark_seconds"] = round(time.perf_counter() - started, 1)
        sys.stdout.write("%s: %s\n" % (name, json.dumps(results[name])))
        sys.stdout.flush()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
