# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scanops.security.scan_webhook: an ansible-rulebook event source that receives the scan
webhooks and callbacks of AgileSec, CloudGeni and HarborGuard."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: Receive AgileSec scan callbacks, CloudGeni and HarborGuard webhooks
description:
  - An ansible-rulebook event source (C(async def main(queue, args))) that runs one HTTP receiver for the
    scan deliveries the collection registers, one path per platform, V(POST /agilesec), V(POST /cloudgeni) and
    V(POST /harborguard), plus V(GET /health).
  - AgileSec scan callbacks are authenticated as registered with M(scanops.security.callback_endpoint), with no
    credential, a bearer token, or an API token in a named header.
  - HarborGuard webhooks must carry C(X-HarborGuard-Signature) C(sha256=<HMAC-SHA256 of the raw body>).
    CloudGeni C(scan.completed) webhooks must carry C(X-CloudGeni-Signature) in the same form (an assumption,
    see C(docs/assumptions.md)). The HMAC is computed over the bytes as received and compared in constant time.
  - Every accepted delivery becomes one event, C({scanops, payload, meta}), whose C(scanops) part is normalized
    (provider, event type, scan id, target, normalized status, severity counts when the payload has them,
    received time, delivery id) and whose C(payload) is the vendor's body untouched; C(meta.uuid) is derived
    from the delivery, so a vendor retry of the same delivery has the same uuid. See C(docs/eda.md).
  - Answers V(202) once the event is on the rule engine's queue; V(200) for a repeat of a delivery accepted
    within O(dedupe_ttl) (no second event); V(401) for a missing or wrong credential or signature, or a signed
    timestamp outside O(replay_window); V(400) for a body that is not a JSON object; V(413) for a body over
    O(max_body_bytes); V(503) with C(Retry-After) when the engine does not take the event within
    O(queue_timeout) or O(max_pending) deliveries are already waiting, so the vendor retries later. Rejections
    are counted, and the counts are shown by V(GET /health).
options:
  host:
    description: Address to listen on.
    type: str
    default: 0.0.0.0
  port:
    description: TCP port to listen on (V(0) picks a free one and logs it).
    type: int
    required: true
  certfile:
    description: PEM certificate (chain) to serve HTTPS with; plain HTTP when not set.
    type: path
  keyfile:
    description: PEM private key of O(certfile), when not included in it.
    type: path
  providers:
    description:
      - The platforms whose deliveries are accepted; each needs its credential below.
      - Default, every platform whose secret or token is set.
    type: list
    elements: str
    choices: [agilesec, cloudgeni, harborguard]
  harborguard_secret:
    description:
      - The HarborGuard webhook secret. Also read from E(HARBORGUARD_WEBHOOK_SECRET).
    type: str
  cloudgeni_secret:
    description:
      - The secret the CloudGeni webhook was registered with (O(scanops.security.callback_endpoint#module:token)).
        Also read from E(CLOUDGENI_WEBHOOK_SECRET).
    type: str
  agilesec_auth_type:
    description:
      - How AgileSec authenticates its callbacks, as registered with M(scanops.security.callback_endpoint).
      - V(none) accepts every callback on V(/agilesec); keep such a receiver on a private network.
    type: str
    choices: [none, bearer, api_token]
    default: bearer
  agilesec_token:
    description:
      - The callback endpoint's token (bearer or API token). Also read from E(AGILESEC_CALLBACK_TOKEN).
    type: str
  agilesec_header_name:
    description: With O(agilesec_auth_type=api_token), the header that carries the token.
    type: str
  max_body_bytes:
    description: Largest accepted body; larger ones are answered V(413) without being read to the end.
    type: int
    default: 1048576
  replay_window:
    description:
      - Seconds a signed timestamp (HarborGuard and CloudGeni put one in the body) may differ from the receiver's
        clock; deliveries outside it are refused. V(0) turns the check off.
    type: float
    default: 600
  dedupe_ttl:
    description:
      - Seconds a delivery is remembered to recognize vendor retries; default O(replay_window), so a replay is
        either recognized or outside the window. AgileSec callbacks carry no timestamp and rely on this alone.
    type: float
  dedupe_max_entries:
    description: Most deliveries remembered at once; the oldest are forgotten first (counted as C(dedupe_evicted)).
    type: int
    default: 50000
  max_pending:
    description: Most accepted deliveries waiting for the rule engine at once; more are answered V(503).
    type: int
    default: 100
  queue_timeout:
    description: Seconds a delivery waits for the rule engine to take its event before it is answered V(503).
    type: float
    default: 2
notes:
  - The credentials are never logged and never copied into events; C(meta.headers) keeps only C(Content-Type),
    C(User-Agent), C(X-HarborGuard-Event) and C(X-CloudGeni-Event).
  - Needs aiohttp (installed with ansible-rulebook) and ansible-core; the collection must be installed in a
    collections path (C(ansible_collections/scanops/security)).
"""

EXAMPLES = r"""
- name: Scan deliveries
  hosts: localhost
  sources:
    - scanops.security.scan_webhook:
        port: 8443
        certfile: /etc/eda/tls/receiver.crt
        keyfile: /etc/eda/tls/receiver.key
        harborguard_secret: "{{ harborguard_webhook_secret }}"
        cloudgeni_secret: "{{ cloudgeni_webhook_secret }}"
        agilesec_auth_type: api_token
        agilesec_header_name: X-Callback-Token
        agilesec_token: "{{ agilesec_callback_token }}"
  rules:
    - name: Critical CVEs in an image
      condition: event.scanops.event_type == "critical_cve"
      action:
        run_playbook:
          name: scanops.security.eda_harborguard_triage
"""

import asyncio
import json
import logging
import math
import os
import ssl
import sys
import time

from aiohttp import web


def _collections_path_first():
    """ansible-rulebook runs a source with runpy from <path>/ansible_collections/scanops/security/
    extensions/eda/plugins/event_source/, without <path> on sys.path: put it there."""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 7)))
    if os.path.isdir(os.path.join(root, "ansible_collections", "scanops", "security")) and root not in sys.path:
        sys.path.insert(0, root)


_collections_path_first()
from ansible_collections.scanops.security.plugins.module_utils import eda_events as events  # noqa: E402 pylint: disable=wrong-import-position
from ansible.module_utils.basic import env_fallback  # noqa: E402 pylint: disable=wrong-import-position

LOGGER = logging.getLogger("scanops.security.scan_webhook")

ARGUMENT_SPEC = dict(
    host=dict(type="str", default="0.0.0.0"),
    port=dict(type="int", required=True),
    certfile=dict(type="path"),
    keyfile=dict(type="path", no_log=False),
    providers=dict(type="list", elements="str", choices=list(events.WEBHOOK_PROVIDERS)),
    harborguard_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["HARBORGUARD_WEBHOOK_SECRET"])),
    cloudgeni_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDGENI_WEBHOOK_SECRET"])),
    agilesec_auth_type=dict(type="str", choices=list(events.AGILESEC_AUTH_TYPES), default="bearer"),
    agilesec_token=dict(type="str", no_log=True, fallback=(env_fallback, ["AGILESEC_CALLBACK_TOKEN"])),
    agilesec_header_name=dict(type="str"),
    max_body_bytes=dict(type="int", default=1048576),
    replay_window=dict(type="float", default=600.0),
    dedupe_ttl=dict(type="float"),
    dedupe_max_entries=dict(type="int", default=50000),
    max_pending=dict(type="int", default=100),
    queue_timeout=dict(type="float", default=2.0),
)

COUNTERS = ("accepted", "duplicates", "unauthorized", "replayed", "malformed", "too_large", "busy", "unknown_path")


def receiver_options(args):
    """Validated options; raises ScanopsError naming what is wrong, before anything listens."""
    options = events.validate_source_args("scan_webhook", args, ARGUMENT_SPEC)
    credentials = {
        "harborguard": bool(options["harborguard_secret"]),
        "cloudgeni": bool(options["cloudgeni_secret"]),
        "agilesec": bool(options["agilesec_token"]) or options["agilesec_auth_type"] == "none",
    }
    if options["providers"] is None:
        options["providers"] = sorted(name for name in ("harborguard", "cloudgeni") if credentials[name])
        if options["agilesec_token"]:
            options["providers"].insert(0, "agilesec")
        if not options["providers"]:
            raise events.ScanopsError("scanops.security.scan_webhook: set harborguard_secret, cloudgeni_secret or "
                                      "agilesec_token (or providers: [agilesec] with agilesec_auth_type: none)")
    problems = []
    for name in options["providers"]:
        if not credentials[name]:
            problems.append({"harborguard": "providers includes harborguard but harborguard_secret is not set",
                             "cloudgeni": "providers includes cloudgeni but cloudgeni_secret is not set",
                             "agilesec": "providers includes agilesec but agilesec_token is not set "
                                         "(agilesec_auth_type: none accepts unauthenticated callbacks)"}[name])
    if "agilesec" in options["providers"] and options["agilesec_auth_type"] == "api_token" and not options["agilesec_header_name"]:
        problems.append("agilesec_auth_type api_token needs agilesec_header_name")
    if not 0 <= options["port"] <= 65535:
        problems.append("port must be between 0 and 65535, got %d" % options["port"])
    for name in ("max_body_bytes", "dedupe_max_entries", "max_pending"):
        if options[name] < 1:
            problems.append("%s must be at least 1, got %d" % (name, options[name]))
    for name in ("replay_window", "queue_timeout"):
        if options[name] < 0:
            problems.append("%s must not be negative, got %s" % (name, options[name]))
    if options["keyfile"] and not options["certfile"]:
        problems.append("keyfile needs certfile")
    if problems:
        raise events.ScanopsError("scanops.security.scan_webhook: %s" % "; ".join(problems))
    if options["dedupe_ttl"] is None:
        options["dedupe_ttl"] = options["replay_window"] or 600.0
    return options


class WebhookReceiver(object):
    """The aiohttp application: routes, checks, de-duplication and the hand-off to the queue."""

    def __init__(self, queue, options, clock=time.time):
        self.queue = queue
        self.options = options
        self.clock = clock
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.cache = events.DedupeCache(options["dedupe_ttl"], options["dedupe_max_entries"])
        self.in_flight = {}
        self.pending = 0
        # Retries that arrived while their first copy waits for the engine, waiting for its answer.
        self.waiting_retries = 0
        self.closing = asyncio.Event()
        self.runner = None
        self.port = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def application(self):
        app = web.Application(client_max_size=self.options["max_body_bytes"])
        app.router.add_get("/health", self.health)
        app.router.add_post("/{provider}", self.deliver)
        # AgileSec checks that a callback URL answers when it is registered (GET also answers HEAD).
        app.router.add_get("/{provider}", self.probe)
        return app

    def ssl_context(self):
        if not self.options["certfile"]:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.options["certfile"], self.options["keyfile"])
        return context

    async def start(self):
        """Listen; answers the bound port."""
        self.runner = web.AppRunner(self.application(), access_log=None,
                                    shutdown_timeout=self.options["queue_timeout"] + 1.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.options["host"], self.options["port"], ssl_context=self.ssl_context())
        await site.start()
        addresses = self.runner.addresses
        self.port = addresses[0][1] if addresses else self.options["port"]
        LOGGER.info("scan_webhook listening on %s://%s:%s for %s", "https" if self.options["certfile"] else "http",
                    self.options["host"], self.port, ", ".join(self.options["providers"]))
        return self.port

    async def stop(self):
        """Refuse new deliveries (503), let waiting ones answer, close the listener."""
        self.closing.set()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # -- routes -----------------------------------------------------------------------------------------
    async def health(self, request):
        del request
        return web.json_response({"status": "closing" if self.closing.is_set() else "ok",
                                  "providers": self.options["providers"], "pending": self.pending,
                                  "waiting_retries": self.waiting_retries,
                                  "remembered_deliveries": len(self.cache), "dedupe_evicted": self.cache.evicted,
                                  "counters": dict(self.counters)})

    async def probe(self, request):
        if request.match_info["provider"] not in self.options["providers"]:
            return self._refuse("unknown_path", 404, "no receiver at this path")
        return web.json_response({"provider": request.match_info["provider"], "method": "POST"})

    def _refuse(self, counter, status, message, headers=None, provider=None, remote=None):
        self.counters[counter] += 1
        if provider is not None:
            LOGGER.warning("scan_webhook: refused a %s delivery from %s: %s (HTTP %d)", provider, remote, message, status)
        return web.json_response({"status": "refused", "message": message}, status=status, headers=headers)

    def _busy(self, provider, remote, why):
        retry = str(max(1, int(math.ceil(self.options["queue_timeout"]))))
        return self._refuse("busy", 503, why, headers={"Retry-After": retry}, provider=provider, remote=remote)

    def _authentic(self, provider, raw, headers):
        options = self.options
        if provider == "agilesec":
            return events.check_agilesec_auth(options["agilesec_auth_type"], options["agilesec_token"],
                                              options["agilesec_header_name"], headers)
        secret = options["%s_secret" % provider]
        return events.verify_signature(secret, raw, headers.get(events.SIGNATURE_HEADERS[provider]))

    async def deliver(self, request):
        provider = request.match_info["provider"]
        remote = request.remote
        if provider not in self.options["providers"]:
            return self._refuse("unknown_path", 404, "no receiver at this path")
        if self.closing.is_set():
            return self._busy(provider, remote, "the receiver is shutting down")
        limit = self.options["max_body_bytes"]
        if request.content_length is not None and request.content_length > limit:
            return self._refuse("too_large", 413, "body larger than %d bytes" % limit, provider=provider, remote=remote)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._refuse("too_large", 413, "body larger than %d bytes" % limit, provider=provider, remote=remote)
        if not self._authentic(provider, raw, request.headers):
            return self._refuse("unauthorized", 401, "missing or wrong credentials or signature", provider=provider, remote=remote)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._refuse("malformed", 400, "the body is not a JSON object", provider=provider, remote=remote)
        now = self.clock()
        window = self.options["replay_window"]
        if window and provider in ("harborguard", "cloudgeni"):
            stamp = events.delivery_timestamp(provider, body)
            if stamp is None or abs(now - stamp) > window:
                return self._refuse("replayed", 401, "the signed timestamp is missing or outside the %d s replay window" % window,
                                    provider=provider, remote=remote)
        digest = events.body_digest(raw)
        key = "%s:%s" % (provider, digest)
        if key in self.cache:
            self.counters["duplicates"] += 1
            return web.json_response({"status": "duplicate", "delivery_id": key}, status=200)
        if key in self.in_flight:
            # The same delivery is already waiting for the engine: answer as it will be answered.
            self.waiting_retries += 1
            try:
                accepted = await asyncio.shield(self.in_flight[key])
            finally:
                self.waiting_retries -= 1
            if accepted:
                self.counters["duplicates"] += 1
                return web.json_response({"status": "duplicate", "delivery_id": key}, status=200)
            return self._busy(provider, remote, "the rule engine did not take the event in time")
        if self.pending >= self.options["max_pending"]:
            return self._busy(provider, remote, "%d deliveries are already waiting for the rule engine" % self.pending)
        normalized = events.normalize_delivery(provider, body, events.utc_now_iso(now), key)
        event = events.build_event(normalized, body, digest, headers=events.safe_headers(request.headers))
        outcome = asyncio.get_running_loop().create_future()
        self.in_flight[key] = outcome
        self.pending += 1
        accepted = False
        try:
            accepted = await self._hand_over(event)
            if accepted:
                self.cache.add(key)
        finally:
            self.pending -= 1
            del self.in_flight[key]
            outcome.set_result(accepted)
        if not accepted:
            return self._busy(provider, remote, "the rule engine did not take the event in time")
        self.counters["accepted"] += 1
        return web.json_response({"status": "accepted", "delivery_id": key, "uuid": event["meta"]["uuid"]}, status=202)

    async def _hand_over(self, event):
        """Put the event on the engine's queue; False when it is not taken in time or the receiver closes."""
        put = asyncio.ensure_future(self.queue.put(event))
        closing = asyncio.ensure_future(self.closing.wait())
        try:
            done, _pending = await asyncio.wait((put, closing), timeout=self.options["queue_timeout"],
                                                return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
        if put in done and put.exception() is None:
            return True
        if not put.done():
            put.cancel()
            try:
                await put
            except asyncio.CancelledError:
                pass
            # A put can complete in the same step it is cancelled in.
            return not put.cancelled() and put.exception() is None
        return False


async def main(queue, args):
    """Receive deliveries until cancelled (ansible-rulebook's shutdown), then close cleanly."""
    args = dict(args or {})
    args.pop("eda_feedback_queue", None)
    receiver = WebhookReceiver(queue, receiver_options(args))
    await receiver.start()
    try:
        await asyncio.Future()
    except asyncio.CancelledError:
        LOGGER.info("scan_webhook: shutting down (%s)", json.dumps(receiver.counters, sort_keys=True))
        raise
    finally:
        await receiver.stop()


if __name__ == "__main__":
    # Try it by hand: python scan_webhook.py [PORT] (secrets from the environment); events are printed.
    events.run_by_hand(main, {"port": int(sys.argv[1]) if len(sys.argv) > 1 else 5000})
