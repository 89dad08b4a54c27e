# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record every task result of the examples run as one JSON line in $SCANOPS_EXAMPLE_RESULTS.

When a play named ``examples suite | reset before <example>`` starts, reset the emulator at
$SCANOPS_EMULATOR_URL to its default seed, with scans and fixes that finish at once (the examples'
waits end at their first look instead of after a poll interval). Done here rather than as tasks: a
task costs a module run, a reset from the controller a few milliseconds.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import time
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: example_results
type: aggregate
short_description: Record task results for the examples suite
description:
  - Appends one JSON line per task result to the file named by the SCANOPS_EXAMPLE_RESULTS environment variable.
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "example_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.path = os.environ["SCANOPS_EXAMPLE_RESULTS"]
        self.play = None
        self.started = time.monotonic()

    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()
        if self.play.startswith("examples suite | reset before "):
            base = os.environ["SCANOPS_EMULATOR_URL"]
            self._admin(base + "/_emulator/reset", "POST", {})
            for vendor in ("cloudgeni", "kolega", "agilesec", "harborguard", "penaxtra"):
                self._admin(base + "/_emulator/config/" + vendor, "PATCH", {"queued_seconds": 0, "running_seconds": 0})

    @staticmethod
    def _admin(url, method, body):
        request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:  # nosec - the suite's own emulator on loopback
            answer.read()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started = time.monotonic()

    def _record(self, result, status, ignore_errors=False):
        task = result._task
        data = result._result
        entry = {"play": self.play, "task": task.get_name(), "path": task.get_path(), "host": result._host.get_name(),
                 "status": status, "ignored": bool(ignore_errors), "changed": bool(data.get("changed")),
                 "msg": str(data.get("msg", "")) if status in ("failed", "unreachable") else "",
                 "seconds": round(time.monotonic() - self.started, 2)}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed", ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
