# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one polling discipline of the collection (``wait``, ``wait_timeout``, ``wait_sleep``).

Used by scan_run (scans) and finding_fix (Kolega fixes). Polls keep the caller's interval while
the work is young, then wait a fifth of the time already waited, up to ``MAX_POLL_INTERVAL``: a
short job is seen within one interval of finishing, a long one is not polled more often than it
needs. The last sleep never passes the deadline.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

WAITED_FRACTION = 0.2
MAX_POLL_INTERVAL = 60.0
DEFAULT_WAIT_TIMEOUT = 1800


def poll_until(current, done, refresh, interval, timeout, sleep, clock):
    """Call ``refresh(current)`` until ``done(current)``; answer ``(current, timed_out)``.

    Args:
        current: the object as last read (returned unchanged when it is already done).
        done: ``callable(current) -> bool``.
        refresh: ``callable(current) -> current``, one poll (its errors propagate).
        interval: seconds between polls while the job is young.
        timeout: seconds to wait at most (None: ``DEFAULT_WAIT_TIMEOUT``).
        sleep, clock: ``time.sleep`` and ``time.monotonic`` or test doubles.
    """
    deadline = clock() + (DEFAULT_WAIT_TIMEOUT if timeout is None else timeout)
    base = interval
    ceiling = max(interval, MAX_POLL_INTERVAL)
    started = clock()
    while not done(current):
        remaining = deadline - clock()
        if remaining <= 0:
            return current, True
        sleep(min(interval, remaining))
        current = refresh(current)
        interval = min(max(base, (clock() - started) * WAITED_FRACTION), ceiling)
    return current, False
