#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: callback_endpoint
short_description: Register AgileSec callback endpoints and CloudGeni scan.completed webhooks
version_added: 0.1.0
description:
  - Creates, updates or removes the endpoint a platform calls when a scan ends.
  - With O(provider=agilesec), an AgileSec callback endpoint (Settings, Callback Endpoints); scans and
    sensors reference it by its 24-hex Callback ID. The endpoint is found by its O(name).
  - With O(provider=cloudgeni), a CloudGeni webhook for the C(scan.completed) event. CloudGeni webhooks
    have no name, so the webhook is found by its O(url), and O(name) must not be set.
  - "B(Assumed API): neither vendor documents an API for these registrations; the module uses the
    endpoints described in the collection's C(docs/assumptions.md): C(/v3/callback-endpoints) for
    AgileSec and C(/organizations/{orgId}/webhooks) for CloudGeni."
  - The token can't be read back from the platform, so it is never compared; O(update_token) decides
    when it is sent.
  - AgileSec calls the URL when an endpoint is registered or its URL changes; if nothing answers the
    module fails and says that the URL is not reachable.
extends_documentation_fragment:
  - scanops.security.scanops
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  action_group:
    support: full
    membership: [scanops.security.scanops]
  check_mode:
    support: full
    description: Every read is done, no write; C(changed) is what a real run would report.
  diff_mode:
    support: full
    description:
      - Before and after, as the platform will hold the endpoint (a header name is cleared when the auth type is no
        longer C(api_token)). The token is shown as C(********) when it is sent, and as C((write-only, unknown)) for a
        stored one that is replaced or dropped.
options:
  name:
    description:
      - Name of the AgileSec callback endpoint, its natural key (at most 200 characters).
      - Required for O(provider=agilesec); not supported for O(provider=cloudgeni).
    type: str
  url:
    description:
      - The URL the platform calls (at most 200 characters). HTTPS is recommended; plain C(http://) gives a warning.
      - Required to create an AgileSec endpoint, and always for O(provider=cloudgeni), where it is the natural key.
    type: str
  auth_type:
    description:
      - "AgileSec only, how the platform authenticates to the endpoint. V(bearer) sends
        C(Authorization: Bearer <token>), V(api_token) sends the token in the header O(header_name)."
      - When not set, an existing endpoint keeps its type and a new one gets V(none).
    type: str
    choices: [none, bearer, api_token]
  header_name:
    description:
      - AgileSec only, the header that carries the token with O(auth_type=api_token), for example C(X-Custom-Auth).
      - Required with O(auth_type=api_token).
    type: str
  token:
    description:
      - With O(provider=agilesec), the credential sent to the endpoint; required with O(auth_type=bearer) and O(auth_type=api_token).
      - With O(provider=cloudgeni), the secret the webhook payloads are signed with.
      - Write-only, never read back or compared; see O(update_token).
    type: str
  update_token:
    description:
      - V(on_create) sends O(token) only when the endpoint is created, and when O(auth_type) or O(header_name) changes
        (the token goes with the credential it belongs to; the platform would otherwise keep the old one).
      - V(always) sends it on every run and so always reports a change.
    type: str
    choices: [always, on_create]
    default: on_create
  events:
    description:
      - CloudGeni only, the events the webhook receives; C(scan.completed) is the only one.
      - When not set, an existing webhook keeps its events and a new one gets C([scan.completed]).
    type: list
    elements: str
  active:
    description:
      - CloudGeni only, whether the webhook is delivered to.
      - When not set, an existing webhook keeps its state and a new one is active.
    type: bool
  state:
    description:
      - V(present) creates or updates the endpoint, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Only the options that are set are compared and sent.
  - Part of the C(scanops.security.scanops) action group.
seealso:
  - module: scanops.security.callback_endpoint_info
  - module: scanops.security.scan_sensor
author:
  - scanops engineering (@scanops)
'''

EXAMPLES = r'''
- name: Register the AgileSec callback endpoint that receives the scan results
  scanops.security.callback_endpoint:
    provider: agilesec
    name: scanops-results
    url: https://hooks.acme.example/scanops
    auth_type: bearer
    token: "{{ vault_callback_token }}"
  register: callback

- name: Rotate its token (sent on every run while update_token is always)
  scanops.security.callback_endpoint:
    provider: agilesec
    name: scanops-results
    auth_type: bearer
    token: "{{ vault_new_callback_token }}"
    update_token: always

- name: CloudGeni scan.completed webhook to the same receiver, signed with a secret
  scanops.security.callback_endpoint:
    provider: cloudgeni
    organization: org_123
    url: https://hooks.acme.example/cloudgeni
    token: "{{ vault_webhook_secret }}"

- name: Remove the endpoint of the retired CI receiver
  scanops.security.callback_endpoint:
    provider: agilesec
    name: legacy-ci-results
    state: absent
'''

RETURN = r'''
callback_id:
  description:
    - The AgileSec Callback ID (24 hex characters) that scans and sensors reference, or the CloudGeni webhook id.
    - Null when there is no such endpoint (about to be created in check mode, or O(state=absent) and already gone).
    - After a removal (in check mode, one that would be done), the id the removed endpoint had.
    - In a failed result, the id as far as the run got; null when it failed before it found or created the endpoint.
  returned: always
  type: str
  sample: 65f1c2a9e8d7b6a5f4e3d2c1
endpoint:
  description:
    - The endpoint as the platform describes it, without the token. Null once removed (in check mode, when it would
      be), and when it does not exist.
    - In check mode, the endpoint as it would be.
    - In a failed result, the endpoint as the run last saw it; null when the run failed before it looked it up.
  returned: always
  type: dict
  sample:
    callbackId: 65f1c2a9e8d7b6a5f4e3d2c1
    name: scans-callback-prod
    url: https://hooks.example.com/agilesec
    authType: api_token
    headerName: X-Custom-Auth
    createdAt: "2025-01-15T10:30:00Z"
    updatedAt: "2025-01-15T10:30:00Z"
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {total: 2, GET: 1, POST: 1, retries: 0}
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

from ansible_collections.scanops.security.plugins.module_utils.callbacks import ENDPOINT_NOT_REACHED, run_callback_endpoint
from ansible_collections.scanops.security.plugins.module_utils.common import ScanopsModule, scanops_argument_spec


def main():
    argument_spec = scanops_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        url=dict(type="str"),
        auth_type=dict(type="str", choices=["none", "bearer", "api_token"]),
        header_name=dict(type="str"),
        token=dict(type="str", no_log=True),
        update_token=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
        events=dict(type="list", elements="str"),
        active=dict(type="bool"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True, failure_defaults=ENDPOINT_NOT_REACHED)
    run_callback_endpoint(module)


if __name__ == "__main__":
    main()
