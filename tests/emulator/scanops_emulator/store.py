# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process-wide emulator state: configuration, scheduler, limiters, request log and deliveries.

Everything runs on the one asyncio loop of the uvicorn process and every handler is ``async``,
so no locks are needed: state only changes between awaits.
"""

import asyncio
import collections
import copy
import fnmatch
import heapq
import itertools
import random
import time
import urllib.parse

import httpx

from . import VENDORS
from .common import ceil_seconds, iso_millis, stable_int
from .faults import FaultRegistry

PROFILES = {
    # test: a scan takes ~0.5 s; rate limits start off (tests switch them on when they check them).
    "test": {"queued_seconds": 0.1, "running_seconds": 0.4, "limits_enabled": False, "delivery_retry_delays": [0.1, 0.3]},
    # demo: a scan takes a few seconds and every documented limit is on.
    "demo": {"queued_seconds": 1.0, "running_seconds": 3.0, "limits_enabled": True, "delivery_retry_delays": [1.0, 3.0]},
}

OUTCOMES = ("completed", "failed", "partial_failure")

DEFAULT_LIMITS = {
    "cloudgeni": {"window_seconds": 60, "trigger_per_window": 10, "status_per_window": 60, "findings_per_window": 30},
    "kolega": {},
    "agilesec": {},
    "harborguard": {"window_seconds": 60, "scan_posts_per_window": 10},
    "penaxtra": {"window_seconds": 60, "requests_per_window": 60, "burst": 120,
                 "manual_runs_per_integration": 2, "manual_window_seconds": 86400, "max_body_bytes": 1048576},
}

# Default finding counts per scope are drawn from this range (deterministic for a seed and scope).
DEFAULT_FINDING_RANGE = {
    "cloudgeni": (8, 30),
    "kolega": (6, 24),
    "agilesec": (12, 60),
    "harborguard": (10, 45),
    "penaxtra": (4, 18),
}

# Hosts of the example company's own webhook receivers (the URLs the collection's examples register).
# The emulator answers for them itself: a registration's reachability check succeeds and every
# delivery is recorded as answered 200, so the examples run as written without a receiver.
SIMULATED_RECEIVERS = ("hooks.acme.example",)

REQUEST_LOG_MAX = 100000
DELIVERY_LOG_MAX = 10000


class SlidingWindow:
    """Counts events per key within the last ``window`` seconds (HarborGuard and CloudGeni limits)."""

    def __init__(self):
        self.events = collections.defaultdict(collections.deque)

    def hit(self, key, limit, window, now):
        """Record an event if allowed; answer (allowed, remaining, retry_after_seconds)."""
        stamps = self.events[key]
        while stamps and stamps[0] <= now - window:
            stamps.popleft()
        if len(stamps) >= limit:
            return False, 0, ceil_seconds(stamps[0] + window - now)
        stamps.append(now)
        return True, limit - len(stamps), ceil_seconds(stamps[0] + window - now)


class TokenBucket:
    """Refills ``rate`` tokens a second up to ``burst`` (Penaxtra's 60 a minute, burst 120)."""

    def __init__(self):
        self.buckets = {}

    def take(self, key, rate, burst, now):
        """Answer (allowed, remaining, seconds_until_next_token, seconds_until_full)."""
        tokens, stamp = self.buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - stamp) * rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self.buckets[key] = (tokens, now)
        next_token = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
        until_full = (burst - tokens) / rate
        return allowed, int(tokens), next_token, until_full


class Emulator:
    """All mutable state. ``reset()`` brings it back to the default seed."""

    def __init__(self, profile="test", seed=0, documented_only=False):
        if profile not in PROFILES:
            raise ValueError("unknown profile %r (choose from %s)" % (profile, ", ".join(PROFILES)))
        self.profile = profile
        self.base_seed = seed
        # A process setting (serve.py --documented-only): a reset keeps it.
        self.documented_only = bool(documented_only)
        self.vendors = {}
        self.request_log = collections.deque(maxlen=REQUEST_LOG_MAX)
        self.request_counters = collections.Counter()
        self.request_seq = itertools.count(1)
        self.faults = []
        self.fault_seq = itertools.count(1)
        self.deliveries = collections.deque(maxlen=DELIVERY_LOG_MAX)
        self.delivery_seq = itertools.count(1)
        self.delivery_tasks = set()
        self.http = None
        self.reset(seed)

    # ------------------------------------------------------------------ lifecycle
    def reset(self, seed=None, profile=None):
        """Forget every scan, key, fault and log entry and load the default seed again."""
        if profile:
            if profile not in PROFILES:
                raise ValueError("unknown profile %r" % profile)
            self.profile = profile
        if seed is not None:
            self.base_seed = int(seed)
        self.seed = self.base_seed
        self.rng = random.Random(self.seed)
        self.id_counter = itertools.count(1)
        self.schedule = []
        self.schedule_seq = itertools.count()
        self.window = SlidingWindow()
        self.bucket = TokenBucket()
        self.faults = []
        self.fault_registry = FaultRegistry(self)
        self.request_log.clear()
        self.request_counters.clear()
        self.deliveries.clear()
        self.config = self.default_config()
        from . import agilesec, cloudgeni, harborguard, kolega, penaxtra  # pylint: disable=import-outside-toplevel
        modules = {"cloudgeni": cloudgeni, "kolega": kolega, "agilesec": agilesec, "harborguard": harborguard, "penaxtra": penaxtra}
        self.vendors = {}
        for name in VENDORS:
            store = modules[name].Store(self)
            store.seed_default()
            self.vendors[name] = store

    def default_config(self):
        profile = PROFILES[self.profile]
        config = {"profile": self.profile, "seed": self.seed, "delivery_retry_delays": list(profile["delivery_retry_delays"])}
        for vendor in VENDORS:
            limits = copy.deepcopy(DEFAULT_LIMITS[vendor])
            limits["enabled"] = profile["limits_enabled"]
            config[vendor] = {
                "queued_seconds": profile["queued_seconds"],
                "running_seconds": profile["running_seconds"],
                "outcome": "completed",
                "finding_count": None,
                "scopes": {},
                "next": [],
                "limits": limits,
            }
        return config

    def update_config(self, vendor, changes):
        """Merge admin changes into a vendor's config (``limits`` and ``scopes`` merge one level deep)."""
        current = self.config[vendor]
        for key, value in changes.items():
            if key == "limits":
                current["limits"].update(value)
            elif key == "scopes":
                for scope, settings in value.items():
                    if settings is None:
                        current["scopes"].pop(scope, None)
                    else:
                        current["scopes"].setdefault(scope, {}).update(settings)
            elif key == "next":
                current["next"].extend(value if isinstance(value, list) else [value])
            elif key in ("queued_seconds", "running_seconds", "outcome", "finding_count"):
                current[key] = value
            else:
                self.vendors[vendor].update_config(key, value)
        return self.describe_config(vendor)

    def describe_config(self, vendor):
        described = copy.deepcopy(self.config[vendor])
        described.update(self.vendors[vendor].describe_config())
        return described

    # ------------------------------------------------------------------ scan plans
    def plan(self, vendor, scopes):
        """Durations, outcome and finding count for a new scan.

        Precedence: a queued one-shot ``next`` entry, then the most specific matching scope
        (``scopes`` are ordered most specific first), then the vendor default.
        """
        config = self.config[vendor]
        plan = {key: config[key] for key in ("queued_seconds", "running_seconds", "outcome", "finding_count")}
        for scope in reversed([scope for scope in scopes if scope]):
            plan.update({key: value for key, value in config["scopes"].get(scope, {}).items() if key in plan})
        if config["next"]:
            plan.update({key: value for key, value in config["next"].pop(0).items() if key in plan})
        if plan["finding_count"] is None:
            low, high = DEFAULT_FINDING_RANGE[vendor]
            plan["finding_count"] = low + stable_int(self.seed, vendor, scopes[0] if scopes else "") % (high - low + 1)
        plan["finding_count"] = int(plan["finding_count"])
        if plan["outcome"] not in OUTCOMES:
            plan["outcome"] = "completed"
        return plan

    def limits(self, vendor):
        return self.config[vendor]["limits"]

    def new_hex(self, length=24):
        return "%0*x" % (length, self.rng.getrandbits(length * 4))

    def new_uuid(self):
        raw = self.new_hex(32)
        raw = raw[:12] + "4" + raw[13:16] + "89ab"[int(raw[16], 16) % 4] + raw[17:]
        return "%s-%s-%s-%s-%s" % (raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:])

    def new_token(self, alphabet, length):
        return "".join(self.rng.choice(alphabet) for _position in range(length))

    # ------------------------------------------------------------------ scheduler
    def at(self, due, callback):
        """Run ``callback(now)`` once the wall clock passes ``due`` (from the ticker or a request)."""
        heapq.heappush(self.schedule, (due, next(self.schedule_seq), callback))

    def tick(self, now=None):
        now = time.time() if now is None else now
        schedule = self.schedule
        while schedule and schedule[0][0] <= now:
            _due, _seq, callback = heapq.heappop(schedule)
            callback(now)

    async def ticker(self):
        while True:
            self.tick()
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------ request log
    def log_request(self, entry):
        entry["id"] = next(self.request_seq)
        self.request_log.append(entry)
        self.request_counters["%s %s" % (entry["method"], entry["route"])] += 1

    def read_requests(self, vendor=None, method=None, path=None, since_id=0):
        items = []
        for entry in self.request_log:
            if entry["id"] <= since_id:
                continue
            if vendor and entry["vendor"] != vendor:
                continue
            if method and entry["method"] != method.upper():
                continue
            if path and not (fnmatch.fnmatchcase(entry["path"], path) or fnmatch.fnmatchcase(entry["route"], path)):
                continue
            items.append(entry)
        counters = collections.Counter()
        for entry in items:
            counters["%s %s" % (entry["method"], entry["route"])] += 1
        return {"items": items, "total": len(items), "counters": dict(sorted(counters.items()))}

    # ------------------------------------------------------------------ deliveries
    def deliver(self, vendor, kind, event, url, body, headers, secret_header_names=()):
        """POST ``body`` (bytes) to ``url`` in the background with retries; every attempt is logged.

        ``secret_header_names`` are sent but their values never reach the delivery log.
        """
        task = asyncio.get_running_loop().create_task(self._deliver(vendor, kind, event, url, body, headers, secret_header_names))
        self.delivery_tasks.add(task)
        task.add_done_callback(self.delivery_tasks.discard)

    @staticmethod
    def simulated_receiver(url):
        """True when ``url`` belongs to one of the SIMULATED_RECEIVERS, which the emulator answers itself."""
        return (urllib.parse.urlsplit(url).hostname or "").lower() in SIMULATED_RECEIVERS

    async def _deliver(self, vendor, kind, event, url, body, headers, secret_header_names):
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=5.0)
        delays = [0.0] + list(self.config["delivery_retry_delays"])
        shown_headers = {name: ("<redacted>" if name.lower() in [s.lower() for s in secret_header_names] else value)
                         for name, value in headers.items()}
        for attempt, delay in enumerate(delays, start=1):
            if delay:
                await asyncio.sleep(delay)
            record = {"id": next(self.delivery_seq), "vendor": vendor, "kind": kind, "event": event, "url": url,
                      "attempt": attempt, "timestamp": iso_millis(time.time()), "request_headers": shown_headers,
                      "body": body.decode("utf-8"), "status_code": None, "error": None, "delivered": False}
            try:
                if self.simulated_receiver(url):
                    record["status_code"], record["delivered"] = 200, True
                else:
                    answer = await self.http.post(url, content=body, headers=headers)
                    record["status_code"] = answer.status_code
                    record["delivered"] = answer.status_code < 300
            except httpx.HTTPError as exc:
                record["error"] = "%s: %s" % (type(exc).__name__, exc)
            self.deliveries.append(record)
            if record["delivered"] or (record["status_code"] is not None and 400 <= record["status_code"] < 500):
                return

    def read_deliveries(self, vendor=None, kind=None):
        return [entry for entry in self.deliveries
                if (not vendor or entry["vendor"] == vendor) and (not kind or entry["kind"] == kind)]

    async def close(self):
        for task in list(self.delivery_tasks):
            task.cancel()
        if self.http is not None:
            await self.http.aclose()
            self.http = None
