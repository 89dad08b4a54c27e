# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many simple GETs a second the vendor API emulator answers on loopback.

    python bench/emulator_throughput.py [--seconds 5] [--connections 4] [--url http://127.0.0.1:8765]

Without --url it starts its own emulator (test profile). Clients are plain keep-alive
http.client connections in threads, each in its own process-light loop, so the number measures
the server rather than an HTTP client library. The target on a 2-core machine is >= 500/s.
A benchmark, not a test: it prints numbers and exits 0 (1 only if requests failed).
"""

import argparse
import http.client
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "emulator"))

from scanops_emulator.launcher import running_emulator  # noqa: E402  pylint: disable=wrong-import-position

# One cheap, authenticated GET per vendor (the demo credentials of docs/emulator.md).
TARGETS = (
    ("/cloudgeni/api/v1/organizations/org_123/repositories/repo_abc/scans/scan_xyz", {"X-CLOUDGENI-API-KEY": "cg_live_demo_admin_4f7c2a9e1b3d5f60"}),
    ("/kolega/api/v1/quotas/balance", {"Authorization": "Bearer kcp_live_demo_5b1e9c3a7d2f4e6081a9"}),
    ("/agilesec/v3/sensors", {"isg-api-token": "isg_demo_token_7c3e9a1f5b2d4e60a8c1"}),
    ("/harborguard/api/scans/scn-3kp9q1/status", {"X-API-Key": "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d"}),
    ("/penaxtra/api/v2/cloud-posture-runs", {"Authorization": "Bearer pnx_live_demo_6a1f3c8e2b9d4f7a0c5e"}),
)


def hammer(base_url, deadline, results, index):
    parts = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    done = failed = 0
    position = index
    while time.monotonic() < deadline:
        path, headers = TARGETS[position % len(TARGETS)]
        position += 1
        try:
            connection.request("GET", path, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status == 200:
                done += 1
            else:
                failed += 1
        except (OSError, http.client.HTTPException):
            failed += 1
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.close()
    results[index] = (done, failed)


def measure(base_url, seconds, connections):
    # Warm up imports, caches and connections before the clock starts.
    hammer(base_url, time.monotonic() + 0.5, [None], 0)
    results = [None] * connections
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=hammer, args=(base_url, deadline, results, index)) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    done = sum(result[0] for result in results)
    failed = sum(result[1] for result in results)
    return done / elapsed, done, failed, elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--url", help="an already running emulator (default: start one)")
    args = parser.parse_args(argv)
    if args.url:
        rate, done, failed, elapsed = measure(args.url, args.seconds, args.connections)
    else:
        with running_emulator(profile="test", port=0) as base_url:
            rate, done, failed, elapsed = measure(base_url, args.seconds, args.connections)
    print("emulator throughput: %.0f GET/s (%d answered 200, %d failed, %d connections, %.1f s)" % (rate, done, failed, args.connections, elapsed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
