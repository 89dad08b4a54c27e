# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in this process: module arguments in, what it printed out.

The suites that run modules without ansible-playbook share this runner (unit, documented-only,
fuzz, conformance): an in-process run costs milliseconds where a module process costs a second,
so thousands of cases stay cheap. The collection must be importable as
``ansible_collections.scanops.security`` (the test runner stages it so).

    run = run_main(load_module("scan_info"), {"provider": "harborguard", ...})
    run.result      # the JSON the module printed, or None
    run.output      # what it printed, and the traceback when main() raised
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import glob
import importlib
import io
import json
import os
import signal
import traceback

from unittest import mock

from ansible.module_utils import basic
try:
    from ansible.module_utils import _internal as ansible_internal
except ImportError:  # ansible-core < 2.19
    ansible_internal = None
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.scanops.security.plugins.module_utils import client, common, findings, fixes, scans

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
            yield

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES_DIR = os.path.join(COLLECTION_ROOT, "plugins", "modules")
MODULE_PACKAGE = "ansible_collections.scanops.security.plugins.modules"
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE")

# Saved before any test patches it: every adapter a test reroutes is still built by the real one.
BUILD_ADAPTER = common.build_adapter
# Where module code looks build_adapter up: common (module_adapter), findings, fixes and scans (scan_adapter).
ADAPTER_USERS = (common, findings, fixes, scans)


def module_names():
    """Every module the collection ships, by file name (so a new module is picked up by itself)."""
    return sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(MODULES_DIR, "*.py"))
                  if not os.path.basename(path).startswith("_"))


def load_module(name):
    return importlib.import_module("%s.%s" % (MODULE_PACKAGE, name))


@contextlib.contextmanager
def client_overrides(**options):
    """Every adapter a module builds inside the block gets these ApiClient options (``sleep=``, ``transport=``)."""
    def build(module, **given):
        given.update(options)
        return BUILD_ADAPTER(module, **given)

    with contextlib.ExitStack() as stack:
        for namespace in ADAPTER_USERS:
            stack.enter_context(mock.patch.object(namespace, "build_adapter", build))
        yield


@contextlib.contextmanager
def shared_trust_store():
    """Clients built in the block share one default trust context instead of loading the CA bundle each time.

    Loading it is most of what building a client costs (tens of milliseconds, far more on a busy
    machine), which a module process pays once and a suite of in-process runs pays every run. Not
    for runs with ``client_cert``: loading a certificate chain would change the shared context.
    """
    if not _TRUST_CONTEXT:
        _TRUST_CONTEXT.append(client._default_trust_context())  # pylint: disable=protected-access
    with mock.patch.object(client, "_default_trust_context", lambda: _TRUST_CONTEXT[0]):
        yield


_TRUST_CONTEXT = []


class ModuleRun(object):
    """One run: ``output`` is what the module printed (plus the traceback when main() raised),
    ``result`` the JSON it printed or None."""

    def __init__(self, output, result):
        self.output = output
        self.result = result

    @property
    def crashed(self):
        return self.result is None or any(marker in self.output for marker in TRACEBACK_MARKERS) or bool(self.result.get("exception"))


class Hung(Exception):
    """main() gave no result within the run's timeout."""


def _alarm(_signum, _frame):
    raise Hung("no result within the time limit")


@contextlib.contextmanager
def module_mode():
    """Run as a module runs on a managed host, also in a process that has loaded controller code.

    Importing any controller package (a plugin's test, say) switches ansible-core 2.19+ into
    controller mode for the whole process, where ``module.warn`` prints at once instead of
    returning warnings with the result.
    """
    if getattr(ansible_internal, "is_controller", None) is None:  # ansible-core < 2.19: no such mode
        yield
        return
    with mock.patch.object(ansible_internal, "is_controller", False):
        yield


def run_main(module, args, timeout=None):
    """Run ``module.main()`` with ``args`` (``_ansible_check_mode``, ``_ansible_diff`` included) and answer a ModuleRun.

    Warnings and deprecations left over from an earlier run in this process are dropped first (the
    core keeps them in module-level state until a module process ends). With ``timeout`` (seconds,
    main thread only) a run that hangs is stopped and reported like a crash.
    """
    for pending in ("_global_warnings", "_global_deprecations"):
        getattr(ansible_warnings, pending, {}).clear()
    out = io.StringIO()
    previous = None
    if timeout:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(int(timeout))
    try:
        with patch_module_args(args), contextlib.redirect_stdout(out), module_mode():
            try:
                module.main()
            except SystemExit:
                pass
    except Exception:  # pylint: disable=broad-except
        # A crash (or a hang) is a finding of the suite, not an error of the runner.
        output = out.getvalue() + traceback.format_exc()
    else:
        output = out.getvalue()
    finally:
        if timeout:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    try:
        result = json.loads(output)
    except ValueError:
        result = None
    return ModuleRun(output, result if isinstance(result, dict) else None)
