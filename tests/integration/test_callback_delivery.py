# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End to end: a sensor created with scan_sensor, referencing an endpoint registered with
callback_endpoint, makes the emulated AgileSec deliver the documented callback, with the
configured auth header, to a receiver this test runs."""

import http.server
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import OUTPUT_DIR, TargetRunner

HERE = os.path.dirname(os.path.abspath(__file__))
ROLES_DIR = os.path.join(HERE, "roles")
# Documented callback payload fields (AgileSec Scan API, section 6); errorCode only when failed.
PAYLOAD_FIELDS = {"sensorId", "executionId", "status", "message", "labels"}


class Receiver(object):
    """A plain HTTP server on loopback that records every request it gets."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):  # the platform's reachability check
                self._record(b"")
                self.send_response(200)
                self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._record(self.rfile.read(length))
                self.send_response(204)
                self.end_headers()

            def _record(self, body):
                with receiver.lock:
                    receiver.requests.append({"method": self.command, "path": self.path,
                                              "headers": dict(self.headers.items()), "body": body})

            def log_message(self, *args):  # keep pytest output quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def posts(self, path):
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]

    def wait_for_posts(self, paths, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.posts(path) for path in paths):
                return
            time.sleep(0.1)
        raise AssertionError("no callback at %s within %ss; got %r" % (paths, timeout, [(r["method"], r["path"]) for r in self.requests]))


def run_role(runner, role, extra_vars):
    """Run one helper role like the target runner does (-vvv), answer (returncode, output, secrets)."""
    out_dir = os.path.join(OUTPUT_DIR, role)
    os.makedirs(out_dir, exist_ok=True)
    providers = runner.provider_vars()
    test_secrets = {name: "s3cr3t-%s-%s" % (name, os.urandom(12).hex())
                    for name in ("callback_token", "sensor_password", "sensor_token", "webhook_secret")}
    variables = {"scanops_emulator_url": runner.base_url, "scanops_providers": providers,
                 "scanops_test_secrets": test_secrets, "scanops_output_dir": out_dir}
    variables.update(extra_vars)
    vars_file = os.path.join(OUTPUT_DIR, "%s.vars.json" % role)
    with open(vars_file, "w", encoding="utf-8") as handle:
        json.dump(variables, handle)
    playbook = os.path.join(OUTPUT_DIR, "%s.play.yml" % role)
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write("- hosts: localhost\n  gather_facts: false\n  roles:\n    - %s\n" % role)
    inventory = os.path.join(OUTPUT_DIR, "%s.inventory.ini" % role)
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    env = dict(os.environ, ANSIBLE_ROLES_PATH=ROLES_DIR, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOCALHOST_WARNING="0")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", inventory, "-e", "@" + vars_file, playbook]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200, check=False)
    output = done.stdout + done.stderr
    with open(os.path.join(OUTPUT_DIR, "%s.log" % role), "w", encoding="utf-8") as handle:
        handle.write(output)
    secrets = dict(test_secrets)
    secrets.update({"%s api_key" % name: conf["api_key"] for name, conf in providers.items()})
    return done.returncode, output, secrets, out_dir


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def test_sensor_execution_delivers_callback_with_auth_header(emulator_url, admin, receiver):
    admin.reset()
    runner = TargetRunner(emulator_url, admin)
    returncode, output, secrets, out_dir = run_role(runner, "callback_delivery", {"scanops_receiver_url": receiver.url})
    assert returncode == 0, "callback_delivery failed (log in tests/output/integration/callback_delivery.log):\n%s" % output[-3000:]
    assert "Traceback (most recent call last)" not in output
    assert sorted(name for name, value in secrets.items() if value in output) == []

    with open(os.path.join(out_dir, "delivery.json"), encoding="utf-8") as handle:
        ids = json.load(handle)
    # Registration: the platform checked both URLs answer before accepting them.
    assert {r["path"] for r in receiver.requests if r["method"] == "HEAD"} == {"/api-token", "/bearer"}

    receiver.wait_for_posts(["/api-token", "/bearer"])
    cases = (("/api-token", "api_token", "x-scan-callback-token", secrets["callback_token"], {"suite": "delivery", "kind": "api_token"}),
             ("/bearer", "bearer", "authorization", "Bearer " + secrets["webhook_secret"], {"suite": "delivery"}))
    for path, case, header, expected, labels in cases:
        posts = receiver.posts(path)
        assert len(posts) == 1, "%s: expected one callback, got %d" % (path, len(posts))
        headers = dict((k.lower(), v) for k, v in posts[0]["headers"].items())
        # Compare, never print: the values are secrets.
        assert headers.get(header) == expected, "%s: the %s header is missing or wrong" % (path, header)
        assert headers.get("content-type", "").startswith("application/json")
        payload = json.loads(posts[0]["body"])
        assert PAYLOAD_FIELDS <= set(payload) <= PAYLOAD_FIELDS | {"errorCode"}
        assert payload["sensorId"] == ids[case]["sensor_id"]
        assert payload["executionId"] == ids[case]["execution_id"]
        assert payload["status"] in ("successful", "failed")
        assert ("errorCode" in payload) == (payload["status"] == "failed")
        assert isinstance(payload["message"], str) and payload["message"]
        assert all(isinstance(label, dict) and len(label) == 1 for label in payload["labels"])
        merged = {}
        for label in payload["labels"]:
            merged.update(label)
        assert merged == labels
    # The API-token endpoint's token goes only in its own header; the bearer one has no such header.
    bearer_headers = dict((k.lower(), v) for k, v in receiver.posts("/bearer")[0]["headers"].items())
    assert "x-scan-callback-token" not in bearer_headers

    # The emulator's delivery log shows the same deliveries, header values redacted.
    items = admin.deliveries(vendor="agilesec", kind="callback")
    assert sorted(item["url"] for item in items if item["delivered"]) == [receiver.url + "/api-token", receiver.url + "/bearer"]
    for item in items:
        assert secrets["callback_token"] not in json.dumps(item) and secrets["webhook_secret"] not in json.dumps(item)
