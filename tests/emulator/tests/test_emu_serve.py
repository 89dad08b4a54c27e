# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""serve.py: exactly one ready line, a free port with --port 0, the demo profile's settings, and connection
drops under either of uvicorn's HTTP implementations."""

import re
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import uvicorn

from emu_helpers import HARBORGUARD_KEY
from scanops_emulator.admin_client import AdminClient
from scanops_emulator.app import create_app
from scanops_emulator.cli import http_implementation
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


@pytest.mark.parametrize("implementation", ["h11", "httptools"])
def test_connection_drops_work_with_either_http_implementation(implementation):
    """The drop faults abort the transport of uvicorn's request cycle, which both of its HTTP implementations have;
    serve.py picks httptools whenever it is installed."""
    pytest.importorskip(implementation)
    if implementation == "httptools":
        assert http_implementation() == "httptools"
    app, _emulator = create_app(profile="test")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    base_url = "http://127.0.0.1:%d" % sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, http=implementation, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn (%s) did not start" % implementation
            time.sleep(0.02)
        with AdminClient(base_url) as admin, httpx.Client(base_url=base_url, timeout=5.0) as client:
            for kind in ("drop_before", "drop_after"):
                admin.add_fault(kind, vendor="harborguard", method="GET", path="/api/scans", count=1)
                with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                    client.get("/harborguard/api/scans", headers={"X-API-Key": HARBORGUARD_KEY})
            assert client.get("/harborguard/api/scans", headers={"X-API-Key": HARBORGUARD_KEY}).status_code == 200
    finally:
        server.should_exit = True
        thread.join(10)


def test_path_prefix_serves_everything_below_it_and_nothing_else():
    from scanops_emulator.launcher import running_emulator  # pylint: disable=import-outside-toplevel
    with running_emulator(path_prefix="/gateway/scanops/") as base_url:
        root, prefix = re.match(r"^(http://127\.0\.0\.1:\d+)(/gateway/scanops)$", base_url).groups()
        assert prefix == "/gateway/scanops"
        assert httpx.get(base_url + "/_emulator/health").json()["status"] == "ok"
        sensors = httpx.get(base_url + "/agilesec/v3/sensors", headers={"isg-api-token": "isg_demo_token_7c3e9a1f5b2d4e60a8c1"})
        assert sensors.status_code == 200 and sensors.json()["data"][0]["sensorName"] == "payments-git"
        # A vendor's own 404 below the prefix, a plain 404 outside it.
        assert httpx.get(base_url + "/harborguard/api/nothing").status_code == 404
        assert httpx.get(root + "/_emulator/health").status_code == 404
        assert httpx.get(root + "/gateway/scanopsX/_emulator/health").status_code == 404
        logged = httpx.get(base_url + "/_emulator/requests", params={"vendor": "agilesec"}).json()["items"]
        assert [entry["path"] for entry in logged] == ["/agilesec/v3/sensors"]
