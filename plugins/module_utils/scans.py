# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-state logic of ``scan_run`` and ``scan_info``.

``run_scan`` makes "a finished scan of this target exists and passes this gate" true with as few
requests as possible: adopt a scan of the target that is already queued or running, reuse a
completed one younger than ``max_age``, otherwise trigger one (never twice after a lost answer),
wait for it with polite polling, then judge it with ``gate.evaluate_gate``.

Everything vendor-specific about *scans* (how a target is named and resolved, which scans count as
"the same target", how a new scan is found, what to poll, where the counts are) lives in one
strategy class per provider below; the endpoint calls themselves stay in the adapters.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import concurrent.futures
import contextlib
import copy
import datetime
import re
import threading
import time

from ansible_collections.scanops.security.plugins.module_utils.callbacks import is_object_id
from ansible_collections.scanops.security.plugins.module_utils.client import origin_of, usable_wait
from ansible_collections.scanops.security.plugins.module_utils.common import RunRecord, build_adapter, fail_with_error
from ansible_collections.scanops.security.plugins.module_utils.controller_lock import (
    ControllerLockTimeout,
    ControllerLockUnavailable,
    controller_lock,
)
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.gate import bounded_findings, evaluate_gate, validate_policy
from ansible_collections.scanops.security.plugins.module_utils.polling import DEFAULT_WAIT_TIMEOUT, poll_until
from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import in_search_scope, search_query
from ansible_collections.scanops.security.plugins.module_utils.providers.base import parse_timestamp
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import AssumedCallError
from ansible_collections.scanops.security.plugins.module_utils.providers.penaxtra import RUNS_CAP
from ansible_collections.scanops.security.plugins.module_utils.reports import write_reports
from ansible_collections.scanops.security.plugins.module_utils.validation import OptionError, check_choice
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import (
    COMPLETED,
    QUEUED,
    RUNNING,
    SCAN_STATUSES,
    SEVERITIES,
    is_terminal,
)

CLOUDGENI_SCAN_TYPES = ("static", "full")
KOLEGA_SCAN_TYPES = ("secrets_scan", "semgrep_scan", "deep_ai_scan", "sbom_scan")
SCAN_TYPES = CLOUDGENI_SCAN_TYPES + KOLEGA_SCAN_TYPES
HARBORGUARD_SCANNERS = ("trivy", "grype", "syft", "dive", "dockle", "osv")
ON_TIMEOUT = ("fail", "warn")
ON_CONFLICT = ("wait", "fail")
# Every option that names a scan target (top level in single mode, per entry of ``targets`` in bulk mode).
TARGET_OPTIONS = ("repository", "branch", "commit", "scan_type", "sensor", "image", "scanners", "integration_id")
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32

# Server and controller clocks differ; a scan created this long before our trigger may still be ours.
CLOCK_SKEW = 300.0
DEFAULT_FINDINGS_LIMIT = 500
# scan_run's result keys before the run reaches them, and in a result that failed first (ScanopsModule's failure_defaults).
SCAN_RUN_NOT_REACHED = {"reused": False, "timed_out": False, "scan": None, "gate": None, "reports": []}
# How long a run waits (at least; its wait_timeout when longer) for another run on this controller that
# is starting a scan of the same target.
TARGET_LOCK_TIMEOUT = 600.0

_AGE_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)", re.IGNORECASE)
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def scan_target_spec():
    """The options that name a scan target, shared by scan_run and scan_info.

    Documented in the ``scanops.security.scans`` fragment; HarborGuard ``scanners`` belong to
    scan_run alone (they choose how to scan, not which scans to list).
    """
    return dict(
        repository=dict(type="str"),
        branch=dict(type="str"),
        commit=dict(type="str"),
        scan_type=dict(type="str", choices=list(SCAN_TYPES)),
        sensor=dict(type="str"),
        image=dict(type="str"),
        integration_id=dict(type="str"),
    )


def bulk_target_spec():
    """The suboptions of scan_run's ``targets``: the target options plus a ``name`` label."""
    spec = scan_target_spec()
    spec.update(
        scanners=dict(type="list", elements="str", choices=list(HARBORGUARD_SCANNERS)),
        name=dict(type="str"),
    )
    return spec


class ScanFailure(Exception):
    """A step failed: ``error`` (a ScanopsError) happened while doing ``action`` to ``resource``.

    ``result`` holds what is known so far (scan id and status, api_calls...) for the module to
    return alongside the message.
    """

    def __init__(self, error, action, resource=None, result=None):
        super(ScanFailure, self).__init__(error.message)
        self.error = error
        self.action = action
        self.resource = resource
        self.result = result or {}

    @property
    def msg(self):
        return self.error.describe(self.action, self.resource)


class _Step(object):
    """``with _Step("Trigger scan", target):`` turns a ScanopsError into a ScanFailure with context."""

    def __init__(self, action, resource=None, result=None):
        self.action = action
        self.resource = resource
        self.result = result

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, ScanopsError):
            raise ScanFailure(exc, self.action, self.resource, self.result)
        return False


def bad_option(message):
    """A ScanFailure for invalid input, raised before any request."""
    return ScanFailure(ScanopsError(message), "Invalid options")


# -- small parsers ------------------------------------------------------------------------------
def parse_max_age(value):
    """Seconds from ``max_age``: a number of seconds, or ``30m``, ``2h``, ``1d``, ``1h30m``, ``1w``.

    Returns None for None/empty. Raises ScanopsError naming the option otherwise.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ScanopsError("max_age: expected seconds or a duration such as 30m, 2h, 1d; got %r" % (value,))
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().replace(" ", "")
        pos = 0
        seconds = 0.0
        for match in _AGE_PART.finditer(text):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]
            pos = match.end()
        if pos != len(text) or not text:
            raise ScanopsError("max_age: expected seconds or a duration such as 30m, 2h, 1d or 1h30m; got %r" % (value,))
    if seconds < 0:
        raise ScanopsError("max_age: must not be negative (got %r)" % (value,))
    return seconds


DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


def normalize_image(reference):
    """An image reference in full, by Docker's rules: ``{registry, repository, tag, digest}``.

    The first path component is a registry when it has a ``.`` or a ``:`` (a port) or is
    ``localhost``; otherwise the registry is ``docker.io``, where a one-component repository lives
    under ``library/``. Without a digest the tag defaults to ``latest``; with a digest the digest
    alone names the image (a tag given beside it is kept but not compared). Raises ScanopsError
    for a reference that names no repository, an empty tag or a malformed digest.
    """
    text = str(reference or "").strip()
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST.match(digest):
            raise ScanopsError("image '%s': the digest must look like sha256:<hex>" % reference)
        digest = digest.lower()
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1:]
        if not tag:
            raise ScanopsError("image '%s': the tag after ':' is empty" % reference)
    parts = text.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, path = parts[0].lower(), parts[1:]
    else:
        registry, path = DOCKER_HUB, parts
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if len(path) == 1:
            path = ["library"] + path
    if not path or not all(path):
        raise ScanopsError("image '%s' names no repository" % reference)
    if tag is None and digest is None:
        tag = "latest"
    return {"registry": registry, "repository": "/".join(path), "tag": tag, "digest": digest}


def image_text(image):
    """``registry/repository:tag`` or ``registry/repository@digest`` of a ``normalize_image`` result."""
    name = "%s/%s" % (image["registry"], image["repository"])
    return "%s@%s" % (name, image["digest"]) if image["digest"] else "%s:%s" % (name, image["tag"])


def iso(epoch):
    """UTC ISO-8601 (seconds) of an epoch."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(value):
    parsed = parse_timestamp(value)
    return parsed.timestamp() if parsed is not None else None


# -- per-provider strategies ------------------------------------------------------------------------
class ScanStrategy(object):
    """How scans of one provider are targeted, found, started, polled and counted.

    Subclasses set ``self.label`` (a human name of the target) in ``resolve``.
    """

    # Default seconds between two polls; the vendor's guidance where it gives one.
    DEFAULT_SLEEP = 5.0
    # Options that make sense for this provider (others given are an error).
    TARGET_OPTIONS = ()
    REQUIRED = ()
    # True when the trigger answer names the new scan.
    TRIGGER_RETURNS_SCAN = True

    def __init__(self, adapter, params, option_prefix=""):
        self.adapter = adapter
        self.params = params
        self.label = None
        # "targets[2]." in bulk mode, so a validation error names the entry at fault.
        self.option_prefix = option_prefix

    def opt(self, name):
        """The option ``name`` as the user wrote it (``targets[<i>].<name>`` in bulk mode)."""
        return self.option_prefix + name

    # validation (no requests) ---------------------------------------------------------------
    def validate(self, for_info=False):
        for name in () if for_info else self.REQUIRED:
            if not self.params.get(name):
                raise bad_option("%s needs the %s option" % (self.adapter.DISPLAY_NAME, self.opt(name)))
        allowed = set(self.TARGET_OPTIONS)
        for name in TARGET_OPTIONS:
            if self.params.get(name) and name not in allowed:
                raise bad_option("%s is not an option for %s scans (use %s)"
                                 % (self.opt(name), self.adapter.DISPLAY_NAME, ", ".join(self.TARGET_OPTIONS)))

    # helpers ---------------------------------------------------------------------------------
    def status(self, raw):
        return self.adapter.scan_status(self.vendor_status(raw))

    def vendor_status(self, raw):
        return raw.get("status") if isinstance(raw, dict) else None

    def scan_id(self, raw):
        return self.adapter.normalize_scan(raw)["id"] if raw else None

    def created_epoch(self, raw):
        scan = self.adapter.normalize_scan(raw)
        return _epoch(scan["created_at"]) or _epoch(scan["started_at"])

    def finished_epoch(self, raw):
        scan = self.adapter.normalize_scan(raw)
        return _epoch(scan["completed_at"]) or _epoch(scan["started_at"]) or _epoch(scan["created_at"])

    def poll_interval(self, wait_sleep=None):
        return float(wait_sleep) if wait_sleep is not None else self.DEFAULT_SLEEP

    # identity (after resolve) ----------------------------------------------------------------
    def identity(self):
        """The resolved target: a tuple ``(provider, ...)`` equal for two targets exactly when they are the same.

        Duplicate targets, serialization, adoption and reuse compare identities, never the option
        strings (``repo_abc123`` and ``myorg/infrastructure`` are one repository). Valid after
        ``resolve``.
        """
        raise NotImplementedError

    def describe_identity(self):
        """The identity in words, for messages."""
        raise NotImplementedError

    def exclusive_key(self):
        """Targets with the same key must not be scanned at the same time (bulk mode runs them one after another).

        Valid after ``resolve``, like ``identity``.
        """
        return None

    def category(self):
        """The target's code scanning category in SARIF reports: ``scanops/<provider>/<identity>``, the same in every run."""
        identity = self.identity()
        return "scanops/%s/%s" % (identity[0], "/".join(str(part) for part in identity[1:] if part is not None))

    # to implement -------------------------------------------------------------------------------
    def resolve(self):
        """Resolve the target (names to ids); sets ``self.label``."""
        raise NotImplementedError

    def history(self):
        """Raw scans of exactly this target, newest first."""
        raise NotImplementedError

    def history_before_trigger(self, warn):
        """``history()`` for the adopt-or-reuse decision; a strategy may go on without it (``warn`` says why)."""
        return self.history()

    def trigger(self):
        """Start a scan; the raw scan, or None when the vendor does not say which one."""
        raise NotImplementedError

    def conflict_scan(self, err):
        """The raw scan a refused trigger names as the one in the way (CloudGeni 409), or None."""
        return None

    def started_after(self, scans, baseline, since):
        """Scans (newest first) that a trigger sent at ``since`` may have started: not in ``baseline``, created since."""
        found = []
        for raw in scans:
            scan_id = self.scan_id(raw)
            if scan_id is None or scan_id in baseline:
                continue
            created = self.created_epoch(raw)
            if created is None or created >= since:
                found.append(raw)
        return found

    def matches(self, raw):
        """True when a raw scan is a scan of exactly this target (``history`` returns only those)."""
        return True

    def describe_scan(self, raw):
        """``scan <id> (<what it scans>, <status>)`` for messages about a scan that may not be ours."""
        return "scan %s (%s)" % (self.scan_id(raw), self.vendor_status(raw))

    def refresh(self, raw):
        """The scan's current state (one poll)."""
        raise NotImplementedError

    def complete(self, raw):
        """The full scan body once it has finished (default: what the last poll answered)."""
        return raw

    def counts(self, raw, need_findings=False):
        """``(counts, findings, source)`` of a finished scan: what the gate counts, and how it was obtained.

        The verdict may not depend on what is returned or reported, so every provider counts the
        same set whatever ``need_findings`` says: the scan's findings with their vendor status
        (``source`` ``findings``), triaged ones left out by the gate. A vendor total is used only
        where it cannot differ from that (``summary``: no findings at all); ``none`` when the
        vendor gives neither (``counts`` None, the gate sees zeros). ``findings`` are the raw
        vendor findings counted, or None.
        """
        raise NotImplementedError

    def findings(self, raw):
        """Every raw finding of a finished scan (None when the vendor offers no findings API)."""
        raise NotImplementedError

    def findings_unavailable(self):
        """True when the provider's scans come with no findings at all (AgileSec without search credentials)."""
        return False

    def no_findings_reason(self):
        """Why ``counts``/``findings`` give nothing, for the warning or error that says so."""
        return "%s offers no findings through its scan API" % self.adapter.DISPLAY_NAME

    def get(self, scan_id):
        """One scan by id (``scan_info``)."""
        raise NotImplementedError

    def list(self, status=None, sort=None):
        """Scans of the target for ``scan_info`` with the vendor's filters, newest first."""
        return self.history()


def _summary_total(summary):
    """Findings a vendor summary counts in all (its ``total``, else the sum of its severities)."""
    total = summary.get("total")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    return sum(v for k, v in summary.items() if k in SEVERITIES and isinstance(v, int) and not isinstance(v, bool))


def _pick(candidates, value, keys, what, option):
    """The one candidate whose ``keys`` equal ``value`` (first key wins); fail on none or several."""
    for key in keys:
        hits = [c for c in candidates if str(c.get(key) or "") == value]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            listed = ", ".join("%s (%s)" % (h.get("id"), h.get("fullName") or h.get("name")) for h in hits)
            raise ScanopsError("%s '%s' is ambiguous: it matches %d %s entries: %s; give the id instead"
                               % (option, value, len(hits), what, listed))
    raise ScanopsError("no %s matches %s '%s'" % (what, option, value))


class CloudGeniScans(ScanStrategy):
    """CloudGeni: repository (id, full name or unique name), branch, commit and type."""

    TARGET_OPTIONS = ("repository", "branch", "commit", "scan_type")
    REQUIRED = ("repository",)
    DEFAULT_SLEEP = 5.0

    def validate(self, for_info=False):
        super(CloudGeniScans, self).validate(for_info)
        scan_type = self.params.get("scan_type")
        if scan_type and scan_type not in CLOUDGENI_SCAN_TYPES:
            raise bad_option("%s '%s' is not a CloudGeni scan type; use one of: %s"
                             % (self.opt("scan_type"), scan_type, ", ".join(CLOUDGENI_SCAN_TYPES)))
        commit = self.params.get("commit")
        if commit and not re.match(r"^[0-9a-fA-F]{7,40}$", commit):
            raise bad_option("%s '%s' is not a commit SHA (7 to 40 hexadecimal characters)" % (self.opt("commit"), commit))

    def identity(self):
        commit = (self.params.get("commit") or "").lower() or None
        return ("cloudgeni", self.repo["id"], self.branch, self.scan_type, commit)

    def describe_identity(self):
        words = "repository %s, branch %s, type %s" % (self.repo["id"], self.branch or "(default)", self.scan_type)
        commit = self.params.get("commit")
        return words + (", commit %s" % commit.lower() if commit else "")

    def exclusive_key(self):
        # CloudGeni refuses a second scan of a repository while one runs (409) and names the running one,
        # which may be of another branch or type: never run two targets of one repository at once.
        return ("cloudgeni", self.repo["id"])

    def resolve(self):
        wanted = self.params["repository"]
        repos = self.adapter.list_repositories()
        self.repo = _pick(repos, wanted, ("id", "fullName", "name"), "repository", "repository")
        self.branch = self.params.get("branch") or self.repo.get("defaultBranch")
        self.scan_type = self.params.get("scan_type") or "static"
        self.label = "%s (%s)" % (self.repo.get("fullName") or self.repo["id"], self.branch or "default branch")

    def matches(self, raw):
        if raw.get("repositoryId") not in (None, self.repo["id"]):
            return False
        if self.branch and raw.get("branch") not in (None, self.branch):
            return False
        if (raw.get("type") or "static") != self.scan_type:
            return False
        commit = (self.params.get("commit") or "").lower()
        have = str(raw.get("commit") or "").lower()
        if commit and not (have.startswith(commit) or (have and commit.startswith(have))):
            return False
        return True

    def history(self):
        return [s for s in self.adapter.list_scans(self.repo["id"], branch=self.branch) if self.matches(s)]

    def list(self, status=None, sort=None):
        scans = self.adapter.list_scans(self.repo["id"], status=status, branch=self.params.get("branch"))
        wanted_type = self.params.get("scan_type")
        commit = (self.params.get("commit") or "").lower()
        return [s for s in scans
                if not wanted_type or (s.get("type") or "static") == wanted_type
                if not commit or str(s.get("commit") or "").lower().startswith(commit)]

    def trigger(self):
        return self.adapter.trigger_scan(self.repo["id"], branch=self.params.get("branch"),
                                         commit=self.params.get("commit"), scan_type=self.params.get("scan_type"))

    def conflict_scan(self, err):
        # The 409 is per repository: the scan it names may be of another branch, type or commit.
        if isinstance(err, ScanopsApiError) and err.status == 409:
            existing = (err.details or {}).get("existingScanId")
            if existing:
                return self.adapter.get_scan(self.repo["id"], existing)
        return None

    def describe_scan(self, raw):
        return "scan %s (branch %s, type %s, commit %s, %s)" % (
            raw.get("id"), raw.get("branch"), raw.get("type") or "static", raw.get("commit"), raw.get("status"))

    def refresh(self, raw):
        return self.adapter.get_scan(self.repo["id"], raw["id"])

    def get(self, scan_id):
        return self.adapter.get_scan(self.repo["id"], scan_id)

    def counts(self, raw, need_findings=False):
        # The summary counts every finding, those marked suppressed or resolved too: it can stand in for the
        # findings only when it says there are none.
        summary = raw.get("summary")
        if not need_findings and isinstance(summary, dict) and _summary_total(summary) == 0:
            return summary, None, "summary"
        findings = self.findings(raw)
        return self.adapter.count_severities(findings), findings, "findings"

    def findings(self, raw):
        return self.adapter.list_findings(self.repo["id"], raw["id"])


class KolegaScans(ScanStrategy):
    """Kolega: repository (id or name) and scan_type; the batch ``/progress`` is polled."""

    TARGET_OPTIONS = ("repository", "scan_type")
    REQUIRED = ("repository",)
    DEFAULT_SLEEP = 5.0

    def validate(self, for_info=False):
        super(KolegaScans, self).validate(for_info)
        scan_type = self.params.get("scan_type")
        if not for_info and not scan_type:
            raise bad_option("Kolega DevSec needs the %s option (%s)" % (self.opt("scan_type"), ", ".join(KOLEGA_SCAN_TYPES)))
        if scan_type and scan_type not in KOLEGA_SCAN_TYPES:
            raise bad_option("%s '%s' is not a Kolega scan type; use one of: %s"
                             % (self.opt("scan_type"), scan_type, ", ".join(KOLEGA_SCAN_TYPES)))

    def resolve(self):
        wanted = self.params["repository"]
        repos = self.adapter.list_repositories(include_archived=True)
        self.repo = _pick(repos, wanted, ("id", "name"), "repository", "repository")
        self.scan_type = self.params.get("scan_type")
        self.label = "%s (%s)" % (self.repo.get("name") or self.repo["id"], self.scan_type or "any scan type")

    def identity(self):
        return ("kolega", self.repo["id"], self.scan_type)

    def describe_identity(self):
        return "repository %s, scan type %s" % (self.repo["id"], self.scan_type)

    def history(self):
        return self.adapter.list_scans(self.repo["id"], scan_type=self.scan_type)

    def list(self, status=None, sort=None):
        if status and status.lower() in SCAN_STATUSES:
            # One normalized word may be several Kolega words: filter here.
            return [s for s in self.history() if self.status(s) == status.lower()]
        return self.adapter.list_scans(self.repo["id"], scan_type=self.scan_type, status=status)

    def trigger(self):
        return self.adapter.trigger_scan(self.repo["id"], self.scan_type)

    def refresh(self, raw):
        progress = self.adapter.get_scan_progress(self.repo["id"], self.scan_id(raw))
        merged = dict(raw)
        merged.update(progress or {})
        return merged

    def get(self, scan_id):
        return self.adapter.get_scan(self.repo["id"], scan_id)

    def counts(self, raw, need_findings=False):
        findings = self.findings(raw)
        return self.adapter.count_severities(findings), findings, "findings"

    def findings(self, raw):
        # The findings of the batch as finding_info and finding_status see them: their API id and their status
        # (the batch results carry only summaries keyed by a fingerprint, without a status).
        return self.adapter.list_findings(self.repo["id"], scan_batch_id=self.scan_id(raw), scan_type=self.scan_type)


class AgileSecScans(ScanStrategy):
    """AgileSec: an existing sensor (id or name) run with ``/v3/scan/execute``.

    A sensor id (24 hex characters, the assumed shape) goes straight to the documented
    ``/v3/scan/execute`` and ``/v3/scan/{executionId}``; only a name needs the assumed sensor
    list. There is no execution list: the sensor's ``lastExecutionId`` (assumed sensor object) is
    the only earlier execution the module can see, and a platform without it still runs and polls
    the sensor, adopting or reusing nothing. Executions carry no counts: the findings are the
    Search API documents of the sensor and execution, read when search credentials are given.
    """

    TARGET_OPTIONS = ("sensor",)
    REQUIRED = ("sensor",)
    DEFAULT_SLEEP = 5.0

    def resolve(self):
        wanted = self.params["sensor"]
        # A sensorId is a 24-hex ObjectId like the documented callbackId (docs/assumptions.md, Sensor ids).
        if is_object_id(wanted):
            self.sensor = {"sensorId": wanted}
            self.label = "sensor %s" % wanted
            return
        named = [s for s in self.adapter.list_sensors(name=wanted) if s.get("sensorName") == wanted]
        if len(named) > 1:
            raise ScanopsError("sensor '%s' is ambiguous: it matches %d sensors: %s; give the sensor id instead"
                               % (wanted, len(named), ", ".join(str(s.get("sensorId")) for s in named)))
        if named:
            self.sensor = named[0]
        else:
            try:
                self.sensor = self.adapter.get_sensor(wanted)
            except ScanopsApiError as err:
                if err.status == 404 and not isinstance(err, AssumedCallError):
                    raise ScanopsError("no sensor has the id or name '%s'" % wanted)
                raise
        self.label = "sensor %s" % (self.sensor.get("sensorName") or self.sensor.get("sensorId"))

    def identity(self):
        return ("agilesec", self.sensor["sensorId"])

    def describe_identity(self):
        return "sensor %s" % self.sensor["sensorId"]

    def history(self):
        sensor = self.adapter.get_sensor(self.sensor["sensorId"])
        self.sensor = sensor or self.sensor
        last = self.sensor.get("lastExecutionId")
        if not last:
            return []
        return [self.adapter.get_execution(last)]

    def history_before_trigger(self, warn):
        # Adopting or reusing an execution needs the assumed sensor object; running one does not.
        try:
            return self.history()
        except AssumedCallError as err:
            warn("%s; without it no earlier execution of %s can be seen, so none is adopted or reused"
                 % (err.message, self.label))
            return []

    def trigger(self):
        answer = self.adapter.execute_sensor(self.sensor["sensorId"])
        if not isinstance(answer, dict) or not answer.get("executionId"):
            raise ScanopsError("the execute answer carries no executionId: %s" % (answer or {}).get("message"))
        # The submission answer's "successful" means accepted, not finished: read the execution itself.
        return self.adapter.get_execution(answer["executionId"])

    def refresh(self, raw):
        return self.adapter.get_execution(raw["executionId"])

    def get(self, scan_id):
        execution = self.adapter.get_execution(scan_id)
        sensor_id = (getattr(self, "sensor", None) or {}).get("sensorId")
        if sensor_id and isinstance(execution, dict) and execution.get("sensorId") not in (None, sensor_id):
            raise ScanopsError("execution %s is one of sensor %s, not of %s" % (scan_id, execution.get("sensorId"), self.label))
        return execution

    def counts(self, raw, need_findings=False):
        if not self.adapter.search_configured():
            return None, None, "none"
        sensor_id = (raw.get("sensorId") if isinstance(raw, dict) else None) or self.sensor["sensorId"]
        execution_id = self.scan_id(raw)
        # The scope is checked again on every hit, as finding_info does.
        hits = [hit for hit in self.adapter.iter_search(search_query(sensor_id=sensor_id, execution_id=execution_id))
                if in_search_scope(hit, sensor_id=sensor_id, execution_id=execution_id)]
        return self.adapter.count_severities(hits), hits, "findings"

    def findings_unavailable(self):
        return not self.adapter.search_configured()

    def findings(self, raw):
        return self.counts(raw, True)[1]

    def no_findings_reason(self):
        return ("Keyfactor AgileSec findings are read through its Search API, which needs search_username and search_password "
                "(or %s and %s)" % (self.adapter.SEARCH_USERNAME_ENV[0], self.adapter.SEARCH_PASSWORD_ENV[0]))


class HarborGuardScans(ScanStrategy):
    """HarborGuard: an image reference (and scanners); the light ``/status`` call is polled."""

    TARGET_OPTIONS = ("image", "scanners")
    REQUIRED = ("image",)
    DEFAULT_SLEEP = 5.0

    def validate(self, for_info=False):
        super(HarborGuardScans, self).validate(for_info)
        unknown = [s for s in (self.params.get("scanners") or []) if s not in HARBORGUARD_SCANNERS]
        if unknown:
            raise bad_option("%s: unknown scanner(s) %s; use %s"
                             % (self.opt("scanners"), ", ".join(unknown), ", ".join(HARBORGUARD_SCANNERS)))
        if self.params.get("image"):
            try:
                normalize_image(self.params["image"])
            except ScanopsError as err:
                raise bad_option("%s: %s" % (self.opt("image"), err.message))

    def __init__(self, adapter, params, option_prefix=""):
        super(HarborGuardScans, self).__init__(adapter, params, option_prefix)
        # Scan list items carry no image: what a scan is of comes from its full body, read once per tag.
        self._images = {}
        self._bodies = {}

    def resolve(self):
        self.reference = normalize_image(self.params["image"])
        self.label = "image %s" % self.params["image"]

    def identity(self):
        ref = self.reference
        return ("harborguard", ref["registry"], ref["repository"], "@" + ref["digest"] if ref["digest"] else ":" + ref["tag"])

    def describe_identity(self):
        return "image %s" % image_text(self.reference)

    def category(self):
        return "scanops/harborguard/%s" % image_text(self.reference)

    def search_term(self):
        """What ``GET /api/scans?search=`` is sent: the digest, else ``<repository>:<tag>`` (Docker Hub without its registry).

        The search is a substring match (ASSUMED), so it narrows the list; ``matches`` decides.
        """
        ref = self.reference
        if ref["digest"]:
            return ref["digest"]
        name = "%s/%s" % (ref["registry"], ref["repository"])
        if ref["registry"] == DOCKER_HUB:
            name = ref["repository"][len("library/"):] if ref["repository"].startswith("library/") else ref["repository"]
        return "%s:%s" % (name, ref["tag"])

    def image_of(self, raw):
        """The scanned image of a raw scan as ``normalize_image`` gives it, or None when it cannot be told.

        List items carry only a ``tagId``; the image is then read from the scan's full body, once per
        tag (ASSUMED: scans with one ``tagId`` are of one image name and tag) or, for a digest target,
        once per scan, since a tag can move to another digest.
        """
        image = raw.get("image")
        if image is None:
            scan_id = self.scan_id(raw)
            key = ("tag", raw["tagId"]) if raw.get("tagId") and not self.reference["digest"] else ("scan", scan_id)
            if key not in self._images:
                body = self.adapter.get_scan(scan_id) or {}
                self._bodies[scan_id] = body
                self._images[key] = body.get("image")
            image = self._images[key]
        try:
            if isinstance(image, dict) and image.get("name"):
                found = normalize_image(image["name"])
                tag, digest = image.get("tag"), image.get("digest")
                if tag or digest:
                    found["tag"], found["digest"] = tag or None, str(digest).lower() if digest else None
                return found
            if isinstance(image, str):
                return normalize_image(image)
        except ScanopsError:
            pass
        return None

    def matches(self, raw):
        image = self.image_of(raw)
        ref = self.reference
        if image is None or (image["registry"], image["repository"]) != (ref["registry"], ref["repository"]):
            return False
        if ref["digest"]:
            if image["digest"] != ref["digest"]:
                return False
        elif (image["tag"] or "latest") != ref["tag"]:
            return False
        wanted = sorted(self.params.get("scanners") or [])
        have = raw.get("scanners")
        if wanted and isinstance(have, list) and sorted(str(s).lower() for s in have) != wanted:
            return False
        return True

    def describe_scan(self, raw):
        image = self.image_of(raw)
        return "scan %s (image %s, %s)" % (self.scan_id(raw), image_text(image) if image else "unknown", self.vendor_status(raw))

    def _newest_first(self, scans):
        return sorted(scans, key=lambda s: self.created_epoch(s) or 0.0, reverse=True)

    def history(self):
        return self._newest_first(s for s in self.adapter.list_scans(search=self.search_term()) if self.matches(s))

    def list(self, status=None, sort=None):
        if not self.params.get("image"):
            scans = self.adapter.list_scans(status=status, sort=sort)
        else:
            scans = [s for s in self.adapter.list_scans(status=status, search=self.search_term(), sort=sort) if self.matches(s)]
        return scans if sort else self._newest_first(scans)

    def trigger(self):
        answer = self.adapter.create_scan(self.params["image"], self.params.get("scanners"))
        return answer

    def refresh(self, raw):
        status = self.adapter.get_scan_status(self.scan_id(raw)) or {}
        merged = dict(raw)
        merged.update(dict((k, v) for k, v in status.items() if k != "id"))
        return merged

    def complete(self, raw):
        # The full body has the image, grade, risk score and vulnerabilities; one read already for a finished scan is enough.
        body = self._bodies.get(self.scan_id(raw))
        if body and is_terminal(self.status(body)):
            return body
        return self.adapter.get_scan(self.scan_id(raw))

    def get(self, scan_id):
        return self.adapter.get_scan(scan_id)

    def counts(self, raw, need_findings=False):
        vulns = self.findings(raw)
        return self.adapter.count_severities(vulns), vulns, "findings"

    def findings(self, raw):
        vulns = raw.get("vulnerabilities")
        if isinstance(vulns, list):
            return vulns
        return (self.adapter.get_scan(self.scan_id(raw)) or {}).get("vulnerabilities") or []


class PenaxtraScans(ScanStrategy):
    """Penaxtra: a cloud integration's posture runs; the run list is the only way to see a run."""

    TARGET_OPTIONS = ("integration_id",)
    REQUIRED = ("integration_id",)
    # "Poll no more often than every 10 s."
    DEFAULT_SLEEP = 10.0
    TRIGGER_RETURNS_SCAN = False

    def validate(self, for_info=False):
        super(PenaxtraScans, self).validate(for_info)
        integration = self.params.get("integration_id")
        if integration and not _UUID.match(integration):
            raise bad_option("%s '%s' is not a UUID" % (self.opt("integration_id"), integration))

    def resolve(self):
        # UUIDs are case-insensitive; the vendor answers them in lower case.
        self.integration = self.params["integration_id"].lower()
        self.label = "integration %s" % self.integration

    def identity(self):
        return ("penaxtra", self.integration)

    def describe_identity(self):
        return "integration %s" % self.integration

    def history(self):
        # "verify" runs are configuration probes that keep no findings: never reuse them.
        return [r for r in self.adapter.list_runs(self.integration) if r.get("trigger") != "verify"]

    def list(self, status=None, sort=None):
        runs = self.adapter.list_runs(self.params.get("integration_id"))
        if status:
            word = status.lower()
            runs = [r for r in runs if self.status(r) == word or str(r.get("status", "")).lower() == word]
        return runs

    def __init__(self, adapter, params, option_prefix=""):
        super(PenaxtraScans, self).__init__(adapter, params, option_prefix)
        self.trigger_kind = None

    def trigger(self):
        answer = self.adapter.trigger_run(self.integration)
        # The 202 names "the resolved trigger" (manual): runs of another kind (scheduled) are not this task's.
        self.trigger_kind = answer.get("trigger") if isinstance(answer, dict) else None
        return None

    def started_after(self, scans, baseline, since):
        found = super(PenaxtraScans, self).started_after(scans, baseline, since)
        if self.trigger_kind:
            found = [r for r in found if r.get("trigger") in (None, self.trigger_kind)]
        return found

    def refresh(self, raw):
        for run in self.adapter.list_runs(self.integration):
            if run.get("id") == raw.get("id"):
                return run
        # The list holds the tenant's newest 100 runs; a run pushed out of it can no longer be read.
        raise ScanopsError("run %s is no longer among the %d newest runs Penaxtra lists, so its status cannot be read "
                           "(the list is the only way to see a run)" % (raw.get("id"), RUNS_CAP))

    def get(self, scan_id):
        for run in self.adapter.list_runs(self.params.get("integration_id")):
            if run.get("id") == scan_id:
                return run
        raise ScanopsError("no run with id %s among the newest runs" % scan_id)

    def counts(self, raw, need_findings=False):
        findings = self.findings(raw)
        return self.adapter.count_severities(findings), findings, "findings"

    def findings(self, raw):
        return self.adapter.list_findings(scan_id=raw.get("id"))


STRATEGIES = {
    "cloudgeni": CloudGeniScans,
    "kolega": KolegaScans,
    "agilesec": AgileSecScans,
    "harborguard": HarborGuardScans,
    "penaxtra": PenaxtraScans,
}


def strategy_for(adapter, params, option_prefix=""):
    return STRATEGIES[adapter.NAME](adapter, params, option_prefix)


# -- the desired-state flow ---------------------------------------------------------------------------
def policy_from(params):
    """The gate policy from module options (keys exactly as the options)."""
    return dict((key, params.get(key)) for key in ("fail_on", "max_findings", "max_risk_score", "min_compliance_grade", "ignore"))


class _Clock(object):
    def __init__(self, sleep, clock, wallclock):
        self.sleep = sleep
        self.clock = clock
        self.wallclock = wallclock


class ScanRun(RunRecord):
    """One ``scan_run`` invocation (see ``run_scan``)."""

    def __init__(self, adapter, params, check_mode=False, warn=None, sleep=time.sleep, clock=time.monotonic,
                 wallclock=time.time, today=None, option_prefix="", bulk=False):
        self.adapter = adapter
        self.params = params
        self.check_mode = check_mode
        self.warnings = []
        self._warn = warn
        self.time = _Clock(sleep, clock, wallclock)
        self.today = today
        self.strategy = strategy_for(adapter, params, option_prefix)
        # One target of a bulk run: the gate verdict and the report entry are left to BulkScanRun.
        self.bulk = bulk
        self.report_entry = None
        self.result = dict(copy.deepcopy(SCAN_RUN_NOT_REACHED), changed=False)
        self._deadline = None

    def fail(self, error, action, resource=None):
        raise ScanFailure(error, action, resource, self.snapshot())

    # -- validation -------------------------------------------------------------------------------
    def validate(self, for_info=False):
        """Check the options before any request; ``for_info`` when only existing scans are read (no scan type needed)."""
        params = self.params
        try:
            self.max_age = parse_max_age(params.get("max_age"))
        except ScanopsError as err:
            raise ScanFailure(err, "Invalid options")
        try:
            self.policy = validate_policy(policy_from(params))
        except ValueError as err:
            raise bad_option(str(err).replace("policy.", "", 1))
        for name in ("wait_timeout", "wait_sleep"):
            if params.get(name) is not None and params[name] < 0:
                raise bad_option("%s must not be negative" % name)
        if params.get("findings_limit") is not None and params["findings_limit"] < 0:
            raise bad_option("findings_limit must not be negative")
        if params.get("on_timeout", "fail") not in ON_TIMEOUT:
            raise bad_option("on_timeout must be one of: %s" % ", ".join(ON_TIMEOUT))
        if (params.get("on_conflict") or "wait") not in ON_CONFLICT:
            raise bad_option("on_conflict must be one of: %s" % ", ".join(ON_CONFLICT))
        if self.policy["ignore"] and self.strategy.findings_unavailable():
            raise bad_option("ignore: %s, so an ignore list cannot be applied" % self.strategy.no_findings_reason())
        concurrency = params.get("concurrency")
        if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
            raise bad_option("concurrency must be between 1 and %d (got %s)" % (MAX_CONCURRENCY, concurrency))
        if params.get("scan_id"):
            # An existing scan is judged as it is: nothing to reuse, nothing to start.
            for name in ("force", "max_age"):
                if params.get(name):
                    raise bad_option("%s does not apply with scan_id, which names the scan to judge" % name)
        self.strategy.validate(for_info)

    # -- the flow ---------------------------------------------------------------------------------
    def run(self):
        self.validate()
        self.resolve()
        return self.converge()

    def resolve(self):
        """Resolve the target (names to ids); afterwards ``strategy.identity()`` is known."""
        target_name = self.params.get("repository") or self.params.get("sensor") or self.params.get("image") or self.params.get("integration_id")
        with _Step("Resolve scan target", target_name, self.snapshot()):
            self.strategy.resolve()
        self.result["target"] = self.strategy.label

    def remaining(self):
        """Seconds left of the one ``wait_timeout`` that waiting for a conflict, locating and polling share."""
        if self._deadline is None:
            timeout = self.params.get("wait_timeout")
            self._deadline = self.time.clock() + (DEFAULT_WAIT_TIMEOUT if timeout is None else timeout)
        return max(0.0, self._deadline - self.time.clock())

    def converge(self):
        """Adopt, reuse or trigger a scan of the resolved target, wait for it and judge it."""
        strategy = self.strategy
        self.remaining()  # the wait_timeout runs from here
        if self.params.get("scan_id"):
            with _Step("Read scan %s of" % self.params["scan_id"], strategy.label, self.snapshot()):
                raw = strategy.get(self.params["scan_id"])
            self.result["reused"] = True
            return self._finish(raw)
        with contextlib.ExitStack() as held:
            if not self.check_mode:
                self._lock_target(held)
            with _Step("List scans of", strategy.label, self.snapshot()):
                history = strategy.history_before_trigger(self.warn)
            raw = None
            if not self.params.get("force"):
                raw = self._reusable(history)
            if raw is not None:
                self.result["reused"] = True
            elif self.check_mode:
                # A real run would trigger here.
                self.result["changed"] = True
                self.result["api_calls"] = self.adapter.client.stats
                return self.result
            else:
                raw = self._trigger(history)
                if raw is None:
                    # Gave up waiting with on_timeout=warn; the result says what happened.
                    self.result["api_calls"] = self.adapter.client.stats
                    return self.result
        return self._finish(raw)

    def _lock_target(self, held):
        """Hold the controller lock of this target until ``held`` closes (after the trigger, before waiting).

        Another run on this controller that converges the same target waits here, then sees the
        scan this run adopted or started instead of starting its own.
        """
        strategy = self.strategy
        key = ("scan", origin_of(self.adapter.api_url), self.adapter.organization, strategy.identity())
        try:
            held.enter_context(controller_lock(key, max(TARGET_LOCK_TIMEOUT, self.remaining())))
        except ControllerLockUnavailable as err:
            self.warn("%s; without the controller lock another run on this controller could start a second scan of %s"
                      % (err.message, strategy.label))
        except ControllerLockTimeout as err:
            self.fail(err, "Wait for the other run on this controller that is starting a scan of", strategy.label)

    def _reusable(self, history):
        strategy = self.strategy
        for raw in history:
            if strategy.status(raw) in (QUEUED, RUNNING):
                return raw
        return self._young_enough(history)

    def _young_enough(self, history):
        """The newest finished scan when it completed less than ``max_age`` ago, else None.

        Only the newest finished scan counts: when it failed or was cancelled, an older completed
        scan is not reused, because the target's latest result is not known to pass.
        """
        if self.max_age is None:
            return None
        strategy = self.strategy
        newest = next((raw for raw in history if is_terminal(strategy.status(raw))), None)
        if newest is None or strategy.status(newest) != COMPLETED:
            return None
        finished = strategy.finished_epoch(newest)
        if finished is not None and self.time.wallclock() - finished <= self.max_age:
            return newest
        return None

    def _trigger(self, history):
        """Start a scan; the raw scan to wait for, or None when the task gave up with on_timeout=warn."""
        strategy = self.strategy
        baseline = set(strategy.scan_id(raw) for raw in history)
        since = self.time.wallclock() - CLOCK_SKEW
        action = "Trigger scan of"
        lost_once = False
        while True:
            try:
                raw = strategy.trigger()
                break
            except ScanopsApiError as err:
                outcome, raw = self._after_trigger_error(err, baseline, since, history, lost_once)
                if outcome == "use":
                    return raw
                if outcome == "gave_up":
                    return None
                lost_once = lost_once or outcome == "resend"
            except ScanopsError as err:
                self.fail(err, action, strategy.label)
        self.result["changed"] = True
        if raw is None:
            raw = self._locate(baseline, since)
        return raw

    def _after_trigger_error(self, err, baseline, since, history, lost_once):
        """What to do after a refused or lost trigger: ``(outcome, raw)``, or fail.

        ``use``: ``raw`` is the scan to wait for (adopted, found or reused); ``resend``: nothing was
        created, send the trigger once more; ``again``: the scan in the way has finished, trigger
        now; ``gave_up``: waited in vain and on_timeout is warn.
        """
        strategy = self.strategy
        action = "Trigger scan of"
        try:
            conflict = strategy.conflict_scan(err)
        except ScanopsError as inner:
            self.fail(inner, "Read the running scan named by the conflict on", strategy.label)
        if conflict is not None:
            if strategy.matches(conflict):
                self.result["reused"] = True
                self.warn("a scan of %s was already running (%s); adopted it instead of starting another"
                          % (strategy.label, strategy.scan_id(conflict)))
                return "use", conflict
            return self._blocked(err, conflict)
        if err.status == 429 and isinstance(strategy, PenaxtraScans):
            return "use", self._penaxtra_limited(err, history)
        if not err.may_have_acted or lost_once:
            self.fail(err, action, strategy.label)
        # The request may have reached the vendor: look before sending it again.
        with _Step("Look for the scan a lost trigger may have created on", strategy.label, self.snapshot()):
            found = next(iter(strategy.started_after(strategy.history(), baseline, since)), None)
        if found is not None:
            self.result["changed"] = True
            self.warn("the trigger's answer was lost (%s) but the scan it created was found: %s"
                      % (err.message, strategy.scan_id(found)))
            return "use", found
        self.warn("the trigger's answer was lost (%s) and no new scan exists; triggering once more" % err.message)
        return "resend", None

    def _blocked(self, err, blocker):
        """The vendor refused the trigger because a scan of another target is running (CloudGeni: per repository).

        That scan is never judged as this target's: wait for it and trigger (``on_conflict=wait``), or fail.
        """
        strategy = self.strategy
        what = strategy.describe_scan(blocker)
        said = "%s refused the scan because %s is running" % (self.adapter.DISPLAY_NAME, what)
        if (self.params.get("on_conflict") or "wait") == "fail":
            err.note = "%s, which is not a scan of %s (on_conflict=fail)" % (said, strategy.describe_identity())
            self.fail(err, "Trigger scan of", strategy.label)
        self.warn("%s; waiting for it to finish before triggering the scan of %s" % (said, strategy.describe_identity()))

        def refresh(current):
            with _Step("Poll the running %s on" % what, strategy.label, self.snapshot()):
                return strategy.refresh(current)

        blocker, timed_out = poll_until(blocker, lambda current: is_terminal(strategy.status(current)), refresh,
                                        strategy.poll_interval(self.params.get("wait_sleep")), self.remaining(),
                                        self.time.sleep, self.time.clock)
        if not timed_out:
            return "again", None
        self.result["timed_out"] = True
        message = ("%s is still running after the wait_timeout of %s s, so the scan of %s was not triggered"
                   % (strategy.describe_scan(blocker), self.params.get("wait_timeout"), strategy.describe_identity()))
        if self.params.get("on_timeout", "fail") == "warn":
            self.warn(message)
            return "gave_up", None
        self.fail(ScanopsError(message), "Trigger scan of", strategy.label)

    def _penaxtra_limited(self, err, history):
        strategy = self.strategy
        wait = err.retry_after
        if wait is None and isinstance(err.details, dict):
            wait = usable_wait(err.details.get("retry_after_seconds"))
        if wait:
            err.note = "the next manual run of this integration is allowed at %s (in %d s)" % (
                iso(self.time.wallclock() + wait), int(round(wait)))
        raw = self._young_enough(history)
        if raw is not None:
            self.result["reused"] = True
            self.warn("Penaxtra refused a new run (%s); reusing run %s, which max_age allows"
                      % (err.note or err.message, strategy.scan_id(raw)))
            return raw
        self.fail(err, "Trigger run of", strategy.label)

    def _locate(self, baseline, since):
        """Find the scan a trigger started when its answer does not name it (Penaxtra's 202).

        Looks until the one ``wait_timeout`` runs out (also with ``wait=false``: the id is what the
        task returns). No new run means nothing can be judged: the task fails, or warns with
        ``on_timeout=warn``. Several new runs (another client triggered too) are all reported, and
        none is claimed.
        """
        strategy = self.strategy
        action = "Find the run started on"
        interval = strategy.poll_interval(self.params.get("wait_sleep"))
        while True:
            with _Step(action, strategy.label, self.snapshot()):
                candidates = strategy.started_after(strategy.history(), baseline, since)
            remaining = self.remaining()
            if candidates or remaining <= 0:
                break
            self.time.sleep(min(interval, remaining))
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            self.result["candidates"] = [self.adapter.normalize_scan(raw) for raw in candidates]
            listed = ", ".join("%s (%s, started %s)" % (strategy.scan_id(raw), strategy.vendor_status(raw), raw.get("started_at"))
                               for raw in candidates)
            self.fail(ScanopsError(
                "%s accepted the run, but %d new runs of %s appeared after it: %s. Another client started one at the same "
                "time and the answer (202 without a run id) does not say which is this task's, so none was judged; "
                "candidates lists them, and a re-run with max_age reuses the newest once it has completed"
                % (self.adapter.DISPLAY_NAME, len(candidates), strategy.describe_identity(), listed)), action, strategy.label)
        self.result["timed_out"] = True
        message = ("%s accepted the run of %s (HTTP 202), but no new run appeared in its run list within the wait_timeout "
                   "of %s s, so no scan was judged"
                   % (self.adapter.DISPLAY_NAME, strategy.describe_identity(), self.params.get("wait_timeout")))
        if self.params.get("on_timeout", "fail") == "warn":
            self.warn(message)
            return None
        self.fail(ScanopsError(message), action, strategy.label)

    # -- waiting, gate, result ------------------------------------------------------------------------
    def _wait(self, raw):
        strategy = self.strategy
        interval = strategy.poll_interval(self.params.get("wait_sleep"))
        if self.params.get("wait_sleep") is not None and interval < strategy.DEFAULT_SLEEP and isinstance(strategy, PenaxtraScans):
            self.warn("wait_sleep %s is below Penaxtra's guidance of polling no more often than every %d s"
                      % (self.params["wait_sleep"], strategy.DEFAULT_SLEEP))

        def refresh(current):
            self.result["scan"] = self.adapter.normalize_scan(current)
            with _Step("Poll scan %s of" % strategy.scan_id(current), strategy.label, self.snapshot()):
                return strategy.refresh(current)

        return poll_until(raw, lambda current: is_terminal(strategy.status(current)), refresh, interval,
                          self.remaining(), self.time.sleep, self.time.clock)

    def judge(self, raw):
        """Count and gate the finished scan ``raw`` of the resolved target (after ``validate`` and ``resolve``).

        The same counting and gate as a run that found ``raw``; the result dict (``scan``, ``gate``,
        ``findings`` when asked for). Meant for ``bulk`` runs, which leave the verdict to the caller.
        """
        return self._finish(raw)

    def _finish(self, raw):
        strategy = self.strategy
        params = self.params
        if raw is None:
            self.result["api_calls"] = self.adapter.client.stats
            return self.result
        self.result["scan"] = self.adapter.normalize_scan(raw)
        if not params.get("wait", True):
            self.result["api_calls"] = self.adapter.client.stats
            return self.result
        raw, timed_out = self._wait(raw)
        self.result["scan"] = self.adapter.normalize_scan(raw)
        if timed_out:
            self.result["timed_out"] = True
            scan = self.result["scan"]
            message = ("scan %s of %s is still %s after the wait_timeout of %s s; a later task can pick it up by its id"
                       % (scan["id"], strategy.label, scan["status"], params.get("wait_timeout")))
            if params.get("on_timeout", "fail") == "warn":
                self.warn(message)
                self.result["api_calls"] = self.adapter.client.stats
                return self.result
            self.fail(ScanopsError(message), "Wait for scan")
        label = "scan %s of" % strategy.scan_id(raw)
        with _Step("Read finished", "%s %s" % (label, strategy.label), self.snapshot()):
            raw = strategy.complete(raw)
            # A failed or cancelled scan has nothing to count: the gate fails on its status alone.
            counts, raw_findings, source = (None, None, "none")
            if strategy.status(raw) == COMPLETED:
                counts, raw_findings, source = self._counts_and_findings(raw)
        scan = self.adapter.normalize_scan(raw, counts=counts)
        self.result["scan"] = scan
        findings = None
        if raw_findings is not None:
            findings = [self.adapter.normalize_finding(f) for f in raw_findings]
        limit = params.get("findings_limit")
        limit = DEFAULT_FINDINGS_LIMIT if limit is None else limit
        try:
            # With findings the gate counts them (and honours ignores and vendor statuses); without, the summary.
            gate = evaluate_gate(scan, findings, self.policy, today=self.today, counts_source=source)
        except ValueError as err:
            self.fail(ScanopsError(str(err)), "Evaluate the gate of", label + " " + strategy.label)
        self.result["gate"] = gate
        bounded, cut = bounded_findings(findings, gate, limit) if findings is not None else (None, False)
        if params.get("return_findings"):
            self.result["findings"] = bounded if bounded is not None else []
            if cut:
                self.result["findings_truncated"] = True
        entry = {"scan": scan, "gate": gate, "findings": bounded or [], "category": strategy.category()}
        if self.bulk:
            self.report_entry = entry
            self.result["api_calls"] = self.adapter.client.stats
            return self.result
        self._reports(entry)
        self.result["api_calls"] = self.adapter.client.stats
        if not gate["passed"]:
            self.fail(ScanopsError(gate["message"]), "Scan gate of", strategy.label)
        return self.result

    def _counts_and_findings(self, raw):
        """Counts for the gate, and findings when anything needs them (ignore list, output)."""
        strategy = self.strategy
        params = self.params
        writes_reports = any(params.get(k) for k in ("sarif_path", "junit_path", "markdown_path"))
        need_findings = bool(self.policy["ignore"] or params.get("return_findings") or writes_reports)
        counts, raw_findings, source = strategy.counts(raw, need_findings)
        if need_findings and raw_findings is None:
            self.warn("%s; no findings are returned or reported" % strategy.no_findings_reason())
        if counts is None and (self.policy["fail_on"] or self.policy["max_findings"]):
            self.warn("%s; the severity checks of the gate see zero findings" % strategy.no_findings_reason())
        if counts is not None and raw_findings is not None and isinstance(strategy, PenaxtraScans):
            expected = raw.get("finding_count")
            if isinstance(expected, int) and expected > len(raw_findings):
                self.warn("run %s reports %d findings but only %d are among the newest findings Penaxtra lists"
                          % (raw.get("id"), expected, len(raw_findings)))
        return counts, raw_findings, source

    def _reports(self, entry):
        params = self.params
        paths = dict((k, params.get(k)) for k in ("sarif_path", "junit_path", "markdown_path"))
        if not any(paths.values()):
            return
        try:
            written = write_reports([entry], **paths)
        except (IOError, OSError, ValueError) as err:
            self.fail(ScanopsError(str(err)), "Write reports for scan", entry["scan"].get("id"))
        self.result["reports"] = list(written or [])


def _target_key(params):
    """What makes two ``targets`` entries the same target (the name label aside)."""
    key = []
    for name in TARGET_OPTIONS:
        value = params.get(name)
        if name == "scanners" and value:
            value = tuple(sorted(value))
        key.append(value or None)
    return tuple(key)


class BulkScanRun(object):
    """``scan_run`` with ``targets``: one ScanRun per entry, run on a thread pool sharing one adapter.

    Everything a ScanRun touches is either its own (strategy, result, warnings list) or safe to
    share: the adapter keeps no state besides its ApiClient, whose httpx client, request counters
    and rate limiters are thread-safe. Warnings reach the module through one lock. Targets with the
    same ``exclusive_key`` (CloudGeni repository) run one after another in the same worker.
    """

    def __init__(self, adapter, params, check_mode=False, warn=None, sleep=time.sleep, clock=time.monotonic,
                 wallclock=time.time, today=None):
        self.adapter = adapter
        self.params = params
        self.check_mode = check_mode
        self._warn = warn
        self._lock = threading.Lock()
        self.warnings = []
        self._options = dict(check_mode=check_mode, sleep=sleep, clock=clock, wallclock=wallclock, today=today)
        self.runs = []
        self.labels = []

    def warn(self, message):
        with self._lock:
            self.warnings.append(message)
            if self._warn is not None:
                self._warn(message)

    def _warner(self, index):
        return lambda message: self.warn("%s: %s" % (self.label(index), message))

    def label(self, index):
        """``targets[<i>] (<name or target>)`` for messages."""
        entry = self.params["targets"][index] or {}
        run = self.runs[index] if index < len(self.runs) else None
        what = entry.get("name") or (run.strategy.label if run is not None else None)
        if not what:
            what = next((str(entry[k]) for k in TARGET_OPTIONS if entry.get(k)), None)
        return "targets[%d] (%s)" % (index, what) if what else "targets[%d]" % index

    # -- validation (no requests) ---------------------------------------------------------------
    def validate(self):
        params = self.params
        targets = params.get("targets")
        if not isinstance(targets, list) or not targets:
            raise bad_option("targets must list at least one target")
        given = [name for name in TARGET_OPTIONS if params.get(name)]
        if given:
            raise bad_option("targets is mutually exclusive with the top-level target options; remove %s or set it in each "
                             "targets entry" % ", ".join(given))
        allowed = TARGET_OPTIONS + ("name",)
        seen, names = {}, {}
        for index, entry in enumerate(targets):
            if not isinstance(entry, dict):
                raise bad_option("targets[%d] must be a dictionary of target options, not %s" % (index, type(entry).__name__))
            unknown = sorted(key for key in entry if key not in allowed)
            if unknown:
                raise bad_option("targets[%d].%s is not a target option (use %s)" % (index, unknown[0], ", ".join(allowed)))
            sub = dict((k, v) for k, v in params.items() if k != "targets")
            for name in TARGET_OPTIONS:
                sub[name] = entry.get(name)
            run = ScanRun(self.adapter, sub, warn=self._warner(index), option_prefix="targets[%d]." % index, bulk=True,
                          **self._options)
            self.runs.append(run)
            run.validate()
            key = _target_key(sub)
            if key in seen:
                raise bad_option("targets[%d] names the same target as targets[%d]; list each target once" % (index, seen[key]))
            seen[key] = index
            name = entry.get("name")
            if name:
                if name in names:
                    raise bad_option("targets[%d].name '%s' is already the name of targets[%d]" % (index, name, names[name]))
                names[name] = index

    # -- the flow ---------------------------------------------------------------------------------
    def _resolve_one(self, index):
        try:
            self.runs[index].resolve()
        except ScanFailure as failure:
            return dict(failure.result), failure.msg
        return None

    def _run_one(self, index):
        run = self.runs[index]
        try:
            return run.converge(), None
        except ScanFailure as failure:
            return dict(failure.result), failure.msg

    def _run_group(self, indexes):
        return [(index, self._run_one(index)) for index in indexes]

    def _check_identities(self, resolved):
        """Two entries that resolve to one target are an error, raised before any scan is triggered."""
        seen = {}
        for index in resolved:
            strategy = self.runs[index].strategy
            identity = strategy.identity()
            if identity in seen:
                raise bad_option("targets[%d] names the same target as targets[%d] (%s); list each target once"
                                 % (index, seen[identity], strategy.describe_identity()))
            seen[identity] = index

    def _groups(self, resolved):
        """Indexes to work on, in groups whose members run one after another (same ``exclusive_key``)."""
        groups, by_key = [], {}
        for index in resolved:
            key = self.runs[index].strategy.exclusive_key()
            if key is None:
                groups.append([index])
            elif key in by_key:
                by_key[key].append(index)
            else:
                by_key[key] = [index]
                groups.append(by_key[key])
        return groups

    def run(self):
        self.validate()
        workers = max(1, min(self.params.get("concurrency") or DEFAULT_CONCURRENCY, len(self.runs)))
        outcomes = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            # Resolve every target first: duplicates and serialization are about resolved targets.
            for index, outcome in enumerate(pool.map(self._resolve_one, range(len(self.runs)))):
                if outcome is not None:
                    outcomes[index] = outcome
            resolved = [index for index in range(len(self.runs)) if index not in outcomes]
            try:
                self._check_identities(resolved)
            except ScanFailure as failure:
                failure.result = {"changed": False, "api_calls": self.adapter.client.stats}
                raise
            for future in [pool.submit(self._run_group, group) for group in self._groups(resolved)]:
                for index, outcome in future.result():
                    outcomes[index] = outcome
        return self._result([outcomes[index] for index in range(len(self.runs))])

    def _result(self, outcomes):
        entries, failed, started = [], [], []
        for index, (result, error) in enumerate(outcomes):
            entry = {"name": self.label(index), "target": result.get("target") or self.runs[index].strategy.label,
                     "scan": result.get("scan"), "gate": result.get("gate"), "reused": bool(result.get("reused")),
                     "changed": bool(result.get("changed")), "timed_out": bool(result.get("timed_out"))}
            if "findings" in result:
                entry["findings"] = result["findings"]
            if result.get("findings_truncated"):
                entry["findings_truncated"] = True
            if error is not None:
                entry["error"] = error
                failed.append("%s: %s" % (entry["name"], error))
            if entry["changed"] and entry["scan"] and entry["scan"].get("id"):
                started.append("%s: %s" % (entry["name"], entry["scan"]["id"]))
            entries.append(entry)
        gate = self._gate(entries)
        result = {"changed": any(e["changed"] for e in entries), "reused": all(e["reused"] for e in entries),
                  "timed_out": any(e["timed_out"] for e in entries), "scan": None, "gate": gate, "scans": entries,
                  "reports": []}
        problems = []
        try:
            result["reports"] = self._reports()
        except (IOError, OSError, ValueError) as err:
            problems.append("writing the reports failed: %s" % err)
        result["api_calls"] = self.adapter.client.stats
        total = len(entries)
        if failed:
            problems.insert(0, "%d of %d targets failed: %s" % (len(failed), total, "; ".join(failed)))
        if gate is not None and not gate["passed"]:
            problems.append(gate["message"])
        if problems:
            if failed:
                problems.append("scans started by this run: %s (a re-run with max_age adopts or reuses them)"
                                % ", ".join(started) if started else "no scan was started by this run")
            action = "Run scans of" if failed else "Scan gate of"
            raise ScanFailure(ScanopsError("; ".join(problems)), action, "%d targets" % total, result)
        return result

    def _gate(self, entries):
        """One verdict over every target whose gate was evaluated; None when none was."""
        judged = [e for e in entries if isinstance(e["gate"], dict)]
        if not judged:
            return None
        counts = {}
        sources = sorted(set(e["gate"].get("counts_source") for e in judged))
        gate = {"passed": all(e["gate"]["passed"] for e in judged), "reasons": [], "counts": counts,
                "counts_source": sources[0] if len(sources) == 1 else "mixed", "ignored": [], "expired_ignores": [],
                "excluded": [], "checks": [], "not_evaluated": [e["name"] for e in entries if not isinstance(e["gate"], dict)],
                # One policy serves every target.
                "policy": judged[0]["gate"].get("policy")}
        # One ignore list serves every target: an entry is unmatched only when it matched in none of them.
        unmatched = None
        for entry in judged:
            one = entry["gate"]
            gate["reasons"].extend("%s: %s" % (entry["name"], reason) for reason in one.get("reasons") or [])
            for severity, count in (one.get("counts") or {}).items():
                if isinstance(count, (int, float)) and not isinstance(count, bool):
                    counts[severity] = counts.get(severity, 0) + count
            for key in ("ignored", "expired_ignores", "excluded", "checks"):
                gate[key].extend(dict(item, target=entry["name"]) for item in one.get(key) or [] if isinstance(item, dict))
            if one.get("counts_source") == "findings":
                mine = list(one.get("unmatched_ignores") or [])
                unmatched = mine if unmatched is None else [i for i in unmatched if i in mine]
        gate["unmatched_ignores"] = unmatched or []
        failing = [e for e in judged if not e["gate"]["passed"]]
        if failing:
            gate["message"] = "gate failed for %d of %d targets: %s" % (len(failing), len(judged), "; ".join(gate["reasons"]))
        else:
            gate["message"] = "gate passed for all %d targets judged" % len(judged)
        return gate

    def _reports(self):
        paths = dict((k, self.params.get(k)) for k in ("sarif_path", "junit_path", "markdown_path"))
        entries = [run.report_entry for run in self.runs if run.report_entry is not None]
        if not any(paths.values()) or not entries:
            return []
        return list(write_reports(entries, **paths) or [])


def run_scan(adapter, params, check_mode=False, warn=None, sleep=time.sleep, clock=time.monotonic, wallclock=time.time,
             today=None):
    """Run ``scan_run``'s desired-state flow; the result dict, or ScanFailure with a partial result.

    With ``params["targets"]`` (a list) the bulk flow runs instead (``BulkScanRun``).
    """
    runner = BulkScanRun if params.get("targets") is not None else ScanRun
    return runner(adapter, params, check_mode=check_mode, warn=warn, sleep=sleep, clock=clock, wallclock=wallclock,
                  today=today).run()


# -- the scan lookup ------------------------------------------------------------------------------------
def latest_scan(adapter, params, judge=False, sleep=time.sleep, clock=time.monotonic, wallclock=time.time, today=None):
    """The newest finished scan of a target and the scan in progress, without starting anything.

    ``params`` are scan_info's target options plus the gate options. Answers ``{target,
    scan, in_progress, gate, warnings}``: ``scan`` is the newest finished scan (None when
    there is none) with the counts the gate would count (its findings, vendor-triaged ones
    left out by the gate), ``in_progress`` a queued or running scan, and ``gate`` the
    verdict of the policy when ``judge`` is true (None otherwise, or without a finished scan).
    Raises ScanFailure naming the step, like ``run_scan``.
    """
    run = ScanRun(adapter, dict(params, wait=True), bulk=True, sleep=sleep, clock=clock, wallclock=wallclock, today=today)
    run.validate(for_info=True)
    run.resolve()
    strategy = run.strategy
    with _Step("List scans of", strategy.label, run.snapshot()):
        history = strategy.history()
    running = next((raw for raw in history if strategy.status(raw) in (QUEUED, RUNNING)), None)
    finished = next((raw for raw in history if is_terminal(strategy.status(raw))), None)
    answer = {"target": strategy.label, "scan": None, "gate": None, "warnings": run.warnings,
              "in_progress": adapter.normalize_scan(running) if running is not None else None}
    if finished is not None:
        result = run.judge(finished)
        answer["scan"] = result["scan"]
        if judge:
            answer["gate"] = result["gate"]
    return answer


def newest_completed_scan(adapter, params):
    """The id of the newest completed scan of the target ``params`` names, or None (the findings lookup)."""
    strategy = strategy_for(adapter, params)
    strategy.validate(for_info=True)
    name = next((params[key] for key in TARGET_OPTIONS if params.get(key)), None)
    with _Step("Resolve scan target", name):
        strategy.resolve()
    with _Step("List scans of", strategy.label):
        return next((strategy.scan_id(raw) for raw in strategy.history() if strategy.status(raw) == COMPLETED), None)


# -- scan_info ----------------------------------------------------------------------------------------
def scan_info(adapter, params):
    """List (every page) or get scans of a target, normalized with ``raw``."""
    strategy = strategy_for(adapter, params)
    strategy.validate(for_info=True)
    provider = adapter.NAME
    if params.get("sort") and provider != "harborguard":
        raise bad_option("sort is a HarborGuard list option (e.g. scannedAt:desc); %s lists are newest first"
                         % adapter.DISPLAY_NAME)
    if params.get("branch") and provider != "cloudgeni":
        raise bad_option("branch filters CloudGeni scans only")
    status = params.get("status")
    if status:
        known = list(SCAN_STATUSES) + sorted(set(word for normalized in SCAN_STATUSES
                                                 for word in adapter.vocabulary.vendor_scan_statuses(normalized)) - set(SCAN_STATUSES))
        try:
            check_choice(status, known, "status", "%s scan status" % adapter.DISPLAY_NAME)
        except OptionError as err:
            raise ScanFailure(err, "Invalid options")
    target_given = any(params.get(k) for k in strategy.REQUIRED)
    # CloudGeni and Kolega scans live below a repository; AgileSec has no execution list.
    if not target_given and (provider in ("cloudgeni", "kolega") or (provider == "agilesec" and not params.get("scan_id"))):
        raise bad_option("%s needs the %s option to find scans" % (adapter.DISPLAY_NAME, strategy.REQUIRED[0]))
    target_name = params.get("repository") or params.get("sensor") or params.get("image") or params.get("integration_id")
    with _Step("Resolve scan target", target_name):
        if target_given:
            strategy.resolve()
    label = strategy.label or adapter.DISPLAY_NAME
    if params.get("scan_id"):
        with _Step("Get scan %s of" % params["scan_id"], label):
            raws = [strategy.get(params["scan_id"])]
    elif provider == "agilesec":
        with _Step("Get the last execution of", label):
            raws = strategy.history()
        if status:
            raws = [r for r in raws if strategy.status(r) == status.lower() or str(r.get("status")).lower() == status.lower()]
    else:
        with _Step("List scans of", label):
            raws = strategy.list(status=status, sort=params.get("sort"))
    return [adapter.normalize_scan(raw) for raw in raws if isinstance(raw, dict)]


# -- module glue -----------------------------------------------------------------------------------
@contextlib.contextmanager
def scan_adapter(module, **client_options):
    """``with scan_adapter(module) as adapter:`` the module's adapter, closed after the block.

    ``client_options`` reach the ApiClient (scan_run sizes the connection pool for ``concurrency``).

    A ScanFailure raised in the block fails the module with ``<action> <resource>: <vendor message>``
    and the partial result the failure carries, ``api_calls`` included.
    """
    with build_adapter(module, **client_options) as adapter:
        try:
            yield adapter
        except ScanFailure as failure:
            result = dict(failure.result)
            # The partial result may predate the failed request: count every request sent.
            result["api_calls"] = adapter.client.stats
            fail_with_error(module, failure.error, failure.action, failure.resource, **result)
