# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in-process against an in-memory vendor: module arguments in, result dict out."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import httpx

from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import SECRET
from ansible_collections.scanops.security.tests.utils.module_runner import (  # noqa: F401 pylint: disable=unused-import
    ADAPTER_USERS,
    BUILD_ADAPTER,
    patch_module_args,
    run_main,
)

# From ansible-core 2.21 a result carries ``invocation`` only when the controller asks for it
# (INJECT_INVOCATION, off by default); older cores always add it.
INVOCATION_IS_OPTIONAL = "inject_invocation" in PASS_VARS


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
    capsys.readouterr()
    run = run_main(module, full)
    assert run.result is not None, "no result; main() printed: %s" % run.output
    for value in (SECRET,) + tuple(hidden):
        assert value not in run.output
    return run.result


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
