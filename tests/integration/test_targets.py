# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs every integration target against the emulator and checks its output for leaked secrets.

Each target under ``targets/`` is an ansible-test style role whose tasks assert their own
behaviour (changed, idempotence, check mode, diff, request counts from the emulator's log). The
play runs with ``-vvv`` so that a secret leaking into any module argument, result or log line shows
up in the captured output.
"""

import os

import pytest


TARGETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets")
TARGETS = sorted(name for name in os.listdir(TARGETS_DIR) if os.path.isfile(os.path.join(TARGETS_DIR, name, "tasks", "main.yml")))


@pytest.mark.parametrize("target", TARGETS)
def test_target(target, target_runner, admin):
    admin.reset()
    result = target_runner.run(target)
    tail = "\n".join(result.output.splitlines()[-60:])
    assert result.returncode == 0, "target %s failed (full log in tests/output/integration/%s.log):\n%s" % (target, target, tail)
    assert "Traceback (most recent call last)" not in result.output, "target %s printed a traceback" % target
    assert result.leaked_secrets() == [], "target %s leaked secrets: %s" % (target, result.leaked_secrets())


def test_leak_check_sees_a_secret_in_output_or_files(tmp_path):
    """The secret search above must be able to fail: a planted value is reported, others are not."""
    from conftest import PlaybookResult, _read_tree  # pylint: disable=import-error,import-outside-toplevel

    (tmp_path / "report.md").write_text("token=s3cr3t-in-a-report\n", encoding="utf-8")
    result = PlaybookResult(0, "ok: [localhost]\n" + _read_tree(str(tmp_path)),
                            {"written": "s3cr3t-in-a-report", "absent": "never-printed"})
    assert result.leaked_secrets() == ["written"]
