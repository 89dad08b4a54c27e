# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudGeni Scanning API (IaC repositories).

Documented: repositories, scans (trigger/get/list), findings of a scan, error bodies
``{error, message, details}``, per-minute limits (trigger 10, status 60, findings 30).

ASSUMPTIONS (docs/assumptions.md, CloudGeni section), all in this file:
  * finding status update: ``PATCH .../scans/{scanId}/findings/{findingId}`` with
    ``{"status": "open" | "resolved" | "suppressed"}``;
  * webhooks: ``/organizations/{orgId}/webhooks`` (list/create) and ``.../{webhookId}``
    (get/PATCH/DELETE), offset/limit lists, the secret is write-only;
  * no rate-limit headers: pacing comes from the documented limits (other calls 60/min);
  * the organization id comes from ``CLOUDGENI_ORG_ID`` when no option gives it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.pagination import iter_offset_limit
from ansible_collections.scanops.security.plugins.module_utils.providers.base import ProviderAdapter, sliding_window
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import Call
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import Vocabulary

PAGE_SIZE = 100
REPO = "/organizations/{orgId}/repositories/{repoId}"
FINDING_ROW = "Update a finding's status"
WEBHOOK_ROW = "Webhook registration"
SCANS_AND_FINDINGS = ("scan_run", "scan_info", "finding_info", "finding_status")
LOOKUPS = ("scan lookup", "findings lookup")

VOCABULARY = Vocabulary(
    "cloudgeni",
    scan_statuses={"queued": "queued", "running": "running", "completed": "completed",
                   "failed": "failed", "cancelled": "cancelled"},
    finding_statuses={"open": "open", "resolved": "resolved", "ignored": "suppressed"},
    severity_filter={"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
)


class CloudGeniAdapter(ProviderAdapter):
    """CloudGeni; every path is below ``/organizations/{orgId}``."""

    NAME = "cloudgeni"
    DISPLAY_NAME = "CloudGeni"
    DEFAULT_API_URL = "https://api.cloudgeni.ai/api/v1"
    API_KEY_ENV = ("CLOUDGENI_API_KEY",)
    API_URL_ENV = ("CLOUDGENI_API_URL",)
    ORGANIZATION_ENV = ("CLOUDGENI_ORG_ID",)
    MIN_POLL_INTERVAL = 5.0
    RATE_LIMITS = {
        "trigger": sliding_window(10, 60),
        "status": sliding_window(60, 60),
        "findings": sliding_window(30, 60),
        "read": sliding_window(60, 60),
        "write": sliding_window(60, 60),
    }
    VOCABULARY = VOCABULARY

    CALLS = (
        Call("list_repositories", "GET", "/organizations/{orgId}/repositories", ("resolve_target", "inventory"),
             SCANS_AND_FINDINGS + LOOKUPS + ("scan_targets inventory",),
             note="matched by id, full name or unique name"),
        Call("trigger_scan", "POST", REPO + "/scans", ("trigger_scan",), ("scan_run",), note="a 409 names the running scan"),
        Call("get_scan", "GET", REPO + "/scans/{scanId}", ("poll_scan", "scan_results"), ("scan_run", "scan_info"),
             note="`summary` counts, which the gate uses only when they are all zero"),
        Call("list_scans", "GET", REPO + "/scans", ("scan_history", "inventory"),
             ("scan_run", "scan_info", "scan_targets inventory") + LOOKUPS, note="the inventory reads the first page of 10"),
        Call("list_findings", "GET", REPO + "/scans/{scanId}/findings", ("list_findings", "scan_results"),
             ("scan_run", "finding_info", "finding_status") + LOOKUPS,
             note="the gate counts them (their status says which are suppressed or resolved)"),
        Call("update_finding_status", "PATCH", REPO + "/scans/{scanId}/findings/{findingId}", ("set_finding_status",),
             ("finding_status",), documented=False, assumption=FINDING_ROW, absent=("Finding not found",),
             note="open / resolved / suppressed"),
        Call("list_webhooks", "GET", "/organizations/{orgId}/webhooks", ("callbacks",),
             ("callback_endpoint", "callback_endpoint_info"), documented=False, assumption=WEBHOOK_ROW),
        Call("get_webhook", "GET", "/organizations/{orgId}/webhooks/{webhookId}", (), (), documented=False,
             assumption=WEBHOOK_ROW, absent=("Webhook not found",)),
        Call("create_webhook", "POST", "/organizations/{orgId}/webhooks", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=WEBHOOK_ROW),
        Call("update_webhook", "PATCH", "/organizations/{orgId}/webhooks/{webhookId}", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=WEBHOOK_ROW, absent=("Webhook not found",)),
        Call("delete_webhook", "DELETE", "/organizations/{orgId}/webhooks/{webhookId}", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=WEBHOOK_ROW, absent=("Webhook not found",)),
    )
    NO_CALL = {"sensors": "n/a",
               "fixes": "not available: the read-write scope names remediations, but no remediation API is published",
               "pull_requests": "not available", "quotas": "n/a"}
    FACTS = (
        ("authentication", True, "`X-CLOUDGENI-API-KEY`"),
        ("rate limits (client-side pacing)", True, "10 triggers, 60 status and 30 findings calls a minute; the wait a 429 "
                                                   "carries in `details.retryAfterSeconds` is an assumption (Rate-limit headers)"),
        ("pagination", True, "`limit`/`offset`, `pagination.total`"),
    )

    def auth_headers(self):
        return {"X-CLOUDGENI-API-KEY": self.api_key}

    def parse_error(self, status, data, text):
        """``{"error": "not_found", "message": "Scan not found", "details": {...}}``."""
        if not isinstance(data, dict):
            return {}
        details = data.get("details") if isinstance(data.get("details"), dict) else None
        # ASSUMPTION: no rate-limit headers, so a 429 carries its wait in details.retryAfterSeconds.
        retry_after = (details or {}).get("retryAfterSeconds")
        return {"code": data.get("error"), "message": data.get("message"), "details": details,
                "retry_after": float(retry_after) if isinstance(retry_after, (int, float)) else None}

    def _org(self):
        if not self.organization:
            raise ScanopsError("CloudGeni needs the organization id: set the organization option or CLOUDGENI_ORG_ID")
        return self.organization

    # -- repositories -----------------------------------------------------------------------------
    def list_repositories(self, git_provider=None):
        """All repositories of the organization (optionally one git provider: github, gitlab, azure-devops)."""
        return list(self.iter_call("list_repositories", iter_offset_limit, {"provider": git_provider}, limit=PAGE_SIZE,
                                   path_values={"orgId": self._org()}))

    # -- scans ----------------------------------------------------------------------------------
    def trigger_scan(self, repo_id, branch=None, commit=None, scan_type=None):
        """Start a scan (POST, never retried blindly); answers the queued scan.

        A 409 ``conflict`` means a scan is already running; its id is in
        ``err.details["existingScanId"]``.
        """
        body = dict((k, v) for k, v in (("branch", branch), ("commit", commit), ("type", scan_type)) if v)
        return self.call("trigger_scan", json_body=body, rate_class="trigger", orgId=self._org(), repoId=repo_id)

    def get_scan(self, repo_id, scan_id):
        """One scan with its ``summary`` counts once completed."""
        return self.call("get_scan", rate_class="status", orgId=self._org(), repoId=repo_id, scanId=scan_id)

    def list_scans(self, repo_id, status=None, branch=None, newest=None):
        """Scan history of a repository; ``status`` takes the normalized or CloudGeni word.

        ``newest=N`` reads only the first page, of N scans (the list is newest first, an assumption).
        """
        params = {"status": status.lower() if status else None, "branch": branch}
        return list(self.iter_call("list_scans", iter_offset_limit, params, limit=newest or PAGE_SIZE, rate_class="status",
                                   pages=1 if newest else None, path_values={"orgId": self._org(), "repoId": repo_id}))

    # -- findings -------------------------------------------------------------------------------
    def list_findings(self, repo_id, scan_id, severity=None, status=None):
        """Findings of one scan, filtered server-side by severity and/or finding status."""
        return list(self.iter_findings(repo_id, scan_id, severity=severity, status=status))

    def iter_findings(self, repo_id, scan_id, severity=None, status=None):
        """``list_findings`` one page at a time, for callers that may stop early."""
        params = {"severity": self.severity_filter(severity) if severity else None,
                  "status": self.vendor_finding_status(status) if status else None}
        return self.iter_call("list_findings", iter_offset_limit, params, limit=PAGE_SIZE, rate_class="findings",
                              path_values={"orgId": self._org(), "repoId": repo_id, "scanId": scan_id})

    def update_finding_status(self, repo_id, scan_id, finding_id, status):
        """ASSUMED endpoint: PATCH the finding's status (open, resolved, ignored=suppressed)."""
        return self.call("update_finding_status", json_body={"status": self.vendor_finding_status(status)},
                         orgId=self._org(), repoId=repo_id, scanId=scan_id, findingId=finding_id)

    # -- webhooks (ASSUMED) ------------------------------------------------------------------------
    def list_webhooks(self):
        """All registered webhooks."""
        return list(self.iter_call("list_webhooks", iter_offset_limit, limit=PAGE_SIZE, path_values={"orgId": self._org()}))

    def get_webhook(self, webhook_id):
        """One webhook."""
        return self.call("get_webhook", orgId=self._org(), webhookId=webhook_id)

    def create_webhook(self, url, events=None, secret=None, active=True):
        """Register a webhook (POST, not retried blindly). The secret is write-only."""
        self.client.add_secret(secret)
        body = {"url": url, "events": list(events or ["scan.completed"]), "active": bool(active)}
        if secret:
            body["secret"] = secret
        return self.call("create_webhook", json_body=body, orgId=self._org())

    def update_webhook(self, webhook_id, **fields):
        """PATCH any of ``url``, ``events``, ``secret``, ``active``."""
        self.client.add_secret(fields.get("secret"))
        body = dict((k, v) for k, v in fields.items() if v is not None)
        return self.call("update_webhook", json_body=body, orgId=self._org(), webhookId=webhook_id)

    def delete_webhook(self, webhook_id):
        """Delete a webhook (answers 204)."""
        return self.call("delete_webhook", orgId=self._org(), webhookId=webhook_id)

    # -- normalizers --------------------------------------------------------------------------------
    def normalize_scan(self, raw, target=None, counts=None):
        return self._scan(
            raw, raw.get("id"), target or raw.get("repositoryId"), raw.get("status"),
            created_at=raw.get("createdAt"), started_at=raw.get("startedAt"), completed_at=raw.get("completedAt"),
            counts=counts if counts is not None else raw.get("summary"),
            url=raw.get("url") or raw.get("dashboardUrl"),
        )

    def normalize_finding(self, raw):
        resource = raw.get("resource") or {}
        resource_name = ".".join(str(p) for p in (resource.get("type"), resource.get("name")) if p) or None
        location = {"file": resource.get("file"), "line": resource.get("line"), "resource": resource_name}
        return self._finding(raw, raw.get("id"), raw.get("checkId"), raw.get("title"), raw.get("severity"),
                             raw.get("status"), location, raw.get("firstSeenAt") or raw.get("createdAt"))
