# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side pacing: a token bucket per (provider, request class), kept in this process or shared
by every process of the controller that uses the same credential on the same API.

Forks, inventory sources and lookups are separate processes: a bucket each would let N of them
send N times the vendor's limit. ``shared_state(key)`` keeps a bucket's state in a small file
under the controller's cache directory, read and written under ``controller_lock``, so that all
of them draw from one bucket. That holds on one controller only: two controllers (or execution
nodes) using one credential each pace alone and can together pass the vendor's limit.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import errno
import hashlib
import json
import os
import threading
import time

from ansible_collections.scanops.security.plugins.module_utils.controller_lock import (
    ControllerLockTimeout,
    ControllerLockUnavailable,
    cache_dir,
    controller_lock,
)

# X-RateLimit-Reset values above this are Unix timestamps, smaller ones are seconds to wait.
_EPOCH_THRESHOLD = 10 ** 9
# How long a process waits for the lock of a shared bucket (each holder keeps it for one read and
# one write of a small file); past that it paces alone rather than stall.
SHARED_LOCK_TIMEOUT = 10.0


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


class _MemoryState(object):
    """A bucket's state in this process, behind a thread lock."""

    shared = False

    def __init__(self, tokens, stamp, burst):
        self._lock = threading.Lock()
        self._state = {"tokens": float(tokens), "stamp": stamp, "burst": int(burst), "hold_until": None}

    @contextlib.contextmanager
    def state(self, clock, burst, write=True):  # pylint: disable=unused-argument
        with self._lock:
            yield clock(), self._state


class _FileState(object):
    """A bucket's state in a JSON file that every process of this controller pacing the same key reads and writes.

    Each change happens under ``controller_lock`` of the key; the file is replaced whole, so a
    reader never sees half of it. A missing or unreadable file is a full bucket.
    """

    shared = True
    # Set when the state could not be written: the bucket then goes on in its process alone.
    write_error = None

    def __init__(self, key, directory=None, lock_timeout=SHARED_LOCK_TIMEOUT):
        self.key = ("rate-limit",) + tuple(key)
        base = directory or os.path.join(cache_dir(), "ratelimit")
        name = hashlib.sha256(json.dumps(self.key, separators=(",", ":")).encode("utf-8")).hexdigest()
        self.path = os.path.join(base, name + ".json")
        self._lock_directory = os.path.join(base, "locks") if directory else None
        self._lock_timeout = lock_timeout

    def _read(self, now, burst):
        try:
            with open(self.path) as handle:
                state = json.load(handle)
            if not isinstance(state, dict) or not all(isinstance(state.get(k), (int, float)) for k in ("tokens", "stamp")):
                raise ValueError("not a bucket")
            state.setdefault("hold_until", None)
            state["burst"] = int(state.get("burst") or burst)
            return state
        except (IOError, OSError, ValueError, TypeError):
            return {"tokens": float(burst), "stamp": now, "burst": int(burst), "hold_until": None}

    def _write(self, state):
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, mode=0o700)
        except OSError as err:
            if err.errno != errno.EEXIST:
                raise
        temporary = "%s.%d.%d" % (self.path, os.getpid(), threading.current_thread().ident or 0)
        with open(temporary, "w") as handle:
            json.dump(state, handle)
        os.replace(temporary, self.path)

    @contextlib.contextmanager
    def state(self, clock, burst, write=True):
        with controller_lock(self.key, self._lock_timeout, directory=self._lock_directory):
            # The time is read under the lock: a process that waited for it must not count from before.
            now = clock()
            state = self._read(now, burst)
            yield now, state
            if write:
                try:
                    self._write(state)
                except (IOError, OSError) as err:
                    self.write_error = err


def shared_state(key, directory=None):
    """The store that makes a TokenBucket controller-wide for ``key`` (say provider, credential hash, origin, class)."""
    return _FileState(key, directory)


class TokenBucket(object):
    """Token bucket: ``rate`` tokens a second, at most ``burst`` saved up.

    ``acquire()`` takes one token, sleeping until it is available. Callers reserve their token
    under the lock and sleep outside it, so concurrent callers queue fairly without holding the
    lock while waiting. A server that says its window is used up (``X-RateLimit-Remaining: 0``
    with a ``Reset``) holds every caller until the reset, those already queued included.
    ``clock`` (monotonic seconds), ``sleep`` and ``wallclock`` (Unix seconds, for
    X-RateLimit-Reset timestamps) are injectable for tests.

    ``limit_caps_burst`` false keeps a documented burst larger than the ``X-RateLimit-Limit``
    the server sends (Penaxtra: 60 a minute with a burst of 120).

    With ``store=shared_state(key)`` the tokens are those of every process of this controller that
    paces ``key`` (times are then wall-clock seconds, which all processes share). When the shared
    file can't be locked or written the bucket goes on in this process alone.
    """

    def __init__(self, rate, burst=1, clock=time.monotonic, sleep=time.sleep, wallclock=time.time, limit_caps_burst=True,
                 store=None):
        if rate <= 0:
            raise ValueError("rate must be positive; use NoLimit to disable pacing")
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self._configured_burst = self.burst
        self._clock = wallclock if store is not None else clock
        self._sleep = sleep
        self._wallclock = wallclock
        self._limit_caps_burst = limit_caps_burst
        self._store = store or _MemoryState(self.burst, self._clock(), self.burst)

    @property
    def shared(self):
        """True while the bucket's state is shared with the controller's other processes."""
        return self._store.shared

    @contextlib.contextmanager
    def _state(self, write=True):
        """``(now, state)`` of the bucket, read under its lock (``now`` too); written back unless ``write`` is false."""
        store = self._store
        with contextlib.ExitStack() as stack:
            try:
                now, state = stack.enter_context(store.state(self._clock, self._configured_burst, write))
            except (ControllerLockUnavailable, ControllerLockTimeout):
                # No lock, or another process stuck holding it: pacing alone beats stalling a task (the
                # limits of sharing are documented).
                store = self._store = _MemoryState(self._configured_burst, self._clock(), self._configured_burst)
                now, state = stack.enter_context(store.state(self._clock, self._configured_burst, write))
            yield now, state
        if getattr(store, "write_error", None) is not None:
            self._store = _MemoryState(state["burst"], now, state["burst"])

    def _refill(self, state, now):
        elapsed = now - state["stamp"]
        if elapsed > 0:
            state["tokens"] = min(float(state["burst"]), state["tokens"] + elapsed * self.rate)
        if elapsed > 0 or self._store.shared:
            # A shared stamp is wall-clock time: after the clock was set back, count from now.
            state["stamp"] = now

    def acquire(self):
        """Take one token; sleep first if none is available. Returns the seconds slept."""
        with self._state() as (now, state):
            self._refill(state, now)
            state["tokens"] -= 1.0
            wait = 0.0 if state["tokens"] >= 0 else -state["tokens"] / self.rate
        slept = 0.0
        if wait > 0:
            self._sleep(wait)
            slept += wait
        # A reset announced while this caller was queued (or before) still applies to it.
        while True:
            with self._state(write=False) as (_now, state):
                hold = state["hold_until"]
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
        with self._state() as (now, state):
            self._refill(state, now)
            if limit is not None and limit > 0 and self._limit_caps_burst:
                state["burst"] = max(1, min(state["burst"], int(limit)))
                state["tokens"] = min(state["tokens"], float(state["burst"]))
            if remaining is not None and remaining < state["tokens"]:
                state["tokens"] = max(remaining, 0.0)
            # Checked whatever our own count says: with callers queued it is already below zero.
            if remaining is not None and remaining <= 0 and reset is not None:
                delay = reset - self._wallclock() if reset > _EPOCH_THRESHOLD else reset
                if delay > 0:
                    # Owe enough tokens that the next one is available at the reset time, and hold
                    # the callers that reserved earlier tokens until then too.
                    state["tokens"] = min(state["tokens"], 1.0 - delay * self.rate)
                    state["hold_until"] = max(state["hold_until"] or 0.0, now + delay)
            self.burst = state["burst"]
