# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES and every role README play, run as written against the emulator.

One ansible-playbook run (at -vvv) holds all of them: each module's examples in a play of their
own on a host of their own, each README play after it; the emulator is reset to its default seed
before each. Connections come from the modules' environment variables, secrets from ``vault_*``
extra variables. Every example task must succeed and none may be skipped, except a task marked
``ignore_errors: true  # fails on purpose: <reason>``, which must fail with <reason> in its
message; no secret may appear in the output or in a file the examples wrote.
"""

import collections
import datetime
import json
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))

from examples import (ExampleError, module_examples, readme_examples, vault_variables,  # noqa: E402 pylint: disable=wrong-import-position
                      write_inventory, write_playbook)
from scanops_emulator.launcher import running_emulator  # noqa: E402 pylint: disable=wrong-import-position

OUTPUT_DIR = os.path.join(ROOT, "tests", "output", "examples")
# Where each platform's API lives below the emulator's base URL, and the variables the modules read.
CONNECTIONS = {
    "cloudgeni": ("/cloudgeni/api/v1", "CLOUDGENI_API_URL", "CLOUDGENI_API_KEY", "cg_live_demo_admin_4f7c2a9e1b3d5f60"),
    "kolega": ("/kolega", "KOLEGA_API_URL", "KOLEGA_TOKEN", "kcp_live_demo_5b1e9c3a7d2f4e6081a9"),
    "agilesec": ("/agilesec", "AGILESEC_API_URL", "AGILESEC_API_TOKEN", "isg_demo_token_7c3e9a1f5b2d4e60a8c1"),
    "harborguard": ("/harborguard", "HARBORGUARD_API_URL", "HARBORGUARD_API_KEY", "hg_pat_f0e1d2c3b4a5968778695a4b3c2d1e0f0e1d2c3b4a596877"),
    "penaxtra": ("/penaxtra", "PENAXTRA_API_URL", "PENAXTRA_TOKEN", "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e"),
}
# The emulator's AgileSec Search API user: AgileSec findings are read with it (from the modules' variables).
AGILESEC_SEARCH = {"AGILESEC_SEARCH_USERNAME": "analytics-reader", "AGILESEC_SEARCH_PASSWORD": "kf-search-demo-7d41c9e2b05a"}
# An ignore entry's expiry that is in the future must stay there: at least this many years ahead.
FAR_FUTURE_YEARS = 50
EXPIRES = re.compile(r"expires:\s*\"?(\d{4}-\d{2}-\d{2})\"?")


def sources():
    modules = module_examples(ROOT)
    plays, files = readme_examples(ROOT)
    return modules, plays, files


def test_every_example_is_runnable_text():
    """Static checks: each module has examples of itself, no example carries a connection, dates stay valid."""
    modules, plays, files = sources()
    assert len(modules) == len([name for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                                if name.endswith(".py") and not name.startswith("_")])
    assert plays, "no role README has a play example"
    today = datetime.date.today()
    for source in modules + plays:
        for option in ("api_url", "api_key", "search_username", "search_password"):
            assert not re.search(r"^\s*%s:" % option, source.text, re.MULTILINE), \
                "%s (%s) sets %s: connections come from module_defaults or the environment" % (source.name, source.origin, option)
        for text in [source.text] + list(files.values()):
            for day in EXPIRES.findall(text):
                expiry = datetime.date.fromisoformat(day)
                # Past dates show expired entries on purpose; a future one must not expire while the example lives.
                assert expiry < today or expiry.year >= today.year + FAR_FUTURE_YEARS, \
                    "%s: expires %s runs out too soon; use a far-future date (or a past one to show an expired entry)" % (source.origin, day)


def test_a_fails_on_purpose_line_needs_a_named_task():
    with pytest.raises(ExampleError, match="without '# fails on purpose"):
        from examples import expected_failures  # pylint: disable=import-outside-toplevel
        expected_failures("- name: x\n  scanops.security.scan_run: {}\n  ignore_errors: true\n", "inline")


def run_examples(directory, modules, plays, files, base_url):
    """Run every example once; answer (returncode, output, result entries, seconds)."""
    playbook = write_playbook(directory, modules, plays, files)
    inventory = write_inventory(directory, modules, sys.executable)
    results = os.path.join(directory, "results.jsonl")
    if os.path.exists(results):
        os.remove(results)
    extra = os.path.join(directory, "vault.json")
    secrets = vault_variables(modules + plays)
    with open(extra, "w", encoding="utf-8") as handle:
        json.dump(secrets, handle)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_STDOUT_CALLBACK="default",
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="example_results",
               SCANOPS_EXAMPLE_RESULTS=results, SCANOPS_EMULATOR_URL=base_url, ANSIBLE_PIPELINING="1")
    for path, url_variable, key_variable, key in CONNECTIONS.values():
        env[url_variable] = base_url + path
        env[key_variable] = key
    env["CLOUDGENI_ORG_ID"] = "org_123"
    env.update(AGILESEC_SEARCH)
    started = time.monotonic()
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", inventory, "-e", "@" + extra, playbook]
    completed = subprocess.run(command, env=env, cwd=directory, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.monotonic() - started
    output = completed.stdout + completed.stderr
    with open(os.path.join(OUTPUT_DIR, "examples.log"), "w", encoding="utf-8") as handle:
        handle.write(output)
    entries = []
    if os.path.exists(results):
        with open(results, encoding="utf-8") as handle:
            entries = [json.loads(line) for line in handle]
    leak_values = dict(secrets)
    leak_values.update({"%s api key" % name: spec[3] for name, spec in CONNECTIONS.items()})
    leak_values["agilesec search password"] = AGILESEC_SEARCH["AGILESEC_SEARCH_PASSWORD"]
    return completed.returncode, output, entries, seconds, leak_values


def written_text(directory):
    texts = []
    for parent, _dirs, names in os.walk(directory):
        for name in names:
            if name in ("vault.json", "results.jsonl"):
                continue
            with open(os.path.join(parent, name), encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read())
    return "\n".join(texts)


def test_examples_run_as_written():
    modules, plays, files = sources()
    directory = os.path.join(OUTPUT_DIR, "run")
    os.makedirs(directory, exist_ok=True)
    with running_emulator(profile="test") as base_url:
        returncode, output, entries, seconds, leak_values = run_examples(directory, modules, plays, files, base_url)

    problems = []
    counts = collections.Counter()
    by_file = collections.defaultdict(list)
    for entry in entries:
        by_file[os.path.basename(entry["path"].rsplit(":", 1)[0])].append(entry)
    for source in modules:
        seen = {}
        for entry in by_file.get("%s.yml" % source.slug, []):
            seen.setdefault(entry["task"], []).append(entry)
        for task in source.tasks():
            outcome = seen.get(task)
            where = "%s (%s), task %r" % (source.name, source.origin, task)
            if not outcome:
                problems.append("%s did not run" % where)
                continue
            counts["run"] += 1
            result = outcome[-1]
            reason = source.expected_failures.get(task)
            if reason is not None:
                if result["status"] != "failed":
                    problems.append("%s is marked to fail on purpose (%s) but ended %s" % (where, reason, result["status"]))
                elif reason not in result["msg"]:
                    problems.append("%s failed for another reason than %r: %s" % (where, reason, result["msg"]))
                else:
                    counts["failed on purpose"] += 1
            elif result["status"] != "ok":
                problems.append("%s ended %s: %s" % (where, result["status"], result["msg"]))
            else:
                counts["passed"] += 1
    for source in plays:
        names = [play.get("name") for play in yaml.safe_load(source.text)]
        mine = [entry for entry in entries if entry["play"] in names]
        where = "%s (%s)" % (source.name, source.origin)
        if not mine:
            problems.append("%s did not run" % where)
            continue
        counts["run"] += 1
        failed = [entry for entry in mine if entry["status"] in ("failed", "unreachable")]
        wrong = [entry for entry in failed if source.expected_failures.get(entry["task"]) is None
                 or source.expected_failures[entry["task"]] not in entry["msg"]]
        missing = sorted(set(source.expected_failures) - set(entry["task"] for entry in failed))
        problems.extend("%s: task %r ended %s: %s" % (where, entry["task"], entry["status"], entry["msg"]) for entry in wrong)
        problems.extend("%s: task %r is marked to fail on purpose but did not fail" % (where, task) for task in missing)
        if not wrong and not missing:
            counts["failed on purpose" if failed else "passed"] += 1

    leaked = sorted(name for name, value in leak_values.items() if value in output or value in written_text(directory))
    summary = ("examples: %d run (%d module example tasks from %d modules, %d role README plays), %d passed, "
               "%d failed on purpose as stated, %d problems; %.0f s" % (
                   counts["run"], sum(len(s.tasks()) for s in modules), len(modules), len(plays), counts["passed"],
                   counts["failed on purpose"], len(problems), seconds))
    with open(os.path.join(OUTPUT_DIR, "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write(summary + "\n")
    print("\n" + summary)
    assert not problems, "\n".join(problems + ["(log: tests/output/examples/examples.log)"])
    assert not leaked, "secrets in the output or the files the examples wrote: %s" % leaked
    assert "Traceback (most recent call last)" not in output
    assert returncode == 0, output[-3000:]
