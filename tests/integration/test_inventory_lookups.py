# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan_targets inventory and the scan/findings lookups against the emulator, through the real CLIs.

``ansible-inventory --list`` must show every target of the five platforms with the groups their
latest scans put them in, cost the list pages plus at most one request per target, and carry no
credential; a second run with the cache on sends nothing. The lookups answer inside a playbook.
"""

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from conftest import AGILESEC_SEARCH, COLLECTION_ROOT, DEMO_API_KEYS, OUTPUT_DIR

OUTPUT = os.path.join(OUTPUT_DIR, "inventory")
KEY_VARIABLES = {"cloudgeni": "CLOUDGENI_API_KEY", "kolega": "KOLEGA_TOKEN", "agilesec": "AGILESEC_API_TOKEN",
                 "harborguard": "HARBORGUARD_API_KEY", "penaxtra": "PENAXTRA_TOKEN"}
URL_PATHS = {"cloudgeni": "/cloudgeni/api/v1", "kolega": "/kolega", "agilesec": "/agilesec", "harborguard": "/harborguard",
             "penaxtra": "/penaxtra"}
NEVER_SCANNED_IMAGE = "ghcr.io/acme/api:1.5.0-rc1"


def bin_path(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def environment(base_url):
    """The controller's environment: each platform's URL and credential in its own variables."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0", CLOUDGENI_ORG_ID="org_123")
    for provider, variable in KEY_VARIABLES.items():
        env[variable] = DEMO_API_KEYS[provider]
        env["%s_API_URL" % provider.upper()] = base_url + URL_PATHS[provider]
    for name in ("SCANOPS_PROVIDER", "SCANOPS_API_KEY", "SCANOPS_API_URL"):
        env.pop(name, None)
    return env


def plain(value):
    """``ansible-inventory --list`` output without ansible-core 2.19's ``{"__ansible_unsafe": ...}`` wrappers."""
    if isinstance(value, dict):
        if list(value) == ["__ansible_unsafe"]:
            return value["__ansible_unsafe"]
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def vendor_requests(admin):
    """How many requests reached the five vendor APIs (the admin API's own are left out)."""
    return len([r for r in admin.requests()["items"] if r["vendor"] in URL_PATHS])


def write_inventory(name, text):
    os.makedirs(OUTPUT, exist_ok=True)
    path = os.path.join(OUTPUT, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def run(command, env):
    completed = subprocess.run(command, env=env, cwd=COLLECTION_ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(command), completed.stdout[-3000:], completed.stderr[-3000:])
    assert "Traceback (most recent call last)" not in completed.stdout + completed.stderr
    return completed


FIVE_PLATFORMS = """plugin: scanops.security.scan_targets
rate_limit: 0
platforms:
  - provider: cloudgeni
  - provider: kolega
    scan_type: secrets_scan
  - provider: harborguard
    # A key in the file must not reach host variables either.
    api_key: %(harborguard_key)s
    targets:
      - %(never_scanned)s
  - provider: penaxtra
  - provider: agilesec
stale_after: 30d
%(extra)s"""


# The default seed's AgileSec sensor keeps a Git password in its configuration (docs/emulator.md).
SENSOR_PASSWORD = "seeded-git-password-5d1e07b3"


@pytest.fixture(scope="module")
def platforms(emulator_url, admin):
    """The default seed (docs/emulator.md) with a second AgileSec sensor and one run of the seeded one, finished."""
    admin.reset()
    added = admin.seed("agilesec", "sensor", sensorName="web-git", sensorType="GIT Sensor", labels=[{"team": "web"}])
    headers = {"isg-api-token": DEMO_API_KEYS["agilesec"], "content-type": "application/json"}
    listed = httpx.get(emulator_url + "/agilesec/v3/sensors", headers=headers, timeout=10).json()["data"]
    sensors = dict((sensor["sensorName"], sensor) for sensor in listed)
    assert sensors["web-git"]["sensorId"] == added["sensorId"]
    answer = httpx.post(emulator_url + "/agilesec/v3/scan/execute", json={"sensorId": sensors["payments-git"]["sensorId"]},
                        headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    time.sleep(1.5)  # the test profile finishes a scan in half a second
    admin.clear_requests()
    return {"sensors": sensors}


def test_inventory_lists_the_five_platforms_at_one_request_per_target_then_from_its_cache(emulator_url, admin, platforms,
                                                                                          tmp_path):
    env = environment(emulator_url)
    cache = "cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\ncache_timeout: 600\n" % tmp_path
    source = write_inventory("scan_targets.yml", FIVE_PLATFORMS % {
        "harborguard_key": DEMO_API_KEYS["harborguard"], "never_scanned": NEVER_SCANNED_IMAGE, "extra": cache})
    admin.clear_requests()
    listed = run([bin_path("ansible-inventory"), "-i", source, "--list"], env)
    inventory = plain(json.loads(listed.stdout))

    def hosts(group):
        return sorted(inventory.get(group, {}).get("hosts", []))

    counts = dict((provider, len(hosts("scanops_" + provider))) for provider in URL_PATHS)
    assert counts == {"cloudgeni": 25, "kolega": 5, "agilesec": 2, "harborguard": 7, "penaxtra": 3}

    requests = [r for r in admin.requests()["items"] if r["vendor"] in URL_PATHS]
    assert [(r["method"], r["path"]) for r in requests if r["method"] != "GET"] == []
    # List pages, then at most one request per target: CloudGeni 1 + 25, Kolega 1 + 5, HarborGuard 1 + 6 listed images
    # (the never-scanned one costs nothing), Penaxtra 1 (its run list names the integrations), AgileSec 1 + 1 sensor
    # that ran.
    sent = dict((provider, len([r for r in requests if r["vendor"] == provider])) for provider in URL_PATHS)
    assert sent == {"cloudgeni": 26, "kolega": 6, "harborguard": 7, "penaxtra": 1, "agilesec": 2}

    hostvars = inventory["_meta"]["hostvars"]
    api = hostvars["harborguard/ghcr.io/acme/api_1.4.7"]
    assert api["scanops_latest_scan"]["id"] == "scn-3kp9q1" and api["scanops_image"] == "ghcr.io/acme/api:1.4.7"
    assert api["scanops_connection"]["api_url"] == emulator_url + "/harborguard"
    assert "harborguard/" + NEVER_SCANNED_IMAGE.replace(":", "_") in hosts("scanops_never_scanned")
    assert "cloudgeni/myorg/infrastructure" in hosts("scanops_stale")  # its seeded scan is from 2024
    assert "kolega/payments-service" not in hosts("scanops_never_scanned")
    assert hostvars["kolega/payments-service"]["scanops_scan_type"] == "secrets_scan"
    sensor = hostvars["agilesec/payments-git"]
    assert sensor["scanops_sensor"] == platforms["sensors"]["payments-git"]["sensorId"]
    assert sensor["scanops_labels"] == {"team": "payments", "env": "prod"}
    assert sensor["scanops_latest_scan"]["status"] == "completed"
    assert "agilesec/web-git" in hosts("scanops_never_scanned")
    critical = set(hosts("scanops_critical"))
    assert critical and critical <= set(hosts("scanops_harborguard")) | set(hosts("scanops_cloudgeni"))

    # The same source again: the cache answers, and no request reaches a vendor.
    admin.clear_requests()
    graph = run([bin_path("ansible-inventory"), "-i", source, "--graph"], env)
    assert vendor_requests(admin) == 0
    assert "@scanops_harborguard:" in graph.stdout and "harborguard/ghcr.io/acme/api_1.4.7" in graph.stdout
    cached = "".join(open(os.path.join(tmp_path, name), encoding="utf-8").read() for name in os.listdir(tmp_path))
    assert cached
    for value in list(DEMO_API_KEYS.values()) + [SENSOR_PASSWORD]:
        assert value not in listed.stdout + listed.stderr + graph.stdout + cached

    with open(os.path.join(OUTPUT, "graph.txt"), "w", encoding="utf-8") as handle:
        handle.write(graph.stdout)
    with open(os.path.join(OUTPUT, "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write("scan_targets inventory: %s hosts (%s); requests %s; from the cache 0\n" % (
            sum(counts.values()), ", ".join("%s %d" % item for item in sorted(counts.items())),
            ", ".join("%s %d" % item for item in sorted(sent.items()))))


LOOKUP_PLAY = """- name: Lookups against the emulator
  hosts: localhost
  gather_facts: false
  vars:
    image_scan: "{{ lookup('scanops.security.scan', 'ghcr.io/acme/api:1.4.7', provider='harborguard', fail_on='critical') }}"
    images: "{{ query('scanops.security.scan', 'ghcr.io/acme/api:1.4.7', '%(never)s', provider='harborguard') }}"
    repo_scan: "{{ lookup('scanops.security.scan', {'repository': 'payments-service', 'scan_type': 'secrets_scan'},
                          provider='kolega', max_findings={'critical': 1000}) }}"
    sensor_scan: "{{ lookup('scanops.security.scan', 'payments-git', provider='agilesec') }}"
    search: {search_username: "%(search_username)s", search_password: "%(search_password)s"}
    sensor_gate: "{{ lookup('scanops.security.scan', 'payments-git', provider='agilesec', max_findings={'critical': 1000},
                            **search) }}"
    sensor_weak_keys: "{{ query('scanops.security.findings', 'payments-git', provider='agilesec', kind=['key'],
                                key_size_below=2048, **search) }}"
    high_findings: "{{ query('scanops.security.findings', 'myorg/infrastructure', provider='cloudgeni', severity=['high']) }}"
    run_findings: "{{ query('scanops.security.findings', '3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03', provider='penaxtra',
                            limit=3) }}"
    image_critical: "{{ query('scanops.security.findings', 'ghcr.io/acme/api:1.4.7', provider='harborguard',
                              severity=['critical']) }}"
  tasks:
    - name: The scan lookup judges the newest finished scan
      ansible.builtin.assert:
        that:
          - image_scan.scan.id == 'scn-3kp9q1'
          - image_scan.gate.passed == (image_scan.gate.counts.critical == 0)
          - image_scan.gate.counts.critical == image_critical | selectattr('status', 'equalto', 'open') | list | length
          - images | length == 2
          - images[1].scan is none and images[1].gate is none
          - repo_scan.scan.status == 'completed' and repo_scan.gate.passed
          - repo_scan.gate.counts_source == 'findings'
          - sensor_scan.scan.status == 'completed' and sensor_scan.gate is none
          - sensor_gate.scan.id == sensor_scan.scan.id and sensor_gate.gate.passed
          - sensor_gate.gate.counts_source == 'findings'
          - sensor_gate.gate.counts.values() | sum > 0
          - "'raw' not in image_scan.scan"
    - name: The findings lookup selects as finding_info does
      ansible.builtin.assert:
        that:
          - high_findings | length == 2
          - high_findings | map(attribute='severity') | unique == ['high']
          - run_findings | length == 3
          - image_critical | length > 0
          - image_critical | map(attribute='severity') | unique == ['critical']
          - sensor_weak_keys | length > 0
          - sensor_weak_keys | map(attribute='crypto.kind') | unique == ['key']
          - sensor_weak_keys | map(attribute='crypto.key_size') | max < 2048
          - sensor_weak_keys | map(attribute='provider') | unique == ['agilesec']
    - name: A lookup error names the target and the vendor's answer
      block:
        - name: Look up a repository that does not exist
          ansible.builtin.debug:
            msg: "{{ lookup('scanops.security.scan', 'no-such-repo', provider='cloudgeni') }}"
      rescue:
        - name: The message says what was looked for
          ansible.builtin.assert:
            that: 'ansible_failed_result.msg is search("scanops.security.scan: Resolve scan target no-such-repo: no repository matches")'
""" % dict(AGILESEC_SEARCH, never=NEVER_SCANNED_IMAGE)


def test_lookups_answer_in_a_playbook(emulator_url, admin, platforms):
    env = environment(emulator_url)
    playbook = write_inventory("lookups.yml", LOOKUP_PLAY)
    admin.clear_requests()
    completed = run([bin_path("ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
                     "ansible_python_interpreter=%s" % sys.executable, playbook], env)
    assert "failed=0" in completed.stdout and "rescued=1" in completed.stdout
    # Lookups read: the only POSTs are AgileSec Search API queries, a read in OpenSearch's query DSL.
    posts = [r["path"] for r in admin.requests(method="POST")["items"] if r["vendor"] in URL_PATHS]
    assert posts and all(path.startswith("/agilesec/searchdb/") and path.endswith("/_search") for path in posts), posts
    for value in list(DEMO_API_KEYS.values()) + [AGILESEC_SEARCH["search_password"]]:
        assert value not in completed.stdout


SMALL = """plugin: scanops.security.scan_targets
rate_limit: 0
platforms:
  - provider: cloudgeni
  - provider: kolega
    scan_type: secrets_scan
  - provider: harborguard
    targets:
      - %(never_scanned)s
  - provider: penaxtra
  - provider: agilesec
include_names:
  - myorg/infrastructure
  - web-frontend
  - %(never_scanned)s
  - ghcr.io/acme/web:*
  - web-git
stale_after: 1d
""" % {"never_scanned": NEVER_SCANNED_IMAGE}


def test_rescan_stale_playbook_rescans_each_stale_target_once_then_has_nothing_to_do(emulator_url, admin, platforms):
    env = environment(emulator_url)
    source = write_inventory("small.scan_targets.yml", SMALL)
    reports = os.path.join(OUTPUT, "rescan")
    command = [bin_path("ansible-playbook"), "-i", source, os.path.join(COLLECTION_ROOT, "playbooks", "rescan_stale.yml"),
               "--forks", "10", "-e", json.dumps({"rescan_reports_dir": reports, "rescan_wait_sleep": 0.3})]
    # The seeded targets of SMALL that have no scan younger than a day.
    stale = ["agilesec/web-git", "cloudgeni/myorg/infrastructure", "harborguard/ghcr.io/acme/api_1.5.0-rc1",
             "harborguard/ghcr.io/acme/web_2.0.1", "kolega/web-frontend"]
    admin.clear_requests()

    first = subprocess.run(command, env=env, cwd=COLLECTION_ROOT, capture_output=True, text=True, timeout=900, check=False)
    output = first.stdout + first.stderr
    assert "Traceback (most recent call last)" not in output
    posts = [r for r in admin.requests(method="POST")["items"] if r["vendor"] in URL_PATHS]
    # One scan started per stale target, none twice: the gate then fails on the critical findings the emulator makes.
    assert sorted(r["vendor"] for r in posts) == ["agilesec", "cloudgeni", "harborguard", "harborguard", "kolega"]
    with open(os.path.join(reports, "summary.md"), encoding="utf-8") as handle:
        summary = handle.read()
    rows = sorted(line.split(" | ")[0][2:] for line in summary.splitlines() if line.startswith("| ") and "/" in line)
    assert rows == stale
    failing = sorted(line.split(" | ")[0][2:] for line in summary.splitlines() if " | FAILED: " in line)
    assert failing, summary  # the emulator's scans of these targets carry critical findings
    assert first.returncode != 0 and "%d of 5 targets fail the gate: " % len(failing) in output
    named = output.split("%d of 5 targets fail the gate: " % len(failing), 1)[1].split(" (see ", 1)[0]
    assert sorted(named.split(", ")) == failing
    for host in failing:
        assert "## %s" % host in summary
    assert os.path.exists(os.path.join(reports, "harborguard_ghcr.io_acme_web_2.0.1.sarif"))
    for value in DEMO_API_KEYS.values():
        assert value not in output and value not in summary

    admin.clear_requests()
    second = run(command, env)
    assert "0 targets rescanned, every gate passed" in second.stdout
    assert [r for r in admin.requests(method="POST")["items"] if r["vendor"] in URL_PATHS] == []
    with open(os.path.join(OUTPUT, "rescan", "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write("playbooks/rescan_stale.yml: %d stale targets rescanned once each (%d failing the gate), re-run 0\n"
                     % (len(stale), len(failing)))
