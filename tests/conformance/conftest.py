# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the conformance suite (one emulator for the session) and the coverage table it prints."""

import pytest

from ansible_collections.scanops.security.tests.conformance.scenarios import COVERAGE, SUMMARY
from ansible_collections.scanops.security.tests.documented.matrix import Platform
from scanops_emulator.admin_client import AdminClient
from scanops_emulator.launcher import running_emulator


@pytest.fixture(scope="session")
def emulator_url():
    with running_emulator(profile="test", port=0) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def admin(emulator_url):  # pylint: disable=redefined-outer-name
    with AdminClient(emulator_url) as client:
        yield client


@pytest.fixture(scope="session")
def platform(emulator_url):  # pylint: disable=redefined-outer-name
    prepared = Platform(emulator_url)
    yield prepared
    prepared.http.close()


class Strict(object):
    """An emulator that serves only what the vendor pages document, with its admin client and platform helper."""

    def __init__(self, url, admin, platform):
        self.url = url
        self.admin = admin
        self.platform = platform


@pytest.fixture(scope="session")
def strict():
    with running_emulator(profile="test", port=0, documented_only=True) as base_url:
        with AdminClient(base_url) as client:
            assert client.health()["documented_only"] is True
            prepared = Platform(base_url)
            try:
                yield Strict(base_url, client, prepared)
            finally:
                prepared.http.close()


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path, monkeypatch):
    """Controller locks and caches of in-process module runs live in the test's own directory."""
    monkeypatch.setenv("SCANOPS_CACHE_DIR", str(tmp_path / "scanops-cache"))


def pytest_terminal_summary(terminalreporter):
    """The cases run per module and the documented keys no case returned, whatever -q says."""
    if not COVERAGE:
        return
    write = terminalreporter.write_line
    terminalreporter.section("RETURN conformance")
    kinds = sorted(set(kind for row in COVERAGE.values() for kind in row["cases"]))
    header = ["module", "scenarios"] + kinds + ["keys returned"]
    rows = []
    for module in sorted(COVERAGE):
        row = COVERAGE[module]
        rows.append([module, str(len(row["scenarios"]))] + [str(row["cases"].get(kind, 0)) for kind in kinds] +
                    ["%d of %d" % (len(row["seen"] & set(row["documented"])), len(row["documented"]))])
    widths = [max(len(line[index]) for line in rows + [header]) for index in range(len(header))]
    for line in [header] + rows:
        write("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
    write("module runs checked against RETURN: %d" % sum(sum(row["cases"].values()) for row in COVERAGE.values()))
    for module in sorted(COVERAGE):
        unseen = [path for path in COVERAGE[module]["documented"] if path not in COVERAGE[module]["seen"]]
        if unseen:
            write("%s: documented keys no case returned: %s" % (module, ", ".join(unseen)))
    for line in SUMMARY:
        write(line)
