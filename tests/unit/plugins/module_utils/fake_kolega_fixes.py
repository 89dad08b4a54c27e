# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small stateful stand-in for Kolega's repositories, findings, fixes and quotas (unit tests only).

A fix is ``pending`` when created, ``running`` after its first progress poll and ``completed`` (or
``failed``) after ``polls_to_finish`` polls; a refine starts it over. Pull requests draw on the
``prs`` quota; a second pull request call answers 409 CONFLICT. ``faults`` lets a test make the
next matching request fail, after or before the server acted on it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools
import json

import httpx

from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_findings import FakeKolega

PREFIX = "/api/v1"


def finding(n, severity="critical", status="open", repository_id="repo_1"):
    return {"id": "fnd_%03d" % n, "repository_id": repository_id, "check_id": "aws-access-token" if n % 2 else "private-key",
            "severity": severity, "status": status, "file_path": "src/f%d.py" % n, "message": "m", "title": "t",
            "category": "secrets", "scan_type": "secrets_scan", "first_detected_at": "2026-01-01T00:00:00Z"}


class FakeKolegaFixes(object):

    def __init__(self, findings=None, polls_to_finish=2, outcome="completed", refinements_field=True):
        payments = [{"full_name": "acme/payments-api", "provider": "github", "default_branch": "main"}]
        platform = [{"full_name": "acme/api", "provider": "gitlab", "default_branch": "main"},
                    {"full_name": "acme/worker", "provider": "github", "default_branch": "main"}]
        self.repositories = [{"id": "repo_1", "name": "payments", "repositories": payments},
                             {"id": "repo_2", "name": "platform", "repositories": platform}]
        self.findings = findings if findings is not None else [finding(n, "critical" if n < 3 else "low") for n in range(6)]
        self.fixes = []
        self.polls = {}
        self.polls_to_finish = polls_to_finish
        self.outcome = outcome
        self.refinements_field = refinements_field
        self.quota = {"prs": {"plan": 10, "topup": 0, "used": 0}}
        self.requests = []
        # [(method, path suffix, "after" | "before", status or None for a dropped connection)]
        self.faults = []
        self._ids = itertools.count(1)
        self._pr_numbers = itertools.count(101)
        self._clock = itertools.count(1)

    # -- what tests look at ----------------------------------------------------------------------
    def writes(self):
        return [(r.method, r.url.path) for r in self.requests if r.method != "GET"]

    def posts(self, suffix):
        return [r for r in self.requests if r.method == "POST" and r.url.path.endswith(suffix)]

    def bodies(self, suffix):
        return [json.loads(r.content) if r.content else None for r in self.posts(suffix)]

    def add_fix(self, finding_ids, status="completed", pull_requests=0, title="existing", repository_id="repo_1"):
        fix = self._new_fix(repository_id, {"finding_ids": list(finding_ids), "title": title, "source_repo": "acme/payments-api",
                                            "source_repo_provider": "github"})
        fix["status"] = status
        for _n in range(pull_requests):
            fix["pull_requests"].append(self._pull_request(fix, {}))
        return fix

    # -- the vendor ------------------------------------------------------------------------------
    def __call__(self, request):
        self.requests.append(request)
        path = request.url.path
        for fault in list(self.faults):
            method, suffix, when, status = fault
            if request.method == method and path.endswith(suffix):
                self.faults.remove(fault)
                if when == "before":
                    return self._failure(status, request)
                self.handle(request)
                return self._failure(status, request)
        return self.handle(request)

    @staticmethod
    def _failure(status, request):
        if status is None:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(status, json={"detail": {"detail": "Service unavailable", "error_code": "INTERNAL_ERROR"}})

    @staticmethod
    def error(status, code, message, quota_type=None):
        detail = {"detail": message, "error_code": code}
        if quota_type:
            detail["quota_type"] = quota_type
        return httpx.Response(status, json={"detail": detail})

    # Kolega's skip/limit pages, as the findings fake serves them.
    page = staticmethod(FakeKolega.page)

    def render(self, fix):
        body = dict(fix)
        body.pop("_refined", None)
        if not self.refinements_field:
            body.pop("refinements", None)
        return body

    def handle(self, request):
        params = dict(request.url.params)
        parts = request.url.path[len(PREFIX):].strip("/").split("/")
        body = json.loads(request.content) if request.content else None
        if parts == ["quotas", "balance"]:
            return httpx.Response(200, json=self.balance())
        if parts == ["repositories"]:
            return self.page(self.repositories, params)
        repo = next((r for r in self.repositories if r["id"] == parts[1]), None) if len(parts) > 1 else None
        if repo is None:
            return self.error(404, "NOT_FOUND", "Repository not found")
        rest = parts[2:]
        if not rest:
            return httpx.Response(200, json=repo)
        if rest == ["findings"]:
            items = [f for f in self.findings if f["repository_id"] == repo["id"]]
            for key in ("severity", "status"):
                if params.get(key):
                    items = [f for f in items if f[key] == params[key]]
            return self.page(items, params)
        if rest == ["fixes"] and request.method == "GET":
            items = [self.render(f) for f in reversed(self.fixes) if f["repository_id"] == repo["id"]
                     and (not params.get("finding_id") or params["finding_id"] in f["finding_ids"])]
            return self.page(items, params)
        if rest == ["fixes"]:
            if self.remaining("prs") <= 0:
                return self.error(403, "OPERATION_FAILED", "Quota exhausted for prs", "prs")
            fix = self._new_fix(repo["id"], body)
            return httpx.Response(201, json=self.render(fix))
        fix = next((f for f in self.fixes if f["id"] == rest[1] and f["repository_id"] == repo["id"]), None)
        if fix is None:
            return self.error(404, "NOT_FOUND", "Fix not found")
        action = rest[2] if len(rest) > 2 else None
        if action is None:
            return httpx.Response(200, json=self.render(fix))
        if action == "progress":
            self._advance(fix)
            return httpx.Response(200, json={"fix_id": fix["id"], "repository_id": repo["id"], "status": fix["status"],
                                             "agent_steps_completed": self.polls.get(fix["id"], 0), "duration_seconds": 1.5,
                                             "started_at": None, "completed_at": None, "latest_activity_at": None,
                                             "error_message": fix["error_message"]})
        if action == "diff":
            diff = "--- a/x\n+++ b/x\n" if fix["status"] == "completed" else None
            return httpx.Response(200, json={"fix_id": fix["id"], "status": fix["status"], "diff": diff})
        if action == "refine":
            if fix["status"] != "completed":
                return self.error(409, "INVALID_STATE", "Only a completed fix can be refined")
            fix["refinements"].append({"instructions": body["instructions"], "created_at": "2026-01-01T00:00:%02dZ" % next(self._clock)})
            fix["status"] = "pending"
            self.polls[fix["id"]] = 0
            return httpx.Response(200, json=self.render(fix))
        if action == "cancel":
            if fix["status"] not in ("pending", "running"):
                return self.error(409, "INVALID_STATE", "Only a pending or running fix can be cancelled")
            fix["status"] = "cancelled"
            return httpx.Response(200, json=self.render(fix))
        if action == "pull-requests":
            if fix["status"] != "completed":
                return self.error(409, "INVALID_STATE", "Pull requests can only be opened for a completed fix")
            if fix["pull_requests"]:
                return self.error(409, "CONFLICT", "Pull requests already exist for this fix")
            if self.remaining("prs") <= 0:
                return self.error(403, "OPERATION_FAILED", "Quota exhausted for prs", "prs")
            self.quota["prs"]["used"] += 1
            fix["pull_requests"].append(self._pull_request(fix, body or {}))
            return httpx.Response(201, json={"fix_id": fix["id"], "pull_requests": list(fix["pull_requests"])})
        return self.error(404, "NOT_FOUND", "Not found")

    def remaining(self, name):
        counter = self.quota[name]
        return counter["plan"] + counter["topup"] - counter["used"]

    def balance(self):
        counters = dict((name, dict(counter, remaining=max(0, self.remaining(name)))) for name, counter in self.quota.items())
        zero = {"plan": 0, "topup": 0, "used": 0, "remaining": 0}
        return {"period_start": "2026-01-01T00:00:00Z", "period_end": "2026-02-01T00:00:00Z", "prs": counters["prs"],
                "sast_scans": dict(zero), "deep_ai_scans": dict(zero), "repositories": {"max": None, "current": 2}}

    def _new_fix(self, repository_id, body):
        fix = {"id": "fix_%03d" % next(self._ids), "repository_id": repository_id, "finding_ids": list(body.get("finding_ids") or []),
               "title": body["title"], "status": "pending", "source_repo": body["source_repo"],
               "source_repo_provider": body.get("source_repo_provider") or "github", "source_scan_branch": body.get("source_scan_branch"),
               "source_base_commit_sha": "a" * 40, "error_message": None, "pull_requests": [], "refinements": [],
               "created_at": "2026-01-01T00:%02d:00Z" % next(self._clock), "started_at": None, "completed_at": None}
        self.fixes.append(fix)
        return fix

    def _advance(self, fix):
        if fix["status"] not in ("pending", "running"):
            return
        self.polls[fix["id"]] = self.polls.get(fix["id"], 0) + 1
        if self.polls[fix["id"]] >= self.polls_to_finish:
            fix["status"] = self.outcome
            fix["error_message"] = "The agent could not produce a passing change" if self.outcome == "failed" else None
        else:
            fix["status"] = "running"

    def _pull_request(self, fix, body):
        number = next(self._pr_numbers)
        return {"repo_full_name": fix["source_repo"], "branch_name": body.get("branch_name") or "kolega/%s" % fix["id"],
                "pr_number": number, "pr_url": "https://github.com/%s/pull/%d" % (fix["source_repo"], number),
                "merge_status": "open", "created_at": "2026-01-01T00:00:00Z", "merged_at": None}
