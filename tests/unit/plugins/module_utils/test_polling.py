# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""polling.poll_until: the interval while young, the back-off, the deadline, no poll when already done."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.scanops.security.plugins.module_utils.polling import MAX_POLL_INTERVAL, poll_until


def counting_refresh(finish_after):
    calls = []

    def refresh(current):
        calls.append(current)
        return current + 1

    return (lambda current: current >= finish_after), refresh, calls


def test_nothing_is_polled_when_already_done(fake_time):
    done, refresh, calls = counting_refresh(0)
    assert poll_until(0, done, refresh, 5.0, 60, fake_time.sleep, fake_time.clock) == (0, False)
    assert calls == [] and fake_time.sleeps == []


def test_young_work_is_polled_at_the_given_interval(fake_time):
    done, refresh, calls = counting_refresh(4)
    assert poll_until(0, done, refresh, 5.0, 600, fake_time.sleep, fake_time.clock) == (4, False)
    assert fake_time.sleeps == [5.0, 5.0, 5.0, 5.0] and len(calls) == 4


def test_long_work_backs_off_to_the_ceiling(fake_time):
    done, refresh, _calls = counting_refresh(40)
    poll_until(0, done, refresh, 2.0, 100000, fake_time.sleep, fake_time.clock)
    assert fake_time.sleeps[0] == 2.0
    assert all(later >= earlier for earlier, later in zip(fake_time.sleeps, fake_time.sleeps[1:]))
    assert fake_time.sleeps[-1] == MAX_POLL_INTERVAL


def test_the_deadline_ends_the_wait_without_sleeping_past_it(fake_time):
    done, refresh, calls = counting_refresh(10 ** 6)
    current, timed_out = poll_until(0, done, refresh, 3.0, 10, fake_time.sleep, fake_time.clock)
    assert timed_out is True and current == len(calls)
    assert abs(sum(fake_time.sleeps) - 10.0) < 1e-9 and fake_time.sleeps[-1] == 1.0
