# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hostile API answers with redirects: no request body, secret or credential ever reaches the other origin.

The emulator's ``redirect`` fault answers a module's write with 301/302/303/307/308 (307 alone for
the scan triggers, whose bodies hold no secret) and a
``Location`` on another origin: a small capture server on its own port, which records everything
it receives. Each secret-carrying write of each module is redirected there (callback endpoint
tokens, CloudGeni webhook secrets, ``sensorConfig`` secrets of ``POST /v3/scan/create`` and of a
sensor update), plus every provider's scan trigger. The module must fail naming the Location, and
the capture server must see no request with a body and none of the case's secrets. A redirect to
the same origin (307/308) is still followed with the body, and a read redirected to the other
origin arrives there without the credential.
"""

import collections
import http.server
import secrets
import threading

import pytest

from fuzz_harness import DEMO_KEYS, SUMMARY, Case, execute, connection

STATUSES = (301, 302, 303, 307, 308)
COUNTS = collections.Counter()
AGILESEC_SENSOR = "redirect-suite-sensor"


class CaptureServer(object):
    """Another origin: records every request (method, path, headers, body) and answers 404."""

    def __init__(self):
        self.requests = []
        lock = threading.Lock()
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _capture(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body})
                payload = b'{"error": "not here"}'
                self.send_response(404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _capture

            def log_message(self, *args):  # pylint: disable=arguments-differ
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

    def text(self, entries):
        return "\n".join("%s %s %r %r" % (e["method"], e["path"], e["headers"], e["body"]) for e in entries)


@pytest.fixture(scope="module")
def capture():
    with CaptureServer() as server:
        yield server


@pytest.fixture
def faults(admin_http):
    added = []

    def add(vendor, method, path, status, location, count=None):
        spec = {"kind": "redirect", "vendor": vendor, "method": method, "path": path, "status": status, "location": location,
                "count": count}
        answer = admin_http.post("/_emulator/faults", json=spec)
        assert answer.status_code == 201, answer.text
        added.extend(fault["id"] for fault in answer.json()["faults"])

    yield add
    for fault_id in added:
        admin_http.delete("/_emulator/faults/%d" % fault_id)


def run(module, provider, emulator_url, leaks=(), **args):
    options = connection(emulator_url, provider)
    options.update(args)
    case = Case(module, provider, "-", "redirect", options, leaks)
    execute(case)
    assert case.result is not None, case.output[-2000:]
    return case


def secret(name):
    return "s3cr3t-%s-%s" % (name, secrets.token_hex(8))


# -- the writes that carry a body (and most of them a secret) -------------------------------------------------------------
def callback_create(emulator_url, provider, token):
    if provider == "agilesec":
        return "callback_endpoint", dict(name="redirect-cb-%s" % secrets.token_hex(4), url=emulator_url + "/_emulator/health",
                                         auth_type="bearer", token=token)
    return "callback_endpoint", dict(url="https://hooks.example.com/redirect-%s" % secrets.token_hex(4), token=token)


WRITES = collections.OrderedDict([
    ("callback_endpoint agilesec create (token)", ("agilesec", "POST", "/v3/callback-endpoints")),
    ("callback_endpoint agilesec update (token)", ("agilesec", "PUT", "/v3/callback-endpoints/*")),
    ("callback_endpoint cloudgeni create (webhook secret)", ("cloudgeni", "POST", "/api/v1/organizations/*/webhooks")),
    ("callback_endpoint cloudgeni update (webhook secret)", ("cloudgeni", "PATCH", "/api/v1/organizations/*/webhooks/*")),
    ("scan_sensor create, POST /v3/scan/create (sensorConfig secrets)", ("agilesec", "POST", "/v3/scan/create")),
    ("scan_sensor update (sensorConfig secrets)", ("agilesec", "PUT", "/v3/sensors/*")),
    ("scan_run agilesec trigger", ("agilesec", "POST", "/v3/scan/execute")),
    ("scan_run cloudgeni trigger", ("cloudgeni", "POST", "/api/v1/organizations/*/repositories/*/scans")),
    ("scan_run kolega trigger", ("kolega", "POST", "/api/v1/repositories/*/scans")),
    ("scan_run harborguard trigger", ("harborguard", "POST", "/api/scans")),
    ("scan_run penaxtra trigger", ("penaxtra", "POST", "/api/v2/cloud-posture-runs")),
])


def prepare(write, emulator_url):
    """``(module, args, secrets)`` of one write; objects an update needs are created first (without faults)."""
    provider = WRITES[write][0]
    value = secret("redirect")
    if write.startswith("callback_endpoint") and write.endswith("create (token)") or "cloudgeni create" in write:
        module, args = callback_create(emulator_url, provider, value)
        return module, args, (value,)
    if write.startswith("callback_endpoint"):
        module, args = callback_create(emulator_url, provider, secret("first"))
        assert not run(module, provider, emulator_url, **args).result.get("failed")
        return module, dict(args, token=value, update_token="always"), (value,)
    config = {"repositoryUrl": "https://git.example.com/acme/api.git", "username": "scanner", "password": value}
    if write.startswith("scan_sensor create"):
        return "scan_sensor", dict(name="redirect-sensor-%s" % secrets.token_hex(4), sensor_type="GIT Sensor", config=config), (value,)
    if write.startswith("scan_sensor update"):
        name = "redirect-sensor-%s" % secrets.token_hex(4)
        first = dict(config, password=secret("first"))
        assert not run("scan_sensor", provider, emulator_url, name=name, sensor_type="GIT Sensor", config=first).result.get("failed")
        return "scan_sensor", dict(name=name, config=config, update_secrets="always"), (value,)
    targets = {
        "agilesec": dict(sensor=AGILESEC_SENSOR),
        "cloudgeni": dict(repository="myorg/networking"),
        "kolega": dict(repository="web-frontend", scan_type="secrets_scan"),
        "harborguard": dict(image="ghcr.io/acme/api:1.5.0-rc1"),
        "penaxtra": dict(integration_id="b5e8c1d4-6f2a-4b9c-a3e7-0d1f2a3b4c5d"),
    }
    if provider == "agilesec":
        run("scan_sensor", "agilesec", emulator_url, name=AGILESEC_SENSOR, sensor_type="GIT Sensor",
            config={"repositoryUrl": "https://git.example.com/acme/web.git"})
    return "scan_run", dict(targets[provider], force=True, wait=False), ()


def cross_origin_cases():
    """Every redirect status for the writes that carry a secret, 307 for the scan triggers."""
    return [(write, status) for write in WRITES for status in (STATUSES if not write.startswith("scan_run") else (307,))]


@pytest.mark.parametrize("write,status", cross_origin_cases())
def test_a_write_redirected_to_another_origin_is_not_followed(write, status, emulator_url, capture, faults):
    provider, method, path = WRITES[write]
    module, args, case_secrets = prepare(write, emulator_url)
    before = len(capture.requests)
    faults(provider, method, path, status, capture.url + "{path}")
    case = run(module, provider, emulator_url, leaks=case_secrets + (DEMO_KEYS[provider],), **args)
    seen = capture.requests[before:]
    COUNTS["cross-origin redirects of a request with a body"] += 1
    COUNTS["requests at the other origin"] += len(seen)
    COUNTS["with a body"] += sum(1 for entry in seen if entry["body"])
    COUNTS["carrying a secret of the case"] += sum(1 for entry in seen for value in case_secrets if value in capture.text([entry]))
    COUNTS["carrying the API key"] += sum(1 for entry in seen if DEMO_KEYS[provider] in capture.text([entry]))
    failed_naming = bool(case.result.get("failed")) and "Location: %s" % capture.url in case.result.get("msg", "")
    COUNTS["failed naming the Location"] += failed_naming
    _summary()
    assert seen == [], capture.text(seen)
    assert failed_naming, case.result.get("msg")
    assert not any(value in case.output for value in case_secrets + (DEMO_KEYS[provider],))


@pytest.mark.parametrize("write,status", [(w, 307 if index % 2 else 308) for index, w in enumerate(WRITES) if "create" in w or "trigger" in w])
def test_a_write_redirected_within_the_origin_is_followed_with_its_body(write, status, emulator_url, capture, faults, admin_http):
    provider, method, path = WRITES[write]
    module, args, case_secrets = prepare(write, emulator_url)
    since = admin_http.get("/_emulator/requests", params={"vendor": provider, "method": method}).json()["items"]
    last = since[-1]["id"] if since else 0
    faults(provider, method, path, status, "{path}", count=1)
    case = run(module, provider, emulator_url, leaks=case_secrets + (DEMO_KEYS[provider],), **args)
    writes = admin_http.get("/_emulator/requests", params={"vendor": provider, "method": method, "since_id": last}).json()["items"]
    writes = [entry for entry in writes if entry["route"] != "/_emulator/requests"]
    COUNTS["same-origin redirects of a write"] += 1
    followed = [entry["fault"] for entry in writes] == ["redirect", None] and 200 <= writes[-1]["status"] < 300
    COUNTS["followed with the body and converged"] += followed and not case.result.get("failed")
    _summary()
    assert not case.result.get("failed"), case.result.get("msg")
    assert followed, writes


@pytest.mark.parametrize("module,provider,path,args", [
    ("scan_sensor_info", "agilesec", "/v3/sensors", {}),
    ("scan_info", "harborguard", "/api/scans", {"image": "ghcr.io/acme/api:1.4.6"}),
    ("finding_info", "kolega", "/api/v1/repositories/*/findings", {"repository": "payments-service"}),
])
def test_a_read_redirected_to_another_origin_arrives_without_the_credential(module, provider, path, args, emulator_url, capture,
                                                                            faults):
    before = len(capture.requests)
    faults(provider, "GET", path, 302, capture.url + "{path}")
    case = run(module, provider, emulator_url, **args)
    seen = capture.requests[before:]
    COUNTS["cross-origin redirects of a read"] += 1
    COUNTS["reads followed to the other origin"] += len(seen)
    COUNTS["reads there carrying the API key"] += sum(1 for entry in seen if DEMO_KEYS[provider] in capture.text([entry]))
    _summary()
    # Kolega reads the repository as an id, then (after the 404) as a name: one or two reads arrive.
    assert seen and all(entry["method"] == "GET" and entry["body"] == b"" for entry in seen)
    assert DEMO_KEYS[provider] not in capture.text(seen)
    assert case.result.get("failed") and "HTTP 404" in case.result["msg"]


def _summary():
    counts = COUNTS
    SUMMARY["redirect suite: a hostile API redirects requests to another origin (capture server)"] = [
        "redirects: %d cross-origin redirects of a request with a body (%d writes, statuses %s): %d failed naming the Location; "
        "at the other origin: %d requests, %d with a body, %d carrying a secret of the case, %d carrying the API key"
        % (counts["cross-origin redirects of a request with a body"], len(WRITES), "/".join(str(s) for s in STATUSES),
           counts["failed naming the Location"], counts["requests at the other origin"], counts["with a body"],
           counts["carrying a secret of the case"], counts["carrying the API key"]),
        "redirects: %d same-origin 307/308 redirects of a write, %d followed with the body and converged"
        % (counts["same-origin redirects of a write"], counts["followed with the body and converged"]),
        "redirects: %d cross-origin redirects of a read, %d followed, %d of them carrying the API key"
        % (counts["cross-origin redirects of a read"], counts["reads followed to the other origin"],
           counts["reads there carrying the API key"]),
    ]
