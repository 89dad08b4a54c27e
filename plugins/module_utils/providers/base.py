# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every provider adapter has in common.

An adapter owns everything vendor-specific: default URL, credential header, environment
variables, list style, error body shape, vocabulary, rate limits, one thin method per endpoint
and the normalizers. Modules talk to ``adapter.<endpoint method>()`` and read normalized dicts.

Conventions of the endpoint methods:
  * list methods walk every page and return a Python list of the vendor's raw items;
  * single-object methods return the vendor's object, unwrapped from a ``{"data": ...}``
    envelope when the vendor wraps it;
  * status arguments accept the normalized word or the vendor's own (any case);
  * every failure raises ``ScanopsApiError`` (see errors.py).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections
import datetime
import hashlib
import os
import re

from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.scanops.security.plugins.module_utils.client import ApiClient, quote_segment
from ansible_collections.scanops.security.plugins.module_utils.errors import VocabularyError
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import CallRequester, assumed_call_error
from ansible_collections.scanops.security.plugins.module_utils.ratelimit import SlidingWindow, TokenBucket, shared_state
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import (
    SEVERITIES,
    empty_counts,
)

# A vendor limit of ``limit`` requests in any ``window`` seconds (paced by ratelimit.SlidingWindow).
WindowLimit = collections.namedtuple("WindowLimit", ("limit", "window"))


def sliding_window(limit, window=60.0):
    """The limit of a vendor that counts ``limit`` requests in any sliding ``window`` seconds."""
    return WindowLimit(int(limit), float(window))


RATE_LIMIT_SCOPE_ENV = "SCANOPS_RATE_LIMIT_SCOPE"


def rate_limit_scope(environ=None):
    """``controller`` (every process of this controller shares the pace) unless SCANOPS_RATE_LIMIT_SCOPE says ``process``."""
    environ = os.environ if environ is None else environ
    return "process" if str(environ.get(RATE_LIMIT_SCOPE_ENV, "")).strip().lower() == "process" else "controller"


def seg(value):
    """Quote an id for use as one URL path segment."""
    return quote_segment(value)


_ISO_FRACTION = re.compile(r"\.(\d+)")


def parse_timestamp(value):
    """Parse an ISO-8601 timestamp (``Z`` or offset) into an aware datetime, or None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python < 3.11 fromisoformat accepts only 3 or 6 fractional digits.
    text = _ISO_FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def duration_between(start, end):
    """Seconds between two ISO timestamps, or None when either is missing."""
    first, last = parse_timestamp(start), parse_timestamp(end)
    if first is None or last is None:
        return None
    return round((last - first).total_seconds(), 3)


def unwrap(body):
    """The object inside a ``{"data": {...}}`` envelope, or the body itself."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and set(body) <= set(("data", "meta", "links")):
        return body["data"]
    return body


class ProviderAdapter(object):
    """Base class of the five adapters.

    Args:
        api_key: the credential (never logged, never put into results or errors).
        api_url: the API root; the provider's public default when None.
        organization: CloudGeni organization id (ignored by others).
        auth_scheme: HarborGuard only: ``bearer`` (default) or ``x_api_key``.
        rate_limit: requests per second for every request class of this provider; 0 turns
            client-side pacing off; None uses the provider's documented/assumed limits.
        **client_options: passed to ``ApiClient`` (timeout, retries, retry_timeout,
            validate_certs, ca_path, client_cert, client_key, proxy, transport, sleep, clock...).

    The adapter is a context manager that closes its client.
    """

    NAME = None
    DISPLAY_NAME = None
    DEFAULT_API_URL = None
    # Provider-specific environment variables, read after the options and SCANOPS_* ones.
    API_KEY_ENV = ()
    API_URL_ENV = ()
    ORGANIZATION_ENV = ()
    # Shortest sensible wait between two status polls, in seconds.
    MIN_POLL_INTERVAL = 5.0
    # rate class -> sliding_window(limit, seconds) or a token bucket's (requests per second, burst).
    # "read" and "write" are the defaults.
    RATE_LIMITS = {}
    # Request classes the vendor documents as unlimited: the collection's own pace for them is a
    # courtesy, which rate_limit may raise but not lower (a rate_limit meant for the limited calls
    # must not throttle the lookups around them).
    UNLIMITED_CLASSES = ()
    # False when the vendor documents a burst larger than the X-RateLimit-Limit it sends.
    LIMIT_HEADER_CAPS_BURST = True
    # True when X-RateLimit-Reset is the time the vendor's bucket is full again, not the next request's.
    RATE_LIMIT_RESET_IS_FULL = False
    VOCABULARY = None
    # Every request this adapter can make (providers/calls.py); endpoint methods send them with
    # call()/iter_call(), so this declaration is what the code does and what the docs show.
    CALLS = ()
    # operation key -> why this provider has no call for it (shown in the provider matrix).
    NO_CALL = {}
    # Matrix rows that are not requests: ``(row, documented, text)`` for authentication, rate
    # limits and pagination (an assumed one names its docs/assumptions.md row in the text).
    FACTS = ()
    # Headers the vendor requires on every request besides the credential.
    REQUIRED_HEADERS = {}
    # Module options, besides the shared ones, that build_adapter passes to the constructor when set.
    EXTRA_OPTIONS = ()

    def __init__(self, api_key, api_url=None, organization=None, auth_scheme=None, rate_limit=None, **client_options):
        self.api_key = api_key
        self.api_url = (api_url or self.DEFAULT_API_URL).rstrip("/")
        self.organization = organization
        self.auth_scheme = auth_scheme or "bearer"
        self.vocabulary = self.VOCABULARY
        if self.REQUIRED_HEADERS:
            client_options["extra_headers"] = dict(self.REQUIRED_HEADERS, **(client_options.get("extra_headers") or {}))
        self.client = ApiClient(
            self.api_url,
            provider=self.NAME,
            auth_headers=self.auth_headers(),
            error_parser=self.parse_error,
            limiters=self.build_limiters(rate_limit, client_options.get("clock"), client_options.get("sleep"),
                                         shared_key=self.pace_key()),
            **client_options
        )

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self):
        """Close the HTTP client."""
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- vendor specifics (override) ------------------------------------------------------------
    def auth_headers(self):
        """The credential header(s) for this provider."""
        return {"Authorization": "Bearer %s" % self.api_key}

    def parse_error(self, status, data, text):
        """Split a vendor error body into ``{code, message, retry_after, details}``."""
        if isinstance(data, dict):
            return {"code": data.get("error") or data.get("code"), "message": data.get("message")}
        return {}

    def pace_key(self):
        """What the vendor counts a limit by, as far as this controller can tell: provider, credential, API origin.

        The credential appears only as its SHA-256 (and the key itself only hashed, as a file name).
        """
        parts = urlsplit(self.api_url)
        origin = "%s://%s" % (parts.scheme.lower(), (parts.netloc.rsplit("@", 1)[-1]).lower())
        return (self.NAME, hashlib.sha256(str(self.api_key).encode("utf-8")).hexdigest(), origin)

    @classmethod
    def build_limiters(cls, rate_limit=None, clock=None, sleep=None, shared_key=None):
        """One limiter per request class, from ``RATE_LIMITS`` or the ``rate_limit`` override.

        With ``shared_key`` (and real time: no ``clock`` or ``sleep`` given) every limiter is
        shared by the processes of this controller that pace the same key and class
        (``ratelimit.shared_state``); test doubles of time keep a limiter in its process.
        """
        kwargs = {"limit_caps_burst": cls.LIMIT_HEADER_CAPS_BURST, "reset_is_full": cls.RATE_LIMIT_RESET_IS_FULL}
        if clock is not None:
            kwargs["clock"] = clock
        if sleep is not None:
            kwargs["sleep"] = sleep
        share = shared_key is not None and clock is None and sleep is None and rate_limit_scope() == "controller"
        if rate_limit is not None and float(rate_limit) <= 0:
            return {}
        classes = set(cls.RATE_LIMITS) | set(("read", "write"))
        limiters = {}
        for rate_class in classes:
            spec = cls.RATE_LIMITS.get(rate_class)
            if spec is None and rate_limit is None:
                continue
            store = shared_state(tuple(shared_key) + (rate_class,)) if share else None
            if isinstance(spec, WindowLimit):
                # rate_limit keeps the vendor's way of counting and sets the average (see SlidingWindow).
                window_kwargs = dict((name, kwargs[name]) for name in ("clock", "sleep") if name in kwargs)
                limiters[rate_class] = SlidingWindow(spec.limit, spec.window, rate=rate_limit, store=store, **window_kwargs)
            elif rate_limit is None or (rate_class in cls.UNLIMITED_CLASSES and float(rate_limit) < spec[0]):
                rate, burst = spec
                limiters[rate_class] = TokenBucket(rate, burst, store=store, **kwargs)
            else:
                limiters[rate_class] = TokenBucket(float(rate_limit), max(1, int(rate_limit)), store=store, **kwargs)
        return limiters

    # -- declared calls ----------------------------------------------------------------------------
    @classmethod
    def declared(cls, name):
        """The ``Call`` named ``name`` in ``CALLS``."""
        for call in cls.CALLS:
            if call.name == name:
                return call
        raise KeyError("%s declares no call %r" % (cls.__name__, name))

    def call(self, name, params=None, json_body=None, rate_class=None, **path_values):
        """Send the declared call ``name``; placeholders of its path come from ``path_values``.

        Raises AssumedCallError when the vendor answers an assumed call (or an assumed field or
        value) as if it did not exist, else what the client raises.
        """
        call = self.declared(name)
        requester = CallRequester(self, call)
        return requester.request(call.method, call.expand(seg, **path_values), params=params, json_body=json_body,
                                 rate_class=rate_class)

    def iter_call(self, name, walker, params=None, rate_class=None, path_values=None, **walker_options):
        """Walk every page of the declared GET ``name`` with a pagination ``walker``."""
        call = self.declared(name)
        return walker(CallRequester(self, call), call.expand(seg, **(path_values or {})), params, rate_class=rate_class,
                      **walker_options)

    def assumed_call_error(self, call, err, json_body=None):
        """The AssumedCallError ``err`` stands for, or None (see providers/calls.py)."""
        return assumed_call_error(call, err, json_body, self.DISPLAY_NAME, self.DISPLAY_NAME, self.api_url)

    def vendor_finding_status(self, status):
        """Vendor word for a finding status given in either vocabulary (raises VocabularyError)."""
        return self.vocabulary.finding_status_to_vendor(status)

    def severity_filter(self, severity):
        """The vendor's list-filter word for a severity (normalized or the vendor's own word).

        Raises:
            VocabularyError: the vendor has no single word for it; filter on our side instead.
        """
        word = self.vocabulary.vendor_severity(severity)
        if word is None:
            raise VocabularyError("%s has no single severity word for '%s' that its list filter takes" % (self.NAME, severity))
        return word

    def scan_status(self, vendor_status):
        """Normalized scan status for the vendor's word."""
        return self.vocabulary.scan_status(vendor_status)

    # -- normalizers ------------------------------------------------------------------------------
    def normalize_scan(self, raw, target=None, counts=None):
        """A scan/run/execution as ``{provider, id, target, status, vendor_status, created_at,
        started_at, completed_at, duration_seconds, counts{critical..info}, url, raw}``.

        ``counts`` overrides the severity counts (e.g. computed with ``count_severities``
        from findings when the vendor's scan object has none).
        """
        raise NotImplementedError

    def normalize_finding(self, raw):
        """A finding as ``{id, provider, rule_id, title, severity, status, vendor_status,
        location{file, line | package, version, fixed_version | resource}, first_seen, raw}``."""
        raise NotImplementedError

    def count_severities(self, findings):
        """``{critical..info}`` counts of raw vendor findings."""
        counts = empty_counts()
        for finding in findings:
            counts[self.vocabulary.severity(self._raw_severity(finding))] += 1
        return counts

    def _raw_severity(self, finding):
        return finding.get("severity") if isinstance(finding, dict) else None

    def _scan(self, raw, scan_id, target, vendor_status, created_at=None, started_at=None, completed_at=None,
              duration_seconds=None, counts=None, url=None):
        if duration_seconds is None:
            duration_seconds = duration_between(started_at or created_at, completed_at)
        normalized_counts = empty_counts()
        for sev in SEVERITIES:
            value = (counts or {}).get(sev)
            if isinstance(value, int):
                normalized_counts[sev] = value
        return {
            "provider": self.NAME,
            "id": scan_id,
            "target": target,
            "status": self.vocabulary.scan_status(vendor_status),
            "vendor_status": vendor_status,
            "created_at": created_at,
            "started_at": started_at,
            "completed_at": completed_at,
            "duration_seconds": duration_seconds,
            "counts": normalized_counts,
            "url": url,
            "raw": raw,
        }

    def _finding(self, raw, finding_id, rule_id, title, vendor_severity, vendor_status, location, first_seen):
        return {
            "id": finding_id,
            "provider": self.NAME,
            "rule_id": rule_id,
            "title": title,
            "severity": self.vocabulary.severity(vendor_severity),
            "status": self.vocabulary.finding_status_from_vendor(vendor_status),
            "vendor_status": vendor_status,
            "location": location,
            "first_seen": first_seen,
            "raw": raw,
        }
