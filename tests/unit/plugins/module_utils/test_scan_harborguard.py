# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HarborGuard scans are matched by their full image reference (issue 19, item 3).

The scan list carries no image and its ``search`` is a substring match, so ``ghcr.io/acme/api:1.4``
finds the scans of ``ghcr.io/acme/api:1.4.7`` too; the module must read each candidate's image.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.scans import iso, scan_info
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_scans import methods, params, run

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


class FakeHarborGuard(object):
    """Scans whose list items are ``{id, tagId, status, scannedAt}`` as on the vendor page; the body has the image."""

    def __init__(self, fake_time):
        self.time = fake_time
        self.scans = []
        self.tags = {}
        self.details = []

    def add_scan(self, reference, status="COMPLETE", age=0.0, digest=DIGEST_A, scanners=None):
        name, tag = reference.rsplit(":", 1) if ":" in reference.rsplit("/", 1)[-1] else (reference, "latest")
        tag_id = self.tags.setdefault((name, tag), "tag-%d" % (len(self.tags) + 1))
        scan = {"id": "scn-%d" % (len(self.scans) + 1), "tagId": tag_id, "status": status,
                "scannedAt": iso(self.time.wallclock() - age), "image": {"name": name, "tag": tag, "digest": digest},
                "scanners": scanners or ["trivy"], "polls": 0}
        if status == "COMPLETE":
            scan["completedAt"] = iso(self.time.wallclock() - age + 30)
        self.scans.append(scan)
        return scan

    def item(self, scan):
        return dict((k, scan[k]) for k in ("id", "tagId", "status", "scannedAt"))

    def body(self, scan):
        body = dict((k, v) for k, v in scan.items() if k not in ("polls", "scanners"))
        body["vulnerabilities"] = [] if scan["status"] != "COMPLETE" else [
            {"id": "vuln-%s-1" % scan["id"], "cveId": "CVE-2024-0001", "severity": "HIGH", "package": "openssl",
             "version": "3.0.1", "triage": {"status": "OPEN"}}]
        return body

    def __call__(self, request):
        path = request.url.path
        if path == "/api/scans" and request.method == "GET":
            search = (request.url.params.get("search") or "").lower()
            rows = [self.item(s) for s in reversed(self.scans)
                    if not search or any(search in text.lower() for text in (
                        "%s:%s" % (s["image"]["name"], s["image"]["tag"]), s["image"]["digest"]))]
            return httpx.Response(200, json={"data": rows, "meta": {"hasNext": False}})
        if path == "/api/scans" and request.method == "POST":
            reference = json.loads(request.content)["image"]
            digest = reference.split("@", 1)[1] if "@" in reference else DIGEST_B
            scan = self.add_scan(reference.split("@", 1)[0], status="QUEUED", digest=digest)
            return httpx.Response(202, json={"scanId": scan["id"], "status": "QUEUED", "url": "/dashboard/scans/" + scan["id"]})
        scan = next((s for s in self.scans if path.startswith("/api/scans/%s" % s["id"])), None)
        if scan is None:
            return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no scan"}})
        if path.endswith("/status"):
            scan["polls"] += 1
            if scan["status"] != "COMPLETE" and scan["polls"] >= 2:
                scan["status"] = "COMPLETE"
                scan["completedAt"] = iso(self.time.wallclock())
            return httpx.Response(200, json={"data": {"id": scan["id"], "status": scan["status"]}})
        self.details.append(scan["id"])
        return httpx.Response(200, json={"data": self.body(scan)})


@pytest.fixture
def harborguard(make_adapter, fake_time):
    fake = FakeHarborGuard(fake_time)
    adapter, recorder = make_adapter("harborguard", fake)
    return fake, adapter, recorder


def posted(recorder):
    return [json.loads(r.content)["image"] for r in methods(recorder)]


@pytest.mark.parametrize("wanted", ["ghcr.io/acme/api:1.4", "ghcr.io/acme/api", "ghcr.io/acme/api:1.4.7-rc1", "ghcr.io/acme/ap"])
def test_a_completed_scan_of_another_tag_is_never_reused(harborguard, fake_time, wanted):
    fake, adapter, recorder = harborguard
    other = fake.add_scan("ghcr.io/acme/api:1.4.7", age=600)
    result = run(adapter, fake_time, image=wanted, max_age="1h")
    assert result["reused"] is False and result["changed"] is True
    assert result["scan"]["id"] != other["id"] and posted(recorder) == [wanted]


def test_a_running_scan_of_another_tag_is_never_adopted(harborguard, fake_time):
    fake, adapter, recorder = harborguard
    other = fake.add_scan("ghcr.io/acme/api:1.4.7", status="IN_PROGRESS")
    result = run(adapter, fake_time, image="ghcr.io/acme/api:1.4")
    assert result["reused"] is False and result["scan"]["id"] != other["id"]
    assert result["scan"]["raw"]["image"] == {"name": "ghcr.io/acme/api", "tag": "1.4", "digest": DIGEST_B}
    assert posted(recorder) == ["ghcr.io/acme/api:1.4"]


@pytest.mark.parametrize("stored, wanted", [
    ("ghcr.io/acme/api:1.4.7", "ghcr.io/acme/api:1.4.7"),
    ("docker.io/library/nginx:1.25.3", "nginx:1.25.3"),
    ("nginx:1.25.3", "docker.io/library/nginx:1.25.3"),
    ("nginx", "index.docker.io/library/nginx:latest"),
    ("registry:5000/team/app:2.0", "registry:5000/team/app:2.0"),
])
def test_the_same_image_however_it_is_spelled_is_reused(harborguard, fake_time, stored, wanted):
    fake, adapter, recorder = harborguard
    mine = fake.add_scan(stored, age=600)
    result = run(adapter, fake_time, image=wanted, max_age="1h", fail_on="critical")
    assert result["reused"] is True and result["scan"]["id"] == mine["id"]
    assert posted(recorder) == [] and result["gate"]["passed"] is True
    # One read of the scan body told its image and gave the vulnerabilities.
    assert fake.details == [mine["id"]]


@pytest.mark.parametrize("stored, wanted", [
    ("registry:5000/team/app:2.0", "registry:5001/team/app:2.0"),
    ("registry:5000/team/app:2.0", "registry/team/app:2.0"),
    ("ghcr.io/acme/api:1.4.7", "ghcr.io/other/api:1.4.7"),
    ("docker.io/acme/api:1.4.7", "ghcr.io/acme/api:1.4.7"),
])
def test_registries_and_ports_are_part_of_the_image(harborguard, fake_time, stored, wanted):
    fake, adapter, recorder = harborguard
    fake.add_scan(stored, age=600)
    result = run(adapter, fake_time, image=wanted, max_age="1h")
    assert result["reused"] is False and posted(recorder) == [wanted]


def test_a_digest_target_matches_the_digest_not_the_tag(harborguard, fake_time):
    fake, adapter, recorder = harborguard
    old = fake.add_scan("ghcr.io/acme/api:1.4.7", age=900, digest=DIGEST_A)
    moved = fake.add_scan("ghcr.io/acme/api:1.4.7", age=300, digest=DIGEST_B)
    result = run(adapter, fake_time, image="ghcr.io/acme/api@" + DIGEST_A, max_age="1h")
    assert result["reused"] is True and result["scan"]["id"] == old["id"]
    tagged = run(adapter, fake_time, image="ghcr.io/acme/api:1.4.7@" + DIGEST_B.upper().replace("SHA256", "sha256"), max_age="1h")
    assert tagged["reused"] is True and tagged["scan"]["id"] == moved["id"]
    assert posted(recorder) == []


def test_scans_of_one_tag_cost_one_body_read(harborguard, fake_time):
    fake, adapter, recorder = harborguard
    for age in (3000, 2000, 1000):
        fake.add_scan("ghcr.io/acme/api:1.4.7", age=age)
    fake.add_scan("ghcr.io/acme/api:1.4.70", age=10)
    scans = scan_info(adapter, params(image="ghcr.io/acme/api:1.4.7"))
    assert [s["id"] for s in scans] == ["scn-3", "scn-2", "scn-1"]
    # The newest scan of each tag (list order) was read; the two older 1.4.7 scans were known by their tagId.
    assert fake.details == ["scn-4", "scn-3"]
