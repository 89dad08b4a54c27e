# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudGeni Scanning API (https://api.cloudgeni.ai/api/v1), mounted at /cloudgeni/api/v1.

Documented: repositories, scans, findings, the ``scan.completed`` webhook payload, the error
shapes and the per-minute limits. Assumed (docs/assumptions.md, CloudGeni section): finding
status PATCH and webhook registration endpoints; no rate-limit headers.
"""

import collections
import hashlib
import hmac
import json
import re
import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from .common import Timeline, VendorError, iso_seconds, json_response, parse_int, read_json
from .findings import IAC_CHECKS, IAC_WEIGHTS, SEVERITY_ORDER, LazyFindings

PREFIX = "/cloudgeni/api/v1"
router = APIRouter(prefix=PREFIX)

SCOPES = ("read-only", "read-write", "admin")
SCAN_TYPES = ("static", "full")
FINDING_STATUSES = ("open", "resolved", "suppressed")
PROVIDERS = ("github", "gitlab", "azure-devops")
DEMO_KEYS = {
    "cg_live_demo_admin_4f7c2a9e1b3d5f60": {"scope": "admin", "orgs": ["org_123"], "name": "demo admin"},
    "cg_live_demo_readwrite_8e2b6d4a0c1f3e57": {"scope": "read-write", "orgs": ["org_123"], "name": "demo read-write"},
    "cg_live_demo_readonly_2a4c6e8f0b1d3f59": {"scope": "read-only", "orgs": ["org_123"], "name": "demo read-only"},
    "cg_live_demo_otherorg_9d8c7b6a5f4e3d21": {"scope": "admin", "orgs": ["org_456"], "name": "other organization"},
}
_HEX = re.compile(r"^[0-9a-fA-F]{7,40}$")


def error(status, code, message, details=None):
    return VendorError(status, {"error": code, "message": message, "details": details or {}})


def bad_request(message, field, issue):
    return error(400, "bad_request", message, {"field": field, "issue": issue})


class Scan:
    """One scan; its status is derived from the wall clock (see Timeline)."""

    def __init__(self, scan_id, repo, branch, commit, scan_type, timeline, findings):
        self.id = scan_id
        self.repo = repo
        self.branch = branch
        self.commit = commit
        self.type = scan_type
        self.timeline = timeline
        self.findings = findings
        self.status_overrides = {}
        self._summary = None

    def status(self, now):
        phase = self.timeline.phase(now)
        if phase != "done":
            return phase
        return "completed" if self.timeline.outcome == "completed" else "failed"

    def summary(self):
        if self._summary is None:
            counts = collections.Counter(IAC_CHECKS[kind][3] for kind in self.findings.kinds)
            self._summary = {"total": self.findings.count}
            self._summary.update((severity, counts.get(severity, 0)) for severity in SEVERITY_ORDER)
        return self._summary

    def finding_id(self, index):
        return "finding_%s_%d" % (self.id[5:], index + 1)

    def finding(self, index):
        check = IAC_CHECKS[self.findings.kinds[index]]
        variant = self.findings.variant(index, 9973)
        return {
            "id": self.finding_id(index),
            "checkId": check[0],
            "title": check[1],
            "description": check[2],
            "severity": check[3],
            "status": self.status_overrides.get(index, "open"),
            "resource": {"type": check[4], "name": check[5][variant % len(check[5])],
                         "file": check[6][variant % len(check[6])], "line": 1 + variant % 240},
            "remediation": {"description": check[7], "code": check[8]},
        }

    def render(self, now):
        status = self.status(now)
        body = {"id": self.id, "repositoryId": self.repo["id"], "branch": self.branch, "commit": self.commit,
                "type": self.type, "status": status, "createdAt": iso_seconds(self.timeline.created)}
        if status in ("completed", "failed"):
            body["completedAt"] = iso_seconds(self.timeline.ended)
        if status == "completed":
            body["summary"] = dict(self.summary())
        return body


class Store:
    """Organizations, repositories, scans, keys and webhooks of the CloudGeni emulation."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.orgs = {}
        self.repos = {}
        self.scans = {}
        self.scans_by_repo = collections.defaultdict(list)
        self.keys = {}
        self.webhooks = collections.defaultdict(dict)

    def describe_config(self):
        return {"keys": {key[:12] + "...": value for key, value in self.keys.items()}}

    def describe_state(self):
        return {"organizations": sorted(self.orgs), "repositories": len(self.repos), "scans": len(self.scans),
                "webhooks": sum(len(hooks) for hooks in self.webhooks.values())}

    def update_config(self, key, value):
        raise ValueError("unknown cloudgeni setting %r" % key)

    # ------------------------------------------------------------------ seeding
    def seed_default(self):
        self.keys = {key: dict(value) for key, value in DEMO_KEYS.items()}
        self.orgs = {"org_123": {"id": "org_123", "name": "myorg"}, "org_456": {"id": "org_456", "name": "otherorg"}}
        self.add_repo({"id": "repo_abc123", "orgId": "org_123", "name": "infrastructure", "fullName": "myorg/infrastructure",
                       "lastScanAt": "2024-01-15T10:30:00Z"})
        self.add_repo({"id": "repo_abc", "orgId": "org_123", "name": "networking", "fullName": "myorg/networking"})
        # Same short name as repo_abc123, different owner: lookups by name alone are ambiguous.
        self.add_repo({"id": "repo_def456", "orgId": "org_123", "name": "infrastructure", "fullName": "platform-team/infrastructure",
                       "provider": "gitlab"})
        names = ("landing-zone", "eks-cluster", "vpc-modules", "iam-baseline", "data-lake", "observability", "dns-zones",
                 "bicep-hub", "aks-platform", "shared-services", "ci-runners", "edge-cdn", "secrets-vault", "backup-policies",
                 "cost-guardrails", "sandbox-accounts", "terragrunt-live", "org-policies", "kafka-cluster", "postgres-fleet", "redis-cache",
                 "legacy-ec2")
        for number, name in enumerate(names):
            provider = PROVIDERS[number % 3]
            self.add_repo({"id": "repo_%03d%s" % (number + 1, name.replace("-", "")[:6]), "orgId": "org_123", "name": name,
                           "fullName": "myorg/%s" % name, "provider": provider,
                           "defaultBranch": "master" if number % 7 == 6 else "main",
                           "status": "archived" if number == len(names) - 1 else "active"})
        self.add_repo({"id": "repo_zzz999", "orgId": "org_456", "name": "infrastructure", "fullName": "otherorg/infrastructure"})
        # The page's own examples: scan_xyz789 on repo_abc123 and scan_xyz on repo_abc, both completed
        # with the documented summary (15 findings: 0 critical, 2 high, 5 medium, 8 low).
        documented = {"critical": 0, "high": 2, "medium": 5, "low": 8, "info": 0}
        created = 1705315100.0  # 2024-01-15T10:38:20Z; only ordering matters
        for scan_id, repo_id in (("scan_xyz789", "repo_abc123"), ("scan_xyz", "repo_abc")):
            self.add_scan(scan_id, self.repos[repo_id], "main", "a1b2c3d4e5f6", "static",
                          {"queued_seconds": 0, "running_seconds": 90, "outcome": "completed", "finding_count": 15},
                          created=created, severity_counts=documented, notify=False)

    def add_repo(self, spec):
        repo = {"id": spec["id"], "orgId": spec.get("orgId", "org_123"), "name": spec["name"],
                "fullName": spec.get("fullName") or "myorg/%s" % spec["name"], "provider": spec.get("provider", "github"),
                "defaultBranch": spec.get("defaultBranch", "main"), "lastScanAt": spec.get("lastScanAt"),
                "status": spec.get("status", "active")}
        repo["branches"] = list(spec.get("branches") or [repo["defaultBranch"], "develop", "release/1.x"])
        self.orgs.setdefault(repo["orgId"], {"id": repo["orgId"], "name": repo["orgId"]})
        self.repos[repo["id"]] = repo
        return repo

    def seed(self, kind, spec):
        """Admin seeding: ``organization``, ``repository`` or ``api_key``."""
        if kind == "organization":
            self.orgs[spec["id"]] = {"id": spec["id"], "name": spec.get("name", spec["id"])}
            return self.orgs[spec["id"]]
        if kind == "repository":
            return public_repo(self.add_repo(spec))
        if kind == "api_key":
            if spec.get("scope", "admin") not in SCOPES:
                raise ValueError("scope must be one of %s" % ", ".join(SCOPES))
            key = spec.get("key") or "cg_live_" + self.emulator.new_hex(32)
            self.keys[key] = {"scope": spec.get("scope", "admin"), "orgs": spec.get("orgs", ["org_123"]), "name": spec.get("name", "seeded")}
            return {"key": key, "scope": self.keys[key]["scope"], "orgs": self.keys[key]["orgs"]}
        raise ValueError("cloudgeni seeds organization, repository or api_key")

    def add_scan(self, scan_id, repo, branch, commit, scan_type, plan, created=None, severity_counts=None, notify=True):
        emulator = self.emulator
        created = time.time() if created is None else created
        findings = LazyFindings(emulator.seed, scan_id, plan["finding_count"], IAC_WEIGHTS)
        if severity_counts:
            # Fix the distribution exactly (the documented example scans).
            by_severity = {check[3]: index for index, check in enumerate(IAC_CHECKS)}
            kinds = []
            for severity in SEVERITY_ORDER:
                kinds.extend([by_severity[severity]] * severity_counts.get(severity, 0))
            findings._kinds = kinds  # pylint: disable=protected-access
            findings.count = len(kinds)
        scan = Scan(scan_id, repo, branch, commit, scan_type, Timeline(created, plan), findings)
        self.scans[scan_id] = scan
        self.scans_by_repo[repo["id"]].append(scan)
        if notify:
            # Scheduled even when already due (zero durations): the next tick delivers the webhooks.
            emulator.at(scan.timeline.ended, lambda now: self.on_scan_end(scan))
        return scan

    def on_scan_end(self, scan):
        org_id = scan.repo["orgId"]
        for hook in list(self.webhooks[org_id].values()):
            if not hook["active"] or "scan.completed" not in hook["events"]:
                continue
            summary = scan.summary() if scan.timeline.outcome == "completed" else dict.fromkeys(SEVERITY_ORDER, 0)
            payload = {
                "event": "scan.completed",
                "timestamp": iso_seconds(scan.timeline.ended),
                "data": {
                    "scanId": scan.id, "repositoryId": scan.repo["id"], "repositoryName": scan.repo["fullName"],
                    "branch": scan.branch, "status": scan.status(scan.timeline.ended),
                    "summary": {"total": sum(summary[s] for s in SEVERITY_ORDER), "critical": summary["critical"],
                                "high": summary["high"], "medium": summary["medium"], "low": summary["low"]},
                    "dashboardUrl": "https://app.cloudgeni.ai/scans/%s" % scan.id,
                },
            }
            body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
            headers = {"Content-Type": "application/json", "User-Agent": "CloudGeni-Webhooks/1.0", "X-CloudGeni-Event": "scan.completed"}
            if hook.get("secret"):
                digest = hmac.new(hook["secret"].encode("utf-8"), body, hashlib.sha256).hexdigest()
                headers["X-CloudGeni-Signature"] = "sha256=" + digest
            self.emulator.deliver("cloudgeni", "webhook", "scan.completed", hook["url"], body, headers)


def public_repo(repo):
    return {key: repo[key] for key in ("id", "name", "fullName", "provider", "defaultBranch", "lastScanAt", "status")}


# ---------------------------------------------------------------------- request helpers
def store_of(request):
    emulator = request.app.state.emulator
    emulator.tick()
    return emulator.vendors["cloudgeni"]


def authorize(request, store, org_id, needed="read-only", limit=None):
    key = request.headers.get("x-cloudgeni-api-key")
    record = store.keys.get(key) if key else None
    if record is None:
        raise error(401, "unauthorized", "Invalid or missing API key")
    if org_id not in store.orgs:
        raise error(404, "not_found", "Organization not found", {"orgId": org_id})
    if org_id not in record["orgs"]:
        raise error(403, "forbidden", "API key does not have access to this organization", {"orgId": org_id})
    if SCOPES.index(record["scope"]) < SCOPES.index(needed):
        raise error(403, "forbidden", "API key scope '%s' does not allow this operation" % record["scope"],
                    {"requiredScope": needed})
    if limit:
        limits = store.emulator.limits("cloudgeni")
        if limits["enabled"]:
            allowed, _remaining, retry = store.emulator.window.hit(
                ("cloudgeni", limit, key), int(limits[limit + "_per_window"]), float(limits["window_seconds"]), time.time())
            if not allowed:
                raise error(429, "rate_limited", "Rate limit exceeded",
                            {"limit": int(limits[limit + "_per_window"]), "retryAfterSeconds": retry})
    return record


def page_params(request):
    limit = parse_int(request.query_params.get("limit"), 20)
    offset = parse_int(request.query_params.get("offset"), 0)
    if limit is None or not 1 <= limit <= 100:
        raise bad_request("Invalid query parameter", "limit", "limit must be an integer between 1 and 100")
    if offset is None or offset < 0:
        raise bad_request("Invalid query parameter", "offset", "offset must be a non-negative integer")
    return limit, offset


def choice_param(request, name, allowed):
    value = request.query_params.get(name)
    if value is not None and value not in allowed:
        raise bad_request("Invalid query parameter", name, "%s must be one of: %s" % (name, ", ".join(allowed)))
    return value


def page(items, total, limit, offset):
    return {"data": items, "pagination": {"total": total, "limit": limit, "offset": offset}}


def find_repo(store, org_id, repo_id):
    repo = store.repos.get(repo_id)
    if repo is None or repo["orgId"] != org_id:
        raise error(404, "not_found", "Repository not found", {"repositoryId": repo_id})
    return repo


def find_scan(store, repo, scan_id):
    scan = store.scans.get(scan_id)
    if scan is None or scan.repo is not repo:
        raise error(404, "not_found", "Scan not found", {"scanId": scan_id})
    return scan


async def body_object(request):
    body = await read_json(request, lambda reason: bad_request(reason, "body", "Request body must be a JSON object"))
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("Invalid request body", "body", "Request body must be a JSON object")
    return body


# ---------------------------------------------------------------------- endpoints
@router.get("/organizations/{org_id}/repositories")
async def list_repositories(org_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id)
    limit, offset = page_params(request)
    provider = choice_param(request, "provider", PROVIDERS)
    repos = [repo for repo in store.repos.values() if repo["orgId"] == org_id and (provider is None or repo["provider"] == provider)]
    return json_response(page([public_repo(repo) for repo in repos[offset:offset + limit]], len(repos), limit, offset))


@router.post("/organizations/{org_id}/repositories/{repo_id}/scans")
async def trigger_scan(org_id: str, repo_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id, "read-write", limit="trigger")
    repo = find_repo(store, org_id, repo_id)
    body = await body_object(request)
    branch = body.get("branch", repo["defaultBranch"])
    if not isinstance(branch, str) or branch not in repo["branches"]:
        raise bad_request("Invalid branch name", "branch", "Branch '%s' does not exist" % branch)
    scan_type = body.get("type", "static")
    if scan_type not in SCAN_TYPES:
        raise bad_request("Invalid scan type", "type", "type must be one of: static, full")
    commit = body.get("commit")
    if commit is not None and (not isinstance(commit, str) or not _HEX.match(commit)):
        raise bad_request("Invalid commit", "commit", "commit must be a 7-40 character hexadecimal SHA")
    now = time.time()
    for existing in store.scans_by_repo[repo_id]:
        if existing.status(now) in ("queued", "running"):
            raise error(409, "conflict", "A scan is already running for this repository", {"existingScanId": existing.id})
    emulator = store.emulator
    plan = emulator.plan("cloudgeni", [repo_id, org_id])
    scan = store.add_scan("scan_" + emulator.new_hex(12), repo, branch, commit or emulator.new_hex(12), scan_type, plan, created=now)
    repo["lastScanAt"] = iso_seconds(now)
    return json_response(scan.render(now), status=201)


@router.get("/organizations/{org_id}/repositories/{repo_id}/scans")
async def list_scans(org_id: str, repo_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id)
    repo = find_repo(store, org_id, repo_id)
    limit, offset = page_params(request)
    status = choice_param(request, "status", ("queued", "running", "completed", "failed", "cancelled"))
    branch = request.query_params.get("branch")
    now = time.time()
    scans = [scan for scan in reversed(store.scans_by_repo[repo["id"]])
             if (status is None or scan.status(now) == status) and (branch is None or scan.branch == branch)]
    return json_response(page([scan.render(now) for scan in scans[offset:offset + limit]], len(scans), limit, offset))


@router.get("/organizations/{org_id}/repositories/{repo_id}/scans/{scan_id}")
async def get_scan(org_id: str, repo_id: str, scan_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id, limit="status")
    scan = find_scan(store, find_repo(store, org_id, repo_id), scan_id)
    return json_response(scan.render(time.time()))


@router.get("/organizations/{org_id}/repositories/{repo_id}/scans/{scan_id}/findings")
async def list_findings(org_id: str, repo_id: str, scan_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id, limit="findings")
    scan = find_scan(store, find_repo(store, org_id, repo_id), scan_id)
    limit, offset = page_params(request)
    severity = choice_param(request, "severity", SEVERITY_ORDER)
    status = choice_param(request, "status", FINDING_STATUSES)
    if scan.status(time.time()) != "completed":
        # Findings exist only once a scan has completed.
        return json_response(page([], 0, limit, offset))
    kinds = scan.findings.kinds
    overrides = scan.status_overrides
    if severity is None and status is None:
        selected = range(scan.findings.count)
    else:
        selected = [index for index in range(scan.findings.count)
                    if (severity is None or IAC_CHECKS[kinds[index]][3] == severity)
                    and (status is None or overrides.get(index, "open") == status)]
    items = [scan.finding(index) for index in selected[offset:offset + limit]]
    return json_response(page(items, len(selected), limit, offset))


@router.patch("/organizations/{org_id}/repositories/{repo_id}/scans/{scan_id}/findings/{finding_id}")
async def update_finding(org_id: str, repo_id: str, scan_id: str, finding_id: str, request: Request):
    """ASSUMED endpoint (docs/assumptions.md): update one finding's status."""
    store = store_of(request)
    authorize(request, store, org_id, "read-write")
    scan = find_scan(store, find_repo(store, org_id, repo_id), scan_id)
    prefix = "finding_%s_" % scan.id[5:]
    number = parse_int(finding_id[len(prefix):], None) if finding_id.startswith(prefix) else None
    if number is None or not 1 <= number <= scan.findings.count or scan.status(time.time()) != "completed":
        raise error(404, "not_found", "Finding not found", {"findingId": finding_id})
    body = await body_object(request)
    status = body.get("status")
    if status not in FINDING_STATUSES:
        raise bad_request("Invalid finding status", "status", "status must be one of: open, resolved, suppressed")
    scan.status_overrides[number - 1] = status
    return json_response(scan.finding(number - 1))


# ---------------------------------------------------------------------- webhooks (ASSUMED)
def public_hook(hook):
    return {key: hook[key] for key in ("id", "url", "events", "active", "createdAt")}


def validate_hook(body, partial):
    hook = {}
    if "url" in body or not partial:
        url = body.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise bad_request("Invalid webhook URL", "url", "url must be an http(s) URL")
        hook["url"] = url
    if "events" in body or not partial:
        events = body.get("events", ["scan.completed"])
        if not isinstance(events, list) or not events or any(event != "scan.completed" for event in events):
            raise bad_request("Invalid webhook events", "events", "events must be a non-empty list of: scan.completed")
        hook["events"] = events
    if "secret" in body:
        if body["secret"] is not None and not isinstance(body["secret"], str):
            raise bad_request("Invalid webhook secret", "secret", "secret must be a string")
        hook["secret"] = body["secret"]
    if "active" in body or not partial:
        active = body.get("active", True)
        if not isinstance(active, bool):
            raise bad_request("Invalid webhook state", "active", "active must be a boolean")
        hook["active"] = active
    unknown = sorted(set(body) - {"url", "events", "secret", "active"})
    if unknown:
        raise bad_request("Unknown field", unknown[0], "Field '%s' is not allowed" % unknown[0])
    return hook


def find_hook(store, org_id, hook_id):
    hook = store.webhooks[org_id].get(hook_id)
    if hook is None:
        raise error(404, "not_found", "Webhook not found", {"webhookId": hook_id})
    return hook


@router.get("/organizations/{org_id}/webhooks")
async def list_webhooks(org_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id)
    limit, offset = page_params(request)
    hooks = list(store.webhooks[org_id].values())
    return json_response(page([public_hook(hook) for hook in hooks[offset:offset + limit]], len(hooks), limit, offset))


@router.post("/organizations/{org_id}/webhooks")
async def create_webhook(org_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id, "admin")
    hook = validate_hook(await body_object(request), partial=False)
    hook.update({"id": "wh_" + store.emulator.new_hex(12), "createdAt": iso_seconds(time.time())})
    store.webhooks[org_id][hook["id"]] = hook
    return json_response(public_hook(hook), status=201)


@router.get("/organizations/{org_id}/webhooks/{hook_id}")
async def get_webhook(org_id: str, hook_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id)
    return json_response(public_hook(find_hook(store, org_id, hook_id)))


@router.patch("/organizations/{org_id}/webhooks/{hook_id}")
async def update_webhook(org_id: str, hook_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id, "admin")
    hook = find_hook(store, org_id, hook_id)
    hook.update(validate_hook(await body_object(request), partial=True))
    return json_response(public_hook(hook))


@router.delete("/organizations/{org_id}/webhooks/{hook_id}")
async def delete_webhook(org_id: str, hook_id: str, request: Request):
    store = store_of(request)
    authorize(request, store, org_id, "admin")
    find_hook(store, org_id, hook_id)
    del store.webhooks[org_id][hook_id]
    return Response(status_code=204)
