# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark 6: the Event-Driven Ansible sources (extensions/eda/plugins/event_source).

    python bench/bench_eda.py --output eda.json [--deliveries 2000] [--kills 12] [--seconds 20]

Webhook receiver (scan_webhook), run in its own process with a consumer that takes events off an
asyncio.Queue(1), as ansible-rulebook's engine does:

* sustained: a vendor simulator (httpx, 16 connections) posts signed HarborGuard deliveries, each a
  different scan; a fifth of them is sent again after its 202, as a vendor does when the answer is
  lost. Reported: accepted deliveries per second, delivery-to-event latency (first send to the
  consumer taking the event) p50/p99, events lost (accepted but never emitted, or never accepted)
  and duplicated (one delivery emitted twice).
* back pressure: the same with a consumer that needs 20 ms per event and a 50 ms queue_timeout, so
  the receiver answers 503 + Retry-After and the simulator retries until accepted: the 503s are
  counted, lost and duplicated must stay 0.

Floor: the same simulator against a bare aiohttp receiver that reads each body and answers 202
(no signature check, no de-duplication, no queue), right before the sustained phase.

Pollers (finding_events on Kolega, scan_events on HarborGuard) against the emulator while the
emulator produces events: each source runs in a process that is killed with SIGKILL at random
moments and restarted on the same checkpoint. Its consumer appends each event's meta.uuid to a file
the moment it takes the event. At the end every event the vendor listed must be in that file
exactly once: lost = listed but never emitted, repeated = emitted more than once.
"""

import argparse
import asyncio
import collections
import json
import os
import random
import resource
import runpy
import signal
import subprocess
import sys
import time

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCES = os.path.join(ROOT, "extensions", "eda", "plugins", "event_source")
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

SECRET = "bench-harborguard-secret"
KOLEGA_KEY = "kcp_live_demo_5b1e9c3a7d2f4e6081a9"
HARBORGUARD_KEY = "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d"


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


# -- child processes -------------------------------------------------------------------------------------------
def serve_webhook(port, record_file, consumer_delay, queue_timeout, max_pending):
    """Child: the scan_webhook source with a one-slot queue and a consumer; records on SIGTERM."""
    source = runpy.run_path(os.path.join(SOURCES, "scan_webhook.py"))
    records = []

    async def run():
        queue = asyncio.Queue(1)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

        async def consume():
            while True:
                event = await queue.get()
                records.append((time.time(), event["meta"]["uuid"]))
                if consumer_delay:
                    await asyncio.sleep(consumer_delay)

        consumer = asyncio.ensure_future(consume())
        server = asyncio.ensure_future(source["main"](queue, {
            "host": "127.0.0.1", "port": port, "harborguard_secret": SECRET, "queue_timeout": queue_timeout,
            "max_pending": max_pending, "replay_window": 3600}))
        await stop.wait()
        server.cancel()
        consumer.cancel()
        await asyncio.gather(server, consumer, return_exceptions=True)

    asyncio.run(run())
    with open(record_file, "w", encoding="utf-8") as handle:
        json.dump(records, handle)


def serve_bare(port):
    """Child: the floor of a webhook receiver, aiohttp answering 202 to every POST after reading its body.

    No signature check, no de-duplication, no queue, no event: what any aiohttp receiver pays per
    delivery, so the difference to scan_webhook is what the source itself costs.
    """
    from aiohttp import web  # pylint: disable=import-outside-toplevel

    async def accept(request):
        await request.read()
        return web.json_response({"status": "accepted"}, status=202)

    async def health(_request):
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/harborguard", accept)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, handle_signals=True)


def bare_phase(count, connections, resend_fraction):
    """The vendor simulator of the sustained phase against the bare receiver (``serve_bare``)."""
    port = free_port()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)])  # pylint: disable=consider-using-with
    try:
        wait_port(port)
        sent, stats, elapsed = asyncio.run(vendor("http://127.0.0.1:%d" % port, count, connections, resend_fraction, seed=1))
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"deliveries": count, "connections": connections, "seconds": round(elapsed, 3),
            "accepted_per_second": round(len(sent) / elapsed, 1) if elapsed else None,
            "receiver_cpu_seconds": round(cpu, 2), "accepted_per_cpu_second": round(len(sent) / cpu, 1) if cpu else None,
            "answers": dict((str(key), value) for key, value in sorted(stats.items(), key=lambda item: str(item[0])))}


def run_poller(source_name, args_json, record_file):
    """Child: a polling source whose consumer appends each uuid to ``record_file`` as it takes the event."""
    source = runpy.run_path(os.path.join(SOURCES, source_name + ".py"))
    args = json.loads(args_json)

    async def run():
        queue = asyncio.Queue(1)
        with open(record_file, "a", encoding="utf-8") as out:
            async def consume():
                while True:
                    event = await queue.get()
                    # write() reaches the kernel at once: a kill -9 after it cannot lose the line.
                    out.write(event["meta"]["uuid"] + "\n")
                    out.flush()

            consumer = asyncio.ensure_future(consume())
            await source["main"](queue, args)
            consumer.cancel()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


# -- webhook benchmark -------------------------------------------------------------------------------------------
def signed_delivery(number):
    from ansible_collections.scanops.security.plugins.module_utils import eda_events  # pylint: disable=import-outside-toplevel

    body = json.dumps({"event": "critical_cve", "severity": "critical", "title": "Critical vulnerabilities in bench image %d" % number,
                       "message": "1 critical CVEs found", "url": "/dashboard/scans/scn-bench-%06d" % number,
                       "timestamp": eda_events.utc_now_iso()}, separators=(",", ":")).encode()
    uuid = eda_events.event_uuid("harborguard", eda_events.body_digest(body))
    return body, {"Content-Type": "application/json", "X-HarborGuard-Signature": eda_events.sign(SECRET, body)}, uuid


async def vendor(url, count, connections, resend_fraction, seed):
    """Post ``count`` deliveries; retry 503s and connection errors as a vendor does; resend some after 2xx."""
    rng = random.Random(seed)
    work = asyncio.Queue()
    for number in range(count):
        work.put_nowait(number)
    sent = {}
    stats = collections.Counter()

    async def worker(client):
        while True:
            try:
                number = work.get_nowait()
            except asyncio.QueueEmpty:
                return
            body, headers, uuid = signed_delivery(number)
            first = time.time()
            accepted = False
            while not accepted:
                try:
                    answer = await client.post("/harborguard", content=body, headers=headers)
                except httpx.HTTPError:
                    stats["connection_errors"] += 1
                    await asyncio.sleep(0.05)
                    continue
                stats[answer.status_code] += 1
                if answer.status_code in (200, 202):
                    accepted = True
                elif answer.status_code == 503:
                    # A vendor honours Retry-After; the simulator scales it down to keep the run short.
                    await asyncio.sleep(0.01 + rng.random() * 0.05)
                else:
                    raise RuntimeError("unexpected answer %s: %s" % (answer.status_code, answer.text))
            sent[uuid] = first
            if rng.random() < resend_fraction:
                again = await client.post("/harborguard", content=body, headers=headers)
                stats["resent_%d" % again.status_code] += 1

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        started = time.time()
        await asyncio.gather(*(worker(client) for _worker in range(connections)))
        elapsed = time.time() - started
    return sent, stats, elapsed


def wait_port(port, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get("http://127.0.0.1:%d/health" % port, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the receiver did not answer on port %d" % port)


def webhook_phase(name, work_dir, count, connections, consumer_delay, queue_timeout, max_pending, resend_fraction):
    port = free_port()
    record_file = os.path.join(work_dir, "webhook-%s.json" % name)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen([sys.executable, __file__, "--serve-webhook", str(port), record_file, str(consumer_delay),  # pylint: disable=consider-using-with
                              str(queue_timeout), str(max_pending)])
    try:
        wait_port(port)
        sent, stats, elapsed = asyncio.run(vendor("http://127.0.0.1:%d" % port, count, connections, resend_fraction, seed=len(name)))
        time.sleep(0.5)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU the receiver process used (start-up included): what the receiver costs, whatever else the machine runs.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(record_file, encoding="utf-8") as handle:
        records = json.load(handle)
    seen = collections.Counter(uuid for _stamp, uuid in records)
    first_seen = {}
    for stamp, uuid in records:
        first_seen.setdefault(uuid, stamp)
    latencies = [(first_seen[uuid] - sent[uuid]) * 1000.0 for uuid in sent if uuid in first_seen]
    resent = sum(n for key, n in stats.items() if str(key).startswith("resent_"))
    return {
        "deliveries": count, "connections": connections, "consumer_delay_ms": consumer_delay * 1000.0,
        "queue_timeout_s": queue_timeout, "max_pending": max_pending, "seconds": round(elapsed, 3),
        "accepted_per_second": round(len(sent) / elapsed, 1) if elapsed else None,
        "receiver_cpu_seconds": round(cpu, 2), "accepted_per_cpu_second": round(len(sent) / cpu, 1) if cpu else None,
        "requests_per_second": round(sum(n for key, n in stats.items() if isinstance(key, int) or str(key).startswith("resent_")) / elapsed, 1),
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 2), "p99": round(percentile(latencies, 0.99), 2),
                       "max": round(max(latencies), 2)} if latencies else None,
        "answers": dict((str(key), value) for key, value in sorted(stats.items(), key=lambda item: str(item[0]))),
        "resent_after_2xx": resent, "events": len(records),
        "lost": sum(1 for uuid in sent if uuid not in seen), "duplicated": sum(1 for n in seen.values() if n > 1),
        "unexpected": sum(1 for uuid in seen if uuid not in sent),
    }


def free_port():
    import socket  # pylint: disable=import-outside-toplevel
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- poller kill -9 benchmark ------------------------------------------------------------------------------------
class Child(object):
    """A polling source process that is killed and restarted on the same checkpoint."""

    def __init__(self, source, args, record_file):
        self.source = source
        self.args = json.dumps(args)
        self.record_file = record_file
        self.process = None
        self.kills = 0

    def start(self):
        command = [sys.executable, __file__, "--run-poller", self.source, self.args, self.record_file]
        self.process = subprocess.Popen(command, stderr=subprocess.DEVNULL)  # pylint: disable=consider-using-with

    def kill(self):
        self.process.kill()
        self.process.wait()
        self.kills += 1

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def uuids(self):
        if not os.path.exists(self.record_file):
            return collections.Counter()
        with open(self.record_file, encoding="utf-8") as handle:
            return collections.Counter(line.strip() for line in handle if line.strip())


def poller_phase(work_dir, kills, seconds):
    from scanops_emulator.admin_client import AdminClient  # pylint: disable=import-outside-toplevel
    from scanops_emulator.launcher import running_emulator  # pylint: disable=import-outside-toplevel
    from ansible_collections.scanops.security.plugins.module_utils import eda_events  # pylint: disable=import-outside-toplevel

    rng = random.Random(7)
    with running_emulator(profile="test") as url:
        admin = AdminClient(url)
        kolega = httpx.Client(base_url=url + "/kolega", headers={"Authorization": "Bearer " + KOLEGA_KEY}, timeout=30)
        harborguard = httpx.Client(base_url=url + "/harborguard", headers={"X-API-Key": HARBORGUARD_KEY}, timeout=30)
        repositories = [repo["id"] for repo in kolega.get("/api/v1/repositories").json()["items"]]
        common = {"interval": 0.2, "start_from": "oldest", "max_backoff": 1}
        children = [
            Child("finding_events", dict(common, api_url=url + "/kolega", api_key=KOLEGA_KEY,
                                         checkpoint_file=os.path.join(work_dir, "finding_events.json")),
                  os.path.join(work_dir, "finding_events.uuids")),
            Child("scan_events", dict(common, provider="harborguard", api_url=url + "/harborguard", api_key=HARBORGUARD_KEY,
                                      checkpoint_file=os.path.join(work_dir, "scan_events.json")),
                  os.path.join(work_dir, "scan_events.uuids")),
        ]
        for child in children:
            child.start()
        started = time.monotonic()
        next_kill = [started + rng.uniform(0.5, 2.0) for _child in children]
        batches = scans = patches = 0
        findings = []
        # The vendors keep producing events while the sources are killed and restarted.
        while time.monotonic() - started < seconds or any(child.kills < kills for child in children):
            repository = repositories[batches % len(repositories)]
            admin.next_scan("kolega", finding_count=rng.randint(3, 12))
            scan_type = "secrets_scan" if batches % 2 else "semgrep_scan"
            kolega.post("/api/v1/repositories/%s/scans" % repository, json={"scan_type": scan_type})
            batches += 1
            harborguard.post("/api/scans", json={"image": "ghcr.io/acme/bench-%d:1.%d" % (scans % 7, scans)})
            scans += 1
            if findings:
                repo_id, finding_id = rng.choice(findings)
                status = rng.choice(["false_positive", "open", "ignored", "needs_manual_review"])
                if kolega.patch("/api/v1/repositories/%s/findings/%s" % (repo_id, finding_id), json={"status": status}).status_code == 200:
                    patches += 1
            else:
                page = kolega.get("/api/v1/repositories/%s/findings" % repository).json().get("items", [])
                findings.extend((repository, item["id"]) for item in page[:20])
            now = time.monotonic()
            for index, child in enumerate(children):
                if now >= next_kill[index] and child.kills < kills:
                    child.kill()
                    child.start()
                    next_kill[index] = now + rng.uniform(0.4, 2.0)
            time.sleep(rng.uniform(0.05, 0.25))
        produced_for = time.monotonic() - started
        time.sleep(1.0)  # let the last scans end
        feed = []
        skip = 0
        while True:
            page = kolega.get("/api/v1/finding-events", params={"limit": 200, "skip": skip}).json()
            feed.extend(page["items"])
            skip += len(page["items"])
            if not page["has_next"]:
                break
        expected = {"finding_events": set(eda_events.event_uuid("kolega", item["id"]) for item in feed)}
        listed = []
        page_number = 1
        while True:
            page = harborguard.get("/api/scans", params={"limit": 200, "page": page_number}).json()
            listed.extend(page["data"])
            if not page["meta"]["hasNext"]:
                break
            page_number += 1
        expected["scan_events"] = set(eda_events.event_uuid("harborguard", scan["id"]) for scan in listed
                                      if scan["status"] in ("COMPLETE", "FAILED", "CANCELLED"))
        results = {}
        for child in children:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not expected[child.source] <= set(child.uuids()):
                time.sleep(0.5)
            child.stop()
            seen = child.uuids()
            results[child.source] = {
                "kills": child.kills, "events": len(expected[child.source]), "emitted": sum(seen.values()),
                "lost": len(expected[child.source] - set(seen)), "repeated": sum(n - 1 for n in seen.values() if n > 1),
                "unexpected": len(set(seen) - expected[child.source]),
            }
        kolega.close()
        harborguard.close()
    return {"seconds": round(produced_for, 1), "kolega_batches": batches, "harborguard_scans": scans,
            "kolega_status_changes": patches, "sources": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--serve-webhook", nargs=5, metavar=("PORT", "RECORDS", "DELAY", "QUEUE_TIMEOUT", "MAX_PENDING"))
    parser.add_argument("--run-poller", nargs=3, metavar=("SOURCE", "ARGS", "RECORDS"))
    parser.add_argument("--serve-bare", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    if args.serve_webhook:
        port, records, delay, queue_timeout, max_pending = args.serve_webhook
        serve_webhook(int(port), records, float(delay), float(queue_timeout), int(max_pending))
        return 0
    if args.run_poller:
        run_poller(*args.run_poller)
        return 0
    work_dir = os.path.join(ROOT, "tests", "output", "bench", "eda")
    os.makedirs(work_dir, exist_ok=True)
    for name in os.listdir(work_dir):
        os.unlink(os.path.join(work_dir, name))
    results = {"webhook": {}, "pollers": None}
    # The floor right before the receiver, under the same simulator and the same load.
    print("==> floor: bare aiohttp receiver (%d deliveries)" % args.deliveries, flush=True)
    results["bare_receiver"] = bare_phase(args.deliveries, 16, 0.2)
    print(json.dumps(results["bare_receiver"]), flush=True)
    print("==> webhook receiver, sustained (%d deliveries)" % args.deliveries, flush=True)
    results["webhook"]["sustained"] = webhook_phase("sustained", work_dir, args.deliveries, 16, 0.0, 2.0, 100, 0.2)
    print(json.dumps(results["webhook"]["sustained"]), flush=True)
    print("==> webhook receiver, back pressure (%d deliveries)" % (args.deliveries // 4), flush=True)
    results["webhook"]["back_pressure"] = webhook_phase("back_pressure", work_dir, args.deliveries // 4, 16, 0.02, 0.05, 8, 0.2)
    print(json.dumps(results["webhook"]["back_pressure"]), flush=True)
    print("==> pollers under kill -9 (%d kills each)" % args.kills, flush=True)
    results["pollers"] = poller_phase(work_dir, args.kills, args.seconds)
    print(json.dumps(results["pollers"]), flush=True)
    results["load_average"] = os.getloadavg()[0]
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    failures = [name for name, phase in results["webhook"].items() if phase["lost"] or phase["duplicated"]]
    failures += [name for name, source in results["pollers"]["sources"].items() if source["lost"] or source["repeated"]]
    if failures:
        print("lost or repeated events in: %s" % ", ".join(failures), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
