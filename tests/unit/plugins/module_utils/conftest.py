# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: a fake clock/sleep, and clients/adapters wired to httpx.MockTransport."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.scanops.security.plugins.module_utils.client import ApiClient
from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import SECRET, FakeTime, Recorder


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def make_client(fake_time):
    """``make_client(answers, **options)`` -> (ApiClient, Recorder) with the credential in ``X-API-Key``."""
    clients = []

    def factory(answers, **options):
        recorder = Recorder(answers)
        settings = dict(provider="test", auth_headers={"X-API-Key": SECRET}, transport=recorder.transport,
                        sleep=fake_time.sleep, clock=fake_time.clock, wallclock=fake_time.wallclock,
                        rand=lambda: 0.5, retries=5, retry_timeout=60)
        settings.update(options)
        client = ApiClient("https://api.example.test/api", **settings)
        clients.append(client)
        return client, recorder

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def make_adapter(fake_time):
    """``make_adapter(provider, answers, **options)`` -> (adapter, Recorder), pacing off unless asked."""
    adapters = []

    def factory(provider, answers, **options):
        recorder = Recorder(answers)
        settings = dict(organization="org_1", transport=recorder.transport, sleep=fake_time.sleep,
                        clock=fake_time.clock, wallclock=fake_time.wallclock, rand=lambda: 0.5, rate_limit=0)
        settings.update(options)
        adapter = get_adapter_class(provider)(SECRET, **settings)
        adapters.append(adapter)
        return adapter, recorder

    yield factory
    for adapter in adapters:
        adapter.close()
