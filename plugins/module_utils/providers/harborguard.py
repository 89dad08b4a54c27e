# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HarborGuard (container images).

Documented: ``/api/scans`` (list with page/limit<=200 and ``meta.hasNext``, create, get, status,
delete), ``/api/vulnerabilities`` (list with filters) and ``PUT .../{vulnId}/triage`` (POST is an
alias); ``X-API-Key`` or ``Authorization: Bearer``; error bodies
``{"error": {"code", "message", "issues": [{"path", "message"}]}}``; POST /api/scans is limited
to 10 a minute (sliding 60 s window), other calls are unlimited.

ASSUMPTIONS (docs/assumptions.md, HarborGuard section), all in this file:
  * ``GET /api/scans?search=<image reference>`` matches the image ``name:tag`` or digest;
  * the triage body is ``{"status", "assignee", "note"}``;
  * the key comes from ``HARBORGUARD_API_KEY``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import urljoin

from ansible_collections.scanops.security.plugins.module_utils.pagination import iter_page_has_next
from ansible_collections.scanops.security.plugins.module_utils.providers.base import (
    ProviderAdapter,
    seg,
    sliding_window,
    unwrap,
)
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import Call
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import Vocabulary

PAGE_SIZE = 200
AUTH_SCHEMES = ("bearer", "x_api_key")
SEARCH_ROW = "Finding the scans of an image"
BODIES_ROW = "Status and delete bodies"
SCANNERS = ("trivy", "grype", "syft", "dive", "dockle", "osv")

VOCABULARY = Vocabulary(
    "harborguard",
    scan_statuses={"QUEUED": "queued", "IN_PROGRESS": "running", "RUNNING": "running",
                   "COMPLETE": "completed", "COMPLETED": "completed", "FAILED": "failed",
                   "CANCELLED": "cancelled"},
    finding_statuses={"open": "OPEN", "acknowledged": "ACKNOWLEDGED", "in_progress": "IN_PROGRESS",
                      "resolved": "FIXED", "ignored": "WONT_FIX"},
    severity_filter={"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "NEGLIGIBLE"},
)


class HarborGuardAdapter(ProviderAdapter):
    """HarborGuard; Bearer by default, ``X-API-Key`` with ``auth_scheme: x_api_key``."""

    NAME = "harborguard"
    DISPLAY_NAME = "HarborGuard"
    DEFAULT_API_URL = "https://harborguard.co"
    API_KEY_ENV = ("HARBORGUARD_API_KEY",)
    API_URL_ENV = ("HARBORGUARD_API_URL",)
    MIN_POLL_INTERVAL = 5.0
    RATE_LIMITS = {
        "scan_create": sliding_window(10, 60),
        # GET/PUT/DELETE are unlimited; a generous pace keeps bulk work polite.
        "read": (20.0, 20),
        "write": (20.0, 20),
    }
    UNLIMITED_CLASSES = ("read", "write")
    VOCABULARY = VOCABULARY

    CALLS = (
        Call("list_scans", "GET", "/api/scans", ("scan_history", "inventory"),
             ("scan_run", "scan_info", "scan_targets inventory", "scan lookup"), assumed_params=("search",),
             assumption=SEARCH_ROW, note="the inventory reads every page: each tag is an image"),
        Call("create_scan", "POST", "/api/scans", ("trigger_scan",), ("scan_run",), note="10 a minute"),
        Call("get_scan", "GET", "/api/scans/{scanId}", ("poll_scan", "scan_results", "inventory"),
             ("scan_run", "scan_info", "scan_targets inventory", "scan lookup", "findings lookup"),
             note="the finished scan with its image and vulnerabilities; the inventory reads one per image"),
        Call("get_scan_status", "GET", "/api/scans/{scanId}/status", ("poll_scan",), ("scan_run",), assumed_answer=True,
             assumption=BODIES_ROW, note="the polling call"),
        Call("delete_scan", "DELETE", "/api/scans/{scanId}", (), (), assumed_answer=True, assumption=BODIES_ROW),
        Call("list_vulnerabilities", "GET", "/api/vulnerabilities", ("list_findings",),
             ("finding_info", "finding_status", "findings lookup")),
        Call("set_triage", "PUT", "/api/vulnerabilities/{vulnId}/triage", ("set_finding_status",), ("finding_status",),
             assumed_fields=("status", "assignee", "note"), assumption="Triage request body"),
    )
    NO_CALL = {"resolve_target": "none: the image reference is used as given",
               "callbacks": "not available: webhooks are configured in the UI",
               "sensors": "n/a", "fixes": "not available", "pull_requests": "not available",
               "quotas": "n/a (plan limits answer 402 `PLAN_LIMIT`)"}
    FACTS = (
        ("authentication", True, "`Authorization: Bearer hg_...` or `X-API-Key` (`auth_scheme`)"),
        ("rate limits (client-side pacing)", True, "10 scan creations a minute, `Retry-After`"),
        ("pagination", True, "`page`/`limit`, `meta.hasNext`"),
    )

    def auth_headers(self):
        if self.auth_scheme == "x_api_key":
            return {"X-API-Key": self.api_key}
        return {"Authorization": "Bearer %s" % self.api_key}

    def parse_error(self, status, data, text):
        """``{"error": {"code": "NOT_FOUND", "message": "...", "issues": [{"path", "message"}]}}``."""
        if not isinstance(data, dict):
            return {}
        error = data.get("error")
        if not isinstance(error, dict):
            return {"code": None, "message": error if isinstance(error, str) else None}
        message = error.get("message")
        issues = [i for i in (error.get("issues") or []) if isinstance(i, dict)]
        if issues:
            listed = "; ".join("%s: %s" % (i.get("path"), i.get("message")) if i.get("path") else str(i.get("message"))
                               for i in issues)
            message = "%s (%s)" % (message, listed) if message else listed
        return {"code": error.get("code"), "message": message, "details": {"issues": issues} if issues else None}

    # -- scans ----------------------------------------------------------------------------------------
    def list_scans(self, status=None, search=None, sort=None):
        """Every scan, filtered by vendor status (normalized words accepted) and/or image search."""
        if status and status.lower() in ("queued", "running", "completed", "failed", "cancelled"):
            status = self.vocabulary.vendor_scan_statuses(status.lower())[0].upper()
        params = {"status": status.upper() if status else None, "search": search, "sort": sort}
        return list(self.iter_call("list_scans", iter_page_has_next, params, limit=PAGE_SIZE))

    def create_scan(self, image, scanners=None):
        """Queue a scan of ``image`` (POST, 10 a minute, not retried blindly).

        Answers ``{scanId, status, message, url}``.
        """
        body = {"image": image}
        if scanners:
            body["scanners"] = list(scanners)
        return self.call("create_scan", json_body=body, rate_class="scan_create")

    def get_scan(self, scan_id):
        """One scan with image, vulnerabilities, packages and layers (unwrapped from ``data``)."""
        return unwrap(self.call("get_scan", scanId=scan_id))

    def get_scan_status(self, scan_id):
        """The light status call (unwrapped from ``data``)."""
        return unwrap(self.call("get_scan_status", scanId=scan_id))

    def delete_scan(self, scan_id):
        """Delete a scan (admin role)."""
        return self.call("delete_scan", scanId=scan_id)

    # -- vulnerabilities -----------------------------------------------------------------------------
    def list_vulnerabilities(self, severity=None, status=None, scanner=None, image=None, package=None,
                             cve_id=None, search=None, sort=None):
        """Every vulnerability matching the documented filters (``status`` is a triage status)."""
        params = {"severity": self.severity_filter(severity) if severity else None,
                  "status": self.vendor_finding_status(status) if status else None,
                  "scanner": scanner, "image": image, "package": package, "cveId": cve_id,
                  "search": search, "sort": sort}
        return list(self.iter_call("list_vulnerabilities", iter_page_has_next, params, limit=PAGE_SIZE))

    def iter_vulnerabilities(self, severity=None, status=None, image=None, package=None, cve_id=None):
        """``list_vulnerabilities`` one page at a time, for callers that may stop early."""
        params = {"severity": self.severity_filter(severity) if severity else None,
                  "status": self.vendor_finding_status(status) if status else None,
                  "image": image, "package": package, "cveId": cve_id}
        return self.iter_call("list_vulnerabilities", iter_page_has_next, params, limit=PAGE_SIZE)

    def set_triage(self, vuln_id, status=None, assignee=None, note=None):
        """PUT the triage of a vulnerability (internal id or CVE id); answers the triage object."""
        body = {}
        if status is not None:
            body["status"] = self.vendor_finding_status(status)
        if assignee is not None:
            body["assignee"] = assignee
        if note is not None:
            body["note"] = note
        return unwrap(self.call("set_triage", json_body=body, vulnId=vuln_id))

    # -- normalizers ------------------------------------------------------------------------------------
    def dashboard_url(self, url):
        """Absolute form of a relative ``/dashboard/...`` URL the API answers."""
        return urljoin(self.api_url + "/", url) if url else None

    @staticmethod
    def _dashboard_path(raw):
        # The create answer documents the scan page as /dashboard/scans/<scanId>; GET omits it.
        scan_id = raw.get("id") or raw.get("scanId")
        return "/dashboard/scans/%s" % seg(scan_id) if scan_id else None

    def normalize_scan(self, raw, target=None, counts=None):
        image = raw.get("image") if isinstance(raw.get("image"), dict) else {}
        if target is None and image.get("name"):
            target = "%s:%s" % (image["name"], image["tag"]) if image.get("tag") else image["name"]
        duration_ms = raw.get("duration")
        if counts is None and isinstance(raw.get("vulnerabilities"), list):
            counts = self.count_severities(raw["vulnerabilities"])
        return self._scan(
            raw, raw.get("id") or raw.get("scanId"), target or (raw.get("image") if isinstance(raw.get("image"), str) else None),
            raw.get("status"), created_at=raw.get("createdAt") or raw.get("scannedAt"), started_at=raw.get("scannedAt"),
            completed_at=raw.get("completedAt"),
            duration_seconds=round(duration_ms / 1000.0, 3) if isinstance(duration_ms, (int, float)) else None,
            counts=counts, url=self.dashboard_url(raw.get("url") or self._dashboard_path(raw)),
        )

    def normalize_finding(self, raw):
        triage = raw.get("triage") or {}
        timeline = raw.get("timeline") or {}
        location = {"package": raw.get("package"), "version": raw.get("version"), "fixed_version": raw.get("fixedVersion")}
        return self._finding(raw, raw.get("id"), raw.get("cveId"), raw.get("title") or raw.get("cveId"),
                             raw.get("severity"), triage.get("status") or "OPEN", location,
                             timeline.get("firstSeenAt") or timeline.get("detectedAt"))
