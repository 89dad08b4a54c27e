# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests: one emulator process per session, reset before each test."""

import os
import sys

import httpx
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scanops_emulator.admin_client import AdminClient  # noqa: E402  pylint: disable=wrong-import-position
from scanops_emulator.launcher import running_emulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def emulator_url():
    """Base URL (http://127.0.0.1:<port>) of an emulator running the ``test`` profile."""
    with running_emulator(profile="test", port=0) as base_url:
        yield base_url


@pytest.fixture()
def admin(emulator_url):
    """Admin client; the emulator is reset to its default seed before every test."""
    with AdminClient(emulator_url) as client:
        client.reset()
        yield client


@pytest.fixture()
def http(emulator_url, admin):  # pylint: disable=redefined-outer-name,unused-argument
    """A plain httpx client on the emulator root (after the reset done by ``admin``)."""
    with httpx.Client(base_url=emulator_url, timeout=10.0) as client:
        yield client
