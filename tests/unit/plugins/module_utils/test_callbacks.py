# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired-state logic of AgileSec callback endpoints and CloudGeni webhooks."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils import callbacks
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_agilesec import FakePlatform

TOKEN = "cb-token-8f2e6d4c2a0b"


def params(**overrides):
    base = dict(provider="agilesec", name="scans-callback", url="https://hooks.example.com/cb", auth_type=None,
                header_name=None, token=None, update_token="on_create", events=None, active=None, state="present")
    base.update(overrides)
    return base


def desired_of(**overrides):
    desired, _warnings = callbacks.validate_endpoint_params(params(**overrides))
    return desired


@pytest.fixture
def platform():
    return FakePlatform(unreachable=("https://down.example.com/cb",))


@pytest.fixture
def agilesec(make_adapter, platform):
    adapter, _recorder = make_adapter("agilesec", platform)
    return callbacks.AgileSecCallbacks(adapter)


@pytest.fixture
def cloudgeni(make_adapter, platform):
    adapter, _recorder = make_adapter("cloudgeni", platform)
    return callbacks.CloudGeniWebhooks(adapter)


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("overrides, message", [
    (dict(name=None), "name: required for provider=agilesec"),
    (dict(name="  "), "name: required for provider=agilesec"),
    (dict(name="n" * 201), "name: is 201 characters long, the platform allows at most 200"),
    (dict(url="https://h.example.com/" + "a" * 190), "url: is 212 characters long"),
    (dict(url="ftp://h.example.com/x"), "url: 'ftp://h.example.com/x' is not an http(s) URL"),
    (dict(url="https://h.example.com/a b"), "is not an http(s) URL"),
    (dict(auth_type="api_token", token=TOKEN), "header_name: required with auth_type=api_token"),
    (dict(auth_type="bearer", header_name="X-Auth", token=TOKEN), "header_name: only used with auth_type=api_token"),
    (dict(auth_type="api_token", header_name="Bad Header", token=TOKEN), "header_name: 'Bad Header' is not a valid HTTP header name"),
    (dict(auth_type="bearer"), "token: required with auth_type=bearer"),
    (dict(auth_type="none", token=TOKEN), "token: not used with auth_type=none"),
    (dict(events=["scan.completed"]), "events: only applies to provider=cloudgeni"),
    (dict(provider="cloudgeni", name=None, url=None), "url: required for provider=cloudgeni"),
    (dict(provider="cloudgeni", name="x"), "name: not supported for provider=cloudgeni"),
    (dict(provider="cloudgeni", name=None, auth_type="bearer"), "auth_type: not supported for provider=cloudgeni"),
    (dict(provider="cloudgeni", name=None, events=["scan.started"]), "events: must be a non-empty list of scan.completed (got scan.started)"),
])
def test_bad_input_names_the_option(overrides, message):
    with pytest.raises(callbacks.InputError) as caught:
        callbacks.validate_endpoint_params(params(**overrides))
    assert message in caught.value.message
    assert TOKEN not in caught.value.message


def test_plain_http_warns_and_https_does_not():
    _desired, warnings = callbacks.validate_endpoint_params(params(url="http://hooks.example.com/cb"))
    assert len(warnings) == 1 and "plain http" in warnings[0]
    _desired, warnings = callbacks.validate_endpoint_params(params())
    assert warnings == []


def test_absent_needs_only_the_key():
    assert callbacks.validate_endpoint_params(params(state="absent", url=None, auth_type="bearer")) == ({"name": "scans-callback"}, [])


# ------------------------------------------------------------------------------------ agilesec
def test_create_then_idempotent(agilesec, platform):
    desired = desired_of(auth_type="api_token", header_name="X-Auth", token=TOKEN)
    first = callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", False)
    assert first["changed"] is True
    assert callbacks.is_object_id(first["callback_id"])
    assert first["endpoint"]["headerName"] == "X-Auth" and "token" not in first["endpoint"]
    expected_after = {"name": "scans-callback", "url": "https://hooks.example.com/cb", "authType": "api_token",
                      "headerName": "X-Auth", "token": "********"}
    assert first["diff"] == {"before": {}, "after": expected_after}
    assert platform.stored_tokens[first["callback_id"]] == TOKEN
    writes_before = len(platform.writes())
    second = callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", False)
    assert second["changed"] is False
    assert second["callback_id"] == first["callback_id"]
    assert len(platform.writes()) == writes_before
    assert TOKEN not in json.dumps(second) and TOKEN not in json.dumps(first)


def test_check_mode_create_sends_no_write(agilesec, platform):
    result = callbacks.ensure_endpoint(agilesec, desired_of(), None, "on_create", "present", True)
    assert result["changed"] is True and result["callback_id"] is None
    assert result["endpoint"]["authType"] == "none"
    assert platform.writes() == [] and platform.endpoints == {}


def test_update_token_always_resends_and_reports_change(agilesec, platform):
    desired = desired_of(auth_type="bearer", token=TOKEN)
    created = callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", False)
    result = callbacks.ensure_endpoint(agilesec, desired, "rotated-token-1234", "always", "present", False)
    assert result["changed"] is True
    assert platform.stored_tokens[created["callback_id"]] == "rotated-token-1234"
    assert result["diff"]["after"]["token"] == "********"
    assert "rotated-token-1234" not in json.dumps(result)
    put = platform.requests[-1]
    assert put.method == "PUT" and json.loads(put.content) == {"token": "rotated-token-1234"}


def test_update_only_changed_fields(agilesec, platform):
    callbacks.ensure_endpoint(agilesec, desired_of(), None, "on_create", "present", False)
    desired = desired_of(url="https://hooks.example.com/other")
    result = callbacks.ensure_endpoint(agilesec, desired, None, "on_create", "present", False)
    assert result["changed"] is True
    assert json.loads(platform.requests[-1].content) == {"url": "https://hooks.example.com/other"}
    assert result["diff"]["before"]["url"] == "https://hooks.example.com/cb"
    assert result["diff"]["after"]["url"] == "https://hooks.example.com/other"
    assert result["endpoint"]["url"] == "https://hooks.example.com/other"


def test_switching_to_bearer_without_token_fails_before_write(agilesec, platform):
    callbacks.ensure_endpoint(agilesec, desired_of(), None, "on_create", "present", False)
    writes = len(platform.writes())
    desired = {"name": "scans-callback", "authType": "bearer"}
    with pytest.raises(callbacks.InputError, match="token: required to switch"):
        callbacks.ensure_endpoint(agilesec, desired, None, "on_create", "present", False)
    assert len(platform.writes()) == writes


# An auth change takes effect (issue 20, item 8): the token goes with it, the diff shows what the
# platform will hold.
def test_switching_from_none_to_bearer_sends_the_token_given(agilesec, platform):
    created = callbacks.ensure_endpoint(agilesec, desired_of(), None, "on_create", "present", False)
    desired = desired_of(auth_type="bearer", token=TOKEN)
    checked = callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", True)
    result = callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", False)
    assert result["changed"] is True and checked["changed"] is True
    assert json.loads(platform.requests[-1].content) == {"authType": "bearer", "token": TOKEN}
    assert platform.stored_tokens[created["callback_id"]] == TOKEN
    assert result["diff"] == checked["diff"]
    assert "token" not in result["diff"]["before"] and result["diff"]["after"]["token"] == "********"
    assert TOKEN not in json.dumps(result)
    again = callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", False)
    assert again["changed"] is False


def test_switching_from_api_token_to_bearer_replaces_the_token_and_clears_the_header(agilesec, platform):
    first = desired_of(auth_type="api_token", header_name="X-Scan-Token", token="old-token-1234")
    created = callbacks.ensure_endpoint(agilesec, first, "old-token-1234", "on_create", "present", False)
    desired = desired_of(auth_type="bearer", token=TOKEN)
    result = callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", False)
    assert platform.stored_tokens[created["callback_id"]] == TOKEN
    assert result["diff"]["before"]["headerName"] == "X-Scan-Token"
    assert result["diff"]["after"]["headerName"] is None
    assert result["diff"]["after"]["authType"] == "bearer"
    assert result["diff"]["before"]["token"] == "(write-only, unknown)" and result["diff"]["after"]["token"] == "********"
    assert result["endpoint"]["headerName"] is None


def test_a_new_header_name_sends_the_token_with_it(agilesec, platform):
    first = desired_of(auth_type="api_token", header_name="X-Scan-Token", token=TOKEN)
    created = callbacks.ensure_endpoint(agilesec, first, TOKEN, "on_create", "present", False)
    desired = desired_of(auth_type="api_token", header_name="X-Other-Token", token="new-token-5678")
    result = callbacks.ensure_endpoint(agilesec, desired, "new-token-5678", "on_create", "present", False)
    assert json.loads(platform.requests[-1].content) == {"headerName": "X-Other-Token", "token": "new-token-5678"}
    assert platform.stored_tokens[created["callback_id"]] == "new-token-5678"
    assert result["diff"]["after"]["headerName"] == "X-Other-Token"


def test_same_auth_sends_no_token_with_on_create(agilesec, platform):
    desired = desired_of(auth_type="bearer", token=TOKEN)
    callbacks.ensure_endpoint(agilesec, desired, TOKEN, "on_create", "present", False)
    moved = desired_of(auth_type="bearer", token="other-token-0000", url="https://hooks.example.com/moved")
    callbacks.ensure_endpoint(agilesec, moved, "other-token-0000", "on_create", "present", False)
    assert json.loads(platform.requests[-1].content) == {"url": "https://hooks.example.com/moved"}


def test_switching_to_none_shows_the_token_going(agilesec, platform):
    created = callbacks.ensure_endpoint(agilesec, desired_of(auth_type="bearer", token=TOKEN), TOKEN, "on_create", "present", False)
    result = callbacks.ensure_endpoint(agilesec, desired_of(auth_type="none"), None, "on_create", "present", False)
    assert json.loads(platform.requests[-1].content) == {"authType": "none"}
    assert platform.stored_tokens[created["callback_id"]] is None
    assert result["diff"]["before"]["token"] == "(write-only, unknown)" and "token" not in result["diff"]["after"]


def test_unreachable_url_says_so(agilesec, platform):
    with pytest.raises(ScanopsApiError) as caught:
        callbacks.ensure_endpoint(agilesec, desired_of(url="https://down.example.com/cb"), None, "on_create", "present", False)
    text = caught.value.describe("Ensure callback endpoint", "'scans-callback'")
    assert text.startswith("Ensure callback endpoint 'scans-callback': Callback URL is not reachable: https://down.example.com/cb (HTTP 400)")
    assert "nothing answered there" in text


def test_ambiguous_name_lists_ids(agilesec, platform):
    for _index in range(2):
        platform.endpoints[platform.new_id()] = {"name": "dup", "url": "https://a.example.com"}
    for callback_id, endpoint in platform.endpoints.items():
        endpoint["callbackId"] = callback_id
    with pytest.raises(callbacks.InputError) as caught:
        callbacks.ensure_endpoint(agilesec, {"name": "dup"}, None, "on_create", "absent", False)
    assert "2 callback endpoints match name 'dup'" in caught.value.message
    for callback_id in platform.endpoints:
        assert callback_id in caught.value.message
    assert platform.writes() == []


def test_remove_then_remove_again(agilesec, platform):
    created = callbacks.ensure_endpoint(agilesec, desired_of(), None, "on_create", "present", False)
    check = callbacks.ensure_endpoint(agilesec, {"name": "scans-callback"}, None, "on_create", "absent", True)
    assert check["changed"] is True and created["callback_id"] in platform.endpoints
    removed = callbacks.ensure_endpoint(agilesec, {"name": "scans-callback"}, None, "on_create", "absent", False)
    assert removed["changed"] is True and removed["diff"]["after"] == {} and removed["diff"]["before"]["name"] == "scans-callback"
    assert platform.endpoints == {}
    again = callbacks.ensure_endpoint(agilesec, {"name": "scans-callback"}, None, "on_create", "absent", False)
    assert again["changed"] is False


def test_create_needs_url(agilesec, platform):
    with pytest.raises(callbacks.InputError, match="url: required to create callback endpoint 'x'"):
        callbacks.ensure_endpoint(agilesec, {"name": "x"}, None, "on_create", "present", False)
    assert platform.writes() == []


# ------------------------------------------------------------------------------------ cloudgeni
def test_webhook_by_url(cloudgeni, platform):
    desired = desired_of(provider="cloudgeni", name=None)
    created = callbacks.ensure_endpoint(cloudgeni, desired, "whsec-123456", "on_create", "present", False)
    assert created["changed"] is True and created["callback_id"].startswith("wh_")
    assert json.loads(platform.requests[-1].content) == {"url": "https://hooks.example.com/cb", "events": ["scan.completed"],
                                                         "active": True, "secret": "whsec-123456"}
    assert created["diff"]["after"]["secret"] == "********"
    assert callbacks.ensure_endpoint(cloudgeni, desired, "whsec-123456", "on_create", "present", False)["changed"] is False
    paused = callbacks.ensure_endpoint(cloudgeni, dict(desired, active=False), None, "on_create", "present", False)
    assert paused["changed"] is True and json.loads(platform.requests[-1].content) == {"active": False}
    assert platform.requests[-1].method == "PATCH"
    listed = callbacks.list_endpoints(cloudgeni, url="https://hooks.example.com/cb")
    assert [hook["active"] for hook in listed] == [False]


def test_public_endpoint_drops_credentials():
    assert callbacks.public_endpoint({"id": "wh_1", "secret": "x", "token": "y", "url": "u"}) == {"id": "wh_1", "url": "u"}


class DropAfterCreate(FakePlatform):
    """Acts on the first create, then drops the connection before answering."""

    def __call__(self, request):
        answer = super(DropAfterCreate, self).__call__(request)
        if request.method == "POST" and not getattr(self, "dropped", False):
            self.dropped = True
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return answer


def test_dropped_create_is_not_resent_and_says_what_happened(make_adapter):
    platform = DropAfterCreate()
    adapter, _recorder = make_adapter("agilesec", platform)
    manager = callbacks.AgileSecCallbacks(adapter)
    with pytest.raises(ScanopsApiError) as caught:
        callbacks.ensure_endpoint(manager, desired_of(), None, "on_create", "present", False)
    assert len([r for r in platform.requests if r.method == "POST"]) == 1
    created_id = list(platform.endpoints)[0]
    assert "the platform did create callback endpoint 'scans-callback' (id %s)" % created_id in caught.value.describe("Ensure")
    rerun = callbacks.ensure_endpoint(manager, desired_of(), None, "on_create", "present", False)
    assert rerun["changed"] is False and rerun["callback_id"] == created_id
