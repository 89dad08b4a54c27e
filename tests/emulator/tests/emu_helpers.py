# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared constants and helpers of the emulator's tests: demo credentials, vendor pages, polling."""

import json
import os
import time

# The vendor pages: $SCANOPS_VENDOR_DOCS (tests/run-tests.sh sets it), else shared/vendor-docs beside the checkout.
VENDOR_DOCS = os.environ.get("SCANOPS_VENDOR_DOCS") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared", "vendor-docs"))

CLOUDGENI = {"X-CLOUDGENI-API-KEY": "cg_live_demo_admin_4f7c2a9e1b3d5f60"}
CLOUDGENI_READONLY = {"X-CLOUDGENI-API-KEY": "cg_live_demo_readonly_2a4c6e8f0b1d3f59"}
CLOUDGENI_READWRITE = {"X-CLOUDGENI-API-KEY": "cg_live_demo_readwrite_8e2b6d4a0c1f3e57"}
CLOUDGENI_OTHER_ORG = {"X-CLOUDGENI-API-KEY": "cg_live_demo_otherorg_9d8c7b6a5f4e3d21"}
KOLEGA = {"Authorization": "Bearer kcp_live_demo_5b1e9c3a7d2f4e6081a9"}
KOLEGA_READONLY = {"Authorization": "Bearer kcp_live_demo_readonly_3c7a9e1b5d2f"}
# The Scan API page requires content-type: application/json on every call, bodiless ones included.
AGILESEC = {"isg-api-token": "isg_demo_token_7c3e9a1f5b2d4e60a8c1", "content-type": "application/json"}
AGILESEC_EXPIRED = {"isg-api-token": "isg_demo_token_expired_1a2b3c4d5e6f", "content-type": "application/json"}
HARBORGUARD_KEY = "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d"
HARBORGUARD = {"X-API-Key": HARBORGUARD_KEY}
HARBORGUARD_SENSOR = {"X-API-Key": "hg_ak_0b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f"}
HARBORGUARD_ADMIN_PAT = {"Authorization": "Bearer hg_pat_a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"}
HARBORGUARD_VIEWER_PAT = {"Authorization": "Bearer hg_pat_1234567890abcdef1234567890abcdef1234567890abcdef"}
PENAXTRA_TOKEN = "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e"
PENAXTRA = {"Authorization": "Bearer " + PENAXTRA_TOKEN}
PENAXTRA_READONLY = {"Authorization": "Bearer pnx_live_demo_readonly_4d2b8f6a1c3e"}
PENAXTRA_EXPIRED = {"Authorization": "Bearer pnx_live_demo_expired_9e7c5a3f1b2d"}
PENAXTRA_IP_RESTRICTED = {"Authorization": "Bearer pnx_live_demo_iprestricted_0f8e6d4c"}
PENAXTRA_AWS = "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"
PENAXTRA_OTHER_TENANT = "e1d2c3b4-a5f6-4789-b0a1-c2d3e4f5a6b7"

CG = "/cloudgeni/api/v1/organizations/org_123"
HG = "/harborguard/api"
PX = "/penaxtra/api/v2"
KO = "/kolega/api/v1"
AS = "/agilesec/v3"


def page_text(name):
    path = os.path.join(VENDOR_DOCS, name)
    if not os.path.exists(path):
        raise AssertionError("vendor page %s is missing: set SCANOPS_VENDOR_DOCS to the vendor-docs directory" % path)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def curl_examples(text):
    """Every curl command of a page as (command, start, end) offsets, joining continuation lines."""
    lines = text.splitlines(keepends=True)
    found = []
    offset = 0
    position = 0
    while position < len(lines):
        line = lines[position]
        if line.lstrip().startswith("curl "):
            command = [line.strip()]
            quote_open = line.count("'") % 2 == 1
            while (command[-1].endswith("\\") or quote_open) and position + 1 < len(lines):
                position += 1
                command.append(lines[position].rstrip("\n"))
                quote_open ^= lines[position].count("'") % 2 == 1
            end = offset + sum(len(lines[index]) for index in range(position - len(command) + 1, position + 1))
            found.append(("\n".join(command), offset, end))
            offset = end
        else:
            offset += len(line)
        position += 1
    return found


def json_after(text, start, stop=None):
    """The first JSON object in ``text[start:stop]``, or None."""
    decoder = json.JSONDecoder()
    window = text[start:stop]
    index = window.find("{")
    while index != -1:
        try:
            value, _end = decoder.raw_decode(window[index:])
            return value
        except ValueError:
            index = window.find("{", index + 1)
    return None


def assert_shape(example, actual, where="body"):
    """Every key of the vendor's example is present with a compatible type (the emulator may add keys)."""
    if isinstance(example, dict):
        assert isinstance(actual, dict), "%s: expected an object, got %r" % (where, actual)
        missing = set(example) - set(actual)
        assert not missing, "%s: missing keys %s" % (where, sorted(missing))
        for key, value in example.items():
            assert_shape(value, actual[key], "%s.%s" % (where, key))
    elif isinstance(example, list):
        assert isinstance(actual, list), "%s: expected a list, got %r" % (where, actual)
        if example and actual:
            assert_shape(example[0], actual[0], where + "[0]")
    elif example is not None and actual is not None:
        numbers = (int, float)
        if isinstance(example, bool) or isinstance(actual, bool):
            assert isinstance(actual, bool) == isinstance(example, bool), "%s: %r vs %r" % (where, example, actual)
        elif isinstance(example, numbers):
            assert isinstance(actual, numbers), "%s: expected a number, got %r" % (where, actual)
        else:
            assert isinstance(actual, type(example)), "%s: expected %s, got %r" % (where, type(example).__name__, actual)


def wait_for(predicate, timeout=10.0, interval=0.05):
    """Poll ``predicate`` until it answers something truthy; answer that value or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.1f s" % timeout)
        time.sleep(interval)
