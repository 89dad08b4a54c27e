#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: scan_info
short_description: List or get scans of a target on a security platform
version_added: 0.1.0
description:
  - Lists the scans of a target with the vendor's own filters, following every page, or gets one scan by O(scan_id).
  - Every scan is normalized (provider, id, target, status, times, counts, url) and keeps the vendor's body under C(raw).
  - "Per provider: CloudGeni scans of a O(repository) (filters O(status), O(branch), O(scan_type), and O(commit), which
    matches the scans whose commit SHA starts with it); Kolega scan batches of a O(repository) (filters O(scan_type),
    O(status)); the last execution of an AgileSec O(sensor) (AgileSec has no execution list), or any execution by
    O(scan_id); HarborGuard scans, optionally of one O(image) (filters O(status), O(sort)); Penaxtra runs (the newest 100),
    optionally of one O(integration_id) (filter O(status))."
  - "ASSUMPTIONS where the vendors are silent (rows of the collection's C(docs/assumptions.md)): an AgileSec sensor given
    by name is found with C(GET /v3/sensors?name=), and a sensor's last execution is the C(lastExecutionId) of
    C(GET /v3/sensors/{sensorId}); AgileSec executions report C(pending) and C(running) before the documented
    C(successful) or C(failed); HarborGuard scans of an O(image) are found with C(GET /api/scans?search=<image>).
    An execution read by O(scan_id) with a sensor id uses only the documented C(GET /v3/scan/{executionId}) (the
    execution must belong to that sensor)."
  - When a platform answers an assumed call with HTTP 404 or 405 the task fails with a message naming the assumption.
  - Read-only; never reports a change.
author:
  - scanops engineering (@scanops)
extends_documentation_fragment:
  - scanops.security.scanops
  - scanops.security.scans
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
    description: Scans are not configuration; there is nothing to diff.
options:
  scan_id:
    description:
      - Get this one scan (CloudGeni scan, Kolega batch, AgileSec execution, HarborGuard scan or Penaxtra run id).
    type: str
  status:
    description:
      - List only scans with this status, a normalized word (V(queued), V(running), V(completed), V(failed), V(cancelled))
        or the vendor's own (for example HarborGuard C(COMPLETE) or Kolega C(partial_failure)).
    type: str
  sort:
    description:
      - HarborGuard only, the vendor's sort spec, for example C(scannedAt:desc) (sortable are scannedAt, status, compliance,
        riskScore). Without it scans are listed newest first.
    type: str
seealso:
  - module: scanops.security.scan_run
'''

EXAMPLES = r'''
- name: Completed scans of the main branch
  scanops.security.scan_info:
    provider: cloudgeni
    organization: org_123
    repository: myorg/infrastructure
    branch: main
    status: completed
  register: history

- name: One HarborGuard scan
  scanops.security.scan_info:
    provider: harborguard
    scan_id: scn-3kp9q1

- name: HarborGuard scans of an image, worst risk first
  scanops.security.scan_info:
    provider: harborguard
    image: ghcr.io/acme/api:1.4.7
    sort: riskScore:desc

- name: Running Kolega secrets scans
  scanops.security.scan_info:
    provider: kolega
    repository: payments-service
    scan_type: secrets_scan
    status: running
'''

RETURN = r'''
scans:
  description:
    - The scans found, normalized, each with the vendor's body under C(raw).
    - Not in a failed result, so a failed read never looks like an empty one.
  returned: success
  type: list
  elements: dict
  contains:
    provider:
      description: Provider id.
      type: str
    id:
      description: The vendor's scan id.
      type: str
    target:
      description: What was scanned; null when the vendor's scan body does not say (HarborGuard's scan list names only
        a tag id).
      type: str
    status:
      description: Normalized status, one of queued, running, completed, failed, cancelled.
      type: str
    vendor_status:
      description: The vendor's own status word.
      type: str
    created_at:
      description: When the scan was created; null when the vendor does not say.
      type: str
    started_at:
      description: When the scan started; null when the vendor does not say (or it has not started).
      type: str
    completed_at:
      description: When the scan finished; null when the vendor does not say (or it has not finished).
      type: str
    duration_seconds:
      description: Run time in seconds; null when it is not known.
      type: float
    counts:
      description: Findings per severity as the vendor's scan body reports them (zeros when it reports none).
      type: dict
    url:
      description: The vendor's dashboard URL; null when it gives none.
      type: str
    raw:
      description: The vendor's own scan body.
      type: dict
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
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
from ansible_collections.scanops.security.plugins.module_utils.scans import scan_adapter, scan_info, scan_target_spec


def argument_spec():
    spec = scanops_argument_spec()
    spec.update(scan_target_spec())
    spec.update(
        scan_id=dict(type="str"),
        status=dict(type="str"),
        sort=dict(type="str"),
    )
    return spec


def main():
    module = ScanopsModule(argument_spec=argument_spec(), supports_check_mode=True)
    with scan_adapter(module) as adapter:
        scans = scan_info(adapter, module.params)
    module.exit_json(changed=False, scans=scans, api_calls=adapter.client.stats)


if __name__ == "__main__":
    main()
