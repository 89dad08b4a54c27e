# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AgileSec scan_run/scan_info: documented paths first, assumed ones only where needed, named when missing."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools
import json
import re

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.scans import ScanFailure, run_scan, scan_info
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_scans import params

SENSOR_ID = "65f1c2a9e8d7b6a5f4e3d2c1"
ASSUMED_LIST = "Keyfactor AgileSec does not document GET /v3/sensors; the collection assumes it (docs/assumptions.md, " \
               "Keyfactor AgileSec: List sensors)"
ASSUMED_SENSOR = "Keyfactor AgileSec does not document GET /v3/sensors/{sensorId}; the collection assumes it " \
                 "(docs/assumptions.md, Keyfactor AgileSec: Get / update / delete a sensor)"


class FakeAgileSec(object):
    """The documented scan API; with ``sensor_api`` also the assumed sensor object and list."""

    def __init__(self, sensor_api=True, polls_to_finish=1, lose_execute_answer=False):
        self.sensor_api = sensor_api
        self.polls_to_finish = polls_to_finish
        self.lose_execute_answer = lose_execute_answer
        self.sensors = {SENSOR_ID: {"sensorId": SENSOR_ID, "sensorName": "prod-git", "lastExecutionId": None}}
        self.executions = {}
        self.ids = itertools.count(1)
        self.requests = []

    @staticmethod
    def failed(status, message):
        return httpx.Response(status, json={"status": "failed", "message": message})

    def __call__(self, request):
        self.requests.append((request.method, request.url.path))
        path = request.url.path
        if path == "/v3/scan/execute":
            sensor = self.sensors.get(json.loads(request.content)["sensorId"])
            if sensor is None:
                return self.failed(404, "The specified execution id not found.")
            execution_id = "%024x" % next(self.ids)
            self.executions[execution_id] = {"sensorId": sensor["sensorId"], "executionId": execution_id, "status": "pending",
                                             "polls": 0, "ranAt": "2025-01-01T00:00:00Z"}
            sensor["lastExecutionId"] = execution_id
            if self.lose_execute_answer:
                raise httpx.ReadTimeout("read timed out", request=request)
            return httpx.Response(200, json={"executionId": execution_id, "status": "successful",
                                             "message": "Scan execution started successfully."})
        match = re.match(r"^/v3/scan/(\w+)$", path)
        if match:
            execution = self.executions.get(match.group(1))
            if execution is None:
                return self.failed(404, "The specified executionId was not found.")
            execution["polls"] += 1
            if execution["polls"] > self.polls_to_finish:
                execution["status"] = "successful"
            return httpx.Response(200, json=dict((k, v) for k, v in execution.items() if k != "polls"))
        if not self.sensor_api:
            return self.failed(404, "Not found.")
        if path == "/v3/sensors":
            name = request.url.params.get("name")
            items = [s for s in self.sensors.values() if s["sensorName"] == name]
            return httpx.Response(200, json={"data": items, "page": 1, "pageSize": 100, "total": len(items)})
        match = re.match(r"^/v3/sensors/(\w+)$", path)
        if match and match.group(1) in self.sensors:
            return httpx.Response(200, json=self.sensors[match.group(1)])
        return self.failed(404, "Sensor not found.")


@pytest.fixture
def agilesec(make_adapter):
    def factory(**options):
        fake = FakeAgileSec(**options)
        adapter, _recorder = make_adapter("agilesec", fake, api_url="https://agilesec.example.test", retries=0)
        return fake, adapter
    return factory


def run(adapter, fake_time, **options):
    warnings = []
    result = run_scan(adapter, params(**options), warn=warnings.append, sleep=fake_time.sleep, clock=fake_time.clock,
                      wallclock=fake_time.wallclock)
    return result, warnings


def test_a_sensor_id_is_run_without_the_sensor_list(agilesec, fake_time):
    fake, adapter = agilesec()
    result, warnings = run(adapter, fake_time, sensor=SENSOR_ID, wait_sleep=1)
    assert result["changed"] is True and result["scan"]["status"] == "completed" and warnings == []
    assert ("GET", "/v3/sensors") not in fake.requests
    assert fake.requests[:2] == [("GET", "/v3/sensors/" + SENSOR_ID), ("POST", "/v3/scan/execute")]


def test_a_running_execution_is_adopted_when_the_sensor_object_exists(agilesec, fake_time):
    fake, adapter = agilesec(polls_to_finish=5)
    first, _warnings = run(adapter, fake_time, sensor=SENSOR_ID, wait=False)
    again, _warnings = run(adapter, fake_time, sensor=SENSOR_ID, wait=False)
    assert again["reused"] is True and again["scan"]["id"] == first["scan"]["id"]
    assert [r for r in fake.requests if r[0] == "POST"] == [("POST", "/v3/scan/execute")]


def test_without_the_sensor_object_a_sensor_id_still_runs_and_polls_with_a_named_warning(agilesec, fake_time):
    fake, adapter = agilesec(sensor_api=False)
    result, warnings = run(adapter, fake_time, sensor=SENSOR_ID, wait_sleep=1)
    assert result["changed"] is True and result["scan"]["status"] == "completed" and result["reused"] is False
    assert len(warnings) == 1 and warnings[0].startswith(ASSUMED_SENSOR)
    assert "https://agilesec.example.test answered HTTP 404 (Not found.)" in warnings[0]
    assert "so none is adopted or reused" in warnings[0]
    assert [r[0] + " " + r[1].split("/")[2] for r in fake.requests] == \
        ["GET sensors", "POST scan", "GET scan", "GET scan"]


def test_without_the_sensor_list_a_sensor_name_fails_naming_the_assumption(agilesec, fake_time):
    fake, adapter = agilesec(sensor_api=False)
    with pytest.raises(ScanFailure) as info:
        run(adapter, fake_time, sensor="prod-git")
    assert info.value.msg.startswith("Resolve scan target prod-git: " + ASSUMED_LIST)
    assert fake.requests == [("GET", "/v3/sensors")]


def test_a_lost_execute_answer_is_never_sent_again_when_the_executions_can_not_be_seen(agilesec, fake_time):
    fake, adapter = agilesec(sensor_api=False, lose_execute_answer=True)
    with pytest.raises(ScanFailure) as info:
        run(adapter, fake_time, sensor=SENSOR_ID)
    assert ASSUMED_SENSOR in info.value.msg
    assert [r for r in fake.requests if r[0] == "POST"] == [("POST", "/v3/scan/execute")]


def test_scan_info_reads_an_execution_of_the_given_sensor_id_only(agilesec):
    fake, adapter = agilesec(sensor_api=False)
    fake.executions["e" * 24] = {"sensorId": SENSOR_ID, "executionId": "e" * 24, "status": "successful", "polls": 0}
    fake.executions["f" * 24] = {"sensorId": "0" * 24, "executionId": "f" * 24, "status": "successful", "polls": 0}
    scans = scan_info(adapter, params(sensor=SENSOR_ID, scan_id="e" * 24))
    assert [scan["id"] for scan in scans] == ["e" * 24]
    with pytest.raises(ScanFailure) as info:
        scan_info(adapter, params(sensor=SENSOR_ID, scan_id="f" * 24))
    assert "execution %s is one of sensor %s, not of sensor %s" % ("f" * 24, "0" * 24, SENSOR_ID) in info.value.msg
    assert not [r for r in fake.requests if r[1].startswith("/v3/sensors")]


def test_scan_info_last_execution_needs_the_sensor_object(agilesec):
    _fake, adapter = agilesec(sensor_api=False)
    with pytest.raises(ScanFailure) as info:
        scan_info(adapter, params(sensor=SENSOR_ID))
    assert info.value.msg.startswith("Get the last execution of sensor %s: %s" % (SENSOR_ID, ASSUMED_SENSOR))
