# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in-process against an in-memory vendor: module arguments in, result dict out."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import json

import httpx
import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.scanops.security.plugins.module_utils import common, findings, fixes, scans
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import SECRET

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from unittest import mock

    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
            yield

# From ansible-core 2.21 a result carries ``invocation`` only when the controller asks for it
# (INJECT_INVOCATION, off by default); older cores always add it.
INVOCATION_IS_OPTIONAL = "inject_invocation" in PASS_VARS

# Saved before any test patches it: every routed adapter is built by the real one.
BUILD_ADAPTER = common.build_adapter
# Where module code looks build_adapter up: common (module_adapter), findings, fixes and scans (scan_adapter).
ADAPTER_USERS = (common, findings, fixes, scans)


def route_adapters(monkeypatch, vendor):
    """Adapters built by any module talk to ``vendor`` (an httpx request handler) and never sleep."""
    def build(module, **options):
        options.update(transport=httpx.MockTransport(vendor), sleep=lambda seconds: None)
        return BUILD_ADAPTER(module, **options)

    for namespace in ADAPTER_USERS:
        monkeypatch.setattr(namespace, "build_adapter", build)


def run_module(module, monkeypatch, capsys, vendor, args, defaults=None, hidden=(), inject_invocation=None):
    """Run ``module.main()`` with ``args`` over ``defaults``; its adapter talks to ``vendor``.

    Returns the result the module printed, after checking that neither the API key nor any of the
    ``hidden`` values appears anywhere in that output. ``inject_invocation`` True or False asks the
    core for ``invocation`` in the result or not, as INJECT_INVOCATION does (see ``invocation_of``).
    """
    route_adapters(monkeypatch, vendor)
    full = dict(api_url="https://vendor.example.test", api_key=SECRET, rate_limit=0)
    full.update(defaults or {})
    full.update(args)
    if inject_invocation is not None and INVOCATION_IS_OPTIONAL:
        full["_ansible_inject_invocation"] = inject_invocation
    with patch_module_args(full):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    for value in (SECRET,) + tuple(hidden):
        assert value not in out
    return json.loads(out)


def warning_texts(result):
    """Warning messages of a module result (strings before ansible-core 2.19, summaries since)."""
    texts = []
    for warning in result.get("warnings", []):
        texts.append(warning if isinstance(warning, str) else json.dumps(warning))
    return texts


def invocation_of(result, injected):
    """The ``invocation`` of a result run with ``inject_invocation=injected``, or None.

    Fails unless it is there exactly when this core adds it: always before ansible-core 2.21, only
    when injected from 2.21 on. A secret-masking check on it therefore runs on every core.
    """
    expected = bool(injected) or not INVOCATION_IS_OPTIONAL
    assert ("invocation" in result) == expected, "invocation %s in the result" % ("missing" if expected else "unexpectedly")
    return result.get("invocation")
