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
from ansible_collections.scanops.security.plugins.module_utils.providers.base import (
    ProviderAdapter,
    seg,
    sliding_window,
)
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import Vocabulary

PAGE_SIZE = 100

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
        "trigger": sliding_window(10, 60, burst=2),
        "status": sliding_window(60, 60, burst=10),
        "findings": sliding_window(30, 60, burst=5),
        "read": sliding_window(60, 60, burst=10),
        "write": sliding_window(60, 60, burst=10),
    }
    VOCABULARY = VOCABULARY

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
        return "/organizations/%s" % seg(self.organization)

    def _repo(self, repo_id):
        return "%s/repositories/%s" % (self._org(), seg(repo_id))

    # -- repositories -----------------------------------------------------------------------------
    def list_repositories(self, git_provider=None):
        """All repositories of the organization (optionally one git provider: github, gitlab, azure-devops)."""
        return list(iter_offset_limit(self.client, "%s/repositories" % self._org(),
                                      {"provider": git_provider}, limit=PAGE_SIZE))

    # -- scans ----------------------------------------------------------------------------------
    def trigger_scan(self, repo_id, branch=None, commit=None, scan_type=None):
        """Start a scan (POST, never retried blindly); answers the queued scan.

        A 409 ``conflict`` means a scan is already running; its id is in
        ``err.details["existingScanId"]``.
        """
        body = dict((k, v) for k, v in (("branch", branch), ("commit", commit), ("type", scan_type)) if v)
        return self.client.request("POST", "%s/scans" % self._repo(repo_id), json_body=body, rate_class="trigger")

    def get_scan(self, repo_id, scan_id):
        """One scan with its ``summary`` counts once completed."""
        return self._get("%s/scans/%s" % (self._repo(repo_id), seg(scan_id)), rate_class="status")

    def list_scans(self, repo_id, status=None, branch=None):
        """Scan history of a repository; ``status`` takes the normalized or CloudGeni word."""
        params = {"status": status.lower() if status else None, "branch": branch}
        return list(iter_offset_limit(self.client, "%s/scans" % self._repo(repo_id), params,
                                      limit=PAGE_SIZE, rate_class="status"))

    # -- findings -------------------------------------------------------------------------------
    def list_findings(self, repo_id, scan_id, severity=None, status=None):
        """Findings of one scan, filtered server-side by severity and/or finding status."""
        params = {"severity": self.severity_filter(severity) if severity else None,
                  "status": self.vendor_finding_status(status) if status else None}
        return list(iter_offset_limit(self.client, "%s/scans/%s/findings" % (self._repo(repo_id), seg(scan_id)),
                                      params, limit=PAGE_SIZE, rate_class="findings"))

    def iter_findings(self, repo_id, scan_id, severity=None, status=None):
        """``list_findings`` one page at a time, for callers that may stop early."""
        params = {"severity": self.severity_filter(severity) if severity else None,
                  "status": self.vendor_finding_status(status) if status else None}
        return iter_offset_limit(self.client, "%s/scans/%s/findings" % (self._repo(repo_id), seg(scan_id)),
                                 params, limit=PAGE_SIZE, rate_class="findings")

    def update_finding_status(self, repo_id, scan_id, finding_id, status):
        """ASSUMED endpoint: PATCH the finding's status (open, resolved, ignored=suppressed)."""
        path = "%s/scans/%s/findings/%s" % (self._repo(repo_id), seg(scan_id), seg(finding_id))
        return self.client.request("PATCH", path, json_body={"status": self.vendor_finding_status(status)})

    # -- webhooks (ASSUMED) ------------------------------------------------------------------------
    def list_webhooks(self):
        """All registered webhooks."""
        return list(iter_offset_limit(self.client, "%s/webhooks" % self._org(), limit=PAGE_SIZE))

    def get_webhook(self, webhook_id):
        """One webhook."""
        return self._get("%s/webhooks/%s" % (self._org(), seg(webhook_id)))

    def create_webhook(self, url, events=None, secret=None, active=True):
        """Register a webhook (POST, not retried blindly). The secret is write-only."""
        self.client.add_secret(secret)
        body = {"url": url, "events": list(events or ["scan.completed"]), "active": bool(active)}
        if secret:
            body["secret"] = secret
        return self.client.request("POST", "%s/webhooks" % self._org(), json_body=body)

    def update_webhook(self, webhook_id, **fields):
        """PATCH any of ``url``, ``events``, ``secret``, ``active``."""
        self.client.add_secret(fields.get("secret"))
        body = dict((k, v) for k, v in fields.items() if v is not None)
        return self.client.request("PATCH", "%s/webhooks/%s" % (self._org(), seg(webhook_id)), json_body=body)

    def delete_webhook(self, webhook_id):
        """Delete a webhook (answers 204)."""
        return self.client.request("DELETE", "%s/webhooks/%s" % (self._org(), seg(webhook_id)))

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
