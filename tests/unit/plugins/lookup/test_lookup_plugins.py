# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan and findings lookups against an in-memory HarborGuard and CloudGeni: terms, options, answers, errors.

Option values are what Ansible's config manager hands a lookup: the documented defaults under the
keywords given (set_options is replaced, since the lookups are not loaded through the plugin loader here).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import httpx
import pytest
import yaml

from ansible.errors import AnsibleLookupError

from ansible_collections.scanops.security.plugins.doc_fragments import findings as findings_fragment
from ansible_collections.scanops.security.plugins.doc_fragments import gate as gate_fragment
from ansible_collections.scanops.security.plugins.doc_fragments import scans as scans_fragment
from ansible_collections.scanops.security.plugins.doc_fragments.scanops import ModuleDocFragment
from ansible_collections.scanops.security.plugins.lookup import findings as findings_lookup
from ansible_collections.scanops.security.plugins.lookup import scan as scan_lookup
from ansible_collections.scanops.security.plugins.module_utils import common
from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import search_query
from ansible_collections.scanops.security.plugins.plugin_utils import lookup as lookup_utils
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.fake_search import (
    SEARCH_PASSWORD,
    SEARCH_USER,
    FakeSearch,
    crypto_doc,
)

KEY = "hg_ak_1111111111111111111111111111111111111111deadbeef"
IMAGE = {"name": "ghcr.io/acme/api", "tag": "1.0", "digest": "sha256:" + "a" * 64}
VULNS = [{"id": "v1", "cveId": "CVE-2024-0001", "severity": "CRITICAL", "package": "openssl", "triage": {"status": "OPEN"}},
         {"id": "v2", "cveId": "CVE-2024-0002", "severity": "CRITICAL", "package": "zlib", "triage": {"status": "FIXED"}},
         {"id": "v3", "cveId": "CVE-2024-0003", "severity": "LOW", "package": "zlib", "triage": {"status": "OPEN"}}]
SCANS = [{"id": "scn-new", "tagId": "tag-a", "status": "IN_PROGRESS", "scannedAt": "2024-05-02T10:00:00Z"},
         {"id": "scn-old", "tagId": "tag-a", "status": "COMPLETE", "scannedAt": "2024-05-01T10:00:00Z", "duration": 1000}]


def harborguard(requests):
    def handler(request):
        requests.append((request.method, request.url.path, dict(request.url.params)))
        path = request.url.path
        if path == "/api/scans":
            return httpx.Response(200, json={"data": SCANS, "meta": {"hasNext": False}})
        if path == "/api/vulnerabilities":
            return httpx.Response(200, json={"data": VULNS, "meta": {"hasNext": False}})
        scan = next(s for s in SCANS if path.endswith(s["id"]))
        body = dict(scan, image=IMAGE)
        if scan["status"] == "COMPLETE":
            body["vulnerabilities"] = VULNS
        return httpx.Response(200, json={"data": body})
    return handler


def documented(*texts):
    options = {}
    for text in texts:
        options.update(yaml.safe_load(text)["options"])
    return dict((name, spec.get("default")) for name, spec in options.items() if not name.startswith("_"))


class Vendor(object):
    def __init__(self, monkeypatch, handler_factory):
        self.requests = []
        handler = handler_factory(self.requests)
        real = common.adapter_from_params

        def build(params, **options):
            return real(params, transport=httpx.MockTransport(handler), sleep=lambda seconds: None, **options)

        monkeypatch.setattr(lookup_utils, "adapter_from_params", build)


def lookup(module, fragments, terms, **keywords):
    plugin = module.LookupModule()
    values = documented(*(fragments + (module.DOCUMENTATION,)))

    def set_options(var_options=None, direct=None):
        values.update(direct or {})

    plugin.set_options = set_options
    plugin.get_option = lambda name: values[name]
    return plugin.run(terms, {}, **keywords)


SCAN_FRAGMENTS = (ModuleDocFragment.DOCUMENTATION, scans_fragment.ModuleDocFragment.DOCUMENTATION,
                  gate_fragment.ModuleDocFragment.DOCUMENTATION)
FINDINGS_FRAGMENTS = (ModuleDocFragment.DOCUMENTATION, findings_fragment.ModuleDocFragment.DOCUMENTATION)
CONNECTION = dict(provider="harborguard", api_url="https://hg.example.test", api_key=KEY, rate_limit=0)


def connection(**changes):
    """The connection options of the tests, some changed."""
    options = dict(CONNECTION)
    options.update(changes)
    return options


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("SCANOPS_PROVIDER", "SCANOPS_API_KEY", "SCANOPS_API_URL", "HARBORGUARD_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_scan_lookup_answers_the_newest_finished_scan_and_the_running_one(monkeypatch):
    vendor = Vendor(monkeypatch, harborguard)
    [answer] = lookup(scan_lookup, SCAN_FRAGMENTS, ["ghcr.io/acme/api:1.0"], **CONNECTION)
    assert answer["scan"]["id"] == "scn-old" and answer["in_progress"]["id"] == "scn-new"
    # Every finding of the scan, the one HarborGuard marks FIXED too.
    assert answer["scan"]["counts"]["critical"] == 2
    assert answer["gate"] is None
    assert "raw" not in answer["scan"] and "raw" not in answer["in_progress"]
    assert all(method == "GET" for method, _path, _params in vendor.requests)


def test_scan_lookup_judges_with_a_policy(monkeypatch):
    Vendor(monkeypatch, harborguard)
    [answer] = lookup(scan_lookup, SCAN_FRAGMENTS, [{"image": "ghcr.io/acme/api:1.0"}], fail_on="critical",
                      include_raw=True, **CONNECTION)
    assert answer["gate"]["passed"] is False
    # The gate leaves the FIXED critical out.
    assert answer["gate"]["counts"]["critical"] == 1
    assert answer["gate"]["reasons"] == ["findings at or above critical: 1 critical"]
    assert answer["scan"]["raw"]["id"] == "scn-old"
    [answer] = lookup(scan_lookup, SCAN_FRAGMENTS, ["ghcr.io/acme/api:1.0"], fail_on="critical",
                      ignore=[{"id": "CVE-2024-0001", "reason": "not reachable"}], **CONNECTION)
    assert answer["gate"]["passed"] is True


def test_scan_lookup_without_terms_takes_the_target_options(monkeypatch):
    Vendor(monkeypatch, harborguard)
    answers = lookup(scan_lookup, SCAN_FRAGMENTS, [], image="ghcr.io/acme/api:1.0", **CONNECTION)
    assert [a["scan"]["id"] for a in answers] == ["scn-old"]


@pytest.mark.parametrize("terms, keywords, message", [
    (["x:1"], {"colour": "red"}, "scanops.security.scan: unsupported option colour"),
    ([{"image": "x:1", "force": True}], {}, "a target given as a dictionary takes repository, branch, commit"),
    ([42], {}, "each term is a target, a string or a dictionary"),
    (["x:1"], {"fail_on": "fatal"}, "value of fail_on must be one of"),
    (["x:1"], {"provider": None}, "missing required arguments: provider"),
    (["x:1"], {"ignore": [{"id": "CVE-1"}]}, "missing required arguments: reason found in ignore"),
])
def test_scan_lookup_refuses_bad_input_before_any_request(monkeypatch, terms, keywords, message):
    vendor = Vendor(monkeypatch, harborguard)
    options = connection(**keywords)
    with pytest.raises(AnsibleLookupError) as caught:
        lookup(scan_lookup, SCAN_FRAGMENTS, terms, **options)
    assert message in str(caught.value)
    assert KEY not in str(caught.value)
    assert vendor.requests == []


def test_scan_lookup_errors_name_the_step_and_the_vendor_answer(monkeypatch):
    def failing(requests):
        def handler(request):
            requests.append(request.url.path)
            return httpx.Response(403, json={"error": {"code": "FORBIDDEN", "message": "Role viewer may not list scans"}})
        return handler

    Vendor(monkeypatch, failing)
    with pytest.raises(AnsibleLookupError) as caught:
        lookup(scan_lookup, SCAN_FRAGMENTS, ["ghcr.io/acme/api:1.0"], **CONNECTION)
    assert str(caught.value) == ("scanops.security.scan: List scans of image ghcr.io/acme/api:1.0: Role viewer may not list "
                                 "scans (HTTP 403 FORBIDDEN)")


def test_findings_lookup_selects_and_flattens(monkeypatch):
    vendor = Vendor(monkeypatch, harborguard)
    found = lookup(findings_lookup, FINDINGS_FRAGMENTS, ["ghcr.io/acme/api:1.0", "ghcr.io/acme/web:2.0"],
                   severity=["critical"], status=["open"], **CONNECTION)
    # Two terms, one list; the vendor filters by image, the status filter is applied here too.
    assert [f["id"] for f in found] == ["v1", "v1"]
    assert "raw" not in found[0]
    images = [params.get("image") for _method, path, params in vendor.requests if path == "/api/vulnerabilities"]
    assert images == ["ghcr.io/acme/api:1.0", "ghcr.io/acme/web:2.0"]


def test_findings_lookup_limit_and_bad_options(monkeypatch):
    Vendor(monkeypatch, harborguard)
    assert len(lookup(findings_lookup, FINDINGS_FRAGMENTS, ["ghcr.io/acme/api:1.0"], limit=2, **CONNECTION)) == 2
    with pytest.raises(AnsibleLookupError) as caught:
        lookup(findings_lookup, FINDINGS_FRAGMENTS, [{"integration_id": "x"}], **CONNECTION)
    assert "integration_id: only Penaxtra findings belong to an integration" in str(caught.value)


AGILESEC = dict(provider="agilesec", api_url="https://platform.acme.example", api_key=KEY, rate_limit=0)


def test_findings_lookup_reads_agilesec_findings_from_the_search_api(monkeypatch):
    docs = [crypto_doc(1), crypto_doc(2, details={"algorithm": "RSA", "size": 4096}),
            crypto_doc(3, sensor_name="other-git", sensor_id="sen_2"),
            crypto_doc(4, subtype="x509", rule="sha1-signature", details={"signature_algorithm": "sha1WithRSAEncryption"})]
    store = FakeSearch(docs)
    Vendor(monkeypatch, lambda requests: store)
    # The fake store filters nothing: what comes back is what the lookup itself selected.
    found = lookup(findings_lookup, FINDINGS_FRAGMENTS, ["payments-git"], kind=["key"], key_size_below=2048,
                   search_username=SEARCH_USER, search_password=SEARCH_PASSWORD, **AGILESEC)
    assert [finding["id"] for finding in found] == ["doc00001"]
    assert found[0]["crypto"]["key_size"] == 1024 and "raw" not in found[0]
    # One page, the scope and filters in the query, as finding_info sends them.
    [body] = store.bodies()
    assert body["query"] == search_query(sensor="payments-git", kinds=["key"], key_size_below=2048)
    assert all("/searchdb/" in request.url.path for request in store.requests)
    by_execution = lookup(findings_lookup, FINDINGS_FRAGMENTS, [{"scan_id": "exe_1"}], severity=["high"],
                          search_username=SEARCH_USER, search_password=SEARCH_PASSWORD, **AGILESEC)
    assert [finding["id"] for finding in by_execution] == ["doc00001", "doc00002", "doc00003", "doc00004"]


def test_findings_lookup_of_agilesec_without_a_search_user_names_the_options(monkeypatch):
    store = FakeSearch([crypto_doc(1)])
    Vendor(monkeypatch, lambda requests: store)
    monkeypatch.delenv("AGILESEC_SEARCH_USERNAME", raising=False)
    monkeypatch.delenv("AGILESEC_SEARCH_PASSWORD", raising=False)
    with pytest.raises(AnsibleLookupError) as caught:
        lookup(findings_lookup, FINDINGS_FRAGMENTS, ["payments-git"], **AGILESEC)
    assert "scanops.security.findings: search_username and search_password are required to read AgileSec findings" in str(caught.value)
    assert store.requests == []


def cloudgeni(requests):
    scans = [{"id": "scan_run", "status": "running", "createdAt": "2024-05-03T00:00:00Z"},
             {"id": "scan_failed", "status": "failed", "createdAt": "2024-05-02T00:00:00Z"},
             {"id": "scan_done", "status": "completed", "createdAt": "2024-05-01T00:00:00Z"}]

    def handler(request):
        requests.append(request.url.path)
        path = request.url.path
        if path.endswith("/repositories"):
            return httpx.Response(200, json={"data": [{"id": "repo_1", "name": "infra", "fullName": "acme/infra"}],
                                             "pagination": {"total": 1}})
        if path.endswith("/repo_1"):
            return httpx.Response(200, json={"id": "repo_1"})
        if path.endswith("/scans"):
            return httpx.Response(200, json={"data": scans, "pagination": {"total": 3}})
        return httpx.Response(200, json={"data": [{"id": "f1", "severity": "high", "status": "open"}],
                                         "pagination": {"total": 1}})
    return handler


def test_findings_lookup_reads_a_cloudgeni_repositorys_newest_completed_scan(monkeypatch):
    vendor = Vendor(monkeypatch, cloudgeni)
    found = lookup(findings_lookup, FINDINGS_FRAGMENTS, ["acme/infra"],
                   **connection(provider="cloudgeni", organization="org_1"))
    assert [f["id"] for f in found] == ["f1"]
    assert vendor.requests[-1] == "/organizations/org_1/repositories/repo_1/scans/scan_done/findings"


@pytest.mark.parametrize("module, fragments, terms, keywords, option", [
    (scan_lookup, SCAN_FRAGMENTS, ["x:1"], {"api_url": "https://svc:pw-lookup-4e2a@hg.example.test"}, "api_url"),
    (scan_lookup, SCAN_FRAGMENTS, ["x:1"], {"api_url": "https://hg.example.test/api?x=1"}, "api_url"),
    (scan_lookup, SCAN_FRAGMENTS, ["x:1"], {"timeout": float("nan")}, "timeout"),
    (scan_lookup, SCAN_FRAGMENTS, ["x:1"], {"rate_limit": float("inf")}, "rate_limit"),
    (scan_lookup, SCAN_FRAGMENTS, ["x:1"], {"proxy": "http://u:pw-lookup-4e2a@proxy.example.test:3128"}, "proxy"),
    (scan_lookup, SCAN_FRAGMENTS, ["ghcr.io/acme/api\u202e:1"], {}, "image"),
    (scan_lookup, SCAN_FRAGMENTS, ["nginx:-x"], {}, "image"),
    (findings_lookup, FINDINGS_FRAGMENTS, [".."], {"provider": "cloudgeni", "organization": "org_1"}, "repository"),
    (findings_lookup, FINDINGS_FRAGMENTS, ["x:1"], {"limit": -1}, "limit"),
])
def test_lookups_refuse_hostile_values_before_any_request(monkeypatch, module, fragments, terms, keywords, option):
    """Issue 11: lookups read their options through validate_params, with the modules' rules and messages."""
    vendor = Vendor(monkeypatch, harborguard)
    with pytest.raises(AnsibleLookupError) as caught:
        lookup(module, fragments, terms, **connection(**keywords))
    message = str(caught.value)
    assert "%s: %s: " % (module.LookupModule.NAME, option) in message, message
    assert KEY not in message and "pw-lookup-4e2a" not in message
    assert vendor.requests == []
