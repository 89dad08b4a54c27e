# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client-side pacing: a limiter per (provider, request class), kept in this process or shared by
every process of the controller that uses the same credential on the same API.

``SlidingWindow`` for vendors that count requests in a sliding window (CloudGeni, HarborGuard),
``TokenBucket`` for Penaxtra's bucket and the vendors that publish no limit.

Forks, inventory sources and lookups are separate processes: a limiter each would let N of them
send N times the vendor's limit. ``shared_state(key)`` keeps a limiter's state in a small file
under the controller's cache directory, read and written under ``controller_lock``, so that all
of them draw from one bucket. That holds on one controller only: two controllers (or execution
nodes) using one credential each pace alone and can together pass the vendor's limit.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import errno
import hashlib
import itertools
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


def _reset_delay(reset, wallclock):
    """Seconds until an ``X-RateLimit-Reset`` (a Unix time, or seconds from now when small)."""
    return reset - wallclock if reset > _EPOCH_THRESHOLD else reset


class NoLimit(object):
    """A limiter that never waits (``rate_limit: 0``)."""

    rate = 0.0
    burst = 0

    def acquire(self):
        """Return immediately; 0 seconds waited."""
        return 0.0

    def release(self, refused=False):  # pylint: disable=unused-argument
        """Nothing to do."""
        return None

    def observe(self, headers):
        """Ignore rate-limit headers."""
        return None


class _MemoryState(object):
    """A limiter's state in this process, behind a thread lock."""

    shared = False

    def __init__(self, initial=None):
        self._lock = threading.Lock()
        self._state = initial

    @contextlib.contextmanager
    def state(self, clock, fresh, valid, write=True):  # pylint: disable=unused-argument
        with self._lock:
            now = clock()
            if self._state is None:
                self._state = fresh(now)
            yield now, self._state


class _FileState(object):
    """A limiter's state in a JSON file that every process of this controller pacing the same key reads and writes.

    Each change happens under ``controller_lock`` of the key; the file is replaced whole, so a
    reader never sees half of it. A missing or unreadable file is a fresh limiter.
    """

    shared = True
    # Set when the state could not be written: the limiter then goes on in its process alone.
    write_error = None

    def __init__(self, key, directory=None, lock_timeout=SHARED_LOCK_TIMEOUT):
        self.key = ("rate-limit",) + tuple(key)
        base = directory or os.path.join(cache_dir(), "ratelimit")
        name = hashlib.sha256(json.dumps(self.key, separators=(",", ":")).encode("utf-8")).hexdigest()
        self.path = os.path.join(base, name + ".json")
        self._lock_directory = os.path.join(base, "locks") if directory else None
        self._lock_timeout = lock_timeout

    def _read(self, now, fresh, valid):
        try:
            with open(self.path) as handle:
                state = json.load(handle)
            if isinstance(state, dict) and valid(state):
                return state
        except (IOError, OSError, ValueError, TypeError):
            pass
        return fresh(now)

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
    def state(self, clock, fresh, valid, write=True):
        with controller_lock(self.key, self._lock_timeout, directory=self._lock_directory):
            # The time is read under the lock: a process that waited for it must not count from before.
            now = clock()
            state = self._read(now, fresh, valid)
            yield now, state
            if write:
                try:
                    self._write(state)
                except (IOError, OSError) as err:
                    self.write_error = err


def shared_state(key, directory=None):
    """The store that makes a limiter controller-wide for ``key`` (say provider, credential hash, origin, class)."""
    return _FileState(key, directory)


class _Limiter(object):
    """What TokenBucket and SlidingWindow share: where their state lives and how it is read and written."""

    KIND = None

    def __init__(self, clock, sleep, wallclock, store):
        # Shared state is stamped in wall-clock seconds, the one clock every process reads alike.
        self._clock = wallclock if store is not None else clock
        self._sleep = sleep
        self._wallclock = wallclock
        self._store = store or _MemoryState()

    @property
    def shared(self):
        """True while the limiter's state is shared with the controller's other processes."""
        return self._store.shared

    def _fresh(self, now):
        raise NotImplementedError

    def _valid(self, state):
        raise NotImplementedError

    def _is_valid(self, state):
        try:
            return state.get("kind") == self.KIND and self._valid(state)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError):
            return False

    @contextlib.contextmanager
    def _state(self, write=True):
        """``(now, state)``, read under the limiter's lock (``now`` too); written back unless ``write`` is false."""
        store = self._store
        with contextlib.ExitStack() as stack:
            try:
                now, state = stack.enter_context(store.state(self._clock, self._fresh, self._is_valid, write))
            except (ControllerLockUnavailable, ControllerLockTimeout):
                # No lock, or another process stuck holding it: pacing alone beats stalling a task (the
                # limits of sharing are documented).
                store = self._store = _MemoryState()
                now, state = stack.enter_context(store.state(self._clock, self._fresh, self._is_valid, write))
            yield now, state
        if getattr(store, "write_error", None) is not None:
            self._store = _MemoryState(state)

    def release(self, refused=False):  # pylint: disable=unused-argument
        """The request paced by the last ``acquire()`` of this thread got its answer (``refused``: HTTP 429) or failed."""
        return None


class TokenBucket(_Limiter):
    """Token bucket: ``rate`` tokens a second, at most ``burst`` saved up (Penaxtra's own algorithm,
    and the pace assumed for vendors that publish no limit).

    ``acquire()`` takes one token, sleeping until it is available. Callers reserve their token
    under the lock and sleep outside it, so concurrent callers queue fairly without holding the
    lock while waiting. A server that says its window is used up (``X-RateLimit-Remaining: 0``
    with a ``Reset``) holds every caller until the reset, those already queued included.
    ``clock`` (monotonic seconds), ``sleep`` and ``wallclock`` (Unix seconds, for
    X-RateLimit-Reset timestamps) are injectable for tests.

    ``limit_caps_burst`` false keeps a documented burst larger than the ``X-RateLimit-Limit``
    the server sends (Penaxtra: 60 a minute with a burst of 120). ``reset_is_full`` says the
    server's ``X-RateLimit-Reset`` is when its bucket is full again (Penaxtra, an assumption), not
    when the next request may go: ``Remaining: 0`` then empties this bucket, whose own refill
    paces the next request, instead of holding every caller until the whole bucket has refilled.

    With ``store=shared_state(key)`` the tokens are those of every process of this controller that
    paces ``key`` (times are then wall-clock seconds, which all processes share). When the shared
    file can't be locked or written the bucket goes on in this process alone.
    """

    KIND = "bucket"

    def __init__(self, rate, burst=1, clock=time.monotonic, sleep=time.sleep, wallclock=time.time, limit_caps_burst=True,
                 store=None, reset_is_full=False):
        if rate <= 0:
            raise ValueError("rate must be positive; use NoLimit to disable pacing")
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self._configured_burst = self.burst
        self._limit_caps_burst = limit_caps_burst
        self._reset_is_full = reset_is_full
        self._local = threading.local()
        super(TokenBucket, self).__init__(clock, sleep, wallclock, store)

    def _fresh(self, now):
        burst = self._configured_burst
        return {"kind": self.KIND, "tokens": float(burst), "stamp": now, "burst": burst, "hold_until": None}

    def _valid(self, state):
        if not all(isinstance(state.get(key), (int, float)) for key in ("tokens", "stamp", "burst")):
            return False
        return isinstance(state.get("hold_until"), (int, float, type(None)))

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
            # The vendor's bucket starts to refill when this request arrives, which release() learns.
            self._local.from_full = now if state["tokens"] >= state["burst"] else None
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

    def release(self, refused=False):  # pylint: disable=unused-argument
        """A request that emptied a full bucket is answered: give up the refill counted while it was in transit.

        Both buckets were full, so the vendor's began to refill when the request arrived, at the
        latest when its answer left; counting from the sending would run ahead of the vendor by
        that transit time, and a request sent on the dot of its token could arrive before the
        vendor's (an HTTP 429 now and then, seen with Penaxtra past its burst).
        """
        sent = getattr(self._local, "from_full", None)
        if sent is None:
            return
        self._local.from_full = None
        with self._state() as (now, state):
            self._refill(state, now)
            state["tokens"] -= max(0.0, now - sent) * self.rate

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
            if remaining is not None and remaining <= 0 and reset is not None and not self._reset_is_full:
                delay = _reset_delay(reset, self._wallclock())
                if delay > 0:
                    # Owe enough tokens that the next one is available at the reset time, and hold
                    # the callers that reserved earlier tokens until then too.
                    state["tokens"] = min(state["tokens"], 1.0 - delay * self.rate)
                    state["hold_until"] = max(state["hold_until"] or 0.0, now + delay)
            self.burst = state["burst"]


def _valid_slot(slot):
    """``[sent, answered or None, owner]`` as a window's state file holds it."""
    if not isinstance(slot, list) or len(slot) != 3:
        return False
    return isinstance(slot[0], (int, float)) and isinstance(slot[1], (int, float, type(None)))


class SlidingWindow(_Limiter):
    """At most ``limit`` requests in any ``window`` seconds, counted the way CloudGeni and HarborGuard count.

    A token bucket can only approach such a limit from below: to never pass N in W seconds its burst
    plus W seconds of refill must stay under N, so a long run goes at (N - burst) / W a second and
    200 requests under 60-per-6-s take 20 s or more instead of the 18 s the window allows. This
    limiter keeps the window itself: a request takes a slot when it is sent, and the slot is free
    again ``window`` seconds after the answer arrived. The vendor counted the request at some
    moment between sending and answer, so its own window has let go of the request by then
    whatever the time in transit, and nothing waits for a clock tick or a rounded header.

    A slot whose answer never comes (a process killed mid-request) is free after
    ``PENDING_SECONDS`` plus the window. ``rate`` (the ``rate_limit`` option) keeps the average
    at ``rate`` a second: the window is then ``limit / rate`` seconds, with ``limit`` from the
    server's ``X-RateLimit-Limit`` once seen. Without ``rate`` a ``Limit`` header only lowers the
    documented count. ``X-RateLimit-Remaining`` below what this controller's own slots explain
    means someone else (another controller, another credential from the same address) spent part
    of the window: as many slots are taken for a window from the time of that answer.
    """

    KIND = "window"
    PENDING_SECONDS = 300.0
    # How often a caller looks again while every slot is waiting for an answer (less often when the
    # look is a file read under a lock that many processes may be polling).
    POLL_SECONDS = 0.01
    SHARED_POLL_SECONDS = 0.05

    def __init__(self, limit, window, rate=None, clock=time.monotonic, sleep=time.sleep, wallclock=time.time, store=None):
        if int(limit) < 1 or float(window) <= 0:
            raise ValueError("a window needs a limit of at least 1 and a positive length")
        if rate is not None and float(rate) <= 0:
            raise ValueError("rate must be positive; use NoLimit to disable pacing")
        self._rate = None if rate is None else float(rate)
        self.limit = int(limit)
        self.window = float(window) if rate is None else self.limit / self._rate
        self._local = threading.local()
        self._numbers = itertools.count()
        super(SlidingWindow, self).__init__(clock, sleep, wallclock, store)

    @property
    def rate(self):
        """The average pace, requests a second."""
        return self.limit / self.window

    def _fresh(self, now):
        return {"kind": self.KIND, "limit": self.limit, "window": self.window, "slots": []}

    def _valid(self, state):
        if not isinstance(state.get("limit"), int) or state["limit"] < 1:
            return False
        if not isinstance(state.get("window"), (int, float)) or state["window"] <= 0:
            return False
        if not isinstance(state.get("slots"), list):
            return False
        return all(_valid_slot(slot) for slot in state["slots"])

    def _free_at(self, slot, window):
        """When ``slot`` (``[sent, answered or None, owner]``) stops counting."""
        sent, answered = slot[0], slot[1]
        return (sent + self.PENDING_SECONDS if answered is None else answered) + window

    def _tidy(self, state, now):
        # Slots stay one window past their end: observe() compares the server's count at the time
        # of a request with the slots that were taken then.
        window = state["window"]
        for slot in state["slots"]:
            # Shared times are wall-clock seconds: after the clock was set back, a slot counts from now.
            slot[0] = min(slot[0], now)
            if slot[1] is not None:
                slot[1] = min(slot[1], now)
        slots = [slot for slot in state["slots"] if self._free_at(slot, window) + window > now]
        state["slots"] = slots[-(4 * state["limit"] + 64):]

    def _sync(self, state):
        self.limit, self.window = state["limit"], state["window"]

    def acquire(self):
        """Take a slot of the window; sleep first while all are taken. Returns the seconds slept."""
        slept = 0.0
        while True:
            with self._state() as (now, state):
                self._tidy(state, now)
                self._sync(state)
                window = state["window"]
                busy = [slot for slot in state["slots"] if self._free_at(slot, window) > now]
                if len(busy) < state["limit"]:
                    owner = "%d.%d.%d" % (os.getpid(), threading.current_thread().ident or 0, next(self._numbers))
                    state["slots"].append([now, None, owner])
                    self._local.slot = (owner, now)
                    return slept
                if any(slot[1] is None for slot in busy):
                    # An answer due any moment may free a slot sooner than the oldest answered one.
                    wait = self.SHARED_POLL_SECONDS if self._store.shared else self.POLL_SECONDS
                else:
                    wait = min(self._free_at(slot, window) for slot in busy) - now
            wait = max(wait, 0.0)
            self._sleep(wait)
            slept += wait

    def release(self, refused=False):
        """Start the window of this thread's last slot at the time its answer came.

        A request the vendor refused (HTTP 429) gives its slot back: the vendor did not count it,
        and if it did, its ``X-RateLimit-Remaining`` says so (see ``observe``).
        """
        taken = getattr(self._local, "slot", None)
        if taken is None:
            return
        self._local.slot = None
        self._local.sent = taken[1]
        with self._state() as (now, state):
            for index, slot in enumerate(state["slots"]):
                if slot[2] == taken[0]:
                    if refused:
                        del state["slots"][index]
                    else:
                        slot[1] = now
                    break

    def observe(self, headers):
        """Take the server's ``X-RateLimit-Limit`` and ``Remaining`` into account (see the class)."""
        limit = _header(headers, "X-RateLimit-Limit")
        remaining = _header(headers, "X-RateLimit-Remaining")
        reset = _header(headers, "X-RateLimit-Reset")
        if limit is None and remaining is None:
            return
        sent = getattr(self._local, "sent", None)
        with self._state() as (now, state):
            if limit is not None and limit >= 1:
                if self._rate is not None:
                    # Slots keep their answer time, so a longer window applies to them at once.
                    state["limit"] = int(limit)
                    state["window"] = int(limit) / self._rate
                else:
                    state["limit"] = min(state["limit"], int(limit))
            if remaining is not None and sent is not None:
                window = state["window"]
                # The server counted at most the requests whose slots were taken when this one was sent.
                counted = sum(1 for slot in state["slots"] if self._free_at(slot, window) > sent)
                unknown = int(state["limit"] - max(remaining, 0.0)) - counted
                # Their times are unknown: they leave the window by the server's reset, if it sent one,
                # else a window from now.
                delay = window if reset is None else min(window, max(0.0, _reset_delay(reset, self._wallclock())))
                for _number in range(max(0, min(unknown, state["limit"]))):
                    state["slots"].append([now, now - window + delay, None])
            self._sync(state)
