# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""finding_info end to end against in-memory vendors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import httpx
import pytest

from ansible_collections.scanops.security.plugins.modules import finding_info
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_search import (
    SEARCH_PASSWORD,
    SEARCH_USER,
    FakeSearch,
    crypto_doc,
)
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
    return lambda vendor, args, hidden=(): run_module(finding_info, monkeypatch, capsys, vendor, args, hidden=hidden)


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


# -- large result sets: include_raw, fields, output_file -------------------------------------------
def test_include_raw_false_and_fields_shape_every_finding(run):
    vendor = FakeKolega(kolega_items(120))
    slim = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, include_raw=False))
    assert slim["count"] == 120 and all("raw" not in f for f in slim["findings"])
    assert set(slim["findings"][0]) == {"id", "provider", "rule_id", "title", "severity", "status", "vendor_status", "location",
                                        "first_seen"}
    picked = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, fields=["severity", "location"]))
    assert picked["findings"][0] == {"id": "fnd_0000", "severity": "critical", "location": {"file": "src/f0.py", "line": 0}}
    with_raw = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, fields=["severity"], include_raw=True, limit=1))
    assert sorted(with_raw["findings"][0]) == ["id", "raw", "severity"] and with_raw["findings"][0]["raw"]["check_id"] == "rule-0"


def test_unknown_field_is_refused_before_any_request(run):
    vendor = FakeKolega(kolega_items(3))
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, fields=["severity", "cvss"]))
    assert result["failed"] is True and "fields" in result["msg"] and "cvss" in result["msg"]
    assert vendor.gets == []


def read_lines(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_output_file_gets_one_line_per_finding_and_converges(run, tmp_path):
    vendor = FakeKolega(kolega_items(250))
    target = tmp_path / "findings.jsonl"
    args = dict(provider="kolega", repository=KOLEGA_REPO_1, output_file=str(target), fields=["severity", "status"])
    first = run(vendor, args)
    assert first["changed"] is True and first["count"] == 250 and first["findings"] == []
    lines = read_lines(target)
    assert len(lines) == 250 and lines[0] == {"id": "fnd_0000", "severity": "critical", "status": "open"}
    assert [line["id"] for line in lines] == ["fnd_%04d" % n for n in range(250)]
    again = run(vendor, args)
    assert again["changed"] is False and again["count"] == 250
    checked = run(vendor, dict(args, _ansible_check_mode=True))
    assert checked["changed"] is False
    # A finding changes on the platform: check mode says the file would change and leaves it alone; a real run replaces it.
    vendor.items[0]["status"] = "resolved"
    before = target.read_bytes()
    checked = run(vendor, dict(args, _ansible_check_mode=True))
    assert checked["changed"] is True and target.read_bytes() == before
    replaced = run(vendor, args)
    assert replaced["changed"] is True and read_lines(target)[0]["status"] == "resolved"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.jsonl"]  # no temporary file left


def test_output_file_left_alone_when_listing_fails(run, tmp_path):
    class FailingSecondPage(FakeKolega):
        def get(self, request, params):
            if "/findings" in request.url.path and int(params.get("skip", 0)) > 0:
                return self.error(500)
            return super(FailingSecondPage, self).get(request, params)

    vendor = FailingSecondPage(kolega_items(250))
    target = tmp_path / "findings.jsonl"
    target.write_text("previous\n")
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, output_file=str(target), retries=0))
    assert result["failed"] is True and "findings" not in result
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.jsonl"]


def test_output_file_in_a_missing_directory_fails_before_any_request(run, tmp_path):
    vendor = FakeKolega(kolega_items(3))
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, output_file=str(tmp_path / "nope" / "f.jsonl")))
    assert result["failed"] is True and result["msg"].startswith("output_file: the directory ") and "does not exist" in result["msg"]
    assert result["api_calls"]["total"] == 0 and vendor.gets == []
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, output_file=str(tmp_path)))
    assert result["failed"] is True and "is a directory" in result["msg"]


def test_output_file_path_gets_the_option_checks_before_any_request(run, tmp_path):
    vendor = FakeKolega(kolega_items(3))
    result = run(vendor, dict(provider="kolega", repository=KOLEGA_REPO_1, output_file=str(tmp_path / "f\x1b[31m.jsonl")))
    assert result["failed"] is True and result["msg"].startswith("output_file") and vendor.gets == []
    assert not list(tmp_path.iterdir())


# -- AgileSec: the Search API ---------------------------------------------------------------------------
def agilesec_hits():
    long_ago, soon, later = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2099-12-31T00:00:00Z"
    return [
        crypto_doc(0, "key", "high", "weak-rsa-key-size", {"algorithm": "RSA", "size": 1024}, labels=[{"team": "payments"}]),
        crypto_doc(1, "key", "info", "compliant-key", {"algorithm": "RSA", "size": 2048}, labels=[{"team": "payments"}]),
        crypto_doc(2, "x509", "high", "sha1-signature", {"signature_algorithm": "sha1WithRSAEncryption",
                                                         "public_key": {"algorithm": "RSA", "size": 2048}, "not_after": later},
                   file_path="deploy/tls/server.crt"),
        crypto_doc(3, "x509", "critical", "certificate-expired", {"signature_algorithm": "sha256WithRSAEncryption",
                                                                  "public_key": {"algorithm": "RSA", "size": 2048}, "not_after": long_ago},
                   file_path="charts/api/certs/ca.crt"),
        crypto_doc(4, "algorithm", "high", "broken-hash-md5", {"name": "MD5", "primitive": "hash"}, sensor_id="sen_2",
                   sensor_name="web-git", execution_id="exe_2", file_path="app/auth/tokens.py"),
        crypto_doc(5, "x509", "medium", "certificate-expiring", {"signature_algorithm": "sha256WithRSAEncryption",
                                                                 "public_key": {"algorithm": "RSA", "size": 1024}, "not_after": soon}),
    ]


AGILESEC = dict(provider="agilesec", search_username=SEARCH_USER, search_password=SEARCH_PASSWORD,
                search_index="agilesec.acme_example.v3.event-*")


@pytest.mark.parametrize("filters, expected_ids", [
    (dict(), ["doc00004", "doc00000", "doc00001", "doc00002", "doc00003", "doc00005"]),
    (dict(kind=["certificate"]), ["doc00002", "doc00003", "doc00005"]),
    (dict(key_size_below=2048), ["doc00000", "doc00005"]),
    (dict(algorithm=["sha1withrsaencryption", "md5"]), ["doc00004", "doc00002"]),
    (dict(expires_within_days=30), ["doc00003"]),
    (dict(labels={"team": "payments"}), ["doc00000", "doc00001"]),
    (dict(severity=["critical", "high"], kind=["certificate"]), ["doc00002", "doc00003"]),
    (dict(rule_id=["SHA1-Signature"]), ["doc00002"]),
    (dict(path="charts/*"), ["doc00003"]),
    (dict(ids=["doc00003", "doc00004"], kind=["certificate"]), ["doc00003"]),
])
def test_agilesec_filters_apply_even_when_the_server_ignores_them(run, filters, expected_ids):
    store = FakeSearch(agilesec_hits())
    result = run(store, dict(AGILESEC, **filters))
    assert result.get("failed") is not True, result
    assert [finding["id"] for finding in result["findings"]] == expected_ids
    assert result["api_calls"] == {"total": 1, "search": 1, "retries": 0}


def test_agilesec_findings_carry_the_collection_shape_and_the_query_is_pushed_down(run):
    store = FakeSearch(agilesec_hits())
    result = run(store, dict(AGILESEC, sensor="payments-git", scan_id="exe_1", severity=["critical"], kind=["certificate"],
                             expires_within_days=30), hidden=(SEARCH_PASSWORD,))
    assert [f["id"] for f in result["findings"]] == ["doc00003"]
    finding = result["findings"][0]
    assert finding["rule_id"] == "certificate-expired" and finding["severity"] == "critical" and finding["provider"] == "agilesec"
    assert finding["location"] == {"source": "https://git.acme.example/payments.git", "file": "charts/api/certs/ca.crt", "line": 4,
                                   "host": "git.acme.example"}
    assert finding["crypto"]["kind"] == "certificate" and finding["raw"]["_id"] == "doc00003"
    filters = store.bodies()[0]["query"]["bool"]["filter"]
    assert filters[1] == {"term": {"observation.sensor.execution_id": "exe_1"}}
    assert filters[2] == {"term": {"analysis.priority": "critical"}}
    assert filters[3] == {"exists": {"field": "crypto.x509"}}
    assert list(filters[4]["range"]) == ["crypto.x509.not_after"]


def test_agilesec_fields_keep_crypto_and_other_providers_have_none(run):
    store = FakeSearch(agilesec_hits())
    picked = run(store, dict(AGILESEC, sensor="payments-git", kind=["certificate"], fields=["severity", "crypto"]),
                 hidden=(SEARCH_PASSWORD,))
    assert picked["count"] > 0
    assert all(sorted(f) == ["crypto", "id", "severity"] and f["crypto"]["kind"] == "certificate" for f in picked["findings"])
    slim = run(store, dict(AGILESEC, sensor="payments-git", include_raw=False), hidden=(SEARCH_PASSWORD,))
    assert all("raw" not in f and "crypto" in f for f in slim["findings"])
    kolega = run(FakeKolega(kolega_items(2)), dict(provider="kolega", repository=KOLEGA_REPO_1, fields=["severity", "crypto"]))
    assert [sorted(f) for f in kolega["findings"]] == [["id", "severity"], ["id", "severity"]]


def test_agilesec_ids_send_only_the_scope_so_missing_ids_are_really_missing(run):
    store = FakeSearch(agilesec_hits())
    result = run(store, dict(AGILESEC, ids=["doc00001", "doc09999"], kind=["certificate"]))
    assert result["findings"] == []
    assert store.bodies()[0]["query"] == {"bool": {"filter": [{"terms": {"_id": ["doc00001", "doc09999"]}}]}}
    assert "doc09999" in str(result["warnings"]) and "doc00001" not in str(result["warnings"])


def test_agilesec_limit_shrinks_the_page(run):
    store = FakeSearch(agilesec_hits())
    result = run(store, dict(AGILESEC, limit=2))
    assert result["count"] == 2 and store.bodies()[0]["size"] == 2


def test_agilesec_search_password_from_the_environment_never_shows(run, monkeypatch):
    monkeypatch.setenv("AGILESEC_SEARCH_USERNAME", SEARCH_USER)
    monkeypatch.setenv("AGILESEC_SEARCH_PASSWORD", SEARCH_PASSWORD)
    store = FakeSearch(answers=[httpx.Response(401, text="Unauthorized")])
    result = run(store, dict(provider="agilesec", search_index="x-*"))
    assert result["failed"] is True
    assert result["msg"] == ("List agilesec findings: the search store did not accept search_username and its password "
                             "(Unauthorized) (HTTP 401)")
    assert SEARCH_PASSWORD not in json.dumps(result)
    assert store.searches()[0].headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize("options,message", [
    (dict(search_url="https://reader:pa55-in-the-url@analytics.acme.example/searchdb"), "search_url: "),
    (dict(search_url="ftp://analytics.acme.example/searchdb"), "search_url: "),
    (dict(key_size_below=0), "key_size_below: "),
    (dict(key_size_below=10 ** 9), "key_size_below: "),
    (dict(expires_within_days=-1), "expires_within_days: "),
    (dict(expires_within_days=40000), "expires_within_days: "),
    (dict(search_index="../_all"), "search_index: "),
    (dict(search_index="a" * 20000), "search_index: is 20000 characters long"),
    (dict(search_username="reader\u202e"), "search_username: "),
])
def test_agilesec_search_options_are_checked_before_any_request(run, options, message):
    store = FakeSearch(agilesec_hits())
    result = run(store, dict(AGILESEC, sensor="payments-git", **options), hidden=(SEARCH_PASSWORD, "pa55-in-the-url"))
    assert result["failed"] is True and result["msg"].startswith(message), result["msg"]
    assert "pa55-in-the-url" not in json.dumps(result)
    assert store.requests == []


def test_agilesec_without_search_credentials_fails_before_any_request(run):
    store = FakeSearch(agilesec_hits())
    result = run(store, dict(provider="agilesec"))
    assert result["failed"] is True and result["msg"].startswith("search_username and search_password are required")
    assert store.requests == []
