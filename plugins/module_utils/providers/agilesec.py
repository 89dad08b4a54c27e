# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyfactor AgileSec Platform Scan API v3 (cryptographic inventory through sensors).

Documented: ``POST /v3/scan/create`` (create a sensor and run it), ``POST /v3/scan/execute``
(run an existing sensor), ``GET /v3/scan/{executionId}``; header ``isg-api-token``; response
payloads ``{status: successful|failed, message}``.

ASSUMPTIONS (docs/assumptions.md, AgileSec section), all in this file:
  * error bodies are ``{"status": "failed", "message": "..."}`` like the documented payloads;
  * sensors: ``GET /v3/sensors?name=&page=&pageSize=`` (``{data, page, pageSize, total}``,
    pageSize 1-100), ``GET/PUT/DELETE /v3/sensors/{sensorId}``;
  * callback endpoints: the same shape under ``/v3/callback-endpoints``; the token is write-only;
  * executions report ``pending`` then ``running`` before ``successful``/``failed``;
  * no published rate limit: the client paces itself at 5 requests a second;
  * sensor names have the 200-character limit the page gives for callback endpoint names;
  * the token comes from ``AGILESEC_API_TOKEN``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.pagination import iter_page_size_total
from ansible_collections.scanops.security.plugins.module_utils.providers.base import ProviderAdapter
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import Call
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import Vocabulary

PAGE_SIZE = 100
# The page limits callback endpoint names and URLs to 200 characters; sensor names are assumed to
# have the same limit (the page gives none).
MAX_NAME_LENGTH = 200
SENSOR_TYPES = ("GIT Sensor", "Artifactory Sensor", "GitHub Sensor", "GitLab Sensor", "Qualys Sensor",
                "CipherInsights Sensor", "Keyfactor Command Sensor")
CALLBACK_AUTH_TYPES = ("none", "bearer", "api_token")

VOCABULARY = Vocabulary(
    "agilesec",
    scan_statuses={"pending": "queued", "queued": "queued", "running": "running",
                   "successful": "completed", "failed": "failed", "cancelled": "cancelled"},
    # AgileSec findings live in the platform's search store and carry no triage status.
    finding_statuses={},
)


SENSORS_ROW = "Get / update / delete a sensor"
CALLBACKS_ROW = "Callback endpoints"


class AgileSecAdapter(ProviderAdapter):
    """Keyfactor AgileSec; ``isg-api-token: <token>``."""

    NAME = "agilesec"
    DISPLAY_NAME = "Keyfactor AgileSec"
    DEFAULT_API_URL = "https://api.agilesec.net"
    API_KEY_ENV = ("AGILESEC_API_TOKEN",)
    API_URL_ENV = ("AGILESEC_API_URL",)
    MIN_POLL_INTERVAL = 5.0
    RATE_LIMITS = {"read": (5.0, 5), "write": (5.0, 5)}
    VOCABULARY = VOCABULARY
    # The page's header table marks content-type as required on every call, GETs included.
    REQUIRED_HEADERS = {"content-type": "application/json"}

    CALLS = (
        Call("create_sensor_and_scan", "POST", "/v3/scan/create", ("sensors",), ("scan_sensor",),
             note="creates the sensor and runs it"),
        Call("execute_sensor", "POST", "/v3/scan/execute", ("trigger_scan",), ("scan_run",)),
        Call("get_execution", "GET", "/v3/scan/{executionId}", ("poll_scan", "scan_history", "inventory"),
             ("scan_run", "scan_info", "scan_targets inventory", "scan lookup"),
             note="the states before successful/failed are an assumption (Execution states); the inventory reads each "
                  "sensor's last one"),
        Call("list_sensors", "GET", "/v3/sensors", ("resolve_target", "sensors", "inventory"),
             ("scan_run", "scan_info", "scan_sensor", "scan_sensor_info", "scan_targets inventory", "scan lookup"),
             documented=False, assumption="List sensors",
             note="only for a sensor given by name (a 24-hex sensor id is used as is); the inventory's targets"),
        Call("get_sensor", "GET", "/v3/sensors/{sensorId}", ("resolve_target", "scan_history", "sensors"),
             ("scan_run", "scan_info", "scan_sensor", "scan lookup"), documented=False, assumption=SENSORS_ROW,
             absent=("Sensor not found.",),
             note="its lastExecutionId is the only earlier execution; without it none is adopted or reused"),
        Call("update_sensor", "PUT", "/v3/sensors/{sensorId}", ("sensors",), ("scan_sensor",), documented=False,
             assumption=SENSORS_ROW, absent=("Sensor not found.", "callbackId not found.")),
        Call("delete_sensor", "DELETE", "/v3/sensors/{sensorId}", ("sensors",), ("scan_sensor",), documented=False,
             assumption=SENSORS_ROW, absent=("Sensor not found.",)),
        Call("list_callback_endpoints", "GET", "/v3/callback-endpoints", ("callbacks", "sensors"),
             ("callback_endpoint", "callback_endpoint_info", "scan_sensor"), documented=False, assumption=CALLBACKS_ROW,
             note="a sensor's callback given by name; a 24-hex Callback ID is used as is"),
        Call("get_callback_endpoint", "GET", "/v3/callback-endpoints/{callbackId}", ("callbacks",), (), documented=False,
             assumption=CALLBACKS_ROW, absent=("callbackId not found.",)),
        Call("create_callback_endpoint", "POST", "/v3/callback-endpoints", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=CALLBACKS_ROW),
        Call("update_callback_endpoint", "PUT", "/v3/callback-endpoints/{callbackId}", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=CALLBACKS_ROW, absent=("callbackId not found.",)),
        Call("delete_callback_endpoint", "DELETE", "/v3/callback-endpoints/{callbackId}", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=CALLBACKS_ROW, absent=("callbackId not found.",)),
    )
    NO_CALL = {
        "scan_results": "none: executions carry no counts; findings live in the platform's search store, not in the scan API",
        "list_findings": "none: findings live in the platform's search store, not in the scan API",
        "set_finding_status": "not available: findings carry no triage status",
        "fixes": "not available", "pull_requests": "not available", "quotas": "n/a",
    }
    FACTS = (
        ("authentication", True, "`isg-api-token`, and `content-type: application/json` on every call"),
        ("rate limits (client-side pacing)", False, "5 a second (Rate limits)"),
        ("pagination", False, "`page`/`pageSize`, `total` (List sensors)"),
    )

    def auth_headers(self):
        return {"isg-api-token": self.api_key}

    def parse_error(self, status, data, text):
        """``{"status": "failed", "message": "Sensor not found."}``: the message is all there is."""
        if not isinstance(data, dict):
            return {}
        return {"code": data.get("errorCode"), "message": data.get("message")}

    # -- scans ------------------------------------------------------------------------------------
    def create_sensor_and_scan(self, sensor_type, sensor_name, sensor_config, priority=None, callback_id=None,
                               incremental_scan=None, auto_resolution_interval=None, labels=None):
        """Create a sensor and start its first execution (POST, not retried blindly).

        Answers ``{sensorId, executionId, status, message}``. ``labels`` is a list of
        single-key dicts (or a dict, turned into that list).
        """
        body = {"sensorType": sensor_type, "sensorName": sensor_name, "sensorConfig": sensor_config}
        optional = (("priority", priority), ("callbackId", callback_id), ("incrementalScan", incremental_scan),
                    ("autoResolutionInterval", auto_resolution_interval), ("labels", labels_list(labels)))
        body.update(dict((k, v) for k, v in optional if v is not None))
        return self.call("create_sensor_and_scan", json_body=body)

    def execute_sensor(self, sensor_id):
        """Run an existing sensor; answers ``{executionId, status, message}``."""
        return self.call("execute_sensor", json_body={"sensorId": sensor_id})

    def get_execution(self, execution_id):
        """Execution status ``{sensorId, executionId, status, message, ranBy, ranAt, labels}``."""
        return self.call("get_execution", executionId=execution_id)

    # -- sensors (ASSUMED) ---------------------------------------------------------------------------
    def list_sensors(self, name=None):
        """Sensors, optionally only the one with this exact name."""
        return list(self.iter_call("list_sensors", iter_page_size_total, {"name": name}, page_size=PAGE_SIZE))

    def get_sensor(self, sensor_id):
        """One sensor (secret values in ``sensorConfig`` come back as ``********``)."""
        return self.call("get_sensor", sensorId=sensor_id)

    def update_sensor(self, sensor_id, **fields):
        """PUT any create field except ``sensorType`` (camelCase keys, e.g. ``sensorConfig``)."""
        if "labels" in fields:
            fields["labels"] = labels_list(fields["labels"])
        body = dict((k, v) for k, v in fields.items() if v is not None)
        return self.call("update_sensor", json_body=body, sensorId=sensor_id)

    def delete_sensor(self, sensor_id):
        """Delete a sensor."""
        return self.call("delete_sensor", sensorId=sensor_id)

    # -- callback endpoints (ASSUMED) ----------------------------------------------------------------
    def list_callback_endpoints(self, name=None):
        """Callback endpoints, optionally only the one with this exact name."""
        return list(self.iter_call("list_callback_endpoints", iter_page_size_total, {"name": name}, page_size=PAGE_SIZE))

    def get_callback_endpoint(self, callback_id):
        """One callback endpoint (never includes the token)."""
        return self.call("get_callback_endpoint", callbackId=callback_id)

    def create_callback_endpoint(self, name, url, auth_type="none", header_name=None, token=None):
        """Register an endpoint (POST, not retried blindly); the platform calls the URL first."""
        self.client.add_secret(token)
        body = {"name": name, "url": url, "authType": auth_type}
        if header_name is not None:
            body["headerName"] = header_name
        if token is not None:
            body["token"] = token
        return self.call("create_callback_endpoint", json_body=body)

    def update_callback_endpoint(self, callback_id, **fields):
        """PUT any of ``name``, ``url``, ``authType``, ``headerName``, ``token``."""
        self.client.add_secret(fields.get("token"))
        body = dict((k, v) for k, v in fields.items() if v is not None)
        return self.call("update_callback_endpoint", json_body=body, callbackId=callback_id)

    def delete_callback_endpoint(self, callback_id):
        """Delete a callback endpoint."""
        return self.call("delete_callback_endpoint", callbackId=callback_id)

    # -- normalizers -----------------------------------------------------------------------------------
    def normalize_scan(self, raw, target=None, counts=None):
        return self._scan(
            raw, raw.get("executionId"), target or raw.get("sensorName") or raw.get("sensorId"), raw.get("status"),
            created_at=raw.get("ranAt"), started_at=raw.get("ranAt"), completed_at=raw.get("completedAt"),
            counts=counts, url=None,
        )

    def normalize_finding(self, raw):
        """A search-store document ``{_id, _source: {observation{sensor,source,file}, crypto{...}}}``."""
        source = raw.get("_source", raw)
        observation = source.get("observation") or {}
        crypto = source.get("crypto") or {}
        location = {"file": observation.get("file"), "line": observation.get("line"),
                    "resource": observation.get("source")}
        return self._finding(raw, raw.get("_id") or raw.get("id"), crypto.get("algorithm"),
                             crypto.get("algorithm") or source.get("title"), source.get("severity"),
                             source.get("status"), location, source.get("@timestamp") or source.get("firstSeen"))


def labels_list(labels):
    """AgileSec labels are a list of one-key objects; accept a dict too."""
    if labels is None:
        return None
    if isinstance(labels, dict):
        return [{k: v} for k, v in sorted(labels.items())]
    return list(labels)
