# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scan_targets inventory plugin without a vendor: groups, host variables, compose, filters, cache.

The platforms' listing (``targets.list_targets``, tested on its own) is replaced by canned records;
option values come from the plugin's documentation (its defaults and its fragments' ones), as
Ansible's config manager would give them for a file that sets only what a test passes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import functools
import json
import time

import pytest
import yaml

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.doc_fragments import constructed, inventory_cache

from ansible_collections.scanops.security.plugins.doc_fragments.scanops import ModuleDocFragment

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 trusts every template
    def trust_as_template(value):
        return value
from ansible_collections.scanops.security.plugins.inventory import scan_targets
from ansible_collections.scanops.security.plugins.module_utils import targets

NOW = time.time()
DAY = 86400.0
SECRET = "hg_ak_0000000000000000000000000000000000000000feedbeef"


def iso(epoch):
    return targets.iso(epoch)


@functools.lru_cache(maxsize=None)
def _documented_defaults():
    options = {}
    for text in (ModuleDocFragment.DOCUMENTATION, constructed.ModuleDocFragment.DOCUMENTATION,
                 inventory_cache.ModuleDocFragment.DOCUMENTATION, scan_targets.DOCUMENTATION):
        options.update(yaml.safe_load(text)["options"])
    return json.dumps(dict((name, spec.get("default")) for name, spec in options.items()))


def documented_defaults():
    return json.loads(_documented_defaults())


def image(name, finished=None, status="completed", critical=0, running=False, registry="ghcr.io"):
    target = targets.record("harborguard", name, {"image": name},
                            labels={"registry": registry, "tag": name.rsplit(":", 1)[1]}, vendor={"tagId": "tag-" + name[-3:]})
    if finished is not None:
        target["latest_scan"] = {"id": "scn-" + name[-3:], "status": status, "vendor_status": status.upper(),
                                 "created_at": iso(finished - 60), "completed_at": None, "finished_at": iso(finished),
                                 "counts": {"critical": critical, "high": 0, "medium": 0, "low": 0, "info": 0}
                                 if status == "completed" else None, "finding_count": critical, "url": None}
    if running:
        target["scan_in_progress"] = {"id": "scn-run", "status": "running"}
    return target


CANNED = {
    "harborguard": [
        image("ghcr.io/acme/api:1.0", finished=NOW - DAY, critical=2),
        image("ghcr.io/acme/web:2.0", finished=NOW - 10 * DAY),
        image("docker.io/library/nginx:1.25", finished=NOW - 3600, status="failed", registry="docker.io"),
        image("ghcr.io/acme/db:9.0", running=True),
    ],
    "penaxtra": [targets.record("penaxtra", "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03",
                                {"integration_id": "3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"})],
}


class Lister(object):
    """Stands in for ``targets.list_targets``: canned records per provider, and the calls it got."""

    def __init__(self):
        self.calls = []

    def __call__(self, adapter, params, concurrency=None):
        self.calls.append((adapter.NAME, dict(params), concurrency))
        return json.loads(json.dumps(CANNED[adapter.NAME]))


@pytest.fixture
def lister(monkeypatch):
    fake = Lister()
    monkeypatch.setattr(scan_targets, "list_targets", fake)
    for name in ("SCANOPS_PROVIDER", "SCANOPS_API_KEY", "SCANOPS_API_URL", "HARBORGUARD_API_URL", "PENAXTRA_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARBORGUARD_API_KEY", SECRET)
    monkeypatch.setenv("PENAXTRA_TOKEN", "pnx_" + SECRET)
    return fake


class Cache(dict):
    """What the plugin needs of a cache plugin: a mapping that remembers writes."""

    def __init__(self):
        super(Cache, self).__init__()
        self.writes = 0

    def __setitem__(self, key, value):
        self.writes += 1
        super(Cache, self).__setitem__(key, json.loads(json.dumps(value)))


def build(options, cache=None):
    """A plugin whose options are the documented defaults under ``options``; its inventory is empty."""
    plugin = scan_targets.InventoryModule()
    values = documented_defaults()
    # Like the config manager: documented options only (the file's other keys stay in what _read_config_data answers).
    values.update((name, value) for name, value in options.items() if name in values)
    plugin._options = values  # pylint: disable=protected-access
    plugin._load_name = "scanops.security.scan_targets"  # pylint: disable=protected-access
    # What the file holds: the options the test sets (the config manager reads the rest from the documentation).
    plugin._read_config_data = lambda path: dict(options)  # pylint: disable=protected-access
    plugin._cache = cache if cache is not None else Cache()  # pylint: disable=protected-access
    return plugin


def trusted(value):
    """Templates as the config manager hands them over from the inventory file (trusted, since 2.19)."""
    if isinstance(value, dict):
        return dict((key, trusted(item)) for key, item in value.items())
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return trust_as_template(value) if isinstance(value, str) else value


def parse(options, cache=None, refresh=False):
    options = dict((name, trusted(value) if name in ("compose", "groups", "keyed_groups") else value)
                   for name, value in options.items())
    plugin = build(options, cache)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), "/inventories/scan_targets.yml", cache=not refresh)
    return plugin, inventory


def members(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts()) if group in inventory.groups else []


HARBORGUARD = {"platforms": [{"provider": "harborguard", "api_url": "https://hg.example.test"}]}


def test_one_host_per_target_in_provider_and_state_groups(lister):
    _plugin, inventory = parse(HARBORGUARD)
    assert sorted(inventory.hosts) == ["harborguard/docker.io/library/nginx_1.25", "harborguard/ghcr.io/acme/api_1.0",
                                       "harborguard/ghcr.io/acme/db_9.0", "harborguard/ghcr.io/acme/web_2.0"]
    assert members(inventory, "scanops_harborguard") == sorted(inventory.hosts)
    assert members(inventory, "scanops_critical") == ["harborguard/ghcr.io/acme/api_1.0"]
    assert members(inventory, "scanops_stale") == ["harborguard/ghcr.io/acme/web_2.0"]
    assert members(inventory, "scanops_failed") == ["harborguard/docker.io/library/nginx_1.25"]
    assert members(inventory, "scanops_never_scanned") == ["harborguard/ghcr.io/acme/db_9.0"]
    assert members(inventory, "scanops_scanning") == ["harborguard/ghcr.io/acme/db_9.0"]
    assert lister.calls == [("harborguard", lister.calls[0][1], 8)]


def test_host_variables_name_the_target_and_its_latest_scan_without_the_credential(lister, monkeypatch):
    # The clock stands at the fixture's NOW: on a loaded machine minutes may pass between import and here.
    monkeypatch.setattr(scan_targets.time, "time", lambda: NOW)
    _plugin, inventory = parse(HARBORGUARD)
    variables = inventory.get_host("harborguard/ghcr.io/acme/api_1.0").get_vars()
    assert variables["scanops_provider"] == "harborguard"
    assert variables["scanops_image"] == "ghcr.io/acme/api:1.0"
    assert variables["scanops_target"] == {"image": "ghcr.io/acme/api:1.0"}
    assert variables["scanops_target_name"] == "ghcr.io/acme/api:1.0"
    assert variables["ansible_connection"] == "local"
    latest = variables["scanops_latest_scan"]
    assert latest["id"] == "scn-1.0" and latest["counts"]["critical"] == 2
    assert DAY - 1 <= latest["age_seconds"] <= DAY + 1
    connection = variables["scanops_connection"]
    assert connection["provider"] == "harborguard" and connection["api_url"] == "https://hg.example.test"
    assert "api_key" not in connection
    everything = json.dumps(dict((name, host.get_vars()) for name, host in inventory.hosts.items()))
    assert SECRET not in everything


def test_an_api_key_in_the_file_reaches_neither_host_variables_nor_the_cache(lister):
    cache = Cache()
    entry = dict(HARBORGUARD["platforms"][0], api_key="hg_ak_" + "9" * 48)
    _plugin, inventory = parse({"platforms": [entry], "cache": True}, cache=cache, refresh=True)
    assert cache.writes == 1
    assert "9" * 48 not in json.dumps(dict(cache)) + json.dumps(
        dict((name, host.get_vars()) for name, host in inventory.hosts.items()))


def test_compose_groups_and_keyed_groups_see_the_host_variables(lister):
    options = dict(HARBORGUARD,
                   compose={"criticals": "scanops_latest_scan.counts.critical | default(-1)"},
                   groups={"release": "scanops_image is search(':[0-9]')"},
                   keyed_groups=[{"key": "scanops_labels.registry", "prefix": "registry"}])
    _plugin, inventory = parse(options)
    # ansible-core before 2.19 templates compose values to strings unless jinja2_native is on.
    assert str(inventory.get_host("harborguard/ghcr.io/acme/api_1.0").get_vars()["criticals"]) == "2"
    assert str(inventory.get_host("harborguard/ghcr.io/acme/db_9.0").get_vars()["criticals"]) == "-1"
    assert members(inventory, "release") == sorted(inventory.hosts)
    assert members(inventory, "registry_docker_io") == ["harborguard/docker.io/library/nginx_1.25"]
    assert len(members(inventory, "registry_ghcr_io")) == 3


def test_strict_compose_fails_on_an_undefined_variable(lister):
    with pytest.raises(Exception) as caught:
        parse(dict(HARBORGUARD, strict=True, compose={"x": "no_such_variable.y"}))
    assert "no_such_variable" in str(caught.value)


@pytest.mark.parametrize("options, hosts", [
    ({"include_names": ["ghcr.io/acme/*"], "exclude_names": ["*web*"]}, ["api:1.0", "db:9.0"]),
    ({"labels": {"registry": "docker.io"}}, ["nginx:1.25"]),
    ({"labels": {"tag": ["1.0", "2.0"]}, "include_names": ["*web*"]}, ["web:2.0"]),
])
def test_name_and_label_filters_leave_hosts_out(lister, options, hosts):
    _plugin, inventory = parse(dict(HARBORGUARD, **options))
    assert sorted(name.rsplit("/", 1)[1].replace("_", ":") for name in inventory.hosts) == hosts


def test_the_cache_answers_until_the_inventory_is_refreshed(lister):
    cache = Cache()
    options = dict(HARBORGUARD, cache=True)
    parse(options, cache=cache)  # nothing cached yet: list, then store
    assert (len(lister.calls), cache.writes) == (1, 1)
    _plugin, inventory = parse(options, cache=cache)
    assert (len(lister.calls), cache.writes) == (1, 1)
    assert len(inventory.hosts) == 4
    parse(options, cache=cache, refresh=True)  # --flush-cache / refresh_inventory
    assert (len(lister.calls), cache.writes) == (2, 2)


def test_ages_and_stale_groups_are_worked_out_when_the_cache_is_read(lister, monkeypatch):
    cache = Cache()
    options = dict(HARBORGUARD, cache=True, stale_after="2d")
    _plugin, inventory = parse(options, cache=cache)
    assert members(inventory, "scanops_stale") == ["harborguard/ghcr.io/acme/web_2.0"]
    later = NOW + 1.5 * DAY
    monkeypatch.setattr(scan_targets.time, "time", lambda: later)
    _plugin, inventory = parse(options, cache=cache)
    assert len(lister.calls) == 1
    assert members(inventory, "scanops_stale") == ["harborguard/ghcr.io/acme/api_1.0", "harborguard/ghcr.io/acme/web_2.0"]
    age = inventory.get_host("harborguard/ghcr.io/acme/api_1.0").get_vars()["scanops_latest_scan"]["age_seconds"]
    assert age >= 2.5 * DAY - 5


def test_without_the_cache_option_every_parse_lists(lister):
    cache = Cache()
    parse(HARBORGUARD, cache=cache)
    parse(HARBORGUARD, cache=cache)
    assert (len(lister.calls), cache.writes) == (2, 0)


def test_top_level_options_are_the_defaults_of_every_platform(lister):
    options = {"provider": "harborguard", "timeout": 7.5, "concurrency": 3,
               "platforms": [{"api_url": "https://hg.example.test"},
                             {"provider": "penaxtra", "api_url": "https://px.example.test", "timeout": 2}]}
    _plugin, inventory = parse(options)
    assert [(name, params["timeout"], concurrency) for name, params, concurrency in lister.calls] == [
        ("harborguard", 7.5, 3), ("penaxtra", 2.0, 3)]
    assert members(inventory, "scanops_penaxtra") == ["penaxtra/3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"]


def test_a_source_without_platforms_lists_its_provider(lister):
    _plugin, inventory = parse({"provider": "penaxtra"})
    assert list(inventory.hosts) == ["penaxtra/3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03"]
    variables = inventory.get_host("penaxtra/3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03").get_vars()
    assert variables["scanops_connection"]["api_url"] == "https://penaxtra.com"


@pytest.mark.parametrize("options, message", [
    ({}, "the source: missing required arguments: provider"),
    ({"platforms": [{"provider": "harborguard", "timeot": 3}]}, "platforms[0]: unsupported option timeot"),
    ({"platforms": [{"provider": "nope"}]}, "platforms[0]: value of provider must be one of"),
    ({"platforms": ["harborguard"]}, "platforms[0] must be a dictionary"),
    ({"platforms": []}, "platforms must list at least one platform"),
    ({"provider": "harborguard", "stale_after": "soon"}, "stale_after: expected seconds or a duration"),
    ({"provider": "harborguard", "stale_afer": "1d"}, "unknown option stale_afer"),
])
def test_bad_options_are_named(lister, options, message):
    with pytest.raises(AnsibleParserError) as caught:
        parse(options)
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("options, message", [
    ({"provider": "harborguard", "api_url": "https://svc:pw-inv-9c1d@hg.example.test"}, "api_url: "),
    ({"provider": "harborguard", "timeout": float("nan")}, "timeout: must be a finite number"),
    ({"platforms": [{"provider": "harborguard", "rate_limit": float("inf")}]}, "rate_limit: must be a finite number"),
    ({"platforms": [{"provider": "penaxtra", "api_url": "ftp://pnx.example.test"}]}, "api_url: the scheme ftp"),
    ({"provider": "harborguard", "proxy": "http://u:pw-inv-9c1d@proxy.example.test:3128"}, "proxy: "),
])
def test_hostile_connection_values_are_refused_before_listing(lister, options, message):
    """Issue 11: the inventory reads each platform through validate_params, with the modules' rules."""
    with pytest.raises(AnsibleParserError) as caught:
        parse(options)
    assert message in str(caught.value)
    assert SECRET not in str(caught.value) and "pw-inv-9c1d" not in str(caught.value)
    assert lister.calls == []


def test_only_files_named_scan_targets_are_this_plugins(tmp_path):
    plugin = scan_targets.InventoryModule()
    for name, mine in (("scan_targets.yml", True), ("prod.scan_targets.yaml", True), ("hosts.yml", False)):
        path = tmp_path / name
        path.write_text("plugin: scanops.security.scan_targets\n")
        assert plugin.verify_file(str(path)) is mine


@pytest.mark.parametrize("name, host", [
    ("ghcr.io/acme/api:1.4.7", "harborguard/ghcr.io/acme/api_1.4.7"),
    ("registry.local:5000/team/app:2", "harborguard/registry.local_5000/team/app_2"),
    ("Payments Git [prod]*", "harborguard/Payments_Git__prod__"),
])
def test_host_names_are_safe_in_host_patterns(name, host):
    assert scan_targets.host_name("harborguard", name) == host


def test_two_targets_with_one_host_name_keep_the_first(lister, monkeypatch):
    twins = [image("ghcr.io/acme/api:1.0", finished=NOW - DAY), image("ghcr.io/acme/api_1.0:x", finished=NOW - DAY)]
    twins[1]["name"] = "ghcr.io/acme/api_1.0"
    monkeypatch.setitem(CANNED, "harborguard", twins)
    _plugin, inventory = parse(HARBORGUARD)
    assert list(inventory.hosts) == ["harborguard/ghcr.io/acme/api_1.0"]
    assert inventory.get_host("harborguard/ghcr.io/acme/api_1.0").get_vars()["scanops_image"] == "ghcr.io/acme/api:1.0"


def test_top_level_targets_serve_a_one_platform_source(lister):
    parse({"provider": "harborguard", "targets": ["ghcr.io/acme/api:9"], "scan_type": None})
    assert lister.calls[0][1]["targets"] == ["ghcr.io/acme/api:9"]
