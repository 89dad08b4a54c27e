# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the vendor modules: errors, timestamps, ids, pagination, JSON bodies."""

import datetime
import hashlib
import json
import math
import zlib

from starlette.responses import Response


class VendorError(Exception):
    """An error answer in a vendor's own shape; raised anywhere inside a handler."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def json_response(body, status=200, headers=None):
    """Compact JSON answer; cheaper than the generic JSONResponse path and byte-stable."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(payload, status_code=status, headers=headers, media_type="application/json")


def iso_seconds(ts):
    """2024-01-15T10:35:00Z (CloudGeni, Penaxtra, AgileSec style)."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(ts):
    """2026-04-26T14:22:11.000Z (HarborGuard, a JavaScript service)."""
    if ts is None:
        return None
    moment = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def iso_micros(ts):
    """2024-01-15T10:35:00.123456Z (Kolega, a pydantic service)."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text):
    """Parse an ISO 8601 timestamp (Z or offset) into epoch seconds; None when unparsable."""
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def stable_int(*parts):
    """Deterministic 32-bit integer for a tuple of values (process-independent, unlike hash())."""
    return zlib.crc32(":".join(str(part) for part in parts).encode("utf-8"))


def parse_int(value, default):
    """Integer from a query string value; None when it is not an integer."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def ceil_seconds(value):
    return max(1, int(math.ceil(value)))


def client_ip(request):
    client = request.client
    return client.host if client else "unknown"


class Timeline:
    """Wall-clock phases of one scan: queued until ``started``, running until ``ended``, then done."""

    __slots__ = ("created", "started", "ended", "outcome")

    def __init__(self, created, plan):
        self.created = created
        self.started = created + float(plan["queued_seconds"])
        self.ended = self.started + float(plan["running_seconds"])
        self.outcome = plan["outcome"]

    def phase(self, now):
        if now < self.started:
            return "queued"
        if now < self.ended:
            return "running"
        return "done"

    def fraction(self, now):
        """How far through the running phase the scan is, 0.0 .. 1.0."""
        if now <= self.started:
            return 0.0
        if now >= self.ended or self.ended <= self.started:
            return 1.0
        return (now - self.started) / (self.ended - self.started)


async def read_json(request, on_error):
    """Parse the request body as JSON; ``on_error(reason)`` builds the vendor's error to raise."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise on_error("Invalid JSON body") from None


def stable_uuid(*parts):
    """A UUID-shaped id derived from ``parts`` (same parts, same id)."""
    raw = hashlib.sha1(":".join(str(part) for part in parts).encode("utf-8")).hexdigest()[:32]
    raw = raw[:12] + "4" + raw[13:16] + "89ab"[int(raw[16], 16) % 4] + raw[17:]
    return "%s-%s-%s-%s-%s" % (raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:])


def stable_hex(length, *parts):
    """``length`` hex digits derived from ``parts`` (same parts, same id; AgileSec's 24-hex ObjectIds)."""
    return hashlib.sha1(":".join(str(part) for part in parts).encode("utf-8")).hexdigest()[:length]
