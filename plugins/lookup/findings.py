# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: findings
short_description: The findings of a scan target, selected as finding_info selects them
version_added: 0.2.0
description:
  - For each target, its findings in the normalized shape of M(scanops.security.finding_info), with the same scope
    and filter options (O(severity), O(status), O(rule_id), O(cve), O(package), O(path), O(ids), O(limit)).
  - "Scopes: a CloudGeni repository's scan (O(scan_id), else the repository's newest completed scan); a Kolega
    repository (optionally one scan batch, O(scan_id)); HarborGuard vulnerabilities of an image (O(image)) or of a scan
    (O(scan_id)); Penaxtra findings of a run (O(scan_id), else the newest completed run of O(integration_id));
    AgileSec cryptographic findings of a sensor (O(sensor)) or one execution (O(scan_id))."
  - Keyfactor AgileSec keeps its findings in the AgileSec Analytics Search API, which the lookup reads with
    O(search_username) and O(search_password) as M(scanops.security.finding_info) does, with the same crypto filters
    (O(kind), O(algorithm), O(key_size_below), O(expires_within_days), O(labels)).
  - Options are the modules' options, read the same way (environment variables included), and each platform's
    requests share the modules' client-side pace with every process on this controller.
author:
  - scanops engineering (@scanops)
extends_documentation_fragment:
  - scanops.security.scanops
  - scanops.security.findings
  - scanops.security.crypto_findings
  - scanops.security.agilesec_search
options:
  _terms:
    description:
      - The targets. A string is the provider's target, a CloudGeni or Kolega O(repository), a HarborGuard O(image) or a
        Penaxtra O(integration_id) or an AgileSec O(sensor); a dictionary takes O(repository), O(scan_id), O(image),
        O(integration_id) and O(sensor).
      - Without terms, the scope options of the lookup name the one scope.
      - The findings of every term are returned in one list.
    type: list
    elements: raw
  provider:
    description:
      - The security platform to talk to.
      - If not set, the value of the E(SCANOPS_PROVIDER) environment variable is used; one of the two is required.
    required: false
  integration_id:
    description:
      - Penaxtra only, the integration whose newest completed run's findings are listed, when O(scan_id) is not given.
    type: str
  status:
    description:
      - Only findings in these statuses, each a normalized status (V(open), V(acknowledged), V(in_progress),
        V(resolved), V(ignored), V(false_positive), V(needs_manual_review)) or the vendor's own word.
    type: list
    elements: str
  limit:
    description:
      - Return at most this many findings per target; listing stops at the page that reaches it.
    type: int
  include_raw:
    description:
      - Keep the vendor's own finding body in C(raw).
    type: bool
    default: false
notes:
  - Ids in O(ids) that are not in the scope, and the other warnings of M(scanops.security.finding_info), are shown as
    warnings.
seealso:
  - module: scanops.security.finding_info
  - plugin: scanops.security.scan
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Critical vulnerabilities of an image
  ansible.builtin.debug:
    msg: "{{ item.rule_id }} in {{ item.location.package }}"
  loop: "{{ query('scanops.security.findings', 'ghcr.io/acme/api:1.4.7', provider='harborguard', severity=['critical']) }}"

- name: Open findings of a CloudGeni repository's newest completed scan
  ansible.builtin.set_fact:
    open_findings: "{{ query('scanops.security.findings', 'myorg/infrastructure', provider='cloudgeni',
                             organization='org_123', status=['open']) }}"

- name: How many high findings the newest run of a cloud account has
  ansible.builtin.debug:
    msg: "{{ query('scanops.security.findings', '3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03', provider='penaxtra',
                   severity=['high']) | length }}"

- name: Keys shorter than 2048 bits that an AgileSec sensor found (Search API user from the environment)
  ansible.builtin.debug:
    msg: "{{ item.location.file }}: {{ item.crypto.algorithm }} {{ item.crypto.key_size }} bits"
  loop: "{{ query('scanops.security.findings', 'payments-git', provider='agilesec', kind=['key'], key_size_below=2048) }}"
'''

RETURN = r'''
_raw:
  description:
    - The findings of every term, in the shape of M(scanops.security.finding_info)'s C(findings) (C(id), C(provider),
      C(rule_id), C(title), C(severity), C(status), C(vendor_status), C(location), C(first_seen), and for AgileSec
      C(crypto)).
  type: list
  elements: dict
'''

from ansible_collections.scanops.security.plugins.module_utils.common import agilesec_search_spec
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.findings import (
    crypto_selection_spec,
    finding_selection_spec,
    finding_source,
    select_findings,
)
from ansible_collections.scanops.security.plugins.module_utils.scans import ScanFailure, newest_completed_scan
from ansible_collections.scanops.security.plugins.plugin_utils.lookup import ScanopsLookup, without_raw


class LookupModule(ScanopsLookup):
    NAME = "scanops.security.findings"
    TERM_KEYS = ("repository", "scan_id", "image", "integration_id", "sensor")

    def spec(self):
        spec = finding_selection_spec()
        spec.update(crypto_selection_spec())
        spec.update(agilesec_search_spec())
        spec.update(
            integration_id=dict(type="str"),
            status=dict(type="list", elements="str"),
            limit=dict(type="int"),
            include_raw=dict(type="bool", default=False),
        )
        return spec

    def run(self, terms, variables=None, **kwargs):
        # One flat list: the findings of every term.
        return [finding for answer in super(LookupModule, self).run(terms, variables, **kwargs) for finding in answer]

    def one(self, adapter, params):
        include_raw = params.pop("include_raw")
        limit = params.pop("limit")
        if limit is not None and limit < 1:
            raise ScanopsError("limit must be 1 or more, got %d" % limit)
        integration = params.pop("integration_id")
        if integration and adapter.NAME != "penaxtra":
            raise ScanopsError("integration_id: only Penaxtra findings belong to an integration")
        if not params.get("scan_id") and (adapter.NAME == "cloudgeni" and params.get("repository") or integration):
            # CloudGeni findings live below a scan, Penaxtra's name their run: the newest completed one.
            scope = {"repository": params.get("repository")} if adapter.NAME == "cloudgeni" else {"integration_id": integration}
            params["scan_id"] = newest_completed_scan(adapter, scope)
            if params["scan_id"] is None:
                return []
        source, selection = finding_source(adapter, params, "status")
        try:
            found, missing = select_findings(source, selection, limit=limit)
        except ScanopsError as err:
            raise ScanFailure(err, "List", source.describe_scope())
        self.warn(source.warnings)
        if missing:
            self.warn(["ids not found in %s: %s" % (source.describe_scope(), ", ".join(missing))])
        return [without_raw(finding, include_raw) for finding in found]
