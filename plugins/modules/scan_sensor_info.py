#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: scan_sensor_info
short_description: List Keyfactor AgileSec scan sensors
version_added: 0.1.0
description:
  - Lists AgileSec scan sensors, or the one with a given name, with the secrets in their configuration masked.
  - "B(Assumed API): AgileSec documents no call to list sensors; the module uses C(GET /v3/sensors) as described
    in the collection's C(docs/assumptions.md)."
extends_documentation_fragment:
  - scanops.security.scanops
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  action_group:
    support: full
    membership: [scanops.security.scanops]
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  provider:
    description:
      - Sensors exist only on AgileSec, so only V(agilesec) is accepted.
    type: str
    required: true
    choices: [agilesec]
  name:
    description:
      - Only the sensor with exactly this name.
    type: str
notes:
  - Part of the C(scanops.security.scanops) action group.
seealso:
  - module: scanops.security.scan_sensor
author:
  - scanops engineering (@scanops)
'''

EXAMPLES = r'''
- name: All sensors
  scanops.security.scan_sensor_info:
    provider: agilesec
  register: all_sensors

- name: The payments sensor
  scanops.security.scan_sensor_info:
    provider: agilesec
    name: payments-git
  register: one

- name: Show where it reports and its last scan
  ansible.builtin.debug:
    msg: "callback {{ one.sensors[0].callbackId }}, last scan {{ one.sensors[0].lastExecutionId | default('none yet', true) }}"
  when: one.sensors | length == 1
'''

RETURN = r'''
sensors:
  description:
    - The matching sensors as the platform describes them (C(sensorId), C(sensorName), C(sensorType), C(sensorConfig),
      C(priority), C(callbackId), C(incrementalScan), C(autoResolutionInterval), C(labels), C(createdAt), C(updatedAt),
      C(lastExecutionId)), with the secrets in C(sensorConfig) shown as C(********).
    - Not in a failed result, so a failed read never looks like an empty one.
  returned: success
  type: list
  elements: dict
  sample:
    - sensorId: 65f1c2a9e8d7b6a5f4e3d2c2
      sensorName: payments-api-git
      sensorType: GIT Sensor
      sensorConfig: {repositoryUrl: "https://git.example.com/payments/api.git", token: "********"}
      priority: low
      labels: [{team: payments}]
      lastExecutionId: 65f1c2a9e8d7b6a5f4e3d2c3
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {total: 1, GET: 1, retries: 0}
error:
  description:
    - The request that failed, as the platform answered it (or why no answer came). Request headers and credentials
      are never in it, and the vendor's message and details have secrets removed.
    - The same in every module of the collection.
  returned: when a request to the platform failed
  type: dict
  contains:
    provider:
      description: The provider id.
      type: str
    status:
      description: The HTTP status; null when no answer arrived (connection refused or dropped, time-out).
      type: int
    code:
      description: The vendor's error code (C(not_found), C(RATE_LIMITED)...), or the kind of transport failure
        (C(ConnectError), C(ReadTimeout)...); null when the vendor sends none.
      type: str
    message:
      description: The vendor's message.
      type: str
    method:
      description: The HTTP method of the failed request.
      type: str
    path:
      description: The path of the failed request, without the query string.
      type: str
    retry_after:
      description: Seconds the platform asked to wait before trying again; null when it did not say.
      type: float
    details:
      description: The vendor's structured details (CloudGeni's C(existingScanId), for example); null when there are none.
      type: dict
    may_have_acted:
      description: True when the request reached the platform and may have taken effect although it failed (a create that
        timed out or got a server error); the module then looks for what it may have created before sending it again.
      type: bool
    undocumented:
      description: What the vendor's pages do not document and the platform refused, the call (C(GET /v3/sensors)) or
        a part of it (C(PUT /api/vulnerabilities/{vulnId}/triage with the body field status)).
      returned: when the platform refused a call, a field or a value the collection assumes
      type: str
    assumption:
      description: "Where the collection writes that assumption down, C(<provider>: <row>) of C(docs/assumptions.md),
        for example C(HarborGuard: Triage request body)."
      returned: when the platform refused a call, a field or a value the collection assumes
      type: str
  sample: {"provider": "harborguard", "status": 401, "code": "UNAUTHORIZED", "message": "Authentication required",
           "method": "GET", "path": "/api/scans", "retry_after": null, "details": null, "may_have_acted": false}
'''

from ansible_collections.scanops.security.plugins.module_utils.common import ScanopsModule, scanops_argument_spec
from ansible_collections.scanops.security.plugins.module_utils.sensors import run_scan_sensor_info


def main():
    argument_spec = scanops_argument_spec()
    argument_spec["provider"] = dict(argument_spec["provider"], choices=["agilesec"])
    argument_spec.update(
        name=dict(type="str"),
    )
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True)
    run_scan_sensor_info(module)


if __name__ == "__main__":
    main()
