# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/performance.md from the JSON the benchmarks wrote (bench/run.sh calls this).

    python bench/report.py --triage triage.json --scanops scanops.json [--throughput throughput.txt] [--eda eda.json] --output docs/performance.md
    python bench/report.py --eda eda.json --eda-only --output docs/performance.md    (section 6 alone)

Every number in the page comes from those files; the verdict on each target is computed here
from the same numbers, never written by hand.
"""

import argparse
import datetime
import json
import math
import os
import platform
import sys

NOOP_TARGET = 1.3
TRIAGE_TARGET = 50.0
FANOUT_TARGET = 1.10
# scan_run's default first poll interval (the vendors' guidance): Penaxtra 10 s, the others 5 s.
POLL_INTERVAL = {"penaxtra": 10.0}
DEFAULT_POLL_INTERVAL = 5.0
LIB_LABELS = {"httpx._main": "httpx._main, inside httpx,"}


def verdict(met):
    return "**met**" if met else "**missed**"


def machine():
    model = "unknown CPU"
    memory = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")][0]
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int([line.split()[1] for line in handle if line.startswith("MemTotal")][0])
        memory = "%.1f GiB" % (kib / 1024.0 / 1024.0)
    except (OSError, IndexError, ValueError):
        pass
    try:
        from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel
    except ImportError:
        ansible_version = "unknown"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return ("%d CPU cores (%s), %s RAM, %s, Python %s, ansible-core %s; load average %.1f when the report was written "
            "(the machine is shared, so wall times carry noise)"
            % (os.cpu_count() or 0, model, memory, platform.platform(terse=True), platform.python_version(), ansible_version, load))


def triage_section(triage):
    lines = ["## 1. Bulk triage: one `finding_status` task vs an `ansible.builtin.uri` loop", ""]
    if not triage:
        return lines + ["Not run (bench/bench_bulk_triage.py wrote no results).", ""]
    lines += ["Run by `bench/bench_bulk_triage.py` (its own description of the method is in the script; it records wall time "
              "and requests, not peak memory). Its table:", "",
              triage["markdown"], ""]
    count = triage["count"]
    for provider, rows in triage["results"].items():
        first, rerun = rows["collection"], rows["collection_rerun"]
        pages = int(math.ceil(count / 200.0))
        extra_reads = first["reads"] - pages
        lines.append("- %s: speed-up %sx over the uri loop (target >= %dx: %s, the uri side is extrapolated, see above); "
                     "first run %d requests = %d reads + %d writes, lower bound %d list pages + %d changed writes = %d "
                     "(%s; %+d reads above the bound: scope lookups); converged re-run %d writes."
                     % (provider, rows["speedup"], TRIAGE_TARGET, verdict(rows["speedup"] >= TRIAGE_TARGET), first["requests"], first["reads"],
                        first["writes"], pages, count, pages + count,
                        verdict(first["writes"] == count and extra_reads <= 2), extra_reads, rerun["writes"]))
    return lines + [""]


def noop_section(noop):
    lines = ["## 2. Idempotent no-op cost", "",
             "One play of 20 tasks that find nothing to change (10 `callback_endpoint`, 10 `scan_sensor`, AgileSec) against one "
             "play of 20 bare `ansible.builtin.uri` GETs of the same objects, and a play of 20 `meta: noop` tasks for the fixed "
             "cost of starting ansible-playbook. Each play ran %d times; the median is shown. Per task = (play - empty play) / 20."
             % len(noop["collection"]["all_seconds"]), "",
             "| play | wall time (s), median | runs (s) | per task (s) | API requests | writes | changed | peak RSS (MiB) |",
             "|---|---|---|---|---|---|---|---|"]
    for kind, label in (("collection", "20 collection tasks"), ("uri", "20 uri GETs"), ("empty", "20 meta: noop")):
        row = noop[kind]
        lines.append("| %s | %.2f | %s | %s | %d | %d | %d | %.1f |" % (
            label, row["seconds"], ", ".join("%.2f" % value for value in row["all_seconds"]), row.get("per_task_seconds", "-"),
            row["requests"], row["writes"], row["changed"], row["peak_rss_mb"]))
    lines += ["", "Per-task overhead of the collection vs a bare uri task: **%.2fx** (target <= %.1fx: %s); whole plays %.2fx."
              % (noop["ratio_per_task"], NOOP_TARGET, verdict(noop["ratio_per_task"] <= NOOP_TARGET), noop["ratio_play"]),
              "API requests: %d for the 20 collection tasks (%d writes), %d for the 20 uri tasks."
              % (noop["collection"]["requests"], noop["collection"]["writes"], noop["uri"]["requests"])]
    imports = noop.get("import_ms")
    if imports:
        described = []
        for name, row in sorted(imports.items()):
            heaviest = ", ".join("%s %.0f ms" % (LIB_LABELS.get(lib, lib), ms) for lib, ms in sorted(row["heaviest_ms"].items()))
            described.append("%s %.0f ms%s" % (name, row["total_ms"], " (of which %s)" % heaviest if heaviest else ""))
        lines += ["", "Where the difference goes: importing the module (`python -X importtime`, median of 3) takes %s."
                  % "; ".join(described)]
        if any("httpx._main" in row["heaviest_ms"] for row in imports.values()):
            lines.append("`httpx._main` is httpx's command-line entry point; httpx imports it whenever click, rich and pygments are "
                         "installed, as they were here. An execution environment without them saves that time in every task.")
    return lines + [""]


def wait_section(wait):
    providers = wait["providers"]
    lines = ["## 3. Waiting for a scan: `scan_run` vs the vendor page's `sleep 5` curl loop", "",
             "Each scan is queued %.0f s and runs %.0f s in the emulator, with every documented rate limit switched on. `scan_run` "
             "runs with its defaults (first poll interval 5 s, Penaxtra 10 s, each interval then 1.5x the last); the curl loop is the "
             "CloudGeni page's script (trigger, then `curl | jq` and `sleep 5` until the status is final) written for each vendor. "
             "Completion is the trigger's time in the emulator's request log plus the scan's planned duration; return is when the "
             "ansible-playbook (or bash) process exited. The five providers ran at the same time, first the collection, then the loops."
             % (wait["queued_seconds"], wait["running_seconds"]), "",
             "| provider | approach | wall time (s) | completion to return (s) | first poll interval (s) | interval before the last poll (s) "
             "| status polls | requests | HTTP 429 | peak RSS (MiB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    first_ok, effect_ok, missed = [], [], []
    for provider, rows in providers.items():
        for approach, label in (("collection", "scan_run"), ("curl_loop", "curl loop")):
            row = rows[approach]
            interval = POLL_INTERVAL.get(provider, DEFAULT_POLL_INTERVAL) if approach == "collection" else 5.0
            lines.append("| %s | %s | %.2f | %s | %.0f | %s | %d | %d | %d | %.1f |" % (
                provider, label, row["seconds"], row["completion_to_return"], interval, row.get("last_poll_gap"), row["polls"],
                row["requests"], row["http_429"], row["peak_rss_mb"]))
            if approach != "collection":
                continue
            lag, gap = row["completion_to_return"], row.get("last_poll_gap")
            if lag is not None and lag <= interval:
                first_ok.append(provider)
            else:
                missed.append("%s %.1f s" % (provider, lag if lag is not None else float("nan")))
            if lag is not None and gap is not None and lag <= gap:
                effect_ok.append(provider)
    lines += ["",
              "Completion to return within the configured (first) poll interval: %s (within: %s%s)." % (
                  verdict(not missed), ", ".join(first_ok) or "none", "; over: " + ", ".join(missed) if missed else ""),
              "Within the interval in effect when the scan completed (the gap before the last poll, process exit included): %s "
              "(%d of %d providers)." % (verdict(len(effect_ok) == len(providers)), len(effect_ok), len(providers))]
    if missed:
        lines.append("Why: `scan_run` lengthens its interval by half after each poll (5, 7.5, 11.25 s...) to stay polite on long "
                     "scans, so a scan that ends just after a poll is seen up to one grown interval later; the fixed `sleep 5` loop "
                     "sees a short scan sooner but keeps polling every 5 s however long the scan runs.")
    lines += ["HTTP 429 answers during the waits: %d (collection), %d (curl loops)." % (
        sum(rows["collection"]["http_429"] for rows in providers.values()),
        sum(rows["curl_loop"]["http_429"] for rows in providers.values())), ""]
    return lines


def fanout_section(fanout):
    collection, uri = fanout["collection"], fanout["uri_loop"]
    loop = fanout.get("collection_loop")
    floor = fanout["floor_seconds"]
    ratio = collection["seconds"] / floor if floor else float("inf")
    lines = ["## 4. Fan-out under a rate limit: %d HarborGuard scans" % fanout["images"], "",
             "HarborGuard's POST /api/scans limit scaled up through the admin API to %s. The floor is the earliest moment the last "
             "POST can be accepted under that window: %.0f s. The collection: one `scan_run` task with the %d images in `targets` "
             "(`concurrency: %d`), `wait: false`, `force: true` and `rate_limit` set to the scaled limit%s; by hand: one `uri` POST "
             "per image, retried while the answer is 429."
             % (fanout["limit"], floor, fanout["images"], fanout.get("concurrency", 8),
                "; for contrast, the same `scan_run` looped over the images, one task (one module process) per image" if loop else ""),
             "",
             "| approach | wall time (s) | x floor | scans started | POST requests | HTTP 429 | peak RSS (MiB) |", "|---|---|---|---|---|---|---|"]
    rows = [("scan_run with targets", collection)]
    if loop:
        rows.append(("scan_run loop", loop))
    rows.append(("uri loop", uri))
    for label, row in rows:
        lines.append("| %s | %.1f | %.2f | %d | %d | %d | %.1f |" % (label, row["seconds"], row["seconds"] / floor if floor else 0,
                                                                     row["scans_started"], row["writes"], row["http_429"], row["peak_rss_mb"]))
    lines += ["", "Within 10%% of the floor: %s (%.2fx)." % (verdict(ratio <= FANOUT_TARGET), ratio)]
    if ratio > FANOUT_TARGET:
        # Only what this run measured: how many POSTs were repeated after a 429, and the start-up cost it includes.
        lines.append("Over the floor by %.1f s. The floor counts only the vendor's window; the wall time also includes starting "
                     "ansible-playbook and the module, and the run sent %d POSTs for %d scans, %d of them answered 429 and repeated "
                     "after the vendor's Retry-After." % (collection["seconds"] - floor, collection["writes"], collection["scans_started"],
                                                          collection["http_429"]))
    if loop:
        lines.append("The per-image loop is bound by one module process per image (%.2f s each here), not by the rate limit."
                     % (loop["seconds"] / fanout["images"]))
    return lines + [""]


def large_section(large):
    collection, uri = large["collection"], large["uri_loop"]
    lines = ["## 5. Large result sets: %d Kolega findings" % large["findings"], "",
             "`finding_info` over one repository holding %d findings (200 a page) and registering the result, against a `uri` "
             "loop over the same pages (`skip` 0, 200, ...) registering every page." % large["findings"], "",
             "| approach | wall time (s) | requests | HTTP 429 | peak RSS (MiB) | result |", "|---|---|---|---|---|---|"]
    for label, row in (("finding_info", collection), ("uri loop", uri)):
        reported = (row.get("reported") or "").replace("|", "/")[:80]
        lines.append("| %s | %.1f | %d | %d | %.1f | %s |" % (label, row["seconds"], row["requests"], row["http_429"], row["peak_rss_mb"], reported))
    lines += ["", "`finding_info` was %.1fx as fast as the uri loop (%d vs %d requests) and peaked %+.1f MiB above it; its registered "
              "result carries each finding's normalized fields and the vendor's body (`raw`), the uri pages only the vendor's body."
              % (uri["seconds"] / collection["seconds"], collection["requests"], uri["requests"], collection["peak_rss_mb"] - uri["peak_rss_mb"])]
    return lines + [""]


EDA_HEADING = "## 6. Event-Driven Ansible sources"


def eda_section(eda):
    """Section 6 from bench/bench_eda.py's JSON."""
    lines = [EDA_HEADING, ""]
    if not eda:
        return lines + ["Not run (bench/bench_eda.py wrote no results).", ""]
    lines += ["Run by `bench/bench_eda.py` (its docstring describes the method). `scan_webhook` runs in its own process with a "
              "consumer taking events off an `asyncio.Queue(1)`, as ansible-rulebook's engine does; a vendor simulator posts "
              "signed HarborGuard deliveries over 16 connections, resends a fifth of them after their 202 (a vendor retry after a "
              "lost answer) and retries every 503 until it is accepted. Accepted per receiver CPU-second divides the accepted "
              "deliveries by the CPU time the receiver's process used, a figure the other load on the shared machine does not "
              "lower the way it lowers the wall-clock rate. Latency is from a delivery's first send to the consumer "
              "taking its event. Load average when it ended: %.1f on %d cores (the machine is shared)."
              % (eda.get("load_average", float("nan")), os.cpu_count() or 0),
              "",
              "| scan_webhook | deliveries | accepted/s | requests/s | accepted per receiver CPU-second | latency p50 (ms) | p99 (ms) "
              "| answers | events | lost | duplicated |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    labels = {"sustained": "sustained, consumer takes each event at once",
              "back_pressure": "back pressure, consumer 20 ms per event, queue_timeout 50 ms, max_pending 8"}
    zero = True
    for name, phase in eda["webhook"].items():
        latency = phase.get("latency_ms") or {}
        answers = ", ".join("%s x%d" % (code, count) for code, count in sorted(phase["answers"].items()))
        lines.append("| %s | %d | %.1f | %.1f | %s | %s | %s | %s | %d | %d | %d |" % (
            labels.get(name, name), phase["deliveries"], phase["accepted_per_second"], phase["requests_per_second"],
            phase.get("accepted_per_cpu_second", "-"), latency.get("p50", "-"), latency.get("p99", "-"), answers, phase["events"],
            phase["lost"], phase["duplicated"]))
        zero = zero and not phase["lost"] and not phase["duplicated"] and not phase["unexpected"]
    sustained = eda["webhook"].get("sustained")
    if sustained and sustained.get("receiver_cpu_seconds"):
        lines += ["", "In the sustained run the receiver's process used %.1f CPU-seconds over %.1f s of wall time (%.0f%% of one core): "
                  "the wall-clock rate is set by the vendor simulator and the machine's other load, not by the receiver."
                  % (sustained["receiver_cpu_seconds"], sustained["seconds"], 100.0 * sustained["receiver_cpu_seconds"] / sustained["seconds"])]
    pollers = eda["pollers"]
    lines += ["", "Pollers under kill -9: for %.0f s the emulator produced events (%d Kolega scan batches, %d finding status changes, "
              "%d HarborGuard scans) while each source ran in a process killed with SIGKILL at random moments and restarted on its "
              "checkpoint; its consumer wrote each event's `meta.uuid` the moment it took the event." % (
                  pollers["seconds"], pollers["kolega_batches"], pollers["kolega_status_changes"], pollers["harborguard_scans"]), "",
              "| source | kill -9 | events listed by the vendor | emitted | lost | repeated |", "|---|---|---|---|---|---|"]
    for name, source in sorted(pollers["sources"].items()):
        lines.append("| %s | %d | %d | %d | %d | %d |" % (name, source["kills"], source["events"], source["emitted"], source["lost"],
                                                          source["repeated"]))
        zero = zero and not source["lost"] and not source["repeated"] and not source["unexpected"]
    lines += ["", "0 lost and 0 duplicated under vendor retries and back pressure, 0 lost and 0 repeated after kill -9: %s. "
              "How the checkpoint ordering makes that hold, and the one window in which a crash repeats an event (with the same "
              "`meta.uuid`), is in [eda.md](eda.md)." % verdict(zero), ""]
    return lines


def replace_section(path, heading, new_lines):
    """Put ``new_lines`` in place of the section that starts with ``heading`` (or before "## Zero 429s")."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    else:
        start = end = next((i for i, line in enumerate(lines) if line == "## Zero 429s"), len(lines))
    lines[start:end] = new_lines
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triage")
    parser.add_argument("--scanops")
    parser.add_argument("--eda", help="bench/bench_eda.py's JSON (section 6)")
    parser.add_argument("--eda-only", action="store_true",
                        help="only (re)write section 6 of an existing --output page, leaving the other sections as they are")
    parser.add_argument("--throughput")
    parser.add_argument("--total-seconds", type=float)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    eda = None
    if args.eda and os.path.exists(args.eda):
        with open(args.eda, encoding="utf-8") as handle:
            eda = json.load(handle)
    if args.eda_only:
        replace_section(args.output, EDA_HEADING, eda_section(eda))
        return 0
    if not args.scanops:
        parser.error("--scanops is required unless --eda-only is given")
    triage = None
    if args.triage and os.path.exists(args.triage):
        with open(args.triage, encoding="utf-8") as handle:
            triage = json.load(handle)
    with open(args.scanops, encoding="utf-8") as handle:
        results = json.load(handle)
    lines = ["# Performance", "",
             "Written by `make bench` (`bench/run.sh`) on %s UTC. Every number below comes from that run against the bundled "
             "emulator (`tests/emulator`), never from a model; rerun `make bench` to reproduce them on your machine."
             % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), "",
             "Machine: %s." % machine(), "",
             "Wall times are of whole `ansible-playbook` (or bash) processes, start-up included. API requests are counted in the "
             "emulator's request log. Peak memory is the largest resident set in the ansible-playbook process tree (`ru_maxrss` "
             "from `wait4`: the controller, its worker and the module processes).", ""]
    if args.total_seconds:
        lines += ["`make bench` took %.0f s in all." % args.total_seconds, ""]
    lines += triage_section(triage)
    for key, section in (("noop", noop_section), ("wait", wait_section), ("fanout", fanout_section), ("large", large_section)):
        if key in results:
            lines += section(results[key])
        else:
            lines += ["## %s" % key, "", "Not run.", ""]
    lines += eda_section(eda)
    total_429 = 0
    for key in ("noop", "fanout", "large"):
        if key in results:
            total_429 += results[key]["collection"].get("http_429", 0)
    if "wait" in results:
        total_429 += sum(rows["collection"]["http_429"] for rows in results["wait"]["providers"].values())
    lines += ["## Zero 429s", "", "HTTP 429 answers to the collection's requests over benchmarks 2-5: %d (%s)." % (
        total_429, verdict(total_429 == 0)), ""]
    if args.throughput and os.path.exists(args.throughput):
        with open(args.throughput, encoding="utf-8") as handle:
            lines += ["## The emulator itself", "", "`bench/emulator_throughput.py`: %s" % handle.read().strip(), ""]
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
