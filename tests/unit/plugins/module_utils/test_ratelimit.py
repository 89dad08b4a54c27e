# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Token bucket pacing on a fake clock."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import multiprocessing
import threading
import time

import pytest

from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class
from ansible_collections.scanops.security.plugins.module_utils import ratelimit
from ansible_collections.scanops.security.plugins.module_utils.ratelimit import NoLimit, SlidingWindow, TokenBucket
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import FakeTime


def grant_times(limiter, fake_time, count, transit=0.0):
    """When each of ``count`` requests was sent; each answer comes ``transit`` seconds later."""
    times = []
    for _i in range(count):
        limiter.acquire()
        times.append(fake_time.clock())
        fake_time.now += transit
        limiter.release()
    return times


def max_in_window(times, window):
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_burst_then_steady_rate(fake_time):
    bucket = TokenBucket(2.0, 3, clock=fake_time.clock, sleep=fake_time.sleep)
    times = grant_times(bucket, fake_time, 13)
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[-1] == pytest.approx(5.0)  # 10 more tokens at 2 a second
    assert all(b - a == pytest.approx(0.5) for a, b in zip(times[3:], times[4:]))


@pytest.mark.parametrize("limit", [10, 60, 30, 2])
def test_sliding_window_never_exceeds_the_published_limit(fake_time, limit):
    window = SlidingWindow(limit, 60, clock=fake_time.clock, sleep=fake_time.sleep)
    times = grant_times(window, fake_time, limit * 4)
    assert max_in_window(times, 60.0) <= limit
    # and sends each window's worth as soon as the window lets go of the last one: 3 windows for 4 x limit
    assert times[-1] == pytest.approx(180.0)


# -- issue 17, fan-out: the vendor's window, not a bucket under it ---------------------------------------
def test_two_hundred_requests_under_sixty_per_six_seconds_take_the_windows_floor(fake_time):
    # 60 at once, the next 60 when the first have left the window, ...: the 200th at 18 s. The best token
    # bucket that stays under 60 in any 6 s (burst b, rate (60 - b) / 6) needs (200 - b) * 6 / (60 - b) s,
    # 20.1 s at b = 1 and more for any larger burst.
    window = SlidingWindow(60, 6, clock=fake_time.clock, sleep=fake_time.sleep)
    times = grant_times(window, fake_time, 200)
    assert max_in_window(times, 6.0) == 60
    assert times[-1] == pytest.approx(18.0)
    assert min((200 - burst) * 6.0 / (60 - burst) for burst in range(1, 60)) > 20.0


def test_a_slot_is_free_a_window_after_the_answer_not_after_the_send(fake_time):
    # The vendor counted the request somewhere in its 2 s in transit; only the answer's time is sure to be later.
    window = SlidingWindow(1, 10, clock=fake_time.clock, sleep=fake_time.sleep)
    assert grant_times(window, fake_time, 2, transit=2.0) == [0.0, pytest.approx(12.0)]


def test_a_slot_waiting_for_its_answer_is_busy_until_the_answer():
    window = SlidingWindow(1, 0.05)
    events = []

    def first():
        window.acquire()
        events.append("first sent")
        time.sleep(0.2)
        events.append("first answered")
        window.release()

    thread = threading.Thread(target=first)
    thread.start()
    while not events:
        time.sleep(0.005)
    window.acquire()
    events.append("second sent")
    window.release()
    thread.join()
    assert events == ["first sent", "first answered", "second sent"]


def test_an_answer_that_never_comes_frees_its_slot_after_the_pending_limit(fake_time):
    window = SlidingWindow(1, 1, clock=fake_time.clock, sleep=fake_time.sleep)
    window.PENDING_SECONDS = 1.0
    window.acquire()  # the process that took it was killed: never released
    window.acquire()
    assert fake_time.clock() == pytest.approx(2.0, abs=0.02)


def test_rate_limit_sets_the_average_and_the_servers_limit_the_window(fake_time):
    # rate_limit 10 on a documented 10-a-minute limit: 10 per 1 s until the server says its window holds 60,
    # then 60 per 6 s; the 10 sent first count in the longer window at once.
    window = SlidingWindow(10, 60, rate=10, clock=fake_time.clock, sleep=fake_time.sleep)
    assert (window.limit, window.window) == (10, 1.0)
    times = grant_times(window, fake_time, 10)
    window.observe({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "50"})
    assert (window.limit, window.window) == (60, 6.0) and window.rate == 10.0
    times += grant_times(window, fake_time, 70)
    assert times[59] == 0.0 and times[60] == pytest.approx(6.0) and times[-1] == pytest.approx(6.0)
    assert max_in_window(times, 6.0) == 60


def test_without_rate_limit_the_servers_limit_only_lowers_the_count(fake_time):
    window = SlidingWindow(10, 60, clock=fake_time.clock, sleep=fake_time.sleep)
    window.observe({"X-RateLimit-Limit": "600"})
    assert (window.limit, window.window) == (10, 60.0)
    window.observe({"X-RateLimit-Limit": "4"})
    assert (window.limit, window.window) == (4, 60.0)


def test_requests_the_server_counted_but_this_controller_did_not_send_take_slots(fake_time):
    window = SlidingWindow(10, 60, clock=fake_time.clock, sleep=fake_time.sleep)
    grant_times(window, fake_time, 1)
    # The server counts 5 in its window, this controller sent 1: 4 came from elsewhere (same address, say).
    window.observe({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "5"})
    times = grant_times(window, fake_time, 6)
    assert times == [0.0] * 5 + [pytest.approx(60.0)]


def test_a_refused_request_gives_its_slot_back(fake_time):
    window = SlidingWindow(1, 60, clock=fake_time.clock, sleep=fake_time.sleep)
    window.acquire()
    window.release(refused=True)  # HTTP 429: the vendor did not count it
    assert window.acquire() == 0.0


def test_strangers_requests_leave_the_window_at_the_servers_reset(fake_time):
    window = SlidingWindow(10, 60, clock=fake_time.clock, sleep=fake_time.sleep)
    grant_times(window, fake_time, 1)
    window.observe({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2"})
    assert grant_times(window, fake_time, 9) == [pytest.approx(2.0)] * 9


def test_own_slots_freed_since_the_request_was_sent_are_not_taken_for_strangers(fake_time):
    window = SlidingWindow(2, 1, clock=fake_time.clock, sleep=fake_time.sleep)
    grant_times(window, fake_time, 1, transit=0.5)  # sent at 0, answered at 0.5: counts until 1.5
    fake_time.now = 1.2
    window.acquire()  # the server counts the first one too: Remaining 0
    fake_time.now = 1.6  # the first one's slot is free by the time this answer is read
    window.release()
    window.observe({"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0"})
    # Both requests the server counted are this controller's: no slot is taken for anyone else.
    window.acquire()
    assert fake_time.clock() == pytest.approx(1.6)


def test_window_rejects_nonsense():
    with pytest.raises(ValueError):
        SlidingWindow(0, 60)
    with pytest.raises(ValueError):
        SlidingWindow(10, 0)
    with pytest.raises(ValueError):
        SlidingWindow(10, 60, rate=0)


def test_documented_cloudgeni_trigger_pace(fake_time):
    limiters = get_adapter_class("cloudgeni").build_limiters(clock=fake_time.clock, sleep=fake_time.sleep)
    times = grant_times(limiters["trigger"], fake_time, 30)
    assert max_in_window(times, 60.0) <= 10


def test_penaxtra_reads_and_writes_share_one_bucket_of_120():
    limiters = get_adapter_class("penaxtra").build_limiters()
    assert limiters["read"] is limiters["write"]
    assert limiters["read"].burst == 120
    assert limiters["read"].rate == pytest.approx(1.0)


def test_harborguard_scan_creation_is_ten_a_minute(fake_time):
    limiters = get_adapter_class("harborguard").build_limiters(clock=fake_time.clock, sleep=fake_time.sleep)
    times = grant_times(limiters["scan_create"], fake_time, 25)
    assert max_in_window(times, 60.0) <= 10
    assert limiters["read"].rate >= 20


@pytest.mark.parametrize("provider,rate", [("kolega", 10.0), ("agilesec", 5.0)])
def test_assumed_paces_for_undocumented_limits(provider, rate):
    limiters = get_adapter_class(provider).build_limiters()
    assert limiters["read"].rate == rate
    assert limiters["write"].rate == rate


def test_rate_limit_override_and_zero(fake_time):
    cls = get_adapter_class("cloudgeni")
    limiters = cls.build_limiters(4, clock=fake_time.clock, sleep=fake_time.sleep)
    assert set(limiters) >= set(("trigger", "status", "findings", "read", "write"))
    assert all(limiter.rate == pytest.approx(4.0) for limiter in limiters.values())
    # CloudGeni counts in windows: the override keeps the window and sets its average (10 triggers in 2.5 s).
    assert (limiters["trigger"].limit, limiters["trigger"].window) == (10, 2.5)
    assert cls.build_limiters(0) == {}


def test_no_limit_never_waits():
    limiter = NoLimit()
    assert [limiter.acquire() for _i in range(1000)] == [0.0] * 1000
    assert limiter.observe({"X-RateLimit-Remaining": "0"}) is None
    assert limiter.release() is None


def test_concurrent_acquires_reserve_distinct_slots():
    sleeps = []
    lock = threading.Lock()

    def record(seconds):
        with lock:
            sleeps.append(seconds)

    bucket = TokenBucket(10.0, 5, clock=lambda: 100.0, sleep=record)
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _i in range(25)]) for _t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 5 free tokens; the 95 others each wait for their own slot, 0.1 s apart.
    assert sorted(sleeps) == pytest.approx([k / 10.0 for k in range(1, 96)])


def test_observe_remaining_zero_waits_until_reset(fake_time):
    bucket = TokenBucket(100.0, 100, clock=fake_time.clock, sleep=fake_time.sleep, wallclock=fake_time.wallclock)
    bucket.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(fake_time.wallclock() + 8)})
    bucket.acquire()
    assert fake_time.sleeps == [pytest.approx(8.0)]


# -- issue 19, item 10: Remaining 0 with a Reset holds back even when our own bucket is empty or owed ----------
def test_remaining_zero_is_honoured_when_the_bucket_is_already_empty(fake_time):
    bucket = TokenBucket(1.0, 1, clock=fake_time.clock, sleep=fake_time.sleep, wallclock=fake_time.wallclock)
    bucket.acquire()  # the one saved token is gone: our count says 0 left, like the server's
    bucket.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(fake_time.wallclock() + 8)})
    bucket.acquire()
    assert fake_time.clock() == pytest.approx(8.0)


def test_remaining_zero_holds_callers_already_queued_until_the_reset(fake_time):
    bucket = TokenBucket(1.0, 1, clock=fake_time.clock, sleep=None, wallclock=fake_time.wallclock)
    reported = []

    def sleep(seconds):
        # While this caller waits for its reserved slot, another thread's answer says the window is used up.
        if not reported:
            reported.append(True)
            bucket.observe({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(int(fake_time.wallclock() + 30))})
        fake_time.sleep(seconds)

    bucket._sleep = sleep  # pylint: disable=protected-access
    bucket.acquire()
    bucket.acquire()  # reserved the next token (1 s away), queued when the 429-avoiding headers arrive
    assert fake_time.clock() == pytest.approx(30.0)
    assert sum(fake_time.sleeps) == pytest.approx(30.0)


def test_reset_as_seconds_and_queued_callers_in_threads():
    now = [0.0]
    lock = threading.Lock()
    sleeps = []
    release = threading.Event()

    def sleep(seconds):
        with lock:
            start = now[0]
            sleeps.append(seconds)
        release.wait(5)
        with lock:
            # The queued sleeps end at the test's say-so; later ones move the clock on.
            if release.is_set() and len(sleeps) > 3:
                now[0] = max(now[0], start + seconds)

    bucket = TokenBucket(1.0, 1, clock=lambda: now[0], sleep=sleep, wallclock=lambda: 1700000000.0 + now[0])
    bucket.acquire()
    sent = []

    def send():
        bucket.acquire()
        with lock:
            sent.append(now[0])

    threads = [threading.Thread(target=send) for _i in range(3)]
    for thread in threads:
        thread.start()
    for _poll in range(500):
        with lock:
            if len(sleeps) == 3:
                break
        release.wait(0.01)
    bucket.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "20"})
    now[0] = 3.0  # every queued caller's own slot has come
    release.set()
    for thread in threads:
        thread.join()
    # Each queued caller slept for its slot (1, 2, 3 s), then none was sent before the reset at 20 s.
    assert sorted(sleeps[:3]) == [1.0, 2.0, 3.0]
    assert sleeps[3:] == [17.0]
    assert sent == [20.0, 20.0, 20.0]


def test_penaxtra_limit_header_keeps_the_documented_burst(fake_time):
    limiter = get_adapter_class("penaxtra").build_limiters(clock=fake_time.clock, sleep=fake_time.sleep)["read"]
    limiter.observe({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "119"})
    assert limiter.burst == 120
    times = grant_times(limiter, fake_time, 119)
    assert times[-1] == 0.0


def test_observe_remaining_caps_the_saved_tokens(fake_time):
    bucket = TokenBucket(1.0, 50, clock=fake_time.clock, sleep=fake_time.sleep)
    bucket.observe({"X-RateLimit-Remaining": "2"})
    times = grant_times(bucket, fake_time, 4)
    assert times == [0.0, 0.0, pytest.approx(1.0), pytest.approx(2.0)]


def test_observe_never_loosens(fake_time):
    bucket = TokenBucket(0.5, 2, clock=fake_time.clock, sleep=fake_time.sleep)
    bucket.observe({"X-RateLimit-Limit": "6000", "X-RateLimit-Remaining": "5999"})
    assert bucket.rate == 0.5
    assert bucket.burst == 2
    bucket.observe({})
    assert bucket.rate == 0.5


def test_published_limit_caps_the_burst_but_not_the_pace(fake_time):
    bucket = TokenBucket(10.0, 20, clock=fake_time.clock, sleep=fake_time.sleep, wallclock=fake_time.wallclock)
    bucket.observe({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "55", "X-RateLimit-Reset": str(fake_time.wallclock() + 5)})
    assert bucket.rate == 10.0
    assert bucket.burst == 20
    bucket.observe({"X-RateLimit-Limit": "4"})
    assert bucket.burst == 4
    assert grant_times(bucket, fake_time, 6) == [0.0, 0.0, 0.0, 0.0, pytest.approx(0.1), pytest.approx(0.2)]


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)


# -- one bucket for every process of the controller ----------------------------------------------------
def shared_bucket(tmp_path, fake_time, rate=1.0, burst=2, key=("harborguard", "k", "https://hg.test", "scan_create")):
    return TokenBucket(rate, burst, sleep=fake_time.sleep, wallclock=fake_time.wallclock,
                       store=ratelimit.shared_state(key, directory=str(tmp_path)))


def test_buckets_of_one_key_share_their_tokens(tmp_path, fake_time):
    first, second = shared_bucket(tmp_path, fake_time), shared_bucket(tmp_path, fake_time)
    assert first.shared and second.shared
    first.acquire()
    first.acquire()
    # The burst of 2 is spent by the first bucket: the second waits a token's time.
    assert second.acquire() == pytest.approx(1.0)
    assert first.acquire() == pytest.approx(1.0)


def test_buckets_of_other_keys_do_not(tmp_path, fake_time):
    first = shared_bucket(tmp_path, fake_time)
    other = shared_bucket(tmp_path, fake_time, key=("harborguard", "another credential", "https://hg.test", "scan_create"))
    first.acquire()
    first.acquire()
    assert other.acquire() == 0.0


def test_a_reset_announced_to_one_process_holds_the_others(tmp_path, fake_time):
    first, second = shared_bucket(tmp_path, fake_time, rate=10.0, burst=10), shared_bucket(tmp_path, fake_time, rate=10.0, burst=10)
    first.observe({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"})
    assert second.acquire() == pytest.approx(30.0)


def test_the_state_file_holds_no_credential_and_survives_a_bad_file(tmp_path, fake_time):
    bucket = shared_bucket(tmp_path, fake_time, key=("harborguard", "sha-of-key", "https://hg.test", "read"))
    bucket.acquire()
    [state_file] = [path for path in tmp_path.iterdir() if path.suffix == ".json"]
    assert json.loads(state_file.read_text())["tokens"] == pytest.approx(1.0)
    state_file.write_text("{not json")
    # Unreadable state is a full bucket, not an error.
    assert bucket.acquire() == 0.0 and bucket.shared


def test_without_a_usable_directory_the_bucket_paces_alone(tmp_path, fake_time):
    blocker = tmp_path / "file"
    blocker.write_text("")
    bucket = TokenBucket(1.0, 1, sleep=fake_time.sleep, wallclock=fake_time.wallclock,
                         store=ratelimit.shared_state(("p", "k", "o", "read"), directory=str(blocker / "sub")))
    assert bucket.acquire() == 0.0
    assert not bucket.shared
    assert bucket.acquire() == pytest.approx(1.0)


def _acquire_in_a_process(directory, count, started, rate, burst):
    bucket = TokenBucket(rate, burst, store=ratelimit.shared_state(("p", "k", "o", "scan_create"), directory=directory))
    started.wait()
    for _index in range(count):
        bucket.acquire()


def test_processes_pace_together(tmp_path):
    # 4 processes take 10 tokens each at 20 a second with a burst of 4: together they must take at least
    # (40 - 4) / 20 = 1.8 s. Alone, each would be done in (10 - 4) / 20 = 0.3 s. Load only makes it slower.
    context = multiprocessing.get_context("fork")
    started = context.Event()
    workers = [context.Process(target=_acquire_in_a_process, args=(str(tmp_path), 10, started, 20.0, 4)) for _n in range(4)]
    for worker in workers:
        worker.start()
    began = time.time()
    started.set()
    for worker in workers:
        worker.join(60)
    elapsed = time.time() - began
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert elapsed >= 1.8 * 0.95


def test_adapters_share_their_buckets_by_credential_and_origin(tmp_path, monkeypatch):
    monkeypatch.setenv("SCANOPS_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SCANOPS_RATE_LIMIT_SCOPE", raising=False)
    cls = get_adapter_class("harborguard")
    secret = "hg_ak_" + "7" * 48
    adapter = cls(secret, api_url="https://hg.example.test:8443/base")
    try:
        assert adapter.pace_key()[0] == "harborguard" and adapter.pace_key()[2] == "https://hg.example.test:8443"
        assert secret not in repr(adapter.pace_key())
        buckets = adapter.client._limiters  # pylint: disable=protected-access
        assert all(bucket.shared for bucket in buckets.values())
        buckets["scan_create"].acquire()
        written = "".join(path.read_text() for path in tmp_path.rglob("*") if path.is_file()) + \
            "".join(str(path) for path in tmp_path.rglob("*"))
        assert written and secret not in written
    finally:
        adapter.close()
    # Injected time keeps a limiter in its process (unit tests, fake clocks).
    assert not any(bucket.shared for bucket in cls.build_limiters(clock=time.monotonic, shared_key=("x",)).values())


def test_the_scope_can_be_each_process(monkeypatch):
    monkeypatch.setenv("SCANOPS_RATE_LIMIT_SCOPE", "process")
    limiters = get_adapter_class("cloudgeni").build_limiters(shared_key=("cloudgeni", "k", "https://c.test"))
    assert limiters and not any(bucket.shared for bucket in limiters.values())
    monkeypatch.setenv("SCANOPS_RATE_LIMIT_SCOPE", "controller")
    limiters = get_adapter_class("cloudgeni").build_limiters(shared_key=("cloudgeni", "k", "https://c.test"))
    assert all(bucket.shared for bucket in limiters.values())


def test_windows_of_one_key_share_their_slots(tmp_path, fake_time):
    def window():
        return SlidingWindow(2, 10, sleep=fake_time.sleep, wallclock=fake_time.wallclock,
                             store=ratelimit.shared_state(("harborguard", "k", "https://hg.test", "scan_create"),
                                                          directory=str(tmp_path)))

    first, second = window(), window()
    assert first.shared and second.shared
    grant_times(first, fake_time, 2)
    # The first process spent both slots: the second waits until the window has let go of them.
    assert grant_times(second, fake_time, 1) == [pytest.approx(10.0)]


def test_harborguard_rate_limit_does_not_slow_its_unlimited_reads(fake_time):
    cls = get_adapter_class("harborguard")
    limiters = cls.build_limiters(10, clock=fake_time.clock, sleep=fake_time.sleep)
    assert (limiters["scan_create"].limit, limiters["scan_create"].window) == (10, 1.0)
    assert limiters["read"].rate == 20.0 and limiters["write"].rate == 20.0
    assert cls.build_limiters(50, clock=fake_time.clock, sleep=fake_time.sleep)["read"].rate == 50.0


def test_harborguard_fan_out_under_a_scaled_window_sits_on_it(fake_time):
    # benchmark 4's setting: the server counts 60 per 6 s and says so in X-RateLimit-Limit; rate_limit 10.
    # The bucket this replaced sent 70 in the first 6 s (its burst of 10 plus 6 s of refill): HTTP 429s.
    limiter = get_adapter_class("harborguard").build_limiters(10, clock=fake_time.clock, sleep=fake_time.sleep)["scan_create"]
    times = []
    for number in range(200):
        limiter.acquire()
        times.append(fake_time.clock())
        limiter.release()
        limiter.observe({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": str(max(0, 59 - number % 60))})
    assert max_in_window(times, 6.0) <= 60
    assert times[-1] == pytest.approx(18.0)


def test_penaxtra_remaining_zero_waits_for_the_next_token_not_a_full_bucket(fake_time):
    # Penaxtra's Reset is when its bucket of 120 is full again (an assumption): 120 s after it ran dry. The
    # next request may go when one token has come back, a second at 60 a minute.
    limiter = get_adapter_class("penaxtra").build_limiters(clock=fake_time.clock, sleep=fake_time.sleep)["read"]
    times = grant_times(limiter, fake_time, 120)
    # (Reset as seconds from now: the adapter's limiter reads Unix times from the real clock.)
    limiter.observe({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "120"})
    times += grant_times(limiter, fake_time, 2)
    assert times[:120] == [0.0] * 120
    assert times[120:] == [pytest.approx(1.0), pytest.approx(2.0)]


def vendor_bucket_refusals(sent, arrived_after, rate, burst):
    """How many of the requests sent at ``sent`` a vendor's own bucket refuses, each arriving ``arrived_after`` later."""
    tokens, stamp, refused = float(burst), None, 0
    for arrival in sorted(time_sent + delay for time_sent, delay in zip(sent, arrived_after)):
        if stamp is not None:
            tokens = min(float(burst), tokens + (arrival - stamp) * rate)
        stamp = arrival
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            refused += 1
    return refused


def test_a_bucket_counts_the_vendors_refill_from_the_first_answer():
    # The burst's requests spend 0.5 s in transit, the later ones none: the vendor's bucket began to refill
    # 0.5 s after ours. Counted from the sending (no release(), the pacing before), a request after the burst
    # arrives before the vendor's token: refused. Counted from the first answer, none is.
    delays = [0.5] * 3 + [0.0] * 7

    def pace(answered):
        clock = FakeTime()
        bucket = TokenBucket(1.0, 3, clock=clock.clock, sleep=clock.sleep)
        sent = []
        for delay in delays:
            bucket.acquire()
            sent.append(clock.clock())
            clock.now += delay
            if answered:
                bucket.release()
        return sent

    assert vendor_bucket_refusals(pace(answered=False), delays, 1.0, 3) > 0
    assert vendor_bucket_refusals(pace(answered=True), delays, 1.0, 3) == 0


def test_a_shared_window_counts_from_now_after_the_clock_was_set_back(tmp_path, fake_time):
    window = SlidingWindow(1, 10, sleep=fake_time.sleep, wallclock=fake_time.wallclock,
                           store=ratelimit.shared_state(("p", "k", "o", "trigger"), directory=str(tmp_path)))
    grant_times(window, fake_time, 1)
    fake_time.now -= 3600.0  # an hour back: the slot's answer now lies in the future
    assert grant_times(window, fake_time, 1) == [pytest.approx(-3590.0)]
