# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HarborGuard API, mounted at /harborguard (paths /api/...).

Documented: /api/scans (list, create, get, status, delete, upload), /api/vulnerabilities and its
triage, roles, the ``{data, meta, links}`` and ``{error: {code, message, issues}}`` shapes, the
10-a-minute limit on POST /api/scans and signed webhooks. Assumed (docs/assumptions.md,
HarborGuard section): ``search`` matching, the triage request body, the status body.
"""

import collections
import hashlib
import hmac
import json
import re
import time
import urllib.parse

from fastapi import APIRouter, Request

from .common import Timeline, VendorError, client_ip, iso_millis, json_response, parse_int
from .findings import IMAGE_CVE_WEIGHTS, IMAGE_CVES, LazyFindings

PREFIX = "/harborguard"
router = APIRouter(prefix=PREFIX)

ROLE_RANK = {"viewer": 0, "developer": 1, "ci": 1, "admin": 2, "sensor": -1}
SCANNERS = ("trivy", "grype", "syft", "dive", "dockle", "osv")
VULN_SCANNERS = ("trivy", "grype", "osv")
TRIAGE_STATUSES = ("OPEN", "ACKNOWLEDGED", "IN_PROGRESS", "FIXED", "WONT_FIX")
SCAN_STATUSES = ("QUEUED", "IN_PROGRESS", "COMPLETE", "FAILED", "CANCELLED")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE")
SLA_DAYS = {"CRITICAL": 7, "HIGH": 30, "MEDIUM": 90, "LOW": 180, "NEGLIGIBLE": 365}
CVE_PATTERN = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
DEMO_CREDENTIALS = {
    # Organization API keys (role ``ci`` unless stated) and personal access tokens (their user's role).
    "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d": {"kind": "api_key", "role": "ci", "name": "ci-pipeline"},
    "hg_ak_0b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f": {"kind": "api_key", "role": "sensor", "name": "edge-sensor"},
    "hg_pat_a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718": {"kind": "pat", "role": "admin", "name": "admin@acme.example"},
    "hg_pat_f0e1d2c3b4a5968778695a4b3c2d1e0f0e1d2c3b4a596877": {"kind": "pat", "role": "developer", "name": "dev@acme.example"},
    "hg_pat_1234567890abcdef1234567890abcdef1234567890abcdef": {"kind": "pat", "role": "viewer", "name": "auditor@acme.example"},
}
KEY_PATTERN = re.compile(r"^hg_(ak|pat)_[0-9a-f]{48}$")


def error(status, code, message, issues=None, headers=None):
    return VendorError(status, {"error": {"code": code, "message": message, "issues": issues or []}}, headers)


def invalid(path, message):
    return error(400, "VALIDATION_ERROR", "Invalid request", [{"path": path, "message": message}])


def parse_reference(reference):
    """``registry/name:tag`` or ``name@sha256:...`` into (name, tag, digest or None)."""
    digest = None
    if "@" in reference:
        reference, digest = reference.split("@", 1)
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1:], digest
    return reference, "latest", digest


def grade(counts):
    if counts["CRITICAL"] > 2:
        return "F"
    if counts["CRITICAL"]:
        return "D"
    if counts["HIGH"] > 5:
        return "C"
    if counts["HIGH"]:
        return "B"
    return "A"


class Scan:
    def __init__(self, store, scan_id, image, scanners, timeline, count, explicit=None):
        self.store = store
        self.id = scan_id
        self.image = image
        self.scanners = scanners
        self.timeline = timeline
        self.explicit = explicit
        self.findings = None if explicit is not None else LazyFindings(store.emulator.seed, scan_id, count, IMAGE_CVE_WEIGHTS)
        self.count = len(explicit) if explicit is not None else count
        self.fixed_score = None
        self.deleted = False
        self._counts = None
        self._cve_index = None

    def status(self, now):
        phase = self.timeline.phase(now)
        if phase == "queued":
            return "QUEUED"
        if phase == "running":
            return "IN_PROGRESS"
        return "COMPLETE" if self.timeline.outcome == "completed" else "FAILED"

    def base(self, index):
        """(cveId, severity, cvss, package, version, fixedVersion, scanner) of one vulnerability."""
        if self.explicit is not None:
            item = self.explicit[index]
            return (item.get("cveId"), str(item.get("severity", "MEDIUM")).upper(), item.get("cvss", 0), item.get("package"),
                    item.get("version"), item.get("fixedVersion"), item.get("scanner", "trivy"))
        package, version, cve, severity, cvss, fixed = IMAGE_CVES[self.findings.kinds[index]]
        variant = self.findings.variant(index, 1000003)
        if index >= len(IMAGE_CVES) * 3:
            # Large scans: same packages, distinct (synthetic) advisories.
            cve = "CVE-%d-%05d" % (2019 + variant % 6, 10000 + variant % 89999)
        usable = [name for name in self.scanners if name in VULN_SCANNERS] or ["trivy"]
        return cve, severity, cvss, package, version, fixed, usable[variant % len(usable)]

    def severity(self, index):
        if self.explicit is not None:
            return str(self.explicit[index].get("severity", "MEDIUM")).upper()
        return IMAGE_CVES[self.findings.kinds[index]][3]

    def counts(self):
        if self._counts is None:
            counts = collections.Counter(self.severity(index) for index in range(self.count))
            self._counts = {severity: counts.get(severity, 0) for severity in SEVERITIES}
        return self._counts

    def cve_index(self):
        if self._cve_index is None:
            self._cve_index = collections.defaultdict(list)
            for index in range(self.count):
                self._cve_index[self.base(index)[0].upper()].append(index)
        return self._cve_index

    def compliance(self):
        return self.fixed_score[0] if self.fixed_score else grade(self.counts())

    def risk_score(self):
        if self.fixed_score:
            return self.fixed_score[1]
        counts = self.counts()
        return min(100, int(round(counts["CRITICAL"] * 10 + counts["HIGH"] * 4 + counts["MEDIUM"] * 1.5 + counts["LOW"] * 0.2)))

    def vuln_id(self, index):
        return "vuln-%s-%05d" % (self.id[4:] if self.id.startswith("scn-") else self.id, index)

    def vulnerability(self, index):
        cve, severity, cvss, package, version, fixed, scanner = self.base(index)
        detected = self.timeline.ended
        return {"id": self.vuln_id(index), "scanId": self.id, "cveId": cve, "severity": severity, "cvss": cvss, "package": package,
                "version": version, "fixedVersion": fixed, "scanner": scanner,
                "triage": self.store.triage_of(self, index, cve, severity),
                "timeline": {"detectedAt": iso_millis(detected), "firstSeenAt": iso_millis(self.store.first_seen(self.image, cve, detected)),
                             "resolvedAt": None}}

    def summary(self, now):
        status = self.status(now)
        done = status == "COMPLETE"
        return {"id": self.id, "tagId": self.image["tagId"], "status": status, "compliance": self.compliance() if done else None,
                "riskScore": self.risk_score() if done else None,
                "duration": int(round((self.timeline.ended - self.timeline.started) * 1000)) if status in ("COMPLETE", "FAILED") else None,
                "scannedAt": iso_millis(self.timeline.created)}

    def detail(self, now):
        summary = self.summary(now)
        done = summary["status"] == "COMPLETE"
        packages = []
        layers = []
        if done:
            seen = {}
            for index in range(min(self.count, 500)):
                base = self.base(index)
                seen.setdefault(base[3], base[4])
            packages = [{"name": name, "version": version, "type": "deb"} for name, version in sorted(seen.items())]
            layers = [{"digest": "sha256:" + hashlib.sha256(("%s-%d" % (self.id, number)).encode()).hexdigest(),
                       "size": 1048576 * (number + 3), "command": command}
                      for number, command in enumerate(("ADD rootfs.tar.xz /", "RUN apt-get install -y --no-install-recommends ca-certificates",
                                                        "COPY app /srv/app", "CMD [\"/srv/app/start\"]"))]
        return {"id": self.id, "image": {"name": self.image["name"], "tag": self.image["tag"], "digest": self.image["digest"]},
                "status": summary["status"], "compliance": summary["compliance"], "riskScore": summary["riskScore"],
                "scannedAt": summary["scannedAt"], "duration": summary["duration"],
                "vulnerabilities": [self.vulnerability(index) for index in range(self.count)] if done else [],
                "packages": packages, "layers": layers}


class Store:
    def __init__(self, emulator):
        self.emulator = emulator
        self.credentials = {}
        self.images = {}
        self.scans = {}
        self.triage_by_id = {}
        self.triage_by_cve = {}
        self.seen = {}
        self.webhooks = {}
        self.plan_scan_limit = None

    def describe_config(self):
        return {"plan_scan_limit": self.plan_scan_limit}

    def describe_state(self):
        return {"images": sorted(self.images), "scans": len([scan for scan in self.scans.values() if not scan.deleted]),
                "webhooks": len(self.webhooks)}

    def update_config(self, key, value):
        if key != "plan_scan_limit":
            raise ValueError("unknown harborguard setting %r (plan_scan_limit)" % key)
        self.plan_scan_limit = None if value is None else int(value)

    def seed_default(self):
        self.credentials = {key: dict(value) for key, value in DEMO_CREDENTIALS.items()}
        base = time.time() - 7 * 86400
        history = (
            ("ghcr.io/acme/api:1.4.6", 0), ("docker.io/library/nginx:1.25.3", 1), ("ghcr.io/acme/web:2.0.1", 2),
            ("ghcr.io/acme/worker:0.9.0", 3), ("registry.acme.example/payments/billing:3.2.0", 4), ("ghcr.io/acme/api:1.4.7", 5),
        )
        for reference, day in history:
            scan_id = "scn-3kp9q1" if reference == "ghcr.io/acme/api:1.4.7" else None
            created = base + day * 86400
            plan = {"queued_seconds": 2, "running_seconds": 38.211, "outcome": "completed", "finding_count": 12 + day * 3}
            scan = self.add_scan(reference, ["trivy", "grype"], plan, created, scan_id=scan_id, notify=False)
            if scan_id:
                scan.image["tagId"] = "tag-abc"
                scan.fixed_score = ("B", 47)
        self.add_image("ghcr.io/acme/api:1.5.0-rc1")

    def seed(self, kind, spec):
        if kind == "image":
            image = self.add_image(spec["reference"])
            return dict(image)
        if kind == "api_key":
            key = spec.get("key") or ("hg_pat_" if spec.get("kind") == "pat" else "hg_ak_") + self.emulator.new_hex(48)
            if not KEY_PATTERN.match(key):
                raise ValueError("keys look like hg_ak_<48 hex> or hg_pat_<48 hex>")
            role = spec.get("role", "ci" if key.startswith("hg_ak_") else "developer")
            if role not in ROLE_RANK:
                raise ValueError("role must be one of %s" % ", ".join(ROLE_RANK))
            self.credentials[key] = {"kind": "pat" if key.startswith("hg_pat_") else "api_key", "role": role, "name": spec.get("name", "seeded")}
            return {"key": key, "role": role}
        if kind == "scan":
            scan = self.add_scan(spec["image"], spec.get("scanners", ["trivy"]), self.emulator.plan("harborguard", [spec["image"]]), time.time())
            return {"scanId": scan.id}
        raise ValueError("harborguard seeds image, api_key or scan")

    def add_image(self, reference):
        name, tag, digest = parse_reference(reference)
        key = "%s:%s" % (name, tag)
        if key not in self.images:
            self.images[key] = {"name": name, "tag": tag, "tagId": "tag-%s" % self.emulator.new_token("abcdefghijkmnpqrstuvwxyz23456789", 6),
                                "digest": digest or "sha256:" + hashlib.sha256(("%d:%s" % (self.emulator.seed, key)).encode()).hexdigest()}
        return self.images[key]

    def add_scan(self, reference, scanners, plan, created, scan_id=None, explicit=None, notify=True):
        image = self.add_image(reference)
        scan_id = scan_id or "scn-" + self.emulator.new_token("abcdefghijkmnpqrstuvwxyz0123456789", 6)
        scan = Scan(self, scan_id, image, scanners, Timeline(created, plan), plan["finding_count"], explicit)
        self.scans[scan_id] = scan
        if notify:
            self.emulator.at(scan.timeline.ended, lambda now: self.on_scan_end(scan))
        return scan

    def first_seen(self, image, cve, detected):
        key = (image["name"], cve)
        if key not in self.seen or self.seen[key] > detected:
            self.seen[key] = detected
        return self.seen[key]

    def triage_of(self, scan, index, cve, severity):
        by_id = self.triage_by_id.get(scan.vuln_id(index))
        by_cve = self.triage_by_cve.get((cve or "").upper())
        chosen = max([item for item in (by_id, by_cve) if item], key=lambda item: item["_at"], default=None)
        if chosen is None:
            return {"status": "OPEN", "assignee": None, "slaDeadline": iso_millis(scan.timeline.ended + SLA_DAYS.get(severity, 90) * 86400),
                    "note": None, "updatedBy": None, "updatedAt": None}
        triage = {key: value for key, value in chosen.items() if not key.startswith("_")}
        triage.setdefault("slaDeadline", iso_millis(scan.timeline.ended + SLA_DAYS.get(severity, 90) * 86400))
        return triage

    def add_webhook(self, spec):
        url = spec.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise ValueError("url must be an http(s) URL")
        if not isinstance(spec.get("secret"), str) or not spec["secret"]:
            raise ValueError("secret is required")
        hook = {"id": "whk-" + self.emulator.new_hex(8), "url": url, "secret": spec["secret"],
                "events": spec.get("events") or ["scan_complete", "scan_failed", "critical_cve"], "active": spec.get("active", True)}
        self.webhooks[hook["id"]] = hook
        return dict(hook, secret="<redacted>")

    def on_scan_end(self, scan):
        if scan.deleted:
            return
        end = scan.timeline.ended
        status = scan.status(end)
        reference = "%s:%s" % (scan.image["name"], scan.image["tag"])
        events = []
        if status == "COMPLETE":
            counts = scan.counts()
            events.append(("scan_complete", "info", "Scan complete: %s" % reference,
                           "Grade %s, risk score %d: %d critical, %d high, %d medium, %d low" % (
                               scan.compliance(), scan.risk_score(), counts["CRITICAL"], counts["HIGH"], counts["MEDIUM"], counts["LOW"])))
            if counts["CRITICAL"]:
                events.append(("critical_cve", "critical", "Critical vulnerabilities in %s" % reference,
                               "%d critical CVEs found" % counts["CRITICAL"]))
        else:
            events.append(("scan_failed", "error", "Scan failed: %s" % reference, "The scanner pipeline did not finish"))
        for hook in list(self.webhooks.values()):
            if not hook["active"]:
                continue
            for event, severity, title, message in events:
                if event not in hook["events"]:
                    continue
                body = json.dumps({"event": event, "severity": severity, "title": title, "message": message,
                                   "url": "/dashboard/scans/%s" % scan.id, "timestamp": iso_millis(end)},
                                  separators=(",", ":")).encode("utf-8")
                signature = "sha256=" + hmac.new(hook["secret"].encode("utf-8"), body, hashlib.sha256).hexdigest()
                headers = {"Content-Type": "application/json", "User-Agent": "HarborGuard-Webhook/1.0",
                           "X-HarborGuard-Event": event, "X-HarborGuard-Signature": signature}
                self.emulator.deliver("harborguard", "webhook", event, hook["url"], body, headers)


# ---------------------------------------------------------------------- request helpers
def store_of(request, min_role="viewer"):
    emulator = request.app.state.emulator
    emulator.tick()
    store = emulator.vendors["harborguard"]
    token = request.headers.get("x-api-key")
    if not token:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
    record = store.credentials.get(token) if token else None
    if record is None:
        raise error(401, "UNAUTHORIZED", "Authentication required: send X-API-Key or Authorization: Bearer")
    if min_role == "sensor":
        if record["kind"] != "api_key" or record["role"] != "sensor":
            raise error(403, "FORBIDDEN", "This endpoint accepts sensor-scoped API keys only")
    elif ROLE_RANK[record["role"]] < ROLE_RANK[min_role]:
        raise error(403, "FORBIDDEN", "Role '%s' cannot perform this action (requires %s)" % (record["role"], min_role))
    request.state.harborguard_actor = record["name"] + (" (API key)" if record["kind"] == "api_key" else "")
    return store


async def json_body(request):
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise error(400, "BAD_REQUEST", "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise error(400, "BAD_REQUEST", "Request body must be a JSON object")
    return body


def paging(request):
    page = parse_int(request.query_params.get("page"), 1)
    limit = parse_int(request.query_params.get("limit"), 50)
    issues = []
    if page is None or page < 1:
        issues.append({"path": "page", "message": "Number must be greater than or equal to 1"})
    if limit is None or limit < 1:
        issues.append({"path": "limit", "message": "Number must be greater than or equal to 1"})
    elif limit > 200:
        issues.append({"path": "limit", "message": "Number must be less than or equal to 200"})
    if issues:
        raise error(400, "VALIDATION_ERROR", "Invalid query parameters", issues)
    return page, limit


def envelope(request, path, items, total, page, limit):
    pages = max(1, -(-total // limit)) if total else 0
    params = [(key, value) for key, value in request.query_params.multi_items() if key not in ("page", "limit")]

    def link(number):
        return "%s?%s" % (path, urllib.parse.urlencode([("page", number), ("limit", limit)] + params))
    has_next = page * limit < total
    return {"data": items, "meta": {"page": page, "pageSize": limit, "total": total, "totalPages": pages, "hasNext": has_next,
                                    "hasPrev": page > 1},
            "links": {"self": link(page), "next": link(page + 1) if has_next else None}}


def sort_spec(request, allowed, default):
    """``field:asc|desc`` with a sortable field; anything else is a 400 naming the fields."""
    text = request.query_params.get("sort") or default
    field, _colon, direction = text.partition(":")
    if field not in allowed or direction not in ("", "asc", "desc"):
        raise invalid("sort", "Expected <field>:asc|desc with a sortable field: %s" % ", ".join(allowed))
    return field, direction == "desc"


# ---------------------------------------------------------------------- endpoints
@router.get("/api/scans")
async def list_scans(request: Request):
    store = store_of(request, "developer")
    page, limit = paging(request)
    status = request.query_params.get("status")
    if status is not None and status not in SCAN_STATUSES:
        raise invalid("status", "Invalid enum value. Expected %s" % " | ".join("'%s'" % value for value in SCAN_STATUSES))
    field, descending = sort_spec(request, ("scannedAt", "status", "compliance", "riskScore"), "scannedAt:desc")
    search = (request.query_params.get("search") or "").lower()
    now = time.time()
    rows = []
    for scan in store.scans.values():
        if scan.deleted:
            continue
        summary = scan.summary(now)
        if status and summary["status"] != status:
            continue
        if search:
            image = scan.image
            haystack = ("%s:%s" % (image["name"], image["tag"]), image["digest"], "%s@%s" % (image["name"], image["digest"]))
            if not any(search in text.lower() for text in haystack):
                continue
        rows.append((scan.timeline.created, summary))
    key = {"scannedAt": lambda row: row[0], "status": lambda row: row[1]["status"],
           "compliance": lambda row: row[1]["compliance"] or "Z", "riskScore": lambda row: row[1]["riskScore"] or -1}[field]
    rows.sort(key=key, reverse=descending)
    start = (page - 1) * limit
    return json_response(envelope(request, "/api/scans", [row[1] for row in rows[start:start + limit]], len(rows), page, limit))


@router.post("/api/scans")
async def create_scan(request: Request):
    store = store_of(request, "developer")
    emulator = store.emulator
    limits = emulator.limits("harborguard")
    headers = {}
    if limits["enabled"]:
        allowed, remaining, retry = emulator.window.hit(("harborguard", client_ip(request)), int(limits["scan_posts_per_window"]),
                                                        float(limits["window_seconds"]), time.time())
        headers = {"X-RateLimit-Limit": str(limits["scan_posts_per_window"]), "X-RateLimit-Remaining": str(remaining),
                   "X-RateLimit-Reset": str(int(time.time()) + retry)}
        request.state.extra_headers = headers
        if not allowed:
            raise error(429, "RATE_LIMITED", "Too many scan requests; retry in %d s" % retry, headers=dict(headers, **{"Retry-After": str(retry)}))
    body = await json_body(request)
    if "image" in body:
        reference = body["image"]
        if not isinstance(reference, str) or not reference.strip():
            raise invalid("image", "Expected a non-empty image reference such as ghcr.io/acme/api:1.4.7")
    elif "imageName" in body:
        if not isinstance(body["imageName"], str) or not body["imageName"]:
            raise invalid("imageName", "Expected string")
        reference = "%s:%s" % (body["imageName"], body.get("tag") or "latest")
        if body.get("registry"):
            reference = "%s/%s" % (str(body["registry"]).rstrip("/"), reference)
    else:
        raise invalid("image", "Required")
    scanners = body.get("scanners", ["trivy", "grype"])
    if not isinstance(scanners, list) or not scanners or any(name not in SCANNERS for name in scanners):
        raise invalid("scanners", "Each scanner must be one of: %s" % ", ".join(SCANNERS))
    if store.plan_scan_limit is not None and len(store.scans) >= store.plan_scan_limit:
        raise error(402, "PLAN_LIMIT", "Your plan allows %d scans; upgrade to scan more" % store.plan_scan_limit)
    name, tag, _digest = parse_reference(reference)
    plan = emulator.plan("harborguard", ["%s:%s" % (name, tag), name])
    scan = store.add_scan(reference, scanners, plan, time.time())
    return json_response({"scanId": scan.id, "status": "QUEUED", "message": "Scan queued for execution",
                          "url": "/dashboard/scans/%s" % scan.id}, status=202, headers=headers)


def find_scan(store, scan_id):
    scan = store.scans.get(scan_id)
    if scan is None or scan.deleted:
        raise error(404, "NOT_FOUND", "Scan %s not found" % scan_id)
    return scan


@router.get("/api/scans/{scan_id}")
async def get_scan(scan_id: str, request: Request):
    store = store_of(request)
    return json_response({"data": find_scan(store, scan_id).detail(time.time())})


@router.get("/api/scans/{scan_id}/status")
async def get_scan_status(scan_id: str, request: Request):
    """Body ASSUMED (the page shows only "OK"): see docs/assumptions.md."""
    store = store_of(request)
    scan = find_scan(store, scan_id)
    now = time.time()
    summary = scan.summary(now)
    phase = scan.timeline.phase(now)
    progress = 0 if phase == "queued" else 100 if phase == "done" else int(100 * scan.timeline.fraction(now))
    return json_response({"data": {"id": scan.id, "status": summary["status"], "progress": progress,
                                   "compliance": summary["compliance"], "riskScore": summary["riskScore"]}})


@router.delete("/api/scans/{scan_id}")
async def delete_scan(scan_id: str, request: Request):
    store = store_of(request, "admin")
    scan = find_scan(store, scan_id)
    scan.deleted = True
    return json_response({"data": {"id": scan.id, "deleted": True}})


@router.post("/api/scans/upload")
async def upload_scan(request: Request):
    store = store_of(request, "sensor")
    body = await json_body(request)
    image = body.get("image", {})
    if not isinstance(image, dict):
        raise invalid("image", "Expected object, received %s" % type(image).__name__)
    vulnerabilities = body.get("vulnerabilities", [])
    if not isinstance(vulnerabilities, list) or any(not isinstance(item, dict) for item in vulnerabilities):
        raise invalid("vulnerabilities", "Expected array of objects")
    # Sensors may send partial envelopes (the page's own example has empty objects): keep what names a CVE.
    vulnerabilities = [item for item in vulnerabilities if isinstance(item.get("cveId"), str) and item["cveId"]]
    reference = "%s:%s" % (image.get("name") or "sensor-upload/unnamed", image.get("tag") or "latest")
    if image.get("digest"):
        reference += "@" + image["digest"]
    scanners = [item.get("name", "trivy") for item in body.get("scanners", []) if isinstance(item, dict)] or ["trivy"]
    now = time.time()
    scan_id = (body.get("scan") or {}).get("id")
    if scan_id and scan_id in store.scans:
        raise error(400, "BAD_REQUEST", "Scan %s was already uploaded" % scan_id)
    scan = store.add_scan(reference, scanners, {"queued_seconds": 0, "running_seconds": 0, "outcome": "completed", "finding_count": 0},
                          now - 0.001, scan_id=scan_id, explicit=vulnerabilities)
    return json_response({"scanId": scan.id, "status": "COMPLETE", "url": "/dashboard/scans/%s" % scan.id})


def latest_complete_scans(store, now):
    latest = {}
    for scan in store.scans.values():
        if scan.deleted or scan.status(now) != "COMPLETE":
            continue
        key = (scan.image["name"], scan.image["tag"])
        if key not in latest or latest[key].timeline.created < scan.timeline.created:
            latest[key] = scan
    return sorted(latest.values(), key=lambda scan: -scan.timeline.created)


@router.get("/api/vulnerabilities")
async def list_vulnerabilities(request: Request):
    store = store_of(request)
    page, limit = paging(request)
    query = request.query_params
    severity = (query.get("severity") or "").upper() or None
    if severity and severity not in SEVERITIES:
        raise invalid("severity", "Invalid enum value. Expected %s" % " | ".join(SEVERITIES))
    status = (query.get("status") or "").upper() or None
    if status and status not in TRIAGE_STATUSES:
        raise invalid("status", "Invalid enum value. Expected %s" % " | ".join(TRIAGE_STATUSES))
    scanner = query.get("scanner")
    if scanner and scanner not in SCANNERS:
        raise invalid("scanner", "Invalid enum value. Expected %s" % " | ".join(SCANNERS))
    field, descending = sort_spec(request, ("severity", "cvss", "detectedAt", "package", "cveId"), "cvss:desc")
    image_filter = query.get("image")
    package = query.get("package")
    cve = (query.get("cveId") or "").upper() or None
    search = (query.get("search") or "").lower()
    now = time.time()
    rows = []
    for scan in latest_complete_scans(store, now):
        reference = "%s:%s" % (scan.image["name"], scan.image["tag"])
        if image_filter and image_filter not in (reference, scan.image["name"], scan.image["digest"]):
            continue
        indices = scan.cve_index().get(cve, []) if cve else range(scan.count)
        for index in indices:
            base = scan.base(index)
            if severity and base[1] != severity:
                continue
            if scanner and base[6] != scanner:
                continue
            if package and base[3] != package:
                continue
            if search and search not in ("%s %s %s" % (base[0], base[3], reference)).lower():
                continue
            if status and scan.store.triage_of(scan, index, base[0], base[1])["status"] != status:
                continue
            rows.append((scan, index, base))
    order = {"severity": lambda row: SEVERITIES.index(row[2][1]) * -1, "cvss": lambda row: row[2][2] or 0,
             "detectedAt": lambda row: row[0].timeline.ended, "package": lambda row: row[2][3] or "", "cveId": lambda row: row[2][0] or ""}
    rows.sort(key=order[field], reverse=descending)
    start = (page - 1) * limit
    items = []
    for scan, index, _base in rows[start:start + limit]:
        item = scan.vulnerability(index)
        item["image"] = {"name": scan.image["name"], "tag": scan.image["tag"]}
        items.append(item)
    return json_response(envelope(request, "/api/vulnerabilities", items, len(rows), page, limit))


def parse_vuln_id(store, vuln_id):
    match = re.match(r"^vuln-(.+)-(\d+)$", vuln_id)
    if match:
        scan = store.scans.get("scn-" + match.group(1)) or store.scans.get(match.group(1))
        index = int(match.group(2))
        if scan is not None and not scan.deleted and index < scan.count and scan.status(time.time()) == "COMPLETE":
            return scan, index
    return None


@router.api_route("/api/vulnerabilities/{vuln_id}/triage", methods=["PUT", "POST"])
async def triage(vuln_id: str, request: Request):
    store = store_of(request, "developer")
    body = await json_body(request)
    unknown = sorted(set(body) - {"status", "assignee", "note"})
    if unknown:
        raise error(400, "VALIDATION_ERROR", "Invalid request", [{"path": key, "message": "Unrecognized key in object"} for key in unknown])
    if not body:
        raise invalid("status", "Provide at least one of status, assignee, note")
    if "status" in body and body["status"] not in TRIAGE_STATUSES:
        raise invalid("status", "Invalid enum value. Expected %s" % " | ".join("'%s'" % value for value in TRIAGE_STATUSES))
    for key in ("assignee", "note"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise invalid(key, "Expected string, received %s" % type(body[key]).__name__)
    now = time.time()
    if CVE_PATTERN.match(vuln_id):
        cve = vuln_id.upper()
        matches = [(scan, scan.cve_index()[cve][0]) for scan in latest_complete_scans(store, now) if scan.cve_index().get(cve)]
        if not matches:
            raise error(404, "NOT_FOUND", "Vulnerability %s not found" % vuln_id)
        scan, index = matches[0]
        target = store.triage_by_cve
        key = cve
    else:
        found = parse_vuln_id(store, vuln_id)
        if found is None:
            raise error(404, "NOT_FOUND", "Vulnerability %s not found" % vuln_id)
        scan, index = found
        target = store.triage_by_id
        key = vuln_id
    current = scan.vulnerability(index)["triage"]
    updated = {"status": body.get("status", current["status"]), "assignee": body.get("assignee", current["assignee"]),
               "slaDeadline": current["slaDeadline"], "note": body.get("note", current["note"]),
               "updatedBy": request.state.harborguard_actor, "updatedAt": iso_millis(now), "_at": now}
    target[key] = updated
    return json_response({"data": {k: v for k, v in updated.items() if not k.startswith("_")}})
