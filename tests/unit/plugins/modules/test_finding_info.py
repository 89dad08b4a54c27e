# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""finding_info end to end against in-memory vendors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.scanops.security.plugins.modules import finding_info
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_findings import (
    KOLEGA_REPO_1,
    FakeHarborGuard,
    FakeKolega,
    harbor_items,
    kolega_items,
)
from ansible_collections.scanops.security.tests.unit.plugins.modules.utils import run_module


@pytest.fixture
def run(monkeypatch, capsys):
    return lambda vendor, args: run_module(finding_info, monkeypatch, capsys, vendor, args)


def test_lists_every_page_normalized_with_raw(run):
    vendor = FakeKolega(kolega_items(250))
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, status=["open"], severity=["critical"]))
    assert result["changed"] is False
    assert result["count"] == 50 == len(result["findings"])
    first = result["findings"][0]
    assert first["id"] == "fnd_0000" and first["provider"] == "kolega" and first["severity"] == "critical"
    assert first["location"] == {"file": "src/f0.py", "line": 0}
    assert first["raw"]["check_id"] == "rule-0"
    assert result["api_calls"]["GET"] == 1  # single-valued filters went to the server


def test_limit_and_missing_ids_warning(run):
    vendor = FakeKolega(kolega_items(10))
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, ids=["fnd_0001", "fnd_9999"]))
    assert [f["id"] for f in result["findings"]] == ["fnd_0001"]
    assert "fnd_9999" in str(result["warnings"])  # 2.19 wraps warnings in objects, older cores use strings
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, limit=3))
    assert result["count"] == 3


def test_harborguard_cve_filter_and_unknown_status_error(run):
    vendor = FakeHarborGuard(harbor_items(5))
    result = run(vendor, dict(provider="harborguard", cve=["cve-2024-0003"]))
    assert [f["id"] for f in result["findings"]] == ["v3"]
    assert vendor.gets[0].params["cveId"] == "CVE-2024-0003"
    result = run(vendor, dict(provider="harborguard", status=["needs_manual_review"]))
    assert result["failed"] is True
    assert result["msg"].startswith("status: finding status 'needs_manual_review' is not supported by harborguard")


def test_bad_limit_is_an_error(run):
    result = run(FakeKolega([]), dict(provider="kolega", repository=KOLEGA_REPO_1, limit=0))
    assert result["failed"] is True and result["msg"] == "limit must be 1 or more, got 0"
