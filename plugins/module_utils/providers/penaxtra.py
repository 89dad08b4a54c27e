# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Penaxtra cloud-posture runs (cloud accounts).

Documented: ``GET/POST /api/v2/cloud-posture-runs`` (the POST answers 202 without a run id;
the list is newest first, capped at 100), ``GET /api/v2/findings?severity=`` (capped at 200,
newest first), ``GET``/``PATCH /api/v2/findings/{id}``; Bearer tokens; 60 requests a minute per
token with a burst of 120; errors ``{"error": "<code>"}`` and on 429 ``retry_after_seconds``
(0 = circuit breaker open); poll no more often than every 10 s.

ASSUMPTIONS (docs/assumptions.md, Penaxtra section), all in this file:
  * finding statuses open, triaged, in_progress, fixed, risk_accepted, false_positive;
  * the findings ``scan_id`` filter is planned, so it is applied on our side;
  * the token comes from ``PENAXTRA_TOKEN``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.pagination import iter_capped_list
from ansible_collections.scanops.security.plugins.module_utils.providers.base import ProviderAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import Call
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import Vocabulary

RUNS_CAP = 100
FINDINGS_CAP = 200
BODIES_ROW = "Finding bodies"
# The page lists the statuses only as "open, triaged, fix...": the others are ours.
ASSUMED_STATUSES = ("in_progress", "fixed", "risk_accepted", "false_positive")

VOCABULARY = Vocabulary(
    "penaxtra",
    scan_statuses={"queued": "queued", "pending": "queued", "running": "running", "completed": "completed",
                   "failed": "failed", "cancelled": "cancelled"},
    finding_statuses={"open": "open", "acknowledged": "triaged", "in_progress": "in_progress",
                      "resolved": "fixed", "ignored": "risk_accepted", "false_positive": "false_positive"},
    severity_filter={"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
)

# What the documented error codes mean, for codes that come without a message.
ERROR_REASONS = {
    "missing_token": "no bearer token was sent",
    "invalid_token": "the token is not valid",
    "expired_token": "the token has expired",
    "missing_scope": "the token lacks the scope this call needs",
    "ip_not_allowed": "calls from this IP address are not allowed for the token",
    "invalid_integration_id": "integration_id is missing or not a UUID",
    "integration_not_found": "no such integration in this tenant",
    "payload_too_large": "the request body is larger than the 1 MiB limit",
    "rate_limited": "rate limited",
    "enqueue_failed": "the scan worker rejected the run",
    "invalid_finding_id": "the finding id is not valid",
    "finding_not_found": "no such finding",
}


class PenaxtraAdapter(ProviderAdapter):
    """Penaxtra; ``Authorization: Bearer <token>``."""

    NAME = "penaxtra"
    DISPLAY_NAME = "Penaxtra"
    DEFAULT_API_URL = "https://penaxtra.com"
    API_KEY_ENV = ("PENAXTRA_TOKEN",)
    API_URL_ENV = ("PENAXTRA_API_URL",)
    MIN_POLL_INTERVAL = 10.0
    # One bucket per token on the vendor side: 1 request a second, burst 120, all calls.
    RATE_LIMITS = {"read": (1.0, 120), "write": (1.0, 120)}
    # The page documents 60 a minute with a burst of 120; the X-RateLimit-Limit header says 60.
    LIMIT_HEADER_CAPS_BURST = False
    # ASSUMPTION (docs/assumptions.md, Penaxtra): X-RateLimit-Reset is when the token's bucket is full again.
    RATE_LIMIT_RESET_IS_FULL = True
    VOCABULARY = VOCABULARY

    CALLS = (
        Call("list_runs", "GET", "/api/v2/cloud-posture-runs", ("poll_scan", "scan_history", "inventory"),
             ("scan_run", "scan_info", "scan_targets inventory", "scan lookup", "findings lookup"),
             note="newest first, at most 100, filtered by integration here; the inventory's targets are their integrations"),
        Call("trigger_run", "POST", "/api/v2/cloud-posture-runs", ("trigger_scan",), ("scan_run",),
             note="202 without a run id: the run is found in the list"),
        Call("list_findings", "GET", "/api/v2/findings", ("list_findings", "scan_results"),
             ("scan_run", "finding_info", "finding_status", "scan lookup", "findings lookup"), assumed_answer=True,
             assumption=BODIES_ROW,
             note="the newest 200; the `scan_id` filter is applied here (Finding `scan_id` filter)"),
        Call("get_finding", "GET", "/api/v2/findings/{id}", ("list_findings",),
             ("finding_info", "finding_status", "findings lookup"),
             assumed_answer=True, assumption=BODIES_ROW, note="ids older than the capped list"),
        Call("update_finding_status", "PATCH", "/api/v2/findings/{id}", ("set_finding_status",), ("finding_status",),
             assumed_values={"status": ASSUMED_STATUSES}, assumption="Finding statuses"),
    )
    NO_CALL = {"resolve_target": "none: the integration id is used as given",
               "callbacks": "not available: no public endpoint",
               "sensors": "n/a", "fixes": "not available", "pull_requests": "not available", "quotas": "n/a"}
    FACTS = (
        ("authentication", True, "`Authorization: Bearer`"),
        ("rate limits (client-side pacing)", True, "60 a minute, burst 120, `X-RateLimit-*`; 2 manual runs per "
                                                   "integration a day"),
        ("pagination", True, "capped newest-first lists"),
    )

    @classmethod
    def build_limiters(cls, rate_limit=None, clock=None, sleep=None, shared_key=None):
        # Reads and writes share the vendor's single per-token bucket, so share one limiter.
        limiters = super(PenaxtraAdapter, cls).build_limiters(rate_limit, clock, sleep, shared_key)
        if "read" in limiters:
            limiters["write"] = limiters["read"]
        return limiters

    def parse_error(self, status, data, text):
        """``{"error": "rate_limited", "retry_after_seconds": N, "limit", "window"}`` and friends."""
        if not isinstance(data, dict):
            return {}
        code = data.get("error")
        message = data.get("message") or ERROR_REASONS.get(code) or code
        retry_after = data.get("retry_after_seconds")
        breaker = retry_after == 0 and not isinstance(retry_after, bool)
        if breaker:
            # 0 means a circuit breaker tripped: no useful hint (the Retry-After header repeats the 0), back off.
            message = "%s (circuit breaker open)" % message
            retry_after = None
        elif code == "rate_limited" and data.get("limit") is not None:
            message = "%s (%s per %s)" % (message, data.get("limit"), data.get("window"))
        details = dict((k, v) for k, v in data.items() if k not in ("error", "message")) or None
        return {"code": code, "message": message,
                "retry_after": float(retry_after) if isinstance(retry_after, (int, float)) else None,
                "details": details, "no_retry_hint": breaker}

    # -- runs --------------------------------------------------------------------------------------------
    def list_runs(self, integration_id=None):
        """The newest runs (at most 100), optionally only those of one integration (filtered here)."""
        runs = list(self.iter_call("list_runs", iter_capped_list, cap=RUNS_CAP))
        if integration_id:
            wanted = str(integration_id).lower()
            runs = [r for r in runs if str(r.get("integration_id") or "").lower() == wanted]
        return runs

    def trigger_run(self, integration_id):
        """Start a manual run (POST, 202 without a run id; find the run with ``list_runs``).

        Only two manual runs per integration per 24 h: a 429 with a long retry hint follows.
        """
        return self.call("trigger_run", json_body={"integration_id": integration_id})

    # -- findings ------------------------------------------------------------------------------------------
    def list_findings(self, severity=None, scan_id=None, status=None):
        """The newest findings (at most 200); ``scan_id`` and ``status`` are filtered here."""
        params = {"severity": self.severity_filter(severity) if severity else None}
        findings = list(self.iter_call("list_findings", iter_capped_list, params, cap=FINDINGS_CAP))
        if scan_id:
            findings = [f for f in findings if f.get("scan_id") == scan_id]
        if status:
            wanted = self.vendor_finding_status(status)
            findings = [f for f in findings if str(f.get("status", "")).lower() == wanted]
        return findings

    def get_finding(self, finding_id):
        """One finding with ``risk_refs`` and ``summary``."""
        return self.call("get_finding", id=finding_id)

    def update_finding_status(self, finding_id, status):
        """PATCH the status (``findings:write`` scope)."""
        return self.call("update_finding_status", json_body={"status": self.vendor_finding_status(status)}, id=finding_id)

    # -- normalizers ---------------------------------------------------------------------------------------
    def normalize_scan(self, raw, target=None, counts=None):
        duration_ms = raw.get("duration_ms")
        return self._scan(
            raw, raw.get("id"), target or raw.get("integration_id"), raw.get("status"),
            created_at=raw.get("started_at"), started_at=raw.get("started_at"), completed_at=raw.get("completed_at"),
            duration_seconds=round(duration_ms / 1000.0, 3) if isinstance(duration_ms, (int, float)) else None,
            counts=counts, url=None,
        )

    def normalize_finding(self, raw):
        location = {"resource": raw.get("resource") or raw.get("asset")}
        return self._finding(raw, raw.get("id"), raw.get("control_id"), raw.get("title"), raw.get("severity"),
                             raw.get("status"), location, raw.get("discovered_at"))
