# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""findings.py: selection, per-provider listing and server-side filters, planning, bulk writes, diffs."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import threading

import httpx
import pytest

from ansible.module_utils.six.moves.urllib.parse import unquote

from ansible_collections.scanops.security.plugins.module_utils import findings as F
from ansible_collections.scanops.security.plugins.module_utils import vocabulary
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class


# -- in-memory vendors ------------------------------------------------------------------------
class FakeVendor(object):
    """A tiny stateful vendor: serves finding lists page by page and applies status writes.

    ``fail`` maps a finding id to the HTTP status every write of it answers; ``writes`` records
    ``(method, id, body)``; ``in_flight_max`` is the most writes seen at the same time.
    """

    def __init__(self, items):
        self.items = items
        self.fail = {}
        self.writes = []
        self.gets = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self.in_flight_max = 0

    def __call__(self, request):
        if request.method == "GET":
            with self._lock:
                self.gets.append(request.url)
            return self.get(request, dict(request.url.params))
        with self._lock:
            self._in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self._in_flight)
        try:
            finding_id = self.write_id(unquote(request.url.path))
            body = json.loads(request.content)
            with self._lock:
                self.writes.append((request.method, finding_id, body))
            if finding_id in self.fail:
                return self.error(self.fail[finding_id])
            item = self.by_id(finding_id)
            if item is None:
                return self.error(404)
            self.apply(item, body)
            return httpx.Response(200, json=item)
        finally:
            with self._lock:
                self._in_flight -= 1

    def by_id(self, finding_id):
        for item in self.items:
            if item["id"] == finding_id:
                return item
        return None

    def write_id(self, path):
        return path.rstrip("/").split("/")[-1]

    def apply(self, item, body):
        item["status"] = body["status"]

    def error(self, status):
        return httpx.Response(status, json={"detail": {"detail": "boom %d" % status, "error_code": "E%d" % status}})


# Kolega repository ids are UUIDs (the findings modules use a value of that shape as the id).
KOLEGA_REPO_1 = "5a1f0c3e-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
KOLEGA_REPO_2 = "7c2e1d4f-3a5b-4c6d-9e8f-1a2b3c4d5e6f"


class FakeKolega(FakeVendor):
    REPOS = [{"id": KOLEGA_REPO_1, "name": "payments", "repositories": [{"full_name": "acme/payments"}]},
             {"id": KOLEGA_REPO_2, "name": "web", "repositories": [{"full_name": "acme/web"}]}]

    def get(self, request, params):
        path = request.url.path
        if path == "/api/v1/repositories":
            return self.page(self.REPOS, params)
        repo = path.split("/")[4]
        if repo not in [known["id"] for known in self.REPOS]:
            return self.error(404)
        items = [i for i in self.items if i.get("repository_id", KOLEGA_REPO_1) == repo]
        for key in ("severity", "status", "scan_batch_id"):
            if params.get(key):
                items = [i for i in items if i.get(key) == params[key]]
        return self.page(items, params)

    @staticmethod
    def page(items, params):
        skip, limit = int(params.get("skip", 0)), int(params.get("limit", 50))
        chunk = items[skip:skip + limit]
        return httpx.Response(200, json={"items": chunk, "total": len(items), "limit": limit, "skip": skip,
                                         "has_next": skip + limit < len(items)})


def kolega_items(count, **extra):
    severities = ("critical", "high", "medium", "low", "info")
    items = []
    for n in range(count):
        item = {"id": "fnd_%04d" % n, "repository_id": KOLEGA_REPO_1, "check_id": "rule-%d" % (n % 3),
                "severity": severities[n % 5], "status": "open", "file_path": ("test/" if n % 2 else "src/") + "f%d.py" % n,
                "line": n, "message": "m", "title": "t", "scan_batch_id": "batch_%d" % (n % 2),
                "first_detected_at": "2024-01-01T00:00:00Z"}
        item.update(extra)
        items.append(item)
    return items


class FakeHarborGuard(FakeVendor):
    def get(self, request, params):
        if request.url.path.startswith("/api/scans/"):
            # A scan carries its own vulnerabilities.
            scan_id = request.url.path.split("/")[-1]
            vulnerabilities = [i for i in self.items if i.get("scanId") == scan_id]
            if not vulnerabilities:
                return self.error(404)
            return httpx.Response(200, json={"data": {"id": scan_id, "status": "COMPLETE", "image": {"name": "app", "tag": "1"},
                                                      "vulnerabilities": vulnerabilities}})
        items = list(self.items)
        for key, field in (("severity", "severity"), ("package", "package"), ("cveId", "cveId"), ("image", "image")):
            if params.get(key):
                items = [i for i in items if i.get(field) == params[key]]
        if params.get("status"):
            items = [i for i in items if (i.get("triage") or {}).get("status", "OPEN") == params["status"]]
        page, limit = int(params.get("page", 1)), int(params.get("limit", 50))
        chunk = items[(page - 1) * limit:page * limit]
        return httpx.Response(200, json={"data": chunk, "meta": {"hasNext": page * limit < len(items)}})

    def write_id(self, path):
        return path.rstrip("/").split("/")[-2]

    def apply(self, item, body):
        triage = item.setdefault("triage", {})
        triage.update(body)

    def error(self, status):
        return httpx.Response(status, json={"error": {"code": "E%d" % status, "message": "boom %d" % status, "issues": []}})


def harbor_items(count):
    return [{"id": "v%d" % n, "scanId": "scan_%d" % (n % 2), "cveId": "CVE-2024-%04d" % n, "severity": "HIGH" if n % 2 else "LOW",
             "package": "openssl" if n % 3 == 0 else "zlib", "version": "1", "image": "app:1"} for n in range(count)]


class FakeCloudGeni(FakeVendor):
    def get(self, request, params):
        path = request.url.path
        if path.endswith("/repositories"):
            repos = [{"id": "repo_abc", "name": "infra", "fullName": "acme/infra"}]
            return httpx.Response(200, json={"data": repos, "pagination": {"total": 1}})
        if "/repositories/repo_abc/" not in path:
            return httpx.Response(404, json={"error": "not_found", "message": "Repository not found"})
        items = self.items
        if params.get("status"):
            items = [i for i in items if i["status"] == params["status"]]
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 20))
        return httpx.Response(200, json={"data": items[offset:offset + limit], "pagination": {"total": len(items)}})

    def error(self, status):
        return httpx.Response(status, json={"error": "err", "message": "boom %d" % status})


class FakePenaxtra(FakeVendor):
    def get(self, request, params):
        path = request.url.path
        if path != "/api/v2/findings":
            item = self.by_id(path.split("/")[-1])
            if item is None:
                return httpx.Response(404, json={"error": "finding_not_found"})
            return httpx.Response(200, json=item)
        items = [i for i in self.items if not params.get("severity") or i["severity"] == params["severity"]]
        return httpx.Response(200, json={"data": items[:200]})

    def error(self, status):
        return httpx.Response(status, json={"error": "boom"})


def params(**kwargs):
    base = dict(repository=None, scan_id=None, image=None, severity=None, status=None, current_status=None, rule_id=None,
                cve=None, package=None, path=None, ids=None)
    base.update(kwargs)
    return base


# -- selection ----------------------------------------------------------------------------------
def test_selection_filters_are_normalized_and_combined(make_adapter):
    adapter, _rec = make_adapter("kolega", [])
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1))
    finding = adapter.normalize_finding(kolega_items(2)[1])  # high, test/f1.py, rule-1
    assert F.Selection(severity=["high"], rule_id=["RULE-1"], path="test/*").matches(source, finding)
    assert F.Selection(path="./test/*.py").matches(source, finding)
    assert not F.Selection(path="src/*").matches(source, finding)
    assert not F.Selection(severity=["low", "info"]).matches(source, finding)
    assert not F.Selection(ids=["fnd_0000"]).matches(source, finding)
    assert F.Selection(ids=["fnd_0001"], status=["open"]).matches(source, finding)
    assert not F.Selection(status=["ignored"]).matches(source, finding)


def test_kolega_cve_comes_from_the_check_id(make_adapter):
    adapter, _rec = make_adapter("kolega", [])
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1))
    raw = kolega_items(1, check_id="CVE-2021-44228", title="log4j-core 2.14.1 is affected by CVE-2021-44228")[0]
    finding = adapter.normalize_finding(raw)
    assert source.cves(finding) == ["CVE-2021-44228", "CVE-2021-44228"]
    assert F.Selection(cve=["cve-2021-44228"]).matches(source, finding)
    assert not F.Selection(cve=["CVE-2021-0001"]).matches(source, finding)


def test_unknown_status_filter_names_the_option_and_the_vendor_words(make_adapter):
    adapter, _rec = make_adapter("cloudgeni", [])
    with pytest.raises(ScanopsError) as info:
        F.build_selection(adapter, params(current_status=["false_positive"]), "current_status")
    assert info.value.message.startswith("current_status: finding status 'false_positive' is not supported by cloudgeni")
    assert "ignored (suppressed)" in info.value.message
    selection = F.build_selection(adapter, params(status=["suppressed", "OPEN"]), "status")
    assert selection.status == {"ignored", "open"}


@pytest.mark.parametrize("provider,opts,expected", [
    ("harborguard", dict(path="src/*"), "path: harborguard findings carry no file paths"),
    ("cloudgeni", dict(repository="r", scan_id="s", cve=["CVE-1"]), "cve: cloudgeni findings carry no CVE ids"),
    ("penaxtra", dict(package=["x"]), "package: penaxtra findings carry no packages"),
    ("penaxtra", dict(rule_id=["x"]), "rule_id: penaxtra findings carry no rule or control id"),
    ("kolega", dict(repository="r", package=["x"]), "package: kolega findings carry no package field"),
    ("kolega", dict(), "repository is required for kolega findings"),
    ("cloudgeni", dict(repository="r"), "scan_id is required for cloudgeni findings"),
    ("harborguard", dict(repository="r"), "repository: not used by harborguard findings"),
    ("kolega", dict(repository="r", image="app:1"), "image: not used by kolega findings"),
])
def test_options_a_provider_cannot_use_are_errors_before_any_request(make_adapter, provider, opts, expected):
    adapter, rec = make_adapter(provider, [])
    source = F.source_for(adapter, params(**opts))
    with pytest.raises(ScanopsError) as info:
        source.validate(F._selection_options(params(**opts), "status"), "status")  # pylint: disable=protected-access
    assert info.value.message.startswith(expected)
    assert rec.requests == []


@pytest.mark.parametrize("opts, expected", [
    (dict(), "search_username and search_password are required to read AgileSec findings"),
    (dict(search_username="u", repository="r"), "repository: not used by agilesec findings (agilesec scope options: sensor, scan_id)"),
    (dict(search_username="u", status=["open"]), "status: agilesec findings carry no triage status (the search store keeps findings"),
    (dict(search_username="u", cve=["CVE-2024-1"]), "cve: agilesec findings carry no CVE ids (they are cryptographic objects"),
    (dict(search_username="u", kind=["certificates"]), "kind: unknown finding kind certificates; use algorithm, certificate, db"),
    (dict(search_username="u", key_size_below=0), "key_size_below: expected a key size in bits of 1 or more, got 0"),
    (dict(search_username="u", expires_within_days=-1), "expires_within_days: expected 0 to 36500 days, got -1"),
    (dict(search_username="u", labels={"team": ["a"]}), "labels.team: expected a text value, got ['a']"),
    (dict(search_username="u", labels={"te am": "a"}), "labels: label name 'te am' must be letters, digits"),
    (dict(search_username="u", algorithm=[" "]), "algorithm: an algorithm name must not be empty"),
])
def test_agilesec_options_are_checked_before_any_request(make_adapter, opts, expected):
    user = opts.pop("search_username", None)
    adapter, rec = make_adapter("agilesec", [], search_username=user, search_password="pw" if user else None)
    options = params(**opts)
    with pytest.raises(ScanopsError) as info:
        F.source_for(adapter, options).validate(F._selection_options(options, "status"), "status")  # pylint: disable=protected-access
    assert info.value.message.startswith(expected)
    assert rec.requests == []


@pytest.mark.parametrize("option, value", [("kind", ["key"]), ("algorithm", ["MD5"]), ("key_size_below", 2048),
                                           ("expires_within_days", 30), ("labels", {"team": "a"})])
def test_crypto_filters_are_agilesec_only(make_adapter, option, value):
    adapter, rec = make_adapter("kolega", [])
    options = params(repository="r", **{option: value})
    with pytest.raises(ScanopsError) as info:
        F.source_for(adapter, options).validate(F._selection_options(options, "status"), "status")  # pylint: disable=protected-access
    assert info.value.message.startswith("%s: only AgileSec findings are cryptographic objects; kolega findings cannot be filtered"
                                         % option)
    assert rec.requests == []


# -- listing ------------------------------------------------------------------------------------
def test_kolega_walks_every_page_at_the_largest_size_and_pushes_single_filters(make_adapter):
    vendor = FakeKolega(kolega_items(450))
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1, scan_id="batch_1"))
    found, missing = F.select_findings(source, F.Selection(severity=["high"], status=["open"]))
    assert missing == []
    assert len(found) == len([i for i in kolega_items(450) if i["severity"] == "high" and i["scan_batch_id"] == "batch_1"])
    assert [u.params["limit"] for u in vendor.gets] == ["200"]
    assert vendor.gets[0].params["severity"] == "high"
    assert vendor.gets[0].params["status"] == "open"
    assert vendor.gets[0].params["scan_batch_id"] == "batch_1"
    assert set(f["raw"]["severity"] for f in found) == {"high"}


def test_several_values_are_filtered_client_side(make_adapter):
    vendor = FakeKolega(kolega_items(450))
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1))
    found, _missing = F.select_findings(source, F.Selection(severity=["high", "critical"], path="test/*"))
    assert [u.params["skip"] for u in vendor.gets] == ["0", "200", "400"]
    assert "severity" not in vendor.gets[0].params
    expected = [i["id"] for i in kolega_items(450) if i["severity"] in ("high", "critical") and i["file_path"].startswith("test/")]
    assert [f["id"] for f in found] == expected


def test_ids_send_only_the_scope_and_report_missing_ids(make_adapter):
    vendor = FakeKolega(kolega_items(10))
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1))
    found, missing = F.select_findings(source, F.Selection(ids=["fnd_0003", "nope"], severity=["critical"]))
    assert "severity" not in vendor.gets[0].params
    assert found == []  # fnd_0003 is low: filtered out, yet it exists
    assert missing == ["nope"]


def test_limit_stops_paging(make_adapter):
    vendor = FakeKolega(kolega_items(450))
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1))
    found, _missing = F.select_findings(source, F.Selection(), limit=5)
    assert len(found) == 5 and len(vendor.gets) == 1


def test_kolega_repository_name_is_looked_up_in_the_list_first(make_adapter):
    vendor = FakeKolega(kolega_items(3, repository_id=KOLEGA_REPO_2))
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository="web"))
    found, _missing = F.select_findings(source, F.Selection())
    assert len(found) == 3
    # No probe of /repositories/web/findings: Kolega documents only 200 and 422 there.
    assert [u.path for u in vendor.gets] == ["/api/v1/repositories", "/api/v1/repositories/%s/findings" % KOLEGA_REPO_2]
    assert source.repository_id == KOLEGA_REPO_2


def test_kolega_id_shaped_value_is_used_as_is_and_its_404_is_the_vendors_answer(make_adapter):
    vendor = FakeKolega(kolega_items(3))
    adapter, _rec = make_adapter("kolega", vendor)
    unknown = "00000000-0000-4000-8000-000000000000"
    source = F.source_for(adapter, params(repository=unknown))
    with pytest.raises(ScanopsApiError) as info:
        F.select_findings(source, F.Selection())
    assert info.value.status == 404
    assert [u.path for u in vendor.gets] == ["/api/v1/repositories/%s/findings" % unknown]


def test_kolega_id_of_another_shape_is_found_in_the_list(make_adapter):
    vendor = FakeKolega(kolega_items(2))
    vendor.REPOS = [dict(FakeKolega.REPOS[0], id="legacy-id-1")]
    vendor.items = [dict(item, repository_id="legacy-id-1") for item in vendor.items]
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository="legacy-id-1"))
    assert len(F.select_findings(source, F.Selection())[0]) == 2
    assert [u.path for u in vendor.gets] == ["/api/v1/repositories", "/api/v1/repositories/legacy-id-1/findings"]


def test_full_name_is_resolved_first_and_unknown_names_fail(make_adapter):
    vendor = FakeKolega(kolega_items(3))
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository="acme/payments"))
    F.select_findings(source, F.Selection())
    assert [u.path for u in vendor.gets] == ["/api/v1/repositories", "/api/v1/repositories/%s/findings" % KOLEGA_REPO_1]
    missing = F.source_for(adapter, params(repository="acme/nothing"))
    with pytest.raises(ScanopsError) as info:
        F.select_findings(missing, F.Selection())
    assert "matches no kolega repository" in info.value.message


def test_cloudgeni_unknown_scan_keeps_the_vendor_404(make_adapter):
    vendor = FakeCloudGeni([])
    adapter, _rec = make_adapter("cloudgeni", vendor)
    source = F.source_for(adapter, params(repository="infra", scan_id="scan_1"))
    found, _missing = F.select_findings(source, F.Selection())
    assert found == [] and source.repository_id == "repo_abc"


def test_harborguard_single_filters_go_to_the_server_and_a_scan_is_read_with_its_findings(make_adapter):
    vendor = FakeHarborGuard(harbor_items(10))
    adapter, _rec = make_adapter("harborguard", vendor)
    source = F.source_for(adapter, params(image="app:1"))
    found, _missing = F.select_findings(source, F.Selection(severity=["high"], package=["zlib"]))
    query = vendor.gets[0].params
    assert (query["severity"], query["package"], query["image"], query["limit"]) == ("HIGH", "zlib", "app:1", "200")
    assert sorted(f["id"] for f in found) == sorted("v%d" % n for n in range(10) if n % 2 and n % 3)
    source = F.source_for(adapter, params(scan_id="scan_1", image="app:1"))
    found, _missing = F.select_findings(source, F.Selection(severity=["high"], package=["zlib"]))
    assert vendor.gets[-1].path == "/api/scans/scan_1"
    assert sorted(f["id"] for f in found) == sorted("v%d" % n for n in range(10) if n % 2 and n % 3)


def test_penaxtra_full_list_warns_and_ids_beyond_it_are_read_one_by_one(make_adapter):
    items = [{"id": "p%d" % n, "scan_id": "s1", "severity": "high", "status": "open", "title": "t"} for n in range(250)]
    vendor = FakePenaxtra(items)
    adapter, _rec = make_adapter("penaxtra", vendor)
    source = F.source_for(adapter, params())
    found, _missing = F.select_findings(source, F.Selection())
    assert len(found) == 200 and "200 newest" in source.warnings[0]
    source = F.source_for(adapter, params())
    found, missing = F.select_findings(source, F.Selection(ids=["p3", "p240", "gone"]))
    assert sorted(f["id"] for f in found) == ["p240", "p3"]
    assert missing == ["gone"]


# -- planning, writing, diff ----------------------------------------------------------------------
def test_plan_compares_status_and_only_the_triage_fields_set(make_adapter):
    adapter, _rec = make_adapter("harborguard", [])
    source = F.source_for(adapter, params())
    raws = harbor_items(3)
    raws[1]["triage"] = {"status": "WONT_FIX", "note": "ok"}
    raws[2]["triage"] = {"status": "WONT_FIX", "note": "old"}
    findings = [adapter.normalize_finding(r) for r in raws]
    to_change, unchanged = F.plan_changes(source, findings, "WONT_FIX")
    assert [c[0]["id"] for c in to_change] == ["v0"] and len(unchanged) == 2
    to_change, unchanged = F.plan_changes(source, findings, "WONT_FIX", note="ok")
    assert [(c[0]["id"], c[1], c[2]) for c in to_change] == [
        ("v0", {"status": "open", "note": None}, {"status": "ignored", "note": "ok"}),
        ("v2", {"status": "ignored", "note": "old"}, {"status": "ignored", "note": "ok"})]


def test_writes_are_bounded_and_partial_failures_are_exact(make_adapter):
    vendor = FakeKolega(kolega_items(60))
    vendor.fail = {"fnd_0007": 503, "fnd_0031": 500}
    adapter, _rec = make_adapter("kolega", vendor, retries=2)
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1))
    found, _missing = F.select_findings(source, F.Selection())
    to_change, _unchanged = F.plan_changes(source, found, "ignored")
    done, failed = F.write_changes(source, to_change, "ignored", concurrency=4)
    assert vendor.in_flight_max <= 4
    assert sorted(c[0]["id"] for c, _e in failed) == ["fnd_0007", "fnd_0031"]
    assert len(done) == 58
    assert [i["id"] for i in vendor.items if i["status"] == "open"] == ["fnd_0007", "fnd_0031"]
    # 503 is retried (2 retries -> 3 attempts), 500 on a PATCH is not
    assert sum(1 for w in vendor.writes if w[1] == "fnd_0007") == 3
    assert sum(1 for w in vendor.writes if w[1] == "fnd_0031") == 1
    assert "(HTTP 503 E503)" in F._failure_message(failed[0][1], "fnd_0007")  # pylint: disable=protected-access
    # the re-run converges: only what failed is written
    vendor.fail = {}
    found, _missing = F.select_findings(source, F.Selection())
    to_change, unchanged = F.plan_changes(source, found, "ignored")
    assert [c[0]["id"] for c in to_change] == ["fnd_0007", "fnd_0031"] and len(unchanged) == 58


def test_an_auth_refusal_stops_the_remaining_writes(make_adapter):
    vendor = FakeKolega(kolega_items(20))
    vendor.fail = dict(("fnd_%04d" % n, 403) for n in range(20))
    adapter, _rec = make_adapter("kolega", vendor)
    source = F.source_for(adapter, params(repository=KOLEGA_REPO_1))
    found, _missing = F.select_findings(source, F.Selection())
    to_change, _unchanged = F.plan_changes(source, found, "resolved")
    done, failed = F.write_changes(source, to_change, "resolved", concurrency=1)
    assert done == [] and len(failed) == 20
    assert len(vendor.writes) == 1
    assert failed[5][1].message.startswith("not sent: an earlier write was refused with HTTP 403")


def test_diff_lists_each_finding_then_summarizes():
    changes = [({"id": "f%d" % n}, {"status": "open"}, {"status": "resolved"}) for n in range(3)]
    assert F.build_diff(changes) == {"before": {"f0": {"status": "open"}, "f1": {"status": "open"}, "f2": {"status": "open"}},
                                     "after": {"f0": {"status": "resolved"}, "f1": {"status": "resolved"}, "f2": {"status": "resolved"}}}
    many = [({"id": "f%d" % n}, {"status": "open" if n % 2 else "ignored"}, {"status": "resolved"}) for n in range(51)]
    assert F.build_diff(many) == {"before": {"findings": 51, "status": {"ignored": 26, "open": 25}},
                                  "after": {"findings": 51, "status": {"resolved": 51}}}


# -- push-down filters speak each vendor's words (issue 20, items 1 to 4) -------------------------
def empty_list_answer(request):
    """An empty first page in whichever list shape the request's vendor uses."""
    path = request.url.path
    if path.endswith("/repositories"):  # repository lookups are not part of these cases
        return httpx.Response(200, json={"items": [], "total": 0, "has_next": False, "data": [], "pagination": {"total": 0}})
    if path.startswith("/api/v1/"):
        return httpx.Response(200, json={"items": [], "total": 0, "limit": 200, "skip": 0, "has_next": False})
    if path.startswith("/api/vulnerabilities"):
        return httpx.Response(200, json={"data": [], "meta": {"hasNext": False}})
    if path.startswith("/api/v2/"):
        return httpx.Response(200, json={"data": []})
    return httpx.Response(200, json={"data": [], "pagination": {"total": 0}})


SCOPES = {"cloudgeni": dict(repository="repo_abc", scan_id="scan_1"), "kolega": dict(repository=KOLEGA_REPO_1),
          "harborguard": dict(), "penaxtra": dict()}

# The word each vendor's list filter takes for a normalized severity; None: the vendor has no single
# word for it (or none is documented), so the filter stays on our side. CloudGeni documents
# critical..info; HarborGuard answers 400 to anything but CRITICAL | HIGH | MEDIUM | LOW | NEGLIGIBLE;
# Kolega's severity filter is a free string whose words (critical..low) know no info level.
PUSHED_SEVERITY = {
    "cloudgeni": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
    "kolega": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": None},
    "harborguard": {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "NEGLIGIBLE"},
    "penaxtra": {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info"},
}
# The word each vendor's list filter takes for a normalized finding status (Penaxtra's list has no
# status filter: None everywhere).
PUSHED_STATUS = {
    "cloudgeni": {"open": "open", "resolved": "resolved", "ignored": "suppressed"},
    "kolega": {"open": "open", "resolved": "resolved", "ignored": "ignored", "false_positive": "false_positive",
               "needs_manual_review": "needs_manual_review"},
    "harborguard": {"open": "OPEN", "acknowledged": "ACKNOWLEDGED", "in_progress": "IN_PROGRESS", "resolved": "FIXED",
                    "ignored": "WONT_FIX"},
    "penaxtra": {"open": None, "acknowledged": None, "in_progress": None, "resolved": None, "ignored": None,
                 "false_positive": None},
}
PUSH_CASES = ([(provider, "severity", word, sent) for provider, table in sorted(PUSHED_SEVERITY.items())
               for word, sent in table.items()]
              + [(provider, "status", word, sent) for provider, table in sorted(PUSHED_STATUS.items())
                 for word, sent in table.items()])


@pytest.mark.parametrize("provider,name,word,sent", PUSH_CASES, ids=["%s-%s-%s" % case[:3] for case in PUSH_CASES])
def test_a_single_filter_value_goes_to_the_vendor_in_its_own_word(make_adapter, provider, name, word, sent):
    adapter, rec = make_adapter(provider, empty_list_answer)
    source = F.source_for(adapter, params(**SCOPES[provider]))
    selection = F.build_selection(adapter, params(**{name: [word]}), "status")
    F.select_findings(source, selection)
    listing = [r for r in rec.requests if not r.url.path.endswith("/repositories")]
    assert len(listing) == 1
    assert listing[0].url.params.get(name) == sent


def test_every_severity_and_status_is_in_the_push_down_tables():
    # A provider or a word added later must be added to the tables above.
    # AgileSec pushes its filters into an OpenSearch query body, not into URL parameters: its table of
    # queries is in test_agilesec_search.py.
    assert set(PUSHED_SEVERITY) == set(F.SOURCES) - set(["agilesec"])
    for provider in PUSHED_SEVERITY:
        assert set(PUSHED_SEVERITY[provider]) == set(vocabulary.SEVERITIES)
        assert set(PUSHED_STATUS[provider]) == set(get_adapter_class(provider).VOCABULARY.finding_statuses)


def test_harborguard_info_is_filtered_as_negligible_and_kolega_info_locally(make_adapter):
    vendor = FakeHarborGuard([dict(item, severity="NEGLIGIBLE" if n % 2 else "LOW") for n, item in enumerate(harbor_items(6))])
    adapter, _rec = make_adapter("harborguard", vendor)
    found, _missing = F.select_findings(F.source_for(adapter, params()), F.Selection(severity=["info"]))
    assert vendor.gets[0].params["severity"] == "NEGLIGIBLE"
    assert sorted(f["id"] for f in found) == ["v1", "v3", "v5"]
    kolega = FakeKolega(kolega_items(10, severity="none"))
    adapter, _rec = make_adapter("kolega", kolega)
    found, _missing = F.select_findings(F.source_for(adapter, params(repository=KOLEGA_REPO_1)), F.Selection(severity=["info"]))
    assert "severity" not in kolega.gets[0].params
    assert len(found) == 10  # "none" is info in the normalized vocabulary


def test_harborguard_package_is_sent_as_given_and_matched_with_case(make_adapter):
    items = harbor_items(4)
    items[0]["package"], items[1]["package"] = "PyYAML", "pyyaml"
    vendor = FakeHarborGuard(items)
    adapter, _rec = make_adapter("harborguard", vendor)
    source = F.source_for(adapter, params())
    found, _missing = F.select_findings(source, F.build_selection(adapter, params(package=["PyYAML"]), "status"))
    assert vendor.gets[0].params["package"] == "PyYAML"
    assert [f["id"] for f in found] == ["v0"]
    # Two packages are filtered on our side, with the vendor's exact match.
    found, _missing = F.select_findings(source, F.build_selection(adapter, params(package=["PyYAML", "zlib"]), "status"))
    assert "package" not in vendor.gets[-1].params
    assert sorted(f["id"] for f in found) == ["v0", "v2"]


def test_harborguard_scan_id_reads_that_scans_findings(make_adapter):
    # The vulnerabilities list serves the newest scan of each image only; an older scan's findings
    # come with the scan itself.
    older = [dict(item, scanId="scn-old") for item in harbor_items(3)]

    def answer(request):
        if request.url.path == "/api/scans/scn-old":
            return httpx.Response(200, json={"data": {"id": "scn-old", "status": "COMPLETE",
                                                      "image": {"name": "app", "tag": "1", "digest": "sha256:1"},
                                                      "vulnerabilities": older}})
        if request.url.path == "/api/scans/scn-gone":
            return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "Scan not found", "issues": []}})
        return httpx.Response(200, json={"data": [], "meta": {"hasNext": False}})

    adapter, rec = make_adapter("harborguard", answer)
    found, _missing = F.select_findings(F.source_for(adapter, params(scan_id="scn-old")), F.Selection(severity=["low"]))
    assert [r.url.path for r in rec.requests] == ["/api/scans/scn-old"]
    assert sorted(f["id"] for f in found) == ["v0", "v2"]
    with pytest.raises(ScanopsError) as info:
        F.select_findings(F.source_for(adapter, params(scan_id="scn-old", image="other:2")), F.Selection())
    assert "scan_id: scan scn-old is of image app:1, not other:2" in info.value.message
    with pytest.raises(ScanopsError) as info:
        F.select_findings(F.source_for(adapter, params(scan_id="scn-gone")), F.Selection())
    assert info.value.status == 404


def test_penaxtra_ids_all_in_a_full_list_raise_no_warning(make_adapter):
    items = [{"id": "p%d" % n, "scan_id": "s1", "severity": "high", "status": "open", "title": "t"} for n in range(250)]
    adapter, _rec = make_adapter("penaxtra", FakePenaxtra(items))
    source = F.source_for(adapter, params())
    found, missing = F.select_findings(source, F.Selection(ids=["p3", "p7"]))
    assert sorted(f["id"] for f in found) == ["p3", "p7"] and missing == []
    assert source.warnings == []
