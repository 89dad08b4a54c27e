# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small stateful stand-in for the AgileSec sensor/callback API and CloudGeni webhooks (unit tests only).

It follows the contract in docs/assumptions.md closely enough to drive the desired-state logic:
lists filtered by exact name, write-only tokens, masked sensor secrets, 400 for an unreachable
callback URL. It records every request so tests can assert what was (not) sent.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools
import json
import re

import httpx

SECRET_KEYS = ("password", "token", "apiKey", "secret", "privateKey")


class FakePlatform(object):

    def __init__(self, unreachable=()):
        self.requests = []
        self.endpoints = {}
        self.sensors = {}
        self.webhooks = {}
        self.stored_tokens = {}
        self.stored_configs = {}
        self.unreachable = set(unreachable)
        self._ids = itertools.count(1)

    def new_id(self):
        return "%024x" % (0x65f000000000000000000000 + next(self._ids))

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def answer(status, body=None):
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    def failed(self, status, message):
        return self.answer(status, {"status": "failed", "message": message})

    def writes(self):
        return [r for r in self.requests if r.method != "GET"]

    def bodies(self):
        return [json.loads(r.content) if r.content else None for r in self.requests]

    @staticmethod
    def masked(config):
        return dict((k, "********" if k in SECRET_KEYS else v) for k, v in config.items())

    def paged(self, items, request):
        name = request.url.params.get("name")
        if name:
            items = [i for i in items if i.get("name", i.get("sensorName")) == name]
        return self.answer(200, {"data": items, "page": 1, "pageSize": 100, "total": len(items)})

    # -- transport -----------------------------------------------------------------------------
    def __call__(self, request):
        self.requests.append(request)
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        method = request.method
        if path == "/v3/callback-endpoints":
            if method == "GET":
                return self.paged(list(self.endpoints.values()), request)
            if body["url"] in self.unreachable:
                return self.failed(400, "Callback URL is not reachable: %s" % body["url"])
            endpoint = dict((k, body.get(k)) for k in ("name", "url", "authType", "headerName"))
            endpoint.update(callbackId=self.new_id(), createdAt="2025-01-01T00:00:00Z", updatedAt="2025-01-01T00:00:00Z")
            self.endpoints[endpoint["callbackId"]] = endpoint
            self.stored_tokens[endpoint["callbackId"]] = body.get("token")
            return self.answer(200, endpoint)
        match = re.match(r"^/v3/callback-endpoints/(\w+)$", path)
        if match:
            endpoint = self.endpoints.get(match.group(1))
            if endpoint is None:
                return self.failed(404, "callbackId not found.")
            if method == "GET":
                return self.answer(200, endpoint)
            if method == "DELETE":
                del self.endpoints[match.group(1)]
                return self.answer(200, {"status": "successful", "message": "Callback endpoint deleted successfully."})
            if "url" in body and body["url"] in self.unreachable:
                return self.failed(400, "Callback URL is not reachable: %s" % body["url"])
            token = body.pop("token", self.stored_tokens.get(match.group(1)))
            merged = dict(endpoint, **body)
            # The platform's cross-field rules hold for the merged object (docs/assumptions.md).
            if merged.get("authType") == "api_token" and not merged.get("headerName"):
                return self.failed(400, "Missing required field: headerName.")
            if merged.get("authType") in ("bearer", "api_token") and not token:
                return self.failed(400, "Missing required field: token.")
            if merged.get("authType") != "api_token":
                merged["headerName"] = None
            if merged.get("authType") == "none":
                token = None
            self.stored_tokens[match.group(1)] = token
            endpoint.update(merged)
            return self.answer(200, endpoint)
        if path == "/v3/sensors":
            return self.paged([dict(s, sensorConfig=self.masked(s["sensorConfig"])) for s in self.sensors.values()], request)
        if path == "/v3/scan/create":
            if body.get("callbackId") and body["callbackId"] not in self.endpoints:
                return self.failed(404, "callbackId not found.")
            sensor = dict(body, sensorId=self.new_id(), lastExecutionId=self.new_id())
            sensor.setdefault("priority", "low")
            self.sensors[sensor["sensorId"]] = sensor
            return self.answer(200, {"sensorId": sensor["sensorId"], "executionId": sensor["lastExecutionId"],
                                     "status": "successful", "message": "Create new sensor and trigger scan successfully"})
        match = re.match(r"^/v3/sensors/(\w+)$", path)
        if match:
            sensor = self.sensors.get(match.group(1))
            if sensor is None:
                return self.failed(404, "Sensor not found.")
            if method == "DELETE":
                del self.sensors[match.group(1)]
                return self.answer(200, {"status": "successful", "message": "Sensor deleted successfully."})
            if method == "PUT":
                if "sensorConfig" in body:
                    # PUT replaces sensorConfig; a masked secret sent back keeps the stored value.
                    stored = sensor["sensorConfig"]
                    body["sensorConfig"] = dict((k, stored[k] if v == "********" and k in stored else v)
                                                for k, v in body["sensorConfig"].items())
                sensor.update(body)
            return self.answer(200, dict(sensor, sensorConfig=self.masked(sensor["sensorConfig"])))
        match = re.match(r"^(?:/api/v1)?/organizations/(\w+)/webhooks(?:/(\w+))?$", path)
        if match:
            hook_id = match.group(2)
            if hook_id is None and method == "GET":
                hooks = list(self.webhooks.values())
                return self.answer(200, {"data": hooks, "pagination": {"total": len(hooks), "limit": 100, "offset": 0}})
            if hook_id is None:
                hook = dict((k, body[k]) for k in ("url", "events", "active"))
                hook.update(id="wh_%d" % next(self._ids), createdAt="2025-01-01T00:00:00Z")
                self.webhooks[hook["id"]] = hook
                self.stored_tokens[hook["id"]] = body.get("secret")
                return self.answer(201, hook)
            hook = self.webhooks.get(hook_id)
            if hook is None:
                return self.answer(404, {"error": "not_found", "message": "Webhook not found"})
            if method == "DELETE":
                del self.webhooks[hook_id]
                return self.answer(204)
            if method == "PATCH":
                if "secret" in body:
                    self.stored_tokens[hook_id] = body.pop("secret")
                hook.update(body)
            return self.answer(200, hook)
        return self.failed(404, "no route %s %s" % (method, path))
