# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ApiClient: retries, backoff, deadlines, POST safety, redirects, decoding, counting."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import concurrent.futures
import email.utils
import json
import socket
import ssl

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.client import (
    BACKOFF_CAP,
    USER_AGENT,
    ApiClient,
    backoff_delay,
    parse_retry_after,
    quote_segment,
)
from ansible_collections.scanops.security.plugins.module_utils.errors import (
    ScanopsApiError,
    ScanopsTlsError,
    ScanopsTransportError,
)
from ansible_collections.scanops.security.plugins.module_utils.ratelimit import SlidingWindow, TokenBucket

from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import EPOCH, SECRET


def ok(body=None, status=200, headers=None):
    return httpx.Response(status, json=body if body is not None else {"ok": True}, headers=headers)


def test_get_returns_json_and_sends_credentials_and_user_agent(make_client):
    client, rec = make_client([ok({"id": "x"})])
    assert client.request("GET", "/things/x", params={"a": 1, "skip": None, "flag": True}) == {"id": "x"}
    sent = rec.requests[0]
    assert str(sent.url) == "https://api.example.test/api/things/x?a=1&flag=true"
    assert sent.headers["X-API-Key"] == SECRET
    assert sent.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("scanops.security/0.1.0 (+ansible-core ")


def test_empty_and_204_bodies_are_none(make_client):
    client, _rec = make_client([httpx.Response(204), httpx.Response(200, content=b"")])
    assert client.request("DELETE", "/a") is None
    assert client.request("GET", "/b") is None


@pytest.mark.parametrize("body,ctype", [(b"<html>oops</html>", "text/html"), (b'{"broken": ', "application/json")])
def test_non_json_success_body_is_a_clear_error(make_client, body, ctype):
    client, _rec = make_client([httpx.Response(200, content=body, headers={"content-type": ctype})])
    with pytest.raises(ScanopsApiError) as info:
        client.request("GET", "/a")
    assert "invalid JSON in response" in info.value.message
    assert info.value.status == 200
    assert info.value.may_have_acted is False


def test_unreadable_answer_to_a_create_may_have_acted(make_client):
    client, rec = make_client([httpx.Response(202, content=b'{"batch_id": ', headers={"content-type": "application/json"})])
    with pytest.raises(ScanopsApiError) as info:
        client.request("POST", "/scans", json_body={"scan_type": "secrets_scan"})
    assert info.value.may_have_acted is True
    assert len(rec.requests) == 1


def test_retry_after_seconds_is_honoured(make_client, fake_time):
    client, rec = make_client([ok({"e": 1}, 429, {"Retry-After": "7"}), ok({"e": 2}, 503, {"Retry-After": "3"}), ok()])
    assert client.request("GET", "/a") == {"ok": True}
    assert fake_time.sleeps == [7.0, 3.0]
    assert len(rec.requests) == 3
    assert client.stats["retries"] == 2


def test_retry_after_http_date_is_honoured(make_client, fake_time):
    when = email.utils.formatdate(EPOCH + 12, usegmt=True)
    client, _rec = make_client([ok({}, 503, {"Retry-After": when}), ok()])
    client.request("GET", "/a")
    assert len(fake_time.sleeps) == 1
    assert 11.0 <= fake_time.sleeps[0] <= 12.0


def test_parse_retry_after_forms():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("-3") is None
    assert parse_retry_after(email.utils.formatdate(EPOCH + 30, usegmt=True), now=EPOCH) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# -- issue 19, item 9: hints that say nothing about when to retry fall back to jittered backoff ----------------
@pytest.mark.parametrize("header", ["0", "-5", "nan", "NaN", "inf", "-inf", "0.0",
                                    email.utils.formatdate(EPOCH - 60, usegmt=True)])
def test_retry_after_that_is_not_a_positive_wait_falls_back_to_backoff(make_client, fake_time, header):
    client, rec = make_client([ok({}, 429, {"Retry-After": header}), ok({}, 503, {"Retry-After": header}), ok()],
                              rand=lambda: 1.0)
    assert client.request("GET", "/a") == {"ok": True}
    assert fake_time.sleeps == [0.5, 1.0]
    assert len(rec.requests) == 3


@pytest.mark.parametrize("header", ["0", "30", None])
def test_penaxtra_circuit_breaker_backs_off_whatever_the_header_says(make_adapter, fake_time, header):
    breaker = httpx.Response(429, json={"error": "rate_limited", "retry_after_seconds": 0},
                             headers={"Retry-After": header} if header is not None else None)
    answers = [breaker, breaker, httpx.Response(200, json={"data": []})]
    adapter, recorder = make_adapter("penaxtra", answers, rand=lambda: 1.0)
    assert adapter.list_runs() == []
    assert fake_time.sleeps == [0.5, 1.0]
    assert len(recorder.requests) == 3


@pytest.mark.parametrize("body_hint", [0, -5, float("nan")])
def test_penaxtra_and_cloudgeni_body_hints_that_are_not_positive_fall_back_to_backoff(make_adapter, fake_time, body_hint):
    def answer(status, body):
        # json.dumps writes NaN as the token Python's (and many servers') JSON accepts.
        return httpx.Response(status, content=json.dumps(body).encode(), headers={"content-type": "application/json"})

    penaxtra, _rec = make_adapter("penaxtra", [answer(503, {"error": "rate_limited", "retry_after_seconds": body_hint}),
                                               answer(200, {"data": []})], rand=lambda: 1.0)
    penaxtra.list_runs()
    cloudgeni, _rec = make_adapter("cloudgeni", [answer(429, {"error": "rate_limited", "message": "slow down",
                                                              "details": {"retryAfterSeconds": body_hint}}),
                                                 answer(200, {"data": [], "pagination": {"total": 0}})],
                                   rand=lambda: 1.0)
    cloudgeni.list_repositories()
    assert fake_time.sleeps == [0.5, 0.5]


def test_retry_after_http_date_without_a_zone_is_utc(make_client, fake_time, monkeypatch):
    import time  # pylint: disable=import-outside-toplevel
    # Far from UTC, so reading the date as local time would be off by hours.
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        when = email.utils.formatdate(EPOCH + 20, usegmt=True).replace(" GMT", "")
        assert parse_retry_after(when, now=EPOCH) == pytest.approx(20, abs=1)
        client, _rec = make_client([ok({}, 503, {"Retry-After": when}), ok()])
        client.request("GET", "/a")
        assert fake_time.sleeps == [pytest.approx(20, abs=1)]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_body_retry_hint_wins_over_backoff(make_client, fake_time):
    def parser(status, data, text):
        return {"code": data.get("error"), "message": "slow down", "retry_after": data.get("retry_after_seconds")}

    client, _rec = make_client([ok({"error": "rate_limited", "retry_after_seconds": 9}, 429), ok()], error_parser=parser)
    client.request("GET", "/a")
    assert fake_time.sleeps == [9]


def test_backoff_without_hint_grows_exponentially(make_client, fake_time):
    client, rec = make_client([ok({}, 502), ok({}, 502), ok({}, 504), ok()], rand=lambda: 1.0)
    client.request("GET", "/a")
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert len(rec.requests) == 4


@pytest.mark.parametrize("attempt", range(1, 12))
@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999, 1.0])
def test_jitter_stays_within_bounds(attempt, draw):
    ceiling = min(BACKOFF_CAP, 0.5 * 2 ** (attempt - 1))
    delay = backoff_delay(attempt, rand=lambda: draw)
    assert ceiling / 2 <= delay <= ceiling
    assert delay <= BACKOFF_CAP


def test_retries_stop_at_the_deadline(make_client, fake_time):
    client, rec = make_client(lambda request: ok({}, 503), retries=50, retry_timeout=5, rand=lambda: 1.0)
    with pytest.raises(ScanopsApiError) as info:
        client.request("GET", "/a")
    # 0.5 + 1 + 2 = 3.5 s slept; the next 4 s wait would end after the 5 s deadline.
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert len(rec.requests) == 4
    assert sum(fake_time.sleeps) <= 5
    assert info.value.status == 503
    assert "allowed in 4 s, would end after the retry_timeout of 5 s" in info.value.describe("Get", "a")


def test_retry_after_beyond_deadline_fails_at_once_saying_when(make_client, fake_time):
    client, rec = make_client([ok({}, 429, {"Retry-After": "120"})], retry_timeout=60)
    with pytest.raises(ScanopsApiError) as info:
        client.request("GET", "/a")
    assert fake_time.sleeps == []
    assert len(rec.requests) == 1
    assert info.value.retry_after == 120
    assert "allowed in 120 s" in info.value.describe("Get", "a")


def test_retry_count_is_bounded(make_client, fake_time):
    client, rec = make_client(lambda request: ok({}, 503), retries=2, retry_timeout=1000)
    with pytest.raises(ScanopsApiError):
        client.request("GET", "/a")
    assert len(rec.requests) == 3
    assert len(fake_time.sleeps) == 2


def test_non_retryable_status_is_not_retried(make_client, fake_time):
    client, rec = make_client(lambda request: ok({}, 500))
    with pytest.raises(ScanopsApiError):
        client.request("GET", "/a")
    assert len(rec.requests) == 1
    assert fake_time.sleeps == []


@pytest.mark.parametrize("failure", [
    httpx.ReadTimeout("read timed out"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadError("connection reset by peer"),
])
def test_post_is_not_retried_once_sent(make_client, fake_time, failure):
    client, rec = make_client([failure, ok()])
    with pytest.raises(ScanopsTransportError) as info:
        client.request("POST", "/scans", json_body={"a": 1})
    assert info.value.may_have_acted is True
    assert len(rec.requests) == 1
    assert fake_time.sleeps == []
    assert "may have acted" in info.value.describe("Create scan", "x")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_5xx_may_have_acted_and_is_not_retried(make_client, status):
    client, rec = make_client([ok({}, status), ok()])
    with pytest.raises(ScanopsApiError) as info:
        client.request("POST", "/scans")
    assert info.value.may_have_acted is True
    assert len(rec.requests) == 1


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("connection refused"),
    httpx.ConnectTimeout("connect timed out"),
    httpx.PoolTimeout("no free connection"),
])
def test_post_is_retried_when_nothing_was_sent(make_client, failure):
    client, rec = make_client([failure, ok({"id": "s1"}, 201)])
    assert client.request("POST", "/scans") == {"id": "s1"}
    assert len(rec.requests) == 2


def test_post_is_retried_after_429(make_client, fake_time):
    client, rec = make_client([ok({}, 429, {"Retry-After": "2"}), ok({"id": "s1"}, 201)])
    assert client.request("POST", "/scans") == {"id": "s1"}
    assert fake_time.sleeps == [2.0]
    assert len(rec.requests) == 2


def test_connect_error_without_retries_says_the_server_did_not_act(make_client):
    client, _rec = make_client(lambda request: httpx.ConnectError("connection refused"), retries=0)
    with pytest.raises(ScanopsTransportError) as info:
        client.request("POST", "/scans")
    assert info.value.may_have_acted is False
    assert info.value.code == "ConnectError"


def test_idempotent_post_is_retried_like_a_put(make_client):
    client, rec = make_client([ok({}, 503), httpx.ReadTimeout("slow"), ok({"status": "FIXED"})])
    assert client.request("POST", "/triage", json_body={"status": "FIXED"}, idempotent=True) == {"status": "FIXED"}
    assert len(rec.requests) == 3


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_safe_methods_are_retried_after_a_dropped_connection(make_client, method):
    client, rec = make_client([httpx.RemoteProtocolError("dropped"), ok()])
    assert client.request(method, "/a") == {"ok": True}
    assert len(rec.requests) == 2


def test_same_origin_redirect_keeps_credentials(make_client):
    client, rec = make_client([httpx.Response(307, headers={"Location": "/api/v2/a"}), ok()])
    assert client.request("GET", "/a") == {"ok": True}
    assert str(rec.requests[1].url) == "https://api.example.test/api/v2/a"
    assert rec.requests[1].headers["X-API-Key"] == SECRET


@pytest.mark.parametrize("target", [
    "https://evil.example.test/collect",
    "http://api.example.test/api/a",       # scheme change
    "https://api.example.test:8443/api/a",  # port change
])
def test_cross_origin_redirect_drops_credentials(make_client, target):
    client, rec = make_client([httpx.Response(302, headers={"Location": target}), ok()])
    client.request("GET", "/a")
    followed = rec.requests[1]
    assert str(followed.url) == target
    assert "X-API-Key" not in followed.headers
    assert all(SECRET not in value for value in followed.headers.values())


def test_credentials_stay_dropped_after_leaving_the_origin(make_client):
    client, rec = make_client([
        httpx.Response(302, headers={"Location": "https://cdn.example.test/x"}),
        httpx.Response(302, headers={"Location": "https://api.example.test/api/back"}),
        ok(),
    ])
    client.request("GET", "/a")
    assert "X-API-Key" in rec.requests[0].headers
    assert "X-API-Key" not in rec.requests[1].headers
    assert "X-API-Key" not in rec.requests[2].headers


def test_redirect_303_after_post_becomes_get(make_client):
    client, rec = make_client([httpx.Response(303, headers={"Location": "/api/result"}), ok({"done": True})])
    assert client.request("POST", "/jobs", json_body={"a": 1}) == {"done": True}
    assert rec.requests[1].method == "GET"
    assert rec.requests[1].content == b""


def test_at_most_five_redirect_hops(make_client):
    client, rec = make_client(lambda request: httpx.Response(302, headers={"Location": "/api/loop"}))
    with pytest.raises(ScanopsApiError) as info:
        client.request("GET", "/a")
    assert "too many redirects" in info.value.message
    assert len(rec.requests) == 6


def test_error_text_is_redacted_and_names_status(make_client):
    def parser(status, data, text):
        return {"code": data["code"], "message": data["message"], "details": data.get("details")}

    body = {"code": "UNAUTHORIZED", "message": "key %s is revoked" % SECRET, "details": {"key": SECRET}}
    client, _rec = make_client([ok(body, 401)], error_parser=parser)
    with pytest.raises(ScanopsApiError) as info:
        client.request("GET", "/a", params={"token": "irrelevant"})
    text = info.value.describe("List", "things")
    assert text == "List things: key ******** is revoked (HTTP 401 UNAUTHORIZED)"
    assert SECRET not in repr(info.value.to_dict())
    assert info.value.path == "/api/a"


def test_bearer_token_is_redacted_without_its_prefix(make_client):
    client, _rec = make_client([httpx.Response(401, text="bad token abc123secretvalue")],
                               auth_headers={"Authorization": "Bearer abc123secretvalue"})
    with pytest.raises(ScanopsApiError) as info:
        client.request("GET", "/a")
    assert "abc123secretvalue" not in info.value.describe("Get", "a")
    assert "bad token ********" in info.value.message


def test_non_json_error_body_gives_an_excerpt(make_client):
    client, _rec = make_client([httpx.Response(502, text="<html><body>Bad gateway</body></html>")], retries=0)
    with pytest.raises(ScanopsApiError) as info:
        client.request("GET", "/a")
    assert info.value.status == 502
    assert "Bad gateway" in info.value.message
    assert info.value.describe("Get", "a").endswith("(HTTP 502)")


def test_stats_count_every_request_sent_by_method(make_client):
    client, _rec = make_client([ok(), ok({}, 503), ok(), httpx.Response(204), ok({"id": 1}, 201)])
    client.request("GET", "/a")
    client.request("GET", "/b")
    client.request("DELETE", "/c")
    client.request("POST", "/d")
    assert client.stats == {"total": 5, "retries": 1, "GET": 3, "DELETE": 1, "POST": 1}


def test_limiter_is_chosen_by_rate_class(make_client, fake_time):
    trigger = TokenBucket(1.0, 1, clock=fake_time.clock, sleep=fake_time.sleep)
    client, _rec = make_client(lambda request: ok(), limiters={"trigger": trigger})
    client.request("POST", "/a", rate_class="trigger")
    client.request("GET", "/b")  # no "read" limiter: not paced
    client.request("POST", "/a", rate_class="trigger")
    assert fake_time.sleeps == [1.0]


def test_rate_limit_headers_tighten_the_limiter(make_client, fake_time):
    bucket = TokenBucket(10.0, 10, clock=fake_time.clock, sleep=fake_time.sleep, wallclock=fake_time.wallclock)
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4", "X-RateLimit-Limit": "60"}
    client, _rec = make_client([ok(headers=headers), ok()], limiters={"read": bucket})
    client.request("GET", "/a")
    client.request("GET", "/b")
    assert fake_time.sleeps == [pytest.approx(4.0)]
    # Remaining/Reset held the second request back; the window's length is not published, so the pace stays.
    assert bucket.rate == pytest.approx(10.0)


def test_a_window_limiter_counts_each_request_from_its_answer(make_client, fake_time):
    window = SlidingWindow(1, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)

    def slow(request):
        fake_time.now += 2.0  # in transit: the server counted it somewhere in these 2 s
        return ok()

    client, rec = make_client(slow, limiters={"read": window})
    client.request("GET", "/a")
    client.request("GET", "/b")
    assert fake_time.sleeps == [pytest.approx(10.0)] and len(rec.requests) == 2


def test_a_window_slot_is_given_back_when_the_request_fails_in_transit(make_client, fake_time):
    window = SlidingWindow(1, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)

    def broken(request):
        raise httpx.ConnectError("refused", request=request)

    client, _rec = make_client(broken, limiters={"read": window}, retries=0)
    with pytest.raises(ScanopsTransportError):
        client.request("GET", "/a")
    # The slot counts from the failure on (the server may have seen the request), not forever.
    window.acquire()
    assert fake_time.clock() == pytest.approx(10.0)


def test_a_429_with_the_vendors_window_headers_is_retried_at_the_reset_not_a_window_later(make_client, fake_time):
    # The vendor counts 10 in its window, this client sent 1 (refused): 10 requests of someone else's leave the
    # window at the reset, 1 s away. Holding them a whole documented window (60 s) would outlast retry_timeout.
    window = SlidingWindow(10, 60.0, clock=fake_time.clock, sleep=fake_time.sleep)
    refused = ok({"error": {"code": "RATE_LIMITED"}}, 429, {"Retry-After": "1", "X-RateLimit-Limit": "10",
                                                            "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"})
    client, rec = make_client([refused, ok({"id": "s1"}, 202)], limiters={"scan_create": window}, retry_timeout=12)
    assert client.request("POST", "/scans", json_body={}, rate_class="scan_create") == {"id": "s1"}
    assert len(rec.requests) == 2 and sum(fake_time.sleeps) == pytest.approx(1.0)


def test_one_client_serves_a_thread_pool(make_client):
    client, rec = make_client(lambda request: ok({"path": request.url.path}))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        paths = list(pool.map(lambda n: client.request("GET", "/item/%d" % n)["path"], range(200)))
    assert paths == ["/api/item/%d" % n for n in range(200)]
    assert client.stats["GET"] == 200 and client.stats["total"] == 200
    assert len(rec.requests) == 200


# -- hostile servers: bodies never leave the origin, TLS failures are final, every request is counted ----------
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_request_with_a_body_is_never_sent_to_another_origin(make_client, status, method):
    client, rec = make_client([httpx.Response(status, headers={"Location": "https://collector.example.test/v3/x?k=1"}), ok()])
    with pytest.raises(ScanopsApiError) as info:
        client.request(method, "/v3/callback-endpoints", json_body={"token": "s3cr3t-token-value"})
    assert len(rec.requests) == 1
    assert all(req.url.host == "api.example.test" for req in rec.requests)
    message = info.value.describe("Ensure callback endpoint", "'x'")
    assert "Location: https://collector.example.test/v3/x?..." in message
    assert "HTTP %d" % status in message
    # Only a 303 says the server processed the request before pointing elsewhere.
    assert info.value.may_have_acted is (status == 303)
    assert client.stats["total"] == 1


def test_a_body_is_not_followed_off_origin_even_after_a_same_origin_hop(make_client):
    client, rec = make_client([
        httpx.Response(307, headers={"Location": "/api/v2/scans"}),
        httpx.Response(308, headers={"Location": "https://user:pw@elsewhere.example.test/scans"}),
        ok(),
    ])
    with pytest.raises(ScanopsApiError) as info:
        client.request("POST", "/scans", json_body={"secret": "abc123"})
    assert [str(req.url) for req in rec.requests] == ["https://api.example.test/api/scans", "https://api.example.test/api/v2/scans"]
    assert "pw" not in info.value.message.replace("/api/v2", "")
    assert "elsewhere.example.test/scans" in info.value.message


def test_same_origin_redirect_resends_the_body_with_credentials(make_client):
    client, rec = make_client([httpx.Response(307, headers={"Location": "/api/v2/scans"}), ok({"id": "s1"})])
    assert client.request("POST", "/scans", json_body={"image": "nginx"}) == {"id": "s1"}
    assert rec.requests[1].method == "POST"
    assert rec.requests[1].content == rec.requests[0].content == b'{"image":"nginx"}'
    assert rec.requests[1].headers["X-API-Key"] == SECRET


def test_a_body_less_delete_may_follow_to_another_origin_without_credentials(make_client):
    client, rec = make_client([httpx.Response(307, headers={"Location": "https://other.example.test/a"}), ok()])
    client.request("DELETE", "/a")
    assert rec.requests[1].url.host == "other.example.test"
    assert "X-API-Key" not in rec.requests[1].headers


def _certificate_error(host="api.example.test"):
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")
    cause.verify_message = "self-signed certificate"
    error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.__cause__ = cause
    return error


def test_tls_verification_failure_fails_at_once_naming_host_and_ca_option(make_client, fake_time):
    client, rec = make_client(lambda request: _certificate_error(), ca_path="/etc/pki/corp.pem")
    with pytest.raises(ScanopsTlsError) as info:
        client.request("GET", "/a")
    assert len(rec.requests) == 1
    assert fake_time.sleeps == []
    message = info.value.message
    assert "api.example.test" in message and "self-signed certificate" in message
    assert "ca_path /etc/pki/corp.pem" in message and "validate_certs" in message
    assert info.value.may_have_acted is False
    assert client.stats == {"total": 1, "retries": 0, "GET": 1}


def test_tls_verification_failure_of_a_real_handshake_is_recognised(tmp_path):
    """A real TLS server with a certificate nobody trusts: the failure is reported at once."""
    import subprocess
    import threading
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                           "-subj", "/CN=localhost"], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("openssl could not make a certificate: %s" % made.stderr[-200:])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]

    def serve():
        for _attempt in range(6):
            try:
                conn, _addr = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ApiClient("https://127.0.0.1:%d/api" % port, provider="test", auth_headers={"X-API-Key": SECRET}, retries=5,
                       retry_timeout=60, timeout=5, sleep=lambda seconds: pytest.fail("a TLS failure was retried"))
    try:
        with pytest.raises(ScanopsTlsError) as info:
            client.request("GET", "/a")
    finally:
        client.close()
        listener.close()
    assert "127.0.0.1" in info.value.message
    assert client.stats["total"] == 1


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_stats_count_requests_that_failed(make_client, status):
    client, _rec = make_client([ok({"error": "no"}, status)], retries=0)
    with pytest.raises(ScanopsApiError):
        client.request("GET", "/a")
    assert client.stats["total"] == 1 and client.stats["GET"] == 1


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_quote_segment_refuses_ids_that_change_the_path(value):
    with pytest.raises(ScanopsApiError):
        quote_segment(value)
    assert quote_segment("a/b?c") == "a%2Fb%3Fc"


def test_proxy_credentials_go_in_proxy_authorization_only():
    """A real (tiny) HTTP proxy sees Proxy-Authorization; the proxy URL never holds the password."""
    import base64
    import threading
    seen = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _addr = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            seen.append(data.decode("latin-1"))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    proxy = "http://127.0.0.1:%d" % listener.getsockname()[1]
    client = ApiClient("http://api.example.test/api", provider="test", auth_headers={"X-API-Key": SECRET}, retries=0, timeout=5,
                       proxy=proxy, proxy_auth=("svc", "pr0xy-pw"))
    try:
        assert client.request("GET", "/a") == {}
    finally:
        client.close()
        listener.close()
    thread.join(5)
    request = seen[0]
    assert request.startswith("GET http://api.example.test/api/a ")
    expected = base64.b64encode(b"svc:pr0xy-pw").decode("ascii")
    assert "Proxy-Authorization: Basic %s" % expected in request


@pytest.mark.parametrize("failure", [httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."),
                                     httpx.LocalProtocolError("Illegal header value")])
def test_a_request_that_could_not_be_written_says_nothing_was_sent(make_client, failure):
    client, rec = make_client([failure], retries=0)
    with pytest.raises(ScanopsTransportError) as info:
        client.request("POST", "/scans", json_body={"image": "nginx"})
    assert info.value.may_have_acted is False
    assert info.value.message.startswith("the request could not be sent")
    assert "may have acted" not in info.value.message
