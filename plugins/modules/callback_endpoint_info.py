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
    - Not in a failed result, so a failed read never looks like an empty one.
  returned: success
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

from ansible_collections.scanops.security.plugins.module_utils.callbacks import run_callback_endpoint_info
from ansible_collections.scanops.security.plugins.module_utils.common import ScanopsModule, scanops_argument_spec


def main():
    argument_spec = scanops_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        url=dict(type="str"),
    )
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True)
    run_callback_endpoint_info(module)


if __name__ == "__main__":
    main()
