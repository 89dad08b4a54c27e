# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: scan
short_description: The latest scan of a scan target, judged by a gate policy when one is given
version_added: 0.2.0
description:
  - For each target, the newest finished scan of it and the scan queued or running on it now, on CloudGeni, Kolega,
    HarborGuard, Penaxtra or AgileSec. The lookup reads; it never starts or waits for a scan.
  - With a gate option (O(fail_on), O(max_findings), O(max_risk_score), O(min_compliance_grade), O(ignore)) the
    scan is judged exactly as M(scanops.security.scan_run) judges it, and the verdict is in C(gate). Without one,
    the counts are still those the gate would count.
  - "Requests: the target's scan list (and its resolution, as M(scanops.security.scan_info) does), then what the gate
    counts: the finished scan's findings, or its body (HarborGuard); for AgileSec, the execution's findings in the
    Search API when O(search_username) and O(search_password) are given (else the gate sees none)."
  - Options are the modules' options, read the same way (environment variables included), and each platform's
    requests share the modules' client-side pace with every process on this controller.
author:
  - scanops engineering (@scanops)
extends_documentation_fragment:
  - scanops.security.scanops
  - scanops.security.scans
  - scanops.security.gate
  - scanops.security.agilesec_search
options:
  _terms:
    description:
      - The targets. A string is the provider's target, a CloudGeni or Kolega O(repository), a HarborGuard O(image), a
        Penaxtra O(integration_id) or an AgileSec O(sensor); a dictionary takes any of the target options
        (O(repository), O(branch), O(commit), O(scan_type), O(sensor), O(image), O(integration_id)).
      - Without terms, the target options of the lookup name the one target.
    type: list
    elements: raw
  provider:
    description:
      - The security platform to talk to.
      - If not set, the value of the E(SCANOPS_PROVIDER) environment variable is used; one of the two is required.
    required: false
  include_raw:
    description:
      - Keep the vendor's own scan body in C(scan.raw) and C(in_progress.raw).
    type: bool
    default: false
seealso:
  - module: scanops.security.scan_run
  - module: scanops.security.scan_info
  - plugin: scanops.security.findings
    plugin_type: lookup
  - plugin: scanops.security.scan_targets
    plugin_type: inventory
'''

EXAMPLES = r'''
- name: Latest scan of an image and whether it passes
  vars:
    latest: "{{ lookup('scanops.security.scan', 'ghcr.io/acme/api:1.4.7', provider='harborguard', fail_on='critical') }}"
  ansible.builtin.debug:
    msg: "{{ latest.scan.id }} {{ latest.scan.status }}, passes: {{ latest.gate.passed }}"

- name: Deploy only when the repository's newest secrets scan has no critical finding
  ansible.builtin.assert:
    that: >-
      lookup('scanops.security.scan', {'repository': 'payments-service', 'scan_type': 'secrets_scan'},
             provider='kolega', fail_on='critical').gate.passed

- name: Ages of the newest scans of several images (one answer per term)
  ansible.builtin.debug:
    msg: "{{ item.target }}: {{ item.scan.completed_at | default('never') }}"
  loop: "{{ query('scanops.security.scan', 'ghcr.io/acme/api:1.4.7', 'docker.io/library/nginx:1.25.3', provider='harborguard') }}"

- name: In an inventory of scan targets, the host's own target
  ansible.builtin.debug:
    msg: "{{ lookup('scanops.security.scan', scanops_target, provider=scanops_provider, fail_on='high').gate.message }}"
'''

RETURN = r'''
_raw:
  description: One answer per term.
  type: list
  elements: dict
  contains:
    target:
      description: The resolved target, in words.
      type: str
    scan:
      description:
        - The newest finished scan (completed, failed or cancelled), null when there is none, in the shape of
          M(scanops.security.scan_info)'s scans (C(provider), C(id), C(target), C(status), C(vendor_status),
          C(created_at), C(started_at), C(completed_at), C(duration_seconds), C(counts), C(url)).
        - C(counts) are the scan's findings by severity, those the vendor marks triaged included; C(gate.counts)
          leaves those out, as M(scanops.security.scan_run)'s gate does.
      type: dict
    in_progress:
      description: A queued or running scan of the target, null when there is none.
      type: dict
    gate:
      description:
        - With a gate option, the verdict on RV(_raw[].scan) in the shape of M(scanops.security.scan_run)'s C(gate)
          (C(passed), C(reasons), C(counts), C(message), ...); null without a gate option or without a finished scan.
      type: dict
'''

from ansible_collections.scanops.security.plugins.module_utils.common import agilesec_search_spec
from ansible_collections.scanops.security.plugins.module_utils.gate import POLICY_KEYS, policy_spec
from ansible_collections.scanops.security.plugins.module_utils.scans import latest_scan, scan_target_spec
from ansible_collections.scanops.security.plugins.plugin_utils.lookup import ScanopsLookup, without_raw


class LookupModule(ScanopsLookup):
    NAME = "scanops.security.scan"
    TERM_KEYS = tuple(scan_target_spec())

    def spec(self):
        spec = scan_target_spec()
        spec.update(policy_spec())
        spec.update(agilesec_search_spec())
        spec.update(include_raw=dict(type="bool", default=False))
        return spec

    def one(self, adapter, params):
        include_raw = params.pop("include_raw")
        target = dict((key, value) for key, value in params.items() if value is not None)
        judge = any(params.get(key) is not None for key in POLICY_KEYS)
        answer = latest_scan(adapter, target, judge=judge)
        self.warn(answer.pop("warnings"))
        answer["scan"] = without_raw(answer["scan"], include_raw)
        answer["in_progress"] = without_raw(answer["in_progress"], include_raw)
        return answer
