# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark 8 of docs/performance.md: one scan_run per host in forks vs one bulk scan_run task, same images.

    python bench/bench_forks.py [--images 100] [--forks 50] [--output forks.json]

Both start a scan of each of the same HarborGuard images (never scanned before) with ``wait:
false``, against one emulator whose POST /api/scans limit is on with its window shrunk from 60 s to
1 s (10 a second), and both are paced with ``rate_limit: 3``: the client keeps HarborGuard's
sliding window at an average of 3 a second, 10 (the server's X-RateLimit-Limit) per 3.3 s. "forks":
the images are hosts of the scan_targets inventory, and a play runs scan_run on each host with
``--forks``, the module processes sharing one controller-wide window. "bulk":
one scan_run task on localhost with every image in ``targets`` (``concurrency: 8``), one process.
Wall time and CPU seconds are of the whole ansible-playbook process tree (start-up and the
inventory included); requests and 429s are counted in the emulator's request log. A benchmark,
not a test: bench/run.sh runs it and bench/report.py writes section 8.
"""

import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from scanops_bench import KEYS, Harness, count_requests, must_succeed, run_measured  # noqa: E402  pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402  pylint: disable=wrong-import-position

WINDOW_SECONDS = 1
PER_WINDOW = 10
PACE = 3
CONCURRENCY = 8


def configure(admin):
    admin.reset()
    admin.limits("harborguard", enabled=True, window_seconds=WINDOW_SECONDS, scan_posts_per_window=PER_WINDOW)


def measure(harness, since, result, images):
    items = harness.log("harborguard", since)
    posts = [item for item in items if item["method"] == "POST"]
    state = harness.admin.state("harborguard")
    return dict(count_requests(items), seconds=result["seconds"], cpu_seconds=result["cpu_seconds"],
                peak_rss_mb=result["peak_rss_mb"], posts=len(posts),
                scans_started=len([item for item in posts if item["status"] == 202]),
                images_scanned=len(set(images) & set(state["images"])))


def bench_forks(harness, images, forks, cache_dir):
    configure(harness.admin)
    source = os.path.join(harness.workdir, "bench.scan_targets.yml")
    with open(source, "w", encoding="utf-8") as handle:
        handle.write("plugin: scanops.security.scan_targets\nprovider: harborguard\nrate_limit: %d\ninclude_names:\n"
                     "  - registry.bench.example/*\ntargets:\n%s" % (PACE, "".join("  - %s\n" % image for image in images)))
    playbook = os.path.join(harness.workdir, "forks.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        json.dump([{"name": "one scan per host", "hosts": "scanops_never_scanned", "gather_facts": False,
                    "module_defaults": {"group/scanops.security.scanops": "{{ scanops_connection }}"},
                    "tasks": [{"name": "scan the host's image",
                               "scanops.security.scan_run": {"image": "{{ scanops_image }}", "wait": False}}]}], handle)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_PIPELINING="1", SCANOPS_CACHE_DIR=os.path.join(cache_dir, "forks"),
               SCANOPS_RATE_LIMIT_SCOPE="controller",
               HARBORGUARD_API_URL=harness.url("harborguard"), HARBORGUARD_API_KEY=KEYS["harborguard"])
    since = harness.last_id()
    result = must_succeed(run_measured([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", source,
                                        playbook, "--forks", str(forks)], env), "forks")
    return dict(measure(harness, since, result, images), forks=forks)


def bench_bulk(harness, images, cache_dir):
    configure(harness.admin)
    since = harness.last_id()
    tasks = [{"name": "scan every image", "scanops.security.scan_run": dict(
        harness.connection("harborguard"), targets=[{"image": image} for image in images], concurrency=CONCURRENCY,
        wait=False, rate_limit=PACE)}]
    extra_env = {"SCANOPS_CACHE_DIR": os.path.join(cache_dir, "bulk"), "SCANOPS_RATE_LIMIT_SCOPE": "controller"}
    result = must_succeed(harness.run_playbook("bulk", tasks, extra_env=extra_env), "bulk")
    return dict(measure(harness, since, result, images), concurrency=CONCURRENCY)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--output", help="write the results as JSON here")
    args = parser.parse_args()
    images = ["registry.bench.example/fleet/app-%03d:1.0" % number for number in range(args.images)]
    results = {"images": args.images, "limit": "%d per %d s sliding window" % (PER_WINDOW, WINDOW_SECONDS), "rate_limit": PACE,
               # The client's window: PER_WINDOW per PER_WINDOW / PACE seconds; the last POST opens the last window.
               "floor_seconds": round((-(-args.images // PER_WINDOW) - 1) * PER_WINDOW / float(PACE), 1)}
    with running_emulator(profile="test", port=0) as base, tempfile.TemporaryDirectory() as workdir:
        harness = Harness(base, workdir)
        results["forks"] = bench_forks(harness, images, args.forks, workdir)
        sys.stdout.write("forks: %s\n" % json.dumps(results["forks"]))
        results["bulk"] = bench_bulk(harness, images, workdir)
        sys.stdout.write("bulk: %s\n" % json.dumps(results["bulk"]))
    results["load_average"] = round(os.getloadavg()[0], 1)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
