# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the fault-injection suite (one emulator per session) and its summary table."""

import pytest

from fault_harness import CASES, Emulator, FaultRunner, module_exists, summary_lines, write_report


@pytest.fixture(scope="session")
def emulator():
    """The emulator, started once for the whole suite."""
    server = Emulator()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fault_runner(emulator):  # pylint: disable=redefined-outer-name
    """Runs fault cases against the session's emulator."""
    return FaultRunner(emulator)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # pylint: disable=unused-argument
    """Print the summary table (whatever -s says) and write the per-case detail file."""
    if not CASES:
        return
    lines = summary_lines()
    terminalreporter.write_sep("=", "fault-injection summary (converged/clean failures count the fault runs)")
    for line in lines:
        terminalreporter.write_line(line)
    untested = [name for name in ("scan_run", "scan_info", "finding_status", "finding_info", "finding_fix", "scan_sensor", "callback_endpoint",
                                  "callback_endpoint_info") if not module_exists(name)]
    if untested:
        terminalreporter.write_line("modules not landed, not covered: %s" % ", ".join(untested))
    terminalreporter.write_line("per-case detail: %s" % write_report())
