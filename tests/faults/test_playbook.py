# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The same checks through ansible-playbook -vvv: the action group, the controller and its output.

One play runs four tasks under four faults (one vendor each), then runs again without faults.
The first run may fail a task cleanly; the second must converge; neither may print a traceback
or any credential or token, even at -vvv; the vendors must have started one scan per target and
created one callback endpoint.
"""

import json
import os
import subprocess
import sys

from fault_harness import CLIENT_PATHS, OUTPUT_DIR, Outcome, ModuleRun, record, require_module

PLAY = """- hosts: localhost
  gather_facts: false
  module_defaults:
    group/scanops.security.scanops:
      retries: 4
      retry_timeout: 12
      timeout: 2
  tasks:
    - name: HarborGuard scan whose trigger answer is lost after the server acted
      scanops.security.scan_run:
        provider: harborguard
        api_url: "{{ urls.harborguard }}"
        api_key: "{{ keys.harborguard }}"
        image: ghcr.io/acme/worker:0.9.0
        wait_sleep: 0.2
        wait_timeout: 30
        max_age: 1h
      ignore_errors: "{{ tolerate }}"
    - name: Kolega scan polled through a 502/503 burst
      scanops.security.scan_run:
        provider: kolega
        api_url: "{{ urls.kolega }}"
        api_key: "{{ keys.kolega }}"
        repository: web-frontend
        scan_type: secrets_scan
        wait_sleep: 0.2
        wait_timeout: 30
        max_age: 1h
      ignore_errors: "{{ tolerate }}"
    - name: AgileSec callback endpoint whose create is dropped before the server reads it
      scanops.security.callback_endpoint:
        provider: agilesec
        api_url: "{{ urls.agilesec }}"
        api_key: "{{ keys.agilesec }}"
        name: fault-playbook-callback
        url: "{{ receiver }}"
        auth_type: bearer
        token: "{{ callback_token }}"
      ignore_errors: "{{ tolerate }}"
    - name: Penaxtra triage through a 502/503 burst on the writes
      scanops.security.finding_status:
        provider: penaxtra
        api_url: "{{ urls.penaxtra }}"
        api_key: "{{ keys.penaxtra }}"
        severity: [critical]
        status: triaged
      ignore_errors: "{{ tolerate }}"
"""

FAULTS = [
    {"vendor": "harborguard", "method": "POST", "path": "/api/scans", "kind": "drop_after", "count": 1},
    {"vendor": "kolega", "method": "GET", "path": "*/progress", "kind": "error", "status": 502, "count": 1},
    {"vendor": "kolega", "method": "GET", "path": "*/progress", "kind": "error", "status": 503, "count": 2},
    {"vendor": "agilesec", "method": "POST", "path": "/v3/callback-endpoints", "kind": "drop_before", "count": 1},
    {"vendor": "penaxtra", "method": "PATCH", "path": "*/findings/*", "kind": "error", "status": 503, "count": 3},
]
CREATES = {"harborguard": "*/api/scans", "kolega": "*/scans", "agilesec": "*/v3/callback-endpoints"}


def run_playbook(runner, variables, name):
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    playbook = os.path.join(OUTPUT_DIR, "play.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write(PLAY)
    vars_file = os.path.join(OUTPUT_DIR, "%s.vars.json" % name)
    with open(vars_file, "w", encoding="utf-8") as handle:
        json.dump(variables, handle)
    inventory = os.path.join(OUTPUT_DIR, "inventory.ini")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_STDOUT_CALLBACK="default")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", inventory, "-e", "@" + vars_file, playbook]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    os.remove(vars_file)  # it holds the credentials
    return completed


def test_playbook_under_faults(fault_runner):
    for module in ("scan_run", "callback_endpoint", "finding_status"):
        require_module(module)
    emulator = fault_runner.emulator
    emulator.reset()
    variables = {
        "urls": {provider: emulator.url + path for provider, path in CLIENT_PATHS.items()},
        "keys": fault_runner.keys,
        "receiver": emulator.url + "/_emulator/health",
        "callback_token": fault_runner.new_secret("callback_token"),
        "tolerate": True,
    }
    since = emulator.last_request_id()
    fault_ids = emulator.add_faults(FAULTS)
    first = run_playbook(fault_runner, variables, "faulted")
    fired = sum(fault["fired"] for fault in emulator.faults() if fault["id"] in fault_ids)
    emulator.remove_faults(fault_ids)
    second = run_playbook(fault_runner, dict(variables, tolerate=False), "clean")

    outcome = Outcome("ansible-playbook", "4 providers", "playbook -vvv")
    outcome.fired = fired
    outcome.runs = [ModuleRun("playbook", {}, first.returncode, json.dumps({"failed": first.returncode != 0, "msg": "see play output"}),
                              "", 0.0),
                    ModuleRun("playbook", {}, second.returncode, json.dumps({"failed": second.returncode != 0}), "", 0.0)]
    for label, completed in (("faulted run", first), ("clean run", second)):
        output = completed.stdout + completed.stderr
        with open(os.path.join(OUTPUT_DIR, "playbook-%s.log" % label.split()[0]), "w", encoding="utf-8") as handle:
            for value in fault_runner.secret_values.values():
                output = output.replace(value, "<LEAKED SECRET>") if value else output
            handle.write(output)
        if "<LEAKED SECRET>" in output:
            outcome.problems.append("%s: the -vvv output contains a credential or token" % label)
        if "Traceback (most recent call last)" in output or "MODULE FAILURE" in output:
            outcome.problems.append("%s: a task crashed (see %s)" % (label, OUTPUT_DIR))
    if second.returncode != 0:
        outcome.problems.append("the run without faults did not converge:\n%s" % second.stdout[-3000:])
    if fired < len(FAULTS) - 2:
        outcome.problems.append("only %d fault firings: the play did not meet its faults" % fired)
    for vendor, path in CREATES.items():
        logged = emulator.requests(vendor=vendor, method="POST", path=path, since_id=since)["items"]
        acted = sum(1 for item in logged if item["status"] is not None and 200 <= item["status"] < 300)
        outcome.creates = max(outcome.creates or 0, acted)
        if acted > 1:
            outcome.problems.append("duplicate: %s acted on %d create requests over both runs" % (vendor, acted))
        elif acted < 1:
            outcome.problems.append("%s: no create request acted on, the object does not exist" % vendor)
    record(outcome)
    assert not outcome.problems, "\n".join(outcome.problems)
