# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The race suite prints its counts at the end."""

from test_races import ROWS, summary_lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # pylint: disable=unused-argument
    if ROWS:
        terminalreporter.write_sep("=", "race suite: two runs on one controller converge the same fresh target")
        for line in summary_lines():
            terminalreporter.write_line(line)
