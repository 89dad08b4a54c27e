# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scan_run on AgileSec: the gate, ignores and reports count the Search API findings of the execution."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.scans import ScanFailure, run_scan
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_search import (
    SEARCH_PASSWORD,
    SEARCH_USER,
    FakeSearch,
    crypto_doc,
)
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_scans import params

SENSOR = {"sensorId": "sen_1", "sensorName": "payments-git", "sensorType": "GIT Sensor", "lastExecutionId": None}


class FakeScanApi(object):
    """The AgileSec scan API: one sensor; an execution finishes at its second read."""

    def __init__(self):
        self.sensor = dict(SENSOR)
        self.reads = {}

    def __call__(self, request):
        path = request.url.path
        if path == "/v3/sensors":
            return httpx.Response(200, json={"data": [self.sensor], "page": 1, "pageSize": 100, "total": 1})
        if path == "/v3/sensors/sen_1":
            return httpx.Response(200, json=self.sensor)
        if path == "/v3/scan/execute":
            self.sensor["lastExecutionId"] = "exe_1"
            return httpx.Response(200, json={"executionId": "exe_1", "status": "successful", "message": "started"})
        if path == "/v3/scan/exe_1":
            self.reads["exe_1"] = self.reads.get("exe_1", 0) + 1
            status = "successful" if self.reads["exe_1"] > 1 else "running"
            return httpx.Response(200, json={"sensorId": "sen_1", "executionId": "exe_1", "status": status, "message": "",
                                             "ranBy": "automation", "ranAt": "2026-01-01T00:00:00Z", "labels": []})
        return httpx.Response(404, json={"status": "failed", "message": "Not found."})


def hits():
    return [crypto_doc(0, "x509", "critical", "certificate-expired", {"not_after": "2020-01-01T00:00:00Z"}),
            crypto_doc(1, "key", "high", "weak-rsa-key-size"),
            crypto_doc(2, "key", "high", "weak-rsa-key-size"),
            crypto_doc(3, "algorithm", "medium", "deprecated-cipher-3des", {"name": "3DES"}),
            crypto_doc(4, "key", "info", "compliant-key", {"algorithm": "RSA", "size": 2048})]


@pytest.fixture
def agilesec(make_adapter):
    def factory(search=True, documents=None):
        store = FakeSearch(hits() if documents is None else documents, fallback=FakeScanApi())
        options = dict(api_url="https://platform.acme.example", search_index="agilesec.acme_example.v3.event-*")
        if search:
            options.update(search_username=SEARCH_USER, search_password=SEARCH_PASSWORD)
        adapter, _recorder = make_adapter("agilesec", store, **options)
        return adapter, store
    return factory


def scan(adapter, fake_time, **options):
    warnings = []
    options.setdefault("sensor", "payments-git")
    result = run_scan(adapter, params(**options), warn=warnings.append, sleep=fake_time.sleep, clock=fake_time.clock,
                      wallclock=fake_time.wallclock, today="2026-06-01")
    return result, warnings


def test_the_gate_counts_the_findings_of_the_execution(agilesec, fake_time):
    adapter, store = agilesec()
    with pytest.raises(ScanFailure) as failed:
        scan(adapter, fake_time, fail_on="high")
    gate = failed.value.result["gate"]
    assert gate["counts"] == {"critical": 1, "high": 2, "medium": 1, "low": 0, "info": 1}
    assert failed.value.msg == ("Scan gate of sensor payments-git: gate failed for agilesec scan exe_1: findings at or above "
                                "high: 1 critical, 2 high")
    assert failed.value.result["scan"]["counts"] == gate["counts"]
    assert store.bodies()[0]["query"] == {"bool": {"filter": [{"term": {"observation.sensor.id": "sen_1"}},
                                                              {"term": {"observation.sensor.execution_id": "exe_1"}}]}}


def test_ignores_by_rule_and_by_finding_id_and_expired_entries(agilesec, fake_time):
    adapter, _store = agilesec()
    ignore = [{"id": "certificate-expired", "reason": "test fixture", "expires": "2099-01-01"},
              {"id": "WEAK-RSA-KEY-SIZE", "reason": "rotation planned", "expires": "2099-01-01"},
              {"id": "doc00003", "reason": "3DES only decrypts archived data", "expires": "2099-01-31"}]
    result, _warnings = scan(adapter, fake_time, fail_on="medium", ignore=ignore, return_findings=True, findings_limit=2)
    gate = result["gate"]
    assert gate["passed"] is True
    assert [item["id"] for item in gate["ignored"]] == ["doc00003", "doc00001", "doc00002", "doc00000"]
    assert gate["counts"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 1}
    assert len(result["findings"]) == 2 and result["findings_truncated"] is True
    # The same entry for doc00003 past its date (today is 2026-06-01): the finding counts again and fails the gate.
    ignore[2]["expires"] = "2026-01-31"
    adapter, _store = agilesec()
    with pytest.raises(ScanFailure) as failed:
        scan(adapter, fake_time, fail_on="medium", ignore=ignore)
    assert failed.value.msg.endswith("findings at or above medium: 1 medium; ignore entry doc00003 expired on 2026-01-31; "
                                     "its 1 finding counted again")


def test_reports_carry_the_crypto_findings(agilesec, fake_time, tmp_path):
    adapter, _store = agilesec()
    sarif = tmp_path / "crypto.sarif"
    result, _warnings = scan(adapter, fake_time, sarif_path=str(sarif), markdown_path=str(tmp_path / "crypto.md"))
    assert result["gate"]["passed"] is True
    document = json.loads(sarif.read_text())
    rules = set(r["ruleId"] for r in document["runs"][0]["results"])
    assert rules == {"certificate-expired", "weak-rsa-key-size", "deprecated-cipher-3des", "compliant-key"}
    assert "deploy/tls/server.key" in sarif.read_text()
    assert "certificate-expired" in (tmp_path / "crypto.md").read_text()


def test_without_search_credentials_the_gate_warns_and_an_ignore_list_fails(agilesec, fake_time):
    adapter, store = agilesec(search=False)
    result, warnings = scan(adapter, fake_time, fail_on="high")
    assert result["gate"]["passed"] is True and result["gate"]["counts"]["high"] == 0
    assert result["gate"]["counts_source"] == "none"
    assert warnings == ["Keyfactor AgileSec findings are read through its Search API, which needs search_username and "
                        "search_password (or AGILESEC_SEARCH_USERNAME and AGILESEC_SEARCH_PASSWORD); the severity checks of "
                        "the gate see zero findings"]
    assert store.requests == []
    adapter, store = agilesec(search=False)
    with pytest.raises(ScanFailure) as failed:
        scan(adapter, fake_time, max_age="1h", ignore=[{"id": "x", "reason": "y"}])
    assert failed.value.msg == ("Invalid options: ignore: Keyfactor AgileSec findings are read through its Search API, which "
                                "needs search_username and search_password (or AGILESEC_SEARCH_USERNAME and "
                                "AGILESEC_SEARCH_PASSWORD), so an ignore list cannot be applied")
    assert store.requests == [] and adapter.client.stats["total"] == 0


def test_an_execution_with_more_findings_than_the_result_window_is_counted_whole(agilesec, fake_time):
    many = [crypto_doc(i, "key", "low", "weak-rsa-key-size") for i in range(12345)]
    adapter, store = agilesec(documents=many)
    result, _warnings = scan(adapter, fake_time, fail_on="critical")
    assert result["gate"]["counts"]["low"] == 12345
    assert len(store.searches()) == 13 and all("from" not in body for body in store.bodies())
