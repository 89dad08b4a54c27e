# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kolega DevSec public API (source repositories), paths under ``/api/v1``.

Documented (kolega-public-api.txt, kolega-openapi.json): skip/limit lists with ``has_next``,
scan batches (a POST answers 202 with the batch), progress and aggregated results, findings
with a PATCH for the status, finding events, quota balance. Errors are
``{"detail": {"detail", "error_code", "quota_type"}}`` or FastAPI's 422
``{"detail": [{"loc", "msg", "type"}]}``.

Fixes (autofix runs) and their pull requests: list, get, progress (the polling call), diff,
create, refine, cancel, open pull requests.

ASSUMPTIONS (docs/assumptions.md, Kolega section): no published rate limit, so the client
paces itself at 10 requests a second; batch statuses other than the documented terminal ones
(completed, succeeded, failed, partial_failure, cancelled) are read as below; which quota each
fix POST uses (``QUOTA_OF``); and that a fix lists the follow-up instructions it was refined
with (``FIX_REFINEMENTS_FIELD``), which the published fix schema does not show.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.pagination import iter_skip_limit
from ansible_collections.scanops.security.plugins.module_utils.providers.base import ProviderAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import Call
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import Vocabulary

PAGE_SIZE = 200
REPO = "/api/v1/repositories/{repository_id}"
FIX = REPO + "/fixes/{fix_id}"
LOOKUPS = ("scan lookup", "findings lookup")
SCAN_TYPES = ("secrets_scan", "semgrep_scan", "deep_ai_scan", "sbom_scan")
# Documented limits of the fix request bodies (PublicFixCreateRequest, PublicFixRefineRequest).
FIX_TITLE_MAX = 200
REFINE_INSTRUCTIONS_MAX = 12000

# ASSUMPTION (Quota consumption): the quota counter of /quotas/balance each fix POST draws on. The
# vendor documents that an exhausted quota refuses a POST with 403 OPERATION_FAILED naming it, not
# which POST uses which. Creating a fix is refused once no pull request could follow it; refine and
# cancel draw on none.
QUOTA_OF = {"create_fix": "prs", "create_pull_requests": "prs"}

# ASSUMPTION (Refinement history of a fix): a fix lists its refinements, oldest first, as
# [{"instructions", "created_at"}] under this key. The published PublicFixResponse has no such
# field; without it nobody can tell whether follow-up instructions were already applied, so
# callers must not guess (see fix_refinements).
FIX_REFINEMENTS_FIELD = "refinements"

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
    FIX_TITLE_MAX = FIX_TITLE_MAX
    REFINE_INSTRUCTIONS_MAX = REFINE_INSTRUCTIONS_MAX
    FIX_REFINEMENTS_FIELD = FIX_REFINEMENTS_FIELD

    CALLS = (
        Call("me", "GET", "/api/v1/me"),
        Call("quota_balance", "GET", "/api/v1/quotas/balance", ("quotas",), ("finding_fix",),
             note="before creating a fix or opening its pull requests; both draw on `prs` (Quota consumption)"),
        Call("list_repositories", "GET", "/api/v1/repositories", ("resolve_target", "inventory"),
             ("scan_run", "scan_info", "finding_info", "finding_status", "finding_fix", "finding_fix_info",
              "scan_targets inventory") + LOOKUPS,
             note="by scan_run and scan_info always; by the findings and fix modules only for a value not shaped like an id (UUID)"),
        Call("get_repository", "GET", REPO, ("fixes",), ("finding_fix",),
             note="its source repositories, before a fix is created"),
        Call("trigger_scan", "POST", REPO + "/scans", ("trigger_scan",), ("scan_run",), note="202 with the batch"),
        Call("list_scans", "GET", REPO + "/scans", ("scan_history", "inventory"),
             ("scan_run", "scan_info", "scan_targets inventory") + LOOKUPS, note="the inventory reads the first page of 50"),
        Call("get_scan", "GET", REPO + "/scans/{scan_id}", ("poll_scan",), ("scan_run", "scan_info"), note="scan_run and scan_info with scan_id"),
        Call("get_scan_progress", "GET", REPO + "/scans/{scan_id}/progress", ("poll_scan",), ("scan_run",),
             note="the polling call"),
        Call("get_scan_results", "GET", REPO + "/scans/{scan_id}/results",
             note="summaries keyed by a fingerprint, without id or status: the gate reads the findings list instead"),
        Call("list_findings", "GET", REPO + "/findings", ("list_findings", "scan_results"),
             ("scan_run", "finding_info", "finding_status", "finding_fix") + LOOKUPS,
             note="scan_run with scan_batch_id and scan_type: each finding's id and status"),
        Call("get_finding", "GET", REPO + "/findings/{finding_id}"),
        Call("update_finding_status", "PATCH", REPO + "/findings/{finding_id}", ("set_finding_status",), ("finding_status",)),
        Call("list_finding_events", "GET", "/api/v1/finding-events"),
        Call("list_fixes", "GET", REPO + "/fixes", ("fixes",), ("finding_fix", "finding_fix_info"),
             assumed_answer=True, assumption="Refinement history of a fix",
             note="filtered by one finding id; the set of ids is compared here"),
        Call("get_fix", "GET", FIX, ("fixes",), ("finding_fix", "finding_fix_info"),
             assumed_answer=True, assumption="Refinement history of a fix",
             note="its `refinements` list tells which `refine` texts were applied"),
        Call("get_fix_progress", "GET", FIX + "/progress", ("fixes",), ("finding_fix", "finding_fix_info"),
             note="the polling call"),
        Call("get_fix_diff", "GET", FIX + "/diff", ("fixes",), ("finding_fix", "finding_fix_info")),
        Call("create_fix", "POST", REPO + "/fixes", ("fixes",), ("finding_fix",),
             note="never sent again before the fixes are listed"),
        Call("refine_fix", "POST", FIX + "/refine", ("fixes",), ("finding_fix",), note="once per instruction text"),
        Call("cancel_fix", "POST", FIX + "/cancel", ("fixes",), ("finding_fix",)),
        Call("create_pull_requests", "POST", FIX + "/pull-requests", ("pull_requests",), ("finding_fix",),
             note="once per fix"),
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

    def list_scans(self, repository_id, scan_type=None, status=None, newest=None):
        """Scan batches of a repository, optionally filtered by scan type and vendor status.

        ``newest=N`` reads only the first page, of N batches (the list is newest first, an assumption).
        """
        return list(self.iter_call("list_scans", iter_skip_limit, {"scan_type": scan_type, "status": status},
                                   limit=newest or PAGE_SIZE, pages=1 if newest else None,
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

    # -- fixes (autofix runs) and pull requests -------------------------------------------------------
    def list_fixes(self, repository_id, finding_id=None):
        """Fixes of a repository, newest first, all pages; ``finding_id`` keeps those that include it."""
        return list(self.iter_call("list_fixes", iter_skip_limit, {"finding_id": finding_id}, limit=PAGE_SIZE,
                                   path_values={"repository_id": repository_id}))

    def get_fix(self, repository_id, fix_id):
        """One fix, with its pull requests."""
        return self.call("get_fix", repository_id=repository_id, fix_id=fix_id)

    def get_fix_progress(self, repository_id, fix_id):
        """The polling call: status, timings, agent steps, last activity."""
        return self.call("get_fix_progress", repository_id=repository_id, fix_id=fix_id)

    def get_fix_diff(self, repository_id, fix_id):
        """``{fix_id, status, diff}``; ``diff`` is null until the fix has completed."""
        return self.call("get_fix_diff", repository_id=repository_id, fix_id=fix_id)

    def create_fix(self, repository_id, finding_ids, title, instructions, source_repo, source_repo_provider=None,
                   source_scan_branch=None):
        """Start an autofix run (POST, 201 with the fix). 403 OPERATION_FAILED = quota exhausted."""
        body = {"finding_ids": list(finding_ids), "title": title, "instructions": instructions, "source_repo": source_repo}
        if source_repo_provider:
            body["source_repo_provider"] = source_repo_provider
        if source_scan_branch:
            body["source_scan_branch"] = source_scan_branch
        return self.call("create_fix", json_body=body, repository_id=repository_id)

    def refine_fix(self, repository_id, fix_id, instructions):
        """Re-run a completed fix with follow-up instructions (answers the fix, running again)."""
        return self.call("refine_fix", json_body={"instructions": instructions}, repository_id=repository_id, fix_id=fix_id)

    def cancel_fix(self, repository_id, fix_id):
        """Stop a pending or running fix (answers the fix)."""
        return self.call("cancel_fix", repository_id=repository_id, fix_id=fix_id)

    def create_pull_requests(self, repository_id, fix_id, title=None, body=None, branch_name=None):
        """Open the pull requests of a completed fix (POST, 201 ``{fix_id, pull_requests}``)."""
        payload = dict((key, value) for key, value in (("title", title), ("body", body), ("branch_name", branch_name))
                       if value is not None)
        return self.call("create_pull_requests", json_body=payload, repository_id=repository_id, fix_id=fix_id)

    def quota_of(self, operation):
        """The quota counter a POST draws on (``create_fix``, ``create_pull_requests``), or None."""
        return QUOTA_OF.get(operation)

    def fix_refinements(self, raw):
        """Instruction texts a fix was refined with, oldest first; None when the fix does not say."""
        history = raw.get(self.FIX_REFINEMENTS_FIELD) if isinstance(raw, dict) else None
        if not isinstance(history, list):
            return None
        texts = []
        for entry in history:
            text = entry.get("instructions") if isinstance(entry, dict) else entry
            if isinstance(text, str):
                texts.append(text)
        return texts

    # -- normalizers ------------------------------------------------------------------------------------
    def normalize_scan(self, raw, target=None, counts=None):
        return self._scan(
            raw, raw.get("batch_id") or raw.get("id"), target or raw.get("repository_id"), raw.get("status"),
            created_at=raw.get("created_at"), started_at=raw.get("started_at"), completed_at=raw.get("completed_at"),
            counts=counts, url=None,
        )

    def normalize_finding(self, raw):
        # One id everywhere: the API id that finding_status writes to (never the results' fingerprint).
        location = {"file": raw.get("file_path"), "line": raw.get("line")}
        return self._finding(raw, raw.get("id"), raw.get("check_id"),
                             raw.get("title") or raw.get("message"), raw.get("severity"), raw.get("status"),
                             location, raw.get("first_detected_at"))

    def normalize_fix(self, raw, progress=None):
        """A fix as ``{id, repository_id, finding_ids (sorted), title, status, vendor_status, source_repo,
        source_repo_provider, branch, base_commit, error_message, pull_requests[], pull_request_urls[],
        refinements, created_at, started_at, completed_at, progress, raw}``.

        ``progress`` (a ``/progress`` answer) adds the agent's step count and timings.
        """
        raw = raw if isinstance(raw, dict) else {}
        vendor_status = (progress or {}).get("status") or raw.get("status")
        pull_requests = []
        for entry in raw.get("pull_requests") or []:
            if not isinstance(entry, dict):
                continue
            pull_requests.append({"url": entry.get("pr_url"), "number": entry.get("pr_number"),
                                  "repository": entry.get("repo_full_name"), "branch": entry.get("branch_name"),
                                  "merge_status": entry.get("merge_status"), "created_at": entry.get("created_at"),
                                  "merged_at": entry.get("merged_at")})
        normalized_progress = None
        if isinstance(progress, dict):
            normalized_progress = {"agent_steps_completed": progress.get("agent_steps_completed"),
                                   "duration_seconds": progress.get("duration_seconds"),
                                   "latest_activity_at": progress.get("latest_activity_at"),
                                   "started_at": progress.get("started_at"), "completed_at": progress.get("completed_at")}
        return {
            "provider": self.NAME,
            "id": raw.get("id") or (progress or {}).get("fix_id"),
            "repository_id": raw.get("repository_id"),
            "finding_ids": sorted(str(i) for i in raw.get("finding_ids") or []),
            "title": raw.get("title"),
            "status": self.scan_status(vendor_status),
            "vendor_status": vendor_status,
            "source_repo": raw.get("source_repo"),
            "source_repo_provider": raw.get("source_repo_provider"),
            "branch": raw.get("source_scan_branch"),
            "base_commit": raw.get("source_base_commit_sha"),
            "error_message": (progress or {}).get("error_message") or raw.get("error_message"),
            "pull_requests": pull_requests,
            "pull_request_urls": [pr["url"] for pr in pull_requests if pr["url"]],
            "refinements": self.fix_refinements(raw),
            "created_at": raw.get("created_at"),
            "started_at": (progress or {}).get("started_at") or raw.get("started_at"),
            "completed_at": (progress or {}).get("completed_at") or raw.get("completed_at"),
            "progress": normalized_progress,
            "raw": raw,
        }
