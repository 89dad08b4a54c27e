# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documented-only matrix: one emulator in ``--documented-only`` mode, modules run in-process.

The table of every case (module, provider, flow, documented or assumed, result) is printed at the
end of the run, also with ``-q``.
"""

import pytest

from ansible_collections.scanops.security.tests.documented.matrix import ROWS, Platform
from scanops_emulator.admin_client import AdminClient
from scanops_emulator.launcher import running_emulator


@pytest.fixture(scope="session")
def strict_url():
    """An emulator serving only what the vendor pages document."""
    with running_emulator(profile="test", port=0, documented_only=True) as base_url:
        with AdminClient(base_url) as admin:
            assert admin.health()["documented_only"] is True
        yield base_url


@pytest.fixture(scope="session")
def admin(strict_url):
    with AdminClient(strict_url) as client:
        yield client


@pytest.fixture(scope="session")
def platform(strict_url):
    prepared = Platform(strict_url)
    yield prepared
    prepared.http.close()


def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    widths = [max(len(str(row[index])) for row in ROWS + [("module", "provider", "flow", "kind", "result")]) for index in range(5)]
    write = terminalreporter.write_line
    terminalreporter.section("documented-only matrix")
    header = ("module", "provider", "flow", "kind", "result")
    write("  ".join(str(cell).ljust(width) for cell, width in zip(header, widths)))
    for row in ROWS:
        write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    documented = [row for row in ROWS if row[3] == "documented"]
    assumed = [row for row in ROWS if row[3] == "assumed"]
    write("documented flows passing: %d of %d; assumed flows failing with the named assumption: %d of %d"
          % (sum(1 for row in documented if row[4].startswith("passed")), len(documented),
             sum(1 for row in assumed if row[4].startswith("failed naming")), len(assumed)))
