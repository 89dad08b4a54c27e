# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AgileSec Analytics Search API (/agilesec/searchdb): OpenSearch behaviour and the crypto documents."""

import re

import pytest

from emu_helpers import AGILESEC, AS, wait_for

SEARCH = "/agilesec/searchdb"
READER = ("analytics-reader", "kf-search-demo-7d41c9e2b05a")
NO_ACCESS = ("no-index-access", "kf-search-none-3a9f1c7e2d58")
EVENTS = SEARCH + "/agilesec.acme_example.v3.event-*/_search"
STABLE_SORT = [{"_index": "asc"}, {"_id": "asc"}]
CRYPTO_KINDS = ("algorithm", "db", "key", "keystore", "library", "protocol", "token", "x509")


def run_sensor(http, name="crypto-repo", labels=None, count=None, admin=None):
    """Create a sensor, run it to completion; answer (sensorId, executionId, execution status body)."""
    if count is not None:
        admin.scope("agilesec", name, finding_count=count)
    body = {"sensorType": "GIT Sensor", "sensorName": name,
            "sensorConfig": {"repositoryUrl": "https://git.acme.example/crypto/%s.git" % name}}
    if labels:
        body["labels"] = labels
    created = http.post(AS + "/scan/create", headers=AGILESEC, json=body).json()
    final = wait_for(lambda: _finished(http, created["executionId"]))
    return created["sensorId"], created["executionId"], final


def _finished(http, execution_id):
    body = http.get(AS + "/scan/" + execution_id, headers=AGILESEC).json()
    return body if body["status"] in ("successful", "failed") else None


def search(http, body=None, path=EVENTS, auth=READER, **params):
    return http.post(path, json=body or {}, auth=auth, params=params)


def walk(http, query, page=1000, source=True):
    """Every hit of a query through search_after on the stable sort; answer (hits, requests)."""
    hits, requests, body = [], 0, {"size": page, "query": query, "sort": STABLE_SORT}
    if not source:
        body["_source"] = False
    while True:
        answer = search(http, body)
        assert answer.status_code == 200, answer.text
        requests += 1
        batch = answer.json()["hits"]["hits"]
        hits.extend(batch)
        if len(batch) < page:
            return hits, requests
        body["search_after"] = batch[-1]["sort"]


def execution_query(execution_id):
    return {"bool": {"filter": [{"term": {"observation.sensor.execution_id": execution_id}}]}}


def assert_opensearch_error(answer, status, error_type, reason_pattern):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status
    assert body["error"]["root_cause"] and body["error"]["type"] == error_type
    reasons = [body["error"]["reason"]] + [cause["reason"] for cause in body["error"]["root_cause"]]
    assert any(re.search(reason_pattern, reason) for reason in reasons), reasons


def test_basic_auth_is_required_like_the_security_plugin(http, admin):
    for auth in (None, ("analytics-reader", "wrong"), ("nobody", "x")):
        answer = http.post(EVENTS, json={}, auth=auth)
        assert answer.status_code == 401
        assert answer.text == "Unauthorized"
        assert answer.headers["www-authenticate"] == 'Basic realm="OpenSearch Security"'
    # The Scan API token is not a search credential.
    assert http.post(EVENTS, json={}, headers=AGILESEC).status_code == 401
    forbidden = search(http, auth=NO_ACCESS)
    assert_opensearch_error(forbidden, 403, "security_exception", r"no permissions for \[indices:data/read/search\]")
    assert_opensearch_error(http.get(SEARCH + "/_resolve/index/agilesec.*", auth=NO_ACCESS), 403, "security_exception",
                            r"indices:admin/resolve/index")
    seeded = admin.seed("agilesec", "search_user", username="crypto-owner", password="owner-pass-1234")
    assert seeded == {"username": "crypto-owner", "read": True}
    assert search(http, auth=("crypto-owner", "owner-pass-1234")).status_code == 200


def test_resolve_index_lists_the_documented_names_per_layout(http, admin):
    v35 = ["agilesec.acme_example.v3.event-%s" % kind for kind in ("algorithm", "key", "keystore", "library", "protocol", "x509")]
    answer = http.get(SEARCH + "/_resolve/index/agilesec.*.v3.event-*", auth=READER).json()
    assert [index["name"] for index in answer["indices"]] == v35
    assert answer["aliases"] == [] and answer["data_streams"] == []
    assert http.get(SEARCH + "/_resolve/index/*-isg-event*", auth=READER).json()["indices"] == []
    admin.config("agilesec", search_layout="v3", search_org_domain="kf-agilesec.com")
    v3 = http.get(SEARCH + "/_resolve/index/*-isg-event*", auth=READER).json()["indices"]
    assert [index["name"] for index in v3] == ["kf-agilesec_com-isg-event-%s" % kind
                                               for kind in ("certificate", "key", "keystore", "sourcecode")]
    assert http.get(SEARCH + "/_resolve/index/agilesec.*", auth=READER).json()["indices"] == []
    admin.config("agilesec", search_layout="both")
    both = http.get(SEARCH + "/_resolve/index/*", auth=READER).json()["indices"]
    assert len(both) == 10


def test_an_execution_indexes_documents_in_the_documented_layout(http, admin):
    labels = [{"team": "payments"}, {"env": "prod"}]
    sensor_id, execution_id, final = run_sensor(http, labels=labels, count=40, admin=admin)
    assert final["status"] == "successful"
    hits, _requests = walk(http, execution_query(execution_id))
    assert len(hits) == 40
    for hit in hits:
        source = hit["_source"]
        for key in ("@timestamp", "first_found", "version", "object", "observation", "crypto", "analysis", "labels"):
            assert key in source, key
        assert set(source["observation"]) >= {"sensor", "source"}
        assert source["observation"]["sensor"]["id"] == sensor_id
        assert source["observation"]["sensor"]["name"] == "crypto-repo"
        assert len(source["crypto"]) == 1 and next(iter(source["crypto"])) in CRYPTO_KINDS
        assert hit["_index"] == "agilesec.acme_example.v3.event-" + next(iter(source["crypto"]))
        assert source["labels"] == labels
        assert source["analysis"]["priority"] in ("critical", "high", "medium", "low", "info")
    # The execution's message and the search store count the same findings.
    message = final["message"]
    assert message.startswith("Scan completed successfully. 40 cryptographic observations")
    for label, count in re.findall(r"([A-Za-z0-9 .-]+?) x(\d+)", message.split(": ", 1)[1]):
        named = [h for h in hits if h["_source"]["object"]["name"] == label.strip()]
        assert len(named) == int(count), label


def test_a_failed_execution_indexes_nothing_and_documents_follow_the_latest_execution(http, admin):
    admin.config("agilesec", outcome="failed")
    _sensor_id, failed_execution, final = run_sensor(http, name="broken", count=10, admin=admin)
    assert final["status"] == "failed"
    assert search(http, {"query": execution_query(failed_execution)}).json()["hits"]["total"]["value"] == 0

    admin.config("agilesec", outcome="completed")
    sensor_id, first_execution, _final = run_sensor(http, name="again", count=12, admin=admin)
    first, _requests = walk(http, execution_query(first_execution))
    admin.scope("agilesec", "again", finding_count=8)
    second_execution = http.post(AS + "/scan/execute", headers=AGILESEC, json={"sensorId": sensor_id}).json()["executionId"]
    wait_for(lambda: _finished(http, second_execution))
    second, _requests = walk(http, execution_query(second_execution))
    still_first, _requests = walk(http, execution_query(first_execution))
    # Updated in place: the 8 findings seen again keep their ids and first_found; the other 4 keep the old execution.
    assert len(second) == 8 and len(still_first) == 4
    by_id = dict((hit["_id"], hit) for hit in first)
    assert set(hit["_id"] for hit in second) | set(hit["_id"] for hit in still_first) == set(by_id)
    for hit in second:
        assert hit["_source"]["first_found"] == by_id[hit["_id"]]["_source"]["first_found"]


def test_search_after_walks_past_the_result_window_and_from_cannot(http, admin):
    _sensor_id, execution_id, _final = run_sensor(http, name="monorepo", count=20500, admin=admin)
    query = execution_query(execution_id)
    first = search(http, {"size": 10, "query": query}).json()
    assert first["hits"]["total"] == {"value": 10000, "relation": "gte"}
    exact = search(http, {"size": 0, "query": query, "track_total_hits": True}).json()
    assert exact["hits"]["total"] == {"value": 20500, "relation": "eq"}
    assert exact["hits"]["hits"] == []
    assert search(http, {"from": 9000, "size": 1000, "query": query, "_source": False}).status_code == 200
    too_deep = search(http, {"from": 9001, "size": 1000, "query": query})
    assert_opensearch_error(too_deep, 400, "search_phase_execution_exception",
                            r"^Result window is too large, from \+ size must be less than or equal to: \[10000\] but was \[10001\]")
    assert too_deep.json()["error"]["root_cause"][0]["type"] == "illegal_argument_exception"
    hits, requests = walk(http, query, page=2000, source=False)
    assert len(hits) == 20500 and requests == 11
    assert "_source" not in hits[0]
    keys = [(hit["_index"], hit["_id"]) for hit in hits]
    assert len(set(keys)) == 20500
    assert keys == sorted(keys)
    assert all(hit["sort"] == [hit["_index"], hit["_id"]] for hit in hits[:50])


def test_the_query_subset_filters_like_opensearch(http, admin):
    _sensor_id, execution_id, _final = run_sensor(http, name="filters", labels=[{"team": "crypto"}], count=300, admin=admin)
    everything, _requests = walk(http, {"match_all": {}})
    mine = [hit for hit in everything if hit["_source"]["observation"]["sensor"]["execution_id"] == execution_id]
    assert len(mine) == 300

    def count(query):
        return len(walk(http, {"bool": {"filter": [execution_query(execution_id), query]}})[0])

    def expect(predicate):
        return sum(1 for hit in mine if predicate(hit["_source"]))

    def key_size(source):
        return (source["crypto"].get("key") or {}).get("size")

    assert count({"term": {"analysis.priority": "high"}}) == expect(lambda s: s["analysis"]["priority"] == "high")
    assert count({"terms": {"analysis.priority": ["critical", "high"]}}) == expect(lambda s: s["analysis"]["priority"] in ("critical", "high"))
    assert count({"range": {"crypto.key.size": {"lt": 2048}}}) == expect(lambda s: key_size(s) is not None and key_size(s) < 2048)
    assert count({"exists": {"field": "crypto.x509"}}) == expect(lambda s: "x509" in s["crypto"])
    assert count({"term": {"crypto.algorithm.name": {"value": "md5", "case_insensitive": True}}}) == \
        expect(lambda s: (s["crypto"].get("algorithm") or {}).get("name") == "MD5")
    assert count({"term": {"crypto.algorithm.name": "md5"}}) == 0
    assert count({"term": {"labels.team": "crypto"}}) == 300
    assert count({"bool": {"must_not": [{"exists": {"field": "crypto.key"}}]}}) == expect(lambda s: "key" not in s["crypto"])
    assert count({"bool": {"should": [{"exists": {"field": "crypto.key"}}, {"exists": {"field": "crypto.x509"}}]}}) == \
        expect(lambda s: "key" in s["crypto"] or "x509" in s["crypto"])
    certificates = [hit for hit in mine if "x509" in hit["_source"]["crypto"]]
    cutoff = sorted(hit["_source"]["crypto"]["x509"]["not_after"] for hit in certificates)[len(certificates) // 2]
    assert count({"range": {"crypto.x509.not_after": {"lte": cutoff}}}) == \
        sum(1 for hit in certificates if hit["_source"]["crypto"]["x509"]["not_after"] <= cutoff)
    some = [hit["_id"] for hit in mine[:3]]
    assert count({"terms": {"_id": some}}) == 3


@pytest.mark.parametrize("body, status, error_type, reason", [
    ({"query": {"wildcard": {"crypto.key.algorithm": "RS*"}}}, 400, "parsing_exception", r"\[wildcard\] query is not part"),
    ({"aggs": {"by": {"terms": {"field": "analysis.priority"}}}}, 400, "parsing_exception", r"\[aggs\] search body key"),
    ({"query": {"term": {"a": 1, "b": 2}}}, 400, "parsing_exception", r"doesn't support multiple fields"),
    ({"sort": STABLE_SORT, "from": 5, "search_after": ["a", "b"]}, 400, "illegal_argument_exception",
     r"\[from\] parameter must be set to 0 when \[search_after\] is used"),
    ({"sort": STABLE_SORT, "search_after": ["a"]}, 400, "illegal_argument_exception", r"search_after has 1 value\(s\) but sort has 2"),
    ({"search_after": ["a"]}, 400, "illegal_argument_exception", r"Sort must contain at least one field"),
    ({"size": -1}, 400, "illegal_argument_exception", r"\[size\] parameter cannot be negative"),
    ({"size": 10001}, 400, "search_phase_execution_exception", r"Result window is too large"),
])
def test_requests_outside_the_subset_get_opensearch_errors(http, admin, body, status, error_type, reason):
    assert_opensearch_error(search(http, body), status, error_type, reason)


def test_missing_indexes_and_unknown_parameters(http, admin):
    missing = search(http, path=SEARCH + "/agilesec.acme_example.v3.event-nothing/_search")
    assert_opensearch_error(missing, 404, "index_not_found_exception", r"no such index \[agilesec.acme_example.v3.event-nothing\]")
    assert missing.json()["error"]["root_cause"][0]["index"] == "agilesec.acme_example.v3.event-nothing"
    empty = search(http, path=SEARCH + "/nothing-*/_search").json()
    assert empty["hits"]["hits"] == [] and empty["_shards"]["total"] == 0
    assert_opensearch_error(search(http, scroll="1m"), 400, "illegal_argument_exception", r"unrecognized parameter: \[scroll\]")
    assert_opensearch_error(http.get(SEARCH + "/_cat/indices", auth=READER), 400, "illegal_argument_exception",
                            r"no handler found for uri \[/_cat/indices\] and method \[GET\]")


def test_search_faults_answer_in_opensearch_shape(http, admin):
    admin.add_fault("rate_limit", vendor="agilesec", path="/agilesec/searchdb/*", count=1, retry_after=2)
    limited = search(http)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["type"] == "rejected_execution_exception"
    admin.add_fault("error", vendor="agilesec", path="/agilesec/searchdb/*", count=1, status=503)
    assert search(http).json()["status"] == 503
    assert search(http).status_code == 200
