# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings filters mean what they say, against the emulator (issue 20, items 1 to 3).

For every provider with findings, every severity and every finding status the provider knows,
the filter the collection pushes to the vendor must select exactly the findings that filtering
the whole scope on our side selects, and the vendor must accept it (no HTTP 400). The adapters
run in this process against the session's emulator; no playbook is involved.
"""

import time

import httpx
import pytest

from conftest import DEMO_API_KEYS  # pylint: disable=import-error

from ansible_collections.scanops.security.plugins.module_utils import findings as F
from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import SEVERITIES

PATHS = {"cloudgeni": "/cloudgeni/api/v1", "kolega": "/kolega", "harborguard": "/harborguard", "penaxtra": "/penaxtra"}
HARBORGUARD_SENSOR_KEY = "hg_ak_0b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f"


def adapter_for(url, provider):
    return get_adapter_class(provider)(DEMO_API_KEYS[provider], api_url=url + PATHS[provider], organization="org_123",
                                       rate_limit=0, timeout=10)


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("the emulator did not get there in %s s" % timeout)


@pytest.fixture(scope="module")
def scopes(emulator_url, admin):
    """A findings scope per provider, with findings in several statuses."""
    admin.reset()
    with adapter_for(emulator_url, "cloudgeni") as cloudgeni:
        repos = dict((r["fullName"], r["id"]) for r in cloudgeni.list_repositories())
        repo_id = repos["myorg/networking"]
        completed = [s for s in cloudgeni.list_scans(repo_id) if s["status"] == "completed"]
        cloudgeni_scope = {"repository": repo_id, "scan_id": sorted(completed, key=lambda s: s["createdAt"])[-1]["id"]}
    with adapter_for(emulator_url, "kolega") as kolega:
        repo = [r for r in kolega.list_repositories() if r["name"] == "web-frontend"][0]
        batch = kolega.trigger_scan(repo["id"], "semgrep_scan")
        batch_id = batch.get("batch_id") or batch.get("id")
        wait_until(lambda: kolega.get_scan(repo["id"], batch_id)["status"] in ("completed", "succeeded"))
        kolega_scope = {"repository": repo["id"]}
    scopes = {"cloudgeni": cloudgeni_scope, "kolega": kolega_scope, "harborguard": {"image": "ghcr.io/acme/api:1.4.7"},
              "penaxtra": {}}
    # Give the first findings of each scope every status the provider knows, so status filters select something.
    for provider, scope in scopes.items():
        with adapter_for(emulator_url, provider) as adapter:
            source = F.source_for(adapter, dict(scope))
            found, _missing = F.select_findings(source, F.Selection())
            statuses = adapter.vocabulary.finding_statuses
            assert len(found) > len(statuses), "%s: too few findings to spread the statuses over" % provider
            for finding, status in zip(found, statuses[1:]):
                source.write(finding["id"], adapter.vendor_finding_status(status))
    return scopes


CASES = ([(provider, "severity", severity) for provider in PATHS for severity in SEVERITIES]
         + [(provider, "status", status) for provider in PATHS
            for status in get_adapter_class(provider).VOCABULARY.finding_statuses])


@pytest.mark.parametrize("provider,name,word", CASES, ids=["%s-%s-%s" % case for case in CASES])
def test_a_pushed_filter_selects_what_local_filtering_selects(emulator_url, scopes, provider, name, word):
    with adapter_for(emulator_url, provider) as adapter:
        source = F.source_for(adapter, dict(scopes[provider]))
        everything, _missing = F.select_findings(source, F.Selection())
        expected = sorted(str(f["id"]) for f in everything if f[name] == word)
        found, _missing = F.select_findings(F.source_for(adapter, dict(scopes[provider])),
                                            F.Selection(**{name: [word]}))
        assert sorted(str(f["id"]) for f in found) == expected


def test_scopes_hold_every_status_and_several_severities(emulator_url, scopes):
    """The table above tests something only if the scopes hold the words it filters on."""
    for provider, scope in scopes.items():
        with adapter_for(emulator_url, provider) as adapter:
            everything, _missing = F.select_findings(F.source_for(adapter, dict(scope)), F.Selection())
            assert set(f["status"] for f in everything) == set(adapter.vocabulary.finding_statuses), provider
            assert len(set(f["severity"] for f in everything)) >= 3, provider


def test_harborguard_package_filter_keeps_its_case(emulator_url, admin):
    admin.reset()
    vulnerabilities = [{"cveId": "CVE-2020-14343", "severity": "CRITICAL", "package": "PyYAML", "version": "5.3.1"},
                       {"cveId": "CVE-2020-1747", "severity": "CRITICAL", "package": "pyyaml", "version": "5.3"},
                       {"cveId": "CVE-2018-25032", "severity": "HIGH", "package": "zlib1g", "version": "1.2.11"}]
    answer = httpx.post(emulator_url + "/harborguard/api/scans/upload", headers={"X-API-Key": HARBORGUARD_SENSOR_KEY},
                        json={"image": {"name": "sensor-upload/case", "tag": "1"}, "vulnerabilities": vulnerabilities}, timeout=10)
    answer.raise_for_status()
    with adapter_for(emulator_url, "harborguard") as adapter:
        def cves(packages):
            source = F.source_for(adapter, {"image": "sensor-upload/case:1"})
            found, _missing = F.select_findings(source, F.Selection(package=packages))
            return sorted(f["rule_id"] for f in found)

        assert cves(["PyYAML"]) == ["CVE-2020-14343"]
        assert cves(["pyyaml"]) == ["CVE-2020-1747"]
        # Two values are filtered on our side: the same exact match as the vendor's.
        assert cves(["PyYAML", "zlib1g"]) == ["CVE-2018-25032", "CVE-2020-14343"]


def test_harborguard_findings_of_an_older_scan(emulator_url, admin):
    """Once a newer scan of the image exists, the vulnerabilities list no longer serves the older one."""
    admin.reset()
    older = "scn-3kp9q1"
    with adapter_for(emulator_url, "harborguard") as adapter:
        counts = adapter.normalize_scan(adapter.get_scan(older))["counts"]
        newer = admin.seed("harborguard", "scan", image="ghcr.io/acme/api:1.4.7")["scanId"]
        wait_until(lambda: adapter.get_scan_status(newer)["status"] == "COMPLETE")
        found, _missing = F.select_findings(F.source_for(adapter, {"scan_id": older}), F.Selection())
        assert len(found) == sum(counts.values()) > 0
        assert set(f["raw"]["scanId"] for f in found) == {older}
        high, _missing = F.select_findings(F.source_for(adapter, {"scan_id": older, "image": "ghcr.io/acme/api:1.4.7"}),
                                           F.Selection(severity=["high"]))
        assert len(high) == counts["high"]
