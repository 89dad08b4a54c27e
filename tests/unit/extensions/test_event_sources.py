# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source plugins under extensions/eda: the scan_webhook receiver, started on a free port
inside the test's event loop and posted to with a real HTTP client, and the documentation of all
three sources against their argument specs."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import asyncio
import datetime
import importlib
import json
import os
import runpy
import ssl
import time

import httpx
import pytest
import yaml

from ansible_collections.scanops.security.plugins.module_utils import eda_events as events
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, os.pardir))
SOURCES_DIR = os.path.join(ROOT, "extensions", "eda", "plugins", "event_source")
SOURCES = ("scan_webhook", "finding_events", "scan_events")
HG_SECRET = "hg-whsec-unit-7d1e"
CG_SECRET = "cg-whsec-unit-2a9c"
TOKEN = "agilesec-callback-unit-51f0"


def load(name):
    """The source module as ansible-rulebook loads it (runpy from its file)."""
    return runpy.run_path(os.path.join(SOURCES_DIR, name + ".py"))


WEBHOOK = load("scan_webhook")


def now_iso(offset=0.0):
    return events.utc_now_iso(time.time() + offset)


def harborguard_body(event="critical_cve", scan="scn-1", offset=0.0):
    return json.dumps({"event": event, "severity": "critical", "title": "t", "message": "m",
                       "url": "/dashboard/scans/%s" % scan, "timestamp": now_iso(offset)}, separators=(",", ":")).encode()


def cloudgeni_body(scan="scan_1", offset=0.0):
    return json.dumps({"event": "scan.completed", "timestamp": now_iso(offset),
                       "data": {"scanId": scan, "repositoryId": "repo_abc123", "repositoryName": "myorg/infrastructure",
                                "branch": "main", "status": "completed",
                                "summary": {"total": 3, "critical": 1, "high": 2, "medium": 0, "low": 0}}}).encode()


AGILESEC_BODY = json.dumps({"sensorId": "a" * 24, "executionId": "b" * 24, "status": "successful", "message": "done",
                            "labels": []}).encode()


class Harness(object):
    """A running receiver and an HTTP client to it."""

    def __init__(self, queue, receiver, client):
        self.queue = queue
        self.receiver = receiver
        self.client = client

    async def post(self, provider, body, headers=None, sign=None):
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        if sign:
            headers[events.SIGNATURE_HEADERS[provider]] = events.sign(sign, body)
        return await self.client.post("/%s" % provider, content=body, headers=headers)

    def drain(self):
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


async def until(condition, timeout=20.0):
    """Wait for a receiver state instead of sleeping a guessed time (the machine may be loaded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the receiver never reached the expected state"
        await asyncio.sleep(0.01)


def webhook(test, queue=None, scheme="http", verify=True, **options):
    """Run ``test(harness)`` against a receiver started on a free port with ``options``."""
    args = {"host": "127.0.0.1", "port": 0, "harborguard_secret": HG_SECRET, "cloudgeni_secret": CG_SECRET,
            "agilesec_token": TOKEN}
    args.update(options)

    async def scenario():
        work_queue = queue if queue is not None else asyncio.Queue()
        receiver = WEBHOOK["WebhookReceiver"](work_queue, WEBHOOK["receiver_options"](args))
        port = await receiver.start()
        try:
            async with httpx.AsyncClient(base_url="%s://127.0.0.1:%d" % (scheme, port), verify=verify, timeout=10) as client:
                return await test(Harness(work_queue, receiver, client))
        finally:
            await receiver.stop()

    return asyncio.run(scenario())


# -- accepted deliveries ---------------------------------------------------------------------------------------
def test_each_platform_delivery_becomes_one_normalized_event():
    async def test(h):
        answers = [await h.post("harborguard", harborguard_body(), sign=HG_SECRET),
                   await h.post("cloudgeni", cloudgeni_body(), sign=CG_SECRET),
                   await h.post("agilesec", AGILESEC_BODY, headers={"Authorization": "Bearer %s" % TOKEN})]
        return answers, h.drain()

    answers, queued = webhook(test)
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [e["scanops"]["provider"] for e in queued] == ["harborguard", "cloudgeni", "agilesec"]
    hg, cg, ag = [e["scanops"] for e in queued]
    assert (hg["event_type"], hg["scan_id"], hg["status"]) == ("critical_cve", "scn-1", "completed")
    assert (cg["event_type"], cg["scan_id"], cg["severity_counts"]["critical"]) == ("scan_completed", "scan_1", 1)
    assert (ag["event_type"], ag["status"], ag["scan_id"]) == ("scan_completed", "completed", "b" * 24)
    assert queued[1]["payload"]["data"]["repositoryName"] == "myorg/infrastructure"
    assert answers[0].json()["uuid"] == queued[0]["meta"]["uuid"]
    assert queued[0]["meta"]["headers"]["Content-Type"] == "application/json"
    # Credentials and signatures never reach an event.
    text = json.dumps(queued)
    assert TOKEN not in text and "X-HarborGuard-Signature" not in text and "sha256=" not in text


def test_agilesec_api_token_and_no_auth():
    async def api_token(h):
        good = await h.post("agilesec", AGILESEC_BODY, headers={"X-Callback-Token": TOKEN})
        bearer = await h.post("agilesec", AGILESEC_BODY.replace(b"done", b"again"), headers={"Authorization": "Bearer %s" % TOKEN})
        return good.status_code, bearer.status_code, len(h.drain())

    assert webhook(api_token, providers=["agilesec"], agilesec_auth_type="api_token",
                   agilesec_header_name="X-Callback-Token") == (202, 401, 1)

    async def no_auth(h):
        return (await h.post("agilesec", AGILESEC_BODY)).status_code, len(h.drain())

    assert webhook(no_auth, providers=["agilesec"], agilesec_auth_type="none", agilesec_token=None) == (202, 1)


# -- refused deliveries -----------------------------------------------------------------------------------------
def test_wrong_or_missing_credentials_are_401_counted_and_emit_nothing():
    async def test(h):
        body = harborguard_body()
        answers = [await h.post("harborguard", body),
                   await h.post("harborguard", body, sign="not-the-secret"),
                   await h.post("harborguard", body, headers={"X-HarborGuard-Signature": events.sign(HG_SECRET, body + b" ")}),
                   await h.post("cloudgeni", cloudgeni_body(), sign=HG_SECRET),
                   await h.post("agilesec", AGILESEC_BODY, headers={"Authorization": "Bearer wrong"}),
                   await h.post("agilesec", AGILESEC_BODY)]
        health = (await h.client.get("/health")).json()
        return [a.status_code for a in answers], h.drain(), health

    statuses, queued, health = webhook(test)
    assert statuses == [401] * 6
    assert queued == []
    assert health["counters"]["unauthorized"] == 6 and health["counters"]["accepted"] == 0


def test_malformed_and_oversized_bodies():
    async def test(h):
        not_json = await h.post("harborguard", b"{not json", sign=HG_SECRET)
        array = await h.post("harborguard", b"[1, 2]", sign=HG_SECRET)
        big = b'{"event": "critical_cve", "pad": "' + b"x" * 3000 + b'"}'
        too_large = await h.post("harborguard", big, sign=HG_SECRET)

        async def chunks():
            for _chunk in range(4):
                yield b"x" * 1000

        chunked = await h.client.post("/harborguard", content=chunks())
        return [r.status_code for r in (not_json, array, too_large, chunked)], h.drain(), h.receiver.counters

    statuses, queued, counters = webhook(test, max_body_bytes=2048)
    assert statuses == [400, 400, 413, 413]
    assert queued == []
    assert (counters["malformed"], counters["too_large"]) == (2, 2)


def test_replay_window_rejects_old_and_future_signed_timestamps():
    async def test(h):
        old = await h.post("harborguard", harborguard_body(offset=-120), sign=HG_SECRET)
        future = await h.post("cloudgeni", cloudgeni_body(offset=120), sign=CG_SECRET)
        fresh = await h.post("harborguard", harborguard_body(offset=-30), sign=HG_SECRET)
        return [r.status_code for r in (old, future, fresh)], len(h.drain()), h.receiver.counters["replayed"]

    assert webhook(test, replay_window=60) == ([401, 401, 202], 1, 2)

    async def off(h):
        return (await h.post("harborguard", harborguard_body(offset=-86400), sign=HG_SECRET)).status_code

    assert webhook(off, replay_window=0) == 202


def test_vendor_retries_of_one_delivery_emit_one_event():
    async def test(h):
        body = harborguard_body()
        answers = [await h.post("harborguard", body, sign=HG_SECRET) for _attempt in range(3)]
        other = await h.post("harborguard", harborguard_body(scan="scn-2"), sign=HG_SECRET)
        return [a.status_code for a in answers] + [other.status_code], h.drain(), h.receiver.counters["duplicates"]

    statuses, queued, duplicates = webhook(test)
    assert statuses == [202, 200, 200, 202]
    assert [e["scanops"]["scan_id"] for e in queued] == ["scn-1", "scn-2"]
    assert duplicates == 2


def test_a_delivery_is_remembered_only_for_the_dedupe_ttl():
    async def test(h):
        body = AGILESEC_BODY
        first = await h.post("agilesec", body, headers={"Authorization": "Bearer %s" % TOKEN})
        await asyncio.sleep(0.3)
        again = await h.post("agilesec", body, headers={"Authorization": "Bearer %s" % TOKEN})
        return first.status_code, again.status_code, len(h.drain())

    assert webhook(test, dedupe_ttl=0.2) == (202, 202, 2)


# -- back pressure -------------------------------------------------------------------------------------------------
def test_a_full_queue_answers_503_and_the_retry_is_accepted_once():
    queue = asyncio.Queue(1)

    async def test(h):
        queue.put_nowait({"placeholder": True})
        body = harborguard_body()
        busy = await h.post("harborguard", body, sign=HG_SECRET)
        h.drain()
        retried = await h.post("harborguard", body, sign=HG_SECRET)
        return busy, retried, h.drain()

    busy, retried, queued = webhook(test, queue=queue, queue_timeout=0.2)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert retried.status_code == 202
    assert len(queued) == 1 and queued[0]["scanops"]["scan_id"] == "scn-1"


def test_a_retry_that_arrives_while_the_first_waits_gets_the_first_answer():
    queue = asyncio.Queue(1)

    async def test(h):
        queue.put_nowait({"placeholder": True})
        body = harborguard_body()
        first = asyncio.ensure_future(h.post("harborguard", body, sign=HG_SECRET))
        await until(lambda: h.receiver.pending == 1)
        second = asyncio.ensure_future(h.post("harborguard", body, sign=HG_SECRET))
        # The second copy is read and checked, then waits for the first one's answer.
        await until(lambda: h.receiver.waiting_retries == 1)
        placeholder = queue.get_nowait()
        answers = await asyncio.gather(first, second)
        return placeholder, [a.status_code for a in answers], h.drain()

    placeholder, statuses, queued = webhook(test, queue=queue, queue_timeout=5)
    assert placeholder == {"placeholder": True}
    assert statuses == [202, 200]
    assert len(queued) == 1


def test_max_pending_bounds_the_deliveries_waiting_for_the_engine():
    queue = asyncio.Queue(1)

    async def test(h):
        queue.put_nowait({"placeholder": True})
        waiting = asyncio.ensure_future(h.post("harborguard", harborguard_body(), sign=HG_SECRET))
        await until(lambda: h.receiver.pending == 1)
        refused = await h.post("harborguard", harborguard_body(scan="scn-2"), sign=HG_SECRET)
        queue.get_nowait()
        return (await waiting).status_code, refused.status_code

    assert webhook(test, queue=queue, max_pending=1, queue_timeout=5) == (202, 503)


# -- routes, shutdown, TLS ------------------------------------------------------------------------------------------
def test_health_probe_and_unknown_paths():
    async def test(h):
        health = await h.client.get("/health")
        head = await h.client.head("/agilesec")
        unknown = await h.post("penaxtra", b"{}")
        disabled = await h.client.post("/cloudgeni", content=cloudgeni_body())
        return health.json(), head.status_code, unknown.status_code, disabled.status_code

    health, head, unknown, disabled = webhook(test, providers=["agilesec", "harborguard"])
    assert health["status"] == "ok" and health["providers"] == ["agilesec", "harborguard"]
    assert (head, unknown, disabled) == (200, 404, 404)


def test_shutdown_answers_waiting_deliveries_503_and_stops_listening():
    queue = asyncio.Queue(1)

    async def scenario():
        queue.put_nowait({"placeholder": True})
        args = {"host": "127.0.0.1", "port": 0, "harborguard_secret": HG_SECRET, "queue_timeout": 30}
        receiver = WEBHOOK["WebhookReceiver"](queue, WEBHOOK["receiver_options"](args))
        port = await receiver.start()
        url = "http://127.0.0.1:%d" % port
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            body = harborguard_body()
            waiting = asyncio.ensure_future(client.post("/harborguard", content=body,
                                                        headers={"X-HarborGuard-Signature": events.sign(HG_SECRET, body)}))
            await until(lambda: receiver.pending == 1)
            started = time.monotonic()
            await receiver.stop()
            answer = await waiting
            elapsed = time.monotonic() - started
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("/health")
        return answer.status_code, elapsed, queue.qsize()

    status, elapsed, size = asyncio.run(scenario())
    assert status == 503 and size == 1
    assert elapsed < 10


def test_main_runs_until_cancelled_and_closes_its_port():
    async def scenario():
        with __import__("socket").socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        queue = asyncio.Queue()
        task = asyncio.ensure_future(WEBHOOK["main"](queue, {"host": "127.0.0.1", "port": port, "harborguard_secret": HG_SECRET}))
        async with httpx.AsyncClient(base_url="http://127.0.0.1:%d" % port, timeout=5) as client:
            for _attempt in range(50):
                try:
                    answer = await client.get("/health")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            with pytest.raises(httpx.ConnectError):
                await client.get("/health")
        return answer.status_code

    assert asyncio.run(scenario()) == 200


def self_signed(tmp_path):
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel
    import ipaddress  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"127.0.0.1")])
    today = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(today - datetime.timedelta(days=1))
            .not_valid_after(today + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(u"127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "receiver.crt", tmp_path / "receiver.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_https_with_a_certificate(tmp_path):
    certfile, keyfile = self_signed(tmp_path)

    async def test(h):
        return (await h.post("harborguard", harborguard_body(), sign=HG_SECRET)).status_code, len(h.drain())

    trust = ssl.create_default_context(cafile=certfile)
    assert webhook(test, scheme="https", verify=trust, certfile=certfile, keyfile=keyfile) == (202, 1)


# -- options --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    ({"harborguard_secret": "s"}, "port"),
    ({"port": 1}, "set harborguard_secret, cloudgeni_secret or agilesec_token"),
    ({"port": 1, "providers": ["cloudgeni"]}, "providers includes cloudgeni but cloudgeni_secret is not set"),
    ({"port": 1, "providers": ["agilesec"], "agilesec_token": "t", "agilesec_auth_type": "api_token"},
     "agilesec_auth_type api_token needs agilesec_header_name"),
    ({"port": 70000, "harborguard_secret": "s"}, "port must be between 0 and 65535"),
    ({"port": 1, "harborguard_secret": "s", "max_body_bytes": 0}, "max_body_bytes must be at least 1"),
    ({"port": 1, "harborguard_secret": "s", "providers": ["penaxtra"]}, "providers"),
])
def test_bad_receiver_options_are_named(args, message, monkeypatch):
    for name in ("HARBORGUARD_WEBHOOK_SECRET", "CLOUDGENI_WEBHOOK_SECRET", "AGILESEC_CALLBACK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ScanopsError) as caught:
        WEBHOOK["receiver_options"](args)
    assert message in caught.value.message
    assert caught.value.message.startswith("scanops.security.scan_webhook: ")


def test_providers_default_to_those_with_credentials_and_secrets_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLOUDGENI_WEBHOOK_SECRET", "from-env")
    monkeypatch.delenv("HARBORGUARD_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("AGILESEC_CALLBACK_TOKEN", raising=False)
    options = WEBHOOK["receiver_options"]({"port": "8080", "agilesec_token": "t"})
    assert options["providers"] == ["agilesec", "cloudgeni"]
    assert options["cloudgeni_secret"] == "from-env" and options["port"] == 8080
    assert options["dedupe_ttl"] == options["replay_window"] == 600


# -- documentation ----------------------------------------------------------------------------------------------------
def documented_options(source):
    module = load(source)
    doc = yaml.safe_load(module["DOCUMENTATION"])
    options = {}
    for fragment in doc.get("extends_documentation_fragment") or []:
        fragment_module = importlib.import_module("ansible_collections.%s.plugins.doc_fragments.%s" % tuple(fragment.rsplit(".", 1)))
        options.update(yaml.safe_load(fragment_module.ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(doc["options"])
    yaml.safe_load(module["EXAMPLES"])
    return module["ARGUMENT_SPEC"], options


@pytest.mark.parametrize("source", SOURCES)
def test_documentation_matches_the_argument_spec(source):
    spec, documented = documented_options(source)
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc.get("type", "str") == option.get("type", "str"), name
        assert bool(doc.get("required")) == bool(option.get("required")), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc.get("elements") == option.get("elements"), name
        if "default" in option:
            assert doc.get("default") == option["default"], name
        else:
            assert "default" not in doc, name


# -- hostile option values (issue 11): every source checks its options as a module does, before it starts ------------
POLLING_BASE = {"finding_events": {"provider": "kolega", "api_key": "k-unit-secret"},
                "scan_events": {"provider": "harborguard", "api_key": "k-unit-secret"}}


@pytest.mark.parametrize("source, option, value", [
    ("finding_events", "interval", float("nan")),
    ("finding_events", "lookback", float("inf")),
    ("finding_events", "max_backoff", float("nan")),
    ("finding_events", "repository_id", ".."),
    ("finding_events", "finding_id", "a/b"),
    ("scan_events", "feedback_timeout", float("nan")),
    ("scan_events", "integration_id", ".."),
    ("scan_events", "repositories", ["ok", "abc\u202egpj"]),
    ("scan_events", "image", "nginx:-x"),
    ("scan_events", "api_url", "https://u:k-unit-pw@hg.example.test"),
    ("scan_events", "timeout", float("nan")),
])
def test_polling_sources_refuse_hostile_values_before_building_a_client(source, option, value, monkeypatch):
    from ansible_collections.scanops.security.plugins.module_utils import eda_pollers

    def no_client(_options):
        raise AssertionError("the source built its API client with %s=%r" % (option, value))

    monkeypatch.setattr(eda_pollers, "adapter_from_params", no_client)
    args = dict(POLLING_BASE[source], **{option: value})
    with pytest.raises(ScanopsError) as caught:
        asyncio.run(load(source)["main"](asyncio.Queue(), args))
    message = caught.value.message
    assert message.startswith("scanops.security.%s: %s" % (source, option)), message
    assert "k-unit-secret" not in message and "k-unit-pw" not in message


@pytest.mark.parametrize("option, value", [("replay_window", float("nan")), ("queue_timeout", float("inf")),
                                           ("dedupe_ttl", float("nan")), ("host", "0.0.0.0\n")])
def test_webhook_refuses_hostile_values(option, value):
    with pytest.raises(ScanopsError) as caught:
        WEBHOOK["receiver_options"]({"port": 1, "harborguard_secret": "s", option: value})
    assert caught.value.message.startswith("scanops.security.scan_webhook: %s" % option)
