# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-state logic of AgileSec scan sensors: validation, secrets, comparison, writes."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils import sensors
from ansible_collections.scanops.security.plugins.module_utils.callbacks import InputError
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_agilesec import FakePlatform

PASSWORD = "git-pass-7d1e9c3b5a"
TOKEN = "git-token-0a2b4c6d8e"
GIT = {"repositoryUrl": "https://git.example.com/team/app.git", "branches": ["main", "release"],
       "username": "scanner", "password": PASSWORD}


def params(**overrides):
    base = dict(provider="agilesec", name="app-git", sensor_type="GIT Sensor", config=dict(GIT), validate_config=True,
                priority=None, callback=None, incremental_scan=None, auto_resolution_interval=None, labels=None,
                update_secrets="on_create", purge_config=False, state="present")
    base.update(overrides)
    return base


def ensure(adapter, check_mode=False, **overrides):
    options = params(**overrides)
    desired, _warnings = sensors.validate_sensor_params(options)
    return sensors.ensure_sensor(adapter, desired, options, check_mode)


@pytest.fixture
def platform():
    return FakePlatform()


@pytest.fixture
def adapter(make_adapter, platform):
    adapter, _recorder = make_adapter("agilesec", platform)
    return adapter


# ------------------------------------------------------------------------------------ secrets
def test_secret_keys_and_values():
    config = {"url": "https://x", "password": "p1", "nested": {"clientSecret": "s1", "list": [{"apiKey": "k1"}]},
              "accessToken": "t1", "privateKey": {"pem": "k2"}, "branches": ["main"], "tokenless": None}
    assert sorted(sensors.secret_values(config)) == ["k1", "k2", "p1", "s1", "t1"]
    masked = sensors.mask_config(config)
    assert masked["password"] == "********" and masked["nested"]["clientSecret"] == "********"
    assert masked["nested"]["list"] == [{"apiKey": "********"}] and masked["privateKey"] == "********"
    assert masked["branches"] == ["main"] and masked["url"] == "https://x"
    assert config["password"] == "p1", "masking must not change the caller's dict"


class _Module(object):
    def __init__(self, config):
        self.params = {"config": config}
        self.no_log_values = set()


def test_register_config_secrets_adds_only_secret_leaves():
    module = _Module(dict(GIT, token=TOKEN))
    sensors.register_config_secrets(module)
    assert module.no_log_values == {PASSWORD, TOKEN}


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("config, messages", [
    (dict(GIT, repositoryUrl="http://git.example.com/a.git"), ["config.repositoryUrl: must be an https:// URL"]),
    ({"branches": ["main"]}, ["config.repositoryUrl: is required"]),
    (dict(GIT, branch="main"), ["config.branch: unexpected field (known fields: branches, incremental, password, repositoryUrl, token, username)"]),
    (dict(GIT, branches="main"), ["config.branches: must be a non-empty list of distinct non-empty strings"]),
    (dict(GIT, branches=["main", ""]), ["config.branches[1]: must be a non-empty string"]),
    ({"repositoryUrl": GIT["repositoryUrl"], "username": "u"}, ["config: username and password go together"]),
    (dict(GIT, token=TOKEN), ["config: use either username and password or one token"]),
    (dict(GIT, incremental="yes"), ["config.incremental: must be a boolean"]),
])
def test_git_config_errors_name_the_field(config, messages):
    with pytest.raises(InputError) as caught:
        sensors.validate_config("GIT Sensor", config)
    assert caught.value.message.startswith("Invalid input for sensorConfig (GIT Sensor): ")
    for message in messages:
        assert message in caught.value.message
    assert PASSWORD not in caught.value.message and TOKEN not in caught.value.message


@pytest.mark.parametrize("sensor_type, config", [
    ("GIT Sensor", GIT),
    ("git sensor", {"repositoryUrl": "https://github.com/o/r.git", "token": TOKEN}),
    ("Artifactory Sensor", {"url": "https://art.example.com", "token": TOKEN, "repositories": ["libs-release"]}),
    ("GitHub Sensor", {"organization": "acme", "token": TOKEN}),
    ("GitLab Sensor", {"token": TOKEN, "groups": ["platform"]}),
    ("Qualys Sensor", {"apiUrl": "https://qualysapi.example.com", "username": "u", "password": PASSWORD}),
    ("CipherInsights Sensor", {"url": "https://ci.example.com", "apiKey": TOKEN}),
    ("Keyfactor Command Sensor", {"url": "https://kf.example.com", "username": "u", "password": PASSWORD}),
])
def test_valid_configs_pass(sensor_type, config):
    canonical, warnings = sensors.validate_config(sensor_type, config)
    assert canonical.lower() == sensor_type.lower() and warnings == []


def test_artifactory_needs_credentials():
    with pytest.raises(InputError, match="config: needs credentials"):
        sensors.validate_config("Artifactory Sensor", {"url": "https://art.example.com"})


def test_unknown_type_passes_with_warning():
    canonical, warnings = sensors.validate_config("Mainframe Sensor", {"anything": 1})
    assert canonical is None and "not one this collection knows" in warnings[0]


@pytest.mark.parametrize("overrides, message", [
    (dict(name=""), "name: Missing required field: sensorName."),
    (dict(name="bad\nname"), "name: must not contain control characters"),
    (dict(sensor_type=" "), "sensor_type: Missing required field: sensorType."),
    (dict(priority="urgent"), "priority: Invalid type or value for priority: expected one of ['low', 'medium', 'high']."),
    (dict(auto_resolution_interval=0), "auto_resolution_interval: Invalid type for autoResolutionInterval"),
    (dict(labels={"team": ["a"]}), "labels.team: must be a string, number or boolean"),
    (dict(callback=""), "callback: must be a callback endpoint's name or its 24-hex id"),
])
def test_bad_options(overrides, message):
    with pytest.raises(InputError) as caught:
        sensors.validate_sensor_params(params(**overrides))
    assert message in caught.value.message


def test_labels_are_strings_in_desired_state():
    desired = sensors.validate_sensor_params(params(labels={"env": "prod", "tier": 1, "pci": True}))[0]
    assert desired["labels"] == {"env": "prod", "tier": "1", "pci": "true"}


# ------------------------------------------------------------------------------------ lifecycle
def test_create_sends_documented_body_and_returns_execution(adapter, platform):
    result, warnings = ensure(adapter, labels={"team": "pay", "env": "prod"}, priority="high", incremental_scan=False)
    assert warnings == []
    assert result["changed"] is True and result["execution_id"] and result["sensor_id"]
    create = [r for r in platform.requests if r.method == "POST"]
    assert len(create) == 1 and create[0].url.path == "/v3/scan/create"
    assert json.loads(create[0].content) == {
        "sensorType": "GIT Sensor", "sensorName": "app-git", "sensorConfig": GIT, "priority": "high",
        "incrementalScan": False, "labels": [{"env": "prod"}, {"team": "pay"}]}
    assert result["sensor"]["sensorConfig"]["password"] == "********"
    assert PASSWORD not in json.dumps(result)


def test_rerun_is_idempotent_with_reordered_labels_and_branches(adapter, platform):
    ensure(adapter, labels={"team": "pay", "env": "prod"})
    writes = len(platform.writes())
    result = ensure(adapter, labels={"env": "prod", "team": "pay"}, config=dict(GIT, branches=["release", "main"]))[0]
    assert result["changed"] is False and result["execution_id"] is None
    assert len(platform.writes()) == writes


def test_check_mode_create_writes_nothing(adapter, platform):
    result = ensure(adapter, check_mode=True)[0]
    assert result["changed"] is True and result["sensor_id"] is None and result["execution_id"] is None
    assert result["diff"]["after"]["sensorConfig"]["password"] == "********"
    assert platform.writes() == []


def test_update_one_field_sends_only_it(adapter, platform):
    ensure(adapter)
    result = ensure(adapter, priority="medium")[0]
    assert result["changed"] is True
    put = platform.requests[-1]
    assert put.method == "PUT" and json.loads(put.content) == {"priority": "medium"}
    assert result["diff"]["before"]["priority"] == "low" and result["diff"]["after"]["priority"] == "medium"
    assert result["sensor"]["priority"] == "medium"


def test_changed_config_sends_whole_config_with_secrets(adapter, platform):
    created = ensure(adapter)[0]
    new = dict(GIT, branches=["main"])
    result = ensure(adapter, config=new)[0]
    assert result["changed"] is True
    assert json.loads(platform.requests[-1].content) == {"sensorConfig": new}
    assert platform.sensors[created["sensor_id"]]["sensorConfig"]["password"] == PASSWORD
    assert result["diff"]["before"]["sensorConfig"]["password"] == sensors.UNKNOWN_SECRET
    assert result["diff"]["after"]["sensorConfig"]["password"] == "********"
    assert PASSWORD not in json.dumps(result)


def test_secret_only_change_follows_update_secrets(adapter, platform):
    created = ensure(adapter)[0]
    rotated = dict(GIT, password="new-pass-44556677")
    unchanged = ensure(adapter, config=rotated)[0]
    assert unchanged["changed"] is False
    assert platform.sensors[created["sensor_id"]]["sensorConfig"]["password"] == PASSWORD
    forced = ensure(adapter, config=rotated, update_secrets="always")[0]
    assert forced["changed"] is True
    assert platform.sensors[created["sensor_id"]]["sensorConfig"]["password"] == "new-pass-44556677"
    assert "new-pass-44556677" not in json.dumps(forced)


# One config model (issue 20, item 9): keys absent from config are kept, unless purge_config says
# config is the whole truth; secrets are compared by presence, their values stay write-only.
def stored_config(platform, sensor_id):
    return platform.sensors[sensor_id]["sensorConfig"]


def test_keys_left_out_of_config_are_kept(adapter, platform):
    created = ensure(adapter, config=dict(GIT, incremental=True))[0]
    partial = {"branches": ["main", "dev"]}
    checked = ensure(adapter, check_mode=True, sensor_type=None, config=partial)[0]
    result = ensure(adapter, sensor_type=None, config=partial)[0]
    assert result["changed"] is True and checked["changed"] is True
    assert stored_config(platform, created["sensor_id"]) == dict(GIT, incremental=True, branches=["main", "dev"])
    sent = json.loads(platform.requests[-1].content)["sensorConfig"]
    assert sent["password"] == "********"  # the mask keeps the stored value; the secret itself is not sent
    assert result["diff"] == checked["diff"]
    assert result["diff"]["after"]["sensorConfig"] == dict(GIT, incremental=True, branches=["main", "dev"], password="********")
    assert PASSWORD not in json.dumps(result)
    again = ensure(adapter, sensor_type=None, config=partial)[0]
    assert again["changed"] is False


def test_purge_config_removes_keys_left_out_and_detects_them(adapter, platform):
    created = ensure(adapter, config=dict(GIT, incremental=True))[0]
    merged = ensure(adapter, config=dict(GIT))[0]
    assert merged["changed"] is False
    checked = ensure(adapter, check_mode=True, config=dict(GIT), purge_config=True)[0]
    purged = ensure(adapter, config=dict(GIT), purge_config=True)[0]
    assert checked["changed"] is True and purged["changed"] is True
    assert stored_config(platform, created["sensor_id"]) == GIT
    assert "incremental" in purged["diff"]["before"]["sensorConfig"] and "incremental" not in purged["diff"]["after"]["sensorConfig"]
    assert ensure(adapter, config=dict(GIT), purge_config=True)[0]["changed"] is False


def test_purge_config_drops_a_stored_secret_left_out(adapter, platform):
    created = ensure(adapter)[0]
    public = {"repositoryUrl": GIT["repositoryUrl"], "branches": GIT["branches"]}
    result = ensure(adapter, config=public, purge_config=True)[0]
    assert result["changed"] is True
    assert stored_config(platform, created["sensor_id"]) == public
    assert result["diff"]["before"]["sensorConfig"]["password"] == "********"
    assert "password" not in result["diff"]["after"]["sensorConfig"]


def test_a_secret_the_platform_lacks_is_a_change(adapter, platform):
    public = {"repositoryUrl": GIT["repositoryUrl"]}
    created = ensure(adapter, config=public)[0]
    result = ensure(adapter, config=dict(public, token=TOKEN))[0]
    assert result["changed"] is True
    assert stored_config(platform, created["sensor_id"]) == dict(public, token=TOKEN)
    assert result["diff"]["after"]["sensorConfig"]["token"] == "********" and "token" not in result["diff"]["before"]["sensorConfig"]
    assert ensure(adapter, config=dict(public, token=TOKEN))[0]["changed"] is False


def test_a_merged_config_is_checked_whole_and_the_error_says_so(adapter, platform):
    ensure(adapter, config={"repositoryUrl": GIT["repositoryUrl"], "token": TOKEN})
    writes = len(platform.writes())
    with pytest.raises(InputError) as caught:
        ensure(adapter, config=dict(GIT))
    assert "use either username and password or one token" in caught.value.message
    assert "purge_config" in caught.value.message
    assert len(platform.writes()) == writes
    replaced = ensure(adapter, config=dict(GIT), purge_config=True)[0]
    assert replaced["changed"] is True


def test_type_cannot_change(adapter, platform):
    ensure(adapter)
    writes = len(platform.writes())
    with pytest.raises(InputError, match="sensor_type: sensor 'app-git' is a GIT Sensor"):
        ensure(adapter, sensor_type="GitHub Sensor", config={"organization": "acme", "token": TOKEN})
    assert len(platform.writes()) == writes


def test_create_without_type_or_config_fails_before_write(adapter, platform):
    with pytest.raises(InputError, match="sensor_type: Missing required field: sensorType."):
        ensure(adapter, sensor_type=None)
    with pytest.raises(InputError, match="config: Missing required field: sensorConfig."):
        ensure(adapter, config=None)
    assert platform.writes() == []


def test_config_checked_against_existing_type_when_type_omitted(adapter, platform):
    ensure(adapter)
    with pytest.raises(InputError, match="config.repositoryUrl: must be an https:// URL"):
        ensure(adapter, sensor_type=None, config=dict(GIT, repositoryUrl="git@example.com:a.git"))
    assert len(platform.writes()) == 1


# ------------------------------------------------------------------------------------ callbacks
def _endpoint(platform, name):
    callback_id = platform.new_id()
    platform.endpoints[callback_id] = {"callbackId": callback_id, "name": name, "url": "https://h.example.com"}
    return callback_id


def test_callback_by_name_or_id(adapter, platform):
    callback_id = _endpoint(platform, "prod-cb")
    result = ensure(adapter, callback="prod-cb")[0]
    assert json.loads([r for r in platform.requests if r.method == "POST"][0].content)["callbackId"] == callback_id
    assert ensure(adapter, callback=callback_id)[0]["changed"] is False
    other = _endpoint(platform, "other-cb")
    moved = ensure(adapter, callback="other-cb")[0]
    assert moved["changed"] is True and json.loads(platform.requests[-1].content) == {"callbackId": other}
    assert result["sensor"]["callbackId"] == callback_id


def test_unknown_callback(adapter, platform):
    with pytest.raises(InputError, match="callback: no callback endpoint is named 'nope' \\(and it is not a 24-hex callbackId either\\)"):
        ensure(adapter, callback="nope")
    assert platform.writes() == []
    # A 24-hex Callback ID is sent as is, without the assumed endpoint list; the documented create
    # says when it is unknown.
    seen = len(platform.requests)
    with pytest.raises(ScanopsApiError) as info:
        ensure(adapter, callback="a" * 24)
    assert (info.value.status, info.value.message) == (404, "callbackId not found.")
    assert not [r for r in platform.requests[seen:] if r.url.path.startswith("/v3/callback-endpoints")]
    result, warnings = ensure(adapter, check_mode=True, callback="nope")
    assert result["changed"] is True and "check mode assumes it will exist" in warnings[0]


def test_remove_and_remove_again(adapter, platform):
    ensure(adapter)
    removed = ensure(adapter, state="absent")[0]
    assert removed["changed"] is True and platform.sensors == {}
    assert removed["diff"]["before"]["sensorConfig"]["password"] == "********"
    assert ensure(adapter, state="absent")[0]["changed"] is False


def test_duplicate_names_fail(adapter, platform):
    for _index in range(2):
        sensor_id = platform.new_id()
        platform.sensors[sensor_id] = {"sensorId": sensor_id, "sensorName": "app-git", "sensorType": "GIT Sensor", "sensorConfig": {}}
    with pytest.raises(InputError, match="name: 2 sensors are named 'app-git'"):
        ensure(adapter, state="absent")
    assert platform.writes() == []


def test_list_masks_secrets(adapter, platform):
    ensure(adapter)
    listed = sensors.list_sensors(adapter, "app-git")
    assert len(listed) == 1 and listed[0]["sensorConfig"]["password"] == "********"
    assert sensors.list_sensors(adapter, "other") == []


class DropAfterCreate(FakePlatform):
    """Creates the sensor, then drops the connection before answering."""

    def __call__(self, request):
        answer = super(DropAfterCreate, self).__call__(request)
        if request.url.path == "/v3/scan/create" and not getattr(self, "dropped", False):
            self.dropped = True
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return answer


def test_dropped_create_is_not_resent(make_adapter):
    platform = DropAfterCreate()
    adapter, _recorder = make_adapter("agilesec", platform)
    with pytest.raises(ScanopsApiError) as caught:
        ensure(adapter)
    assert len([r for r in platform.requests if r.url.path == "/v3/scan/create"]) == 1
    sensor_id = list(platform.sensors)[0]
    assert "the platform did create sensor 'app-git' (id %s)" % sensor_id in caught.value.describe("Ensure sensor")
    rerun = ensure(adapter)[0]
    assert rerun["changed"] is False and rerun["sensor_id"] == sensor_id
