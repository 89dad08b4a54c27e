# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bulk triage: one finding_status task against the same work done with an ansible.builtin.uri loop.

    python bench/bench_bulk_triage.py [--count 5000] [--uri-count 500] [--providers kolega,harborguard]
                                      [--concurrency 16] [--output bench-triage.json]

Starts its own emulator (test profile, vendor rate limits off), then per provider:

* seeds ``--count`` findings in one scope (a Kolega scan of ``web-frontend``; a HarborGuard
  scan of an image) and sets all of them with one ``finding_status`` task, then runs the task
  again (converged);
* seeds ``--count`` findings in a third scope and sets them by hand with raw httpx (one process,
  one keep-alive client shared by ``--concurrency`` threads: list every page, write each finding
  that differs), the floor; one bare ``uri`` task's run (ansible-playbook and one module process
  starting) is added to it, since finding_status pays that too. Measured right before the
  collection's first run, so both see the same load;
* seeds ``--uri-count`` findings in a second scope and does the same work with uri: list every
  page, then one write per finding whose status differs (``loop`` + ``when``), then again.

Both sides run through ansible-playbook with client-side pacing off (the uri module has none),
and the emulator's request log is read after each run. The uri loop costs one task execution per
finding, so it is measured on fewer findings; its time for ``--count`` findings is extrapolated
linearly from the time per finding (the re-run's time plus the per-write time of the first run) and labelled as such. Needs the staged collection (see
docs/developing.md) or ANSIBLE_COLLECTIONS_PATH pointing at one. A benchmark, not a test.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

from scanops_emulator.admin_client import AdminClient  # noqa: E402  pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402  pylint: disable=wrong-import-position

KOLEGA_KEY = "kcp_live_demo_5b1e9c3a7d2f4e6081a9"
HARBORGUARD_KEY = "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d"
WRITE_METHOD = {"kolega": "PATCH", "harborguard": "PUT"}


# -- seeding ------------------------------------------------------------------------------------
def seed_kolega(base, admin, repo_name, count):
    """A completed Kolega scan of ``repo_name`` with ``count`` findings; returns the repository id."""
    headers = {"Authorization": "Bearer " + KOLEGA_KEY}
    api = base + "/kolega/api/v1"
    repos = httpx.get(api + "/repositories", params={"limit": 200}, headers=headers).json()["items"]
    repo_id = [r["id"] for r in repos if r["name"] == repo_name][0]
    admin.scope("kolega", "%s:secrets_scan" % repo_id, finding_count=count)
    batch = httpx.post(api + "/repositories/%s/scans" % repo_id, json={"scan_type": "secrets_scan"}, headers=headers).json()
    _wait(lambda: httpx.get(api + "/repositories/%s/scans/%s" % (repo_id, batch["batch_id"]), headers=headers).json()["status"]
          == "completed")
    return repo_id


def seed_harborguard(base, admin, reference, count):
    """A completed HarborGuard scan of ``reference`` with ``count`` vulnerabilities."""
    headers = {"X-API-Key": HARBORGUARD_KEY}
    admin.seed("harborguard", "image", reference=reference)
    admin.scope("harborguard", reference, finding_count=count)
    scan = httpx.post(base + "/harborguard/api/scans", json={"image": reference}, headers=headers).json()
    _wait(lambda: httpx.get(base + "/harborguard/api/scans/%s/status" % scan["scanId"], headers=headers).json()["data"]["status"]
          == "COMPLETE")
    return reference


def _wait(done, timeout=60.0):
    deadline = time.time() + timeout
    while not done():
        if time.time() > deadline:
            raise RuntimeError("the emulator's scan did not complete in %.0f s" % timeout)
        time.sleep(0.2)


# -- playbooks ----------------------------------------------------------------------------------
def collection_play(provider, base, scope, concurrency):
    if provider == "kolega":
        task = {"provider": "kolega", "api_url": base + "/kolega", "api_key": KOLEGA_KEY, "repository": scope,
                "status": "ignored"}
    else:
        task = {"provider": "harborguard", "api_url": base + "/harborguard", "api_key": HARBORGUARD_KEY,
                "auth_scheme": "x_api_key", "image": scope, "status": "ignored"}
    task.update(rate_limit=0, concurrency=concurrency)
    return [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "finding_status", "scanops.security.finding_status": task, "register": "result"},
                       {"name": "counts", "ansible.builtin.debug": {"var": "result.counts"}}]}]


def uri_play(provider, base, scope):
    """List every page with uri, then one write per finding that differs, as a uri loop."""
    if provider == "kolega":
        list_url = "%s/kolega/api/v1/repositories/%s/findings?limit=200&skip={{ item * 200 }}" % (base, scope)
        first_url = "%s/kolega/api/v1/repositories/%s/findings?limit=1" % (base, scope)
        headers = {"Authorization": "Bearer " + KOLEGA_KEY}
        pages = "{{ range(((first.json.total | int) + 199) // 200) | list }}"
        items = "{{ listed.results | map(attribute='json') | map(attribute='items') | flatten }}"
        write = {"url": "%s/kolega/api/v1/repositories/%s/findings/{{ item.id }}" % (base, scope), "method": "PATCH",
                 "body_format": "json", "body": {"status": "ignored"}, "headers": headers}
        differs = "item.status != 'ignored'"
    else:
        list_url = "%s/harborguard/api/vulnerabilities?image=%s&limit=200&page={{ item + 1 }}" % (base, scope)
        first_url = "%s/harborguard/api/vulnerabilities?image=%s&limit=1" % (base, scope)
        headers = {"X-API-Key": HARBORGUARD_KEY}
        pages = "{{ range(((first.json.meta.total | int) + 199) // 200) | list }}"
        items = "{{ listed.results | map(attribute='json') | map(attribute='data') | flatten }}"
        write = {"url": "%s/harborguard/api/vulnerabilities/{{ item.id }}/triage" % base, "method": "PUT",
                 "body_format": "json", "body": {"status": "WONT_FIX"}, "headers": headers}
        differs = "item.triage.status != 'WONT_FIX'"
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "total", "ansible.builtin.uri": {"url": first_url, "headers": headers}, "register": "first"},
        {"name": "pages", "ansible.builtin.uri": {"url": list_url, "headers": headers}, "loop": pages, "register": "listed"},
        {"name": "findings", "ansible.builtin.set_fact": {"found": items}},
        {"name": "write", "ansible.builtin.uri": write, "loop": "{{ found }}", "when": differs,
         "loop_control": {"label": "{{ item.id }}"}},
    ]}]


# The floor: the same work by hand in one Python process, one keep-alive httpx client shared by as many threads as
# finding_status uses: every page listed, then one write per finding whose status differs.
RAW_TRIAGE = """
import sys
from concurrent.futures import ThreadPoolExecutor
import httpx
provider, base, key, scope, concurrency = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
if provider == "kolega":
    headers = {"Authorization": "Bearer " + key}
    list_url, field = base + "/kolega/api/v1/repositories/%s/findings" % scope, "items"
    pages = lambda n: {"limit": 200, "skip": n * 200}
    differs = lambda item: item["status"] != "ignored"
    write = lambda client, item: client.patch(list_url + "/" + item["id"], json={"status": "ignored"})
else:
    headers = {"X-API-Key": key}
    list_url, field = base + "/harborguard/api/vulnerabilities", "data"
    pages = lambda n: {"image": scope, "limit": 200, "page": n + 1}
    differs = lambda item: item["triage"]["status"] != "WONT_FIX"
    write = lambda client, item: client.put(base + "/harborguard/api/vulnerabilities/%s/triage" % item["id"], json={"status": "WONT_FIX"})
limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
with httpx.Client(headers=headers, timeout=60, limits=limits) as client:
    found, page = [], 0
    while True:
        items = client.get(list_url, params=pages(page)).raise_for_status().json()[field]
        found.extend(items)
        if len(items) < 200:
            break
        page += 1
    todo = [item for item in found if differs(item)]
    with ThreadPoolExecutor(concurrency) as pool:
        for answer in pool.map(lambda item: write(client, item), todo):
            answer.raise_for_status()
print("%d findings, %d written" % (len(found), len(todo)))
"""


def uri_startup_play(provider, base):
    """One bare uri GET: what starting ansible-playbook and one module process costs, added to the raw floor."""
    if provider == "kolega":
        url, headers = base + "/kolega/api/v1/repositories?limit=1", {"Authorization": "Bearer " + KOLEGA_KEY}
    else:
        url, headers = base + "/harborguard/api/vulnerabilities?limit=1", {"X-API-Key": HARBORGUARD_KEY}
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "one GET", "ansible.builtin.uri": {"url": url, "headers": headers}}]}]


def run_raw(provider, base, scope, concurrency):
    key = KOLEGA_KEY if provider == "kolega" else HARBORGUARD_KEY
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", RAW_TRIAGE, provider, base, key, scope, str(concurrency)],
                               capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-3000:])
        raise RuntimeError("raw httpx triage on %s failed" % provider)
    return elapsed


def run_playbook(workdir, name, play):
    path = os.path.join(workdir, name + ".yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)  # JSON is YAML
    inventory = os.path.join(workdir, "inventory.ini")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_DISPLAY_SKIPPED_HOSTS="0", ANSIBLE_STDOUT_CALLBACK="default")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, path]
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-3000:])
        raise RuntimeError("playbook %s failed" % name)
    return elapsed


def measured(admin, workdir, name, play, vendor):
    admin.clear_requests()
    seconds = run_playbook(workdir, name, play)
    log = admin.requests(vendor=vendor)
    reads = sum(n for key, n in log["counters"].items() if key.startswith("GET "))
    writes = sum(n for key, n in log["counters"].items() if not key.startswith("GET "))
    return {"seconds": round(seconds, 2), "requests": log["total"], "reads": reads, "writes": writes}


# -- main -----------------------------------------------------------------------------------------
def measured_raw(admin, provider, base, scope, concurrency):
    admin.clear_requests()
    seconds = run_raw(provider, base, scope, concurrency)
    log = admin.requests(vendor=provider)
    reads = sum(n for key, n in log["counters"].items() if key.startswith("GET "))
    return {"seconds": round(seconds, 2), "requests": log["total"], "reads": reads, "writes": log["total"] - reads}


def bench_provider(provider, base, admin, workdir, args):
    if provider == "kolega":
        big = seed_kolega(base, admin, "web-frontend", args.count)
        small = seed_kolega(base, admin, "mobile-backend", args.uri_count)
        floor_scope = seed_kolega(base, admin, "data-pipeline", args.count)
    else:
        big = seed_harborguard(base, admin, "ghcr.io/acme/bench:%d" % args.count, args.count)
        small = seed_harborguard(base, admin, "ghcr.io/acme/bench-uri:%d" % args.uri_count, args.uri_count)
        floor_scope = seed_harborguard(base, admin, "ghcr.io/acme/bench-floor:%d" % args.count, args.count)
    # The floor first, right before the collection's run: raw httpx doing the same listing and writes, plus
    # one bare uri task (ansible-playbook and one module process starting), measured in this run.
    raw = measured_raw(admin, provider, base, floor_scope, args.concurrency)
    startup = measured(admin, workdir, provider + "-uri-startup", uri_startup_play(provider, base), provider)
    rows = {
        "collection": measured(admin, workdir, provider + "-collection", collection_play(provider, base, big, args.concurrency), provider),
        "collection_rerun": measured(admin, workdir, provider + "-collection-rerun",
                                     collection_play(provider, base, big, args.concurrency), provider),
        "uri": measured(admin, workdir, provider + "-uri", uri_play(provider, base, small), provider),
        "uri_rerun": measured(admin, workdir, provider + "-uri-rerun", uri_play(provider, base, small), provider),
    }
    rows["raw_floor"] = dict(raw, findings=args.count, startup_seconds=startup["seconds"],
                             seconds=round(raw["seconds"] + startup["seconds"], 2), raw_seconds=raw["seconds"])
    rows["floor_ratio"] = round(rows["collection"]["seconds"] / rows["raw_floor"]["seconds"], 2)
    rows["collection"]["findings"] = rows["collection_rerun"]["findings"] = args.count
    rows["uri"]["findings"] = rows["uri_rerun"]["findings"] = args.uri_count
    # The uri loop costs one task execution per write: the re-run (same start-up and listing, no
    # writes) is the fixed part, the difference to the first run is the per-write part.
    per_write = max(0.0, rows["uri"]["seconds"] - rows["uri_rerun"]["seconds"]) / float(args.uri_count)
    rows["uri_extrapolated"] = {"findings": args.count, "seconds": round(rows["uri_rerun"]["seconds"] + per_write * args.count, 1),
                                "extrapolated": True}
    rows["speedup"] = round(rows["uri_extrapolated"]["seconds"] / rows["collection"]["seconds"], 1)
    return rows


def markdown(results, args):
    lines = ["| provider | approach | findings | wall time (s) | requests | reads | writes |", "|---|---|---|---|---|---|---|"]
    labels = (("raw_floor", "**floor**: raw httpx, same listing and writes, + one bare uri task's start-up"),
              ("collection", "finding_status, first run"), ("collection_rerun", "finding_status, converged re-run"),
              ("uri", "uri loop, first run"), ("uri_rerun", "uri loop, re-run"),
              ("uri_extrapolated", "uri loop, **extrapolated** from the run above"))
    for provider, rows in results.items():
        for key, label in labels:
            row = rows[key]
            lines.append("| %s | %s | %d | %s | %s | %s | %s |" % (
                provider, label, row["findings"], row["seconds"], row.get("requests", "-"), row.get("reads", "-"), row.get("writes", "-")))
        lines.append("| %s | finding_status first run / floor | | %sx | | | |" % (provider, rows["floor_ratio"]))
        lines.append("| %s | speed-up (uri extrapolated / finding_status) | | %sx | | | |" % (provider, rows["speedup"]))
    lines.append("")
    lines.append("concurrency %d, client-side pacing off on both sides, emulator test profile (vendor limits off)." % args.concurrency)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="findings set by one finding_status task")
    parser.add_argument("--uri-count", type=int, default=500, help="findings set by the uri loop (extrapolated to --count)")
    parser.add_argument("--providers", default="kolega,harborguard")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--output", help="write the results as JSON here")
    args = parser.parse_args()
    results = {}
    with running_emulator(profile="test", port=0) as base, tempfile.TemporaryDirectory() as workdir:
        with open(os.path.join(workdir, "inventory.ini"), "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        admin = AdminClient(base)
        admin.reset()
        for provider in [p.strip() for p in args.providers.split(",") if p.strip()]:
            if provider not in WRITE_METHOD:
                parser.error("--providers: kolega and/or harborguard")
            results[provider] = bench_provider(provider, base, admin, workdir, args)
    table = markdown(results, args)
    print(table)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump({"count": args.count, "uri_count": args.uri_count, "concurrency": args.concurrency,
                       "results": results, "markdown": table}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
