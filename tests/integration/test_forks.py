# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""50 forks, one scan_run per host, 100 HarborGuard images, the vendor's scan limit on: every scan once, no 429.

The hosts come from the scan_targets inventory (100 images never scanned). HarborGuard allows 10
POST /api/scans in any sliding window; the emulator shrinks the window from 60 s to 1 s (10 a
second), and the play's ``rate_limit: 3`` keeps that window at an average of 3 a second: at most 10
scans in any 3.3 s, under the vendor's 10 in any second with room for a loaded machine. The 50
module processes draw from one controller-wide window; each alone would send its own 10 at once.
"""

import json
import multiprocessing
import os
import subprocess
import sys
import time

from conftest import COLLECTION_ROOT, DEMO_API_KEYS, OUTPUT_DIR

from ansible_collections.scanops.security.tests.utils.module_runner import load_module, run_main

IMAGES = 100
FORKS = 50
WINDOW_SECONDS = 1
PACE = 3
OUTPUT = os.path.join(OUTPUT_DIR, "forks")

PLAY = """- name: One scan per image, in forks
  hosts: scanops_never_scanned
  gather_facts: false
  module_defaults:
    group/scanops.security.scanops: "{{ scanops_connection }}"
  tasks:
    - name: Start a scan of the host's image
      scanops.security.scan_run:
        image: "{{ scanops_image }}"
        wait: false
"""


def test_fifty_forks_start_each_scan_once_without_a_429(emulator_url, admin, tmp_path):
    admin.reset()
    admin.limits("harborguard", enabled=True, window_seconds=WINDOW_SECONDS, scan_posts_per_window=10)
    images = ["registry.forks.example/fleet/app-%03d:1.0" % number for number in range(IMAGES)]
    os.makedirs(OUTPUT, exist_ok=True)
    source = os.path.join(OUTPUT, "forks.scan_targets.yml")
    with open(source, "w", encoding="utf-8") as handle:
        handle.write("plugin: scanops.security.scan_targets\nprovider: harborguard\nrate_limit: %d\ninclude_names:\n"
                     "  - registry.forks.example/*\ntargets:\n%s" % (PACE, "".join("  - %s\n" % image for image in images)))
    playbook = os.path.join(OUTPUT, "forks.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write(PLAY)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_PIPELINING="1",
               HARBORGUARD_API_URL=emulator_url + "/harborguard", HARBORGUARD_API_KEY=DEMO_API_KEYS["harborguard"],
               # A fresh controller: no pacing state from another test; the pace shared as it is by default.
               SCANOPS_CACHE_DIR=str(tmp_path), SCANOPS_RATE_LIMIT_SCOPE="controller")
    for name in ("SCANOPS_PROVIDER", "SCANOPS_API_KEY", "SCANOPS_API_URL"):
        env.pop(name, None)
    scans_before = admin.state("harborguard")["scans"]
    admin.clear_requests()
    started = time.time()
    completed = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", source, playbook,
                                "--forks", str(FORKS)], env=env, cwd=COLLECTION_ROOT, capture_output=True, text=True,
                               timeout=600, check=False)
    wall = time.time() - started
    output = completed.stdout + completed.stderr
    with open(os.path.join(OUTPUT, "forks.log"), "w", encoding="utf-8") as handle:
        handle.write(output)
    assert completed.returncode == 0, output[-3000:]
    assert "changed=1" in output and "Traceback (most recent call last)" not in output
    assert DEMO_API_KEYS["harborguard"] not in output

    requests = admin.requests(vendor="harborguard")["items"]
    posts = [r for r in requests if r["method"] == "POST"]
    too_many = [r for r in requests if r["status"] == 429]
    state = admin.state("harborguard")
    started_scans = state["scans"] - scans_before
    missing = sorted(set(images) - set(state["images"]))
    assert (len(posts), started_scans, len(too_many), missing) == (IMAGES, IMAGES, 0, [])
    with open(os.path.join(OUTPUT, "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write("forks: %d hosts, %d forks, one scan_run each: %d scans started, %d duplicates, %d HTTP 429, %d POSTs, "
                     "%.1f s (HarborGuard window 10 per %d s, rate_limit %d)\n"
                     % (IMAGES, FORKS, started_scans, started_scans - IMAGES, len(too_many), len(posts), wall, WINDOW_SECONDS,
                        PACE))
    with open(os.path.join(OUTPUT, "result.json"), "w", encoding="utf-8") as handle:
        json.dump({"hosts": IMAGES, "forks": FORKS, "scans_started": started_scans, "http_429": len(too_many),
                   "posts": len(posts), "wall_seconds": round(wall, 1)}, handle)


def test_processes_released_at_once_take_turns(emulator_url, admin, tmp_path, monkeypatch):
    """20 module processes released at the same instant: together they keep to the window.

    Ansible's own forks reach their POST spread out by each module's start-up, so this is the hard
    case: without a window shared between processes, each sends at once and 20 POSTs
    reach a vendor that takes 10 a second. The processes are forked from this one after the imports,
    and run scan_run's main() as ansible would.
    """
    count = 20
    admin.reset()
    admin.limits("harborguard", enabled=True, window_seconds=WINDOW_SECONDS, scan_posts_per_window=10)
    monkeypatch.setenv("SCANOPS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SCANOPS_RATE_LIMIT_SCOPE", "controller")
    context = multiprocessing.get_context("fork")
    released = context.Event()
    results = context.Queue()
    workers = []
    for number in range(count):
        args = dict(provider="harborguard", api_url=emulator_url + "/harborguard", api_key=DEMO_API_KEYS["harborguard"],
                    image="registry.burst.example/app-%02d:1" % number, wait=False, rate_limit=PACE, retries=0)
        workers.append(context.Process(target=_released_worker, args=(released, args, results)))
    for worker in workers:
        worker.start()
    admin.clear_requests()
    released.set()
    answers = [results.get(timeout=120) for _worker in workers]
    for worker in workers:
        worker.join(30)
    posts = admin.requests(vendor="harborguard", method="POST")["items"]
    assert [(image, output) for image, ok, output in answers if not ok] == []
    assert (len(posts), [r["status"] for r in posts if r["status"] != 202]) == (count, [])


def _released_worker(released, args, results):
    released.wait()
    run = run_main(load_module("scan_run"), args)
    results.put((args["image"], bool(run.result) and not run.result.get("failed"), run.output[-500:]))
