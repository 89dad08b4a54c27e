# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/performance.md from the JSON the benchmarks wrote (bench/run.sh calls this).

    python bench/report.py --triage triage.json --scanops scanops.json [--throughput throughput.txt] [--eda eda.json]
        [--forks forks.json] --output docs/performance.md
    python bench/report.py --eda eda.json --eda-only --output docs/performance.md    (section 6 alone)
    python bench/report.py --forks forks.json --forks-only --output docs/performance.md    (section 8 alone)
    python bench/report.py --scanops fanout.json --fanout-only --output docs/performance.md    (section 4 alone)

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

# Issue 17's goals: a converged task no slower than a bare uri GET; a fan-out within 5% of the vendor's window;
# 20,000 findings within 1.5x a raw httpx walk of the same pages and under 100 MiB peak memory.
NOOP_TARGET = 1.0
TRIAGE_TARGET = 50.0
FANOUT_TARGET = 1.05
LARGE_RATIO_TARGET = 1.5
LARGE_RSS_TARGET = 100.0
# The scaled HarborGuard limit's average (60 per 6 s): what benchmark 4 passes as rate_limit.
FANOUT_PER_SECOND = 10
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
        floor = rows.get("raw_floor")
        if floor:
            lines.append("- %s: first run %.2f s = **%.2fx its floor** of %.2f s (raw httpx %.2f s for %d requests + one bare uri "
                         "task %.2f s), measured right before it."
                         % (provider, first["seconds"], rows["floor_ratio"], floor["seconds"], floor["raw_seconds"], floor["requests"],
                            floor["startup_seconds"]))
    return lines + [""]


def noop_section(noop):
    repeats = len(noop["collection"]["all_seconds"])
    lines = ["## 2. Idempotent no-op cost", "",
             "One play of 20 tasks that find nothing to change (10 `callback_endpoint`, 10 `scan_sensor`, AgileSec) against its "
             "floor, one play of 20 bare `ansible.builtin.uri` GETs of the same objects, and a play of 20 `meta: noop` tasks for the "
             "fixed cost of starting ansible-playbook. The three plays ran back to back, %d times over; the median is shown. Per "
             "task = (play - empty play) / 20, in wall time and in CPU time of the whole process tree (controller, workers and "
             "module processes), which the other load on this shared machine moves much less than wall time." % repeats, "",
             "| play | wall time (s), median | runs (s) | per task (s) | CPU (s), median | CPU per task (s) | API requests | writes "
             "| changed | peak RSS (MiB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for kind, label in (("uri", "**floor**: 20 uri GETs"), ("collection", "20 collection tasks"), ("empty", "20 meta: noop")):
        row = noop[kind]
        lines.append("| %s | %.2f | %s | %s | %s | %s | %d | %d | %d | %.1f |" % (
            label, row["seconds"], ", ".join("%.2f" % value for value in row["all_seconds"]), row.get("per_task_seconds", "-"),
            row.get("cpu_seconds", "-"), row.get("per_task_cpu_seconds", "-"), row["requests"], row["writes"], row["changed"],
            row["peak_rss_mb"]))
    each = [ratio for ratio in noop.get("ratio_each_run", []) if ratio is not None]
    lines += ["", "Per task, collection / uri: **%.2fx** in wall time (medians; target <= %.1fx: %s), %s in CPU time; run by run "
              "(each repeat's three plays back to back) %s; whole plays %.2fx."
              % (noop["ratio_per_task"], NOOP_TARGET, verdict(noop["ratio_per_task"] <= NOOP_TARGET),
                 ("%.2fx" % noop["ratio_per_task_cpu"]) if "ratio_per_task_cpu" in noop else "not measured",
                 ", ".join("%.2fx" % ratio for ratio in each) or "-", noop["ratio_play"]),
              "API requests: %d for the 20 collection tasks (%d writes), %d for the 20 uri tasks: one GET each, on both sides."
              % (noop["collection"]["requests"], noop["collection"]["writes"], noop["uri"]["requests"])]
    payloads = noop.get("payloads")
    if payloads:
        lines += ["", "The module process of one converged task, run again by itself from the payload Ansible sent "
                  "(`ANSIBLE_KEEP_REMOTE_FILES=1`; the module, the module_utils it imports and its arguments), %d times:"
                  % len(next(iter(payloads.values()))["all_cpu_seconds"]), "",
                  "| module | payload (KiB) | CPU (s), median | runs (s) | result (bytes) | requests |", "|---|---|---|---|---|---|"]
        for name in sorted(payloads, key=lambda key: (key != "uri", key)):
            row = payloads[name]
            lines.append("| %s | %.0f | %.3f | %s | %d | %d |" % (
                ("**floor**: " + name) if name == "uri" else name, row["payload_bytes"] / 1024.0, row["cpu_seconds"],
                ", ".join("%.2f" % value for value in row["all_cpu_seconds"]), row["result_bytes"], row["requests"]))
    imports = noop.get("import_ms")
    if imports:
        described = []
        for name, row in sorted(imports.items()):
            heaviest = ", ".join("%s %.0f ms" % (LIB_LABELS.get(lib, lib), ms) for lib, ms in sorted(row["heaviest_ms"].items()))
            described.append("%s %.0f ms%s" % (name, row["total_ms"], " (of which %s)" % heaviest if heaviest else ""))
        lines += ["", "Importing what a module run imports before its first request (`python -X importtime`, with cached "
                  "bytecode, median of 3): %s." % "; ".join(described),
                  "What a run no longer pays (issue 17): the four other providers' adapters (AnsiballZ ships sources, so each "
                  "import compiled them), httpx's command-line client (`httpx._main`: click, rich and pygments), the CA bundle "
                  "for a plain-http API (now read at the first TLS handshake), and jsonschema wherever no sensor config is "
                  "checked (scan_sensor with a config still imports it, which is most of its gap to callback_endpoint above)."]
        if any("httpx._main" in row["heaviest_ms"] for row in imports.values()):
            lines.append("`httpx._main` shows up above: something imported it (it should not, see "
                         "`plugins/module_utils/client.py`).")
    return lines + [""]


def wait_section(wait):
    providers = wait["providers"]
    lines = ["## 3. Waiting for a scan: `scan_run` vs the vendor page's `sleep 5` curl loop", "",
             "Each scan is queued %.0f s and runs %.0f s in the emulator, with every documented rate limit switched on. `scan_run` "
             "runs with its defaults (poll interval 5 s, Penaxtra 10 s, kept while a scan is young; then a fifth of the time already "
             "waited, at most 60 s); the curl loop is the "
             "CloudGeni page's script (trigger, then `curl | jq` and `sleep 5` until the status is final) written for each vendor. "
             "Completion is the trigger's time in the emulator's request log plus the scan's planned duration; return is when the "
             "ansible-playbook (or bash) process exited. The five providers ran at the same time, first the collection, then the loops."
             % (wait["queued_seconds"], wait["running_seconds"]), "",
             "The floor of a wait is the vendor's poll interval: a client that polls at the pace the vendor asks for learns of "
             "the end at most one interval after it. The ratio column divides completion-to-return by that interval (<= 1 "
             "is at the floor).", "",
             "| provider | approach | wall time (s) | completion to return (s) | **floor**: first poll interval (s) | ratio "
             "| interval before the last poll (s) | status polls | requests | HTTP 429 | peak RSS (MiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    first_ok, effect_ok, missed = [], [], []
    for provider, rows in providers.items():
        for approach, label in (("collection", "scan_run"), ("curl_loop", "curl loop")):
            row = rows[approach]
            interval = POLL_INTERVAL.get(provider, DEFAULT_POLL_INTERVAL) if approach == "collection" else 5.0
            lag = row["completion_to_return"]
            lines.append("| %s | %s | %.2f | %s | %.0f | %s | %s | %d | %d | %d | %.1f |" % (
                provider, label, row["seconds"], lag, interval, ("%.2f" % (lag / interval)) if lag is not None else "-",
                row.get("last_poll_gap"), row["polls"], row["requests"], row["http_429"], row["peak_rss_mb"]))
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
    steady = [provider for provider, rows in providers.items()
              if rows["collection"].get("last_poll_gap") is not None
              and rows["collection"]["last_poll_gap"] <= POLL_INTERVAL.get(provider, DEFAULT_POLL_INTERVAL) * 1.05]
    if missed and len(steady) == len(providers):
        lines.append("Why: the interval in effect stayed the configured one on every provider (the column before the last poll), "
                     "so each scan's end was seen at its first poll after it; the time past the interval is after that poll: the "
                     "module handing back its result and ansible-playbook ending, which a loaded machine slows down (the curl "
                     "loop's bash ends at once). The status polls and requests show no extra waiting.")
    elif missed:
        lines.append("Why: once a scan has run a while `scan_run` polls every fifth of the time already waited (at most 60 s) to "
                     "stay polite on long scans, so a scan that ends just after a poll is seen up to one grown interval later; the "
                     "fixed `sleep 5` loop sees it sooner but keeps polling every 5 s however long the scan runs.")
    lines += ["HTTP 429 answers during the waits: %d (collection), %d (curl loops)." % (
        sum(rows["collection"]["http_429"] for rows in providers.values()),
        sum(rows["curl_loop"]["http_429"] for rows in providers.values())), ""]
    return lines


def fanout_section(fanout):
    collection, uri = fanout["collection"], fanout["uri_loop"]
    loop = fanout.get("collection_loop")
    window_floor = fanout["floor_seconds"]
    startup = fanout.get("startup_seconds")
    floor = window_floor + (startup or 0.0)
    ratio = collection["seconds"] / floor if floor else float("inf")
    span = collection.get("limited_span")
    pacing = span / window_floor if span and window_floor else None
    lines = ["## 4. Fan-out under a rate limit: %d HarborGuard scans" % fanout["images"], "",
             "HarborGuard's POST /api/scans limit scaled up through the admin API to %s. The window's floor is the earliest moment "
             "the last POST can be accepted, counted from the first: %.0f s. Every playbook also pays its start-up and end, "
             "measured in the same run as a bare playbook with one `uri` GET: %s. The floor is their sum, %.1f s. The collection: "
             "one `scan_run` task with the %d images in `targets` (`concurrency: %d`), `wait: false`, `force: true` and "
             "`rate_limit` set to the scaled limit's average%s; by hand: one `uri` POST per image, retried while the answer is 429."
             % (fanout["limit"], window_floor, "%.1f s" % startup if startup is not None else "not measured", floor, fanout["images"],
                fanout.get("concurrency", 8),
                "; for contrast, the same `scan_run` looped over the images, one task (one module process) per image" if loop else ""),
             "",
             "| approach | wall time (s) | x floor | first POST to last accepted POST (s) | x window floor | scans started "
             "| POST requests | HTTP 429 | peak RSS (MiB) |", "|---|---|---|---|---|---|---|---|---|"]
    rows = [("scan_run with targets", collection)]
    if loop:
        rows.append(("scan_run loop", loop))
    rows.append(("uri loop", uri))
    for label, row in rows:
        row_span = row.get("limited_span")
        lines.append("| %s | %.1f | %.2f | %s | %s | %d | %d | %d | %.1f |" % (
            label, row["seconds"], row["seconds"] / floor if floor else 0, "%.1f" % row_span if row_span else "-",
            "%.2f" % (row_span / window_floor) if row_span and window_floor else "-", row["scans_started"], row["writes"],
            row["http_429"], row["peak_rss_mb"]))
    lines += ["", "Within %.0f%% of the floor: %s (%.2fx); the POSTs alone within %.0f%% of the window's floor: %s (%s); "
              "HTTP 429: %d (target 0: %s)." % (
                  (FANOUT_TARGET - 1) * 100, verdict(ratio <= FANOUT_TARGET), ratio, (FANOUT_TARGET - 1) * 100,
                  verdict(pacing is not None and pacing <= FANOUT_TARGET), "%.2fx" % pacing if pacing else "not measured",
                  collection["http_429"], verdict(collection["http_429"] == 0))]
    lines.append("The client keeps HarborGuard's sliding window itself: each POST holds one of the window's slots from its "
                 "sending until a window after its answer, so the next POST goes as soon as the vendor's window has let go of "
                 "one, without a 429 and without waiting for the whole-second `X-RateLimit-Reset`. Before, a token bucket kept "
                 "under the window (burst %d plus %d a second) sent up to 69 POSTs in one 6 s window (HTTP 429) and needed 19 s "
                 "for 200; `rate_limit` also held the look-up before each POST (%d GETs here) to the POSTs' pace, though "
                 "HarborGuard does not limit reads." % (FANOUT_PER_SECOND, FANOUT_PER_SECOND, collection.get("reads", 0)))
    if ratio > FANOUT_TARGET and span:
        # Only what this run measured: where the time over the floor went.
        why = ["Over the floor by %.1f s. The POSTs took %.1f s against the window's %.0f s" % (
            collection["seconds"] - floor, span, window_floor)]
        if collection.get("first_window") is not None:
            why.append(": the first window's POSTs, which the window allows at once, took %.1f s to go out, each after its look-up, "
                       "as fast as the emulator answered on this machine%s, and each later window follows the one before by the "
                       "window's length, counted from the answers" % (
                           collection["first_window"],
                           " (load average %.1f)" % fanout["load_average"] if fanout.get("load_average") is not None else ""))
        why.append(".")
        if collection.get("before_first_request") is not None:
            why.append(" The playbook ran %.1f s before its first request and %.1f s after its last, where the bare playbook took "
                       "%.1f s in all." % (collection["before_first_request"], collection["after_last_request"], startup or 0.0))
        else:
            why.append(" The remaining %.1f s are start-up and end beyond the bare playbook's %.1f s." % (
                collection["seconds"] - span - (startup or 0.0), startup or 0.0))
        lines.append("".join(why))
    if loop:
        lines.append("The per-image loop is bound by one module process per image (%.2f s each here), not by the rate limit."
                     % (loop["seconds"] / fanout["images"]))
    others = fanout.get("others") or {}
    if others:
        lines += ["", "The other providers with a documented limit, each with one bulk `scan_run` task (`concurrency: %d`, "
                  "`wait: false`, `force: true`):" % fanout.get("concurrency", 8), "",
                  "| provider | limit | rate_limit | targets | wall time (s) | x floor (start-up + limit's floor) "
                  "| paced requests, first to last (s) | limit's floor (s) | x | requests | HTTP 429 |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for provider, row in sorted(others.items()):
            other_floor = row["floor_seconds"] + (startup or 0.0)
            other_span = row.get("limited_span")
            lines.append("| %s | %s | %s | %d | %.1f | %.2f | %s | %.1f | %s | %d | %d |" % (
                provider, row["limit"], "not set" if row["rate_limit"] is None else "%g" % row["rate_limit"], row["targets"],
                row["seconds"], row["seconds"] / other_floor if other_floor else 0, "%.1f" % other_span if other_span else "-",
                row["floor_seconds"], "%.2f" % (other_span / row["floor_seconds"]) if other_span and row["floor_seconds"] else "-",
                row["requests"], row["http_429"]))
        lines += ["", "CloudGeni's floor is its trigger window (10 per 1 s here); it sends no rate-limit headers, so `rate_limit` "
                  "10 is what tells the client the window's average. Penaxtra's is its bucket: the requests past the burst of "
                  "120 at 60 a minute, counted from the first request. HTTP 429 on the providers with a documented limit: %d "
                  "(%s)." % (sum(row["http_429"] for row in others.values()) + collection["http_429"],
                             verdict(sum(row["http_429"] for row in others.values()) + collection["http_429"] == 0))]
    return lines + [""]


LARGE_LABELS = (("raw_walk", "**floor**: raw httpx walk of the same pages"),
                ("collection", "finding_info, every field and `raw`, registered"),
                ("collection_no_raw", "finding_info `include_raw: false`, registered"),
                ("collection_fields", "finding_info `fields: %s`, registered"),
                ("collection_file", "finding_info `output_file` (every field and `raw`), count registered"))


def large_ratios(large):
    """``{approach: wall time / the raw walk's}`` of the finding_info rows."""
    floor = large["raw_walk"]["seconds"]
    return dict((name, large[name]["seconds"] / floor) for name, _label in LARGE_LABELS if name in large and name != "raw_walk")


def large_section(large):
    if "raw_walk" not in large:
        return ["## 5. Large result sets", "", "Not run with a raw walk (an older bench/scanops_bench.py wrote these results).", ""]
    floor = large["raw_walk"]
    lines = ["## 5. Large result sets: %d Kolega findings" % large["findings"], "",
             "One Kolega repository holding %d findings (200 a page, 100 pages). The floor is a raw httpx walk of the same pages: one "
             "Python process, one keep-alive connection, every item decoded and kept. `finding_info` ran four ways (every field "
             "and the vendor's body; without the body; four normalized fields; everything into a JSON Lines file, only the count "
             "registered), each in its own ansible-playbook run that registers the result. Client-side pacing is off on every "
             "row (`rate_limit: 0`): Kolega documents no limit, the emulator runs without vendor limits here, and the "
             "collection's own assumed pace of 10 requests a second would hold 100 pages to 10 s by design. The rows ran "
             "interleaved, after one unmeasured walk that made the emulator build its findings; the runs column lists every "
             "run, the median is shown, peak memory is the largest of the runs. Load average %s at the start, %s at the end."
             % (large["findings"], large["load_average"][0], large["load_average"][-1]), "",
             "| approach | wall time (s), median | runs (s) | x floor | CPU (s) | requests | HTTP 429 | peak RSS (MiB) | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    ratios = large_ratios(large)
    for name, label in LARGE_LABELS:
        if name not in large:
            continue
        row = large[name]
        if "%s" in label:
            label = label % ", ".join(large.get("fields", []))
        reported = (row.get("reported") or "").replace("|", "/").replace('"msg": ', "")[:60]
        if name == "collection_file" and row.get("file_lines") is not None:
            reported += " (file: %d lines, %.1f MiB)" % (row["file_lines"], row["file_mb"])
        lines.append("| %s | %.2f | %s | %s | %.2f | %d | %d | %.1f | %s |" % (
            label, row["seconds"], ", ".join("%.2f" % value for value in row.get("all_seconds", [row["seconds"]])),
            "1.00" if name == "raw_walk" else "%.2f" % ratios[name], row.get("cpu_seconds", 0.0), row["requests"], row["http_429"],
            row["peak_rss_mb"], reported))
    best = large["collection_file"]
    lines += ["", "With `output_file`: %.2fx the raw walk (target <= %.1fx: %s) and %.1f MiB peak memory (target <= %.0f MiB: %s). "
              "Registered in full, the same findings peak at %.1f MiB (%.2fx); without `raw` at %.1f MiB (%.2fx); with four fields "
              "at %.1f MiB (%.2fx)." % (
                  ratios["collection_file"], LARGE_RATIO_TARGET, verdict(ratios["collection_file"] <= LARGE_RATIO_TARGET),
                  best["peak_rss_mb"], LARGE_RSS_TARGET, verdict(best["peak_rss_mb"] <= LARGE_RSS_TARGET),
                  large["collection"]["peak_rss_mb"], ratios["collection"], large["collection_no_raw"]["peak_rss_mb"],
                  ratios["collection_no_raw"], large["collection_fields"]["peak_rss_mb"], ratios["collection_fields"]),
              "What the rows have in common besides the walk: starting ansible-playbook and one module process (the uri floor "
              "of section 2 is a measure of it). What differs is how much the module hands back: a registered result is "
              "serialized by the module, read and decoded by the controller and kept in its variables, which is where the "
              "memory of the registered rows goes; the raw walk itself peaks at %.1f MiB holding the vendor's items." % floor["peak_rss_mb"],
              "The `uri` loop over the same pages of earlier reports (69.4 s and 145 MiB on 2026-11-23, against 20.1 s and 182.5 MiB "
              "for finding_info then) is no longer run: one task run per page, it measures Ansible's loop, not the listing."]
    return lines + [""]


# The vendors' limits on starting scans, the ceiling of a fan-out: (limit text, triggers a second, documented, source).
SCAN_LIMITS = (
    ("cloudgeni", "10 scan triggers a minute", 10 / 60.0, True, "Scanning API page, Rate Limits"),
    ("harborguard", "10 scan creations a minute (POST /api/scans)", 10 / 60.0, True, "Scans API page, endpoint table"),
    ("penaxtra", "60 requests a minute (burst 120), and 2 manual runs per integration a day", 1.0, True,
     "Cloud Posture Runs page; the adapter's RATE_LIMITS"),
    ("kolega", "none published; the collection paces itself at 10 requests a second", 10.0, False, "docs/assumptions.md"),
    ("agilesec", "none published; the collection paces itself at 5 requests a second", 5.0, False, "docs/assumptions.md"),
)
SCALE_TARGETS = 10000


def _hours(seconds):
    return "%.1f h" % (seconds / 3600.0) if seconds >= 5400 else "%.0f min" % (seconds / 60.0)


def scaling_section(results, triage):
    """Past one controller: a projection for SCALE_TARGETS targets per provider from this run's measurements and the limits."""
    fanout, wait, noop = results.get("fanout"), results.get("wait"), results.get("noop")
    lines = ["## 9. Scaling past one controller (a projection)", "",
             "Everything in this section is a **projection** for %d targets per provider, computed from this run's measurements "
             "and the vendors' limits; none of it was run at that size." % SCALE_TARGETS, ""]
    per_scan_cpu = None
    if fanout and fanout["collection"].get("cpu_seconds"):
        per_scan_cpu = fanout["collection"]["cpu_seconds"] / float(fanout["collection"]["scans_started"] or 1)
    per_task_cpu = noop["collection"].get("per_task_cpu_seconds") if noop else None
    throughput = None
    if triage:
        rates = [rows["collection"]["requests"] / rows["collection"]["seconds"] for rows in triage["results"].values()]
        throughput = max(rates) if rates else None
    lines += ["What this run measured about the controller:", ""]
    if throughput:
        lines.append("- one `finding_status` task sent **%.0f requests a second** from one module process (section 1, %d threads, "
                     "pacing off);" % (throughput, triage.get("concurrency", 16)))
    if per_scan_cpu is not None:
        lines.append("- one `scan_run` task with %d `targets` used **%.3f CPU-seconds per scan started** (section 4, the whole "
                     "ansible-playbook process tree, start-up included);" % (fanout["images"], per_scan_cpu))
    if per_task_cpu is not None:
        lines.append("- one task per target (a loop) costs a module process each: **%.2f CPU-seconds per task** for a converged "
                     "collection task (section 2), so %d targets as a loop are %s of CPU before any vendor limit, and as `targets` "
                     "of one task %s." % (per_task_cpu, SCALE_TARGETS, _hours(per_task_cpu * SCALE_TARGETS),
                                          _hours(per_scan_cpu * SCALE_TARGETS) if per_scan_cpu is not None else "far less"))
    lines += ["", "The ceiling is the vendor's limit on starting scans, not the controller:", "",
              "| provider | limit on starting scans | documented | requests per target, `wait: false` / waiting (section 3) "
              "| %d targets at the limit, `wait: false` | waiting for each | controller CPU, `targets` |" % SCALE_TARGETS,
              "|---|---|---|---|---|---|---|"]
    for provider, text, rate, documented, source in SCAN_LIMITS:
        waiting = None
        if wait and provider in wait["providers"]:
            waiting = wait["providers"][provider]["collection"]["requests"]
        trigger_seconds = SCALE_TARGETS / rate
        # While waiting, polls share the budget where the limit counts every request (Penaxtra, and the assumed paces).
        shares_budget = provider in ("penaxtra", "kolega", "agilesec")
        waiting_seconds = SCALE_TARGETS * waiting / rate if (waiting and shares_budget) else trigger_seconds
        lines.append("| %s | %s (%s) | %s | 1 / %s | %s | %s | %s |" % (
            provider, text, source, "yes" if documented else "no", waiting if waiting is not None else "-", _hours(trigger_seconds),
            _hours(waiting_seconds), _hours(per_scan_cpu * SCALE_TARGETS) if per_scan_cpu is not None else
            ("%s of requests at section 1's %.0f a second" % (_hours(SCALE_TARGETS / throughput), throughput) if throughput else "-")))
    lines += ["", "How the rows are computed: %d triggers at the limit's sustained rate (a burst saves seconds, not hours); while "
              "waiting, where the limit counts every request (Penaxtra, and the paces the collection assumes for Kolega and "
              "AgileSec) the status polls of section 3 share it; CloudGeni and HarborGuard limit only the trigger (CloudGeni's 60 "
              "status reads a minute then bound how many scans can be watched at once). The controller column multiplies the "
              "measured CPU per scan of section 4, or, when section 4 did not run, divides by the request rate of section 1." % SCALE_TARGETS, "",
              "So past one controller:", "",
              "- **Forks** run hosts in separate processes of one controller. They add CPU, and the module processes of one "
              "controller draw from one shared pace (section 8: 50 forks, 0 HTTP 429), so past the vendor's limit they add "
              "nothing. A bulk `targets` task does the same work in one process (sections 4 and 8) for a fraction of the CPU.",
              "- **AWX job slicing** and **execution nodes** split the inventory into jobs that run on different machines. Their "
              "paces are not shared: N slices pacing at a vendor's full limit send N times that limit. None of the vendor pages "
              "says whether a limit counts per API key, per organization or per source IP, so the safe split gives each slice "
              "`rate_limit` = the limit / N (the same key), or its own key and organization where the vendor's limit is per key. "
              "More execution nodes behind one egress IP help only where the limit is per key.",
              "- For CloudGeni and HarborGuard the documented 10 scans a minute per limit holder make %d targets a day-long job "
              "however many controllers run it; that, not the collection, sets the schedule (stagger targets over the day, or "
              "ask the vendor for a higher limit). For Kolega and AgileSec, which publish no limit, the collection's own pace "
              "is the ceiling and `rate_limit` can raise it where the vendor agrees." % SCALE_TARGETS, ""]
    return lines


def summary_section(results, triage):
    """Issue 17's table: each section's figure next to its floor from this run, the ratio and the goal."""
    lines = ["## Summary: each section against its floor", "",
             "Every floor below was measured in the same run as the figure it bounds, right next to it.", "",
             "| section | floor | collection | ratio | goal | verdict |", "|---|---|---|---|---|---|"]
    if triage:
        for provider, rows in triage["results"].items():
            if "raw_floor" in rows:
                lines.append("| 1. bulk triage, %d %s findings | raw httpx + one uri task: %.2f s | finding_status: %.2f s | %.2fx "
                             "| at the floor | - |" % (triage["count"], provider, rows["raw_floor"]["seconds"],
                                                       rows["collection"]["seconds"], rows["floor_ratio"]))
    noop = results.get("noop")
    if noop:
        lines.append("| 2. converged task vs bare uri GET | uri: %.3f s a task (CPU %s s) | %.3f s a task (CPU %s s) | %.2fx (CPU %s) "
                     "| <= %.1fx | %s |" % (noop["uri"]["per_task_seconds"], noop["uri"].get("per_task_cpu_seconds", "-"),
                                            noop["collection"]["per_task_seconds"], noop["collection"].get("per_task_cpu_seconds", "-"),
                                            noop["ratio_per_task"], ("%.2fx" % noop["ratio_per_task_cpu"]) if "ratio_per_task_cpu" in noop
                                            else "-", NOOP_TARGET, verdict(noop["ratio_per_task"] <= NOOP_TARGET)))
    wait = results.get("wait")
    if wait:
        worst = max(((rows["collection"]["completion_to_return"] or 0.0) / POLL_INTERVAL.get(provider, DEFAULT_POLL_INTERVAL), provider)
                    for provider, rows in wait["providers"].items())
        worst_lag = wait["providers"][worst[1]]["collection"]["completion_to_return"] or 0.0
        lines.append("| 3. scan end to return, 5 providers | the vendor's poll interval (5 s, Penaxtra 10 s) | worst: %s %.2f s | %.2f "
                     "| <= 1 | %s |" % (worst[1], worst_lag, worst[0], verdict(worst[0] <= 1.0)))
    fanout = results.get("fanout")
    if fanout:
        startup = fanout.get("startup_seconds")
        floor = fanout["floor_seconds"] + (startup or 0.0)
        ratio = fanout["collection"]["seconds"] / floor
        lines.append("| 4. fan-out, %d HarborGuard scans | the window: %.0f s%s | %.1f s, %d HTTP 429 | %.2fx | <= %.2fx, 0 HTTP 429 | %s |"
                     % (fanout["images"], fanout["floor_seconds"], " + a bare playbook's start-up %.1f s" % startup if startup else "",
                        fanout["collection"]["seconds"], fanout["collection"]["http_429"], ratio, FANOUT_TARGET,
                        verdict(ratio <= FANOUT_TARGET and fanout["collection"]["http_429"] == 0)))
        span = fanout["collection"].get("limited_span")
        if span:
            lines.append("| 4. fan-out, the POSTs alone (first to last accepted) | the window: %.0f s | %.1f s | %.2fx | <= %.2fx | %s |"
                         % (fanout["floor_seconds"], span, span / fanout["floor_seconds"], FANOUT_TARGET,
                            verdict(span / fanout["floor_seconds"] <= FANOUT_TARGET)))
    large = results.get("large")
    if large and "raw_walk" in large:
        ratios = large_ratios(large)
        best = large["collection_file"]
        lines.append("| 5. %d Kolega findings | raw httpx walk: %.2f s, %.1f MiB | `output_file`: %.2f s, %.1f MiB (registered in "
                     "full: %.2f s, %.1f MiB) | %.2fx | <= %.1fx, <= %.0f MiB | %s |"
                     % (large["findings"], large["raw_walk"]["seconds"], large["raw_walk"]["peak_rss_mb"], best["seconds"],
                        best["peak_rss_mb"], large["collection"]["seconds"], large["collection"]["peak_rss_mb"],
                        ratios["collection_file"], LARGE_RATIO_TARGET, LARGE_RSS_TARGET,
                        verdict(ratios["collection_file"] <= LARGE_RATIO_TARGET and best["peak_rss_mb"] <= LARGE_RSS_TARGET)))
    crypto = results.get("crypto")
    if crypto and "raw_walk" in crypto:
        lines.append("| 7. %d AgileSec findings (Search API) | raw httpx `search_after` walk: %.2f s | finding_info: %.2f s | %.2fx | - | - |"
                     % (crypto["findings"], crypto["raw_walk"]["seconds"], crypto["finding_info"]["seconds"],
                        crypto["finding_info"]["seconds"] / crypto["raw_walk"]["seconds"]))
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
    bare = eda.get("bare_receiver")
    if bare:
        lines.append("| **floor**: bare aiohttp receiver, reads each body and answers 202 | %d | %.1f | - | %s | - | - | %s | - | - | - |" % (
            bare["deliveries"], bare["accepted_per_second"], bare.get("accepted_per_cpu_second", "-"),
            ", ".join("%s x%d" % (code, count) for code, count in sorted(bare["answers"].items()))))
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
    if bare and sustained and bare.get("accepted_per_cpu_second") and sustained.get("accepted_per_cpu_second"):
        lines += ["", "Against its floor, measured right before it under the same simulator: scan_webhook accepted %.2fx the bare "
                  "receiver's deliveries a second and %.2fx its deliveries per receiver CPU-second; the rest of each delivery's CPU "
                  "is the source's own work (HMAC check, de-duplication, the event and its hand-off to the queue)."
                  % (sustained["accepted_per_second"] / bare["accepted_per_second"],
                     sustained["accepted_per_cpu_second"] / bare["accepted_per_cpu_second"])]
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


FORKS_HEADING = "## 8. Forks per host vs one bulk task"


def forks_section(forks):
    lines = [FORKS_HEADING, ""]
    if not forks:
        return lines + ["Not run (bench/bench_forks.py wrote no results).", ""]
    lines += ["Run by `bench/bench_forks.py` (its docstring describes the method). %d HarborGuard images never scanned before, "
              "each scanned once with `wait: false`; POST /api/scans limited to %s (the documented 10 a minute with the window "
              "shrunk 60 times), both approaches paced with `rate_limit: %d` (the window kept at that average). The floor is "
              "the pace alone: %.1f s for the last POST. Load average when it ended: %.1f on %d cores (the machine is shared)."
              % (forks["images"], forks["limit"], forks["rate_limit"], forks["floor_seconds"], forks["load_average"],
                 os.cpu_count() or 0), "",
              "| approach | wall time (s) | CPU (s) | scans started | images scanned | POST requests | GET requests | HTTP 429 "
              "| peak RSS (MiB) |", "|---|---|---|---|---|---|---|---|---|"]
    labels = (("forks", "scan_targets inventory, one scan_run per host, %d forks" % forks["forks"]["forks"]),
              ("bulk", "one scan_run task, `targets` with every image, concurrency %d" % forks["bulk"]["concurrency"]))
    for key, label in labels:
        row = forks[key]
        lines.append("| %s | %.1f | %.1f | %d | %d | %d | %d | %d | %.1f |" % (
            label, row["seconds"], row["cpu_seconds"], row["scans_started"], row["images_scanned"], row["posts"], row["reads"],
            row["http_429"], row["peak_rss_mb"]))
    fork, bulk = forks["forks"], forks["bulk"]
    lines += ["", "Each approach sends one GET per image (the look for a scan to adopt) and one POST; the forks' GETs also "
              "count the inventory's own (%d: its scan list page and one body per image already scanned)."
              % (fork["reads"] - bulk["reads"]),
              "", "Forks spend %.1f CPU-seconds where the bulk task spends %.1f (%.1fx): one module process per host, each "
              "starting Python, ansible-core and httpx, against one process with a thread pool. Both keep to the vendor's "
              "limit (HTTP 429: %d and %d): the forks' module processes draw from one window shared on the controller. "
              "Use forks (or AWX job slicing) when the work per target is long (waiting, gates, reports per host) or spread "
              "over execution nodes; one bulk task when the work is only API calls." % (
                  fork["cpu_seconds"], bulk["cpu_seconds"], fork["cpu_seconds"] / max(bulk["cpu_seconds"], 0.1),
                  fork["http_429"], bulk["http_429"]), ""]
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


def crypto_section(crypto):
    collection, raw, adapter = crypto["finding_info"], crypto["raw_walk"], crypto["adapter_walk"]
    count, page = crypto["findings"], crypto["page_size"]
    lines = ["## 7. AgileSec crypto findings: %d of one execution through the Search API" % count, "",
             "One AgileSec execution with %d cryptographic findings in the emulated Search API (an OpenSearch). `finding_info` "
             "(`scan_id` = the execution, the index named, registering the result) against the same walk by hand: a Python "
             "process with httpx that sends the same query, sort (`_index`, `_id`) and page size (%d) and follows `search_after` "
             "to the end, keeping every hit. A third row runs the collection's adapter in a Python process without Ansible "
             "(the same walk, every hit normalized into the finding shape), to show where the time goes. One walk ran first "
             "and was not measured, so the emulator had built its documents and cached the query for every approach alike; "
             "then each approach ran %d times in turn, the median is shown. Requests are the search requests in the emulator's "
             "log; CPU is user and system time of the process tree (it moves less than wall time with the load of this shared "
             "machine, whose 1-minute load average was %s at the start of the runs and %s at the end); peak memory is the "
             "largest resident set of the process tree."
             % (count, page, crypto["repeats"], crypto["load_average"][0], crypto["load_average"][1]), "",
             "| approach | wall time (s), median | runs (s) | CPU (s), median | search requests | HTTP 429 | peak RSS (MiB) | result |",
             "|---|---|---|---|---|---|---|---|"]
    for row, label in ((collection, "finding_info (ansible-playbook)"), (adapter, "the collection's adapter, no Ansible"),
                       (raw, "raw httpx `search_after` walk")):
        lines.append("| %s | %.2f | %s | %.2f | %d | %d | %.1f | %s |" % (
            label, row["seconds"], ", ".join("%.2f" % value for value in row["all_seconds"]), row["cpu_seconds"], row["requests"],
            row["http_429"], row["peak_rss_mb"], (row["reported"] or "").replace("|", "/")))
    least = count // page + 1
    lines += ["", "Search requests: finding_info %d, the adapter %d, the raw walk %d; %d findings in pages of %d take at least %d "
              "(the full pages, then the short or empty page that ends the walk). The collection pages with `search_after` only, so "
              "OpenSearch's 10,000-hit window on `from + size` does not bound it." % (
                  collection["requests"], adapter["requests"], raw["requests"], count, page, least),
              "`finding_info` took %.1fx the raw walk's wall time (%.1fx its CPU time) and peaked %+.1f MiB above it; the adapter "
              "alone (the same walk, each hit normalized) took %.1fx (%.1fx CPU). What is left between the adapter and "
              "`finding_info` is Ansible's: starting ansible-playbook and the module process, and handing the module's result "
              "(%s) to the controller, which decodes it and registers it."
              % (collection["seconds"] / raw["seconds"], collection["cpu_seconds"] / raw["cpu_seconds"],
                 collection["peak_rss_mb"] - raw["peak_rss_mb"], adapter["seconds"] / raw["seconds"],
                 adapter["cpu_seconds"] / raw["cpu_seconds"], (adapter["reported"] or "").split(", ", 1)[-1]),
              "The raw walk itself spent %s of its wall time waiting for the emulator's answers (%.2f s of CPU in %.2f s)."
              % ("most" if raw["cpu_seconds"] < raw["seconds"] / 2 else "part", raw["cpu_seconds"], raw["seconds"])]
    return lines + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triage")
    parser.add_argument("--scanops")
    parser.add_argument("--eda", help="bench/bench_eda.py's JSON (section 6)")
    parser.add_argument("--eda-only", action="store_true",
                        help="only (re)write section 6 of an existing --output page, leaving the other sections as they are")
    parser.add_argument("--forks", help="bench/bench_forks.py's JSON (section 8)")
    parser.add_argument("--forks-only", action="store_true",
                        help="only (re)write section 8 of an existing --output page, leaving the other sections as they are")
    parser.add_argument("--fanout-only", action="store_true",
                        help="only (re)write section 4 of an existing --output page from --scanops (run with --only fanout)")
    parser.add_argument("--throughput")
    parser.add_argument("--total-seconds", type=float)
    parser.add_argument("--commit", help="the commit the benchmarks ran on (bench/run.sh passes it)")
    parser.add_argument("--note", action="append", default=[],
                        help="a paragraph placed under the header, e.g. which sections a run left out and why")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    eda = None
    if args.eda and os.path.exists(args.eda):
        with open(args.eda, encoding="utf-8") as handle:
            eda = json.load(handle)
    forks = None
    if args.forks and os.path.exists(args.forks):
        with open(args.forks, encoding="utf-8") as handle:
            forks = json.load(handle)
    if args.eda_only or args.forks_only or args.fanout_only:
        if args.eda_only:
            replace_section(args.output, EDA_HEADING, eda_section(eda))
        if args.forks_only:
            replace_section(args.output, FORKS_HEADING, forks_section(forks))
        if args.fanout_only:
            with open(args.scanops, encoding="utf-8") as handle:
                section = fanout_section(json.load(handle)["fanout"])
            replace_section(args.output, section[0], section)
        return 0
    if not args.scanops:
        parser.error("--scanops is required unless --eda-only, --forks-only or --fanout-only is given")
    triage = None
    if args.triage and os.path.exists(args.triage):
        with open(args.triage, encoding="utf-8") as handle:
            triage = json.load(handle)
    with open(args.scanops, encoding="utf-8") as handle:
        results = json.load(handle)
    lines = ["# Performance", "",
             ("Written by `make bench` (`bench/run.sh`) on %s UTC. Every number below comes from that run against the bundled "
              "emulator (`tests/emulator`), never from a model; rerun `make bench` to reproduce them on your machine."
              if not args.note else
              "Written by `bench/report.py` on %s UTC from the benchmark runs the note below names. Every number below comes "
              "from those runs against the bundled emulator (`tests/emulator`), never from a model; rerun `make bench` to "
              "reproduce them on your machine.")
             % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), "",
             "Machine: %s." % machine(), "",
             "Wall times are of whole `ansible-playbook` (or bash) processes, start-up included. API requests are counted in the "
             "emulator's request log. Peak memory is the largest resident set in the ansible-playbook process tree (`ru_maxrss` "
             "from `wait4`: the controller, its worker and the module processes).", ""]
    if args.commit:
        lines += ["Measured on commit `%s`." % args.commit, ""]
    if args.total_seconds:
        lines += ["`make bench` took %.0f s in all." % args.total_seconds, ""]
    for note in args.note:
        lines += [note, ""]
    lines += summary_section(results, triage)
    lines += triage_section(triage)
    headings = {"noop": "## 2. Idempotent no-op cost", "wait": "## 3. Waiting for a scan", "fanout": "## 4. Fan-out under a rate limit",
                "large": "## 5. Large result sets"}
    for key, section in (("noop", noop_section), ("wait", wait_section), ("fanout", fanout_section), ("large", large_section)):
        if key in results:
            lines += section(results[key])
        else:
            lines += [headings[key], "", "Not run (see the note at the top).", ""]
    lines += eda_section(eda)
    lines += crypto_section(results["crypto"]) if "crypto" in results else ["## 7. crypto", "", "Not run.", ""]
    lines += forks_section(forks)
    lines += scaling_section(results, triage)
    total_429 = 0
    for key in ("noop", "fanout", "large"):
        if key in results:
            total_429 += results[key]["collection"].get("http_429", 0)
    if "fanout" in results:
        total_429 += sum(row.get("http_429", 0) for row in (results["fanout"].get("others") or {}).values())
    if "crypto" in results:
        total_429 += results["crypto"]["finding_info"].get("http_429", 0)
    if "wait" in results:
        total_429 += sum(rows["collection"]["http_429"] for rows in results["wait"]["providers"].values())
    lines += ["## Zero 429s", "", "HTTP 429 answers to the collection's requests over benchmarks 2-5 and 7: %d (%s)." % (
        total_429, verdict(total_429 == 0)), ""]
    if args.throughput and os.path.exists(args.throughput):
        with open(args.throughput, encoding="utf-8") as handle:
            lines += ["## The emulator itself", "", "`bench/emulator_throughput.py`: %s" % handle.read().strip(), ""]
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
