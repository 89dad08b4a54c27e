# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the fuzz suite (one emulator for the session) and the counts it prints."""

import sys

import httpx
import pytest

from fuzz_harness import EMULATOR_DIR, SUMMARY

sys.path.insert(0, EMULATOR_DIR)

from scanops_emulator.launcher import start_emulator, stop_emulator  # noqa: E402 pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def emulator_url():
    process, url = start_emulator(profile="test", port=0)
    try:
        yield url
    finally:
        stop_emulator(process)


@pytest.fixture(scope="session")
def admin_http(emulator_url):  # pylint: disable=redefined-outer-name
    """An httpx client of the emulator (admin API under /_emulator)."""
    with httpx.Client(base_url=emulator_url, timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path, monkeypatch):
    """Controller locks of in-process module runs live in the test's own directory."""
    monkeypatch.setenv("SCANOPS_CACHE_DIR", str(tmp_path / "scanops-cache"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # pylint: disable=unused-argument
    """Print the suite's counts whatever -q says."""
    for title, lines in SUMMARY.items():
        terminalreporter.write_sep("=", title)
        for line in lines:
            terminalreporter.write_line(line)
