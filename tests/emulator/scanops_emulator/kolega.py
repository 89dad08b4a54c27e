# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kolega DevSec public API (https://api.kolega.dev/api/v1), mounted at /kolega/api/v1.

Every path of kolega-openapi.json, with its schemas; validation errors are FastAPI's own 422
(Kolega is a FastAPI service). Errors use ``{"detail": {"detail", "error_code", "quota_type"?}}``.
A Kolega "repository" groups one or more source repositories (``repositories[]``); a scan batch
scans each of them, which is what ``/progress`` breaks down.
"""

import datetime
import enum
import time
from typing import List, Optional

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field

from .common import Timeline, VendorError, iso_micros, json_response, stable_hex, stable_uuid
from .findings import DEEP_AI_RULES, SBOM_PACKAGES, SECRET_RULES, SEMGREP_RULES, LazyFindings

PREFIX = "/kolega/api/v1"
router = APIRouter(prefix=PREFIX)

ALL_SCOPES = ["repositories:read", "scans:read", "scans:write", "findings:read", "findings:write",
              "fixes:read", "fixes:write", "quotas:read"]
READ_SCOPES = [scope for scope in ALL_SCOPES if scope.endswith(":read")]
DEMO_KEYS = {
    "kcp_live_demo_5b1e9c3a7d2f4e6081a9": {"id": "key_demo_full", "name": "demo automation", "scopes": ALL_SCOPES},
    "kcp_live_demo_readonly_3c7a9e1b5d2f": {"id": "key_demo_readonly", "name": "demo read-only", "scopes": READ_SCOPES},
}
ORGANIZATION = {"id": "6f1c2b8e-3d4a-4c5b-9e7f-0a1b2c3d4e5f", "name": "Acme Corp", "slug": "acme"}
QUOTA_OF_SCAN = {"secrets_scan": "sast_scans", "semgrep_scan": "sast_scans", "sbom_scan": "sast_scans", "deep_ai_scan": "deep_ai_scans"}
TERMINAL_FIX = ("completed", "failed", "cancelled")


class ScanType(str, enum.Enum):
    secrets_scan = "secrets_scan"
    semgrep_scan = "semgrep_scan"
    deep_ai_scan = "deep_ai_scan"
    sbom_scan = "sbom_scan"


class FindingStatus(str, enum.Enum):
    open = "open"
    resolved = "resolved"
    ignored = "ignored"
    false_positive = "false_positive"
    needs_manual_review = "needs_manual_review"


class SourceProvider(str, enum.Enum):
    github = "github"
    gitlab = "gitlab"
    azure_devops = "azure_devops"


class PublicScanCreateRequest(BaseModel):
    scan_type: ScanType


class PublicFindingStatusUpdateRequest(BaseModel):
    status: FindingStatus


class PublicFixCreateRequest(BaseModel):
    finding_ids: Optional[List[str]] = Field(None, min_length=1)
    title: str = Field(..., min_length=1, max_length=200)
    instructions: str = Field(..., min_length=1)
    source_repo: str
    source_repo_provider: SourceProvider = SourceProvider.github
    source_scan_branch: Optional[str] = None


class PublicFixRefineRequest(BaseModel):
    instructions: str = Field(..., min_length=1, max_length=12000)


class PublicCreatePRRequest(BaseModel):
    title: Optional[str] = None
    body: Optional[str] = None
    branch_name: Optional[str] = None


def error(status, code, message, quota_type=None):
    detail = {"detail": message, "error_code": code}
    if quota_type:
        detail["quota_type"] = quota_type
    return VendorError(status, {"detail": detail})


# ---------------------------------------------------------------------- model
class Catalog:
    """The findings one scan type produces for one Kolega repository (stable across batches)."""

    def __init__(self, store, repo, scan_type, count):
        self.store = store
        self.repo = repo
        self.scan_type = scan_type
        self.findings = LazyFindings(store.emulator.seed, "%s:%s" % (repo["id"], scan_type), count, RULE_WEIGHTS[scan_type])
        self.first_detected = None
        self.last_detected = None
        self.batch_ids = set()
        self.status = {}
        self.updated = {}
        self.resolved = {}

    def finding_id(self, index):
        return stable_uuid("kolega-finding", self.repo["id"], self.scan_type, index)

    def severity(self, index):
        return RULE_SEVERITY[self.scan_type](self.findings.kinds[index])

    def detect(self, batch, count, now):
        """A batch of this scan type completed: its findings are now (still) detected."""
        self.batch_ids.add(batch.id)
        if count > self.findings.count:
            self.findings = LazyFindings(self.store.emulator.seed, "%s:%s" % (self.repo["id"], self.scan_type), count,
                                         RULE_WEIGHTS[self.scan_type])
        new_from = 0 if self.first_detected is None else self.store.known.get(self, 0)
        if self.first_detected is None:
            self.first_detected = now
        self.last_detected = now
        for index in range(new_from, count):
            self.store.index[self.finding_id(index)] = (self, index)
            self.store.add_event(now, "created", self, index, batch, None, "open")
        self.store.known[self] = max(count, new_from)

    def render(self, index):
        kind = self.findings.kinds[index]
        variant = self.findings.variant(index, 9973)
        body = RULE_RENDER[self.scan_type](kind, variant)
        finding_id = self.finding_id(index)
        updated = self.updated.get(index, self.last_detected)
        body.update({
            "id": finding_id, "repository_id": self.repo["id"], "status": self.status.get(index, "open"),
            "scan_type": self.scan_type, "first_detected_at": iso_micros(self.first_detected),
            "last_detected_at": iso_micros(self.last_detected), "resolved_at": iso_micros(self.resolved.get(index)),
            "created_at": iso_micros(self.first_detected), "updated_at": iso_micros(updated),
        })
        return body

    def summary(self, index):
        full = self.render(index)
        return {"check_id": full["check_id"], "file_path": full["file_path"], "severity": full["severity"],
                "message": full["message"], "cwe": full["cwe"], "owasp": full["owasp"],
                "fingerprint": stable_uuid("fingerprint", full["id"]).replace("-", "")}


def _secret(kind, variant):
    rule = SECRET_RULES[kind]
    path = rule[3][variant % len(rule[3])]
    return {"check_id": rule[0], "severity": rule[2], "file_path": path, "title": rule[1],
            "message": "%s at %s:%d" % (rule[1], path, 1 + variant % 120), "category": "secrets",
            "cwe": ["CWE-798"], "owasp": ["A07:2021 - Identification and Authentication Failures"],
            "references": ["https://cwe.mitre.org/data/definitions/798.html"], "source_url": None,
            "cvss_base_score": None, "cvss_severity": None, "cvss_vector": None}


def _code_rule(rules, category):
    def render(kind, variant):
        rule = rules[kind]
        path = rule[5][variant % len(rule[5])]
        number = rule[3].split("-")[1]
        return {"check_id": rule[0], "severity": rule[2], "file_path": path, "title": rule[1],
                "message": "%s (line %d)" % (rule[1], 1 + variant % 400), "category": category,
                "cwe": [rule[3]], "owasp": [rule[4]],
                "references": ["https://cwe.mitre.org/data/definitions/%s.html" % number], "source_url": None,
                "cvss_base_score": None, "cvss_severity": None, "cvss_vector": None}
    return render


def _cvss_severity(score):
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


def _sbom(kind, _variant):
    package, version, cve, score, fixed, manifest = SBOM_PACKAGES[kind]
    return {"check_id": cve, "severity": _cvss_severity(score), "file_path": manifest,
            "title": "%s %s is affected by %s" % (package, version, cve),
            "message": "%s %s is vulnerable (%s); upgrade to %s" % (package, version, cve, fixed), "category": "dependencies",
            "cwe": [], "owasp": ["A06:2021 - Vulnerable and Outdated Components"],
            "references": ["https://nvd.nist.gov/vuln/detail/%s" % cve], "source_url": "https://osv.dev/vulnerability/%s" % cve,
            "cvss_base_score": score, "cvss_severity": _cvss_severity(score).upper(),
            "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" if score >= 9.0 else "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:H"}


RULE_RENDER = {"secrets_scan": _secret, "semgrep_scan": _code_rule(SEMGREP_RULES, "sast"),
               "deep_ai_scan": _code_rule(DEEP_AI_RULES, "ai_review"), "sbom_scan": _sbom}
RULE_SEVERITY = {"secrets_scan": lambda kind: SECRET_RULES[kind][2], "semgrep_scan": lambda kind: SEMGREP_RULES[kind][2],
                 "deep_ai_scan": lambda kind: DEEP_AI_RULES[kind][2], "sbom_scan": lambda kind: _cvss_severity(SBOM_PACKAGES[kind][3])}
RULE_WEIGHTS = {"secrets_scan": (2, 2, 4, 1, 2, 1), "semgrep_scan": (2, 1, 3, 3, 2, 2), "deep_ai_scan": (2, 1, 3, 2),
                "sbom_scan": (1, 3, 1, 1, 4, 3, 3)}


class Batch:
    def __init__(self, batch_id, repo, scan_type, timeline, count):
        self.id = batch_id
        self.repo = repo
        self.scan_type = scan_type
        self.timeline = timeline
        self.count = count
        self.refs = [dict(ref) for ref in repo["repositories"]]

    def ref_outcome(self, position):
        outcome = self.timeline.outcome
        if outcome == "failed" or (outcome == "partial_failure" and (position == len(self.refs) - 1 or len(self.refs) == 1)):
            return "failed"
        return "completed"

    def ref_end(self, position):
        timeline = self.timeline
        return timeline.started + (timeline.ended - timeline.started) * (position + 1) / len(self.refs)

    def status(self, now):
        phase = self.timeline.phase(now)
        if phase == "queued":
            return "queued"
        if phase == "running":
            return "creating_scans" if self.timeline.fraction(now) < 0.1 else "running"
        failed = sum(1 for position in range(len(self.refs)) if self.ref_outcome(position) == "failed")
        if failed == 0:
            return "completed"
        return "failed" if failed == len(self.refs) else "partial_failure"

    def counters(self, now):
        phase = self.timeline.phase(now)
        created = 0 if phase == "queued" or self.status(now) == "creating_scans" else len(self.refs)
        done = [position for position in range(len(self.refs)) if now >= self.ref_end(position) and created]
        failed = sum(1 for position in done if self.ref_outcome(position) == "failed")
        completed = len(done) - failed
        return {"total_repositories": len(self.refs), "scans_created": created, "scans_failed": failed,
                "scans_completed": completed, "scans_assessed": completed if phase == "done" else 0}

    def error_message(self, now):
        status = self.status(now)
        if status == "failed":
            return "Scan failed for every repository: clone of %s was refused" % self.refs[0]["full_name"]
        if status == "partial_failure":
            return "Scan failed for %s: clone was refused" % self.refs[-1]["full_name"]
        return None

    def ref_findings(self, position):
        share = self.count // len(self.refs)
        return share + (self.count - share * len(self.refs) if position == 0 else 0)

    def render(self, now):
        status = self.status(now)
        body = {"batch_id": self.id, "repository_id": self.repo["id"], "scan_type": self.scan_type, "status": status}
        body.update(self.counters(now))
        body.update({"error_message": self.error_message(now), "created_at": iso_micros(self.timeline.created),
                     "started_at": iso_micros(self.timeline.started) if status != "queued" else None,
                     "completed_at": iso_micros(self.timeline.ended) if self.timeline.phase(now) == "done" else None})
        return body

    def progress(self, now):
        body = self.render(now)
        del body["created_at"]
        phase = self.timeline.phase(now)
        body["percent_complete"] = 100.0 if phase == "done" else round(100.0 * self.timeline.fraction(now), 1)
        entries = []
        for position, ref in enumerate(self.refs):
            if phase == "queued" or body["status"] == "creating_scans":
                entries.append({"repository": ref["full_name"], "branch": ref["default_branch"], "status": "pending",
                                "status_reason": "Waiting for scan to be created", "findings_count": None,
                                "started_at": None, "completed_at": None})
                continue
            finished = now >= self.ref_end(position)
            outcome = self.ref_outcome(position) if finished else "running"
            entries.append({"repository": ref["full_name"], "branch": ref["default_branch"], "status": outcome,
                            "status_reason": "Repository clone was refused" if outcome == "failed" else None,
                            "findings_count": self.ref_findings(position) if outcome == "completed" else None,
                            "started_at": iso_micros(self.timeline.started),
                            "completed_at": iso_micros(self.ref_end(position)) if finished else None})
        body["repositories"] = entries
        return body


class Fix:
    def __init__(self, fix_id, repo, request, timeline):
        self.id = fix_id
        self.repo = repo
        self.request = request
        self.timeline = timeline
        self.cancelled_at = None
        self.pull_requests = []
        self.refinements = []
        self.base_sha = None

    def status(self, now):
        if self.cancelled_at is not None:
            return "cancelled"
        phase = self.timeline.phase(now)
        if phase == "queued":
            return "pending"
        if phase == "running":
            return "running"
        return "completed" if self.timeline.outcome == "completed" else "failed"

    def render(self, now):
        status = self.status(now)
        started = self.timeline.started if status != "pending" and (self.cancelled_at is None or self.cancelled_at > self.timeline.started) else None
        completed = self.cancelled_at if status == "cancelled" else (self.timeline.ended if status in ("completed", "failed") else None)
        return {"id": self.id, "repository_id": self.repo["id"], "finding_ids": list(self.request.get("finding_ids") or []),
                "title": self.request["title"], "status": status, "source_repo": self.request["source_repo"],
                "source_repo_provider": self.request["source_repo_provider"],
                "source_scan_branch": self.request.get("source_scan_branch"), "source_base_commit_sha": self.base_sha,
                "error_message": "The agent could not produce a passing change" if status == "failed" else None,
                "pull_requests": list(self.pull_requests),
                # Assumed (docs/assumptions.md): the published schema has no refinement history.
                "refinements": [{"instructions": text, "created_at": iso_micros(when)} for text, when in self.refinements],
                "created_at": iso_micros(self.timeline.created),
                "started_at": iso_micros(started), "completed_at": iso_micros(completed)}


class Store:
    def __init__(self, emulator):
        self.emulator = emulator
        self.keys = {}
        self.repos = {}
        self.batches = {}
        self.batches_by_repo = {}
        self.catalogs = {}
        self.index = {}
        self.known = {}
        self.events = []
        self.fixes = {}
        self.pr_number = 100
        self.quotas = {}

    def describe_config(self):
        return {"quotas": self.quota_balance()}

    def describe_state(self):
        return {"repositories": list(self.repos), "batches": len(self.batches), "fixes": len(self.fixes), "events": len(self.events),
                "findings": len(self.index)}

    def update_config(self, key, value):
        if key != "quotas":
            raise ValueError("unknown kolega setting %r (quotas)" % key)
        for name, settings in value.items():
            if name not in self.quotas:
                raise ValueError("unknown quota %r" % name)
            self.quotas[name].update(settings)

    def seed_default(self):
        self.keys = {key: dict(value) for key, value in DEMO_KEYS.items()}
        month = datetime.datetime.now(datetime.timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = (month + datetime.timedelta(days=32)).replace(day=1)
        self.period = (month.timestamp(), following.timestamp())
        self.quotas = {"prs": {"plan": 100, "topup": 0, "used": 0}, "sast_scans": {"plan": 5000, "topup": 0, "used": 0},
                       "deep_ai_scans": {"plan": 500, "topup": 0, "used": 0}, "repositories": {"max": 50}}
        created = time.time() - 86400 * 30
        specs = (
            ("payments-service", "Card payments API and its settlement worker", [("acme/payments-api", "main"), ("acme/payments-worker", "main")]),
            ("web-frontend", "Customer-facing web application", [("acme/web", "main")]),
            ("mobile-backend", "Backend for the iOS and Android apps", [("acme/mobile-bff", "develop")]),
            ("data-pipeline", "Batch ETL jobs", [("acme/etl-jobs", "main"), ("acme/etl-schemas", "main"), ("acme/etl-dags", "main")]),
            ("infra-tools", None, [("acme/infra-tools", "master")]),
            ("legacy-monolith", "Retired PHP monolith", [("acme/monolith", "master")]),
        )
        for position, (name, description, refs) in enumerate(specs):
            self.add_repo({"id": stable_uuid("kolega-repo", name), "name": name, "description": description,
                           "repositories": [{"full_name": full, "default_branch": branch} for full, branch in refs],
                           "archived": name == "legacy-monolith"}, created + position * 3600)
        self.seed_payments_history()

    def seed_payments_history(self):
        """payments-service was scanned yesterday (secrets and semgrep) and has one finished AI fix with
        an open pull request for its critical SQL findings: the collection's examples read and triage
        these. Ids derive from names, never from the generator, so every other id stays as it was.
        """
        repo = self.repos[stable_uuid("kolega-repo", "payments-service")]
        yesterday = time.time() - 86400
        # 14 secrets (2 critical) and 16 semgrep findings (1 critical) with the default seed.
        for offset, (scan_type, count) in enumerate((("secrets_scan", 14), ("semgrep_scan", 16))):
            plan = {"queued_seconds": 2, "running_seconds": 95, "outcome": "completed", "finding_count": count}
            batch = Batch(stable_uuid("kolega-seed-batch", self.emulator.seed, repo["id"], scan_type), repo, scan_type,
                          Timeline(yesterday + offset * 600, plan), plan["finding_count"])
            self.batches[batch.id] = batch
            self.batches_by_repo[repo["id"]].append(batch)
            self.catalog(repo, scan_type, batch.count).detect(batch, batch.count, batch.timeline.ended)
        semgrep = self.catalog(repo, "semgrep_scan", 0)
        critical = [semgrep.finding_id(index) for index in range(semgrep.findings.count) if semgrep.severity(index) == "critical"]
        request = {"finding_ids": critical, "title": "Use parameterized queries in the report views",
                   "instructions": "Pass user input to raw() as query parameters, never by string formatting.",
                   "source_repo": "acme/payments-api", "source_repo_provider": "github", "source_scan_branch": "main"}
        fix = Fix(stable_uuid("kolega-seed-fix", self.emulator.seed, repo["id"]), repo, request,
                  Timeline(yesterday + 3600, {"queued_seconds": 5, "running_seconds": 240, "outcome": "completed"}))
        fix.base_sha = stable_hex(40, "kolega-seed-fix-base", repo["id"])
        opened = fix.timeline.ended + 60
        fix.pull_requests.append({"repo_full_name": "acme/payments-api", "branch_name": "kolega/fix-%s" % fix.id[:8],
                                  "pr_number": self.pr_number, "pr_url": "https://github.com/acme/payments-api/pull/%d" % self.pr_number,
                                  "merge_status": "open", "created_at": iso_micros(opened), "merged_at": None})
        self.fixes[fix.id] = fix

    def add_repo(self, spec, created=None):
        created = time.time() if created is None else created
        refs = []
        for ref in spec.get("repositories") or [{"full_name": "acme/%s" % spec["name"]}]:
            provider = ref.get("provider", "github")
            host = {"github": "github.com", "gitlab": "gitlab.com", "azure_devops": "dev.azure.com"}.get(provider, "github.com")
            refs.append({"full_name": ref["full_name"], "default_branch": ref.get("default_branch", "main"),
                         "html_url": ref.get("html_url", "https://%s/%s" % (host, ref["full_name"])), "provider": provider})
        repo = {"id": spec.get("id") or self.emulator.new_uuid(), "name": spec["name"], "description": spec.get("description"),
                "repositories": refs, "archived": bool(spec.get("archived", False)),
                "created_at": iso_micros(created), "updated_at": iso_micros(created)}
        self.repos[repo["id"]] = repo
        self.batches_by_repo.setdefault(repo["id"], [])
        return repo

    def seed(self, kind, spec):
        if kind == "repository":
            return self.add_repo(spec)
        if kind == "api_key":
            key = spec.get("key") or "kcp_live_" + self.emulator.new_hex(24)
            scopes = spec.get("scopes", ALL_SCOPES)
            self.keys[key] = {"id": spec.get("id", "key_" + self.emulator.new_hex(8)), "name": spec.get("name", "seeded"), "scopes": scopes}
            return {"key": key, "scopes": scopes}
        raise ValueError("kolega seeds repository or api_key")

    def quota_balance(self):
        body = {"period_start": iso_micros(self.period[0]), "period_end": iso_micros(self.period[1])}
        for name in ("prs", "sast_scans", "deep_ai_scans"):
            counter = self.quotas[name]
            remaining = max(0, int(counter["plan"]) + int(counter["topup"]) - int(counter["used"]))
            body[name] = {"plan": int(counter["plan"]), "topup": int(counter["topup"]), "used": int(counter["used"]), "remaining": remaining}
        body["repositories"] = {"max": self.quotas["repositories"].get("max"),
                                "current": sum(1 for repo in self.repos.values() if not repo["archived"])}
        return body

    def consume(self, quota_type, amount=1, check_only=False):
        counter = self.quotas[quota_type]
        if int(counter["plan"]) + int(counter["topup"]) - int(counter["used"]) < amount:
            raise error(403, "OPERATION_FAILED", "Quota exhausted for %s in the current period" % quota_type, quota_type)
        if not check_only:
            counter["used"] = int(counter["used"]) + amount

    def catalog(self, repo, scan_type, count):
        key = (repo["id"], scan_type)
        if key not in self.catalogs:
            self.catalogs[key] = Catalog(self, repo, scan_type, count)
        return self.catalogs[key]

    def add_batch(self, repo, scan_type, plan, now):
        batch = Batch(self.emulator.new_uuid(), repo, scan_type, Timeline(now, plan), plan["finding_count"])
        self.batches[batch.id] = batch
        self.batches_by_repo[repo["id"]].append(batch)
        self.catalog(repo, scan_type, batch.count)
        self.emulator.at(batch.timeline.ended, lambda at: self.on_batch_end(batch))
        return batch

    def on_batch_end(self, batch):
        if batch.status(batch.timeline.ended) in ("completed", "partial_failure"):
            self.catalog(batch.repo, batch.scan_type, batch.count).detect(batch, batch.count, batch.timeline.ended)

    def add_event(self, when, event_type, catalog, index, batch, previous, new, actor=None):
        number = len(self.events)
        self.events.append((stable_uuid("kolega-event", self.emulator.seed, number), when, event_type, catalog, index,
                            batch.id if batch else None, previous, new, actor))

    def render_event(self, event):
        event_id, when, event_type, catalog, index, batch_id, previous, new, actor = event
        kind = catalog.findings.kinds[index]
        rendered = RULE_RENDER[catalog.scan_type](kind, catalog.findings.variant(index, 9973))
        return {"id": event_id, "organization_id": ORGANIZATION["id"], "repository_id": catalog.repo["id"],
                "finding_id": catalog.finding_id(index), "scan_id": batch_id, "scan_type": catalog.scan_type,
                "event_type": event_type, "previous_status": previous, "new_status": new, "severity": rendered["severity"],
                "check_id": rendered["check_id"], "file_path": rendered["file_path"], "actor_user_id": actor,
                "metadata": {"source": "public_api"} if actor else {"source": "scan"},
                "event_timestamp": iso_micros(when), "created_at": iso_micros(when)}


# ---------------------------------------------------------------------- dependencies
def store_of(request):
    emulator = request.app.state.emulator
    emulator.tick()
    return emulator.vendors["kolega"]


def needs(scope):
    # async: FastAPI runs a sync dependency in a worker thread, where the scheduler's callbacks
    # (store_of ticks it) could not start deliveries and would race the event loop.
    async def dependency(request: Request):
        store = store_of(request)
        header = request.headers.get("authorization", "")
        if not header:
            raise error(401, "UNAUTHORIZED", "Missing API key: send it as 'Authorization: Bearer <key>'")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        record = store.keys.get(token) if token else None
        if record is None:
            raise error(401, "UNAUTHORIZED", "Invalid or revoked API key")
        if scope and scope not in record["scopes"]:
            raise error(403, "INSUFFICIENT_SCOPE", "API key is missing the required scope: %s" % scope)
        request.state.kolega_key = (token, record)
        return store
    return dependency


def find_repo(store, repository_id):
    repo = store.repos.get(repository_id)
    if repo is None:
        raise error(404, "NOT_FOUND", "Repository not found")
    return repo


def find_batch(store, repo, scan_id):
    batch = store.batches.get(scan_id)
    if batch is None or batch.repo is not repo:
        raise error(404, "NOT_FOUND", "Scan batch not found")
    return batch


def find_finding(store, repo, finding_id):
    found = store.index.get(finding_id)
    if found is None or found[0].repo is not repo:
        raise error(404, "NOT_FOUND", "Finding not found")
    return found


def find_fix(store, repo, fix_id):
    fix = store.fixes.get(fix_id)
    if fix is None or fix.repo is not repo:
        raise error(404, "NOT_FOUND", "Fix not found")
    return fix


def paginated(items, total, limit, skip):
    return {"items": items, "total": total, "limit": limit, "skip": skip, "has_next": skip + len(items) < total}


# ---------------------------------------------------------------------- endpoints
@router.get("/me")
async def get_me(request: Request, store: Store = Depends(needs(None))):
    token, record = request.state.kolega_key
    del store
    return json_response({"organization_id": ORGANIZATION["id"], "organization_name": ORGANIZATION["name"],
                          "organization_slug": ORGANIZATION["slug"],
                          "api_key": {"id": record["id"], "name": record["name"], "key_prefix": token[:13], "scopes": list(record["scopes"])}})


@router.get("/repositories")
async def list_repositories(include_archived: bool = Query(False), limit: int = Query(50, ge=1, le=200), skip: int = Query(0, ge=0),
                            store: Store = Depends(needs("repositories:read"))):
    repos = [repo for repo in store.repos.values() if include_archived or not repo["archived"]]
    return json_response(paginated(repos[skip:skip + limit], len(repos), limit, skip))


@router.get("/repositories/{repository_id}")
async def get_repository(repository_id: str, store: Store = Depends(needs("repositories:read"))):
    return json_response(find_repo(store, repository_id))


@router.get("/finding-events")
async def list_finding_events(repository_id: Optional[str] = None, finding_id: Optional[str] = None, scan_type: Optional[str] = None,
                              severity: Optional[str] = None, event_type: Optional[str] = None,
                              start: Optional[datetime.datetime] = None, end: Optional[datetime.datetime] = None,
                              limit: int = Query(100, ge=1, le=200), skip: int = Query(0, ge=0),
                              store: Store = Depends(needs("findings:read"))):
    start_ts = _epoch(start)
    end_ts = _epoch(end)
    selected = []
    for event in reversed(store.events):
        _event_id, when, kind, catalog, index, _batch, _previous, _new, _actor = event
        if repository_id and catalog.repo["id"] != repository_id:
            continue
        if scan_type and catalog.scan_type != scan_type:
            continue
        if event_type and kind != event_type:
            continue
        if start_ts is not None and when < start_ts:
            continue
        if end_ts is not None and when > end_ts:
            continue
        if finding_id and catalog.finding_id(index) != finding_id:
            continue
        if severity and catalog.severity(index) != severity:
            continue
        selected.append(event)
    items = [store.render_event(event) for event in selected[skip:skip + limit]]
    return json_response(paginated(items, len(selected), limit, skip))


def _epoch(moment):
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


@router.post("/repositories/{repository_id}/scans")
async def create_scan(repository_id: str, body: PublicScanCreateRequest, store: Store = Depends(needs("scans:write"))):
    repo = find_repo(store, repository_id)
    if repo["archived"]:
        raise error(400, "REPOSITORY_ARCHIVED", "Repository is archived")
    scan_type = body.scan_type.value
    store.consume(QUOTA_OF_SCAN[scan_type])
    plan = store.emulator.plan("kolega", ["%s:%s" % (repository_id, scan_type), repository_id])
    batch = store.add_batch(repo, scan_type, plan, time.time())
    return json_response(batch.render(time.time()), status=202)


@router.get("/repositories/{repository_id}/scans")
async def list_scans(repository_id: str, scan_type: Optional[ScanType] = None, status: Optional[str] = None,
                     limit: int = Query(20, ge=1, le=200), skip: int = Query(0, ge=0), store: Store = Depends(needs("scans:read"))):
    repo = find_repo(store, repository_id)
    now = time.time()
    batches = [batch for batch in reversed(store.batches_by_repo[repo["id"]])
               if (scan_type is None or batch.scan_type == scan_type.value) and (status is None or batch.status(now) == status)]
    return json_response(paginated([batch.render(now) for batch in batches[skip:skip + limit]], len(batches), limit, skip))


@router.get("/repositories/{repository_id}/scans/{scan_id}")
async def get_scan(repository_id: str, scan_id: str, store: Store = Depends(needs("scans:read"))):
    return json_response(find_batch(store, find_repo(store, repository_id), scan_id).render(time.time()))


@router.get("/repositories/{repository_id}/scans/{scan_id}/progress")
async def get_scan_progress(repository_id: str, scan_id: str, store: Store = Depends(needs("scans:read"))):
    return json_response(find_batch(store, find_repo(store, repository_id), scan_id).progress(time.time()))


@router.get("/repositories/{repository_id}/scans/{scan_id}/results")
async def get_scan_results(repository_id: str, scan_id: str, store: Store = Depends(needs("findings:read"))):
    batch = find_batch(store, find_repo(store, repository_id), scan_id)
    now = time.time()
    status = batch.status(now)
    catalog = store.catalogs.get((repository_id, batch.scan_type))
    findings = []
    if status in ("completed", "partial_failure") and catalog is not None and batch.id in catalog.batch_ids:
        findings = [catalog.summary(index) for index in range(min(batch.count, catalog.findings.count))]
    return json_response({"batch_id": batch.id, "scan_type": batch.scan_type, "status": status,
                          "findings_count": len(findings), "findings": findings})


@router.get("/repositories/{repository_id}/findings")
async def list_findings(repository_id: str, scan_batch_id: Optional[str] = None, severity: Optional[str] = None,
                        status: Optional[str] = None, scan_type: Optional[str] = None,
                        limit: int = Query(50, ge=1, le=200), skip: int = Query(0, ge=0), store: Store = Depends(needs("findings:read"))):
    repo = find_repo(store, repository_id)
    selected = []
    for (repo_id, catalog_type), catalog in store.catalogs.items():
        if repo_id != repo["id"] or catalog.first_detected is None:
            continue
        if scan_type and catalog_type != scan_type:
            continue
        if scan_batch_id and scan_batch_id not in catalog.batch_ids:
            continue
        count = store.known.get(catalog, 0)
        if scan_batch_id:
            # The findings attributed to a batch are those it detected, as in its /results.
            count = min(count, store.batches[scan_batch_id].count)
        if severity is None and status is None:
            selected.extend((catalog, index) for index in range(count))
            continue
        statuses = catalog.status
        for index in range(count):
            if status is not None and statuses.get(index, "open") != status:
                continue
            if severity is not None and catalog.severity(index) != severity:
                continue
            selected.append((catalog, index))
    items = [catalog.render(index) for catalog, index in selected[skip:skip + limit]]
    return json_response(paginated(items, len(selected), limit, skip))


@router.get("/repositories/{repository_id}/findings/{finding_id}")
async def get_finding(repository_id: str, finding_id: str, store: Store = Depends(needs("findings:read"))):
    catalog, index = find_finding(store, find_repo(store, repository_id), finding_id)
    return json_response(catalog.render(index))


@router.patch("/repositories/{repository_id}/findings/{finding_id}")
async def update_finding(request: Request, repository_id: str, finding_id: str, body: PublicFindingStatusUpdateRequest,
                         store: Store = Depends(needs("findings:write"))):
    catalog, index = find_finding(store, find_repo(store, repository_id), finding_id)
    previous = catalog.status.get(index, "open")
    new = body.status.value
    now = time.time()
    if new != previous:
        catalog.status[index] = new
        catalog.updated[index] = now
        if new == "open":
            catalog.resolved.pop(index, None)
        else:
            catalog.resolved[index] = now
        store.add_event(now, "status_changed", catalog, index, None, previous, new, actor=request.state.kolega_key[1]["id"])
    return json_response(catalog.render(index))


@router.get("/repositories/{repository_id}/fixes")
async def list_fixes(repository_id: str, finding_id: Optional[str] = None, limit: int = Query(50, ge=1, le=200),
                     skip: int = Query(0, ge=0), store: Store = Depends(needs("fixes:read"))):
    repo = find_repo(store, repository_id)
    now = time.time()
    fixes = [fix for fix in reversed(list(store.fixes.values()))
             if fix.repo is repo and (finding_id is None or finding_id in (fix.request.get("finding_ids") or []))]
    return json_response(paginated([fix.render(now) for fix in fixes[skip:skip + limit]], len(fixes), limit, skip))


@router.post("/repositories/{repository_id}/fixes")
async def create_fix(repository_id: str, body: PublicFixCreateRequest, store: Store = Depends(needs("fixes:write"))):
    repo = find_repo(store, repository_id)
    for finding_id in body.finding_ids or []:
        find_finding(store, repo, finding_id)
    refs = {ref["full_name"]: ref for ref in repo["repositories"]}
    if body.source_repo not in refs:
        raise error(400, "INVALID_REQUEST", "source_repo '%s' is not part of this repository" % body.source_repo)
    store.consume("prs", check_only=True)
    request = body.model_dump(mode="json")
    request["source_scan_branch"] = request.get("source_scan_branch") or refs[body.source_repo]["default_branch"]
    plan = store.emulator.plan("kolega", ["fix:%s" % repository_id, repository_id])
    now = time.time()
    fix = Fix(store.emulator.new_uuid(), repo, request, Timeline(now, plan))
    fix.base_sha = store.emulator.new_hex(40)
    store.fixes[fix.id] = fix
    return json_response(fix.render(now), status=201)


@router.get("/repositories/{repository_id}/fixes/{fix_id}")
async def get_fix(repository_id: str, fix_id: str, store: Store = Depends(needs("fixes:read"))):
    return json_response(find_fix(store, find_repo(store, repository_id), fix_id).render(time.time()))


@router.get("/repositories/{repository_id}/fixes/{fix_id}/diff")
async def get_fix_diff(repository_id: str, fix_id: str, store: Store = Depends(needs("fixes:read"))):
    fix = find_fix(store, find_repo(store, repository_id), fix_id)
    status = fix.status(time.time())
    diff = None
    if status == "completed":
        paths = []
        for finding_id in fix.request.get("finding_ids") or []:
            catalog, index = store.index[finding_id]
            paths.append(catalog.render(index)["file_path"])
        diff = "".join("--- a/%s\n+++ b/%s\n@@ -1,3 +1,3 @@\n-# vulnerable line\n+# fixed by Kolega autofix: %s\n" % (path, path, fix.request["title"])
                       for path in (sorted(set(paths)) or ["README.md"]))
        for note, _when in fix.refinements:
            diff += "# refinement: %s\n" % note.splitlines()[0][:120]
    return json_response({"fix_id": fix.id, "status": status, "diff": diff})


@router.get("/repositories/{repository_id}/fixes/{fix_id}/progress")
async def get_fix_progress(repository_id: str, fix_id: str, store: Store = Depends(needs("fixes:read"))):
    fix = find_fix(store, find_repo(store, repository_id), fix_id)
    now = time.time()
    rendered = fix.render(now)
    status = rendered["status"]
    fraction = fix.timeline.fraction(now if fix.cancelled_at is None else fix.cancelled_at)
    started = fix.timeline.started if rendered["started_at"] else None
    finished = fix.cancelled_at if status == "cancelled" else (fix.timeline.ended if status in ("completed", "failed") else None)
    duration = None if started is None else round((finished or now) - started, 3)
    return json_response({"fix_id": fix.id, "repository_id": repository_id, "status": status,
                          "started_at": rendered["started_at"], "completed_at": rendered["completed_at"],
                          "duration_seconds": duration, "agent_steps_completed": int(24 * fraction) if started else 0,
                          "latest_activity_at": iso_micros(min(now, finished or now)) if started else None,
                          "error_message": rendered["error_message"]})


@router.post("/repositories/{repository_id}/fixes/{fix_id}/refine")
async def refine_fix(repository_id: str, fix_id: str, body: PublicFixRefineRequest, store: Store = Depends(needs("fixes:write"))):
    fix = find_fix(store, find_repo(store, repository_id), fix_id)
    now = time.time()
    if fix.status(now) != "completed":
        raise error(409, "INVALID_STATE", "Only a completed fix can be refined (status: %s)" % fix.status(now))
    fix.refinements.append((body.instructions, now))
    fix.timeline = Timeline(fix.timeline.created, dict(store.emulator.plan("kolega", ["fix:%s" % repository_id, repository_id]),
                                                       queued_seconds=now - fix.timeline.created))
    return json_response(fix.render(now))


@router.post("/repositories/{repository_id}/fixes/{fix_id}/cancel")
async def cancel_fix(repository_id: str, fix_id: str, store: Store = Depends(needs("fixes:write"))):
    fix = find_fix(store, find_repo(store, repository_id), fix_id)
    now = time.time()
    if fix.status(now) not in ("pending", "running"):
        raise error(409, "INVALID_STATE", "Only a pending or running fix can be cancelled (status: %s)" % fix.status(now))
    fix.cancelled_at = now
    return json_response(fix.render(now))


@router.post("/repositories/{repository_id}/fixes/{fix_id}/pull-requests")
async def create_pull_requests(repository_id: str, fix_id: str, body: Optional[PublicCreatePRRequest] = Body(None),
                               store: Store = Depends(needs("fixes:write"))):
    fix = find_fix(store, find_repo(store, repository_id), fix_id)
    now = time.time()
    if fix.status(now) != "completed":
        raise error(409, "INVALID_STATE", "Pull requests can only be opened for a completed fix (status: %s)" % fix.status(now))
    if fix.pull_requests:
        raise error(409, "CONFLICT", "Pull requests already exist for this fix")
    store.consume("prs")
    store.pr_number += 1
    full_name = fix.request["source_repo"]
    provider = fix.request["source_repo_provider"]
    branch = (body.branch_name if body and body.branch_name else None) or "kolega/fix-%s" % fix.id[:8]
    if provider == "gitlab":
        url = "https://gitlab.com/%s/-/merge_requests/%d" % (full_name, store.pr_number)
    elif provider == "azure_devops":
        url = "https://dev.azure.com/%s/pullrequest/%d" % (full_name, store.pr_number)
    else:
        url = "https://github.com/%s/pull/%d" % (full_name, store.pr_number)
    fix.pull_requests.append({"repo_full_name": full_name, "branch_name": branch, "pr_number": store.pr_number, "pr_url": url,
                              "merge_status": "open", "created_at": iso_micros(now), "merged_at": None})
    return json_response({"fix_id": fix.id, "pull_requests": list(fix.pull_requests)}, status=201)


@router.get("/quotas/balance")
async def get_quota_balance(store: Store = Depends(needs(None))):
    return json_response(store.quota_balance())
