# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile but realistic input through main(): bad values fail before any request, naming the option,
URL passwords never reach the output, and failed runs count the requests they sent."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils import common
from ansible_collections.scanops.security.plugins.modules import (
    callback_endpoint,
    finding_fix,
    finding_info,
    scan_info,
    scan_run,
    scan_sensor,
)
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_agilesec import FakePlatform
from ansible_collections.scanops.security.tests.unit.plugins.modules.utils import run_module

URL_PASSWORD = "hunter2-0a9b8c7d"


class Counting(object):
    """A vendor that answers every request with one canned response and counts what it got."""

    def __init__(self, status=200, body=None):
        self.requests = []
        self.status = status
        self.body = body if body is not None else {"data": [], "meta": {"page": 1, "pageSize": 50, "total": 0, "totalPages": 0,
                                                                        "hasNext": False, "hasPrev": False}}

    def __call__(self, request):
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)


HG = dict(provider="harborguard", api_url="https://hg.example.test", image="ghcr.io/acme/api:1.4.6")


@pytest.mark.parametrize("module,args,option", [
    (scan_info, dict(HG, timeout=-1), "timeout"),
    (scan_info, dict(HG, timeout=float("nan")), "timeout"),
    (scan_info, dict(HG, timeout=1e300), "timeout"),
    (scan_info, dict(HG, timeout=0), "timeout"),
    (scan_info, dict(HG, rate_limit=float("inf")), "rate_limit"),
    (scan_info, dict(HG, rate_limit=float("nan")), "rate_limit"),
    (scan_info, dict(HG, rate_limit=-1), "rate_limit"),
    (scan_info, dict(HG, retries=-1), "retries"),
    (scan_info, dict(HG, retry_timeout=-5), "retry_timeout"),
    (scan_run, dict(HG, wait_sleep=float("nan"), force=True), "wait_sleep"),
    (scan_info, dict(HG, api_url=""), "api_url"),
    (scan_info, dict(HG, api_url="https://hg.example.test?x=1"), "api_url"),
    (scan_info, dict(HG, api_url="https://hg.example.test#frag"), "api_url"),
    (scan_info, dict(HG, api_url="https://hg.example.test "), "api_url"),
    (scan_info, dict(HG, api_url="hg.example.test"), "api_url"),
    (scan_info, dict(HG, api_url="ftp://hg.example.test"), "api_url"),
    (scan_info, dict(HG, api_url="https://svc:%s@hg.example.test" % URL_PASSWORD), "api_url"),
    (scan_info, dict(HG, proxy="http://svc:%s@proxy.example.test:3128" % URL_PASSWORD), "proxy"),
    (scan_info, dict(HG, proxy_username="svc", proxy_password=URL_PASSWORD), "proxy_username"),
    (scan_info, dict(HG, api_key="k\u00e9y"), "api_key"),
    (scan_info, dict(provider="harborguard", api_url="https://hg.example.test", scan_id=".."), "scan_id"),
    (scan_info, dict(provider="harborguard", api_url="https://hg.example.test", scan_id="a/b"), "scan_id"),
    (scan_info, dict(HG, status="bogus"), "status"),
    (scan_run, dict(HG, image="a" * 20000), "image"),
    (scan_run, dict(HG, image="ghcr.io/acme/api:1.4.6\u202e"), "image"),
    (scan_run, dict(provider="harborguard", api_url="https://hg.example.test", targets=[dict(image="nginx:1"), dict(image="..:")]),
     "targets[1].image"),
    (finding_info, dict(provider="penaxtra", api_url="https://px.example.test", ids=[".."]), "ids[0]"),
    (finding_info, dict(provider="cloudgeni", organization="org_1", api_url="https://cg.example.test",
                        repository="..", scan_id="scan_1"), "repository"),
    (finding_info, dict(provider="cloudgeni", organization="../org", api_url="https://cg.example.test",
                        repository="repo_1", scan_id="scan_1"), "organization"),
])
def test_bad_input_fails_before_any_request_naming_the_option(monkeypatch, capsys, module, args, option):
    vendor = Counting()
    result = run_module(module, monkeypatch, capsys, vendor, args, hidden=(URL_PASSWORD,))
    assert result.get("failed") is True, result
    assert option in result["msg"]
    assert "exception" not in result
    assert vendor.requests == []


def test_a_type_error_elsewhere_still_hides_a_url_password(monkeypatch, capsys):
    """AnsibleModule fails on the bad timeout before module code runs; the invocation it prints hides the password."""
    vendor = Counting()
    result = run_module(scan_info, monkeypatch, capsys, vendor, dict(HG, api_url="https://svc:%s@hg.example.test" % URL_PASSWORD,
                                                                     timeout="soon"), hidden=(URL_PASSWORD,))
    assert result["failed"] is True and "timeout" in result["msg"]
    assert vendor.requests == []


def test_a_failed_scan_run_counts_the_request_it_sent(monkeypatch, capsys):
    vendor = Counting(401, {"error": {"code": "UNAUTHORIZED", "message": "Authentication required", "issues": []}})
    result = run_module(scan_run, monkeypatch, capsys, vendor, dict(HG))
    assert result["failed"] is True and "HTTP 401" in result["msg"]
    assert len(vendor.requests) == 1
    assert result["api_calls"]["total"] == 1 and result["api_calls"]["GET"] == 1


def test_callback_endpoint_names_the_provider_it_was_given(monkeypatch, capsys):
    vendor = Counting()
    result = run_module(callback_endpoint, monkeypatch, capsys, vendor,
                        dict(provider="harborguard", api_url="https://hg.example.test", name="cb", url="https://hooks.example.com/cb"))
    assert result["failed"] is True
    assert "harborguard" in result["msg"] and "provider=cloudgeni" not in result["msg"]
    assert vendor.requests == []


def test_sensor_names_longer_than_the_platform_allows_are_refused(monkeypatch, capsys):
    platform = FakePlatform()
    config = {"repositoryUrl": "https://git.example.com/a/b.git", "token": "t0ken-value-1"}
    result = run_module(scan_sensor, monkeypatch, capsys, platform,
                        dict(provider="agilesec", api_url="https://agilesec.example.test", name="s" * 20000, sensor_type="GIT Sensor",
                             config=config), hidden=("t0ken-value-1",))
    assert result["failed"] is True and result["msg"].startswith("name: is 20000 characters long; at most 200")
    assert platform.requests == []


def test_a_callback_url_with_credentials_is_masked_in_results_and_diff(monkeypatch, capsys):
    platform = FakePlatform()
    url = "https://receiver:%s@hooks.example.com/cb" % URL_PASSWORD
    result = run_module(callback_endpoint, monkeypatch, capsys, platform,
                        dict(provider="agilesec", api_url="https://agilesec.example.test", name="cb", url=url, _ansible_diff=True),
                        hidden=(URL_PASSWORD,))
    assert result["changed"] is True
    assert result["diff"]["after"]["url"] == "https://receiver:********@hooks.example.com/cb"
    assert result["endpoint"]["url"] == "https://receiver:********@hooks.example.com/cb"
    # The platform itself got the real URL.
    assert any(URL_PASSWORD in request.content.decode() for request in platform.requests if request.method == "POST")


def test_a_dictionary_option_given_a_string_names_the_option_and_hides_the_key(monkeypatch, capsys):
    """AnsibleModule alone fails here with a message naming no option, printing the API key in the invocation."""
    vendor = Counting()
    result = run_module(finding_fix, monkeypatch, capsys, vendor,
                        dict(provider="kolega", api_url="https://kolega.example.test", repository="payments-service",
                             source_repo="acme/payments-api", state="pull_request", pull_request="not a dict"),
                        inject_invocation=True)
    assert result["failed"] is True and result["msg"].startswith("pull_request: must be a dictionary")
    assert vendor.requests == []


def test_a_key_from_the_environment_is_hidden_when_validation_fails_early(monkeypatch, capsys):
    monkeypatch.setenv("SCANOPS_API_KEY", "env-key-7f6e5d4c3b2a")
    vendor = Counting()
    args = dict(provider="kolega", api_url="https://kolega.example.test", repository="payments-service",
                source_repo="acme/payments-api", state="pull_request", pull_request="not a dict")
    result = run_module(finding_fix, monkeypatch, capsys, vendor, args, defaults={"api_key": None},
                        hidden=("env-key-7f6e5d4c3b2a",), inject_invocation=True)
    assert result["failed"] is True and "pull_request" in result["msg"]


@pytest.mark.parametrize("value,strict,secrets", [
    ("https://svc:p4ss-word@h.example.test/x", False, ["p4ss-word"]),
    ("https://ghp_0123456789abcdefABCD@github.com/acme/api.git", False, ["ghp_0123456789abcdefABCD"]),
    ("ssh://git@github.com/acme/api.git", False, []),
    ("https://scanner@git.example.com/a.git", False, []),
    ("https://scanner@git.example.com/a.git", True, ["scanner"]),
    ({"repositoryUrl": "https://u:s3cret-1@git.example.com/a.git", "branches": ["https://x"]}, False, ["s3cret-1"]),
    ("not a url user:pw@host", False, []),
])
def test_url_secrets_are_found_without_masking_plain_user_names(value, strict, secrets):
    assert common.url_passwords(value, strict=strict) == secrets


def test_a_plain_ssh_user_name_is_not_masked_everywhere(monkeypatch, capsys):
    platform = FakePlatform()
    config = {"repositoryUrl": "https://git.example.com/acme/api.git", "token": "t0ken-value-2"}
    result = run_module(scan_sensor, monkeypatch, capsys, platform,
                        dict(provider="agilesec", api_url="https://agilesec.example.test", name="ssh-sensor", sensor_type="GIT Sensor",
                             config=config, labels={"source": "ssh://git@github.com/acme/api.git"}), hidden=("t0ken-value-2",))
    assert result["changed"] is True
    # Had "git" been taken for a secret, every "git" in the output would read ********.
    assert result["sensor"]["sensorConfig"]["repositoryUrl"] == "https://git.example.com/acme/api.git"


@pytest.mark.parametrize("option,value", [("scan_id", ".."), ("timeout", float("nan")), ("api_url", "https://u:pw@h.example.test"),
                                          ("max_risk_score", 101.0)])
def test_plugin_options_get_the_same_checks_as_module_options(option, value):
    """Lookups and the inventory read their options through validate_params: the same rules, the same messages."""
    spec = common.scanops_argument_spec()
    spec.update(scan_id=dict(type="str"), max_risk_score=dict(type="float"))
    with pytest.raises(common.ScanopsError) as info:
        common.validate_params({"provider": "harborguard", "api_key": "k", option: value}, spec)
    assert info.value.message.startswith(option + ": ")
    assert "pw@" not in info.value.message
