# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the documented-only matrix: where the platforms are, running a module in-process, the rows."""

import os
import sys

import httpx

from ansible_collections.scanops.security.tests.utils.module_runner import run_main

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(COLLECTION_ROOT, "tests", "emulator"))

from scanops_emulator import CLIENT_BASE_PATHS, DEMO_API_KEYS  # noqa: E402  pylint: disable=wrong-import-position

# The emulator's full-rights demo credentials (docs/emulator.md).
API_KEYS = DEMO_API_KEYS
# One row per case: (module, provider, flow, documented or assumed, result); printed by conftest.py.
ROWS = []


class Platform(object):
    """Where each emulated platform lives, and documented calls to prepare the flows."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.http = httpx.Client(timeout=10.0)

    def api_url(self, provider):
        return self.base_url + CLIENT_BASE_PATHS[provider]

    def defaults(self, provider):
        values = dict(provider=provider, api_url=self.api_url(provider), api_key=API_KEYS[provider], rate_limit=0)
        if provider == "cloudgeni":
            values["organization"] = "org_123"
        return values

    def headers(self, provider):
        key = API_KEYS[provider]
        return {"cloudgeni": {"X-CLOUDGENI-API-KEY": key}, "agilesec": {"isg-api-token": key, "content-type": "application/json"},
                "harborguard": {"X-API-Key": key}}.get(provider, {"Authorization": "Bearer " + key})

    def get(self, provider, path, **params):
        answer = self.http.get(self.api_url(provider) + path, params=params, headers=self.headers(provider))
        answer.raise_for_status()
        return answer.json()

    def post(self, provider, path, body):
        answer = self.http.post(self.api_url(provider) + path, json=body, headers=self.headers(provider))
        answer.raise_for_status()
        return answer.json()


def run_module(module, capsys, args):
    """Run ``module.main()`` in this process with ``args``; the result it printed."""
    capsys.readouterr()
    run = run_main(module, args)
    assert run.result is not None, "no result; main() printed: %s" % run.output
    return run.result
