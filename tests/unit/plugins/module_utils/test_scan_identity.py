# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resolved identity of a scan target (issue 19, item 2): what bulk duplicates and serialization compare."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import httpx
import pytest

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.scans import (
    ScanFailure,
    normalize_image,
    run_scan,
    strategy_for,
)
from ansible_collections.scanops.security.tests.unit.plugins.module_utils.test_scans import INTEGRATION, REPOS, params

KOLEGA_REPOS = [{"id": "0b5e6a3c-1111-4a4a-8b8b-000000000001", "name": "payments-service"},
                {"id": "0b5e6a3c-1111-4a4a-8b8b-000000000002", "name": "web-frontend"}]
SENSOR = {"sensorId": "65f000000000000000000001", "sensorName": "git-payments", "sensorType": "GIT Sensor"}


def resolver(request):
    """Answers the reads that resolve a target; anything else is a server error the test would see."""
    path = request.url.path
    if path.endswith("/organizations/org_1/repositories"):
        return httpx.Response(200, json={"data": REPOS, "pagination": {"total": len(REPOS), "limit": 100, "offset": 0}})
    if path.endswith("/api/v1/repositories"):
        return httpx.Response(200, json={"items": KOLEGA_REPOS, "total": 2, "limit": 200, "skip": 0, "has_next": False})
    if path.endswith("/v3/sensors"):
        named = [SENSOR] if request.url.params.get("name") == SENSOR["sensorName"] else []
        return httpx.Response(200, json={"data": named, "page": 1, "pageSize": 100, "total": len(named)})
    if path.endswith("/v3/sensors/" + SENSOR["sensorId"]):
        return httpx.Response(200, json=SENSOR)
    return httpx.Response(500, json={"error": "unexpected request %s %s" % (request.method, path)})


def resolved(make_adapter, provider, **options):
    adapter, _recorder = make_adapter(provider, resolver)
    strategy = strategy_for(adapter, params(**options))
    strategy.validate()
    strategy.resolve()
    return strategy


@pytest.mark.parametrize("reference, expected", [
    ("nginx", ("docker.io", "library/nginx", "latest", None)),
    ("nginx:1.25", ("docker.io", "library/nginx", "1.25", None)),
    ("docker.io/library/nginx:1.25", ("docker.io", "library/nginx", "1.25", None)),
    ("index.docker.io/nginx", ("docker.io", "library/nginx", "latest", None)),
    ("bitnami/redis:7.2", ("docker.io", "bitnami/redis", "7.2", None)),
    ("ghcr.io/acme/api", ("ghcr.io", "acme/api", "latest", None)),
    ("GHCR.io/acme/api:1.4", ("ghcr.io", "acme/api", "1.4", None)),
    ("registry.acme.example:5000/team/app", ("registry.acme.example:5000", "team/app", "latest", None)),
    ("registry:5000/team/app:2.0", ("registry:5000", "team/app", "2.0", None)),
    ("localhost/app", ("localhost", "app", "latest", None)),
    ("ghcr.io/acme/api@sha256:" + "A" * 64, ("ghcr.io", "acme/api", None, "sha256:" + "a" * 64)),
    ("ghcr.io/acme/api:1.4@sha256:" + "b" * 64, ("ghcr.io", "acme/api", "1.4", "sha256:" + "b" * 64)),
])
def test_normalize_image_follows_dockers_defaults(reference, expected):
    image = normalize_image(reference)
    assert (image["registry"], image["repository"], image["tag"], image["digest"]) == expected


@pytest.mark.parametrize("reference", ["", "ghcr.io/acme/api:", "ghcr.io/acme/api@sha256:xyz", "ghcr.io/", "a//b"])
def test_normalize_image_rejects_what_names_no_image(reference):
    with pytest.raises(ScanopsError):
        normalize_image(reference)


@pytest.mark.parametrize("provider, first, second", [
    ("cloudgeni", dict(repository="repo_a"), dict(repository="myorg/infrastructure", branch="main", scan_type="static")),
    ("kolega", dict(repository=KOLEGA_REPOS[0]["id"], scan_type="secrets_scan"),
     dict(repository="payments-service", scan_type="secrets_scan")),
    ("agilesec", dict(sensor=SENSOR["sensorId"]), dict(sensor="git-payments")),
    ("harborguard", dict(image="nginx"), dict(image="docker.io/library/nginx:latest")),
    ("harborguard", dict(image="ghcr.io/acme/api@sha256:" + "c" * 64), dict(image="ghcr.io/acme/api:9@sha256:" + "C" * 64)),
    ("penaxtra", dict(integration_id=INTEGRATION), dict(integration_id=INTEGRATION.upper())),
])
def test_two_spellings_of_one_target_have_one_identity(make_adapter, provider, first, second):
    one, other = resolved(make_adapter, provider, **first), resolved(make_adapter, provider, **second)
    assert one.identity() == other.identity()
    assert one.identity()[0] == provider


@pytest.mark.parametrize("provider, first, second", [
    ("cloudgeni", dict(repository="repo_a"), dict(repository="myorg/infrastructure", branch="develop")),
    ("cloudgeni", dict(repository="repo_a"), dict(repository="repo_a", scan_type="full")),
    ("cloudgeni", dict(repository="repo_a"), dict(repository="repo_b")),
    ("kolega", dict(repository="payments-service", scan_type="secrets_scan"),
     dict(repository="payments-service", scan_type="sbom_scan")),
    ("harborguard", dict(image="ghcr.io/acme/api:1.4"), dict(image="ghcr.io/acme/api:1.4.7")),
    ("harborguard", dict(image="ghcr.io/acme/api"), dict(image="docker.io/acme/api")),
    ("harborguard", dict(image="registry:5000/team/app"), dict(image="registry:5001/team/app")),
])
def test_different_targets_have_different_identities(make_adapter, provider, first, second):
    assert resolved(make_adapter, provider, **first).identity() != resolved(make_adapter, provider, **second).identity()


def test_cloudgeni_targets_of_one_repository_share_the_exclusive_key_however_it_is_named(make_adapter):
    main = resolved(make_adapter, "cloudgeni", repository="repo_a", branch="main")
    develop = resolved(make_adapter, "cloudgeni", repository="myorg/infrastructure", branch="develop")
    assert main.exclusive_key() == develop.exclusive_key() == ("cloudgeni", "repo_a")
    assert main.identity() != develop.identity()


@pytest.mark.parametrize("provider, targets", [
    ("cloudgeni", [dict(repository="repo_a"), dict(repository="myorg/infrastructure")]),
    ("kolega", [dict(repository=KOLEGA_REPOS[0]["id"], scan_type="secrets_scan"),
                dict(repository="payments-service", scan_type="secrets_scan")]),
    ("agilesec", [dict(sensor=SENSOR["sensorId"]), dict(sensor="git-payments")]),
    ("harborguard", [dict(image="ghcr.io/acme/api:1.4"), dict(image="nginx"), dict(image="docker.io/library/nginx")]),
    ("penaxtra", [dict(integration_id=INTEGRATION.upper()), dict(integration_id=INTEGRATION)]),
])
def test_bulk_rejects_one_target_named_two_ways_before_any_scan(make_adapter, fake_time, provider, targets):
    adapter, recorder = make_adapter(provider, resolver)
    with pytest.raises(ScanFailure) as info:
        run_scan(adapter, params(targets=targets, concurrency=4), sleep=fake_time.sleep, clock=fake_time.clock,
                 wallclock=fake_time.wallclock)
    last = len(targets) - 1
    assert "targets[%d] names the same target as targets[%d]" % (last, last - 1) in info.value.msg
    assert info.value.msg.startswith("Invalid options: ")
    # Only the reads that resolve names were sent: no history read, no trigger.
    assert [r for r in recorder.requests if r.method != "GET"] == []
    assert all("scans" not in r.url.path and "runs" not in r.url.path for r in recorder.requests)
