# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side pacing: a thread-safe token bucket per (provider, request class)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import threading
import time

# X-RateLimit-Reset values above this are Unix timestamps, smaller ones are seconds to wait.
_EPOCH_THRESHOLD = 10 ** 9


def _header(headers, name):
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class NoLimit(object):
    """A limiter that never waits (``rate_limit: 0``)."""

    rate = 0.0
    burst = 0

    def acquire(self):
        """Return immediately; 0 seconds waited."""
        return 0.0

    def observe(self, headers):
        """Ignore rate-limit headers."""
        return None


class TokenBucket(object):
    """Token bucket: ``rate`` tokens a second, at most ``burst`` saved up.

    ``acquire()`` takes one token, sleeping until it is available. Threads reserve their
    token under the lock and sleep outside it, so concurrent callers queue fairly without
    holding the lock while waiting. A server that says its window is used up
    (``X-RateLimit-Remaining: 0`` with a ``Reset``) holds every caller until the reset, those
    already queued included. ``clock`` (monotonic seconds), ``sleep`` and ``wallclock`` (Unix
    seconds, for X-RateLimit-Reset timestamps) are injectable for tests.

    ``limit_caps_burst`` false keeps a documented burst larger than the ``X-RateLimit-Limit``
    the server sends (Penaxtra: 60 a minute with a burst of 120).
    """

    def __init__(self, rate, burst=1, clock=time.monotonic, sleep=time.sleep, wallclock=time.time, limit_caps_burst=True):
        if rate <= 0:
            raise ValueError("rate must be positive; use NoLimit to disable pacing")
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._wallclock = wallclock
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._limit_caps_burst = limit_caps_burst
        # Monotonic time before which nothing may be sent (the server's reset), or None.
        self._hold_until = None

    def _refill(self, now):
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._stamp = now

    def acquire(self):
        """Take one token; sleep first if none is available. Returns the seconds slept."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        slept = 0.0
        if wait > 0:
            self._sleep(wait)
            slept += wait
        # A reset announced while this caller was queued (or before) still applies to it.
        while True:
            with self._lock:
                hold = self._hold_until
            remaining = 0.0 if hold is None else hold - self._clock()
            if remaining <= 0:
                return slept
            self._sleep(remaining)
            slept += remaining

    def observe(self, headers):
        """Tighten from ``X-RateLimit-Limit/Remaining/Reset`` response headers, when sent.

        Never loosens the configured pace. ``Remaining`` and ``Reset`` are the server's own
        count of what is left in its window, so they decide when to hold back; ``Limit`` only
        caps the burst. The steady rate is not derived from ``Limit``: the headers do not say
        how long the window is, and guessing a minute would slow a client whose server counts
        a shorter one.
        """
        limit = _header(headers, "X-RateLimit-Limit")
        remaining = _header(headers, "X-RateLimit-Remaining")
        reset = _header(headers, "X-RateLimit-Reset")
        if limit is None and remaining is None:
            return
        with self._lock:
            now = self._clock()
            self._refill(now)
            if limit is not None and limit > 0 and self._limit_caps_burst:
                self.burst = max(1, min(self.burst, int(limit)))
                self._tokens = min(self._tokens, float(self.burst))
            if remaining is not None and remaining < self._tokens:
                self._tokens = max(remaining, 0.0)
            # Checked whatever our own count says: with callers queued it is already below zero.
            if remaining is not None and remaining <= 0 and reset is not None:
                delay = reset - self._wallclock() if reset > _EPOCH_THRESHOLD else reset
                if delay > 0:
                    # Owe enough tokens that the next one is available at the reset time, and hold
                    # the callers that reserved earlier tokens until then too.
                    self._tokens = min(self._tokens, 1.0 - delay * self.rate)
                    self._hold_until = max(self._hold_until or 0.0, now + delay)
