# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Penaxtra cloud-posture runs and findings (https://penaxtra.com/api/v2), mounted at /penaxtra.

Documented: GET/POST /api/v2/cloud-posture-runs (202 without a run id; newest first, at most 100),
the findings endpoints, token errors, scopes, per-token limits and the manual-run cap. Assumed
(docs/assumptions.md, Penaxtra section): the finding status list; ``scan_id`` is not filtered.
"""

import heapq
import ipaddress
import itertools
import json
import re
import time

from fastapi import APIRouter, Request

from .common import Timeline, VendorError, ceil_seconds, iso_seconds, json_response, stable_uuid
from .findings import CLOUD_CONTROL_WEIGHTS, CLOUD_CONTROLS, LazyFindings

PREFIX = "/penaxtra"
router = APIRouter(prefix=PREFIX)

ALL_SCOPES = ("cloud_posture:read", "cloud_posture:write", "findings:read", "findings:write")
FINDING_STATUSES = ("open", "triaged", "in_progress", "fixed", "risk_accepted", "false_positive")
TRIGGERS = ("manual", "verify")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TENANT = "acme"
DEMO_TOKENS = {
    "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e": {"tenant": TENANT, "scopes": list(ALL_SCOPES), "expires": None, "allowed_ips": None},
    "pnx_live_demo_readonly_4d2b8f6a1c3e": {"tenant": TENANT, "scopes": ["cloud_posture:read", "findings:read"], "expires": None,
                                            "allowed_ips": None},
    "pnx_live_demo_expired_9e7c5a3f1b2d": {"tenant": TENANT, "scopes": list(ALL_SCOPES), "expires": 1704067200.0, "allowed_ips": None},
    "pnx_live_demo_iprestricted_0f8e6d4c": {"tenant": TENANT, "scopes": list(ALL_SCOPES), "expires": None, "allowed_ips": ["10.0.0.0/8"]},
}
INTEGRATIONS = (
    ("3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03", TENANT, "aws", "aws-prod (123456789012)", 412),
    ("7a2d4f6b-1c3e-4a5b-8d7f-9e0a1b2c3d4e", TENANT, "gcp", "gcp-analytics", 187),
    ("b5e8c1d4-6f2a-4b9c-a3e7-0d1f2a3b4c5d", TENANT, "azure", "azure-corp", 264),
    ("e1d2c3b4-a5f6-4789-b0a1-c2d3e4f5a6b7", "globex", "aws", "globex-prod", 96),
)


def failure(status, code, **extra):
    body = {"error": code}
    body.update(extra)
    return VendorError(status, body)


class Run:
    def __init__(self, run_id, integration, trigger, timeline, count):
        self.id = run_id
        self.integration = integration
        self.trigger = trigger
        self.timeline = timeline
        self.count = 0 if trigger == "verify" else count
        self.findings = None

    def status(self, now):
        if self.timeline.phase(now) != "done":
            return "running"
        return "completed" if self.timeline.outcome == "completed" else "failed"

    def render(self, now):
        status = self.status(now)
        done = status != "running"
        return {"id": self.id, "integration_id": self.integration["id"], "trigger": self.trigger,
                "started_at": iso_seconds(self.timeline.created), "completed_at": iso_seconds(self.timeline.ended) if done else None,
                "status": status, "asset_count": self.integration["asset_count"],
                "finding_count": self.count if status == "completed" else 0,
                "duration_ms": int(round((self.timeline.ended - self.timeline.created) * 1000)) if done else None}

    def finding_id(self, index):
        return stable_uuid("penaxtra-finding", self.id, index)

    def discovered(self, index):
        span = self.timeline.ended - self.timeline.created
        return self.timeline.created + span * (index + 1) / max(1, self.count)


class Store:
    def __init__(self, emulator):
        self.emulator = emulator
        self.tokens = {}
        self.integrations = {}
        self.runs = []
        self.index = {}
        self.status = {}
        self.manual = {}
        # Seconds between the 202 and the run showing in the list (the scan worker picking it up).
        # The page documents no queued status: a run the worker has not started is not listed.
        self.enqueue_seconds = 0.0

    def describe_config(self):
        return {"enqueue_seconds": self.enqueue_seconds}

    def describe_state(self):
        return {"integrations": sorted(self.integrations), "runs": len(self.runs), "findings": len(self.index)}

    def update_config(self, key, value):
        if key != "enqueue_seconds":
            raise ValueError("unknown penaxtra setting %r (enqueue_seconds)" % key)
        self.enqueue_seconds = max(0.0, float(value))

    def seed_default(self):
        self.tokens = {token: dict(value) for token, value in DEMO_TOKENS.items()}
        for integration_id, tenant, cloud, name, assets in INTEGRATIONS:
            self.integrations[integration_id] = {"id": integration_id, "tenant": tenant, "provider": cloud, "name": name,
                                                 "asset_count": assets}
        # A scheduled run a day for three days, the newest six hours ago (so a max_age of 12h reuses
        # it). Their ids, and so their findings' ids, are derived from the integration and the day:
        # the collection's examples name them. The generator still draws one id per run, so every
        # id created after the seed is the one it was when these ids were random.
        start = time.time() - 2 * 86400 - 6 * 3600
        for day in range(3):
            for number, integration_id in enumerate(INTEGRATIONS[:3]):
                plan = {"queued_seconds": 0, "running_seconds": 40 + number * 7.5, "outcome": "completed", "finding_count": 5 + day + number * 2}
                self.emulator.new_uuid()
                self.add_run(self.integrations[integration_id[0]], "scheduled", plan, start + day * 86400 + number * 600,
                             run_id=stable_uuid("penaxtra-run", self.emulator.seed, integration_id[0], day))

    def seed(self, kind, spec):
        if kind == "integration":
            integration_id = spec.get("id") or self.emulator.new_uuid()
            self.integrations[integration_id] = {"id": integration_id, "tenant": spec.get("tenant", TENANT), "provider": spec.get("provider", "aws"),
                                                 "name": spec.get("name", "seeded"), "asset_count": int(spec.get("asset_count", 100))}
            return self.integrations[integration_id]
        if kind == "api_key":
            token = spec.get("token") or "pnx_" + self.emulator.new_hex(32)
            scopes = spec.get("scopes", list(ALL_SCOPES))
            self.tokens[token] = {"tenant": spec.get("tenant", TENANT), "scopes": scopes, "expires": spec.get("expires"),
                                  "allowed_ips": spec.get("allowed_ips")}
            return {"token": token, "scopes": scopes}
        raise ValueError("penaxtra seeds integration or api_key")

    def add_run(self, integration, trigger, plan, created, run_id=None):
        run = Run(run_id or self.emulator.new_uuid(), integration, trigger, Timeline(created, plan), plan["finding_count"])
        self.runs.append(run)
        if run.timeline.ended <= time.time():
            self.on_run_end(run)
        else:
            self.emulator.at(run.timeline.ended, lambda now: self.on_run_end(run))
        return run

    def on_run_end(self, run):
        if run.status(run.timeline.ended) != "completed" or not run.count:
            return
        run.findings = LazyFindings(self.emulator.seed, run.id, run.count, CLOUD_CONTROL_WEIGHTS)
        for index in range(run.count):
            self.index[run.finding_id(index)] = (run, index)

    def render_finding(self, run, index, detail=False):
        control = CLOUD_CONTROLS[run.findings.kinds[index]]
        finding_id = run.finding_id(index)
        variant = run.findings.variant(index, 9973)
        body = {"id": finding_id, "scan_id": run.id, "title": control[0], "severity": control[1],
                "status": self.status.get(finding_id, "open"), "jira_issue_key": "SEC-%d" % (1000 + variant % 900) if variant % 5 == 0 else None,
                "discovered_at": iso_seconds(run.discovered(index))}
        if detail:
            body["risk_refs"] = list(control[2])
            body["summary"] = "%s Integration: %s." % (control[3], run.integration["name"])
        return body


# ---------------------------------------------------------------------- request helpers
def authorize(request, scope):
    """Token checks, then the per-token bucket (its headers go on every answer), then the scope."""
    emulator = request.app.state.emulator
    emulator.tick()
    store = emulator.vendors["penaxtra"]
    header = request.headers.get("authorization", "")
    if not header:
        raise failure(401, "missing_token")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    record = store.tokens.get(token) if token else None
    if record is None:
        raise failure(401, "invalid_token")
    now = time.time()
    if record["expires"] is not None and record["expires"] < now:
        raise failure(401, "expired_token")
    if record["allowed_ips"]:
        client = request.client.host if request.client else "0.0.0.0"
        address = ipaddress.ip_address(client)
        if not any(address in ipaddress.ip_network(network, strict=False) for network in record["allowed_ips"]):
            raise failure(403, "ip_not_allowed")
    limits = emulator.limits("penaxtra")
    if limits["enabled"]:
        per_window = int(limits["requests_per_window"])
        rate = per_window / float(limits["window_seconds"])
        allowed, remaining, wait, until_full = emulator.bucket.take(("penaxtra", token), rate, int(limits["burst"]), now)
        headers = {"X-RateLimit-Limit": str(per_window), "X-RateLimit-Remaining": str(remaining),
                   "X-RateLimit-Reset": str(int(now + until_full + 0.999))}
        request.state.extra_headers = headers
        if not allowed:
            retry = ceil_seconds(wait)
            raise VendorError(429, {"error": "rate_limited", "retry_after_seconds": retry, "limit": per_window,
                                    "window": "%ds" % int(limits["window_seconds"])}, {"Retry-After": str(retry)})
    if scope not in record["scopes"]:
        raise failure(403, "missing_scope", required_scope=scope)
    return store, record


def answer(request, body, status=200):
    return json_response(body, status=status, headers=getattr(request.state, "extra_headers", None))


# ---------------------------------------------------------------------- endpoints
@router.get("/api/v2/cloud-posture-runs")
async def list_runs(request: Request):
    store, record = authorize(request, "cloud_posture:read")
    now = time.time()
    runs = [run for run in store.runs if run.integration["tenant"] == record["tenant"]]
    runs.sort(key=lambda run: run.timeline.created, reverse=True)
    return answer(request, {"data": [run.render(now) for run in runs[:100]]})


@router.post("/api/v2/cloud-posture-runs")
async def create_run(request: Request):
    store, record = authorize(request, "cloud_posture:write")
    emulator = store.emulator
    limits = emulator.limits("penaxtra")
    cap = int(limits["max_body_bytes"])
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise failure(413, "payload_too_large", limit_bytes=cap)
    raw = await request.body()
    if len(raw) > cap:
        raise failure(413, "payload_too_large", limit_bytes=cap)
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = {}
    integration_id = body.get("integration_id") if isinstance(body, dict) else None
    if not isinstance(integration_id, str) or not UUID.match(integration_id):
        raise failure(400, "invalid_integration_id")
    trigger = body.get("trigger", "manual")
    if trigger not in TRIGGERS:
        raise failure(400, "invalid_trigger")
    integration = store.integrations.get(integration_id.lower())
    if integration is None or integration["tenant"] != record["tenant"]:
        raise failure(404, "integration_not_found")
    now = time.time()
    if trigger == "manual" and limits["enabled"]:
        window = float(limits["manual_window_seconds"])
        recent = [stamp for stamp in store.manual.get(integration["id"], []) if stamp > now - window]
        store.manual[integration["id"]] = recent
        if len(recent) >= int(limits["manual_runs_per_integration"]):
            retry = ceil_seconds(recent[0] + window - now)
            raise VendorError(429, {"error": "rate_limited", "retry_after_seconds": retry}, {"Retry-After": str(retry)})
        recent.append(now)
    plan = emulator.plan("penaxtra", [integration["id"], record["tenant"]])
    if store.enqueue_seconds:
        emulator.at(now + store.enqueue_seconds, lambda at: store.add_run(integration, trigger, plan, at))
    else:
        store.add_run(integration, trigger, plan, now)
    return answer(request, {"accepted": True, "integration_id": integration["id"], "trigger": trigger, "poll": "/api/v2/cloud-posture-runs"},
                  status=202)


@router.get("/api/v2/findings")
async def list_findings(request: Request):
    store, record = authorize(request, "findings:read")
    severity = request.query_params.get("severity")
    if severity is not None and severity not in ("critical", "high", "medium", "low", "info"):
        raise failure(400, "invalid_severity")
    runs = [run for run in store.runs if run.findings is not None and run.integration["tenant"] == record["tenant"]]
    # Strictly newest first across runs: runs may overlap, so merge their findings by discovery time.
    newest = heapq.merge(*[_newest_first(run, severity) for run in runs], key=lambda item: -item[0])
    rows = [store.render_finding(run, index) for _when, run, index in itertools.islice(newest, 200)]
    return answer(request, {"data": rows})


def _newest_first(run, severity):
    kinds = run.findings.kinds
    for index in range(run.count - 1, -1, -1):
        if severity is None or CLOUD_CONTROLS[kinds[index]][1] == severity:
            yield run.discovered(index), run, index


def find_finding(store, record, finding_id):
    if not UUID.match(finding_id):
        raise failure(400, "invalid_finding_id")
    found = store.index.get(finding_id.lower())
    if found is None or found[0].integration["tenant"] != record["tenant"]:
        raise failure(404, "finding_not_found")
    return found


@router.get("/api/v2/findings/{finding_id}")
async def get_finding(finding_id: str, request: Request):
    store, record = authorize(request, "findings:read")
    run, index = find_finding(store, record, finding_id)
    return answer(request, store.render_finding(run, index, detail=True))


@router.patch("/api/v2/findings/{finding_id}")
async def update_finding(finding_id: str, request: Request):
    store, record = authorize(request, "findings:write")
    run, index = find_finding(store, record, finding_id)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = {}
    status = body.get("status") if isinstance(body, dict) else None
    if status not in FINDING_STATUSES:
        raise failure(400, "invalid_status", allowed=list(FINDING_STATUSES))
    store.status[run.finding_id(index)] = status
    return answer(request, store.render_finding(run, index, detail=True))
