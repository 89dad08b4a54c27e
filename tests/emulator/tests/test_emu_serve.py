# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""serve.py: exactly one ready line, a free port with --port 0, and the demo profile's settings."""

import re
import subprocess
import sys

import httpx

from scanops_emulator.launcher import SERVE


def test_demo_profile_prints_one_ready_line_and_turns_limits_on():
    command = [sys.executable, SERVE, "--port", "0", "--profile", "demo", "--seed", "7"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline()
            match = re.match(r"^scanops-emulator ready on (http://127\.0\.0\.1:(\d+))\n$", line)
            assert match and int(match.group(2)) > 0, line
            base_url = match.group(1)
            health = httpx.get(base_url + "/_emulator/health").json()
            assert health == {"status": "ok", "profile": "demo", "seed": 7, "vendors": health["vendors"], "documented_only": False}
            config = httpx.get(base_url + "/_emulator/config/penaxtra").json()
            assert config["limits"]["enabled"] is True and config["running_seconds"] >= 1
        finally:
            process.terminate()
        rest, _errors = process.communicate(timeout=10)
    assert rest == ""
