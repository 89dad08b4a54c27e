# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection and the request log, as one outermost ASGI middleware.

It must wrap the FastAPI application from the outside (not ``app.add_middleware``) because a
real connection drop needs uvicorn's own ``send`` callable: that is a bound method of uvicorn's
``RequestResponseCycle``, whose ``transport`` we abort so that the client sees the TCP
connection close with no HTTP answer at all (httpx raises ``RemoteProtocolError``).
"""

import asyncio
import fnmatch
import json
import random
import time

from starlette.routing import Match

from . import ADMIN_PREFIX, VENDOR_PREFIXES
from .common import iso_millis

FAULT_KINDS = ("latency", "error", "error_after", "rate_limit", "drop_before", "drop_after", "malformed_json", "redirect")
ERROR_STATUSES = (500, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)

_PREFIX_ITEMS = tuple((prefix + "/", vendor) for vendor, prefix in VENDOR_PREFIXES.items())


def vendor_of(path):
    for prefix, vendor in _PREFIX_ITEMS:
        if path.startswith(prefix):
            return vendor
    return "admin" if path.startswith(ADMIN_PREFIX) else None


def relative_path(vendor, path):
    prefix = VENDOR_PREFIXES.get(vendor)
    return path[len(prefix):] if prefix and path.startswith(prefix) else path


def route_template(routes, scope):
    """The path template of the route that serves this request, or None.

    Resolved up front because a fault (or the documented-only layer) may answer before the
    application routes the request; the log and its counters must still group it by endpoint. A
    route that matches the path but not the method (405) still names the endpoint.
    """
    partial = None
    for route in routes:
        match, _child = route.matches(scope)
        if match == Match.FULL:
            return route.path
        if match == Match.PARTIAL and partial is None:
            partial = route.path
    return partial


_CLOUDGENI_CODES = {500: "internal_error", 502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}
_HARBORGUARD_CODES = {500: "INTERNAL_ERROR", 502: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE", 504: "TIMEOUT"}
_REASONS = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable", 504: "Gateway timeout"}


def vendor_error(vendor, status, method="GET", path="", retry_after=1):
    """The body and headers each vendor answers for a server error or a rate limit."""
    retry = str(int(retry_after))
    if vendor == "agilesec" and path.startswith("/agilesec/searchdb"):
        return _opensearch_error(status, retry)
    if status == 429:
        if vendor == "cloudgeni":
            # docs/assumptions.md: CloudGeni sends no rate-limit headers; the hint lives in details.
            return ({"error": "rate_limited", "message": "Rate limit exceeded",
                     "details": {"retryAfterSeconds": int(retry_after)}}, {})
        if vendor == "kolega":
            return {"detail": {"detail": "Rate limit exceeded", "error_code": "RATE_LIMITED"}}, {"Retry-After": retry}
        if vendor == "agilesec":
            return {"status": "failed", "message": "Too many requests."}, {"Retry-After": retry}
        if vendor == "harborguard":
            return ({"error": {"code": "RATE_LIMITED", "message": "Too many requests, retry in %s s" % retry, "issues": []}},
                    {"Retry-After": retry, "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": retry})
        return ({"error": "rate_limited", "retry_after_seconds": int(retry_after), "limit": 60, "window": "60s"},
                {"Retry-After": retry, "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": retry})
    reason = _REASONS.get(status, "Server error")
    if vendor == "cloudgeni":
        return {"error": _CLOUDGENI_CODES.get(status, "internal_error"), "message": reason, "details": {}}, {}
    if vendor == "kolega":
        return {"detail": {"detail": reason, "error_code": "INTERNAL_ERROR"}}, {}
    if vendor == "agilesec":
        return {"status": "failed", "message": reason + "."}, {}
    if vendor == "harborguard":
        return {"error": {"code": _HARBORGUARD_CODES.get(status, "INTERNAL_ERROR"), "message": reason, "issues": []}}, {}
    if vendor == "penaxtra":
        if status == 502 and method == "POST" and path.endswith("/cloud-posture-runs"):
            return {"error": "enqueue_failed"}, {}
        return {"error": reason.lower().replace(" ", "_")}, {}
    return {"error": reason}, {}


def _opensearch_error(status, retry):
    """The search store is an OpenSearch: its overload and server errors carry OpenSearch's error body."""
    if status == 429:
        reason = "rejected execution of search request: the search thread pool queue is full"
        error = {"root_cause": [{"type": "rejected_execution_exception", "reason": reason}],
                 "type": "rejected_execution_exception", "reason": reason}
        return {"error": error, "status": 429}, {"Retry-After": retry}
    reason = _REASONS.get(status, "Server error")
    error = {"root_cause": [{"type": "status_exception", "reason": reason}], "type": "status_exception", "reason": reason}
    return {"error": error, "status": status}, {}


class FaultRegistry:
    """Admin-defined faults, matched by vendor, method and path glob, fired by probability or count."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.chooser = random.Random(emulator.seed)

    @staticmethod
    def validate(spec):
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError("kind must be one of %s" % ", ".join(FAULT_KINDS))
        fault = {
            "vendor": spec.get("vendor", "*"),
            "method": str(spec.get("method", "*")).upper(),
            "path": spec.get("path", "*"),
            "kind": kind,
            "probability": float(spec.get("probability", 1.0)),
            "count": spec.get("count"),
            "status": int(spec.get("status", {"error": 503, "error_after": 503, "rate_limit": 429, "redirect": 307}.get(kind, 200))),
            "latency_ms": int(spec.get("latency_ms", 0)),
            "retry_after": int(spec.get("retry_after", 1)),
            "location": spec.get("location"),
            "fired": 0,
        }
        if kind in ("error", "error_after") and fault["status"] not in ERROR_STATUSES:
            raise ValueError("error and error_after faults use status 500, 502, 503 or 504")
        if kind == "redirect" and (fault["status"] not in REDIRECT_STATUSES or not isinstance(fault["location"], str)
                                   or not fault["location"]):
            raise ValueError("redirect faults need status 301, 302, 303, 307 or 308 and a location")
        if kind == "latency" and fault["latency_ms"] <= 0:
            raise ValueError("latency faults need latency_ms > 0")
        if not 0.0 <= fault["probability"] <= 1.0:
            raise ValueError("probability must be within 0..1")
        if fault["count"] is not None and int(fault["count"]) < 1:
            raise ValueError("count must be >= 1 (or null for unlimited)")
        return fault

    def match(self, vendor, method, path, route=None):
        """The first fault for this request; ``path`` patterns are matched against the path and the route
        template (``/api/scans/{scan_id}``), each in full or below the vendor's prefix."""
        emulator = self.emulator
        candidates = [path, relative_path(vendor, path)]
        if route:
            candidates += [route, relative_path(vendor, route)]
        for fault in emulator.faults:
            if fault["vendor"] not in ("*", vendor) or fault["method"] not in ("*", method):
                continue
            pattern = fault["path"]
            if not any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
                continue
            if fault["count"] is not None and fault["fired"] >= int(fault["count"]):
                continue
            if fault["probability"] < 1.0 and self.chooser.random() >= fault["probability"]:
                continue
            fault["fired"] += 1
            return fault
        return None


def abort_connection(send):
    """Close the client's TCP connection without an HTTP answer; False if the server can't."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    # Mark the cycle disconnected first so uvicorn does not try to write a 500 afterwards.
    cycle.disconnected = True
    transport.abort()
    return True


class _Capture:
    """Collects what the application answered so a fault can withhold or mangle it."""

    def __init__(self):
        self.status = None
        self.headers = []
        self.body = bytearray()

    async def __call__(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))


class EmulatorMiddleware:
    """Applies faults to vendor paths and records every request (never header values)."""

    def __init__(self, app, get_emulator, routes=()):
        self.app = app
        self.get_emulator = get_emulator
        self.routes = routes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emulator = self.get_emulator()
        path = scope["path"]
        method = scope["method"]
        vendor = vendor_of(path)
        started = time.perf_counter()
        status = [None]
        # What the application answered when a fault let the request act and then spoiled the answer.
        acted = [None]
        fault = None
        route = route_template(self.routes, scope) if vendor else None
        if vendor and vendor != "admin" and emulator.faults:
            fault = emulator.fault_registry.match(vendor, method, path, route)

        async def recording_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        kind = fault["kind"] if fault else None
        if kind is None:
            await self.app(scope, receive, recording_send)
        elif kind == "latency":
            await asyncio.sleep(fault["latency_ms"] / 1000.0)
            await self.app(scope, receive, recording_send)
        elif kind in ("error", "rate_limit"):
            code = fault["status"] if kind == "error" else 429
            body, headers = vendor_error(vendor, code, method, path, fault["retry_after"])
            await self._answer(recording_send, code, body, headers)
        elif kind == "error_after":
            # The request takes full effect (a scan is created), then the client gets the vendor's 5xx
            # instead of the answer, as from a gateway that timed out on a backend that finished.
            capture = _Capture()
            await self.app(scope, receive, capture)
            acted[0] = capture.status
            body, headers = vendor_error(vendor, fault["status"], method, path, fault["retry_after"])
            await self._answer(recording_send, fault["status"], body, headers)
        elif kind == "drop_before":
            # Read the request first: closing with unread bytes makes the kernel answer with a RST
            # instead of a FIN, and clients would see a reset rather than a silent close.
            message = {"more_body": True}
            while message.get("more_body") and message.get("type") != "http.disconnect":
                message = await receive()
            if not abort_connection(send):
                raise RuntimeError("emulator fault: connection drop requested")
        elif kind == "redirect":
            # Read the request, act on nothing, and point the client elsewhere; "{path}" in the
            # location stands for the request's own path, "{query}" for its query string.
            message = {"more_body": True}
            while message.get("more_body") and message.get("type") != "http.disconnect":
                message = await receive()
            query = scope.get("query_string", b"").decode("latin-1")
            location = fault["location"].replace("{path}", path).replace("{query}", query)
            await recording_send({"type": "http.response.start", "status": fault["status"],
                                  "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")]})
            await recording_send({"type": "http.response.body", "body": b"", "more_body": False})
        elif kind == "drop_after":
            capture = _Capture()
            await self.app(scope, receive, capture)
            status[0] = acted[0] = capture.status
            if not abort_connection(send):
                raise RuntimeError("emulator fault: connection drop requested")
        elif kind == "malformed_json":
            capture = _Capture()
            await self.app(scope, receive, capture)
            acted[0] = capture.status
            body = bytes(capture.body)
            broken = body[:max(1, len(body) // 2)] if len(body) > 2 else b'{"'
            headers = [(name, value) for name, value in capture.headers if name.lower() != b"content-length"]
            headers.append((b"content-length", str(len(broken)).encode("ascii")))
            await recording_send({"type": "http.response.start", "status": capture.status or 200, "headers": headers})
            await recording_send({"type": "http.response.body", "body": broken, "more_body": False})

        if vendor is None:
            return
        query = scope.get("query_string", b"").decode("latin-1")
        emulator.log_request({
            "timestamp": iso_millis(time.time()),
            "vendor": vendor,
            "method": method,
            "path": path,
            "route": route or path,
            "query": query,
            "status": status[0],
            # The status the application itself answered, under a fault that let it act (else null).
            "acted_status": acted[0],
            "fault": kind,
            "duration_ms": round((time.perf_counter() - started) * 1000.0, 3),
        })

    @staticmethod
    async def _answer(send, status, body, headers):
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode("ascii"))]
        raw_headers.extend((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload, "more_body": False})
