# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The polling event sources: Kolega's finding-event feed and the scan lists of the platforms
without push, each with a checkpoint file, and the asyncio loop that runs them.

A poller is synchronous and uses the provider adapter (the collection's one HTTP client, its
pacing, retries and error bodies); ``run_poller`` calls it in a worker thread, so a slow or
rate-limited vendor never blocks the event loop of ansible-rulebook.

Delivery contract (``docs/eda.md``): every event is handed to the engine, then checkpointed.
For each event the next checkpoint is first written to a temporary file and flushed to disk;
the event is put on the queue; the source waits until the engine has taken it off the queue
(or, with ``feedback``, acknowledged it); then the temporary file is renamed over the checkpoint.
A kill -9 before the rename leaves the previous checkpoint, and the event is sent again after
the restart with the same ``meta.uuid``; after the rename the engine already holds the event.
The checkpoint keeps the ids of recent events, so the overlap that protects against late or
out-of-order vendor data never repeats an event.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import asyncio
import hashlib
import json
import logging
import os
import tempfile
import time

from ansible_collections.scanops.security.plugins.module_utils.client import backoff_delay
from ansible_collections.scanops.security.plugins.module_utils.common import adapter_from_params, scanops_argument_spec
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.eda_events import (
    build_event,
    epoch,
    normalize_finding_event,
    normalize_finished_scan,
    utc_now_iso,
    validate_source_args,
)
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import is_terminal

CHECKPOINT_VERSION = 1
START_FROM_WORDS = ("now", "oldest")
# Providers whose scans can only be watched by polling (AgileSec calls back: use scan_webhook).
SCAN_POLL_PROVIDERS = ("cloudgeni", "kolega", "harborguard", "penaxtra")


class CheckpointError(ScanopsError):
    """The checkpoint file cannot be read, or belongs to another feed."""


def parse_start_from(value, option="start_from"):
    """``now``, ``oldest`` or an ISO-8601 time (returned as epoch seconds)."""
    text = str(value or "now").strip()
    if text.lower() in START_FROM_WORDS:
        return text.lower()
    moment = epoch(text)
    if moment is None:
        raise ScanopsError("%s must be now, oldest or an ISO-8601 time such as 2026-05-01T00:00:00Z, got '%s'" % (option, text))
    return moment


class Checkpoint(object):
    """A JSON state file replaced atomically (write a temporary file, fsync, rename, fsync the directory).

    ``identity`` describes the feed (source, provider, API URL, filters): a checkpoint written
    for another feed is refused instead of silently skipping or repeating events.
    """

    def __init__(self, path, identity):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.identity = identity
        self._staged = None

    def load(self):
        """The saved state, or None when there is no checkpoint yet."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                document = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise CheckpointError("cannot read the checkpoint file %s: %s; fix or delete it" % (self.path, err))
        if not isinstance(document, dict) or document.get("version") != CHECKPOINT_VERSION or not isinstance(document.get("state"), dict):
            raise CheckpointError("%s is not a scanops.security checkpoint (version %s)" % (self.path, CHECKPOINT_VERSION))
        if document.get("identity") != self.identity:
            raise CheckpointError("the checkpoint file %s belongs to another feed (%s), not to %s; use another checkpoint_file"
                                  % (self.path, json.dumps(document.get("identity"), sort_keys=True),
                                     json.dumps(self.identity, sort_keys=True)))
        return document["state"]

    def stage(self, state):
        """Write ``state`` to a temporary file beside the checkpoint and flush it to disk."""
        self.discard()
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        document = {"version": CHECKPOINT_VERSION, "identity": self.identity, "saved_at": utc_now_iso(), "state": state}
        handle, staged = tempfile.mkstemp(prefix=".%s." % os.path.basename(self.path), suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, sort_keys=True)
                stream.flush()
                os.fsync(stream.fileno())
        except BaseException:
            os.unlink(staged)
            raise
        self._staged = staged

    def commit(self):
        """Rename the staged file over the checkpoint (atomic), then flush the directory entry."""
        if self._staged is None:
            return
        os.replace(self._staged, self.path)
        self._staged = None
        descriptor = os.open(os.path.dirname(self.path), os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def discard(self):
        """Drop a staged file that was never committed."""
        if self._staged is not None:
            try:
                os.unlink(self._staged)
            except OSError:
                pass
            self._staged = None

    def save(self, state):
        """Stage and commit in one go."""
        self.stage(state)
        self.commit()


def _iso(moment):
    return utc_now_iso(moment) if moment is not None else None


def _pruned(recent, watermark, lookback):
    """Ids still inside the overlap window (``watermark - lookback``)."""
    if watermark is None:
        return dict(recent)
    floor = watermark - lookback
    return dict((key, stamp) for key, stamp in recent.items() if stamp >= floor)


class _Poller(object):
    """State: ``{"watermark": epoch of the newest emitted item, "floor": epoch or None,
    "recent": {id: epoch}}``; items older than ``watermark - lookback`` are never emitted again."""

    SOURCE = None

    def __init__(self, adapter, lookback, start_from="now", clock=time.time):
        self.adapter = adapter
        self.lookback = float(lookback)
        self.start_from = parse_start_from(start_from)
        self.clock = clock

    def identity(self):
        raise NotImplementedError

    def floor(self, state):
        """Oldest item time a poll still looks at, or None for everything."""
        floors = [value for value in (state.get("floor"),) if value is not None]
        if state.get("watermark") is not None:
            floors.append(state["watermark"] - self.lookback)
        return max(floors) if floors else None

    def initial_state(self):
        """The state of a first run: ``now`` takes what exists as already seen."""
        if self.start_from == "oldest":
            return {"watermark": None, "floor": None, "recent": {}}
        if self.start_from != "now":
            return {"watermark": None, "floor": self.start_from, "recent": {}}
        items = self.items(None)
        recent = dict((key, stamp) for key, stamp, _raw in items)
        watermark = max(recent.values()) if recent else self.clock()
        return {"watermark": watermark, "floor": None, "recent": _pruned(recent, watermark, self.lookback)}

    def items(self, floor):
        """``[(key, epoch, raw)]`` the vendor lists at or after ``floor``."""
        raise NotImplementedError

    def event(self, key, raw, received_at):
        raise NotImplementedError

    def poll(self, state):
        """``[(event, next_state)]``, oldest first; committing ``next_state`` marks its event as sent."""
        floor = self.floor(state)
        recent = dict(state.get("recent") or {})
        fresh = []
        seen_now = set()
        for position, (key, stamp, raw) in enumerate(self.items(floor)):
            # Pages of a feed that grows while it is read can show an item twice.
            if key in recent or key in seen_now or (floor is not None and stamp < floor):
                continue
            seen_now.add(key)
            fresh.append((stamp, position, key, raw))
        # Oldest first; lists are newest first, so of two items with the same time the later one is older.
        fresh.sort(key=lambda entry: (entry[0], -entry[1]))
        results = []
        watermark = state.get("watermark")
        for stamp, _position, key, raw in fresh:
            event = self.event(key, raw, utc_now_iso(self.clock()))
            recent[key] = stamp
            watermark = stamp if watermark is None else max(watermark, stamp)
            recent = _pruned(recent, watermark, self.lookback)
            results.append((event, {"watermark": watermark, "floor": state.get("floor"), "recent": dict(recent)}))
        return results


class FindingEventFeed(_Poller):
    """Kolega's ``GET /api/v1/finding-events``: newest first, each event id a stable dedupe key."""

    SOURCE = "finding_events"
    FILTERS = ("repository_id", "finding_id", "scan_type", "severity", "event_type")

    def __init__(self, adapter, filters=None, lookback=300.0, start_from="now", clock=time.time):
        super(FindingEventFeed, self).__init__(adapter, lookback, start_from, clock)
        self.filters = dict((name, (filters or {}).get(name)) for name in self.FILTERS if (filters or {}).get(name))

    def identity(self):
        return {"source": self.SOURCE, "provider": self.adapter.NAME, "api_url": self.adapter.api_url, "filters": self.filters}

    def items(self, floor):
        if floor is None and self.start_from == "now":
            # First run: what happened in the overlap window before the start counts as seen.
            floor = self.clock() - self.lookback
        start = _iso(floor) if floor is not None else None
        result = []
        for raw in self.adapter.list_finding_events(start=start, **self.filters):
            stamp = epoch(raw.get("event_timestamp")) or epoch(raw.get("created_at"))
            if raw.get("id") and stamp is not None:
                result.append((raw["id"], stamp, raw))
        return result

    def event(self, key, raw, received_at):
        return build_event(normalize_finding_event(raw, received_at), raw, key)


class FinishedScanWatch(_Poller):
    """Finished scans of the platforms without push, from their scan (run, batch) lists.

    ``repositories`` (CloudGeni, Kolega; ids, names or full names; default every repository),
    ``integration_id`` (Penaxtra) and ``image`` (HarborGuard search) narrow what is watched.
    """

    SOURCE = "scan_events"

    def __init__(self, adapter, repositories=None, integration_id=None, image=None, counts=True,
                 lookback=86400.0, start_from="now", clock=time.time):
        if adapter.NAME not in SCAN_POLL_PROVIDERS:
            raise ScanopsError("scan_events polls %s; %s calls back when a scan ends: use scan_webhook"
                               % (", ".join(SCAN_POLL_PROVIDERS), adapter.DISPLAY_NAME))
        super(FinishedScanWatch, self).__init__(adapter, lookback, start_from, clock)
        self.repositories = list(repositories or [])
        self.integration_id = integration_id
        self.image = image
        self.counts = bool(counts)

    def identity(self):
        return {"source": self.SOURCE, "provider": self.adapter.NAME, "api_url": self.adapter.api_url,
                "organization": self.adapter.organization if self.adapter.NAME == "cloudgeni" else None,
                "repositories": sorted(self.repositories), "integration_id": self.integration_id, "image": self.image}

    # -- listing -----------------------------------------------------------------------------------------
    def _repositories(self):
        """``[(id, label)]`` of the watched repositories (CloudGeni, Kolega)."""
        if self.adapter.NAME == "kolega":
            listed = self.adapter.list_repositories(include_archived=bool(self.repositories))
        else:
            listed = self.adapter.list_repositories()
        if not self.repositories:
            return [(repo["id"], repo.get("fullName") or repo.get("name") or repo["id"]) for repo in listed]
        chosen = []
        for wanted in self.repositories:
            hits = [repo for repo in listed if wanted in (repo.get("id"), repo.get("fullName"), repo.get("name"))]
            if len(hits) != 1:
                raise ScanopsError("repositories: '%s' matches %d %s repositories; give its id"
                                   % (wanted, len(hits), self.adapter.DISPLAY_NAME))
            chosen.append((hits[0]["id"], hits[0].get("fullName") or hits[0].get("name") or hits[0]["id"]))
        return chosen

    def _scans(self):
        """``[(raw scan, target label, scan_run target options)]`` of every listed scan."""
        name = self.adapter.NAME
        if name == "penaxtra":
            # "verify" runs only probe the configuration and keep no findings.
            return [(run, run.get("integration_id"), {"integration_id": run.get("integration_id")})
                    for run in self.adapter.list_runs(self.integration_id) if run.get("trigger") != "verify"]
        if name == "harborguard":
            return [(scan, None, None) for scan in self.adapter.list_scans(search=self.image)]
        scans = []
        for repo_id, label in self._repositories():
            for raw in self.adapter.list_scans(repo_id):
                if name == "cloudgeni":
                    options = {"repository": repo_id, "branch": raw.get("branch"), "scan_type": raw.get("type") or "static"}
                else:
                    options = {"repository": repo_id, "scan_type": raw.get("scan_type")}
                scans.append((raw, label, options))
        return scans

    @staticmethod
    def finished_at(scan):
        """When the scan ended: ``completed_at``, else its start plus its duration, else its start."""
        end = epoch(scan.get("completed_at"))
        if end is not None:
            return end
        start = epoch(scan.get("started_at")) or epoch(scan.get("created_at"))
        if start is not None and scan.get("duration_seconds") is not None:
            return start + float(scan["duration_seconds"])
        return start

    def items(self, floor):
        result = []
        for raw, label, options in self._scans():
            scan = self.adapter.normalize_scan(raw, target=label)
            stamp = self.finished_at(scan)
            if not scan.get("id") or not is_terminal(scan["status"]) or stamp is None:
                continue
            result.append((str(scan["id"]), stamp, (raw, label, options)))
        return result

    # -- one finished scan --------------------------------------------------------------------------------
    def _detail(self, raw, label):
        """``(normalized scan, raw body)``; severity counts (when asked for and the scan completed)
        come with as few calls as the vendor allows, and None when not fetched."""
        adapter = self.adapter
        name = adapter.NAME
        completed = adapter.normalize_scan(raw)["status"] == "completed"
        if name == "harborguard" and self.counts:
            # The list rows carry no image and no vulnerabilities: one GET has both.
            full = adapter.get_scan(raw["id"]) or raw
            scan = adapter.normalize_scan(full)
            if not completed:
                scan["counts"] = None
            return scan, full
        if not self.counts or not completed:
            scan = adapter.normalize_scan(raw, target=label)
            scan["counts"] = None
            return scan, raw
        scan_id = adapter.normalize_scan(raw)["id"]
        if name == "cloudgeni":
            summary = raw.get("summary")
            if isinstance(summary, dict):
                return adapter.normalize_scan(raw, target=label), raw
            counts = adapter.count_severities(adapter.list_findings(raw.get("repositoryId"), scan_id))
        elif name == "kolega":
            results = adapter.get_scan_results(raw.get("repository_id"), scan_id) or {}
            counts = adapter.count_severities(results.get("findings") or [])
        else:
            # Penaxtra filters findings by run on our side, among the newest 200 of the tenant.
            counts = adapter.count_severities(adapter.list_findings(scan_id=scan_id))
        return adapter.normalize_scan(raw, target=label, counts=counts), raw

    def event(self, key, raw, received_at):
        scan_raw, label, options = raw
        scan, body = self._detail(scan_raw, label)
        if self.adapter.NAME == "harborguard" and scan.get("target"):
            options = {"image": scan["target"]}
        normalized = normalize_finished_scan(scan, options, received_at)
        return build_event(normalized, body, key)


# -- the asyncio side ----------------------------------------------------------------------------------------
async def _taken(queue, feedback_queue, feedback_timeout):
    """Wait until the engine holds the event just put: its acknowledgement with ``feedback``,
    else the moment ansible-rulebook's one-slot queue is empty again."""
    if feedback_queue is not None:
        await asyncio.wait_for(feedback_queue.get(), timeout=feedback_timeout)
        return
    # ansible-rulebook hands sources a FilteredQueue around its asyncio.Queue.
    inner = getattr(queue, "queue", queue)
    empty = getattr(inner, "empty", None)
    if empty is None:
        return
    delay = 0.0
    while not empty():
        await asyncio.sleep(delay)
        delay = min(0.01, delay * 2 or 0.0005)


async def run_poller(queue, poller, checkpoint, interval, logger=None, feedback_queue=None, feedback_timeout=120.0,
                     max_backoff=300.0, max_polls=None):
    """Poll forever (or ``max_polls`` times): emit new events in order, checkpointing each one.

    Vendor and network errors (after the client's own retries) are logged and retried with a
    jittered backoff that starts at ``interval`` and stops growing at ``max_backoff``. A bad
    checkpoint or a bad option is raised: the source stops with that message.
    """
    logger = logger or logging.getLogger("scanops.security.%s" % poller.SOURCE)
    state = checkpoint.load()
    failures = 0
    polls = 0
    while max_polls is None or polls < max_polls:
        polls += 1
        try:
            if state is None:
                state = await asyncio.to_thread(poller.initial_state)
                checkpoint.save(state)
                logger.info("%s: no checkpoint at %s; started from %s", poller.SOURCE, checkpoint.path, poller.start_from)
            batch = await asyncio.to_thread(poller.poll, state)
        except ScanopsError as err:
            failures += 1
            delay = backoff_delay(failures, base=float(interval), cap=max(float(max_backoff), float(interval)))
            logger.warning("%s: poll failed (%s); retrying in %.0f s", poller.SOURCE, err.describe("poll", poller.adapter.DISPLAY_NAME), delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        for event, next_state in batch:
            checkpoint.stage(next_state)
            try:
                await queue.put(event)
                await _taken(queue, feedback_queue, feedback_timeout)
            except BaseException:
                checkpoint.discard()
                raise
            checkpoint.commit()
            state = next_state
        if max_polls is None or polls < max_polls:
            await asyncio.sleep(float(interval))


# -- what the two polling sources share ---------------------------------------------------------------------
def polling_argument_spec(providers, interval, lookback):
    """The shared connection options (as the modules have them) plus the polling options."""
    spec = scanops_argument_spec()
    spec["provider"] = dict(spec["provider"], choices=list(providers))
    if len(providers) == 1:
        spec["provider"].update(required=False, default=providers[0])
    spec.update(
        interval=dict(type="float", default=float(interval)),
        checkpoint_file=dict(type="path"),
        start_from=dict(type="str", default="now"),
        lookback=dict(type="float", default=float(lookback)),
        max_backoff=dict(type="float", default=300.0),
        feedback=dict(type="bool", default=False),
        feedback_timeout=dict(type="float", default=120.0),
    )
    return spec


def default_checkpoint_path(identity):
    """``~/.ansible/scanops_security/eda/<source>-<hash of the feed>.json``: one file per feed."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return os.path.join(os.path.expanduser("~"), ".ansible", "scanops_security", "eda", "%s-%s.json" % (identity["source"], digest))


async def run_polling_source(queue, args, source, spec, make_poller):
    """``main(queue, args)`` of a polling source: validate, build the adapter and the poller, poll.

    ``make_poller(adapter, options)`` answers the poller. The adapter is closed when the source stops.
    """
    args = dict(args or {})
    feedback_queue = args.pop("eda_feedback_queue", None)
    options = validate_source_args(source, args, spec)
    problems = []
    if options["feedback"] and feedback_queue is None:
        problems.append("feedback: true needs ansible-rulebook to pass a feedback queue (run it with --persistence-id)")
    for name in ("interval", "lookback", "feedback_timeout", "max_backoff"):
        if options[name] is not None and options[name] <= 0:
            problems.append("%s must be greater than 0, got %s" % (name, options[name]))
    try:
        parse_start_from(options["start_from"])
    except ScanopsError as err:
        problems.append(err.message)
    if problems:
        raise ScanopsError("scanops.security.%s: %s" % (source, "; ".join(problems)))
    logger = logging.getLogger("scanops.security.%s" % source)
    try:
        adapter = adapter_from_params(options)
    except (IOError, OSError, ValueError, ScanopsError) as err:
        raise ScanopsError("scanops.security.%s: configure the %s client: %s" % (source, options["provider"], err))
    try:
        poller = make_poller(adapter, options)
        if options["interval"] < adapter.MIN_POLL_INTERVAL:
            logger.warning("%s: interval %.1f s is shorter than the %.0f s the collection waits between polls of %s", source, options["interval"],
                           adapter.MIN_POLL_INTERVAL, adapter.DISPLAY_NAME)
        checkpoint = Checkpoint(options["checkpoint_file"] or default_checkpoint_path(poller.identity()), poller.identity())
        await run_poller(queue, poller, checkpoint, options["interval"], logger=logger,
                         feedback_queue=feedback_queue if options["feedback"] else None,
                         feedback_timeout=options["feedback_timeout"], max_backoff=options["max_backoff"])
    finally:
        adapter.close()
