# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: scan_targets
short_description: Scan targets of CloudGeni, Kolega, HarborGuard, Penaxtra and AgileSec as inventory hosts
version_added: 0.2.0
description:
  - "One host per scan target of each configured platform, CloudGeni and Kolega repositories, HarborGuard images,
    Penaxtra integrations (cloud accounts) and AgileSec sensors, with the target's latest scan in its host variables and
    groups per provider and per state, so that C(hosts: scanops_stale) with forks, or an AWX job template with job
    slicing, spreads scan work over processes and execution nodes."
  - "Requests: the platform's list pages plus at most one request per target for its newest scans, sent O(concurrency)
    at a time. CloudGeni, the repository list and the first page (10) of each repository's scans. Kolega, the
    repository list (archived ones left out) and the first page (50) of each repository's scan batches. HarborGuard,
    which lists no images, every page of its scan list (each tag one image) and the body of each image's newest
    finished scan. Penaxtra, which lists no integrations, its newest 100 runs and nothing per target. AgileSec, its
    sensor list and each sensor's last execution."
  - B(Assumed API:) the AgileSec sensor list (C(GET /v3/sensors)) is not documented by the vendor, and the CloudGeni
    and Kolega scan lists are read as newest first; see C(docs/assumptions.md).
  - The requests share the modules' client-side pace per vendor credential with every other process on this
    controller (forks, other inventory sources, lookups), see C(docs/performance.md).
  - Host variables hold the connection's settings without any credential; tasks on these hosts read the credential
    from the same environment variables or options as the modules.
  - The configuration file must end in C(scan_targets.yml) or C(scan_targets.yaml).
author:
  - scanops engineering (@scanops)
extends_documentation_fragment:
  - scanops.security.scanops
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; makes the file an inventory source of it.
    type: str
    required: true
    choices: [scanops.security.scan_targets]
  provider:
    description:
      - The platform of a source with one platform. With O(platforms), the provider of every entry that names none.
      - If not set, the value of the E(SCANOPS_PROVIDER) environment variable is used.
      - The other connection options at the top of the file (O(api_url), O(timeout), O(rate_limit), ...) are the
        defaults of every entry of O(platforms).
    required: false
  platforms:
    description:
      - The platforms to list, each a dictionary of the modules' connection options (O(provider), O(api_url),
        O(api_key), O(organization), O(validate_certs), O(timeout), O(rate_limit), ...), which override the ones at the
        top of the file, and these.
      - C(targets), a list of HarborGuard image references or Penaxtra integration ids to include even when the
        platform can not list them (never scanned, or not among Penaxtra's newest 100 runs); they land in
        C(scanops_never_scanned).
      - C(scan_type), CloudGeni V(static) or V(full), Kolega V(secrets_scan), V(semgrep_scan), V(deep_ai_scan) or
        V(sbom_scan), only scans of that type count, and the hosts get C(scanops_scan_type).
      - C(branch), CloudGeni only, only scans of that branch count, and the hosts get C(scanops_branch).
      - Credentials are best left out of the file, each provider reads its own environment variable
        (E(CLOUDGENI_API_KEY), E(KOLEGA_TOKEN), E(AGILESEC_API_TOKEN), E(HARBORGUARD_API_KEY), E(PENAXTRA_TOKEN)).
      - Without O(platforms), the source lists the one platform of O(provider).
    type: list
    elements: dict
  targets:
    description:
      - C(targets) of every entry of O(platforms) that sets none (a source with one platform sets it here).
    type: list
    elements: str
  scan_type:
    description:
      - C(scan_type) of every entry of O(platforms) that sets none.
    type: str
    choices: [static, full, secrets_scan, semgrep_scan, deep_ai_scan, sbom_scan]
  branch:
    description:
      - C(branch) of every entry of O(platforms) that sets none.
    type: str
  concurrency:
    description:
      - How many per-target requests are in flight at a time, per platform (1 to 32).
    type: int
    default: 8
  stale_after:
    description:
      - A target whose newest finished scan finished longer ago than this is in C(scanops_stale), seconds or a
        duration such as V(12h), V(7d) or V(1d12h).
    type: str
    default: 7d
  include_names:
    description:
      - Keep only targets whose name matches one of these shell-style patterns (case-sensitive; C(*) matches C(/) too).
      - The name is the CloudGeni repository's full name, the Kolega repository's name, the HarborGuard image
        reference, the Penaxtra integration id or the AgileSec sensor name (C(scanops_target_name)).
    type: list
    elements: str
  exclude_names:
    description:
      - Leave out targets whose name matches one of these shell-style patterns.
    type: list
    elements: str
  labels:
    description:
      - Keep only targets whose C(scanops_labels) hold every key given here with its value, or with one of the values
        of a list.
      - "Labels: AgileSec, the sensor's labels; HarborGuard C(registry), C(repository) and C(tag); CloudGeni
        C(git_provider). Kolega and Penaxtra targets have none."
    type: dict
notes:
  - "Host names are C(<provider>/<target name>) with the characters host patterns treat specially (C(:), C(,), spaces,
    brackets, C(*), C(?), C(!), C(&), C(~)) turned into C(_), for example C(harborguard/ghcr.io/acme/api_1.4.7) or
    C(cloudgeni/myorg/infrastructure), so that C(--limit) and C(--host) take them; C(scanops_target_name) keeps the
    name as the vendor spells it."
  - "Every host gets C(ansible_connection: local) and C(ansible_python_interpreter) set to the Python that runs the
    inventory (the controller's), since the work happens in API calls from the controller; O(compose) can change them."
  - "Host variables: C(scanops_provider); C(scanops_target_name); C(scanops_target), the scan_run options that name the
    target (also as C(scanops_repository), C(scanops_image), C(scanops_integration_id) or C(scanops_sensor), and
    C(scanops_scan_type), C(scanops_branch) when set); C(scanops_labels); C(scanops_vendor), the vendor's own object
    (an AgileSec sensor without its C(sensorConfig)); C(scanops_latest_scan), the newest finished scan
    (C(id), C(status), C(vendor_status), C(created_at), C(completed_at), C(finished_at), C(age_seconds), C(counts),
    C(finding_count), C(url)) or null; C(scanops_scan_in_progress), a queued or running scan or null;
    C(scanops_connection), the connection options without credentials (C(api_url) as resolved from the environment)."
  - "C(counts) are the vendor's own, with its triaged findings: CloudGeni's scan summary, HarborGuard's vulnerabilities
    of the scan. Kolega batches, Penaxtra runs and AgileSec executions carry none (null, one more request per target
    would be needed); Penaxtra runs carry C(finding_count). M(scanops.security.scan_run) and the
    P(scanops.security.scan#lookup) lookup judge the findings themselves."
  - "Groups: C(scanops_<provider>); C(scanops_never_scanned), no finished scan is known; C(scanops_failed), the newest
    finished scan failed or was cancelled; C(scanops_critical), it completed with critical findings (where counts are
    known); C(scanops_stale), it finished longer ago than O(stale_after); C(scanops_scanning), a scan is queued or running."
seealso:
  - module: scanops.security.scan_run
  - plugin: scanops.security.scan
    plugin_type: lookup
'''

EXAMPLES = r'''
# scan_targets.yml: the five platforms, credentials from their environment variables
plugin: scanops.security.scan_targets
platforms:
  - provider: cloudgeni
    organization: org_123
  - provider: kolega
    scan_type: secrets_scan
  - provider: harborguard
    targets:
      - ghcr.io/acme/api:1.5.0-rc1
  - provider: penaxtra
  - provider: agilesec
stale_after: 7d

# One platform, only release images, groups by registry, cached for an hour
plugin: scanops.security.scan_targets
provider: harborguard
include_names:
  - "ghcr.io/acme/*"
exclude_names:
  - "*-rc*"
keyed_groups:
  - key: scanops_labels.registry
    prefix: registry
compose:
  risk: scanops_latest_scan.counts.critical | default(0)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/scanops-inventory
cache_timeout: 3600
'''

import re
import sys
import time

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.scanops.security.plugins.module_utils.common import (
    adapter_from_params,
    plugin_params,
    resolve_settings,
    scanops_argument_spec,
)
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.scans import ScanFailure, parse_max_age
from ansible_collections.scanops.security.plugins.module_utils.targets import (
    TARGET_OPTION,
    list_targets,
    matches_filters,
    platform_spec,
    scan_age,
    state_groups,
)

GROUP_PREFIX = "scanops_"
_NOT_IN_HOST_NAMES = re.compile(r"[\s:,\[\]*?!&~]")
# Credentials (no_log options, and the proxy's user) never reach host variables or the cache.
_PRIVATE_OPTIONS = set(name for name, option in scanops_argument_spec().items() if option.get("no_log"))
_PRIVATE_OPTIONS.update(("api_key", "proxy_username", "proxy_password"))


def host_name(provider, name):
    """``<provider>/<target name>``, with what host patterns read as separators or wildcards (``:`` of an image tag,
    ``,``, spaces, brackets, ``*``, ``?``, ``!``, ``&``, ``~``) turned into ``_``, so the name works with ``--limit``."""
    return "%s/%s" % (provider, _NOT_IN_HOST_NAMES.sub("_", name))


def connection_vars(params, api_url, organization):
    """The non-secret connection settings of a platform, as host variables."""
    values = dict((name, value) for name, value in params.items()
                  if name in scanops_argument_spec() and name not in _PRIVATE_OPTIONS)
    values.update(api_url=api_url, organization=organization)
    if values.get("proxy") and "@" in str(values["proxy"]):
        values["proxy"] = None  # a proxy URL with credentials in it is refused by the modules; never copy it
    return values


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Hosts from the scan targets of the configured platforms."""

    NAME = "scanops.security.scan_targets"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("scan_targets.yml", "scan_targets.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        unknown = sorted(set(config or {}) - set(self._options))
        if unknown:
            # The config manager would drop them silently; a typo must not shrink the inventory unnoticed.
            raise AnsibleParserError("%s: %s: unknown option %s (options: %s)"
                                     % (self.NAME, path, ", ".join(unknown), ", ".join(sorted(self._options))))
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        platforms = None
        if use_cache:
            try:
                platforms = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if platforms is None:
            platforms = self._list_platforms()
        if update_cache:
            self._cache[cache_key] = platforms
        self._populate(platforms)

    # -- reading the platforms ------------------------------------------------------------------------------
    def _platform_entries(self):
        """``(label, params)`` per platform: each entry over the top-level options, checked like module options."""
        entries = self.get_option("platforms")
        if entries is None:
            entries = [{}]
        if not isinstance(entries, list) or not entries:
            raise AnsibleParserError("%s: platforms must list at least one platform" % self.NAME)
        checked = []
        for index, entry in enumerate(entries):
            label = "platforms[%d]" % index if self.get_option("platforms") is not None else "the source"
            if not isinstance(entry, dict):
                raise AnsibleParserError("%s: %s must be a dictionary of connection options" % (self.NAME, label))
            try:
                params = plugin_params(self.get_option, extra_spec=platform_spec(), given=entry)
            except ScanopsError as err:
                raise AnsibleParserError("%s: %s: %s" % (self.NAME, label, err.message))
            checked.append(("%s (%s)" % (label, params["provider"]), params))
        return checked

    def _list_platforms(self):
        concurrency = self.get_option("concurrency")
        listed = []
        for label, params in self._platform_entries():
            started = time.time()
            try:
                _cls, api_url, _key, organization = resolve_settings(params)
                with adapter_from_params(params) as adapter:
                    targets = list_targets(adapter, params, concurrency=concurrency)
                    requests = adapter.client.stats["total"]
            except ScanFailure as failure:
                raise AnsibleParserError("%s: %s: %s" % (self.NAME, label, failure.msg))
            except ScanopsError as err:
                raise AnsibleParserError("%s: %s: %s" % (self.NAME, label, err.message))
            except (IOError, OSError, ValueError) as err:
                raise AnsibleParserError("%s: %s: configure the client: %s" % (self.NAME, label, to_native(err)))
            self.display.v("%s: %s: %d targets, %d requests in %.1f s"
                           % (self.NAME, label, len(targets), requests, time.time() - started))
            listed.append({"provider": params["provider"], "connection": connection_vars(params, api_url, organization),
                           "targets": targets})
        return listed

    # -- building the inventory -----------------------------------------------------------------------------
    def _populate(self, platforms):
        try:
            stale_after = parse_max_age(self.get_option("stale_after"))
        except ScanopsError as err:
            raise AnsibleParserError("%s: stale_after: %s" % (self.NAME, err.message.split(": ", 1)[-1]))
        include = self.get_option("include_names")
        exclude = self.get_option("exclude_names")
        labels = self.get_option("labels")
        strict = self.get_option("strict")
        now = time.time()
        for platform in platforms:
            provider = platform["provider"]
            for target in platform["targets"]:
                if not matches_filters(target, include, exclude, labels):
                    continue
                host = host_name(provider, target["name"])
                if host in self.inventory.hosts:
                    self.display.warning("%s: %s and another target of %s are both named %s; only the first is listed"
                                         % (self.NAME, target["name"], provider, host))
                    continue
                self.inventory.add_host(host)
                for name, value in self._host_vars(platform, target, now).items():
                    self.inventory.set_variable(host, name, value)
                for group in [provider] + state_groups(target, stale_after, now):
                    self.inventory.add_group(GROUP_PREFIX + group)
                    self.inventory.add_child(GROUP_PREFIX + group, host)
                variables = self.inventory.get_host(host).get_vars()
                self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
                variables = self.inventory.get_host(host).get_vars()
                self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

    @staticmethod
    def _host_vars(platform, target, now):
        latest = target.get("latest_scan")
        if latest is not None:
            latest = dict(latest, age_seconds=scan_age(latest, now))
        variables = {
            "ansible_connection": "local",
            # The Python running this inventory is the controller's (ansible-core 2.19 does not template plugin values).
            "ansible_python_interpreter": sys.executable,
            "scanops_provider": platform["provider"],
            "scanops_target_name": target["name"],
            "scanops_target": dict(target["options"]),
            "scanops_labels": dict(target.get("labels") or {}),
            "scanops_vendor": target.get("vendor") or {},
            "scanops_latest_scan": latest,
            "scanops_scan_in_progress": target.get("scan_in_progress"),
            "scanops_connection": dict(platform["connection"]),
        }
        for option, value in target["options"].items():
            variables["scanops_%s" % option] = value
        # Every host of a provider has its target variable, so a task can use it without a default.
        variables.setdefault("scanops_%s" % TARGET_OPTION[platform["provider"]], target["name"])
        return variables
