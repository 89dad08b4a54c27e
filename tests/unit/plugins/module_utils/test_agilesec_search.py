# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AgileSec search adapter: query building, paging, index detection, normalization, errors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import datetime

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import AssumedCallError
from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import (
    AgileSecAdapter,
    crypto_filter_matches,
    parse_search_error,
    search_query,
)
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_search import (
    ORG_INDEX,
    SEARCH_PASSWORD,
    SEARCH_USER,
    FakeSearch,
    crypto_doc,
)
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fakes import SECRET

API = "https://platform.acme.example"
EXECUTION = {"term": {"observation.sensor.execution_id": "exe_9"}}
WHEN = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def adapter_for(fake_time):
    made = []

    def factory(search, **options):
        settings = dict(api_url=API, search_username=SEARCH_USER, search_password=SEARCH_PASSWORD, rate_limit=0,
                        transport=httpx.MockTransport(search), sleep=fake_time.sleep, clock=fake_time.clock,
                        wallclock=fake_time.wallclock, rand=lambda: 0.5)
        settings.update(options)
        adapter = AgileSecAdapter(SECRET, **settings)
        made.append(adapter)
        return adapter

    yield factory
    for adapter in made:
        adapter.close()


# -- the query -------------------------------------------------------------------------------------
QUERIES = [
    ("nothing", {}, {"match_all": {}}),
    ("one execution", {"execution_id": "exe_9"}, {"bool": {"filter": [EXECUTION]}}),
    ("a sensor by name or id", {"sensor": "payments-git"},
     {"bool": {"filter": [{"bool": {"should": [{"term": {"observation.sensor.name": "payments-git"}},
                                               {"term": {"observation.sensor.id": "payments-git"}}], "minimum_should_match": 1}}]}}),
    ("a sensor id and an execution", {"sensor_id": "sen_1", "execution_id": "exe_9"},
     {"bool": {"filter": [{"term": {"observation.sensor.id": "sen_1"}}, EXECUTION]}}),
    ("one severity", {"severities": ["high"]}, {"bool": {"filter": [{"term": {"analysis.priority": "high"}}]}}),
    ("severities in rank order", {"severities": ["medium", "critical"]},
     {"bool": {"filter": [{"terms": {"analysis.priority": ["critical", "medium"]}}]}}),
    ("info also matches a missing priority", {"severities": ["info"]},
     {"bool": {"filter": [{"bool": {"should": [{"terms": {"analysis.priority": ["info", "informational", "none"]}},
                                               {"bool": {"must_not": [{"exists": {"field": "analysis.priority"}}]}}],
                                    "minimum_should_match": 1}}]}}),
    ("rules without regard to case", {"rule_ids": ["sha1-signature"]},
     {"bool": {"filter": [{"term": {"analysis.policy.rule": {"value": "sha1-signature", "case_insensitive": True}}}]}}),
    ("ids", {"ids": ["a", "b"]}, {"bool": {"filter": [{"terms": {"_id": ["a", "b"]}}]}}),
    ("certificates are x509 documents", {"kinds": ["certificate"]}, {"bool": {"filter": [{"exists": {"field": "crypto.x509"}}]}}),
    ("several kinds", {"kinds": ["key", "certificate"]},
     {"bool": {"filter": [{"bool": {"should": [{"exists": {"field": "crypto.x509"}}, {"exists": {"field": "crypto.key"}}],
                                    "minimum_should_match": 1}}]}}),
    ("key size below", {"key_size_below": 2048},
     {"bool": {"filter": [{"bool": {"should": [{"range": {"crypto.key.size": {"lt": 2048}}},
                                               {"range": {"crypto.x509.public_key.size": {"lt": 2048}}}], "minimum_should_match": 1}}]}}),
    ("expiring before", {"expires_before": WHEN},
     {"bool": {"filter": [{"range": {"crypto.x509.not_after": {"lte": "2026-03-01T12:00:00Z"}}}]}}),
    ("labels, all of them", {"labels": {"team": "payments", "env": "prod"}},
     {"bool": {"filter": [{"term": {"labels.env": "prod"}}, {"term": {"labels.team": "payments"}}]}}),
]


@pytest.mark.parametrize("name, arguments, expected", QUERIES, ids=[q[0] for q in QUERIES])
def test_search_query(name, arguments, expected):
    assert search_query(**arguments) == expected


def test_an_algorithm_is_looked_for_in_every_algorithm_field():
    query = search_query(algorithms=["SHA-1"])
    should = query["bool"]["filter"][0]["bool"]["should"]
    fields = [next(iter(clause["term"])) for clause in should]
    assert fields == ["crypto.algorithm.name", "crypto.key.algorithm", "crypto.x509.signature_algorithm",
                      "crypto.x509.public_key.algorithm", "crypto.protocol.name", "crypto.protocol.cipher_suite",
                      "crypto.library.name", "crypto.keystore.type"]
    assert all(clause["term"][field] == {"value": "SHA-1", "case_insensitive": True} for clause, field in zip(should, fields))


def test_the_query_uses_only_the_dsl_subset_the_emulator_and_docs_cover():
    query = search_query(sensor="s", sensor_id="i", execution_id="e", severities=["info", "high"], rule_ids=["r"], ids=["x"],
                         kinds=["key", "protocol"], algorithms=["MD5", "3des"], key_size_below=1024, expires_before=WHEN,
                         labels={"team": "a"})
    used = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("match_all", "term", "terms", "range", "exists", "bool", "wildcard", "match", "prefix", "regexp"):
                    used.add(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(query)
    assert used == {"bool", "term", "terms", "range", "exists"}


CRYPTO_FILTERS = [
    ("kind matches", dict(kinds=["key"]), crypto_doc(1), True),
    ("kind differs", dict(kinds=["certificate"]), crypto_doc(1), False),
    ("algorithm without regard to case", dict(algorithms=["rsa"]), crypto_doc(1), True),
    ("certificate signature algorithm", dict(algorithms=["SHA1withRSAEncryption"]),
     crypto_doc(2, "x509", details={"signature_algorithm": "sha1WithRSAEncryption", "public_key": {"algorithm": "RSA", "size": 2048},
                                    "not_after": "2026-03-10T00:00:00Z"}), True),
    ("key shorter", dict(key_size_below=2048), crypto_doc(1), True),
    ("key not shorter", dict(key_size_below=1024), crypto_doc(1), False),
    ("certificate key shorter", dict(key_size_below=2048),
     crypto_doc(2, "x509", details={"public_key": {"size": 1024}, "not_after": "2030-01-01T00:00:00Z"}), True),
    ("no key at all", dict(key_size_below=4096), crypto_doc(3, "algorithm", details={"name": "MD5"}), False),
    ("expires in time", dict(expires_before=WHEN), crypto_doc(2, "x509", details={"not_after": "2026-03-01T11:59:59Z"}), True),
    ("already expired counts", dict(expires_before=WHEN), crypto_doc(2, "x509", details={"not_after": "2020-01-01T00:00:00Z"}), True),
    ("expires later", dict(expires_before=WHEN), crypto_doc(2, "x509", details={"not_after": "2026-03-01T12:00:01Z"}), False),
    ("not a certificate", dict(expires_before=WHEN), crypto_doc(1), False),
    ("labels as the scan API's list", dict(labels={"team": "payments"}), crypto_doc(1, labels=[{"team": "payments"}, {"env": "prod"}]), True),
    ("labels as an object", dict(labels={"team": "payments", "env": "prod"}), crypto_doc(1, labels={"team": "payments", "env": "prod"}), True),
    ("a label differs", dict(labels={"team": "web"}), crypto_doc(1, labels=[{"team": "payments"}]), False),
    ("no labels", dict(labels={"team": "web"}), crypto_doc(1), False),
]


@pytest.mark.parametrize("name, filters, hit, expected", CRYPTO_FILTERS, ids=[c[0] for c in CRYPTO_FILTERS])
def test_crypto_filters_on_the_client(name, filters, hit, expected):
    assert crypto_filter_matches(hit, **filters) is expected


# -- normalization -----------------------------------------------------------------------------------
def test_a_hit_is_normalized_into_the_collection_shape():
    adapter = AgileSecAdapter(SECRET, api_url=API)
    hit = crypto_doc(4, "x509", priority="high", rule="sha1-signature", labels=[{"team": "payments"}],
                     details={"signature_algorithm": "sha1WithRSAEncryption", "public_key": {"algorithm": "RSA", "size": 2048},
                              "not_after": "2026-05-01T00:00:00Z"}, file_path="deploy/tls/server.crt")
    finding = adapter.normalize_finding(hit)
    assert finding == {
        "id": "doc00004", "provider": "agilesec", "rule_id": "sha1-signature", "title": "finding 4", "severity": "high",
        "status": None, "vendor_status": None,
        "location": {"source": "https://git.acme.example/payments.git", "file": "deploy/tls/server.crt", "line": 5,
                     "host": "git.acme.example"},
        "first_seen": "2025-12-01T00:00:00Z", "raw": hit,
        "crypto": {"kind": "certificate", "algorithm": "sha1WithRSAEncryption", "key_size": 2048, "not_after": "2026-05-01T00:00:00Z"},
    }
    adapter.close()


def test_a_document_without_analysis_or_policy_rule_still_has_a_rule_and_counts_as_info():
    adapter = AgileSecAdapter(SECRET, api_url=API)
    hit = crypto_doc(1, "algorithm", priority=None, details={"name": "MD5", "primitive": "hash"})
    finding = adapter.normalize_finding(hit)
    assert finding["rule_id"] == "algorithm:MD5" and finding["severity"] == "info"
    assert adapter.count_severities([hit]) == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 1}
    adapter.close()


@pytest.mark.parametrize("priority, severity", [
    ("critical", "critical"), ("HIGH", "high"), ("medium", "medium"), ("low", "low"), ("info", "info"),
    ("informational", "info"), ("none", "info"), ("something new", "info"), (None, "info"),
])
def test_priority_words_map_onto_severities(priority, severity):
    adapter = AgileSecAdapter(SECRET, api_url=API)
    assert adapter.normalize_finding(crypto_doc(1, priority=priority))["severity"] == severity
    adapter.close()


# -- paging -----------------------------------------------------------------------------------------
def test_search_after_walks_every_page_and_never_sends_from(adapter_for):
    store = FakeSearch([crypto_doc(i) for i in range(2500)])
    adapter = adapter_for(store, search_index="agilesec.acme_example.v3.event-*")
    hits = list(adapter.iter_search(EXECUTION))
    assert [hit["_id"] for hit in hits] == ["doc%05d" % i for i in range(2500)]
    bodies = store.bodies()
    assert len(bodies) == 3
    assert all("from" not in body for body in bodies)
    assert "search_after" not in bodies[0]
    assert bodies[1]["search_after"] == [ORG_INDEX % "key", "doc00999"]
    assert bodies[2]["search_after"] == [ORG_INDEX % "key", "doc01999"]
    assert all(body["sort"] == [{"_index": "asc"}, {"_id": "asc"}] and body["size"] == 1000 and body["query"] == EXECUTION
               for body in bodies)
    assert [r.url.path for r in store.searches()] == ["/searchdb/agilesec.acme_example.v3.event-*/_search"] * 3
    assert adapter.client.stats == {"total": 3, "search": 3, "retries": 0}


def test_a_limit_stops_paging_and_shrinks_the_last_page(adapter_for):
    store = FakeSearch([crypto_doc(i) for i in range(50)])
    adapter = adapter_for(store, search_index="agilesec.acme_example.v3.event-*")
    assert len(list(adapter.iter_search({"match_all": {}}, page_size=20, limit=30))) == 30
    assert [body["size"] for body in store.bodies()] == [20, 10]


def test_a_page_without_sort_values_cannot_be_followed(adapter_for):
    page = {"hits": {"hits": [{"_index": "i", "_id": str(i), "_source": {}} for i in range(2)]}}
    store = FakeSearch(answers=[httpx.Response(200, json=page)])
    adapter = adapter_for(store, search_index="agilesec.acme_example.v3.event-*")
    with pytest.raises(ScanopsApiError, match="no sort values to continue after hit 2"):
        list(adapter.iter_search({"match_all": {}}, page_size=2))


def test_a_busy_search_store_is_retried_after_its_hint(adapter_for, fake_time):
    busy = httpx.Response(429, headers={"Retry-After": "3"},
                          json={"error": {"root_cause": [{"type": "rejected_execution_exception", "reason": "queue full"}],
                                          "type": "rejected_execution_exception", "reason": "queue full"}, "status": 429})
    store = FakeSearch([crypto_doc(1)], answers=[busy])
    adapter = adapter_for(store, search_index="agilesec.acme_example.v3.event-*")
    assert len(list(adapter.iter_search({"match_all": {}}))) == 1
    assert fake_time.sleeps == [3.0] and adapter.client.stats["retries"] == 1


# -- index detection ---------------------------------------------------------------------------------
def test_the_v35_indexes_are_detected_first_and_remembered(adapter_for):
    store = FakeSearch([crypto_doc(1)], indexes=[ORG_INDEX % "key", ORG_INDEX % "x509", "acme_example-isg-event-key"])
    adapter = adapter_for(store)
    list(adapter.iter_search({"match_all": {}}))
    list(adapter.iter_search({"match_all": {}}))
    paths = [r.url.path for r in store.requests]
    assert paths == ["/searchdb/_resolve/index/agilesec.*.v3.event-*"] + ["/searchdb/agilesec.acme_example.v3.event-*/_search"] * 2


@pytest.mark.parametrize("indexes, message", [
    (["acme_example-isg-event-certificate", "acme_example-isg-event-key"],
     r"^search_index: only v3 AgileSec indexes \(acme_example-isg-event\*\) are readable; this collection reads the v3.5"),
    (["agilesec.acme_example.v3.event-key", "agilesec.globex_com.v3.event-key"],
     r"^search_index: the search user can read the v3.5 indexes of 2 organizations \(acme_example, globex_com\); set search_index"),
    ([], r"^search_index: the search user crypto-reader can read no AgileSec event index \(looked for agilesec\.\*\.v3\.event-\* and "),
])
def test_index_detection_fails_clearly(adapter_for, indexes, message):
    adapter = adapter_for(FakeSearch(indexes=indexes))
    with pytest.raises(ScanopsError, match=message):
        adapter.search_index()


def test_a_platform_without_the_inferred_resolve_call_gets_the_assumption_named(adapter_for):
    store = FakeSearch(answers=[httpx.Response(404, json={"status": "failed", "message": "Not found."})])
    adapter = adapter_for(store)
    with pytest.raises(AssumedCallError) as caught:
        adapter.search_index()
    assert caught.value.describe("List", "agilesec findings") == (
        "List agilesec findings: Keyfactor AgileSec does not document GET /searchdb/_resolve/index/{expression}; the collection "
        "assumes it (docs/assumptions.md, Keyfactor AgileSec: Index detection) and https://platform.acme.example/searchdb "
        "answered HTTP 404 (Not found.); set search_index to name the indexes and skip this detection")


def test_a_given_index_is_used_without_resolving(adapter_for):
    store = FakeSearch([crypto_doc(1)])
    adapter = adapter_for(store, search_index="agilesec.globex_com.v3.event-x509,agilesec.globex_com.v3.event-key")
    list(adapter.iter_search({"match_all": {}}))
    assert [r.url.path for r in store.requests] == \
        ["/searchdb/agilesec.globex_com.v3.event-x509,agilesec.globex_com.v3.event-key/_search"]


# -- credentials, origins, errors ----------------------------------------------------------------------
def test_basic_auth_goes_to_the_search_origin_only_and_the_token_to_the_scan_api(adapter_for):
    seen = []

    def scan_api(request):
        seen.append(request)
        return httpx.Response(200, json={"executionId": "e", "status": "successful"})
    store = FakeSearch([crypto_doc(1)], fallback=scan_api)
    adapter = adapter_for(store, search_index="agilesec.acme_example.v3.event-*")
    list(adapter.iter_search({"match_all": {}}))
    adapter.get_execution("e")
    search_request = store.searches()[0]
    assert str(search_request.url).startswith(API + "/searchdb/")
    expected = "Basic " + base64.b64encode(("%s:%s" % (SEARCH_USER, SEARCH_PASSWORD)).encode()).decode()
    assert search_request.headers["authorization"] == expected
    assert "isg-api-token" not in search_request.headers
    assert search_request.headers["content-type"] == "application/json"
    assert seen[0].headers["isg-api-token"] == SECRET and "authorization" not in seen[0].headers
    assert adapter.client.stats["total"] == 2


def test_a_search_url_on_another_origin_gets_the_credentials_there(adapter_for):
    store = FakeSearch([crypto_doc(1)])
    adapter = adapter_for(store, search_url="https://analytics.acme.example:9443/searchdb/", search_index="x-*")
    list(adapter.iter_search({"match_all": {}}))
    assert str(store.searches()[0].url) == "https://analytics.acme.example:9443/searchdb/x-*/_search"


@pytest.mark.parametrize("options, message", [
    (dict(search_url="ftp://analytics.acme.example"), r"^search_url: expected an http\(s\) URL, got 'ftp://analytics.acme.example'$"),
    (dict(search_url="analytics.acme.example/searchdb"), r"^search_url: expected an http\(s\) URL"),
    (dict(search_username="team:crypto"), r"^search_username: HTTP basic authentication cannot carry a ':'"),
    (dict(search_index="Agilesec.*"), r"^search_index: expected lower-case index names or patterns"),
    (dict(search_index="a b"), r"^search_index: expected lower-case index names"),
    (dict(search_index="logs/../x"), r"^search_index: expected lower-case index names"),
])
def test_bad_search_options_fail_before_any_request(options, message):
    with pytest.raises(ValueError, match=message):
        AgileSecAdapter(SECRET, api_url=API, transport=httpx.MockTransport(lambda r: pytest.fail("no request expected")), **options)


def test_without_search_credentials_the_error_names_the_options():
    adapter = AgileSecAdapter(SECRET, api_url=API, search_username=SEARCH_USER)
    assert adapter.search_configured() is False
    with pytest.raises(ScanopsError, match=r"^search_username and search_password are required to read AgileSec findings: .*"
                                           r"\(set the options or AGILESEC_SEARCH_USERNAME and AGILESEC_SEARCH_PASSWORD\)$"):
        list(adapter.iter_search({"match_all": {}}))
    adapter.close()


def test_opensearch_errors_name_the_root_cause_and_never_the_password(adapter_for):
    window = {"error": {"root_cause": [{"type": "illegal_argument_exception",
                                        "reason": "Result window is too large, from + size must be less than or equal to: [10000]"}],
                        "type": "search_phase_execution_exception", "reason": "all shards failed"}, "status": 400}
    store = FakeSearch(answers=[httpx.Response(400, json=window)])
    adapter = adapter_for(store, search_index="x-*")
    with pytest.raises(ScanopsApiError) as caught:
        list(adapter.iter_search({"match_all": {}}))
    assert caught.value.describe("List", "agilesec findings") == (
        "List agilesec findings: Result window is too large, from + size must be less than or equal to: [10000] "
        "(HTTP 400 search_phase_execution_exception)")
    unauthorized = httpx.Response(401, text="Unauthorized", headers={"WWW-Authenticate": 'Basic realm="OpenSearch Security"'})
    adapter = adapter_for(FakeSearch(answers=[unauthorized]), search_index="x-*")
    with pytest.raises(ScanopsApiError) as caught:
        list(adapter.iter_search({"match_all": {}}))
    text = caught.value.describe("List", "agilesec findings")
    assert text == "List agilesec findings: the search store did not accept search_username and its password (Unauthorized) (HTTP 401)"
    assert SEARCH_PASSWORD not in str(caught.value.to_dict())


@pytest.mark.parametrize("status, data, text, expected", [
    (403, {"error": {"root_cause": [{"type": "security_exception", "reason": "no permissions for [indices:data/read/search]"}],
                     "type": "security_exception", "reason": "no permissions for [indices:data/read/search]"}, "status": 403}, "",
     {"code": "security_exception", "message": "no permissions for [indices:data/read/search]"}),
    (404, {"error": {"root_cause": [], "type": "index_not_found_exception", "reason": "no such index [x]"}, "status": 404}, "",
     {"code": "index_not_found_exception", "message": "no such index [x]"}),
    (400, {"error": "no handler found for uri [/x] and method [GET]"}, "", {"message": "no handler found for uri [/x] and method [GET]"}),
    (502, None, "<html>bad gateway</html>", {}),
])
def test_parse_search_error(status, data, text, expected):
    assert parse_search_error(status, data, text) == expected
