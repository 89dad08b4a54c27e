# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kolega DevSec public API (source repositories), paths under ``/api/v1``.

Documented (kolega-public-api.txt, kolega-openapi.json): skip/limit lists with ``has_next``,
scan batches (a POST answers 202 with the batch), progress and aggregated results, findings
with a PATCH for the status, finding events, quota balance. Errors are
``{"detail": {"detail", "error_code", "quota_type"}}`` or FastAPI's 422
``{"detail": [{"loc", "msg", "type"}]}``.

ASSUMPTIONS (docs/assumptions.md, Kolega section): no published rate limit, so the client
paces itself at 10 requests a second; batch statuses other than the documented terminal ones
(completed, succeeded, failed, partial_failure, cancelled) are read as below.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.pagination import iter_skip_limit
from ansible_collections.scanops.security.plugins.module_utils.providers.base import ProviderAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import Call
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import Vocabulary

PAGE_SIZE = 200
REPO = "/api/v1/repositories/{repository_id}"
SCAN_TYPES = ("secrets_scan", "semgrep_scan", "deep_ai_scan", "sbom_scan")

VOCABULARY = Vocabulary(
    "kolega",
    scan_statuses={
        "queued": "queued", "pending": "queued", "creating_scans": "queued",
        "running": "running", "in_progress": "running", "scanning": "running", "assessing": "running",
        "completed": "completed", "succeeded": "completed",
        "failed": "failed", "partial_failure": "failed",
        "cancelled": "cancelled", "canceled": "cancelled",
    },
    finding_statuses={"open": "open", "resolved": "resolved", "ignored": "ignored",
                      "false_positive": "false_positive", "needs_manual_review": "needs_manual_review"},
    severity_filter={"critical": "critical", "high": "high", "medium": "medium", "low": "low"},
)


def _validation_message(issues):
    parts = []
    for issue in issues:
        if not isinstance(issue, dict):
            continue
        loc = ".".join(str(p) for p in (issue.get("loc") or []))
        parts.append("%s: %s" % (loc, issue.get("msg")) if loc else str(issue.get("msg")))
    return "; ".join(parts) or None


class KolegaAdapter(ProviderAdapter):
    """Kolega DevSec; ``Authorization: Bearer kcp_live_...``."""

    NAME = "kolega"
    DISPLAY_NAME = "Kolega DevSec"
    DEFAULT_API_URL = "https://api.kolega.dev"
    API_KEY_ENV = ("KOLEGA_TOKEN",)
    API_URL_ENV = ("KOLEGA_API_URL",)
    MIN_POLL_INTERVAL = 5.0
    RATE_LIMITS = {"read": (10.0, 10), "write": (10.0, 10)}
    VOCABULARY = VOCABULARY

    CALLS = (
        Call("me", "GET", "/api/v1/me"),
        Call("quota_balance", "GET", "/api/v1/quotas/balance"),
        Call("list_repositories", "GET", "/api/v1/repositories", ("resolve_target",),
             ("scan_run", "scan_info", "finding_info", "finding_status"),
             note="by scan_run and scan_info always; by the findings modules only for a value not shaped like an id (UUID)"),
        Call("get_repository", "GET", REPO),
        Call("trigger_scan", "POST", REPO + "/scans", ("trigger_scan",), ("scan_run",), note="202 with the batch"),
        Call("list_scans", "GET", REPO + "/scans", ("scan_history",), ("scan_run", "scan_info")),
        Call("get_scan", "GET", REPO + "/scans/{scan_id}", ("poll_scan",), ("scan_info",), note="scan_info with scan_id"),
        Call("get_scan_progress", "GET", REPO + "/scans/{scan_id}/progress", ("poll_scan",), ("scan_run",),
             note="the polling call"),
        Call("get_scan_results", "GET", REPO + "/scans/{scan_id}/results", ("scan_results",), ("scan_run",),
             note="every finding of the batch in one call"),
        Call("list_findings", "GET", REPO + "/findings", ("list_findings",), ("finding_info", "finding_status")),
        Call("get_finding", "GET", REPO + "/findings/{finding_id}"),
        Call("update_finding_status", "PATCH", REPO + "/findings/{finding_id}", ("set_finding_status",), ("finding_status",)),
        Call("list_finding_events", "GET", "/api/v1/finding-events"),
    )
    NO_CALL = {"callbacks": "not available: no webhooks (finding changes are in `/api/v1/finding-events`)",
               "sensors": "n/a"}
    FACTS = (
        ("authentication", True, "`Authorization: Bearer kcp_...`"),
        ("rate limits (client-side pacing)", False, "10 a second (Rate limits)"),
        ("pagination", True, "`skip`/`limit`, `has_next`"),
    )

    def parse_error(self, status, data, text):
        """``{"detail": {...}}`` (vendor error), ``{"detail": [...]}`` (422) or ``{"detail": "..."}``."""
        if not isinstance(data, dict):
            return {}
        detail = data.get("detail")
        if isinstance(detail, dict):
            message = detail.get("detail") or detail.get("message")
            if detail.get("quota_type"):
                message = "%s (quota: %s)" % (message or "quota exhausted", detail["quota_type"])
            return {"code": detail.get("error_code"), "message": message,
                    "details": {"quota_type": detail.get("quota_type")} if detail.get("quota_type") else None}
        if isinstance(detail, list):
            return {"code": None, "message": _validation_message(detail), "details": {"issues": detail}}
        if isinstance(detail, str):
            return {"code": data.get("error_code"), "message": detail}
        return {}

    # -- identity and quotas ------------------------------------------------------------------------
    def me(self):
        """The calling key's organization, scopes and key prefix."""
        return self.call("me")

    def quota_balance(self):
        """Current-period quota counters (prs, sast_scans, deep_ai_scans, repositories)."""
        return self.call("quota_balance")

    # -- repositories --------------------------------------------------------------------------------
    def list_repositories(self, include_archived=False):
        """Every repository of the organization."""
        return list(self.iter_call("list_repositories", iter_skip_limit, {"include_archived": bool(include_archived)},
                                   limit=PAGE_SIZE))

    def get_repository(self, repository_id):
        """One repository."""
        return self.call("get_repository", repository_id=repository_id)

    # -- scan batches -------------------------------------------------------------------------------
    def trigger_scan(self, repository_id, scan_type):
        """Create a scan batch (POST, 202 with the batch). 403 OPERATION_FAILED = quota exhausted."""
        return self.call("trigger_scan", json_body={"scan_type": scan_type}, repository_id=repository_id)

    def list_scans(self, repository_id, scan_type=None, status=None):
        """Scan batches of a repository, optionally filtered by scan type and vendor status."""
        return list(self.iter_call("list_scans", iter_skip_limit, {"scan_type": scan_type, "status": status}, limit=PAGE_SIZE,
                                   path_values={"repository_id": repository_id}))

    def get_scan(self, repository_id, scan_id):
        """One scan batch (``scan_id`` is the batch id)."""
        return self.call("get_scan", repository_id=repository_id, scan_id=scan_id)

    def get_scan_progress(self, repository_id, scan_id):
        """Batch progress with ``percent_complete`` and a per-repository breakdown (the polling call)."""
        return self.call("get_scan_progress", repository_id=repository_id, scan_id=scan_id)

    def get_scan_results(self, repository_id, scan_id):
        """Findings aggregated across the batch: ``{batch_id, status, findings_count, findings}``."""
        return self.call("get_scan_results", repository_id=repository_id, scan_id=scan_id)

    # -- findings -------------------------------------------------------------------------------------
    def list_findings(self, repository_id, scan_batch_id=None, severity=None, status=None, scan_type=None):
        """Findings of a repository with the documented server-side filters."""
        return list(self.iter_findings(repository_id, scan_batch_id=scan_batch_id, severity=severity, status=status,
                                       scan_type=scan_type))

    def iter_findings(self, repository_id, scan_batch_id=None, severity=None, status=None, scan_type=None):
        """``list_findings`` one page at a time, for callers that may stop early."""
        params = {"scan_batch_id": scan_batch_id, "severity": self.severity_filter(severity) if severity else None,
                  "status": self.vendor_finding_status(status) if status else None, "scan_type": scan_type}
        return self.iter_call("list_findings", iter_skip_limit, params, limit=PAGE_SIZE,
                              path_values={"repository_id": repository_id})

    def get_finding(self, repository_id, finding_id):
        """One finding."""
        return self.call("get_finding", repository_id=repository_id, finding_id=finding_id)

    def update_finding_status(self, repository_id, finding_id, status):
        """PATCH the status (open, resolved, ignored, false_positive, needs_manual_review)."""
        return self.call("update_finding_status", json_body={"status": self.vendor_finding_status(status)},
                         repository_id=repository_id, finding_id=finding_id)

    def list_finding_events(self, repository_id=None, finding_id=None, scan_type=None, severity=None,
                            event_type=None, start=None, end=None):
        """Organization-wide finding lifecycle events, newest first, all pages."""
        params = {"repository_id": repository_id, "finding_id": finding_id, "scan_type": scan_type,
                  "severity": severity, "event_type": event_type, "start": start, "end": end}
        return list(self.iter_call("list_finding_events", iter_skip_limit, params, limit=PAGE_SIZE))

    # -- normalizers ------------------------------------------------------------------------------------
    def normalize_scan(self, raw, target=None, counts=None):
        return self._scan(
            raw, raw.get("batch_id") or raw.get("id"), target or raw.get("repository_id"), raw.get("status"),
            created_at=raw.get("created_at"), started_at=raw.get("started_at"), completed_at=raw.get("completed_at"),
            counts=counts, url=None,
        )

    def normalize_finding(self, raw):
        # Batch results carry summaries without an id; their fingerprint identifies them.
        location = {"file": raw.get("file_path"), "line": raw.get("line")}
        return self._finding(raw, raw.get("id") or raw.get("fingerprint"), raw.get("check_id"),
                             raw.get("title") or raw.get("message"), raw.get("severity"), raw.get("status"),
                             location, raw.get("first_detected_at"))
