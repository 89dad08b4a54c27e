# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example playbooks as documented (``-e @playbooks/vars/emulator.yml``), run twice against the emulator.

The first run must succeed and change something, the second must change nothing; neither may
print a traceback or a credential; the vendor must hold exactly what one run creates.
"""

import json
import os
import re

from conftest import OUTPUT_DIR

RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def recap(result):
    """``(ok, changed, unreachable, failed)`` of the play's recap line."""
    found = RECAP.findall(result.output)
    assert found, "no PLAY RECAP in the output:\n%s" % result.output[-2000:]
    return tuple(int(n) for n in found[-1])


def check_run(result, name):
    tail = "\n".join(result.output.splitlines()[-60:])
    assert result.returncode == 0, "%s failed (log in tests/output/integration/%s.log):\n%s" % (name, name, tail)
    assert "Traceback (most recent call last)" not in result.output
    assert result.leaked_secrets() == []


def test_remediate_playbook_opens_one_pull_request_and_then_changes_nothing(target_runner, admin):
    name = "playbook_remediate"
    admin.reset()
    admin.config("kolega", finding_count=20)
    output_dir = os.path.join(OUTPUT_DIR, name)
    summary = os.path.join(output_dir, "remediation.md")
    args = ["-e", "@playbooks/vars/emulator.yml", "-e", json.dumps({"remediate_summary_path": summary, "remediate_wait_sleep": 0.2})]

    first = target_runner.run_playbook(name, "remediate.yml", args)
    check_run(first, name)
    assert recap(first)[1] > 0
    with open(summary, encoding="utf-8") as handle:
        text = handle.read()
    links = re.findall(r"\]\((https://github\.com/acme/web/pull/\d+)\)", text)
    assert len(links) == 1, text
    assert "| completed |" in text

    second = target_runner.run_playbook(name, "remediate.yml", args)
    check_run(second, name)
    assert recap(second)[1] == 0, "the re-run changed something:\n%s" % "\n".join(second.output.splitlines()[-40:])
    with open(summary, encoding="utf-8") as handle:
        assert re.findall(r"\]\((https://github\.com/acme/web/pull/\d+)\)", handle.read()) == links

    fixes = admin.requests(vendor="kolega", method="POST", path="*/repositories/*/fixes")["items"]
    pulls = admin.requests(vendor="kolega", method="POST", path="*/pull-requests")["items"]
    scans = admin.requests(vendor="kolega", method="POST", path="*/scans")["items"]
    assert (len(scans), len(fixes), len(pulls)) == (1, 1, 1)
    with open(os.path.join(output_dir, "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write("playbooks/remediate.yml: two runs, scans %d, fixes %d, pull requests %d, tasks changed on the re-run %d\n"
                     % (len(scans), len(fixes), len(pulls), recap(second)[1]))
