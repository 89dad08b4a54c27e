# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""controller_lock: one holder per key across threads and processes, bounded waits, hashed file names."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from ansible_collections.scanops.security.plugins.module_utils import controller_lock as locks
from ansible_collections.scanops.security.plugins.module_utils.controller_lock import (
    ControllerLockTimeout,
    ControllerLockUnavailable,
    controller_lock,
)

KEY = ("scan", "harborguard", ["https", "harborguard.co", 443], None, "image nginx:1.25")


def test_cache_dir_precedence(tmp_path):
    assert locks.cache_dir({"SCANOPS_CACHE_DIR": "/x/y", "XDG_CACHE_HOME": "/c"}) == "/x/y"
    assert locks.cache_dir({"XDG_CACHE_HOME": "/c"}) == os.path.join("/c", "scanops")
    assert locks.cache_dir({}) == os.path.join(os.path.expanduser("~"), ".cache", "scanops")


def test_lock_files_are_named_by_a_hash_of_the_key(private_cache_dir):
    first = locks.lock_path(KEY)
    assert first == locks.lock_path(list(KEY))
    assert first != locks.lock_path(KEY[:-1] + ("image nginx:1.26",))
    name = os.path.basename(first)
    assert name.endswith(".lock") and all(c in "0123456789abcdef" for c in name[:-5]) and len(name) == 64 + 5
    assert os.path.dirname(first) == os.path.join(str(private_cache_dir), "locks")


def test_threads_take_turns(private_cache_dir):
    order = []
    inside = threading.Event()
    release = threading.Event()

    def first():
        with controller_lock(KEY, 30):
            order.append("first in")
            inside.set()
            release.wait(30)
            order.append("first out")

    def second():
        inside.wait(30)
        with controller_lock(KEY, 30):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(30)
    # The second thread is blocked on the lock until the first one leaves.
    time.sleep(0.2)
    assert order == ["first in"]
    release.set()
    for thread in threads:
        thread.join(30)
    assert order == ["first in", "first out", "second in"]


def test_another_process_holding_the_lock_makes_us_wait_then_time_out(private_cache_dir, tmp_path):
    locked, release = str(tmp_path / "locked"), str(tmp_path / "release")
    holder = textwrap.dedent("""
        import os, sys, time
        from ansible_collections.scanops.security.plugins.module_utils.controller_lock import controller_lock
        with controller_lock(%r, 30):
            open(%r, "w").close()
            deadline = time.time() + 60
            while not os.path.exists(%r) and time.time() < deadline:
                time.sleep(0.02)
    """ % (KEY, locked, release))
    process = subprocess.Popen([sys.executable, "-c", holder], env=dict(os.environ))
    try:
        deadline = time.time() + 60
        while not os.path.exists(locked) and time.time() < deadline:
            time.sleep(0.02)
        assert os.path.exists(locked), "the holder process never took the lock"
        with pytest.raises(ControllerLockTimeout) as info:
            with controller_lock(KEY, 0.2):
                pytest.fail("took a lock another process holds")
        assert "more than 0.2 s" in info.value.message
        open(release, "w").close()
        with controller_lock(KEY, 60) as path:
            assert path == locks.lock_path(KEY)
    finally:
        open(release, "w").close()
        process.wait(60)
    assert process.returncode == 0


def test_different_keys_do_not_wait_for_each_other(private_cache_dir):
    with controller_lock(KEY, 1):
        with controller_lock(KEY[:-1] + ("image nginx:1.26",), 0):
            pass


def test_an_unusable_directory_is_reported_not_ignored(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with pytest.raises(ControllerLockUnavailable) as info:
        with controller_lock(KEY, 1, directory=str(blocker / "locks")):
            pytest.fail("locked without a lock file")
    assert str(blocker) in info.value.message


def test_the_wait_is_bounded_by_the_clock(private_cache_dir):
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with controller_lock(KEY, 5):
        with pytest.raises(ControllerLockTimeout):
            with controller_lock(KEY, 5, sleep=sleep, clock=lambda: now[0]):
                pytest.fail("took a held lock")
    assert 5.0 <= now[0] <= 5.2
