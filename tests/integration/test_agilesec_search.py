# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AgileSec findings through the emulated Search API: every filter the collection pushes into its
OpenSearch query selects, on the server, exactly what the same filter selects on our side.

The adapter runs in this process against the session's emulator (no playbook), so the table is
cheap; the finding_info target covers the module end to end.
"""

import datetime
import time

import pytest

from conftest import AGILESEC_SEARCH, DEMO_API_KEYS  # pylint: disable=import-error

from ansible_collections.scanops.security.plugins.module_utils import findings as F
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import (
    AgileSecAdapter,
    crypto_filter_matches,
)

SENSOR = "it-filters"
NOW = datetime.datetime.now(datetime.timezone.utc)


def adapter_for(url, **options):
    settings = dict(api_url=url + "/agilesec", rate_limit=0, timeout=10)
    settings.update(AGILESEC_SEARCH)
    settings.update(options)
    return AgileSecAdapter(DEMO_API_KEYS["agilesec"], **settings)


def params(**options):
    base = dict((name, None) for name in F.SCOPE_OPTIONS + F.FILTER_OPTIONS + F.CRYPTO_OPTIONS)
    base.update(options)
    return base


@pytest.fixture(scope="module")
def execution(emulator_url, admin):
    """One finished execution of a labelled sensor with 300 findings: ``(sensor id, execution id, every hit)``."""
    admin.reset()
    admin.config("agilesec", scopes={SENSOR: {"finding_count": 300}})
    sensor = admin.seed("agilesec", "sensor", sensorName=SENSOR, sensorType="GIT Sensor",
                        labels=[{"team": "payments"}, {"env": "prod"}])
    with adapter_for(emulator_url) as adapter:
        execution_id = adapter.execute_sensor(sensor["sensorId"])["executionId"]
        deadline = time.monotonic() + 20
        while adapter.get_execution(execution_id)["status"] != "successful":
            assert time.monotonic() < deadline, "the execution did not finish"
            time.sleep(0.2)
        hits = list(adapter.iter_search({"match_all": {}}))
    return sensor["sensorId"], execution_id, hits


@pytest.fixture(scope="module")
def searcher(emulator_url, execution):  # pylint: disable=unused-argument
    """One adapter (one connection pool) for the table below."""
    with adapter_for(emulator_url) as adapter:
        yield adapter


CASES = [
    ("severity", dict(severity=["critical"])), ("severity", dict(severity=["high"])), ("severity", dict(severity=["medium"])),
    ("severity", dict(severity=["low"])), ("severity", dict(severity=["info"])), ("severity", dict(severity=["critical", "low"])),
    ("kind", dict(kind=["certificate"])), ("kind", dict(kind=["key"])), ("kind", dict(kind=["keystore", "library"])),
    ("kind", dict(kind=["algorithm", "protocol"])), ("kind", dict(kind=["token", "db"])),
    ("algorithm", dict(algorithm=["md5"])), ("algorithm", dict(algorithm=["RSA"])),
    ("algorithm", dict(algorithm=["SHA1withRSAEncryption", "3des", "TLS"])), ("algorithm", dict(algorithm=["openssl", "jks"])),
    ("key_size_below", dict(key_size_below=1024)), ("key_size_below", dict(key_size_below=2048)),
    ("key_size_below", dict(key_size_below=4096)),
    ("expires_within_days", dict(expires_within_days=0)), ("expires_within_days", dict(expires_within_days=30)),
    ("expires_within_days", dict(expires_within_days=500)),
    ("labels", dict(labels={"team": "payments"})), ("labels", dict(labels={"team": "payments", "env": "prod"})),
    ("labels", dict(labels={"team": "web"})),
    ("rule_id", dict(rule_id=["WEAK-RSA-KEY-SIZE"])), ("rule_id", dict(rule_id=["certificate-expiring", "broken-hash-md5"])),
    ("scope", dict(sensor=SENSOR)), ("scope", dict(kind=["key"], key_size_below=2048, severity=["high"])),
]


@pytest.mark.parametrize("name, options", CASES, ids=["%s-%d" % (case[0], index) for index, case in enumerate(CASES)])
def test_the_server_selects_what_the_client_would(searcher, execution, name, options):
    _sensor_id, execution_id, everything = execution
    adapter = searcher
    source = F.source_for(adapter, params(scan_id=execution_id, **options))
    source.validate(F._selection_options(source.params, "status"), "status")  # pylint: disable=protected-access
    selection = F.build_selection(adapter, source.params, "status")
    # What the server answered to the query, before the module filters anything on its side.
    served = sorted(hit["_id"] for hit in source.iter_raw(selection))
    crypto = F.crypto_filters(params(**options), now=NOW)
    expected = sorted(hit["_id"] for hit in everything
                      if crypto_filter_matches(hit, **crypto) and selection.matches(source, adapter.normalize_finding(hit)))
    assert served == expected, name


def test_the_table_above_selects_something_and_not_everything(execution):
    _sensor_id, _execution_id, everything = execution
    assert len(everything) == 300
    with AgileSecAdapter("k") as adapter:
        facts = [adapter.normalize_finding(hit) for hit in everything]
    assert len(set(f["severity"] for f in facts)) == 5
    assert set(f["crypto"]["kind"] for f in facts) == {"certificate", "key", "keystore", "algorithm", "protocol", "library"}
    assert any(f["crypto"]["key_size"] and f["crypto"]["key_size"] < 2048 for f in facts)


def test_the_sensor_scope_by_id_and_name_and_another_execution(emulator_url, admin, execution):
    sensor_id, execution_id, everything = execution
    with adapter_for(emulator_url) as adapter:
        by_id = [f["id"] for f in F.select_findings(F.source_for(adapter, params(sensor=sensor_id)), F.Selection())[0]]
        by_name = [f["id"] for f in F.select_findings(F.source_for(adapter, params(sensor=SENSOR)), F.Selection())[0]]
        other = F.select_findings(F.source_for(adapter, params(scan_id="0" * 24)), F.Selection())[0]
    assert by_id == by_name == [hit["_id"] for hit in everything]
    assert other == []
    assert execution_id


def test_index_detection_and_a_missing_index(emulator_url, admin, execution):
    with adapter_for(emulator_url, search_index="agilesec.acme_example.v3.event-nothing") as adapter:
        with pytest.raises(ScanopsApiError) as caught:
            list(adapter.iter_search({"match_all": {}}))
    assert caught.value.describe("List", "agilesec findings") == (
        "List agilesec findings: no such index [agilesec.acme_example.v3.event-nothing] (HTTP 404 index_not_found_exception)")
    try:
        admin.config("agilesec", search_layout="v3")
        with adapter_for(emulator_url) as adapter:
            with pytest.raises(ScanopsError, match=r"^search_index: only v3 AgileSec indexes \(acme_example-isg-event\*\) are "
                                                   r"readable; this collection reads the v3.5 document layout"):
                adapter.search_index()
        admin.config("agilesec", search_layout="both")
        with adapter_for(emulator_url) as adapter:
            assert adapter.search_index() == "agilesec.acme_example.v3.event-*"
            assert len(list(adapter.iter_search({"match_all": {}}))) == len(execution[2])
    finally:
        admin.config("agilesec", search_layout="v3.5")
