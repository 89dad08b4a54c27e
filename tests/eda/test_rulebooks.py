# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped rulebooks under the real ansible-rulebook, against the emulator.

Three ansible-rulebook processes run the three rulebooks of extensions/eda/rulebooks side by side:
scan_webhooks (scan_webhook source), scan_polling (scan_events on Penaxtra) and finding_events
(Kolega's feed). The emulator then does what the vendors do: HarborGuard signs and delivers its
webhooks, AgileSec calls the registered callback endpoint with its bearer token, CloudGeni delivers a
signed scan.completed, Kolega's feed gets finding events, Penaxtra lists finished runs. A second
HarborGuard webhook, registered with the wrong secret, delivers badly signed copies.

Every playbook run leaves one record file named after the event's meta.uuid; the test computes
which events must fire which rule from what the emulator delivered and listed (the oracle), and
checks that each fired exactly once and nothing else did.

Run it with tests/run-tests.sh eda (tests/utils/eda.sh provides ansible-rulebook and Java).
"""

import collections
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(COLLECTION_ROOT, "tests", "emulator"))

from scanops_emulator.admin_client import AdminClient  # noqa: E402 pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402 pylint: disable=wrong-import-position

from ansible_collections.scanops.security.plugins.module_utils import eda_events as events  # noqa: E402 pylint: disable=wrong-import-position

OUTPUT_DIR = os.path.join(COLLECTION_ROOT, "tests", "output", "eda")
KEYS = {
    "cloudgeni": "cg_live_demo_admin_4f7c2a9e1b3d5f60",
    "kolega": "kcp_live_demo_5b1e9c3a7d2f4e6081a9",
    "agilesec": "isg_demo_token_7c3e9a1f5b2d4e60a8c1",
    "harborguard": "hg_ak_5e8f2a7c9b1d3e6f0a4c8b2d7e9f1a3c5b7d9e2f4a6c8b0d",
    "penaxtra": "pnx_live_demo_6a1f3c8e2b9d4f7a0c5e",
}
PATHS = {"cloudgeni": "/cloudgeni/api/v1", "kolega": "/kolega", "agilesec": "/agilesec", "harborguard": "/harborguard",
         "penaxtra": "/penaxtra"}
SECRETS = {"HARBORGUARD_WEBHOOK_SECRET": "hg-eda-secret-6f2b91", "CLOUDGENI_WEBHOOK_SECRET": "cg-eda-secret-03ad7e",
           "AGILESEC_CALLBACK_TOKEN": "as-eda-token-9c44e1"}
INTEGRATION = "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"
IMAGE = "ghcr.io/acme/eda-demo:2.4.0"
TIMEOUT = 150.0


STARTED = time.monotonic()
TIMELINE = os.path.join(OUTPUT_DIR, "timeline.txt")
if os.path.exists(TIMELINE):
    os.remove(TIMELINE)


def milestone(what):
    """Append what happened when to tests/output/eda/timeline.txt (the suite's time budget is tight)."""
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    with open(TIMELINE, "a", encoding="utf-8") as handle:
        handle.write("%7.1f s  %s\n" % (time.monotonic() - STARTED, what))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what, check, timeout=TIMEOUT, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Rulebooks(object):
    """The three ansible-rulebook processes and what they write."""

    def __init__(self, venv, base_url, work):
        self.venv = venv
        self.base_url = base_url
        self.work = work
        self.out = os.path.join(work, "out")
        self.port = free_port()
        self.processes = {}
        self.logs = {}

    def environment(self):
        env = dict(os.environ)
        env.update(SECRETS)
        env.update({
            "PATH": os.path.join(self.venv, "bin") + os.pathsep + env.get("PATH", ""),
            "KOLEGA_TOKEN": KEYS["kolega"], "KOLEGA_API_URL": self.base_url + PATHS["kolega"],
            "PENAXTRA_TOKEN": KEYS["penaxtra"], "PENAXTRA_API_URL": self.base_url + PATHS["penaxtra"],
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_PYTHON_INTERPRETER": os.path.join(self.venv, "bin", "python"),
        })
        env.pop("PYTHONPATH", None)  # ansible-rulebook finds the collection through ANSIBLE_COLLECTIONS_PATH
        return env

    def start(self):
        os.makedirs(self.out, exist_ok=True)
        inventory = os.path.join(self.work, "inventory.yml")
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n"
                         % os.path.join(self.venv, "bin", "python"))
        connections = dict((name, {"api_url": self.base_url + PATHS[name], "api_key": KEYS[name]}) for name in KEYS)
        connections["cloudgeni"]["organization"] = "org_123"
        shared = {"scanops_eda_playbook_vars": {"output_dir": self.out, "connections": connections},
                  "scanops_eda_checkpoint_dir": os.path.join(self.work, "checkpoints"), "scanops_eda_interval": 1}
        variables = {
            "scan_webhooks": dict(shared, scanops_eda_host="127.0.0.1", scanops_eda_port=self.port),
            "scan_polling": dict(shared, scanops_eda_provider="penaxtra"),
            "finding_events": dict(shared),
        }
        for name, values in variables.items():
            vars_file = os.path.join(self.work, "%s.vars.json" % name)
            with open(vars_file, "w", encoding="utf-8") as handle:
                json.dump(values, handle)
            self.logs[name] = os.path.join(OUTPUT_DIR, "%s.log" % name)
            with open(self.logs[name], "w", encoding="utf-8") as log:
                self.processes[name] = subprocess.Popen(  # pylint: disable=consider-using-with
                    [os.path.join(self.venv, "bin", "ansible-rulebook"), "-r", "scanops.security.%s" % name,
                     "-i", inventory, "--vars", vars_file, "-v"],
                    cwd=self.work, env=self.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError("ansible-rulebook %s exited with %s:\n%s" % (name, process.returncode, self.log(name)[-4000:]))
        return True

    def log(self, name):
        with open(self.logs[name], encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def runs(self):
        """``{(playbook, uuid): number of runs}`` from the record files the playbooks write."""
        counts = collections.Counter()
        for path in glob.glob(os.path.join(self.out, "runs", "*.json")):
            with open(path, encoding="utf-8") as handle:
                record = json.load(handle)
            counts[(record["playbook"], record["uuid"])] += 1
        return counts

    def records(self, playbook):
        found = []
        for path in sorted(glob.glob(os.path.join(self.out, "runs", "%s-*.json" % playbook))):
            with open(path, encoding="utf-8") as handle:
                found.append(json.load(handle))
        return found


@pytest.fixture(scope="module")
def emulator_url():
    with running_emulator(profile="test") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def rulebooks(emulator_url, tmp_path_factory):  # pylint: disable=redefined-outer-name
    venv = os.environ.get("SCANOPS_EDA_VENV")
    if not venv or not os.path.exists(os.path.join(venv, "bin", "ansible-rulebook")):
        pytest.fail("SCANOPS_EDA_VENV does not hold ansible-rulebook: run this suite with tests/run-tests.sh eda")
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    books = Rulebooks(venv, emulator_url, str(tmp_path_factory.mktemp("eda")))
    milestone("starting the three rulebooks")
    books.start()
    try:
        yield books
    finally:
        books.stop()


def api(base_url, provider):
    headers = {"cloudgeni": {"X-CLOUDGENI-API-KEY": KEYS["cloudgeni"]}, "agilesec": {"isg-api-token": KEYS["agilesec"]},
               "harborguard": {"X-API-Key": KEYS["harborguard"]}}.get(provider, {"Authorization": "Bearer %s" % KEYS[provider]})
    return httpx.Client(base_url=base_url + PATHS[provider], headers=headers, timeout=30)


def checked(answer):
    assert answer.status_code < 300, "%s %s: %s %s" % (answer.request.method, answer.request.url, answer.status_code, answer.text)
    return answer.json() if answer.content else None


def test_rulebooks_fire_each_playbook_once_per_event(emulator_url, rulebooks):  # pylint: disable=redefined-outer-name,too-many-locals
    admin = AdminClient(emulator_url)
    receiver = "http://127.0.0.1:%d" % rulebooks.port
    checkpoints = os.path.join(rulebooks.work, "checkpoints")

    # Ready: the receiver answers, both pollers wrote their first checkpoint (the "now" baseline).
    wait_for("the scan_webhook receiver", lambda: rulebooks.alive() and _health(receiver))
    milestone("scan_webhook answers")
    wait_for("the pollers' first checkpoints", lambda: rulebooks.alive() and len(glob.glob(os.path.join(checkpoints, "*.json"))) == 2)
    milestone("both pollers have their first checkpoint")

    # --- what the vendors do -------------------------------------------------------------------------------
    admin.add_harborguard_webhook(receiver + "/harborguard", SECRETS["HARBORGUARD_WEBHOOK_SECRET"],
                                  events=["scan_complete", "scan_failed", "critical_cve"])
    admin.add_harborguard_webhook(receiver + "/harborguard", "not-the-registered-secret", events=["critical_cve"])
    with api(emulator_url, "cloudgeni") as cloudgeni:
        checked(cloudgeni.post("/organizations/org_123/webhooks", json={
            "url": receiver + "/cloudgeni", "events": ["scan.completed"], "secret": SECRETS["CLOUDGENI_WEBHOOK_SECRET"], "active": True}))
        admin.next_scan("cloudgeni", finding_count=30)
        checked(cloudgeni.post("/organizations/org_123/repositories/repo_abc123/scans", json={"branch": "main"}))
    with api(emulator_url, "agilesec") as agilesec:
        callback = checked(agilesec.post("/v3/callback-endpoints", json={
            "name": "eda-receiver", "url": receiver + "/agilesec", "authType": "bearer", "token": SECRETS["AGILESEC_CALLBACK_TOKEN"]}))
        admin.next_scan("agilesec", outcome="failed")
        checked(agilesec.post("/v3/scan/create", json={
            "sensorType": "GIT Sensor", "sensorName": "eda-payments-git", "callbackId": callback["callbackId"],
            "sensorConfig": {"repositoryUrl": "https://github.com/acme/payments.git"}}))
    with api(emulator_url, "harborguard") as harborguard:
        admin.next_scan("harborguard", finding_count=40)
        checked(harborguard.post("/api/scans", json={"image": IMAGE}))
    with api(emulator_url, "penaxtra") as penaxtra:
        admin.next_scan("penaxtra", finding_count=12)
        checked(penaxtra.post("/api/v2/cloud-posture-runs", json={"integration_id": INTEGRATION}))
        admin.next_scan("penaxtra", outcome="failed")
        checked(penaxtra.post("/api/v2/cloud-posture-runs", json={"integration_id": INTEGRATION}))
    with api(emulator_url, "kolega") as kolega:
        # A repository without findings in the default seed (payments-service's are older than the rulebooks' start).
        repository = next(item["id"] for item in checked(kolega.get("/api/v1/repositories"))["items"] if item["name"] == "web-frontend")
        admin.next_scan("kolega", finding_count=4)
        batch = checked(kolega.post("/api/v1/repositories/%s/scans" % repository, json={"scan_type": "secrets_scan"}))
        wait_for("the Kolega batch to end", lambda: checked(kolega.get(
            "/api/v1/repositories/%s/scans/%s" % (repository, batch.get("batch_id") or batch.get("id"))))["status"] == "completed")
        finding = checked(kolega.get("/api/v1/repositories/%s/findings" % repository))["items"][0]
        checked(kolega.patch("/api/v1/repositories/%s/findings/%s" % (repository, finding["id"]), json={"status": "false_positive"}))

    milestone("the vendors acted")

    # --- the oracle: which event must fire which playbook ----------------------------------------------
    deliveries = wait_for("the webhook deliveries", lambda: _final_deliveries(admin, 5), timeout=60)
    expected = collections.Counter()
    bad_signature = []
    for delivery in deliveries:
        body = json.loads(delivery["body"])
        uuid = events.event_uuid(delivery["vendor"], events.body_digest(delivery["body"].encode("utf-8")))
        if delivery["status_code"] == 401:
            bad_signature.append(uuid)
            continue
        assert delivery["status_code"] == 202, delivery
        if delivery["vendor"] == "harborguard" and body["event"] == "critical_cve":
            expected[("eda_harborguard_triage", uuid)] += 1
        elif delivery["vendor"] == "cloudgeni" and body["data"]["summary"]["critical"] > 0:
            expected[("eda_post_deploy_gate", uuid)] += 1
        elif delivery["vendor"] == "agilesec" and body["status"] == "failed":
            expected[("eda_notify", uuid)] += 1
    assert bad_signature, "the wrongly signed HarborGuard delivery was not refused with 401"
    # A forged delivery of an event nobody sent, with a wrong signature: refused, and nothing runs for it.
    forged = json.dumps({"event": "critical_cve", "severity": "critical", "title": "forged", "message": "forged",
                         "url": "/dashboard/scans/scn-forged", "timestamp": events.utc_now_iso()}).encode()
    answer = httpx.post(receiver + "/harborguard", content=forged, timeout=10,
                        headers={"X-HarborGuard-Signature": events.sign("guessed-secret", forged)})
    assert answer.status_code == 401
    forged_uuid = events.event_uuid("harborguard", events.body_digest(forged))
    with api(emulator_url, "penaxtra") as penaxtra:
        runs = [run for run in checked(penaxtra.get("/api/v2/cloud-posture-runs"))["data"] if run["trigger"] == "manual"]
        assert sorted(run["status"] for run in runs) == ["completed", "failed"]
        findings = checked(penaxtra.get("/api/v2/findings"))["data"]
    for run in runs:
        uuid = events.event_uuid("penaxtra", run["id"])
        if run["status"] == "failed":
            expected[("eda_notify", uuid)] += 1
        elif any(f["scan_id"] == run["id"] and f["severity"] == "critical" for f in findings):
            expected[("eda_post_deploy_gate", uuid)] += 1
    with api(emulator_url, "kolega") as kolega:
        feed = checked(kolega.get("/api/v1/finding-events", params={"limit": 200, "repository_id": repository}))["items"]
    for item in feed:
        if (item["event_type"] == "created" and item["severity"] in ("high", "critical")) or item["event_type"] == "status_changed":
            expected[("eda_notify", events.event_uuid("kolega", item["id"]))] += 1
    playbooks = set(name for name, _uuid in expected)
    assert playbooks == {"eda_post_deploy_gate", "eda_harborguard_triage", "eda_notify"}, \
        "the scenario must exercise every playbook, got %s" % sorted(playbooks)

    # --- every expected run, once; then a grace period in which nothing more may run ---------------------
    milestone("expecting %d playbook runs" % sum(expected.values()))
    wait_for("%d playbook runs" % sum(expected.values()),
             lambda: rulebooks.alive() and set(rulebooks.runs()) >= set(expected), timeout=TIMEOUT)
    milestone("every expected run recorded")
    # A repeated run would start right behind the first one: give it time to show up.
    time.sleep(4)
    actual = rulebooks.runs()
    assert actual == expected, "unexpected or repeated runs: %s; missing: %s" % (
        sorted(set(actual.items()) - set(expected.items())), sorted(set(expected.items()) - set(actual.items())))
    assert not [key for key in actual if key[1] == forged_uuid]
    health = _health(receiver)
    assert health["counters"]["unauthorized"] == len(bad_signature) + 1 and health["counters"]["accepted"] == 4

    # --- what the playbooks did --------------------------------------------------------------------------
    gates = rulebooks.records("eda_post_deploy_gate")
    assert all(record["passed"] is False and record["reports"] for record in gates), gates
    for record in gates:
        assert record["gated_scan_id"] == record["event_scan_id"], record
        assert all(os.path.exists(path) for path in record["reports"])
    (triage,) = rulebooks.records("eda_harborguard_triage")
    assert triage["image"] == IMAGE
    notifications = glob.glob(os.path.join(rulebooks.out, "notifications", "*.json"))
    assert len(notifications) == sum(n for (name, _uuid), n in expected.items() if name == "eda_notify")

    # Secrets reach neither the logs nor the files the playbooks wrote.
    texts = [rulebooks.log(name) for name in rulebooks.logs]
    for path in glob.glob(os.path.join(rulebooks.out, "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read())
    for name, value in SECRETS.items():
        assert not [text for text in texts if value in text], "%s leaked" % name


def _health(receiver):
    try:
        return httpx.get(receiver + "/health", timeout=2).json()
    except httpx.HTTPError:
        return None


def _final_deliveries(admin, count):
    """The last attempt of each delivery, once ``count`` deliveries have ended (accepted or refused)."""
    last = {}
    for entry in admin.deliveries():
        last[(entry["vendor"], entry["event"], entry["body"], entry["url"], entry["request_headers"].get("X-HarborGuard-Signature"))] = entry
    ended = [entry for entry in last.values() if entry["status_code"] is not None and entry["status_code"] < 500]
    return ended if len(ended) >= count else None
