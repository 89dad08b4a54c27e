# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scan_sensor and scan_sensor_info end to end against an in-memory AgileSec: secrets never in
the output (argument errors included), check mode, diff, errors before any request."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible_collections.scanops.security.plugins.modules import scan_sensor, scan_sensor_info
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_agilesec import FakePlatform
from ansible_collections.scanops.security.tests.unit.plugins.modules import utils
from ansible_collections.scanops.security.tests.unit.plugins.modules.utils import warning_texts

PASSWORD = "pw-0f1e2d3c4b5a69788796"
CONFIG = {"repositoryUrl": "https://git.example.com/a/b.git", "branches": ["main"], "username": "scanner", "password": PASSWORD}


def run_module(module, monkeypatch, capsys, platform, args, inject_invocation=None):
    return utils.run_module(module, monkeypatch, capsys, platform, args, inject_invocation=inject_invocation,
                            defaults=dict(provider="agilesec", api_url="https://agilesec.example.test"), hidden=(PASSWORD,))


@pytest.fixture
def platform():
    return FakePlatform()


@pytest.fixture
def run(monkeypatch, capsys, platform):
    return lambda args, module=scan_sensor, **kwargs: run_module(module, monkeypatch, capsys, platform, args, **kwargs)


def sensor_args(**overrides):
    args = dict(name="app-git", sensor_type="GIT Sensor", config=dict(CONFIG), labels={"team": "crypto"})
    args.update(overrides)
    return args


# Secrets stay out of the result whether or not the core adds ``invocation`` (ansible-core 2.21 adds it
# only when INJECT_INVOCATION is on); run_module searches every output for the secret values.
WITH_AND_WITHOUT_INVOCATION = pytest.mark.parametrize("inject_invocation", [True, False], ids=["invocation", "no-invocation"])


@WITH_AND_WITHOUT_INVOCATION
def test_create_rerun_diff_and_invocation_masking(run, platform, inject_invocation):
    created = run(dict(sensor_args(), _ansible_diff=True), inject_invocation=inject_invocation)
    assert created["changed"] is True and created["execution_id"] and created["sensor_id"]
    assert created["sensor"]["sensorConfig"]["password"] == "********"
    assert created["diff"]["after"]["sensorConfig"]["password"] == "********"
    invocation = utils.invocation_of(created, inject_invocation)
    if invocation is not None:
        # The non-secret config stays readable in the invocation; only the secret is hidden.
        config = invocation["module_args"]["config"]
        assert config["repositoryUrl"] == CONFIG["repositoryUrl"] and config["branches"] == ["main"]
        assert config["password"] != PASSWORD
    again = run(sensor_args())
    assert again["changed"] is False and again["execution_id"] is None
    assert "diff" not in again, "diff is only returned in diff mode"


@WITH_AND_WITHOUT_INVOCATION
def test_argument_error_does_not_print_config_secret(run, platform, inject_invocation):
    # AnsibleModule fails on a bad choice before any module code runs; the secret must still be hidden.
    result = run(sensor_args(priority="urgent"), inject_invocation=inject_invocation)
    assert result["failed"] is True and "priority" in result["msg"]
    invocation = utils.invocation_of(result, inject_invocation)
    if invocation is not None:
        assert invocation["module_args"]["config"]["repositoryUrl"] == CONFIG["repositoryUrl"]
    assert platform.requests == []


def test_check_mode_sends_no_write(run, platform):
    result = run(dict(sensor_args(), _ansible_check_mode=True))
    assert result["changed"] is True and result["sensor_id"] is None
    assert platform.requests and platform.writes() == []


def test_bad_config_fails_before_any_request(run, platform):
    result = run(sensor_args(config=dict(CONFIG, repositoryUrl="http://git.example.com/a.git", extra=1)))
    assert result["failed"] is True
    assert "config.repositoryUrl: must be an https:// URL" in result["msg"]
    assert "config.extra: unexpected field" in result["msg"]
    assert platform.requests == []


def test_unchecked_config_when_validation_is_off(run, platform):
    result = run(sensor_args(config=dict(CONFIG, extra="x"), validate_config=False))
    assert result["changed"] is True
    assert json.loads(platform.requests[-2].content)["sensorConfig"]["extra"] == "x"


def test_unknown_type_warns_and_is_sent_unchecked(run, platform):
    result = run(sensor_args(sensor_type="Mainframe Sensor", config={"host": "mf"}))
    assert any("Mainframe Sensor" in warning and "sent unchecked" in warning for warning in warning_texts(result))
    create = [r for r in platform.requests if r.method == "POST"]
    assert json.loads(create[0].content)["sensorConfig"] == {"host": "mf"}


class StaleListPlatform(FakePlatform):
    """Lists a sensor that no longer exists (deleted between the lookup and the update)."""

    def __call__(self, request):
        if request.url.path == "/v3/sensors":
            self.requests.append(request)
            stale = {"sensorId": "f" * 24, "sensorName": "app-git", "sensorType": "GIT Sensor", "sensorConfig": {}, "priority": "low"}
            return self.answer(200, {"data": [stale], "page": 1, "pageSize": 100, "total": 1})
        return super(StaleListPlatform, self).__call__(request)


def test_vendor_error_reads_action_resource_message_status(monkeypatch, capsys):
    result = run_module(scan_sensor, monkeypatch, capsys, StaleListPlatform(), sensor_args(priority="high"))
    assert result["failed"] is True
    assert result["msg"] == "Ensure sensor 'app-git': Sensor not found. (HTTP 404)"
    assert result["error"]["status"] == 404 and result["error"]["method"] == "PUT"
    # The failed result says which sensor the run found before its update failed.
    assert result["sensor_id"] == "f" * 24 and result["sensor"]["sensorName"] == "app-git" and result["execution_id"] is None


def test_other_provider_is_refused(run, platform):
    result = run(dict(sensor_args(), provider="cloudgeni"))
    assert result["failed"] is True and "provider" in result["msg"]
    assert platform.requests == []


def test_info_lists_masked(run, platform):
    run(sensor_args())
    info = run({"name": "app-git"}, module=scan_sensor_info)
    assert info["changed"] is False and len(info["sensors"]) == 1
    assert info["sensors"][0]["sensorConfig"]["password"] == "********"
    assert run({}, module=scan_sensor_info)["sensors"][0]["sensorName"] == "app-git"
    assert run({"name": "nope"}, module=scan_sensor_info)["sensors"] == []
