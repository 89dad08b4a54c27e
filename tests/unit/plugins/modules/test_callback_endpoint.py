# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""callback_endpoint and callback_endpoint_info end to end against in-memory platforms."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.scanops.security.plugins.module_utils import callbacks
from ansible_collections.scanops.security.plugins.modules import callback_endpoint, callback_endpoint_info
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_agilesec import FakePlatform
from ansible_collections.scanops.security.tests.unit.plugins.modules.utils import run_module, warning_texts

TOKEN = "cbtok-5a4b3c2d1e0f99887766"


@pytest.fixture
def platform():
    return FakePlatform(unreachable=("https://down.example.com/cb",))


@pytest.fixture
def run(monkeypatch, capsys, platform):
    return lambda args, module=callback_endpoint: run_module(module, monkeypatch, capsys, platform, args,
                                                             defaults=dict(provider="agilesec"), hidden=(TOKEN,))


def test_lifecycle(run, platform):
    args = dict(name="cb", url="https://hooks.example.com/cb", auth_type="bearer", token=TOKEN)
    created = run(dict(args, _ansible_diff=True))
    assert created["changed"] is True and callbacks.is_object_id(created["callback_id"])
    assert created["diff"]["after"]["token"] == "********"
    assert platform.stored_tokens[created["callback_id"]] == TOKEN
    assert run(args)["changed"] is False
    assert run(dict(args, update_token="always"))["changed"] is True
    info = run({"name": "cb"}, module=callback_endpoint_info)
    assert [e["callbackId"] for e in info["endpoints"]] == [created["callback_id"]]
    assert run({"name": "cb", "state": "absent"})["changed"] is True
    assert run({"name": "cb", "state": "absent"})["changed"] is False


def test_check_mode_and_plain_http_warning(run, platform):
    result = run(dict(name="cb", url="http://hooks.example.com/cb", _ansible_check_mode=True))
    assert result["changed"] is True and result["callback_id"] is None
    assert any("plain http" in warning for warning in warning_texts(result))
    assert platform.writes() == []


def test_unreachable_url(run, platform):
    result = run(dict(name="cb", url="https://down.example.com/cb"))
    assert result["failed"] is True
    assert result["msg"].startswith("Ensure callback endpoint 'cb': Callback URL is not reachable: https://down.example.com/cb (HTTP 400)")
    # Nothing was created: the failed result says so.
    assert result["callback_id"] is None and result["endpoint"] is None and result["error"]["method"] == "POST"
    created = run(dict(name="cb", url="https://hooks.example.com/cb"))
    # An update that fails leaves the endpoint the run found, which the failed result names.
    moved = run(dict(name="cb", url="https://down.example.com/cb"))
    assert moved["failed"] is True and moved["error"]["method"] == "PUT"
    assert moved["callback_id"] == created["callback_id"] and moved["endpoint"]["url"] == "https://hooks.example.com/cb"


def test_bad_input_fails_with_the_documented_keys(run, platform):
    result = run(dict(name="cb", url="https://hooks.example.com/cb", auth_type="api_token", token=TOKEN))
    assert (result["failed"], result["callback_id"], result["endpoint"]) == (True, None, None)


def test_bad_input_before_any_request(run, platform):
    result = run(dict(name="cb", url="https://hooks.example.com/cb", auth_type="api_token", token=TOKEN))
    assert result["failed"] is True and result["msg"] == "header_name: required with auth_type=api_token"
    assert platform.requests == []


def test_cloudgeni_webhook(run, platform):
    args = dict(provider="cloudgeni", organization="org_1", url="https://hooks.example.com/cg", token=TOKEN)
    created = run(args)
    assert created["changed"] is True and created["callback_id"].startswith("wh_")
    assert created["endpoint"]["events"] == ["scan.completed"]
    assert run(args)["changed"] is False
    info = run(dict(provider="cloudgeni", organization="org_1"), module=callback_endpoint_info)
    assert [hook["url"] for hook in info["endpoints"]] == ["https://hooks.example.com/cg"]
    refused = run(dict(provider="cloudgeni", organization="org_1", name="x"), module=callback_endpoint_info)
    assert refused["failed"] is True and refused["msg"].startswith("name:")
