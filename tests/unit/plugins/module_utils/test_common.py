# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared options, credential resolution order, adapter construction and error rendering."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import types

import httpx
import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.scanops.security.plugins.doc_fragments import findings as findings_fragment
from ansible_collections.scanops.security.plugins.doc_fragments import gate as gate_fragment
from ansible_collections.scanops.security.plugins.doc_fragments import scans as scans_fragment
from ansible_collections.scanops.security.plugins.doc_fragments.scanops import ModuleDocFragment
from ansible_collections.scanops.security.plugins.module_utils import common, findings, gate, scans
from ansible_collections.scanops.security.plugins.module_utils.errors import (
    ScanopsApiError,
    ScanopsError,
    ScanopsTransportError,
    VocabularyError,
)
from ansible_collections.scanops.security.tests.utils.module_runner import run_main

ENV_NAMES = ("SCANOPS_PROVIDER", "SCANOPS_API_URL", "SCANOPS_API_KEY", "CLOUDGENI_API_KEY", "CLOUDGENI_ORG_ID",
             "CLOUDGENI_API_URL", "KOLEGA_TOKEN", "KOLEGA_API_URL", "AGILESEC_API_TOKEN", "AGILESEC_API_URL",
             "HARBORGUARD_API_KEY", "HARBORGUARD_API_URL", "PENAXTRA_TOKEN", "PENAXTRA_API_URL")


class FailJson(Exception):
    def __init__(self, result):
        super(FailJson, self).__init__(result.get("msg"))
        self.result = result


class FakeModule(object):
    """The parts of AnsibleModule that common.py uses."""

    def __init__(self, params):
        self.params = params
        self.no_log_values = set()

    def fail_json(self, **result):
        raise FailJson(result)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def validated(args):
    result = ArgumentSpecValidator(common.scanops_argument_spec()).validate(args)
    assert result.error_messages == []
    return result.validated_parameters


def test_option_beats_generic_env_beats_provider_env(monkeypatch):
    monkeypatch.setenv("KOLEGA_TOKEN", "kcp_live_from_provider_env")
    monkeypatch.setenv("KOLEGA_API_URL", "https://kolega.provider-env.test")
    params = validated({"provider": "kolega"})
    _cls, url, key, _org = common.resolve_settings(params)
    assert (url, key) == ("https://kolega.provider-env.test", "kcp_live_from_provider_env")

    monkeypatch.setenv("SCANOPS_API_KEY", "kcp_live_from_generic_env")
    monkeypatch.setenv("SCANOPS_API_URL", "https://kolega.generic-env.test")
    params = validated({"provider": "kolega"})
    _cls, url, key, _org = common.resolve_settings(params)
    assert (url, key) == ("https://kolega.generic-env.test", "kcp_live_from_generic_env")

    params = validated({"provider": "kolega", "api_key": "kcp_live_from_option", "api_url": "https://kolega.option.test"})
    _cls, url, key, _org = common.resolve_settings(params)
    assert (url, key) == ("https://kolega.option.test", "kcp_live_from_option")


@pytest.mark.parametrize("provider,key_env,url_env,default_url", [
    ("cloudgeni", "CLOUDGENI_API_KEY", "CLOUDGENI_API_URL", "https://api.cloudgeni.ai/api/v1"),
    ("kolega", "KOLEGA_TOKEN", "KOLEGA_API_URL", "https://api.kolega.dev"),
    ("agilesec", "AGILESEC_API_TOKEN", "AGILESEC_API_URL", "https://api.agilesec.net"),
    ("harborguard", "HARBORGUARD_API_KEY", "HARBORGUARD_API_URL", "https://harborguard.co"),
    ("penaxtra", "PENAXTRA_TOKEN", "PENAXTRA_API_URL", "https://penaxtra.com"),
])
def test_provider_env_vars(provider, key_env, url_env, default_url):
    environ = {key_env: "key-for-%s" % provider, "CLOUDGENI_ORG_ID": "org_env"}
    params = validated({"provider": provider})
    cls, url, key, org = common.resolve_settings(params, environ)
    assert cls.NAME == provider
    assert key == "key-for-%s" % provider
    assert url == default_url
    if provider == "cloudgeni":
        assert org == "org_env"
    environ[url_env] = "https://mirror.example.test"
    assert common.resolve_settings(params, environ)[1] == "https://mirror.example.test"


def test_provider_comes_from_env(monkeypatch):
    monkeypatch.setenv("SCANOPS_PROVIDER", "penaxtra")
    assert validated({})["provider"] == "penaxtra"


def test_missing_key_names_the_option_and_variables():
    module = FakeModule(validated({"provider": "harborguard"}))
    with pytest.raises(FailJson) as info:
        common.build_adapter(module)
    message = info.value.result["msg"]
    assert "api_key" in message and "SCANOPS_API_KEY" in message and "HARBORGUARD_API_KEY" in message


def test_cloudgeni_needs_an_organization():
    module = FakeModule(validated({"provider": "cloudgeni", "api_key": "cg_live_x"}))
    with pytest.raises(FailJson) as info:
        common.build_adapter(module)
    assert "organization" in info.value.result["msg"] and "CLOUDGENI_ORG_ID" in info.value.result["msg"]


def test_build_adapter_registers_env_keys_as_no_log(monkeypatch):
    monkeypatch.setenv("PENAXTRA_TOKEN", "pnx_secret_token_value")
    module = FakeModule(validated({"provider": "penaxtra", "timeout": 5, "retries": 1, "rate_limit": 0}))
    seen = []

    def answer(request):
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    with common.build_adapter(module, transport=httpx.MockTransport(answer)) as adapter:
        assert adapter.list_runs() == []
        assert adapter.client.retries == 1
    assert "pnx_secret_token_value" in module.no_log_values
    assert seen[0].headers["Authorization"] == "Bearer pnx_secret_token_value"


def test_fail_with_error_renders_vendor_error():
    module = FakeModule({})
    err = ScanopsApiError("Scan not found", provider="cloudgeni", status=404, code="not_found", method="GET",
                          path="/organizations/o/repositories/r/scans/s")
    with pytest.raises(FailJson) as info:
        common.fail_with_error(module, err, "Get scan", "s", api_calls={"total": 1})
    result = info.value.result
    assert result["msg"] == "Get scan s: Scan not found (HTTP 404 not_found)"
    assert result["changed"] is False
    assert result["api_calls"] == {"total": 1}
    assert result["error"]["status"] == 404 and result["error"]["code"] == "not_found"


def test_fail_with_error_without_vendor_code_or_status():
    module = FakeModule({})
    with pytest.raises(FailJson) as info:
        common.fail_with_error(module, ScanopsApiError("Sensor not found.", status=404), "Delete sensor", "s1")
    assert info.value.result["msg"] == "Delete sensor s1: Sensor not found. (HTTP 404)"
    transport = ScanopsTransportError("timed out (read)", code="ReadTimeout", may_have_acted=True)
    with pytest.raises(FailJson) as info:
        common.fail_with_error(module, transport, "Trigger scan", "r1", changed=True)
    assert info.value.result["msg"] == "Trigger scan r1: timed out (read) (ReadTimeout)"
    assert info.value.result["changed"] is True
    assert info.value.result["error"]["may_have_acted"] is True
    with pytest.raises(FailJson) as info:
        common.fail_with_error(module, VocabularyError("finding status 'x' is not supported"), "Set status", "f1")
    assert info.value.result["msg"] == "Set status f1: finding status 'x' is not supported"


class InputProblem(ScanopsError):
    """Stands for a module's own input error class (callbacks.InputError, say)."""


def penaxtra_module():
    return FakeModule(validated({"provider": "penaxtra", "api_key": "pnx_key", "retries": 0, "rate_limit": 0}))


def test_module_adapter_yields_the_adapter_and_closes_it(monkeypatch):
    closed = []
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": []}))
    with common.module_adapter(penaxtra_module(), "List runs", transport=transport) as adapter:
        assert adapter.list_runs() == []
        monkeypatch.setattr(adapter, "close", lambda: closed.append(True))
    assert closed == [True]
    adapter.client.close()


def test_module_adapter_renders_a_vendor_error_with_the_calls_so_far():
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json={"message": "Run not found"}))
    with pytest.raises(FailJson) as info:
        with common.module_adapter(penaxtra_module(), "Get run", "r1", transport=transport) as adapter:
            adapter.list_runs()
    result = info.value.result
    assert result["msg"] == "Get run r1: Run not found (HTTP 404)"
    assert result["changed"] is False and result["error"]["status"] == 404
    assert result["api_calls"]["total"] == 1 and result["api_calls"]["GET"] == 1


def test_module_adapter_input_errors_fail_with_their_message_alone():
    module = penaxtra_module()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": []}))
    with pytest.raises(FailJson) as info:
        with common.module_adapter(module, "Ensure run", "r1", input_errors=(InputProblem,), transport=transport):
            raise InputProblem("name: 2 runs match name 'r1'")
    result = info.value.result
    assert result["msg"] == "name: 2 runs match name 'r1'" and result["changed"] is False
    assert result["api_calls"]["total"] == 0 and "error" not in result
    with pytest.raises(FailJson) as info:
        with common.module_adapter(module, "Ensure run", "r1", transport=transport):
            raise InputProblem("name: 2 runs match name 'r1'")
    assert info.value.result["msg"] == "Ensure run r1: name: 2 runs match name 'r1'"


def test_error_is_returned_only_for_a_failed_request():
    """Bad input and other failures carry no ``error``; a failed request carries the full dict every module documents."""
    module = FakeModule({})
    with pytest.raises(FailJson) as info:
        common.fail_with_error(module, ScanopsError("max_age: expected seconds"), "Invalid options")
    assert "error" not in info.value.result
    with pytest.raises(FailJson) as info:
        common.fail_with_error(module, ScanopsApiError("Unauthorized", provider="kolega", status=401, method="GET", path="/x"), "List")
    assert sorted(info.value.result["error"]) == ["code", "details", "may_have_acted", "message", "method", "path", "provider",
                                                  "retry_after", "status"]


def test_module_adapter_returns_what_the_block_did_so_far_with_a_failure():
    answers = iter([httpx.Response(200, json={"data": []}), httpx.Response(503, json={"error": "down"})])
    transport = httpx.MockTransport(lambda request: next(answers))
    progress = {"thing_id": None}
    with pytest.raises(FailJson) as info:
        with common.module_adapter(penaxtra_module(), "Ensure thing", "t1", partial=progress, transport=transport) as adapter:
            adapter.list_runs()
            progress["thing_id"] = "t-1"
            adapter.list_runs()
    result = info.value.result
    assert result["thing_id"] == "t-1" and result["error"]["status"] == 503 and result["api_calls"]["total"] == 2
    with pytest.raises(FailJson) as info:
        with common.module_adapter(penaxtra_module(), "Ensure thing", "t1", input_errors=(InputProblem,), partial=progress,
                                   transport=transport):
            raise InputProblem("name: ambiguous")
    assert info.value.result["thing_id"] == "t-1" and info.value.result["changed"] is False


def test_failed_result_is_what_the_run_reached_over_fresh_copies_of_the_defaults():
    defaults = {"scan": None, "reports": [], "reused": False}
    result = common.failed_result(defaults, scan={"id": "s1"}, changed=False)
    assert result == {"scan": {"id": "s1"}, "reports": [], "reused": False, "changed": False,
                      "api_calls": {"total": 0, "retries": 0}}
    result["reports"].append("gate.sarif")
    assert defaults == {"scan": None, "reports": [], "reused": False}
    assert common.failed_result(defaults)["reports"] == []
    sent = {"total": 3, "retries": 1, "GET": 3}
    assert common.failed_result(defaults, api_calls=sent)["api_calls"] == sent
    assert common.failed_result(None) == {"api_calls": {"total": 0, "retries": 0}}
    assert common.failed_result(None)["api_calls"] is not common.NO_API_CALLS


def tiny_module(failure_defaults):
    """A module whose options only ScanopsModule checks and whose own code always fails, having found a thing."""
    def main():
        module = common.ScanopsModule(argument_spec=dict(color=dict(type="str", choices=["red"], required=True)),
                                      failure_defaults=failure_defaults)
        module.fail_json(msg="the module's own failure", thing={"id": "t1"})
    return types.SimpleNamespace(main=main)


def test_scanops_module_completes_every_failed_result_also_when_ansible_refuses_the_options():
    defaults = {"thing": None, "things": []}
    for args in ({"color": "blue"}, {}):
        refused = run_main(tiny_module(defaults), args).result
        assert refused["failed"] is True and "color" in refused["msg"], refused
        assert (refused["thing"], refused["things"], refused["api_calls"]) == (None, [], {"total": 0, "retries": 0})
    own = run_main(tiny_module(defaults), {"color": "red"}).result
    assert own["msg"] == "the module's own failure"
    assert (own["thing"], own["things"], own["api_calls"]) == ({"id": "t1"}, [], {"total": 0, "retries": 0})
    assert defaults == {"thing": None, "things": []}
    bare = run_main(tiny_module(None), {"color": "blue"}).result
    assert bare["api_calls"] == {"total": 0, "retries": 0} and "thing" not in bare


def assert_documented_as_specified(fragment_yaml, spec):
    """Every option of ``spec`` documented in ``fragment_yaml`` with the same type, choices, default..., and no other."""
    documented = yaml.safe_load(fragment_yaml)["options"]
    assert set(documented) == set(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc["description"] and all(isinstance(line, str) for line in doc["description"]), name
        assert doc.get("type") == option.get("type"), name
        assert doc.get("required", False) == option.get("required", False), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc.get("elements") == option.get("elements"), name
        assert doc.get("aliases") == option.get("aliases"), name
        if "default" in option:
            assert doc.get("default") == option["default"], name
        else:
            assert "default" not in doc, name


def test_doc_fragment_matches_the_argument_spec():
    spec = common.scanops_argument_spec()
    assert_documented_as_specified(ModuleDocFragment.DOCUMENTATION, spec)
    assert spec["api_key"]["no_log"] is True


@pytest.mark.parametrize("fragment,spec", [
    (findings_fragment.ModuleDocFragment.DOCUMENTATION, findings.finding_selection_spec),
    (scans_fragment.ModuleDocFragment.DOCUMENTATION, scans.scan_target_spec),
    (gate_fragment.ModuleDocFragment.DOCUMENTATION, gate.policy_spec),
], ids=["findings", "scans", "gate"])
def test_area_doc_fragments_match_their_shared_specs(fragment, spec):
    assert_documented_as_specified(fragment, spec())


# -- one options layer for plugins -----------------------------------------------------------------------
@pytest.mark.parametrize("given", [
    {"provider": "kolega"},
    {"provider": "harborguard", "timeout": "12", "validate_certs": "no", "auth_scheme": "x_api_key"},
    {"provider": "cloudgeni", "organization": "org_9", "retries": 0, "rate_limit": "0.5"},
])
def test_plugin_options_come_out_as_a_modules_would(monkeypatch, given):
    monkeypatch.setenv("SCANOPS_API_URL", "https://generic.example.test")
    assert common.plugin_params(given.get) == validated(given)
    assert common.plugin_params({}.get, given=given) == validated(given)


def test_plugin_options_read_the_same_environment_variables(monkeypatch):
    monkeypatch.setenv("SCANOPS_PROVIDER", "penaxtra")
    monkeypatch.setenv("PENAXTRA_TOKEN", "pnx_from_env")
    params = common.plugin_params({}.get)
    assert params["provider"] == "penaxtra"
    assert common.resolve_settings(params)[2] == "pnx_from_env"


def test_given_values_override_the_plugins_own():
    plugin_options = {"provider": "harborguard", "timeout": 5.0, "image": "a:1"}.get
    params = common.plugin_params(plugin_options, extra_spec={"image": {"type": "str"}}, given={"image": "b:2", "timeout": None})
    assert (params["image"], params["timeout"]) == ("b:2", 5.0)


def test_plugin_option_errors_name_the_options_and_mask_credentials():
    with pytest.raises(ScanopsError) as caught:
        common.plugin_params({}.get, given={"api_key": "sekrit-value-123", "timeout": "soon", "colour": "blue"})
    message = caught.value.message
    assert "missing required arguments: provider" in message
    # ansible-core 2.16 prints the type as <class 'str'>, later releases as str.
    assert "argument 'timeout' is of type" in message
    assert "unsupported option colour" in message
    assert "sekrit-value-123" not in message


def test_validation_messages_never_show_a_no_log_value():
    with pytest.raises(ScanopsError) as caught:
        common.validate_params({"token": "abc-secret"}, {"token": {"type": "str", "no_log": True, "choices": ["x"]}})
    assert caught.value.message == "value of token must be one of: x, got: ********"
