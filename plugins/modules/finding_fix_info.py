#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: finding_fix_info
short_description: List the AI fixes of a Kolega DevSec repository, with their pull requests
version_added: 0.1.0
description:
  - Lists the fixes of O(repository) (C(GET /api/v1/repositories/{id}/fixes), every page), one fix by O(fix_id), or the
    fixes of a finding selection, normalized as M(scanops.security.finding_fix) returns them.
  - "With a finding selection (O(ids) or the filters of M(scanops.security.finding_info)), O(match=exact) returns the
    fixes made for exactly the selected set of findings, the ones finding_fix adopts; O(match=any) returns every fix
    that includes one of them."
  - Only Kolega DevSec offers fixes; every other O(provider) fails before any request.
  - The module never changes anything.
author:
  - scanops engineering (@scanops)
extends_documentation_fragment:
  - scanops.security.scanops
  - scanops.security.findings
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  action_group:
    support: full
    membership: [scanops.security.scanops]
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
    details: The module only reads.
  platform:
    platforms: all
options:
  fix_id:
    description:
      - Only this fix. Not with a finding selection.
    type: str
  current_status:
    description:
      - With a finding selection, only findings currently in these statuses (normalized or Kolega's words).
    type: list
    elements: str
  match:
    description:
      - With a finding selection, V(exact) returns the fixes of exactly the selected set, V(any) those that include at
        least one selected finding.
    type: str
    choices: [exact, any]
    default: exact
  return_diff:
    description:
      - Add each fix's code diff as RV(fixes[].diff), one more request per fix.
    type: bool
    default: false
  return_progress:
    description:
      - Add each fix's progress (agent steps, duration, last activity) as RV(fixes[].progress), one more request per fix.
    type: bool
    default: false
notes:
  - Ids in O(ids) that are not in the repository are reported in a warning.
seealso:
  - module: scanops.security.finding_fix
'''

EXAMPLES = r'''
- name: Every fix of a repository
  scanops.security.finding_fix_info:
    provider: kolega
    repository: payments-service
  register: fixes

- name: Open pull requests of those fixes
  ansible.builtin.debug:
    msg: "{{ fixes.fixes | map(attribute='pull_request_urls') | flatten }}"

- name: Fixes that touch any critical finding, with their diffs
  scanops.security.finding_fix_info:
    provider: kolega
    repository: payments-service
    severity: [critical]
    match: any
    return_diff: true
'''

RETURN = r'''
fixes:
  description:
    - The fixes, newest first, in the shape of the C(fix) result of M(scanops.security.finding_fix).
    - Not in a failed result, so a failed read never looks like an empty one.
  returned: success
  type: list
  elements: dict
  contains:
    provider:
      description: The provider id, C(kolega).
      type: str
    id:
      description: Kolega's fix id.
      type: str
    repository_id:
      description: The Kolega repository id.
      type: str
    finding_ids:
      description: The finding ids of the fix, sorted.
      type: list
      elements: str
    status:
      description: Normalized status, V(queued), V(running), V(completed), V(failed) or V(cancelled).
      type: str
    vendor_status:
      description: Kolega's word.
      type: str
    title:
      description: The fix's title.
      type: str
    source_repo:
      description: The source repository fixed.
      type: str
    source_repo_provider:
      description: Where it lives.
      type: str
    branch:
      description: The branch the findings were detected on.
      type: str
    base_commit:
      description: The commit the fix was made on; null until Kolega says.
      type: str
    error_message:
      description: Why the fix failed, else null.
      type: str
    created_at:
      description: When the fix was created.
      type: str
    started_at:
      description: When the agent started; null before it starts.
      type: str
    completed_at:
      description: When it finished; null before it finishes.
      type: str
    pull_requests:
      description: The fix's pull requests (C(url), C(number), C(repository), C(branch), C(merge_status), C(created_at), C(merged_at)).
      type: list
      elements: dict
    pull_request_urls:
      description: Their URLs.
      type: list
      elements: str
    refinements:
      description: The follow-up instructions the fix was refined with; null when Kolega does not say.
      type: list
      elements: str
    progress:
      description: With O(return_progress), the progress answer; else null.
      type: dict
    diff:
      description: With O(return_diff), the code diff (null while the fix runs).
      type: str
    raw:
      description: Kolega's fix object.
      type: dict
  sample:
    - id: 6c1d4f0e-8a2b-4e57-9b1d-3f6a2c8e0d41
      finding_ids: [3f0d8f7a-2a51-5b8c-9c14-0b6e5d2a7c11]
      status: completed
      pull_request_urls: [https://github.com/acme/payments-api/pull/101]
count:
  description: Number of fixes returned.
  returned: success
  type: int
  sample: 1
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {"total": 2, "GET": 2, "retries": 0}
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
from ansible_collections.scanops.security.plugins.module_utils.fixes import finding_fix_info_spec, run_finding_fix_info


def main():
    argument_spec = scanops_argument_spec()
    argument_spec.update(finding_fix_info_spec())
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True)
    run_finding_fix_info(module)


if __name__ == '__main__':
    main()
