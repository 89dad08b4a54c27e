# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration fixtures: one emulator for the session, and a runner for the Ansible targets."""

import json
import os
import secrets
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(COLLECTION_ROOT, "tests", "emulator"))

import scanops_emulator  # noqa: E402 pylint: disable=wrong-import-position
from scanops_emulator.admin_client import AdminClient  # noqa: E402 pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402 pylint: disable=wrong-import-position

TARGETS_DIR = os.path.join(HERE, "targets")
# The emulator's demo credentials (docs/emulator.md), under the names the tests import from here.
DEMO_API_KEYS = scanops_emulator.DEMO_API_KEYS
AGILESEC_SEARCH = scanops_emulator.DEMO_SEARCH_USER
OUTPUT_DIR = os.path.join(COLLECTION_ROOT, "tests", "output", "integration")
# Summaries older than this session are left over from an earlier run and not printed.
SESSION_STARTED = time.time()


@pytest.fixture(scope="session")
def emulator_url():
    """Base URL of an emulator that lives for the whole test session."""
    with running_emulator(profile="test") as base_url:
        yield base_url


@pytest.fixture(scope="session")
def admin(emulator_url):  # pylint: disable=redefined-outer-name
    """Admin client of the session's emulator."""
    return AdminClient(emulator_url)


def _read_tree(directory):
    """The text of every file below ``directory`` (undecodable bytes replaced)."""
    texts = []
    for parent, _dirs, files in os.walk(directory):
        for name in sorted(files):
            with open(os.path.join(parent, name), encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read())
    return "\n".join(texts)


class PlaybookResult:
    """What one ansible-playbook run printed and wrote, with the secrets that must not be in it."""

    def __init__(self, returncode, output, secret_values):
        self.returncode = returncode
        self.output = output
        self.secret_values = secret_values

    def leaked_secrets(self):
        """Names of the secret values that appear anywhere in the output."""
        return sorted(name for name, value in self.secret_values.items() if value and value in self.output)


def credentials(providers):
    """The demo credentials to search a play's output for: every API key and the AgileSec search password."""
    found = {"%s api_key" % name: conf["api_key"] for name, conf in providers.items()}
    found["agilesec search_password"] = providers["agilesec"]["search_password"]
    return found


class TargetRunner:
    """Runs an integration target (an ansible-test style role) against the emulator with -vvv."""

    def __init__(self, base_url, admin_client):
        self.base_url = base_url
        self.admin = admin_client

    def provider_vars(self):
        """api_url and api_key for every provider, pointing at the emulator (AgileSec also its search user)."""
        providers = {name: {"api_url": self.base_url + path, "api_key": DEMO_API_KEYS[name]}
                     for name, path in scanops_emulator.CLIENT_BASE_PATHS.items()}
        providers["agilesec"].update(AGILESEC_SEARCH)
        return providers

    def run(self, target, extra_vars=None, check=False):
        """Run ``target`` in a throw-away play; return a PlaybookResult."""
        os.makedirs(OUTPUT_DIR, exist_ok=True)
        providers = self.provider_vars()
        # Fresh random secrets each run, so a leak can't hide behind a value that also appears elsewhere.
        test_secrets = {name: "s3cr3t-%s-%s" % (name, secrets.token_hex(12))
                        for name in ("callback_token", "sensor_password", "sensor_token", "webhook_secret")}
        variables = {
            "scanops_emulator_url": self.base_url,
            "scanops_providers": providers,
            "scanops_test_secrets": test_secrets,
            "scanops_output_dir": os.path.join(OUTPUT_DIR, target),
        }
        variables.update(extra_vars or {})
        os.makedirs(variables["scanops_output_dir"], exist_ok=True)
        vars_file = os.path.join(OUTPUT_DIR, "%s.vars.json" % target)
        with open(vars_file, "w", encoding="utf-8") as handle:
            json.dump(variables, handle)
        playbook = os.path.join(OUTPUT_DIR, "%s.play.yml" % target)
        with open(playbook, "w", encoding="utf-8") as handle:
            handle.write("- hosts: localhost\n  gather_facts: false\n  roles:\n    - %s\n" % target)
        secret_values = dict(test_secrets)
        secret_values.update(credentials(providers))
        return self._play(target, ["-e", "@" + vars_file, playbook] + (["--check"] if check else []),
                          variables["scanops_output_dir"], secret_values)

    def run_playbook(self, name, playbook, args=()):
        """Run one of the collection's playbooks (``playbooks/<playbook>``) against the emulator with -vvv.

        ``SCANOPS_EMULATOR_URL`` points at the session's emulator, so ``-e @playbooks/vars/emulator.yml``
        works as the playbook documents it. The demo credentials are searched for in what it prints
        and in every file under ``tests/output/integration/<name>``.
        """
        output_dir = os.path.join(OUTPUT_DIR, name)
        os.makedirs(output_dir, exist_ok=True)
        secret_values = credentials(self.provider_vars())
        return self._play(name, [os.path.join(COLLECTION_ROOT, "playbooks", playbook)] + list(args), output_dir, secret_values,
                          env_extra={"SCANOPS_EMULATOR_URL": self.base_url})

    def _play(self, name, args, output_dir, secret_values, env_extra=None):
        # One inventory file per run name: under pytest-xdist several plays start at the same time.
        inventory = os.path.join(OUTPUT_DIR, "%s.inventory.ini" % name)
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        env = dict(os.environ)
        env.update({
            "ANSIBLE_ROLES_PATH": TARGETS_DIR,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        })
        env.update(env_extra or {})
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", inventory] + list(args)
        completed = subprocess.run(command, env=env, cwd=COLLECTION_ROOT, capture_output=True, text=True, timeout=1200, check=False)
        output = completed.stdout + completed.stderr
        with open(os.path.join(OUTPUT_DIR, "%s.log" % name), "w", encoding="utf-8") as handle:
            handle.write(output)
        # Reports and other files the play wrote are searched as well as what it printed.
        return PlaybookResult(completed.returncode, output + _read_tree(output_dir), secret_values)


@pytest.fixture(scope="session")
def target_runner(emulator_url, admin):  # pylint: disable=redefined-outer-name
    """Runner for integration targets against the session's emulator."""
    return TargetRunner(emulator_url, admin)


def _tasks_size(target):
    """Bytes of a target's task files: a rough measure of how long it runs."""
    directory = os.path.join(TARGETS_DIR, target, "tasks")
    return sum(os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory))


def _is_target(item):
    return item.path.name == "test_targets.py" and getattr(item, "originalname", "") == "test_target"


def pytest_collection_modifyitems(session, config, items):  # pylint: disable=unused-argument
    """Under pytest-xdist, the targets first, longest first (by the size of their task files).

    So that the longest one does not start last (``--no-loadscope-reorder`` keeps this order;
    by default xdist sends the scopes with the most tests first). Without xdist nothing changes.
    """
    if not hasattr(config, "workerinput"):  # set in the xdist workers, where the collection happens
        return
    targets = sorted((item for item in items if _is_target(item)), key=lambda item: -_tasks_size(item.callspec.params["target"]))
    items[:] = targets + [item for item in items if not _is_target(item)]


@pytest.hookimpl(optionalhook=True)  # the compat legs' venvs have no pytest-xdist
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope``: each target is a scope of its own, every other file one scope.

    A scope runs whole, in order, on one worker: the tests of a file may share what a
    module-scoped fixture seeded, while every target resets the emulator it runs against, so the
    targets can go to any worker (each worker has an emulator of its own). xdist's ``loadgroup``
    would say the same with marks, but it stopped grouping under pytest 9.2 (pytest-xdist issue
    1386); a scheduler reads only the test ids.
    """
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class TargetsApart(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path, _sep, rest = nodeid.partition("::")
            return nodeid if path.rsplit("/", 1)[-1] == "test_targets.py" and rest.startswith("test_target[") else path

    return TargetsApart(config, log)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # pylint: disable=unused-argument
    """Print the ``summary.txt`` a target wrote into its output directory during this session (its counts)."""
    lines = []
    for target in sorted(os.listdir(OUTPUT_DIR)) if os.path.isdir(OUTPUT_DIR) else []:
        path = os.path.join(OUTPUT_DIR, target, "summary.txt")
        if os.path.isfile(path) and os.path.getmtime(path) >= SESSION_STARTED:
            with open(path, encoding="utf-8") as handle:
                lines.extend(line.rstrip() for line in handle if line.strip())
    if lines:
        terminalreporter.write_sep("=", "integration target counts")
        for line in lines:
            terminalreporter.write_line(line)
