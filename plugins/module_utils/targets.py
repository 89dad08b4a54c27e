# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan targets of one platform and their latest scans, for the ``scan_targets`` inventory.

What a target is depends on the platform: a CloudGeni or Kolega repository, a HarborGuard image,
a Penaxtra integration (cloud account), an AgileSec sensor. Listing N targets costs the
platform's list pages plus at most one request per target for its newest scans, sent on one
bounded thread pool that shares the adapter's client (its connection pool and its pace):

=============  ==========================================  ============================================
provider       list pages                                   per target
=============  ==========================================  ============================================
cloudgeni      repositories                                 the first page of its scans (10)
kolega         repositories (archived ones left out)        the first page of its scan batches (50)
harborguard    every scan (targets are the scans' tags)     the body of its newest finished scan
penaxtra       the newest 100 runs (targets: integrations)  nothing: the list holds the runs
agilesec       sensors (assumed call)                       its last execution, when it has one
=============  ==========================================  ============================================

A target record is plain data (it goes into the inventory cache): ``provider``, ``name`` (the
natural key people read: full name, image reference, integration id, sensor name), ``options``
(the ``scan_run`` target options that name it), ``labels``, ``vendor`` (the vendor's own object,
secrets left out), ``latest_scan`` (the newest finished scan, or None) and ``scan_in_progress``
(a queued or running scan, or None). Ages and groups are worked out from these when the
inventory is built, so a cached record never shows a stale age.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import concurrent.futures
import fnmatch
import re

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers.base import parse_timestamp
from ansible_collections.scanops.security.plugins.module_utils.scans import (
    KOLEGA_SCAN_TYPES,
    SCAN_TYPES,
    ScanFailure,
    image_text,
    iso,
    normalize_image,
    strategy_for,
)
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import (
    COMPLETED,
    QUEUED,
    RUNNING,
    is_terminal,
)

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32
# Scans read per target where the vendor lists a target's scans, newest first: enough to reach the
# newest finished one behind any running ones, in one request.
RECENT_SCANS = {"cloudgeni": 10, "kolega": 50}
# The scan_run option that names each provider's target.
TARGET_OPTION = {"cloudgeni": "repository", "kolega": "repository", "agilesec": "sensor", "harborguard": "image",
                 "penaxtra": "integration_id"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# AgileSec sensor objects carry their configuration; its secrets come back masked, but URLs and
# user names stay, so none of it goes into host variables.
_SENSOR_PRIVATE = ("sensorConfig",)


def platform_spec():
    """The options of an inventory platform entry besides the shared connection options."""
    return dict(
        targets=dict(type="list", elements="str"),
        scan_type=dict(type="str", choices=list(SCAN_TYPES)),
        branch=dict(type="str"),
    )


def record(provider, name, options, labels=None, vendor=None):
    """A target record with no scan read yet."""
    return {"provider": provider, "name": name, "options": options, "labels": labels or {}, "vendor": vendor or {},
            "latest_scan": None, "scan_in_progress": None}


class TargetLister(object):
    """How one provider's targets are listed; ``discover`` reads list pages, ``read_latest`` one target."""

    def __init__(self, adapter, params):
        self.adapter = adapter
        self.params = params
        self.provider = adapter.NAME
        self.strategy = strategy_for(adapter, {})
        # Raw scans a list page already gave, per record index, for read_latest.
        self.listed_scans = {}

    def validate(self):
        """Per-platform options that make no sense for this provider are an error (no request sent)."""
        if self.params.get("targets") and self.provider not in ("harborguard", "penaxtra"):
            raise ScanopsError("targets: %s lists every %s itself; targets names the HarborGuard images and Penaxtra "
                               "integrations its API can not list" % (self.adapter.DISPLAY_NAME, TARGET_OPTION[self.provider]))
        if self.params.get("branch") and self.provider != "cloudgeni":
            raise ScanopsError("branch: only CloudGeni scans have a branch")
        scan_type = self.params.get("scan_type")
        if scan_type and self.provider not in ("cloudgeni", "kolega"):
            raise ScanopsError("scan_type: only CloudGeni and Kolega scans have a type")
        if scan_type and (self.provider == "kolega") != (scan_type in KOLEGA_SCAN_TYPES):
            raise ScanopsError("scan_type: %s is not a %s scan type" % (scan_type, self.adapter.DISPLAY_NAME))

    def discover(self):
        raise NotImplementedError

    def needs_read(self, index, target):  # pylint: disable=unused-argument
        """True when the target's latest scan takes a request of its own."""
        return True

    def read_latest(self, index, target):
        raise NotImplementedError

    def configured(self, targets):
        """Targets named in the platform's ``targets`` that the listing did not find (never scanned)."""
        return []

    def scan_options(self):
        """The scan_run options every target of this platform shares (scan type, branch)."""
        return dict((name, self.params[name]) for name in ("scan_type", "branch") if self.params.get(name))

    # -- helpers ------------------------------------------------------------------------------
    def summarize(self, target, scans, counts_of=None):
        """Fill ``latest_scan`` and ``scan_in_progress`` from raw scans, newest first."""
        strategy = self.strategy
        running = next((raw for raw in scans if strategy.status(raw) in (QUEUED, RUNNING)), None)
        finished = next((raw for raw in scans if is_terminal(strategy.status(raw))), None)
        if running is not None:
            target["scan_in_progress"] = self.summary(running)
        if finished is not None:
            counts, total = counts_of(finished) if counts_of else (None, None)
            target["latest_scan"] = self.summary(finished, counts, total)

    def summary(self, raw, counts=None, finding_count=None):
        scan = self.adapter.normalize_scan(raw)
        finished = None
        if is_terminal(scan["status"]):
            finished = _epoch(scan["completed_at"])
            started = _epoch(scan["started_at"])
            if finished is None and started is not None and scan["duration_seconds"] is not None:
                # HarborGuard and Penaxtra say when a scan started and how long it took.
                finished = started + scan["duration_seconds"]
            if finished is None:
                finished = self.strategy.finished_epoch(raw)
        return {"id": scan["id"], "status": scan["status"], "vendor_status": scan["vendor_status"],
                "created_at": scan["created_at"], "completed_at": scan["completed_at"],
                "finished_at": iso(finished) if finished is not None else None,
                "counts": counts if scan["status"] == COMPLETED else None,
                "finding_count": finding_count if scan["status"] == COMPLETED else None, "url": scan["url"]}


def _epoch(value):
    parsed = parse_timestamp(value)
    return parsed.timestamp() if parsed is not None else None


def _newest_first(strategy, scans):
    # Stable: scans the vendor lists with equal (or no) times keep the vendor's order.
    return sorted(scans, key=lambda raw: strategy.created_epoch(raw) or 0.0, reverse=True)


class CloudGeniTargets(TargetLister):
    def discover(self):
        targets = []
        for repo in self.adapter.list_repositories():
            options = dict(self.scan_options(), repository=repo["id"])
            targets.append(record(self.provider, repo.get("fullName") or repo.get("name") or repo["id"], options,
                                  labels={"git_provider": repo.get("provider")}, vendor=repo))
        return targets

    def read_latest(self, index, target):
        scans = self.adapter.list_scans(target["options"]["repository"], branch=self.params.get("branch"),
                                        newest=RECENT_SCANS["cloudgeni"])
        if self.params.get("scan_type"):
            scans = [raw for raw in scans if (raw.get("type") or "static") == self.params["scan_type"]]

        def counts_of(raw):
            summary = raw.get("summary") if isinstance(raw.get("summary"), dict) else None
            if summary is None:
                return None, None
            counts = self.adapter.normalize_scan(raw, counts=summary)["counts"]
            total = summary.get("total")
            return counts, total if isinstance(total, int) else sum(counts.values())

        self.summarize(target, _newest_first(self.strategy, scans), counts_of)


class KolegaTargets(TargetLister):
    def discover(self):
        targets = []
        for repo in self.adapter.list_repositories():
            options = dict(self.scan_options(), repository=repo["id"])
            targets.append(record(self.provider, repo.get("name") or repo["id"], options, vendor=repo))
        return targets

    def read_latest(self, index, target):
        batches = self.adapter.list_scans(target["options"]["repository"], scan_type=self.params.get("scan_type"),
                                          newest=RECENT_SCANS["kolega"])
        # Batches carry no severity counts: the findings are another request per target.
        self.summarize(target, _newest_first(self.strategy, batches))


class HarborGuardTargets(TargetLister):
    """Images are not listed by HarborGuard: the scan list is, and each tag is one image."""

    def discover(self):
        by_tag = {}
        order = []
        for raw in self.adapter.list_scans(sort="scannedAt:desc"):
            key = raw.get("tagId") or ("scan", raw.get("id"))
            if key not in by_tag:
                by_tag[key] = []
                order.append(key)
            by_tag[key].append(raw)
        targets = []
        for index, key in enumerate(order):
            self.listed_scans[index] = _newest_first(self.strategy, by_tag[key])
            targets.append(record(self.provider, None, {}, vendor={"tagId": key if isinstance(key, str) else None}))
        return targets

    def read_latest(self, index, target):
        scans = self.listed_scans[index]
        strategy = self.strategy
        finished = next((raw for raw in scans if is_terminal(strategy.status(raw))), None)
        # One body per tag: the newest finished scan's (its image and vulnerabilities), else the newest scan's image.
        body = self.adapter.get_scan(strategy.scan_id(finished or scans[0])) or {}
        image = body.get("image") if isinstance(body.get("image"), dict) else {}
        name = image.get("name") or "unknown"
        reference = "%s:%s" % (name, image["tag"]) if image.get("tag") else name
        target["name"] = reference
        target["options"] = {"image": reference}
        target["vendor"] = dict(target["vendor"], image=image)
        try:
            parsed = normalize_image(reference)
            target["labels"] = {"registry": parsed["registry"], "repository": parsed["repository"], "tag": parsed["tag"]}
        except ScanopsError:
            parsed = None
        target["identity"] = image_text(parsed) if parsed else reference
        if finished is not None:
            # The body stands in for its list item: same scan, with the vulnerabilities to count.
            read = strategy.scan_id(body)
            scans = [body if strategy.scan_id(raw) == read else raw for raw in scans]

        def counts_of(raw):
            vulns = raw.get("vulnerabilities")
            if not isinstance(vulns, list):
                return None, None
            return self.adapter.count_severities(vulns), len(vulns)

        self.summarize(target, scans, counts_of)

    def configured(self, targets):
        known = set(target.get("identity") for target in targets)
        added = []
        for position, reference in enumerate(self.params.get("targets") or []):
            try:
                identity = image_text(normalize_image(reference))
            except ScanopsError as err:
                raise ScanopsError("targets[%d]: %s" % (position, err.message))
            if identity in known:
                continue
            known.add(identity)
            parsed = normalize_image(reference)
            labels = {"registry": parsed["registry"], "repository": parsed["repository"], "tag": parsed["tag"]}
            added.append(dict(record(self.provider, reference, {"image": reference}, labels=labels), identity=identity))
        return added


class PenaxtraTargets(TargetLister):
    """Integrations are not listed by Penaxtra: its newest 100 runs are, each naming its integration."""

    def discover(self):
        by_integration = {}
        order = []
        for raw in self.adapter.list_runs():
            integration = str(raw.get("integration_id") or "").lower()
            # "verify" runs are configuration probes that keep no findings: not a scan of the account.
            if not integration or raw.get("trigger") == "verify":
                continue
            if integration not in by_integration:
                by_integration[integration] = []
                order.append(integration)
            by_integration[integration].append(raw)
        targets = []
        for integration in order:
            runs = by_integration[integration]
            target = record(self.provider, integration, {"integration_id": integration},
                            vendor={"asset_count": runs[0].get("asset_count")})

            def counts_of(raw):
                total = raw.get("finding_count")
                return None, total if isinstance(total, int) else None

            self.summarize(target, _newest_first(self.strategy, runs), counts_of)
            targets.append(target)
        return targets

    def needs_read(self, index, target):
        return False

    def configured(self, targets):
        known = set(target["name"] for target in targets)
        added = []
        for position, integration in enumerate(self.params.get("targets") or []):
            if not _UUID.match(integration or ""):
                raise ScanopsError("targets[%d]: '%s' is not a Penaxtra integration id (a UUID)" % (position, integration))
            integration = integration.lower()
            if integration not in known:
                known.add(integration)
                added.append(record(self.provider, integration, {"integration_id": integration}))
        return added


class AgileSecTargets(TargetLister):
    def discover(self):
        targets = []
        for sensor in self.adapter.list_sensors():
            labels = {}
            for label in sensor.get("labels") or []:
                if isinstance(label, dict):
                    labels.update(label)
            vendor = dict((key, value) for key, value in sensor.items() if key not in _SENSOR_PRIVATE)
            targets.append(record(self.provider, sensor.get("sensorName") or sensor["sensorId"],
                                  {"sensor": sensor["sensorId"]}, labels=labels, vendor=vendor))
        return targets

    def needs_read(self, index, target):
        return bool(target["vendor"].get("lastExecutionId"))

    def read_latest(self, index, target):
        execution = self.adapter.get_execution(target["vendor"]["lastExecutionId"])
        self.summarize(target, [execution] if isinstance(execution, dict) else [])


LISTERS = {
    "cloudgeni": CloudGeniTargets,
    "kolega": KolegaTargets,
    "harborguard": HarborGuardTargets,
    "penaxtra": PenaxtraTargets,
    "agilesec": AgileSecTargets,
}


def list_targets(adapter, params, concurrency=DEFAULT_CONCURRENCY):
    """Every target of the adapter's platform with its latest scans (see the module docstring).

    ``params`` are the platform's options (``platform_spec``: ``targets``, ``scan_type``,
    ``branch``). Raises ScanFailure naming the step and the target when a request fails.
    """
    if not 1 <= int(concurrency) <= MAX_CONCURRENCY:
        raise ScanopsError("concurrency must be between 1 and %d (got %s)" % (MAX_CONCURRENCY, concurrency))
    lister = LISTERS[adapter.NAME](adapter, params)
    lister.validate()
    try:
        targets = lister.discover()
    except ScanopsError as err:
        raise ScanFailure(err, "List the targets of", adapter.DISPLAY_NAME)

    def read(index):
        target = targets[index]
        try:
            lister.read_latest(index, target)
        except ScanopsError as err:
            raise ScanFailure(err, "Read the latest scan of", "%s %s" % (
                TARGET_OPTION[adapter.NAME], target["name"] or target["vendor"].get("tagId")))

    pending = [index for index, target in enumerate(targets) if lister.needs_read(index, target)]
    if pending:
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(int(concurrency), len(pending))) as pool:
            for future in [pool.submit(read, index) for index in pending]:
                future.result()
    targets.extend(lister.configured(targets))
    for target in targets:
        target.pop("identity", None)
    return targets


# -- what the inventory shows -----------------------------------------------------------------------
def scan_age(scan, now):
    """Seconds since ``scan`` (a ``latest_scan`` record) finished, or None."""
    finished = parse_timestamp((scan or {}).get("finished_at"))
    return None if finished is None else max(0, int(now - finished.timestamp()))


def state_groups(target, stale_after, now):
    """The state groups of a target record (``scanops_`` names without the prefix)."""
    groups = []
    latest = target.get("latest_scan")
    if target.get("scan_in_progress"):
        groups.append("scanning")
    if latest is None:
        groups.append("never_scanned")
        return groups
    if latest["status"] != COMPLETED:
        groups.append("failed")
    elif (latest.get("counts") or {}).get("critical"):
        groups.append("critical")
    age = scan_age(latest, now)
    if stale_after is not None and age is not None and age > stale_after:
        groups.append("stale")
    return groups


def matches_filters(target, include=None, exclude=None, labels=None):
    """True when the target's name matches one ``include`` pattern (when given), no ``exclude`` pattern,
    and its labels have every ``labels`` key with that value (or one of a list of values)."""
    name = target.get("name") or ""
    if include and not any(fnmatch.fnmatchcase(name, pattern) for pattern in include):
        return False
    if exclude and any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude):
        return False
    have = target.get("labels") or {}
    for key, wanted in (labels or {}).items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if key not in have or str(have[key]) not in [str(value) for value in values]:
            return False
    return True
