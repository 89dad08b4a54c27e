# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callbacks and webhooks reach a local receiver with the documented payloads, auth and signatures."""

import hashlib
import hmac
import http.server
import json
import threading

import pytest

from emu_helpers import AGILESEC, AS, CG, CLOUDGENI, CLOUDGENI_READWRITE, HARBORGUARD, HG, wait_for


class Receiver(http.server.ThreadingHTTPServer):
    """Records every request it gets; answers 200 (or ``status`` for POSTs)."""

    daemon_threads = True

    def __init__(self):
        self.received = []
        self.status = 200
        super().__init__(("127.0.0.1", 0), ReceiverHandler)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def posts(self):
        return [item for item in self.received if item["method"] == "POST"]


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def _record(self, method):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.received.append({"method": method, "path": self.path, "headers": dict(self.headers.items()), "body": body})
        self.send_response(self.server.status if method == "POST" else 200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self):  # pylint: disable=invalid-name
        self._record("POST")

    def do_HEAD(self):  # pylint: disable=invalid-name
        self._record("HEAD")

    def log_message(self, *args):  # pylint: disable=arguments-differ
        return


@pytest.fixture()
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_agilesec_callback_with_api_token_header(http, admin, receiver):  # pylint: disable=redefined-outer-name
    created = http.post(AS + "/callback-endpoints", json={"name": "scans-callback-prod", "url": receiver.url + "/isg",
                                                          "authType": "api_token", "headerName": "X-Custom-Auth", "token": "s3cret-value"},
                        headers=AGILESEC)
    assert created.status_code == 200
    callback = created.json()
    assert len(callback["callbackId"]) == 24 and "token" not in callback and callback["headerName"] == "X-Custom-Auth"
    assert [item["method"] for item in receiver.received] == ["HEAD"]
    body = {"sensorType": "GIT Sensor", "sensorName": "repo-git", "sensorConfig": {"url": "https://github.com/acme/repo.git"},
            "callbackId": callback["callbackId"], "labels": [{"env": "prod"}]}
    started = http.post(AS + "/scan/create", json=body, headers=AGILESEC).json()
    wait_for(receiver.posts)
    post = receiver.posts()[0]
    assert post["headers"]["X-Custom-Auth"] == "s3cret-value" and post["path"] == "/isg"
    payload = json.loads(post["body"])
    assert payload["sensorId"] == started["sensorId"] and payload["executionId"] == started["executionId"]
    assert payload["status"] == "successful" and payload["labels"] == [{"env": "prod"}] and "errorCode" not in payload
    logged = admin.wait_for_deliveries(1, vendor="agilesec")
    assert logged[0]["delivered"] and logged[0]["request_headers"]["X-Custom-Auth"] == "<redacted>"
    assert "s3cret-value" not in json.dumps(admin.deliveries())


def test_agilesec_failed_execution_bearer_callback_and_retries(http, admin, receiver):  # pylint: disable=redefined-outer-name
    callback = http.post(AS + "/callback-endpoints", json={"name": "bearer", "url": receiver.url + "/cb", "authType": "bearer",
                                                           "token": "tok-123"}, headers=AGILESEC).json()
    admin.config("agilesec", outcome="failed")
    admin.delivery_retry_delays([0.05, 0.05])
    receiver.status = 503
    http.post(AS + "/scan/create", json={"sensorType": "GitLab Sensor", "sensorName": "gl", "sensorConfig": {"group": "acme"},
                                         "callbackId": callback["callbackId"]}, headers=AGILESEC)
    attempts = admin.wait_for_deliveries(3, vendor="agilesec")
    assert [attempt["attempt"] for attempt in attempts] == [1, 2, 3] and not any(attempt["delivered"] for attempt in attempts)
    payload = json.loads(receiver.posts()[0]["body"])
    assert payload["status"] == "failed" and payload["errorCode"] == "gitlab-1004"
    assert receiver.posts()[0]["headers"]["Authorization"] == "Bearer tok-123"


def test_cloudgeni_scan_completed_webhook(http, admin, receiver):  # pylint: disable=redefined-outer-name
    denied = http.post(CG + "/webhooks", json={"url": receiver.url}, headers=CLOUDGENI_READWRITE)
    assert denied.status_code == 403
    hook = http.post(CG + "/webhooks", json={"url": receiver.url + "/cg", "events": ["scan.completed"], "secret": "whsec"}, headers=CLOUDGENI)
    assert hook.status_code == 201 and hook.json()["id"].startswith("wh_") and "secret" not in hook.json()
    # Zero durations: the scan is complete on creation and the webhook still goes out.
    admin.config("cloudgeni", queued_seconds=0, running_seconds=0)
    scan = http.post(CG + "/repositories/repo_abc123/scans", json={}, headers=CLOUDGENI).json()
    assert scan["status"] == "completed"
    wait_for(receiver.posts)
    post = receiver.posts()[0]
    payload = json.loads(post["body"])
    assert payload["event"] == "scan.completed" and payload["data"]["scanId"] == scan["id"]
    assert payload["data"]["repositoryName"] == "myorg/infrastructure" and payload["data"]["status"] == "completed"
    summary = http.get(CG + "/repositories/repo_abc123/scans/" + scan["id"], headers=CLOUDGENI).json()["summary"]
    assert payload["data"]["summary"] == {key: summary[key] for key in ("total", "critical", "high", "medium", "low")}
    expected = "sha256=" + hmac.new(b"whsec", post["body"], hashlib.sha256).hexdigest()
    assert post["headers"]["X-CloudGeni-Signature"] == expected
    assert http.delete(CG + "/webhooks/" + hook.json()["id"], headers=CLOUDGENI).status_code == 204
    assert http.get(CG + "/webhooks", headers=CLOUDGENI).json()["pagination"]["total"] == 0


def test_harborguard_signed_webhooks(http, admin, receiver):  # pylint: disable=redefined-outer-name
    admin.add_harborguard_webhook(receiver.url + "/hg", "hg-secret")
    admin.config("harborguard", finding_count=60)
    http.post(HG + "/scans", json={"image": "ghcr.io/acme/api:1.4.9"}, headers=HARBORGUARD)
    wait_for(lambda: len(receiver.posts()) >= 2)
    events = {}
    for post in receiver.posts():
        expected = "sha256=" + hmac.new(b"hg-secret", post["body"], hashlib.sha256).hexdigest()
        assert post["headers"]["X-HarborGuard-Signature"] == expected
        payload = json.loads(post["body"])
        assert set(payload) == {"event", "severity", "title", "message", "url", "timestamp"}
        events[payload["event"]] = payload
    assert set(events) == {"scan_complete", "critical_cve"}
    assert "ghcr.io/acme/api:1.4.9" in events["scan_complete"]["title"]


def test_a_delivery_that_comes_due_during_a_kolega_request_is_sent():
    """Kolega's credential check runs the scheduler like every handler; it must run on the event loop,
    where deliveries are started (a sync FastAPI dependency would run it in a worker thread)."""
    import asyncio  # pylint: disable=import-outside-toplevel

    import httpx  # pylint: disable=import-outside-toplevel

    from scanops_emulator.app import create_app  # pylint: disable=import-outside-toplevel

    async def scenario():
        app, emulator = create_app()
        emulator.config["delivery_retry_delays"] = []
        emulator.at(0, lambda now: emulator.deliver("agilesec", "callback", "successful", "http://127.0.0.1:9/none", b"{}", {}))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator") as client:
            answer = await client.get("/kolega/api/v1/me", headers={"Authorization": "Bearer kcp_live_demo_5b1e9c3a7d2f4e6081a9"})
        await asyncio.gather(*emulator.delivery_tasks, return_exceptions=True)
        await emulator.close()
        return answer.status_code, emulator.read_deliveries("agilesec")

    status, deliveries = asyncio.run(scenario())
    assert status == 200
    assert len(deliveries) == 1 and deliveries[0]["error"]
