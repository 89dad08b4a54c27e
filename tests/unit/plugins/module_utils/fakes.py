# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test doubles: a fake clock/sleep and a recording httpx MockTransport handler."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import threading

import httpx

SECRET = "sk_test_5f0c2a9e8d7b6a5f4e3d2c1b"
EPOCH = 1700000000.0


class FakeTime(object):
    """Monotonic clock that only moves when someone sleeps; records every sleep."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []
        self._lock = threading.Lock()

    def clock(self):
        with self._lock:
            return self.now

    def sleep(self, seconds):
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def wallclock(self):
        return EPOCH + self.clock()


class Recorder(object):
    """An httpx MockTransport whose answers come from a list of responses or a function."""

    def __init__(self, answers):
        self.requests = []
        self._answers = answers

    def __call__(self, request):
        self.requests.append(request)
        if callable(self._answers):
            answer = self._answers(request)
        else:
            answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def transport(self):
        return httpx.MockTransport(self)
