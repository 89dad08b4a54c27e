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
  returned: always
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
  description: HTTP requests sent, by method, with C(total) and C(retries).
  returned: always
  type: dict
  sample: {total: 1, GET: 1, retries: 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scanops.security.plugins.module_utils.common import scanops_argument_spec
from ansible_collections.scanops.security.plugins.module_utils.sensors import run_scan_sensor_info


def main():
    argument_spec = scanops_argument_spec()
    argument_spec["provider"] = dict(argument_spec["provider"], choices=["agilesec"])
    argument_spec.update(
        name=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_scan_sensor_info(module)


if __name__ == "__main__":
    main()
