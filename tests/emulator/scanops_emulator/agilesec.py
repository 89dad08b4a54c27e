# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyfactor AgileSec Platform Scan API v3, mounted at /agilesec (paths /v3/...).

Documented: /v3/scan/create, /v3/scan/execute, the deprecated /v3/scan, GET /v3/scan/{executionId},
the callback payload and the 400/401/404 messages (reproduced word for word). The page marks the
``content-type: application/json`` header as required; the Scan API routes answer 400 without it
(the status and message are the emulator's choice, docs/emulator.md). Assumed
(docs/assumptions.md, AgileSec section): sensor and callback-endpoint management, the
pending/running execution states, the error body shape ``{"status": "failed", "message"}``.
"""

import json
import re
import time

import httpx
from fastapi import APIRouter, Request

from .agilesec_search import SearchStore
from .common import Timeline, VendorError, iso_seconds, json_response, parse_int, stable_hex
from .documented import client_path, missing_header, missing_header_body
from .findings import crypto_summary

PREFIX = "/agilesec"
router = APIRouter(prefix=PREFIX)

SENSOR_TYPES = ("GIT Sensor", "Artifactory Sensor", "GitHub Sensor", "GitLab Sensor", "Qualys Sensor",
                "CipherInsights Sensor", "Keyfactor Command Sensor")
PRIORITIES = ("low", "medium", "high")
CREATE_FIELDS = ("sensorType", "sensorName", "sensorConfig", "priority", "callbackId", "incrementalScan", "autoResolutionInterval", "labels")
LEGACY_FIELDS = ("sensorType", "sensorName", "sensorConfig", "priority", "callbackId", "labels")
SECRET_KEYS = ("password", "token", "apiKey", "secret", "privateKey")
AUTH_TYPES = ("none", "bearer", "api_token")
DEMO_TOKENS = {
    "isg_demo_token_7c3e9a1f5b2d4e60a8c1": {"user": "automation@acme.example", "expires": None},
    "isg_demo_token_expired_1a2b3c4d5e6f": {"user": "former-automation@acme.example", "expires": 1704067200.0},
}
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
# The default seed (name, url, authType, headerName, token): the results receiver the payments sensor
# reports to, and an older CI receiver the team is retiring. The URLs are simulated receivers (store.py).
SEED_CALLBACKS = (
    ("scanops-results", "https://hooks.acme.example/scanops", "bearer", None, "seeded-callback-token-2f8a61c4"),
    ("legacy-ci-results", "https://hooks.acme.example/legacy-ci", "api_token", "X-CI-Token", "seeded-ci-token-9b03d7e5"),
)
SEED_SENSORS = (
    {"sensorName": "payments-git", "sensorType": "GIT Sensor", "callback": "scanops-results", "priority": "high",
     "sensorConfig": {"repositoryUrl": "https://git.acme.example/payments/payments-api.git", "branches": ["main", "release"],
                      "username": "scanner", "password": "seeded-git-password-5d1e07b3"},
     "incrementalScan": True, "labels": [{"team": "payments"}, {"env": "prod"}]},
)
ERROR_CODES = {"GIT Sensor": "git-1004", "GitHub Sensor": "github-1004", "GitLab Sensor": "gitlab-1004",
               "Artifactory Sensor": "artifactory-2001", "Qualys Sensor": "qualys-3001", "CipherInsights Sensor": "cipherinsights-4001",
               "Keyfactor Command Sensor": "kfcommand-5001"}


def failed(status, message):
    return VendorError(status, {"status": "failed", "message": message})


class Execution:
    def __init__(self, execution_id, sensor, timeline, count, ran_by):
        self.id = execution_id
        self.sensor = sensor
        self.timeline = timeline
        self.count = count
        self.ran_by = ran_by
        self.labels = [dict(label) for label in sensor["labels"]]

    def status(self, now):
        phase = self.timeline.phase(now)
        if phase == "queued":
            return "pending"
        if phase == "running":
            return "running"
        return "successful" if self.timeline.outcome == "completed" else "failed"

    def message(self, seed, now):
        status = self.status(now)
        if status == "pending":
            return "Scan is queued for execution (priority %s)." % self.sensor["priority"]
        if status == "running":
            return "Scan is running."
        if status == "failed":
            return "Scan failed: the sensor could not reach its target."
        # The same generator as the search store's documents (agilesec_search.py), scoped to the sensor.
        summary = crypto_summary(seed, self.sensor["sensorId"], self.count)
        return "Scan completed successfully. %d cryptographic observations, %d weak: %s." % (
            summary["total"], summary["weak"], ", ".join(summary["breakdown"]))

    def render(self, seed, now):
        return {"sensorId": self.sensor["sensorId"], "executionId": self.id, "status": self.status(now),
                "message": self.message(seed, now), "ranBy": self.ran_by, "ranAt": iso_seconds(self.timeline.created),
                "labels": [dict(label) for label in self.labels]}


class Store:
    def __init__(self, emulator):
        self.emulator = emulator
        self.tokens = {}
        self.sensors = {}
        self.callbacks = {}
        self.executions = {}
        # Deleted sensors' findings stay in the search store, as the platform keeps indexed documents.
        self.deleted_sensors = {}
        self.search = SearchStore(emulator, self)

    def describe_config(self):
        return self.search.describe()

    def describe_state(self):
        return {"sensors": [sensor["sensorName"] for sensor in self.sensors.values()],
                "callback_endpoints": [hook["name"] for hook in self.callbacks.values()], "executions": len(self.executions)}

    def update_config(self, key, value):
        if not self.search.configure(key, value):
            raise ValueError("unknown agilesec setting %r (search_layout, search_org_domain, search_max_result_window)" % key)

    def seed_default(self):
        """The example company's platform: two callback endpoints and the payments sensor reporting to one.

        The collection's examples and playbooks name these (docs/emulator.md, "The default seed").
        Ids are derived from the names, never drawn from the generator, so every other id stays as
        it was. The sensor has not run yet: its first scan is the first one a test or example starts.
        """
        self.tokens = {token: dict(value) for token, value in DEMO_TOKENS.items()}
        created = time.time() - 14 * 86400
        for name, url, auth, header, token in SEED_CALLBACKS:
            stamp = iso_seconds(created)
            hook = {"callbackId": stable_hex(24, "agilesec-callback", name), "name": name, "url": url, "authType": auth,
                    "headerName": header, "token": token, "createdAt": stamp, "updatedAt": stamp}
            self.callbacks[hook["callbackId"]] = hook
        for spec in SEED_SENSORS:
            self.add_sensor(dict(spec, callbackId=stable_hex(24, "agilesec-callback", spec["callback"])), created,
                            sensor_id=stable_hex(24, "agilesec-sensor", spec["sensorName"]))

    def seed(self, kind, spec):
        if kind == "api_token":
            token = spec.get("token") or "isg_" + self.emulator.new_hex(32)
            self.tokens[token] = {"user": spec.get("user", "seeded@acme.example"), "expires": spec.get("expires")}
            return {"token": token, "expires": spec.get("expires")}
        if kind == "callback_endpoint":
            return public_callback(self.add_callback(finish_callback(check_callback(spec, partial=False))))
        if kind == "search_user":
            return self.search.add_user(spec)
        if kind == "sensor":
            spec = dict(spec)
            spec.setdefault("sensorConfig", {"url": "https://github.com/acme/%s.git" % spec.get("sensorName", "repo")})
            return public_sensor(self.add_sensor(spec, time.time()))
        raise ValueError("agilesec seeds api_token, callback_endpoint, sensor or search_user")

    def add_callback(self, fields):
        now = iso_seconds(time.time())
        hook = dict(fields, callbackId=self.emulator.new_hex(24), createdAt=now, updatedAt=now)
        self.callbacks[hook["callbackId"]] = hook
        return hook

    def add_sensor(self, body, now, sensor_id=None):
        sensor = {"sensorId": sensor_id or self.emulator.new_hex(24), "sensorName": body["sensorName"], "sensorType": body["sensorType"],
                  "sensorConfig": body["sensorConfig"], "priority": body.get("priority", "low"), "callbackId": body.get("callbackId"),
                  "incrementalScan": body.get("incrementalScan", False), "autoResolutionInterval": body.get("autoResolutionInterval", 30),
                  "labels": body.get("labels", []), "createdAt": iso_seconds(now), "updatedAt": iso_seconds(now), "lastExecutionId": None}
        self.sensors[sensor["sensorId"]] = sensor
        return sensor

    def execute(self, sensor, user, now):
        plan = self.emulator.plan("agilesec", [sensor["sensorName"], sensor["sensorType"]])
        # Priority order: higher-priority work waits less in the shared pool.
        plan["queued_seconds"] = float(plan["queued_seconds"]) * {"high": 0.5, "medium": 0.75, "low": 1.0}[sensor["priority"]]
        execution = Execution(self.emulator.new_hex(24), sensor, Timeline(now, plan), plan["finding_count"], user)
        self.executions[execution.id] = execution
        sensor["lastExecutionId"] = execution.id
        self.emulator.at(execution.timeline.ended, lambda at: self.on_execution_end(execution))
        return execution

    def on_execution_end(self, execution):
        if execution.status(execution.timeline.ended) == "successful":
            self.search.observe(execution)
        callback = self.callbacks.get(execution.sensor.get("callbackId") or "")
        if callback is None:
            return
        end = execution.timeline.ended
        status = execution.status(end)
        payload = {"sensorId": execution.sensor["sensorId"], "executionId": execution.id, "status": status}
        if status == "failed":
            payload["errorCode"] = ERROR_CODES[execution.sensor["sensorType"]]
        payload["message"] = execution.message(self.emulator.seed, end)
        payload["labels"] = [dict(label) for label in execution.labels]
        headers = {"Content-Type": "application/json", "User-Agent": "AgileSec-Callback/3.5"}
        secret_headers = ()
        if callback["authType"] == "bearer":
            headers["Authorization"] = "Bearer %s" % callback["token"]
            secret_headers = ("Authorization",)
        elif callback["authType"] == "api_token":
            headers[callback["headerName"]] = callback["token"]
            secret_headers = (callback["headerName"],)
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self.emulator.deliver("agilesec", "callback", status, callback["url"], body, headers, secret_headers)


def mask(config):
    if isinstance(config, dict):
        return {key: ("********" if key in SECRET_KEYS and value not in (None, "") else mask(value)) for key, value in config.items()}
    if isinstance(config, list):
        return [mask(item) for item in config]
    return config


def public_sensor(sensor):
    body = dict(sensor)
    body["sensorConfig"] = mask(sensor["sensorConfig"])
    return body


def public_callback(hook):
    return {key: hook.get(key) for key in ("callbackId", "name", "url", "authType", "headerName", "createdAt", "updatedAt")}


# ---------------------------------------------------------------------- validation
_TYPE_NAMES = {"sensorName": "string", "sensorType": "string", "sensorConfig": "object", "incrementalScan": "boolean",
               "autoResolutionInterval": "integer", "callbackId": "string"}


def _is_type(value, type_name):
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "boolean":
        return isinstance(value, bool)
    return isinstance(value, int) and not isinstance(value, bool)


def _labels_ok(labels):
    return isinstance(labels, list) and all(isinstance(label, dict) and len(label) == 1 and
                                            all(isinstance(value, (str, int, float, bool)) for value in label.values())
                                            for label in labels)


def _config_ok(sensor_type, config):
    """Minimal per-type checks (the vendor's sensor guides are not public): see docs/emulator.md."""
    if not config:
        return False
    for key, value in config.items():
        if "url" in key.lower():
            if not isinstance(value, str) or not re.match(r"^(https?://|ssh://|git@)\S+$", value):
                return False
        if key in ("token", "password", "apiKey") and (not isinstance(value, str) or not value or re.search(r"\s", value)):
            return False
    if sensor_type == "Artifactory Sensor" and not any("url" in key.lower() for key in config):
        return False
    return True


def validate_sensor_body(body, allowed, priority_message, partial=False):
    """The documented 400 checks, in the order the page lists them; answers the 400 to raise or None."""
    if not isinstance(body, dict):
        return failed(400, "Invalid request body.")
    for field in body:
        if field not in allowed:
            return failed(400, "Unexpected field '%s' found in request body." % field)
    if not partial:
        for field in ("sensorName", "sensorType", "sensorConfig"):
            if field not in body:
                return failed(400, "Missing required field: %s." % field)
    for field, type_name in _TYPE_NAMES.items():
        if field in body and field != "callbackId" and not _is_type(body[field], type_name):
            return failed(400, "Invalid type for %s: expected %s." % (field, type_name))
    if "priority" in body and body["priority"] not in PRIORITIES:
        return failed(400, priority_message)
    if "labels" in body and not _labels_ok(body["labels"]):
        return failed(400, "Invalid type for labels: expected array of single key/value objects.")
    if "callbackId" in body and body["callbackId"] is not None and (not isinstance(body["callbackId"], str) or not OBJECT_ID.match(body["callbackId"])):
        return failed(400, "Invalid format for callbackId: expected a 24-hex-character ObjectId.")
    return None


def check_callback(body, partial):
    """Callback endpoint fields (ASSUMED contract); raises the 400 to answer."""
    if not isinstance(body, dict):
        raise failed(400, "Invalid request body.")
    allowed = ("name", "url", "authType", "headerName", "token")
    for field in body:
        if field not in allowed:
            raise failed(400, "Unexpected field '%s' found in request body." % field)
    if not partial:
        for field in ("name", "url"):
            if field not in body:
                raise failed(400, "Missing required field: %s." % field)
    for field in ("name", "url", "headerName", "token"):
        if field in body and body[field] is not None and not isinstance(body[field], str):
            raise failed(400, "Invalid type for %s: expected string." % field)
    for field in ("name", "url"):
        if field in body and (not body[field] or len(body[field]) > 200):
            raise failed(400, "Invalid value for %s: expected 1 to 200 characters." % field)
    if "url" in body and not re.match(r"^https?://\S+$", body["url"]):
        raise failed(400, "Invalid value for url: expected an http(s) URL.")
    fields = dict(body)
    if not partial:
        fields.setdefault("authType", "none")
    if "authType" in fields and fields["authType"] not in AUTH_TYPES:
        raise failed(400, "Invalid value for authType: expected one of ['none', 'bearer', 'api_token'].")
    return fields


def finish_callback(fields):
    """Cross-field rules once the merged callback endpoint is known."""
    if fields["authType"] == "api_token" and not fields.get("headerName"):
        raise failed(400, "Missing required field: headerName.")
    if fields["authType"] in ("bearer", "api_token") and not fields.get("token"):
        raise failed(400, "Missing required field: token.")
    if fields["authType"] != "api_token":
        fields["headerName"] = None
    if fields["authType"] == "none":
        fields["token"] = None
    return fields


async def reachable(emulator, url):
    """The platform calls the URL on registration; any HTTP answer counts as reachable."""
    if emulator.simulated_receiver(url):
        return True
    if emulator.http is None:
        emulator.http = httpx.AsyncClient(timeout=5.0)
    try:
        await emulator.http.head(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


# ---------------------------------------------------------------------- request helpers
def store_of(request):
    emulator = request.app.state.emulator
    emulator.tick()
    store = emulator.vendors["agilesec"]
    token = request.headers.get("isg-api-token")
    record = store.tokens.get(token) if token else None
    if record is None or (record["expires"] is not None and record["expires"] < time.time()):
        raise failed(401, "Unauthorized access.")
    request.state.agilesec_user = record["user"]
    return store


def require_json_content_type(request):
    """The Scan API page lists ``content-type: application/json`` as a required header: 400 without it.

    The same table and answer as ``--documented-only`` (documented.py), which checks every /v3 route.
    """
    headers = dict((name.lower(), value) for name, value in request.scope.get("headers", []))
    lacking = missing_header("agilesec", client_path("agilesec", request.url.path), headers)
    if lacking:
        raise VendorError(400, missing_header_body("agilesec", lacking[0]))


async def json_body(request):
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise failed(400, "Invalid request body.") from None


def check_sensor_refs(store, body):
    if "sensorType" in body and body["sensorType"] not in SENSOR_TYPES:
        raise failed(404, "Unknown sensorType: no matching record found for %s." % body["sensorType"])
    if body.get("callbackId") and body["callbackId"] not in store.callbacks:
        raise failed(404, "callbackId not found.")


def check_unique_name(store, name, own_id=None):
    for sensor in store.sensors.values():
        if sensor["sensorName"] == name and sensor["sensorId"] != own_id:
            raise failed(400, "Sensor name already exists.")


def list_page(request, items):
    page = parse_int(request.query_params.get("page"), 1)
    size = parse_int(request.query_params.get("pageSize"), 50)
    if page is None or page < 1:
        raise failed(400, "Invalid value for page: expected an integer >= 1.")
    if size is None or not 1 <= size <= 100:
        raise failed(400, "Invalid value for pageSize: expected an integer between 1 and 100.")
    name = request.query_params.get("name")
    if name is not None:
        items = [item for item in items if item[1] == name]
    start = (page - 1) * size
    return {"data": [item[0] for item in items[start:start + size]], "page": page, "pageSize": size, "total": len(items)}


# ---------------------------------------------------------------------- scan endpoints
async def _create(request, allowed, priority_message, message):
    store = store_of(request)
    require_json_content_type(request)
    body = await json_body(request)
    problem = validate_sensor_body(body, allowed, priority_message)
    if problem:
        raise problem
    check_sensor_refs(store, body)
    if not _config_ok(body["sensorType"], body["sensorConfig"]):
        raise failed(400, "Invalid input for sensorConfig.")
    check_unique_name(store, body["sensorName"])
    now = time.time()
    sensor = store.add_sensor(body, now)
    execution = store.execute(sensor, request.state.agilesec_user, now)
    return {"sensorId": sensor["sensorId"], "executionId": execution.id, "status": "successful", "message": message}


@router.post("/v3/scan/create")
async def create_and_execute(request: Request):
    return json_response(await _create(request, CREATE_FIELDS,
                                       "Invalid type or value for priority: expected string ['low', 'medium', 'high'].",
                                       "Create new sensor and trigger scan successfully"))


@router.post("/v3/scan")
async def legacy_scan(request: Request):
    """Deprecated since v3.4, removed in v3.6; still served so old clients can be tested."""
    body = await _create(request, LEGACY_FIELDS, "Invalid type or value for priority: expected one of ['low', 'medium', 'high'].",
                         "Scan has been successfully submitted.")
    return json_response(body)


@router.post("/v3/scan/execute")
async def execute(request: Request):
    store = store_of(request)
    require_json_content_type(request)
    body = await json_body(request)
    if not isinstance(body, dict) or not body.get("sensorId"):
        raise failed(400, "sensorId is required")
    if not isinstance(body["sensorId"], str):
        raise failed(400, "Invalid type for sensorId: expected string.")
    sensor = store.sensors.get(body["sensorId"])
    if sensor is None:
        raise failed(404, "The specified execution id not found.")
    execution = store.execute(sensor, request.state.agilesec_user, time.time())
    return json_response({"executionId": execution.id, "status": "successful", "message": "Scan execution started successfully."})


@router.get("/v3/scan/{execution_id}")
async def execution_status(execution_id: str, request: Request):
    store = store_of(request)
    require_json_content_type(request)
    execution = store.executions.get(execution_id)
    if execution is None:
        # Section 7 of the page words the status API's 404 so; /v3/scan/execute's differs.
        raise failed(404, "The specified executionId was not found.")
    return json_response(execution.render(store.emulator.seed, time.time()))


# ---------------------------------------------------------------------- sensors (ASSUMED)
def find_sensor(store, sensor_id):
    sensor = store.sensors.get(sensor_id)
    if sensor is None:
        raise failed(404, "Sensor not found.")
    return sensor


@router.get("/v3/sensors")
async def list_sensors(request: Request):
    store = store_of(request)
    return json_response(list_page(request, [(public_sensor(sensor), sensor["sensorName"]) for sensor in store.sensors.values()]))


@router.get("/v3/sensors/{sensor_id}")
async def get_sensor(sensor_id: str, request: Request):
    return json_response(public_sensor(find_sensor(store_of(request), sensor_id)))


@router.put("/v3/sensors/{sensor_id}")
async def update_sensor(sensor_id: str, request: Request):
    store = store_of(request)
    sensor = find_sensor(store, sensor_id)
    body = await json_body(request)
    problem = validate_sensor_body(body, [field for field in CREATE_FIELDS if field != "sensorType"],
                                   "Invalid type or value for priority: expected string ['low', 'medium', 'high'].", partial=True)
    if problem:
        raise problem
    check_sensor_refs(store, body)
    if "sensorConfig" in body:
        if not _config_ok(sensor["sensorType"], body["sensorConfig"]):
            raise failed(400, "Invalid input for sensorConfig.")
        # A masked secret sent back unchanged keeps the stored value.
        merged = dict(body["sensorConfig"])
        for key in SECRET_KEYS:
            if merged.get(key) == "********" and key in sensor["sensorConfig"]:
                merged[key] = sensor["sensorConfig"][key]
        body = dict(body, sensorConfig=merged)
    if "sensorName" in body:
        check_unique_name(store, body["sensorName"], sensor_id)
    sensor.update(body)
    sensor["updatedAt"] = iso_seconds(time.time())
    return json_response(public_sensor(sensor))


@router.delete("/v3/sensors/{sensor_id}")
async def delete_sensor(sensor_id: str, request: Request):
    store = store_of(request)
    find_sensor(store, sensor_id)
    store.deleted_sensors[sensor_id] = store.sensors.pop(sensor_id)
    return json_response({"status": "successful", "message": "Sensor deleted successfully."})


# ---------------------------------------------------------------------- callback endpoints (ASSUMED)
def find_callback(store, callback_id):
    hook = store.callbacks.get(callback_id)
    if hook is None:
        raise failed(404, "callbackId not found.")
    return hook


def check_unique_callback(store, name, own_id=None):
    for hook in store.callbacks.values():
        if hook["name"] == name and hook["callbackId"] != own_id:
            raise failed(400, "Callback endpoint name already exists.")


@router.get("/v3/callback-endpoints")
async def list_callbacks(request: Request):
    store = store_of(request)
    return json_response(list_page(request, [(public_callback(hook), hook["name"]) for hook in store.callbacks.values()]))


@router.post("/v3/callback-endpoints")
async def create_callback(request: Request):
    store = store_of(request)
    fields = finish_callback(check_callback(await json_body(request), partial=False))
    check_unique_callback(store, fields["name"])
    if not await reachable(store.emulator, fields["url"]):
        raise failed(400, "Callback URL is not reachable: %s" % fields["url"])
    return json_response(public_callback(store.add_callback(fields)))


@router.get("/v3/callback-endpoints/{callback_id}")
async def get_callback(callback_id: str, request: Request):
    return json_response(public_callback(find_callback(store_of(request), callback_id)))


@router.put("/v3/callback-endpoints/{callback_id}")
async def update_callback(callback_id: str, request: Request):
    store = store_of(request)
    hook = find_callback(store, callback_id)
    changes = check_callback(await json_body(request), partial=True)
    merged = finish_callback(dict(hook, **changes))
    if "name" in changes:
        check_unique_callback(store, changes["name"], callback_id)
    if changes.get("url") not in (None, hook["url"]) and not await reachable(store.emulator, changes["url"]):
        raise failed(400, "Callback URL is not reachable: %s" % changes["url"])
    hook.update(merged)
    hook["updatedAt"] = iso_seconds(time.time())
    return json_response(public_callback(hook))


@router.delete("/v3/callback-endpoints/{callback_id}")
async def delete_callback(callback_id: str, request: Request):
    store = store_of(request)
    find_callback(store, callback_id)
    del store.callbacks[callback_id]
    return json_response({"status": "successful", "message": "Callback endpoint deleted successfully."})
