# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks as a user runs them against real platforms.

The emulator stands in for the platforms behind a gateway path (``/gateway/scanops``), a base URL
no playbook or vars file knows; nothing tells the playbooks about an emulator. Connections come
from a vars file shaped like ``playbooks/vars/connections.example.yml`` or from the modules'
environment variables; ``$HOME`` is a directory of its own, not the passwd home.
"""

import os
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(COLLECTION_ROOT, "tests", "emulator"))

from scanops_emulator.admin_client import AdminClient  # noqa: E402 pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402 pylint: disable=wrong-import-position

OUTPUT_DIR = os.path.join(COLLECTION_ROOT, "tests", "output", "playbooks")
GATEWAY_PREFIX = "/gateway/scanops"
# Below the emulator's base URL: each platform's API, the modules' variables and the demo credential.
PLATFORMS = {
    "cloudgeni": ("/cloudgeni/api/v1", "CLOUDGENI_API_URL", "CLOUDGENI_API_KEY", "cg_live_demo_admin_4f7c2a9e1b3d5f60"),
    "kolega": ("/kolega", "KOLEGA_API_URL", "KOLEGA_TOKEN", "kcp_live_demo_5b1e9c3a7d2f4e6081a9"),
    "agilesec": ("/agilesec", "AGILESEC_API_URL", "AGILESEC_API_TOKEN", "isg_demo_token_7c3e9a1f5b2d4e60a8c1"),
    "harborguard": ("/harborguard", "HARBORGUARD_API_URL", "HARBORGUARD_API_KEY", "hg_pat_f0e1d2c3b4a5968778695a4b3c2d1e0f0e1d2c3b4a596877"),
    "penaxtra": ("/penaxtra", "PENAXTRA_API_URL", "PENAXTRA_TOKEN", "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e"),
}
# The emulator's AgileSec Search API user (findings), as the modules' variables read it.
AGILESEC_SEARCH = {"AGILESEC_SEARCH_USERNAME": "analytics-reader", "AGILESEC_SEARCH_PASSWORD": "kf-search-demo-7d41c9e2b05a"}
# Variables that only the emulator's vars file may define.
EMULATOR_VARIABLES = ("SCANOPS_EMULATOR_URL", "scanops_emulator_url")


@pytest.fixture(scope="session")
def gateway_url():
    """The emulator, served below GATEWAY_PREFIX on a free port."""
    with running_emulator(profile="test", path_prefix=GATEWAY_PREFIX) as base_url:
        assert base_url.endswith(GATEWAY_PREFIX)
        yield base_url


@pytest.fixture()
def admin(gateway_url):  # pylint: disable=redefined-outer-name
    """Admin client; the default seed, with scans and fixes that finish at once."""
    with AdminClient(gateway_url) as client:
        client.reset()
        for platform in PLATFORMS:
            client.config(platform, queued_seconds=0, running_seconds=0)
        yield client


def platform_environment(base_url):
    """The modules' environment variables for every platform behind ``base_url`` (as AWX injects them)."""
    env = {"CLOUDGENI_ORG_ID": "org_123"}
    for path, url_variable, key_variable, key in PLATFORMS.values():
        env[url_variable] = base_url + path
        env[key_variable] = key
    env.update(AGILESEC_SEARCH)
    return env


def write_connections(path, base_url):
    """A connections file filled in from playbooks/vars/connections.example.yml's shape."""
    with open(os.path.join(COLLECTION_ROOT, "playbooks", "vars", "connections.example.yml"), encoding="utf-8") as handle:
        example = yaml.safe_load(handle)
    connections = example["scanops_connections"]
    assert sorted(connections) == sorted(PLATFORMS)
    for name, (api_path, _url_variable, _key_variable, key) in PLATFORMS.items():
        connections[name] = dict(connections[name], api_url=base_url + api_path, api_key=key)
    connections["agilesec"].update(search_username=AGILESEC_SEARCH["AGILESEC_SEARCH_USERNAME"],
                                   search_password=AGILESEC_SEARCH["AGILESEC_SEARCH_PASSWORD"])
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"scanops_connections": connections}, handle)
    return path


class Runner:
    """Runs one of the collection's playbooks from a project directory of its own, with $HOME of its own."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.project = os.path.join(workdir, "project")
        self.home = os.path.join(workdir, "home")
        os.makedirs(self.project, exist_ok=True)
        os.makedirs(self.home, exist_ok=True)
        self.inventory = os.path.join(workdir, "inventory.ini")
        with open(self.inventory, "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)

    def run(self, name, playbook, args=(), env_extra=None):
        env = {key: value for key, value in os.environ.items()
               if key not in EMULATOR_VARIABLES and not any(key.startswith(p[1].split("_")[0] + "_") for p in PLATFORMS.values())}
        env.update({"HOME": self.home, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0",
                    "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
                    "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_PIPELINING": "1"})
        env.update(env_extra or {})
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-v", "-i", self.inventory,
                   os.path.join(COLLECTION_ROOT, "playbooks", playbook)] + list(args)
        completed = subprocess.run(command, env=env, cwd=self.project, capture_output=True, text=True, timeout=600, check=False)
        output = completed.stdout + completed.stderr
        os.makedirs(OUTPUT_DIR, exist_ok=True)
        with open(os.path.join(OUTPUT_DIR, "%s.log" % name), "w", encoding="utf-8") as handle:
            handle.write(output)
        return completed.returncode, output


def collection_files():
    """Every file of the collection with its size and modification time (reports must never land there)."""
    listing = {}
    for parent, dirs, names in os.walk(COLLECTION_ROOT):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".pytest_cache") and os.path.join(parent, d) != os.path.join(
            COLLECTION_ROOT, "tests", "output")]
        for name in names:
            path = os.path.join(parent, name)
            stat = os.stat(path)
            listing[os.path.relpath(path, COLLECTION_ROOT)] = (stat.st_size, stat.st_mtime_ns)
    return listing
