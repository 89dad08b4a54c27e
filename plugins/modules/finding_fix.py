#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: finding_fix
short_description: Make sure chosen findings have a finished AI fix, and its pull requests, on Kolega DevSec
version_added: 0.1.0
description:
  - Desired state for Kolega DevSec remediation, "these findings have a fix that has finished" (O(state=present)),
    "... and its pull requests are open" (O(state=pull_request)), or "no fix for them is pending or running"
    (O(state=absent)).
  - The findings are chosen in O(repository) by O(ids) or by the same filters as M(scanops.security.finding_info)
    (O(severity), O(rule_id), O(cve), O(path), O(scan_id), O(current_status)); the ids are the ones finding_info and
    M(scanops.security.finding_status) return.
  - A fix is identified by the exact set of finding ids it was created for, in any order. A pending, running or
    completed fix for that set is adopted; otherwise one is created with C(POST /api/v1/repositories/{id}/fixes).
    When several exist (fixes cannot be deleted), the one with pull requests wins, then the newest, with a warning.
  - A create whose answer is lost (timeout, dropped connection, server error) is never sent again blindly; the fixes
    of the set are listed first and a fix that appeared is adopted. The same holds for the pull request call, and a
    fix that has pull requests never gets a second set.
  - Before a create or a pull request call the quota balance is read (C(GET /api/v1/quotas/balance)); when the quota
    the call draws on has nothing left, the task fails before the call, naming the quota, what is left and when the
    period resets.
  - Waiting polls the fix's progress endpoint (C(.../fixes/{fix_id}/progress)), the vendor's polling call, with the
    same discipline as M(scanops.security.scan_run).
  - A converged re-run sends only reads, the findings list, the fixes list and the fix's progress.
  - Only Kolega DevSec offers fixes; every other O(provider) fails before any request.
  - "ASSUMPTIONS where Kolega is silent (see C(docs/assumptions.md)): creating a fix and opening its pull requests
    both draw on the C(prs) quota (refine and cancel on none); a fix lists the follow-up instructions it was refined
    with under C(refinements) (C([{instructions, created_at}])), which O(refine) reads to send each text once."
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
    details: Every read is sent (findings, fixes, repository, quota balance) and no write; RV(actions) and C(changed)
      say what a real run would create, refine, open or cancel, and an exhausted quota fails as it would.
  diff_mode:
    support: full
    details: Before and after of the fix, its status, finding ids, refinements and pull request URLs.
  platform:
    platforms: all
options:
  state:
    description:
      - V(present), a fix for exactly the selected findings exists and has finished (with O(wait)).
      - V(pull_request), the same, and the fix's pull requests are open.
      - V(absent), every pending or running fix for the set is cancelled; finished fixes are left as they are
        because the API cannot delete them.
    type: str
    choices: [present, pull_request, absent]
    default: present
  current_status:
    description:
      - Only findings currently in these statuses, each a normalized status or Kolega's word, for example V(open).
      - The selection is made on every run, so a finding whose status changes leaves or joins the set, and a
        different set is a different fix. Select by O(ids) to pin the set.
    type: list
    elements: str
  title:
    description:
      - The fix's title, 1 to 200 characters. Required unless O(state=absent).
      - Used only when a fix is created; an adopted fix with another title is kept, with a warning.
    type: str
  instructions:
    description:
      - What the fix agent is asked to do. Required unless O(state=absent).
      - Used only when a fix is created.
    type: str
  source_repo:
    description:
      - The source repository to fix, its full name (C(owner/name)), one of the Kolega repository's source repositories.
      - Defaults to the repository's only source repository; required when it has several.
    type: str
  source_repo_provider:
    description:
      - Where O(source_repo) lives. Defaults to the provider Kolega lists for it, else Kolega's default (V(github)).
    type: str
    choices: [github, gitlab, azure_devops]
  branch:
    description:
      - The branch the findings were detected on (C(source_scan_branch)); the repository's default branch when not set.
    type: str
  refine:
    description:
      - Follow-up instructions for a completed fix. They are sent once per distinct text (leading and trailing
        blanks ignored) with C(POST .../refine), then the re-run is waited for; a run with the same text again sends
        nothing.
      - Whether a text was applied is read from the fix's C(refinements) list, an assumption (see the description);
        when Kolega does not return that list the task fails instead of refining again.
      - Up to 12,000 characters.
    type: str
  retry_failed:
    description:
      - When the newest fix for the set failed and none is pending, running or completed, create another one.
      - By default the task fails and shows the failed fix's error.
    type: bool
    default: false
  pull_request:
    description:
      - With O(state=pull_request), how the pull requests are opened; Kolega generates what is not set.
      - Used only when the pull requests are opened.
    type: dict
    suboptions:
      title:
        description: Pull request title.
        type: str
      body:
        description: Pull request body, Markdown.
        type: str
      branch_name:
        description: Branch to push the change to.
        type: str
  wait:
    description:
      - Wait for the fix (and a refinement) to finish. Without waiting, O(refine) and the pull requests of
        O(state=pull_request) wait for a later run once the fix has completed.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for the fix to finish. When it passes the task fails with the fix id and its status;
        a re-run adopts the fix.
    type: int
    default: 1800
  wait_sleep:
    description:
      - Seconds between two progress polls while the fix is young; once a fifth of the time already waited is longer,
        polls are that far apart, up to 60 seconds. 5 seconds when not set. Smaller values are meant for tests.
    type: float
  return_diff:
    description:
      - Add the fix's code diff (C(GET .../diff)) to the result as RV(fix.diff).
    type: bool
    default: false
notes:
  - An id in O(ids) that is not in the repository fails the task before anything is sent.
  - When no finding matches the selection the task does nothing and warns.
  - A fix that fails fails the task with Kolega's error message; the fix id is in RV(fix) so it can be inspected.
seealso:
  - module: scanops.security.finding_fix_info
  - module: scanops.security.finding_info
'''

EXAMPLES = r'''
- name: Scan the repository for committed secrets (or reuse a scan from the last hour)
  scanops.security.scan_run:
    provider: kolega
    repository: payments-service
    scan_type: secrets_scan
    max_age: 1h
  register: scan

- name: Critical secrets findings of that scan have a fix with an open pull request
  scanops.security.finding_fix:
    provider: kolega
    repository: payments-service
    scan_id: "{{ scan.scan.id }}"
    severity: [critical]
    current_status: [open]
    state: pull_request
    source_repo: acme/payments-api
    title: Remove hard-coded credentials
    instructions: Read the secrets from the environment and delete them from the code.
    pull_request:
      title: "security: remove hard-coded credentials"
  register: remediation

- name: Show the pull requests
  ansible.builtin.debug:
    msg: "{{ remediation.pull_request_urls }}"

- name: Ask the agent for a follow-up on the same fix (sent once)
  scanops.security.finding_fix:
    provider: kolega
    repository: payments-service
    ids: "{{ remediation.finding_ids }}"
    source_repo: acme/payments-api
    title: Remove hard-coded credentials
    instructions: Read the secrets from the environment and delete them from the code.
    refine: List the variables the code now reads in .env.example.

- name: Start a fix and come back for it later
  scanops.security.finding_fix:
    provider: kolega
    repository: payments-service
    rule_id: [python.requests.security.disabled-cert-validation.disabled-cert-validation]
    source_repo: acme/payments-api
    title: Verify TLS certificates
    instructions: Remove verify=False and pass the internal CA bundle to the HTTP client.
    wait: false

- name: Stop the fix of those findings while it is still running
  scanops.security.finding_fix:
    provider: kolega
    repository: payments-service
    rule_id: [python.requests.security.disabled-cert-validation.disabled-cert-validation]
    state: absent
'''

RETURN = r'''
fix:
  description:
    - The fix for the selected findings as it is at the end of the run; null when there is none (or, in check mode,
      before one would be created).
    - In a failed result, the fix as far as the run got (created or adopted before a later step failed, or the fix that
      failed); null when the run failed before it found or created one.
  returned: always
  type: dict
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
    title:
      description: The fix's title.
      type: str
    status:
      description: Normalized status, V(queued), V(running), V(completed), V(failed) or V(cancelled).
      type: str
    vendor_status:
      description: Kolega's word (C(pending), C(running), C(completed), C(failed), C(cancelled)).
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
    pull_requests:
      description: The fix's pull requests.
      type: list
      elements: dict
      contains:
        url:
          description: Pull request URL.
          type: str
        number:
          description: Pull request number.
          type: int
        repository:
          description: Repository full name.
          type: str
        branch:
          description: Branch of the change.
          type: str
        merge_status:
          description: Kolega's merge status (C(open), ...).
          type: str
        created_at:
          description: When it was opened.
          type: str
        merged_at:
          description: When it was merged, else null.
          type: str
    pull_request_urls:
      description: The URLs of RV(fix.pull_requests).
      type: list
      elements: str
    refinements:
      description: The follow-up instructions the fix was refined with, oldest first; null when Kolega does not say.
      type: list
      elements: str
    progress:
      description: The last progress answer, agent steps, duration and last activity; null when the run read none.
      type: dict
    diff:
      description: The code diff; null while the fix runs. Read last, so a failed result has none.
      returned: with O(return_diff=true), not in a failed result
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
    raw:
      description: Kolega's fix object.
      type: dict
  sample:
    id: 6c1d4f0e-8a2b-4e57-9b1d-3f6a2c8e0d41
    finding_ids: [3f0d8f7a-2a51-5b8c-9c14-0b6e5d2a7c11]
    status: completed
    vendor_status: completed
    pull_request_urls: [https://github.com/acme/payments-api/pull/101]
pull_request_urls:
  description: The fix's pull request URLs (empty when none are open, and in a failed result before there was a fix).
  returned: always
  type: list
  elements: str
  sample: [https://github.com/acme/payments-api/pull/101]
findings:
  description: The selected findings, sorted by id (empty in a failed result when the run failed before selecting them).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Finding id.
      type: str
    rule_id:
      description: Kolega check id.
      type: str
    severity:
      description: Normalized severity.
      type: str
    status:
      description: Normalized finding status.
      type: str
    file:
      description: File path.
      type: str
finding_ids:
  description: The ids of the selected findings, sorted; the identity of the fix (empty in a failed result when the run
    failed before selecting them).
  returned: always
  type: list
  elements: str
actions:
  description:
    - What the run did, or in check mode would do, in order, V(create), V(adopt), V(refine), V(open_pull_requests),
      V(cancel).
    - In a failed result, what was done before the failure.
  returned: always
  type: list
  elements: str
  sample: [create, open_pull_requests]
cancelled:
  description: With O(state=absent), the ids of the fixes cancelled (in check mode, that would be); empty otherwise, and
    in a failed result before any was cancelled.
  returned: always
  type: list
  elements: str
state:
  description: The O(state) asked for, also in a failed result; null there only when Ansible refused the options (a value
    outside an option's choices, a missing required option) before the module could read them.
  returned: always
  type: str
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {"total": 6, "GET": 4, "POST": 2, "retries": 0}
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
from ansible_collections.scanops.security.plugins.module_utils.fixes import FIX_NOT_REACHED, finding_fix_spec, run_finding_fix


def main():
    argument_spec = scanops_argument_spec()
    argument_spec.update(finding_fix_spec())
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True, failure_defaults=FIX_NOT_REACHED)
    run_finding_fix(module)


if __name__ == '__main__':
    main()
