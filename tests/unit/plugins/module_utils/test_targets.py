# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scan targets of each platform for the inventory: what is listed, what each costs, what the groups say."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import threading

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils import targets
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.scans import ScanFailure

DAY = 86400.0
NOW = 1700000000.0


def ok(body):
    return httpx.Response(200, json=body)


def iso(epoch):
    return targets.iso(epoch)


def cloudgeni_vendor(repos=3, requests=None):
    """Repositories repo_0.. with two scans each: an old completed one and, for repo_0, a running one."""
    def handler(request):
        if requests is not None:
            requests.append(request.url.path)
        path = request.url.path
        if path.endswith("/repositories"):
            offset = int(request.url.params.get("offset", 0))
            limit = int(request.url.params.get("limit"))
            items = [{"id": "repo_%d" % n, "name": "r%d" % n, "fullName": "acme/r%d" % n, "provider": "github"}
                     for n in range(repos)][offset:offset + limit]
            return ok({"data": items, "pagination": {"total": repos, "limit": limit, "offset": offset}})
        repo = path.split("/")[-2]
        scans = [{"id": "scan_old_%s" % repo, "repositoryId": repo, "type": "static", "status": "completed",
                  "createdAt": iso(NOW - 10 * DAY), "completedAt": iso(NOW - 10 * DAY + 60),
                  "summary": {"total": 3, "critical": 1 if repo == "repo_1" else 0, "high": 2, "medium": 0, "low": 0,
                              "info": 0}}]
        if repo == "repo_0":
            scans.insert(0, {"id": "scan_new", "repositoryId": repo, "type": "static", "status": "running",
                             "createdAt": iso(NOW - 30)})
        assert request.url.params["limit"] == str(targets.RECENT_SCANS["cloudgeni"])
        return ok({"data": scans, "pagination": {"total": len(scans), "limit": 10, "offset": 0}})
    return handler


def test_cloudgeni_costs_the_repository_pages_and_one_scan_page_per_repository(make_adapter):
    sent = []
    adapter, _recorder = make_adapter("cloudgeni", cloudgeni_vendor(repos=130, requests=sent))
    found = targets.list_targets(adapter, {})
    assert len(found) == 130
    # Two pages of repositories (100 a page) and one request per repository.
    assert len([path for path in sent if path.endswith("/repositories")]) == 2
    assert len(sent) == 2 + 130
    first = found[0]
    assert first["name"] == "acme/r0" and first["options"] == {"repository": "repo_0"}
    assert first["scan_in_progress"]["id"] == "scan_new"
    assert first["latest_scan"]["id"] == "scan_old_repo_0"
    assert first["latest_scan"]["counts"] == {"critical": 0, "high": 2, "medium": 0, "low": 0, "info": 0}
    assert first["latest_scan"]["finding_count"] == 3
    assert first["latest_scan"]["finished_at"] == iso(NOW - 10 * DAY + 60)


def test_per_target_requests_run_at_most_concurrency_at_a_time(make_adapter):
    active = {"now": 0, "max": 0}
    lock = threading.Lock()
    # The first three scan reads wait for each other: they can only meet if three run at once.
    barrier = threading.Barrier(3, timeout=10)
    inner = cloudgeni_vendor(repos=12)

    def handler(request):
        if not request.url.path.endswith("/scans"):
            return inner(request)
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        try:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
            return inner(request)
        finally:
            with lock:
                active["now"] -= 1

    adapter, _recorder = make_adapter("cloudgeni", handler)
    found = targets.list_targets(adapter, {}, concurrency=3)
    assert len(found) == 12 and all(t["latest_scan"] for t in found)
    assert not barrier.broken
    assert active["max"] == 3


def harborguard_vendor(requests):
    """Two images: api (tag-a, a running scan over a completed one) and web (tag-w, one failed scan)."""
    images = {"tag-a": {"name": "ghcr.io/acme/api", "tag": "1.0", "digest": "sha256:" + "a" * 64},
              "tag-w": {"name": "ghcr.io/acme/web", "tag": "2.0", "digest": "sha256:" + "b" * 64}}
    scans = [
        {"id": "scn-a2", "tagId": "tag-a", "status": "IN_PROGRESS", "scannedAt": iso(NOW - 10)},
        {"id": "scn-w1", "tagId": "tag-w", "status": "FAILED", "scannedAt": iso(NOW - 2 * DAY), "duration": 5000},
        {"id": "scn-a1", "tagId": "tag-a", "status": "COMPLETE", "scannedAt": iso(NOW - DAY), "duration": 60000},
    ]

    def handler(request):
        requests.append((request.url.path, dict(request.url.params)))
        path = request.url.path
        if path == "/api/scans":
            page = int(request.url.params["page"])
            return ok({"data": scans if page == 1 else [], "meta": {"hasNext": False}})
        scan_id = path.rsplit("/", 1)[-1]
        scan = next(s for s in scans if s["id"] == scan_id)
        body = dict(scan, image=images[scan["tagId"]])
        if scan["status"] == "COMPLETE":
            body["vulnerabilities"] = [{"id": "v1", "severity": "CRITICAL"}, {"id": "v2", "severity": "LOW"}]
        return ok({"data": body})
    return handler


def test_harborguard_images_come_from_the_scan_list_with_one_body_per_image(make_adapter):
    sent = []
    adapter, _recorder = make_adapter("harborguard", harborguard_vendor(sent))
    found = targets.list_targets(adapter, {"targets": ["ghcr.io/acme/api:1.0", "ghcr.io/acme/db:9"]})
    assert [path for path, _params in sent] == ["/api/scans", "/api/scans/scn-a1", "/api/scans/scn-w1"]
    assert sent[0][1]["sort"] == "scannedAt:desc"
    by_name = dict((t["name"], t) for t in found)
    # The configured api image is the listed one (same image by Docker's rules); db was never scanned.
    assert sorted(by_name) == ["ghcr.io/acme/api:1.0", "ghcr.io/acme/db:9", "ghcr.io/acme/web:2.0"]
    api = by_name["ghcr.io/acme/api:1.0"]
    assert api["options"] == {"image": "ghcr.io/acme/api:1.0"}
    assert api["labels"] == {"registry": "ghcr.io", "repository": "acme/api", "tag": "1.0"}
    assert api["scan_in_progress"]["id"] == "scn-a2"
    latest = api["latest_scan"]
    assert (latest["id"], latest["status"], latest["finding_count"]) == ("scn-a1", "completed", 2)
    assert latest["counts"]["critical"] == 1
    # Started a day ago and took 60 s.
    assert latest["finished_at"] == iso(NOW - DAY + 60)
    web = by_name["ghcr.io/acme/web:2.0"]
    assert web["latest_scan"]["status"] == "failed" and web["latest_scan"]["counts"] is None
    assert by_name["ghcr.io/acme/db:9"]["latest_scan"] is None
    assert "identity" not in api


def test_penaxtra_integrations_come_from_the_run_list_in_one_request(make_adapter):
    first, second = "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03", "7a2d4f6b-1c3e-4a5b-8d7f-9e0a1b2c3d4e"
    runs = [
        {"id": "r3", "integration_id": first.upper(), "trigger": "verify", "status": "completed",
         "started_at": iso(NOW - 5), "completed_at": iso(NOW - 1)},
        {"id": "r2", "integration_id": first, "trigger": "scheduled", "status": "completed", "finding_count": 7,
         "started_at": iso(NOW - DAY), "completed_at": iso(NOW - DAY + 40)},
        {"id": "r1", "integration_id": second, "trigger": "manual", "status": "running", "started_at": iso(NOW - 60)},
    ]
    adapter, recorder = make_adapter("penaxtra", lambda request: ok({"data": runs}))
    configured = "b5e8c1d4-6f2a-4b9c-a3e7-0d1f2a3b4c5d"
    found = targets.list_targets(adapter, {"targets": [configured.upper(), first]})
    assert len(recorder.requests) == 1
    by_name = dict((t["name"], t) for t in found)
    assert sorted(by_name) == sorted([first, second, configured])
    # The verify probe is not a scan of the account.
    assert by_name[first]["latest_scan"]["id"] == "r2" and by_name[first]["latest_scan"]["finding_count"] == 7
    assert by_name[second]["latest_scan"] is None and by_name[second]["scan_in_progress"]["id"] == "r1"
    assert by_name[configured]["options"] == {"integration_id": configured}


def test_agilesec_reads_the_last_execution_of_sensors_that_have_one(make_adapter):
    sensors = [
        {"sensorId": "a" * 24, "sensorName": "git-main", "sensorConfig": {"repositoryUrl": "https://u:tok@git.example"},
         "labels": [{"team": "crypto"}, {"env": "prod"}], "lastExecutionId": "e" * 24},
        {"sensorId": "b" * 24, "sensorName": "fresh", "labels": [], "lastExecutionId": None},
    ]

    def handler(request):
        if request.url.path == "/v3/sensors":
            return ok({"data": sensors, "page": 1, "pageSize": 100, "total": 2})
        return ok({"sensorId": "a" * 24, "executionId": "e" * 24, "status": "successful", "ranAt": iso(NOW - 3 * DAY)})

    adapter, recorder = make_adapter("agilesec", handler)
    found = targets.list_targets(adapter, {})
    assert [request.url.path for request in recorder.requests] == ["/v3/sensors", "/v3/scan/" + "e" * 24]
    main = found[0]
    assert main["labels"] == {"team": "crypto", "env": "prod"}
    assert "sensorConfig" not in main["vendor"] and "tok" not in repr(main)
    assert main["latest_scan"]["status"] == "completed" and main["latest_scan"]["counts"] is None
    assert found[1]["latest_scan"] is None


def test_kolega_reads_one_page_of_batches_per_repository_with_the_scan_type(make_adapter):
    sent = []

    def handler(request):
        sent.append((request.url.path, dict(request.url.params)))
        if request.url.path == "/api/v1/repositories":
            return ok({"items": [{"id": "11111111-2222-4333-8444-555555555555", "name": "payments"}], "has_next": False})
        return ok({"items": [{"batch_id": "b1", "status": "partial_failure", "created_at": iso(NOW - DAY),
                              "completed_at": iso(NOW - DAY + 30)}], "has_next": True})

    adapter, _recorder = make_adapter("kolega", handler)
    found = targets.list_targets(adapter, {"scan_type": "secrets_scan"})
    # has_next is true, yet the first page is all the inventory reads.
    assert len(sent) == 2
    assert sent[1][1] == {"scan_type": "secrets_scan", "limit": "50", "skip": "0"}
    assert found[0]["options"] == {"repository": "11111111-2222-4333-8444-555555555555", "scan_type": "secrets_scan"}
    assert found[0]["latest_scan"]["status"] == "failed"


@pytest.mark.parametrize("provider, params, message", [
    ("cloudgeni", {"targets": ["x"]}, "targets: CloudGeni lists every repository itself"),
    ("kolega", {"branch": "main"}, "branch: only CloudGeni scans have a branch"),
    ("harborguard", {"scan_type": "full"}, "scan_type: only CloudGeni and Kolega"),
    ("kolega", {"scan_type": "full"}, "scan_type: full is not a Kolega DevSec scan type"),
    ("penaxtra", {"targets": ["not-a-uuid"]}, "targets[0]: 'not-a-uuid' is not a Penaxtra integration id"),
])
def test_platform_options_that_do_not_fit_fail_before_any_request(make_adapter, provider, params, message):
    adapter, recorder = make_adapter(provider, lambda request: ok({"data": []}))
    with pytest.raises(ScanopsError) as caught:
        targets.list_targets(adapter, params)
    assert message in caught.value.message
    if provider != "penaxtra":  # Penaxtra's targets are checked after its one list
        assert recorder.requests == []


def test_a_failed_read_names_the_target(make_adapter):
    inner = cloudgeni_vendor(repos=2)

    def handler(request):
        if request.url.path.endswith("repo_1/scans"):
            return httpx.Response(403, json={"error": "forbidden", "message": "Insufficient scope"})
        return inner(request)

    adapter, _recorder = make_adapter("cloudgeni", handler, retries=0)
    with pytest.raises(ScanFailure) as caught:
        targets.list_targets(adapter, {})
    assert caught.value.msg == "Read the latest scan of repository acme/r1: Insufficient scope (HTTP 403 forbidden)"


def scan_record(status="completed", finished=None, critical=0, running=False):
    target = targets.record("harborguard", "img:1", {"image": "img:1"})
    if finished is not None:
        target["latest_scan"] = {"status": status, "finished_at": iso(finished),
                                 "counts": {"critical": critical} if status == "completed" else None}
    if running:
        target["scan_in_progress"] = {"status": "running"}
    return target


@pytest.mark.parametrize("target, groups", [
    (scan_record(), ["never_scanned"]),
    (scan_record(running=True), ["scanning", "never_scanned"]),
    (scan_record(finished=NOW - 3600), []),
    (scan_record(finished=NOW - 3600, critical=2), ["critical"]),
    (scan_record(status="failed", finished=NOW - 3600), ["failed"]),
    (scan_record(status="cancelled", finished=NOW - 8 * DAY, running=True), ["scanning", "failed", "stale"]),
    (scan_record(finished=NOW - 8 * DAY, critical=1), ["critical", "stale"]),
])
def test_state_groups(target, groups):
    assert targets.state_groups(target, 7 * DAY, NOW) == groups


def test_no_stale_group_without_stale_after():
    assert targets.state_groups(scan_record(finished=NOW - 100 * DAY), None, NOW) == []


@pytest.mark.parametrize("include, exclude, labels, kept", [
    (None, None, None, ["ghcr.io/acme/api:1.0", "ghcr.io/acme/web:2.0", "docker.io/library/nginx:1.25"]),
    (["ghcr.io/*"], None, None, ["ghcr.io/acme/api:1.0", "ghcr.io/acme/web:2.0"]),
    (["ghcr.io/*"], ["*web*"], None, ["ghcr.io/acme/api:1.0"]),
    (None, None, {"registry": "docker.io"}, ["docker.io/library/nginx:1.25"]),
    (None, None, {"tag": ["1.0", "1.25"]}, ["ghcr.io/acme/api:1.0", "docker.io/library/nginx:1.25"]),
    (None, None, {"team": "x"}, []),
    (["GHCR.IO/*"], None, None, []),
])
def test_name_and_label_filters(include, exclude, labels, kept):
    records = []
    for name in ("ghcr.io/acme/api:1.0", "ghcr.io/acme/web:2.0", "docker.io/library/nginx:1.25"):
        registry, rest = name.split("/", 1)
        records.append(targets.record("harborguard", name, {"image": name},
                                      labels={"registry": registry, "tag": rest.rsplit(":", 1)[1]}))
    assert [t["name"] for t in records if targets.matches_filters(t, include, exclude, labels)] == kept


def test_scan_age_counts_from_the_finish():
    assert targets.scan_age({"finished_at": iso(NOW - 90)}, NOW) == 90
    assert targets.scan_age({"finished_at": None}, NOW) is None
    assert targets.scan_age(None, NOW) is None
