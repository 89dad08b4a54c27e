# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests: one emulator process per session, reset before each test."""

import json
import os
import re
import sys

import httpx
import jsonschema
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scanops_emulator.admin_client import AdminClient  # noqa: E402  pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def emulator_url():
    """Base URL (http://127.0.0.1:<port>) of an emulator running the ``test`` profile."""
    with running_emulator(profile="test", port=0) as base_url:
        yield base_url


@pytest.fixture()
def admin(emulator_url):
    """Admin client; the emulator is reset to its default seed before every test."""
    with AdminClient(emulator_url) as client:
        client.reset()
        yield client


# The vendor pages: $SCANOPS_VENDOR_DOCS (tests/run-tests.sh sets it), else shared/vendor-docs beside the checkout.
VENDOR_DOCS = os.environ.get("SCANOPS_VENDOR_DOCS") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "vendor-docs"))
KOLEGA_ERROR_SCHEMA = {
    "type": "object", "required": ["detail"], "additionalProperties": False,
    "properties": {"detail": {"type": "object", "required": ["detail", "error_code"], "additionalProperties": False,
                              "properties": {"detail": {"type": "string"}, "error_code": {"type": "string"},
                                             "quota_type": {"type": "string"}}}},
}


class KolegaContract:
    """Checks every Kolega answer a test receives against kolega-openapi.json.

    Documented statuses (200/201/202/422) validate against the operation's schema; other statuses
    against the documented error shape ``{"detail": {"detail", "error_code", "quota_type"?}}``.
    """

    def __init__(self, path):
        with open(path, encoding="utf-8") as handle:
            self.document = json.load(handle)
        self.routes = []
        for template, operations in self.document["paths"].items():
            pattern = re.compile("^/kolega" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
            self.routes.append((pattern, operations))
        self.checked = 0

    def __call__(self, response):
        path = response.request.url.path
        if not path.startswith("/kolega/api/v1/"):
            return
        response.read()
        method = response.request.method.lower()
        operations = next((ops for pattern, ops in self.routes if pattern.match(path) and method in ops), None)
        if operations is None:
            schema = {"type": "object", "required": ["detail"]}
        else:
            documented = operations[method]["responses"].get(str(response.status_code))
            if documented is not None:
                schema = dict(documented["content"]["application/json"]["schema"], components=self.document["components"])
            else:
                schema = KOLEGA_ERROR_SCHEMA
        jsonschema.validate(response.json(), schema, cls=jsonschema.Draft202012Validator)
        self.checked += 1


@pytest.fixture(scope="session")
def kolega_contract():
    """The Kolega validator shared by every ``http`` client of the session."""
    return KolegaContract(os.path.join(VENDOR_DOCS, "kolega-openapi.json"))


@pytest.fixture()
def http(emulator_url, admin, kolega_contract):  # pylint: disable=redefined-outer-name,unused-argument
    """An httpx client on the emulator root (after the reset done by ``admin``).

    Every Kolega body it receives is validated against kolega-openapi.json.
    """
    with httpx.Client(base_url=emulator_url, timeout=10.0, event_hooks={"response": [kolega_contract]}) as client:
        yield client
