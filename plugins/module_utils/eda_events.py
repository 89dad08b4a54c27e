# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Event-Driven Ansible sources (``extensions/eda/plugins/event_source``) share.

Every source emits the same event shape::

    {"scanops": {<normalized part>}, "payload": {<the vendor's body, untouched>},
     "meta": {"uuid": <stable per vendor event>, ...}}

The normalized part speaks the collection's vocabulary (``vocabulary.py``): ``provider``,
``event_type`` (``scan_completed``, ``critical_cve``, ``finding_created``,
``finding_status_changed``...), ``vendor_event``, ``scan_id``, ``target``, ``scan_target`` (the
``scan_run``/``scan_info`` target options of the scan, as far as the event tells them),
``status`` (normalized scan status), ``severity``, ``severity_counts``, ``url``,
``occurred_at``, ``received_at``, ``delivery_id`` and ``source``.

``meta.uuid`` is derived from the vendor's identity of the event (a delivery's body hash, a feed
event id, a scan id), so a repeat of the same vendor event carries the same uuid.

Also here: the webhook checks (HMAC-SHA256 over the raw body, bearer and header tokens, all
compared in constant time; the replay window) and the bounded de-duplication cache. Vendor
facts come from the adapters' vocabularies; the webhook contracts are documented in
``docs/eda.md`` and, for CloudGeni's signature, ``docs/assumptions.md``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections
import datetime
import hashlib
import hmac
import re
import time
import uuid

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class
from ansible_collections.scanops.security.plugins.module_utils.providers.base import parse_timestamp
from ansible_collections.scanops.security.plugins.module_utils.validation import check_params
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import SEVERITIES, empty_counts

# uuid5 namespace of every scanops.security event id (a fixed random value: never change it, or
# events seen before an upgrade get new uuids).
EVENT_NAMESPACE = uuid.UUID("5d1c0b6e-7a43-4f0e-9a57-3c2b8e61d4f9")

SCAN_COMPLETED = "scan_completed"
WEBHOOK_PROVIDERS = ("agilesec", "cloudgeni", "harborguard")
AGILESEC_AUTH_TYPES = ("none", "bearer", "api_token")
# Header names whose values are safe to copy into an event (never credentials or signatures).
SAFE_HEADERS = ("Content-Type", "User-Agent", "X-HarborGuard-Event", "X-CloudGeni-Event")
SIGNATURE_HEADERS = {"harborguard": "X-HarborGuard-Signature", "cloudgeni": "X-CloudGeni-Signature"}

_DASHBOARD_SCAN = re.compile(r"/scans/([^/?#]+)/*(?:[?#].*)?$")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def utc_now_iso(now=None):
    """``2026-05-01T10:00:00.123456Z`` for an epoch (now by default)."""
    moment = datetime.datetime.fromtimestamp(time.time() if now is None else now, datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def epoch(value):
    """Epoch seconds of an ISO timestamp, or None."""
    parsed = parse_timestamp(value)
    return parsed.timestamp() if parsed is not None else None


def event_uuid(provider, key):
    """The stable ``meta.uuid`` of a vendor event identified by ``key``."""
    return str(uuid.uuid5(EVENT_NAMESPACE, "%s:%s" % (provider, key)))


def body_digest(raw_body):
    """Hex SHA-256 of a delivery's raw bytes: its identity when the vendor sends no delivery id."""
    return hashlib.sha256(raw_body).hexdigest()


def event_word(vendor_word):
    """A vendor event name as a normalized word: ``scan.completed`` -> ``scan_completed``."""
    return _NOT_WORD.sub("_", str(vendor_word or "").lower()).strip("_") or "unknown"


def normalized_counts(counts):
    """``{critical..info}`` ints from a vendor summary (missing severities count 0), or None."""
    if not isinstance(counts, dict):
        return None
    result = empty_counts()
    for severity in SEVERITIES:
        value = counts.get(severity)
        if isinstance(value, int) and not isinstance(value, bool):
            result[severity] = value
    return result


def build_event(normalized, payload, uuid_key, headers=None):
    """The event dict every source emits (see the module docstring)."""
    meta = {"uuid": event_uuid(normalized["provider"], uuid_key)}
    if headers is not None:
        meta["headers"] = headers
    return {"scanops": normalized, "payload": payload, "meta": meta}


def _normalized(provider, event_type, vendor_event, source, received_at, delivery_id, **fields):
    normalized = {
        "provider": provider,
        "event_type": event_type,
        "vendor_event": vendor_event,
        "scan_id": None,
        "target": None,
        "scan_target": None,
        "status": None,
        "severity": None,
        "severity_counts": None,
        "url": None,
        "occurred_at": None,
        "received_at": received_at,
        "delivery_id": delivery_id,
        "source": source,
    }
    normalized.update(fields)
    return normalized


# -- webhook deliveries ---------------------------------------------------------------------------------
def verify_signature(secret, raw_body, header_value):
    """True when ``header_value`` is ``sha256=<hex HMAC-SHA256 of raw_body under secret>``.

    The HMAC is computed over the bytes exactly as received (never a decoded and re-encoded
    body) and compared in constant time. A missing or malformed header is False.
    """
    if not secret or not header_value:
        return False
    scheme, _sep, digest = str(header_value).strip().partition("=")
    if scheme.strip().lower() != "sha256" or not digest:
        return False
    expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), digest.strip().lower().encode("utf-8", "replace"))


def sign(secret, raw_body):
    """``sha256=<hex>``: the signature header value a vendor sends for ``raw_body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def token_matches(expected, presented):
    """Constant-time comparison of a presented token with the configured one."""
    if not expected or presented is None:
        return False
    return hmac.compare_digest(str(expected).encode("utf-8"), str(presented).encode("utf-8"))


def check_agilesec_auth(auth_type, token, header_name, headers):
    """True when the callback carries the credential registered with ``callback_endpoint``.

    ``headers`` is a case-insensitive mapping. ``none`` accepts every callback; ``bearer``
    wants ``Authorization: Bearer <token>``; ``api_token`` wants ``<header_name>: <token>``.
    """
    if auth_type == "none":
        return True
    if auth_type == "bearer":
        scheme, _sep, presented = str(headers.get("Authorization") or "").strip().partition(" ")
        return scheme.lower() == "bearer" and token_matches(token, presented.strip())
    if auth_type == "api_token":
        return token_matches(token, headers.get(header_name))
    return False


def delivery_timestamp(provider, body):
    """Epoch of the vendor's signed timestamp in a delivery body, or None when it sends none.

    HarborGuard and CloudGeni put ``timestamp`` in the signed body; AgileSec callbacks carry none.
    """
    if provider in ("harborguard", "cloudgeni") and isinstance(body, dict):
        return epoch(body.get("timestamp"))
    return None


def safe_headers(headers):
    """The headers of a delivery that may go into an event (no credentials, no signatures)."""
    return dict((name, headers[name]) for name in SAFE_HEADERS if headers.get(name) is not None)


def normalize_delivery(provider, body, received_at, delivery_id):
    """The normalized part of a webhook or callback delivery (``body`` is the parsed JSON object)."""
    vocabulary = get_adapter_class(provider).VOCABULARY
    if provider == "harborguard":
        vendor_event = body.get("event")
        url = body.get("url")
        match = _DASHBOARD_SCAN.search(str(url or ""))
        # scan_complete and scan_failed both mean the scan reached its end; the status tells how.
        if vendor_event in ("scan_complete", "scan_failed"):
            event_type, status = SCAN_COMPLETED, ("completed" if vendor_event == "scan_complete" else "failed")
        else:
            event_type, status = event_word(vendor_event), ("completed" if vendor_event == "critical_cve" else None)
        # The body names the scan only in its dashboard link (/dashboard/scans/<scanId>).
        scan_id = match.group(1) if match else None
        severity = str(body.get("severity") or "").lower()
        return _normalized(provider, event_type, vendor_event, "scan_webhook", received_at, delivery_id,
                           scan_id=scan_id, status=status, severity=severity if severity in SEVERITIES else None,
                           url=url, occurred_at=body.get("timestamp"), title=body.get("title"), message=body.get("message"))
    if provider == "cloudgeni":
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        vendor_event = body.get("event")
        event_type = SCAN_COMPLETED if vendor_event == "scan.completed" else event_word(vendor_event)
        target = {"repository": data.get("repositoryId"), "branch": data.get("branch")} if data.get("repositoryId") else None
        return _normalized(provider, event_type, vendor_event, "scan_webhook", received_at, delivery_id,
                           scan_id=data.get("scanId"), target=data.get("repositoryName") or data.get("repositoryId"),
                           scan_target=target, status=vocabulary.scan_status(data.get("status")) if data.get("status") else None,
                           severity_counts=normalized_counts(data.get("summary")), url=data.get("dashboardUrl"),
                           occurred_at=body.get("timestamp"))
    if provider == "agilesec":
        status = body.get("status")
        return _normalized(provider, SCAN_COMPLETED, "scan_callback", "scan_webhook", received_at, delivery_id,
                           scan_id=body.get("executionId"), target=body.get("sensorId"),
                           scan_target={"sensor": body.get("sensorId")} if body.get("sensorId") else None,
                           status=vocabulary.scan_status(status) if status else None,
                           error_code=body.get("errorCode"), message=body.get("message"))
    raise ValueError("no webhook contract for provider %s" % provider)


class DedupeCache(object):
    """Keys seen in the last ``ttl`` seconds, at most ``max_entries`` of them (oldest dropped first).

    ``evicted`` counts keys dropped early because the cache was full: a replay of one of those
    is no longer recognized, which the source reports.
    """

    def __init__(self, ttl, max_entries, clock=time.monotonic):
        self.ttl = float(ttl)
        self.max_entries = int(max_entries)
        self._clock = clock
        self._seen = collections.OrderedDict()
        self.evicted = 0

    def _expire(self, now):
        while self._seen:
            key, stamp = next(iter(self._seen.items()))
            if now - stamp < self.ttl:
                break
            del self._seen[key]

    def __contains__(self, key):
        self._expire(self._clock())
        return key in self._seen

    def __len__(self):
        self._expire(self._clock())
        return len(self._seen)

    def add(self, key):
        """Remember ``key`` from now on."""
        now = self._clock()
        self._expire(now)
        self._seen.pop(key, None)
        self._seen[key] = now
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
            self.evicted += 1


# -- polled events ----------------------------------------------------------------------------------------
def normalize_finding_event(raw, received_at):
    """A Kolega finding lifecycle event (``GET /api/v1/finding-events`` item) in the shared shape."""
    vocabulary = get_adapter_class("kolega").VOCABULARY
    vendor_event = raw.get("event_type")

    def status(word):
        return vocabulary.finding_status_from_vendor(word) if word else None

    return _normalized(
        "kolega", "finding_" + event_word(vendor_event), vendor_event, "finding_events", received_at, raw.get("id"),
        scan_id=raw.get("scan_id"), target=raw.get("repository_id"),
        scan_target={"repository": raw.get("repository_id"), "scan_type": raw.get("scan_type")} if raw.get("repository_id") else None,
        severity=vocabulary.severity(raw.get("severity")) if raw.get("severity") else None,
        occurred_at=raw.get("event_timestamp"), event_id=raw.get("id"), finding_id=raw.get("finding_id"),
        repository_id=raw.get("repository_id"), scan_type=raw.get("scan_type"), check_id=raw.get("check_id"),
        file_path=raw.get("file_path"), previous_status=status(raw.get("previous_status")), new_status=status(raw.get("new_status")),
    )


def normalize_finished_scan(scan, scan_target, received_at):
    """A finished scan (an adapter's ``normalize_scan`` result) in the shared shape."""
    return _normalized(
        scan["provider"], SCAN_COMPLETED, "scan_" + event_word(scan.get("vendor_status")), "scan_events", received_at,
        "%s:%s" % (scan["provider"], scan["id"]), scan_id=scan["id"], target=scan.get("target"), scan_target=scan_target,
        status=scan.get("status"), vendor_status=scan.get("vendor_status"), severity_counts=scan.get("counts"),
        url=scan.get("url"), occurred_at=scan.get("completed_at") or scan.get("started_at") or scan.get("created_at"),
        duration_seconds=scan.get("duration_seconds"),
    )


# -- source options ------------------------------------------------------------------------------------------
def validate_source_args(source, args, spec):
    """Check an event source's arguments against an argument spec (types, choices, defaults,
    environment fallbacks), as a module's would be. Answers the validated dict.

    Raises:
        ScanopsError: naming every option at fault, before anything is started.
    """
    # Imported here: only the event sources need ansible-core's validator.
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel

    result = ArgumentSpecValidator(spec).validate(dict(args or {}))
    if result.error_messages:
        raise ScanopsError("scanops.security.%s: %s" % (source, "; ".join(result.error_messages)))
    # The value checks of every module option (finite numbers, ids, names, URLs): a NaN interval
    # would otherwise pass "must be greater than 0" and reach the poller's sleep.
    try:
        check_params(result.validated_parameters, spec)
    except ScanopsError as err:
        raise ScanopsError("scanops.security.%s: %s" % (source, err.message))
    return result.validated_parameters


def run_by_hand(main, args):
    """Run a source's ``main(queue, args)`` outside ansible-rulebook, printing each event as JSON
    (the sources' ``__main__`` blocks)."""
    import asyncio  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel
    import logging  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    class PrintingQueue(asyncio.Queue):
        """Writes each event to stdout instead of keeping it (only ever a command line's, never a module's)."""

        async def put(self, item):
            sys.stdout.write(json.dumps(item, indent=2, sort_keys=True) + "\n")

    logging.basicConfig(level=logging.INFO)
    try:
        asyncio.run(main(PrintingQueue(), args))
    except KeyboardInterrupt:
        pass
    except ScanopsError as err:
        raise SystemExit(err.message)
