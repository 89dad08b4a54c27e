#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: callback_endpoint_info
short_description: List AgileSec callback endpoints and CloudGeni webhooks
version_added: 0.1.0
description:
  - Lists the AgileSec callback endpoints (O(provider=agilesec)) or the CloudGeni webhooks (O(provider=cloudgeni)),
    never with their tokens.
  - "B(Assumed API): the module uses the list endpoints described in the collection's C(docs/assumptions.md)."
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
  name:
    description:
      - Only the AgileSec endpoint with exactly this name. Not supported for O(provider=cloudgeni), whose webhooks have no name.
    type: str
  url:
    description:
      - Only the endpoints or webhooks with exactly this URL.
    type: str
notes:
  - Part of the C(scanops.security.scanops) action group.
seealso:
  - module: scanops.security.callback_endpoint
author:
  - scanops engineering (@scanops)
'''

EXAMPLES = r'''
- name: Look up the Callback ID of an endpoint
  scanops.security.callback_endpoint_info:
    provider: agilesec
    name: scanops-results
  register: found

- name: Use it
  ansible.builtin.debug:
    msg: "{{ found.endpoints[0].callbackId }}"
  when: found.endpoints | length == 1

- name: All CloudGeni webhooks of an organization
  scanops.security.callback_endpoint_info:
    provider: cloudgeni
    organization: org_123
'''

RETURN = r'''
endpoints:
  description:
    - The matching AgileSec endpoints (C(callbackId), C(name), C(url), C(authType), C(headerName), C(createdAt), C(updatedAt))
      or CloudGeni webhooks (C(id), C(url), C(events), C(active), C(createdAt)), without tokens.
  returned: always
  type: list
  elements: dict
  sample:
    - callbackId: 65f1c2a9e8d7b6a5f4e3d2c1
      name: scans-callback-prod
      url: https://hooks.example.com/agilesec
      authType: bearer
      createdAt: "2025-01-15T10:30:00Z"
      updatedAt: "2025-01-15T10:30:00Z"
api_calls:
  description: HTTP requests sent, by method, with C(total) and C(retries).
  returned: always
  type: dict
  sample: {total: 1, GET: 1, retries: 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.scanops.security.plugins.module_utils.callbacks import run_callback_endpoint_info
from ansible_collections.scanops.security.plugins.module_utils.common import scanops_argument_spec


def main():
    argument_spec = scanops_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        url=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_callback_endpoint_info(module)


if __name__ == "__main__":
    main()
