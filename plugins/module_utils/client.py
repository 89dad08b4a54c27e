# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client of the collection, on httpx.

One ``ApiClient`` owns one ``httpx.Client`` (one connection pool). httpx clients are
thread-safe, so a module may share an ApiClient across a ThreadPoolExecutor for bulk work.

What it does for every call: client-side pacing, bounded retries of safe requests, manual
redirects that drop credentials on a change of origin and never carry a request body to another
origin, TLS verification failures reported at once, JSON decoding with clear errors, vendor
error bodies turned into ``ScanopsApiError`` (parsed by the provider adapter), and request
counting in ``stats`` (every request sent, whatever its outcome).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import email.utils
import json
import math
import os
import random
import ssl
import sys
import threading
import time

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_CORE_VERSION
from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit

from ansible_collections.scanops.security.plugins.module_utils._version import COLLECTION_VERSION
from ansible_collections.scanops.security.plugins.module_utils.errors import (
    ScanopsApiError,
    ScanopsTlsError,
    ScanopsTransportError,
    redact,
)
from ansible_collections.scanops.security.plugins.module_utils.ratelimit import NoLimit


def _import_httpx():
    """httpx, imported without its command-line client.

    ``import httpx`` also imports ``httpx._main`` (the ``httpx`` command, with click, rich and
    pygments) whenever those are installed: about a third of httpx's import time, paid by every
    module run, for code a module never calls. Mapping that name to None in ``sys.modules`` makes
    httpx take its own fallback for a missing CLI; the entry is removed again right after, so a
    later ``import httpx._main`` works as usual.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        import httpx as loaded  # pylint: disable=import-outside-toplevel
        return loaded
    sys.modules["httpx._main"] = None
    try:
        import httpx as loaded  # pylint: disable=import-outside-toplevel
    finally:
        if sys.modules.get("httpx._main", True) is None:
            del sys.modules["httpx._main"]
    return loaded


try:
    httpx = _import_httpx()
    HAS_HTTPX = True
    HTTPX_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised by the sanity import test
    httpx = None
    HAS_HTTPX = False
    HTTPX_IMPORT_ERROR = _exc

USER_AGENT = "scanops.security/%s (+ansible-core %s)" % (COLLECTION_VERSION, ANSIBLE_CORE_VERSION)

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"))
RETRY_STATUSES = frozenset((429, 502, 503, 504))
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
MAX_REDIRECTS = 5
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
DEFAULT_POOL_SIZE = 16
_TEXT_EXCERPT = 200


def usable_wait(seconds):
    """``seconds`` when it is a positive, finite number of seconds; None otherwise.

    A hint of 0 (Penaxtra's circuit breaker), a negative one, NaN or infinity says nothing about
    when to retry: the caller falls back to its jittered backoff instead of retrying at once.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return float(seconds)


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date), or None.

    None also for a wait that is not positive (0, negative, NaN, infinite, a date in the past):
    such a header gives no usable hint. An HTTP date without a zone is read as UTC, the only zone
    HTTP dates use.
    """
    if value is None:
        return None
    value = str(value).strip()
    try:
        return usable_wait(float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_tz(value)
    except (TypeError, ValueError):
        parsed = None
    if not parsed:
        return None
    if parsed[9] is None:
        parsed = parsed[:9] + (0,)
    when = email.utils.mktime_tz(parsed)
    return usable_wait(when - (time.time() if now is None else now))


def backoff_delay(attempt, rand=random.random, base=BACKOFF_BASE, cap=BACKOFF_CAP):
    """Jittered exponential delay for retry number ``attempt`` (1-based).

    The ceiling doubles each attempt (``base * 2**(attempt-1)``, at most ``cap``); the delay is
    drawn from the upper half, ``[ceiling/2, ceiling]``, so retries spread out but never
    collapse to zero.
    """
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return ceiling / 2.0 + rand() * ceiling / 2.0


def origin_of(url):
    """``(scheme, host, port)`` of a URL, the default port filled in: two URLs share an origin when these are equal."""
    parts = urlsplit(str(url))
    scheme = (parts.scheme or "").lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _shown_location(url):
    """A redirect target fit for a message: no user name or password, no query string."""
    parts = urlsplit(str(url))
    host = parts.netloc.rsplit("@", 1)[-1]
    return "%s://%s%s%s" % (parts.scheme, host, parts.path, "?..." if parts.query else "")


class ApiResponse(object):
    """A decoded response: ``status_code``, ``data`` (JSON or None) and ``headers``."""

    def __init__(self, status_code, data, headers):
        self.status_code = status_code
        self.data = data
        self.headers = headers


class ApiClient(object):
    """HTTP client for one provider.

    Args:
        base_url: the API root; request paths are appended to it.
        provider: provider id, copied into errors.
        auth_headers: credential headers sent to the base URL's origin only.
        error_parser: ``callable(status, data, text) -> dict(code, message, retry_after,
            details, no_retry_hint)`` from the adapter; turns a vendor error body into its parts.
            ``no_retry_hint`` true means the vendor said to back off without saying how long, so
            a ``Retry-After`` header is not honoured either.
        limiters: ``{rate_class: limiter}``; ``"read"`` and ``"write"`` are the defaults for
            GET/HEAD and for everything else.
        timeout: per-request timeout in seconds.
        retries: how many times a retryable failure is retried.
        retry_timeout: total seconds (from the first attempt) within which retries may happen.
        validate_certs, ca_path, client_cert, client_key, proxy: TLS and proxy settings;
            without ``proxy`` httpx honours the usual proxy environment variables.
        proxy_auth: ``(username, password)`` for ``proxy`` (kept out of the proxy URL, so it is
            never printed with it).
        transport: an ``httpx`` transport (tests pass ``httpx.MockTransport``).
        sleep, clock, rand, wallclock: injectable time and randomness for tests.
        pool_size: connection pool size; keep it >= the number of worker threads.
        counts_into: another ApiClient whose request counters this one adds to, so an adapter
            with two origins (AgileSec's scan and search APIs) reports one ``stats``.
        count_as: the ``stats`` key of this client's requests instead of their method (AgileSec
            search queries are POSTs that only read: ``search`` keeps them apart from writes).
    """

    def __init__(self, base_url, provider=None, auth_headers=None, error_parser=None, limiters=None,
                 timeout=30.0, retries=5, retry_timeout=60.0, validate_certs=True, ca_path=None,
                 client_cert=None, client_key=None, proxy=None, transport=None, sleep=time.sleep,
                 clock=time.monotonic, rand=random.random, wallclock=time.time,
                 pool_size=DEFAULT_POOL_SIZE, extra_headers=None, proxy_auth=None,
                 counts_into=None, count_as=None):
        if not HAS_HTTPX:
            raise ImportError("the httpx Python library is required: %s" % HTTPX_IMPORT_ERROR)
        self.base_url = str(base_url).rstrip("/")
        self.provider = provider
        self._auth_headers = dict(auth_headers or {})
        self._error_parser = error_parser
        self._limiters = dict(limiters or {})
        self.retries = max(0, int(retries if retries is not None else 5))
        self.retry_timeout = float(retry_timeout if retry_timeout is not None else 60.0)
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._wallclock = wallclock
        self._secrets = set(v for v in self._auth_headers.values() if v)
        for value in list(self._secrets):
            # "Bearer <token>": the bare token must be redacted too.
            if " " in value:
                self._secrets.add(value.split(" ", 1)[1])
        self._stats_lock = threading.Lock()
        self._stats = {"total": 0, "retries": 0}
        self._count_as = count_as
        if counts_into is not None:
            # One lock guards both clients' counters (and secrets): simple, and never contended for long.
            self._stats_lock = counts_into._stats_lock
            self._stats = counts_into._stats
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        headers.update(extra_headers or {})
        kwargs = dict(
            headers=headers,
            timeout=float(timeout if timeout is not None else 30.0),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            trust_env=True,
        )
        if transport is not None:
            kwargs["transport"] = transport
        else:
            kwargs["verify"] = self._ssl_context(validate_certs, ca_path, client_cert, client_key)
        self._ca_option = "ca_path %s" % ca_path if ca_path else "ca_path"
        if proxy:
            if proxy_auth:
                self._secrets.add(str(proxy_auth[1]))
                proxy = httpx.Proxy(proxy, auth=tuple(proxy_auth))
            self._client = self._make_client_with_proxy(kwargs, proxy)
        else:
            self._client = httpx.Client(**kwargs)

    # -- construction helpers -----------------------------------------------------------------
    @staticmethod
    def _ssl_context(validate_certs, ca_path, client_cert, client_key):
        if validate_certs is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif ca_path:
            if _is_dir(ca_path):
                context = ssl.create_default_context(capath=ca_path)
            else:
                context = ssl.create_default_context(cafile=ca_path)
        else:
            context = _default_trust_context()
        if client_cert:
            context.load_cert_chain(client_cert, client_key or None)
        return context

    @staticmethod
    def _make_client_with_proxy(kwargs, proxy):
        try:
            return httpx.Client(proxy=proxy, **kwargs)
        except TypeError:  # httpx < 0.26 only knows "proxies"
            return httpx.Client(proxies=proxy, **kwargs)

    # -- public API ----------------------------------------------------------------------------
    def add_secret(self, value):
        """Register a value (e.g. a webhook secret sent in a body) to redact from errors."""
        if value:
            with self._stats_lock:
                self._secrets.add(str(value))

    def _secret_list(self):
        with self._stats_lock:
            return tuple(self._secrets)

    @property
    def stats(self):
        """Request counts: ``{"total", "retries", "<METHOD>": n}`` (HTTP requests actually sent)."""
        with self._stats_lock:
            return dict(self._stats)

    def close(self):
        """Close the connection pool."""
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def url_for(self, path):
        """Absolute URL for an API path (absolute URLs are returned unchanged)."""
        path = str(path)
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return "%s/%s" % (self.base_url, path.lstrip("/"))

    def request(self, method, path, params=None, json_body=None, idempotent=None, rate_class=None):
        """Send a request and return the decoded JSON body (None when the body is empty).

        Args:
            method: HTTP method.
            path: path below the base URL (already URL-quoted; use ``quote_segment`` on ids).
            params: query parameters; None values are left out, booleans sent as true/false.
            json_body: JSON request body.
            idempotent: force whether a failed request may be repeated. Defaults to True for
                GET/HEAD/OPTIONS/PUT/PATCH/DELETE and False for POST.
            rate_class: which limiter paces this call (defaults to "read" or "write").

        Raises:
            ScanopsApiError: the vendor answered with an error, or the body is not JSON.
            ScanopsTransportError: no response; ``may_have_acted`` says if the server may have
                acted on it.
        """
        return self.request_response(method, path, params, json_body, idempotent, rate_class).data

    def request_response(self, method, path, params=None, json_body=None, idempotent=None, rate_class=None):
        """Like ``request`` but returns an ``ApiResponse`` (status code, data, headers)."""
        method = method.upper()
        safe = (method in SAFE_METHODS) if idempotent is None else bool(idempotent)
        limiter = self._limiter(method, rate_class)
        url = self.url_for(path)
        query = _clean_params(params)
        request_path = urlsplit(url).path
        deadline = self._clock() + self.retry_timeout
        attempt = 0
        while True:
            limiter.acquire()
            answered = None
            try:
                try:
                    response = answered = self._send(method, url, query, json_body)
                finally:
                    # A window limiter counts the request from its answer (or its failure) on.
                    limiter.release(refused=answered is not None and answered.status_code == 429)
            except ScanopsTransportError as err:
                error = err
                error.path = request_path
                if isinstance(error, ScanopsTlsError) or (error.may_have_acted and not safe):
                    raise error
                hint = None
            else:
                limiter.observe(response.headers)
                if 200 <= response.status_code < 300:
                    try:
                        data = self._decode_success(response, method, request_path)
                    except ScanopsApiError as err:
                        # The server accepted the request; a create may have happened.
                        err.may_have_acted = not safe
                        raise err
                    return ApiResponse(response.status_code, data, response.headers)
                error = self._error_from_response(response, method, request_path)
                hint = error.retry_after
                retryable_status = response.status_code in RETRY_STATUSES
                if not safe and response.status_code >= 500:
                    error.may_have_acted = True
                if not retryable_status or (not safe and response.status_code != 429):
                    raise error
            attempt += 1
            if attempt > self.retries:
                raise error
            wait = hint if hint is not None else backoff_delay(attempt, self._rand)
            remaining = deadline - self._clock()
            if wait > remaining:
                error.note = ("not retried: the next attempt, allowed in %.0f s, would end after the retry_timeout of %.0f s"
                              % (wait, self.retry_timeout))
                raise error
            with self._stats_lock:
                self._stats["retries"] += 1
            self._sleep(wait)

    # -- internals ------------------------------------------------------------------------------
    def _limiter(self, method, rate_class):
        if rate_class and rate_class in self._limiters:
            return self._limiters[rate_class]
        default = "read" if method in ("GET", "HEAD", "OPTIONS") else "write"
        return self._limiters.get(default) or NoLimit()

    def _count(self, method):
        key = self._count_as or method
        with self._stats_lock:
            self._stats["total"] += 1
            self._stats[key] = self._stats.get(key, 0) + 1

    def _send(self, method, url, params, json_body):
        """Send, following up to MAX_REDIRECTS redirects by hand; the one place that decides where a request may go.

        * Credentials go only to the origin of the base URL: once a redirect leaves it, every
          further hop is sent without them (httpx itself would strip only Authorization).
        * A request that carries a body is never sent to another origin: a redirect that points
          there fails with the ``Location``, before anything is sent to it. That holds for every
          redirect status, 303 included, so a write is never followed away from the API.
        * Within the origin, redirects are followed as before (307/308 resend the body).
        """
        home = origin_of(self.base_url)
        with_auth = True
        for _hop in range(MAX_REDIRECTS + 1):
            with_auth = with_auth and origin_of(url) == home
            headers = dict(self._auth_headers) if with_auth else {}
            self._count(method)
            try:
                response = self._client.request(method, url, params=params, json=json_body, headers=headers)
            except httpx.TransportError as exc:
                raise self._transport_error(exc, method, url)
            if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
                return response
            target = str(response.url.join(response.headers["location"]))
            if json_body is not None and origin_of(target) != home:
                raise ScanopsApiError(
                    "the API answered with a redirect to another origin (Location: %s); a request that carries a body is "
                    "never sent to another origin, so it was not followed. Check api_url" % _shown_location(target),
                    provider=self.provider, status=response.status_code, method=method, path=urlsplit(url).path,
                    # A 303 says the request was processed; the other redirects say it was not.
                    may_have_acted=response.status_code == 303)
            url = target
            params = None  # the Location carries its own query string
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, json_body = ("GET" if method != "HEAD" else "HEAD"), None
        raise ScanopsApiError("too many redirects (more than %d)" % MAX_REDIRECTS, provider=self.provider,
                              status=response.status_code, method=method, path=urlsplit(url).path)

    def _transport_error(self, exc, method, url):
        verify_failure = _certificate_failure(exc)
        if verify_failure is not None:
            # Retrying can't make an untrusted certificate trusted: say so at once.
            host = urlsplit(str(url)).hostname
            return ScanopsTlsError(
                "TLS certificate verification failed for %s (%s); give the CA bundle that signed the API's certificate "
                "with %s, or set validate_certs: false on a test system only"
                % (host, redact(verify_failure, self._secret_list()), self._ca_option),
                provider=self.provider, code="CertificateVerifyFailed", method=method, path=urlsplit(url).path,
                may_have_acted=False)
        # These fail before any byte of the request is written, so the server cannot have acted.
        not_sent = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
        # A URL httpx can't speak or a header it refuses to write: nothing left this host.
        unsendable = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
        sent = not isinstance(exc, not_sent + unsendable)
        if isinstance(exc, unsendable):
            what = "the request could not be sent"
        elif isinstance(exc, httpx.TimeoutException):
            what = "timed out"
        elif sent:
            what = "connection lost before a response"
        else:
            what = "could not connect"
        message = "%s (%s)" % (what, redact(str(exc), self._secret_list()) or type(exc).__name__)
        if sent:
            message += "; the server may have acted on the request"
        return ScanopsTransportError(message, provider=self.provider, code=type(exc).__name__, method=method,
                                     path=urlsplit(url).path, may_have_acted=sent)

    def _decode_success(self, response, method, path):
        content = response.content
        if response.status_code == 204 or not content or not content.strip():
            return None
        try:
            return json.loads(content.decode(response.encoding or "utf-8"))
        except (ValueError, UnicodeDecodeError):
            ctype = response.headers.get("content-type", "unknown content type")
            raise ScanopsApiError("invalid JSON in response (%s)" % ctype, provider=self.provider,
                                  status=response.status_code, method=method, path=path)

    def _error_from_response(self, response, method, path):
        text = ""
        data = None
        try:
            text = response.text
            data = json.loads(text) if text.strip() else None
        except (ValueError, UnicodeDecodeError):
            data = None
        parsed = {}
        if self._error_parser is not None:
            try:
                parsed = self._error_parser(response.status_code, data, text) or {}
            except Exception:  # pylint: disable=broad-except
                # A body that does not fit the vendor's documented shape must not hide the error.
                parsed = {}
        message = parsed.get("message")
        if not message:
            excerpt = " ".join(text.split())[:_TEXT_EXCERPT] if data is None else ""
            message = excerpt or response.reason_phrase or "HTTP error"
        retry_after = usable_wait(parsed.get("retry_after"))
        # An adapter may withdraw the header's hint (Penaxtra's circuit breaker sends 0 in both).
        if retry_after is None and not parsed.get("no_retry_hint"):
            retry_after = parse_retry_after(response.headers.get("retry-after"), self._wallclock())
        details = parsed.get("details")
        if details is not None:
            details = json.loads(redact(json.dumps(details), self._secret_list()))
        return ScanopsApiError(redact(message, self._secret_list()), provider=self.provider, status=response.status_code,
                               code=redact(parsed.get("code"), self._secret_list()), method=method, path=path,
                               retry_after=retry_after, details=details)


def quote_segment(value):
    """URL-quote one path segment (an id), so ``/`` or ``?`` in it cannot change the path.

    Quoting leaves ``.`` and ``..`` as they are, and an empty segment collapses the path, so
    those are refused outright (options are checked earlier, in validation.py; this stops an
    id that came from anywhere else).
    """
    text = str(value)
    if text in ("", ".", ".."):
        raise ScanopsApiError("%r can't be used as an id in a request path" % text)
    return quote(text, safe="")


def _certificate_failure(exc):
    """The reason when ``exc`` (or what caused it) is a failed certificate verification, else None."""
    seen = set()
    current = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return getattr(current, "verify_message", None) or str(current)
        current = current.__cause__ or current.__context__
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return text
    return None


def _clean_params(params):
    if not params:
        return None
    cleaned = []
    items = params.items() if isinstance(params, dict) else params
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        cleaned.append((key, value))
    return cleaned


def _is_dir(path):
    return os.path.isdir(path)


class _DeferredTrustContext(ssl.SSLContext):
    """A client TLS context that reads its trust store just before its first handshake.

    Reading the CA bundle takes tens of milliseconds, spent in every module run; a run against a
    plain ``http://`` API (or one that fails before any request) never needs it. Hostname checks
    and certificate verification are on from the start (``PROTOCOL_TLS_CLIENT``'s defaults), so
    until the bundle is read the context trusts nothing: it can only fail closed.
    """

    def defer_trust(self, load_trust):
        """Call ``load_trust(self)`` once, before the first socket or BIO is wrapped."""
        self._load_trust = load_trust  # pylint: disable=attribute-defined-outside-init
        self._trust_lock = threading.Lock()  # pylint: disable=attribute-defined-outside-init

    def _ensure_trust(self):
        with self._trust_lock:
            if self._load_trust is not None:
                self._load_trust(self)
                self._load_trust = None  # pylint: disable=attribute-defined-outside-init

    def wrap_socket(self, *args, **kwargs):  # pylint: disable=arguments-differ,signature-differs
        self._ensure_trust()
        return super(_DeferredTrustContext, self).wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args, **kwargs):  # pylint: disable=arguments-differ,signature-differs
        self._ensure_trust()
        return super(_DeferredTrustContext, self).wrap_bio(*args, **kwargs)


def _load_default_trust(context):
    """Load the trust store httpx would use: SSL_CERT_FILE/SSL_CERT_DIR, else certifi, else the system's."""
    cafile = os.environ.get("SSL_CERT_FILE")
    capath = os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        context.load_verify_locations(cafile=cafile or None, capath=capath or None)
        return
    try:
        import certifi  # pylint: disable=import-outside-toplevel
    except ImportError:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return
    context.load_verify_locations(cafile=certifi.where())


def _default_trust_context():
    """A verifying client context on the default trust store, read at the first handshake (see _DeferredTrustContext).

    Set up as ``ssl.create_default_context()`` sets up a client context: verification and
    hostname checks on (the protocol's defaults), and on Python 3.13+ its strict X.509 flags.
    """
    context = _DeferredTrustContext(ssl.PROTOCOL_TLS_CLIENT)
    if sys.version_info >= (3, 13):
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    context.defer_trust(_load_default_trust)
    return context
