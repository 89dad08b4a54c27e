# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The adapters' call declarations: complete, true to the code, named in docs/assumptions.md, and
in agreement with the emulator's documented-only table; and the one "assumed call" error."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import inspect
import os
import re
import sys

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError
from ansible_collections.scanops.security.plugins.module_utils.providers import ADAPTERS, PROVIDERS
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import (
    OPERATION_KEYS,
    AssumedCallError,
    Call,
    public_url,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

from scanops_emulator import documented  # noqa: E402  pylint: disable=wrong-import-position


def assumption_rows():
    """``{section heading: set(row titles)}`` of docs/assumptions.md."""
    rows = {}
    section = None
    with open(os.path.join(ROOT, "docs", "assumptions.md")) as handle:
        for line in handle:
            heading = re.match(r"^## (.+?) \(`\w+`\)\s*$", line)
            if heading:
                section = heading.group(1)
                rows[section] = set()
            elif section and line.startswith("| ") and not line.startswith("| what "):
                rows[section].add(line.split("|")[1].strip())
    return rows


def shape(path):
    """A path with its placeholder names dropped, to compare templates."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def sample_arguments(adapter, method):
    """Values for the required parameters of an endpoint method."""
    values = {"status": adapter.vocabulary.finding_statuses[0] if adapter.vocabulary.finding_statuses else "open",
              "scan_type": "secrets_scan", "url": "https://hooks.example.test/x", "name": "n1"}
    arguments = []
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.default is inspect.Parameter.empty and parameter.kind == parameter.POSITIONAL_OR_KEYWORD:
            arguments.append(values.get(parameter.name, "x1"))
    return arguments


# Options an adapter needs for some of its calls (AgileSec's Search API takes its own user).
CALL_OPTIONS = {"agilesec": {"search_username": "reader", "search_password": "reader-pass"}}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_call_is_declared_once_and_sent_by_its_method(make_adapter, provider):
    adapter_class = ADAPTERS[provider]
    names = [call.name for call in adapter_class.CALLS]
    assert len(names) == len(set(names))
    empty = {"data": [], "items": [], "pagination": {"total": 0}, "total": 0, "has_next": False}
    for call in adapter_class.CALLS:
        adapter, recorder = make_adapter(provider, lambda request: httpx.Response(200, json=empty),
                                         api_url="https://vendor.example.test/base", **CALL_OPTIONS.get(provider, {}))
        method = getattr(adapter, call.name, None)
        assert callable(method), "%s declares %s but has no method of that name" % (provider, call.name)
        method(*sample_arguments(adapter, getattr(adapter_class, call.name)))
        pattern = "^/base" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(call.path)) + "$"
        sent = [(request.method, request.url.path) for request in recorder.requests]
        assert sent and all(m == call.method and re.match(pattern, p) for m, p in sent), (call, sent)
    assert set(adapter_class.NO_CALL) <= set(OPERATION_KEYS)
    for operation in OPERATION_KEYS:
        used = any(operation in call.operations for call in adapter_class.CALLS)
        assert used != (operation in adapter_class.NO_CALL), "%s %s: either calls or a NO_CALL reason" % (provider, operation)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_adapters_send_requests_only_through_their_declarations(provider):
    source = inspect.getsource(sys.modules[ADAPTERS[provider].__module__])
    assert "client.request" not in source and "_get(" not in source


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_assumption_names_a_row_of_docs_assumptions(provider):
    adapter = ADAPTERS[provider]
    rows = assumption_rows()
    assert adapter.DISPLAY_NAME in rows, "docs/assumptions.md has no section %s" % adapter.DISPLAY_NAME
    for call in adapter.CALLS:
        if call.has_assumption:
            assert call.assumption in rows[adapter.DISPLAY_NAME], (provider, call.name, call.assumption)
        else:
            assert call.assumption is None, (provider, call.name)


def adapter_calls(kind):
    found = set()
    for provider in PROVIDERS:
        for call in ADAPTERS[provider].CALLS:
            if kind == "assumed" and not call.documented:
                found.add((provider, call.method, shape(call.path), call.assumption))
            elif kind == "fields":
                for field in call.assumed_fields:
                    found.add((provider, call.method, shape(call.path), field, None, call.assumption))
            elif kind == "kept" and (call.assumed_params or call.assumed_answer):
                found.add((provider, call.method, shape(call.path), call.assumption))
    return found


def test_the_emulator_switches_off_exactly_the_calls_declared_assumed():
    emulator = set((vendor, method, shape(path), row) for vendor, method, path, row in documented.ASSUMED_ROUTES)
    assert emulator == adapter_calls("assumed")


def test_the_emulator_rejects_exactly_the_body_fields_declared_assumed():
    rejected = set()
    for vendor, methods, path, field, allowed, row in documented.REJECTED_FIELDS:
        if allowed is None:
            call = [c for c in ADAPTERS[vendor].CALLS if shape(c.path) == shape(path) and c.method in methods]
            assert len(call) == 1, (vendor, path)
            rejected.add((vendor, call[0].method, shape(path), field, None, row))
    assert rejected == adapter_calls("fields")


def test_the_emulator_rejects_exactly_the_values_declared_assumed():
    checked = 0
    for provider in PROVIDERS:
        adapter = ADAPTERS[provider]
        for call in adapter.CALLS:
            for field, values in call.assumed_values.items():
                rows = [row for row in documented.REJECTED_FIELDS if row[0] == provider and call.method in row[1]
                        and shape(row[2]) == shape(call.path) and row[3] == field]
                assert len(rows) == 1, (provider, call.name)
                allowed, row = rows[0][4], rows[0][5]
                assert row == call.assumption
                words = set(adapter.VOCABULARY.vendor_finding_statuses)
                # Every vendor word the adapter can send is either documented (allowed) or declared assumed.
                assert set(allowed).isdisjoint(values) and set(allowed) | set(values) == words
                checked += 1
    assert checked == 1


def test_the_emulator_keeps_exactly_the_assumed_parts_it_can_not_refuse():
    kept = set((vendor, method, shape(path), row) for vendor, method, path, _what, row in documented.KEPT if path != "*")
    # Assumed answer fields are left out of the answers instead (documented.UNDOCUMENTED_ANSWER_FIELDS).
    trimmed = set((vendor, method, shape(path), row) for vendor, methods, path, _field, row in documented.UNDOCUMENTED_ANSWER_FIELDS
                  for method in methods)
    assert adapter_calls("kept") <= kept | trimmed


# -- the assumed-call error ------------------------------------------------------------------------
def answer(status, body):
    return httpx.Response(status, json=body)


def test_a_missing_assumed_list_names_the_call_the_section_and_the_answer(make_adapter):
    adapter, _recorder = make_adapter("agilesec", [answer(404, {"status": "failed", "message": "Not found."})],
                                      api_url="https://user:pw@agilesec.example.test/base?x=1")
    with pytest.raises(AssumedCallError) as caught:
        adapter.list_sensors(name="prod-git")
    err = caught.value
    assert err.message == ("Keyfactor AgileSec does not document GET /v3/sensors; the collection assumes it (docs/assumptions.md, "
                           "Keyfactor AgileSec: List sensors) and https://agilesec.example.test/base answered HTTP 404 (Not found.)")
    assert err.describe("Resolve scan target", "prod-git") == "Resolve scan target prod-git: " + err.message
    assert err.status == 404 and err.to_dict()["assumption"] == "Keyfactor AgileSec: List sensors"
    assert "pw" not in err.message


def test_a_405_of_an_assumed_call_is_the_same_error(make_adapter):
    adapter, _recorder = make_adapter("cloudgeni", [answer(405, {"error": "method_not_allowed", "message": "Method not allowed"})])
    with pytest.raises(AssumedCallError) as caught:
        adapter.update_finding_status("repo_a", "scan_1", "f1", "resolved")
    assert "CloudGeni does not document PATCH /organizations/{orgId}/repositories/{repoId}/scans/{scanId}/findings/{findingId}" in \
        caught.value.message
    assert "(docs/assumptions.md, CloudGeni: Update a finding's status)" in caught.value.message


def test_the_assumed_contracts_own_not_found_stays_a_not_found(make_adapter):
    adapter, _recorder = make_adapter("agilesec", [answer(404, {"status": "failed", "message": "Sensor not found."})])
    with pytest.raises(ScanopsApiError) as caught:
        adapter.get_sensor("0" * 24)
    assert not isinstance(caught.value, AssumedCallError) and caught.value.message == "Sensor not found."


def test_a_404_of_a_documented_call_is_the_vendors_answer(make_adapter):
    adapter, _recorder = make_adapter("agilesec", [answer(404, {"status": "failed", "message": "The specified executionId was not found."})])
    with pytest.raises(ScanopsApiError) as caught:
        adapter.get_execution("f" * 24)
    assert not isinstance(caught.value, AssumedCallError)
    assert caught.value.describe("Get scan") == "Get scan: The specified executionId was not found. (HTTP 404)"


def test_a_rejected_assumed_value_names_the_value(make_adapter):
    rejected = answer(400, {"error": "invalid_status"})
    adapter, recorder = make_adapter("penaxtra", [rejected, rejected])
    with pytest.raises(AssumedCallError) as caught:
        adapter.update_finding_status("7b0c7f2e-0000-4000-8000-000000000001", "resolved")
    assert caught.value.message.startswith('Penaxtra does not document PATCH /api/v2/findings/{id} with status "fixed"; '
                                           "the collection assumes it (docs/assumptions.md, Penaxtra: Finding statuses)")
    assert caught.value.message.endswith("answered HTTP 400 (invalid_status)")
    # A documented value rejected the same way is the vendor's own answer.
    with pytest.raises(ScanopsApiError) as plain:
        adapter.update_finding_status("7b0c7f2e-0000-4000-8000-000000000001", "acknowledged")
    assert not isinstance(plain.value, AssumedCallError)
    assert [request.method for request in recorder.requests] == ["PATCH", "PATCH"]


def test_rejected_assumed_body_fields_are_named(make_adapter):
    body = {"error": {"code": "VALIDATION_ERROR", "message": "Invalid request",
                      "issues": [{"path": "status", "message": "Unrecognized key"}]}}
    adapter, _recorder = make_adapter("harborguard", [answer(400, body)])
    with pytest.raises(AssumedCallError) as caught:
        adapter.set_triage("CVE-2024-1", status="resolved", note="patched")
    assert caught.value.undocumented == "PUT /api/vulnerabilities/{vulnId}/triage with the body fields status, note"
    assert "(docs/assumptions.md, HarborGuard: Triage request body)" in caught.value.message


def test_paged_assumed_calls_are_translated_too(make_adapter):
    adapter, _recorder = make_adapter("cloudgeni", [answer(404, {"error": "not_found", "message": "Not found", "details": {}})])
    with pytest.raises(AssumedCallError):
        adapter.list_webhooks()


def test_a_call_declaration_checks_itself():
    with pytest.raises(ValueError):
        Call("x", "GET", "/x", ("no_such_operation",))
    with pytest.raises(ValueError):
        Call("x", "GET", "/x", documented=False)
    call = Call("x", "GET", "/a/{one}/b/{two}")
    assert call.expand(lambda value: value.replace("/", "%2F"), one="1/2", two="3") == "/a/1%2F2/b/3"
    with pytest.raises(ValueError):
        call.expand(str, one="1")
    assert public_url("https://u:p@h.example:8443/api/v1?k=s#f") == "https://h.example:8443/api/v1"
