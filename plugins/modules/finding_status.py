#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: finding_status
short_description: Set the status of findings in bulk (CloudGeni, Kolega, HarborGuard, Penaxtra)
version_added: 0.1.0
description:
  - Desired state for findings, the selected findings carry O(status).
  - Selects findings within a scope by O(ids) or by the same filters as M(scanops.security.finding_info), lists every page
    once, and writes only the findings whose status (or, for HarborGuard, O(note) or O(assignee)) differs. A re-run on
    converged findings sends no write at all.
  - For N findings the requests are the list pages (the largest page each vendor allows) plus one write per changed finding,
    sent over one connection pool by at most O(concurrency) threads, paced by the client-side rate limiter.
  - "Writes per provider: Kolega C(PATCH /api/v1/repositories/{id}/findings/{findingId});
    HarborGuard C(PUT /api/vulnerabilities/{vulnId}/triage) with the body C({status, assignee, note}), whose field names
    are an assumption (the page documents the call and the triage object it echoes, not the request body);
    Penaxtra C(PATCH /api/v2/findings/{id}), where the page lists the statuses only as C(open), C(triaged), ... so
    C(in_progress), C(fixed), C(risk_accepted) and C(false_positive) are an assumption;
    CloudGeni C(PATCH .../scans/{scanId}/findings/{findingId}), an assumption because CloudGeni documents no such
    call. See the collection's C(docs/assumptions.md)."
  - When a platform refuses an assumed call, body field or status value (HTTP 404 or 405, or its validation error),
    the task fails with one message naming the assumption and sends no further writes.
  - When some writes fail after their retries (HTTP 5xx or 429), the task fails and reports which findings were changed
    (RV(changed_findings)) and which were not (RV(failed_findings)); a re-run writes only what is still different.
  - Keyfactor AgileSec documents no request that writes a finding's status (its findings are read through the Search API
    only); O(provider=agilesec) fails before any request with an error saying so. Accept known AgileSec findings with the
    O(scanops.security.scan_run#module:ignore) option of M(scanops.security.scan_run) instead.
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
    details: Every list request is sent, no write is; the result says what a real run would change.
  diff_mode:
    support: full
    details: Before and after status per finding, or a summary with counts when more than 50 findings change.
  platform:
    platforms: all
options:
  status:
    description:
      - The status the selected findings must carry, a normalized status or the vendor's own word (any case).
      - "Normalized to vendor: V(open) is C(open) everywhere (HarborGuard C(OPEN)); V(acknowledged) is HarborGuard
        C(ACKNOWLEDGED) and Penaxtra C(triaged); V(in_progress) is HarborGuard C(IN_PROGRESS) and Penaxtra C(in_progress);
        V(resolved) is CloudGeni and Kolega C(resolved), HarborGuard C(FIXED) and Penaxtra C(fixed); V(ignored) is
        CloudGeni C(suppressed), Kolega C(ignored), HarborGuard C(WONT_FIX) and Penaxtra C(risk_accepted);
        V(false_positive) is Kolega and Penaxtra C(false_positive); V(needs_manual_review) is Kolega only."
      - A status the provider does not have is an error that lists the ones it has.
    type: str
    required: true
  note:
    description:
      - HarborGuard only, the triage note. When set, a finding whose note differs is written too.
      - An error for the other providers, whose findings cannot store one.
    type: str
  assignee:
    description:
      - HarborGuard only, the triage assignee. When set, a finding whose assignee differs is written too.
      - An error for the other providers, whose findings cannot store one.
    type: str
  concurrency:
    description:
      - How many writes may be in flight at once (1 to 32). The provider's rate limit (see O(rate_limit)) still applies
        to all of them together.
    type: int
    default: 8
  current_status:
    description:
      - Only findings currently in these statuses, each a normalized status or the vendor's own word, for example
        V(open) to leave findings someone already triaged alone.
    type: list
    elements: str
notes:
  - An id in O(ids) that is not in the scope fails the task before anything is written.
  - The counts are under RV(counts) because C(changed) and C(failed) are reserved result keys in Ansible.
seealso:
  - module: scanops.security.finding_info
'''

EXAMPLES = r'''
- name: The TLS key of the local test stack is a self-signed throwaway, a false positive of the secrets scanner
  scanops.security.finding_status:
    provider: kolega
    repository: payments-service
    rule_id: [private-key]
    path: "docker/ssl/*"
    status: false_positive

- name: Accept the risk of the low CVEs of an image, with a note
  scanops.security.finding_status:
    provider: harborguard
    image: ghcr.io/acme/api:1.4.7
    severity: [low]
    status: ignored
    note: No upstream fix; accepted until the next base image.
    assignee: platform-team

- name: Re-open what was suppressed in a CloudGeni scan
  scanops.security.finding_status:
    provider: cloudgeni
    organization: org_123
    repository: repo_abc123
    scan_id: scan_xyz789
    current_status: [suppressed]
    status: open
  register: reopened

- name: Triage two Penaxtra findings by id
  scanops.security.finding_status:
    provider: penaxtra
    ids:
      - d8892382-7094-42c6-bf97-66e11d0d503f
      - 5bdd0622-288b-4e51-9215-14e27b1edaf4
    status: triaged
'''

RETURN = r'''
matched:
  description:
    - Number of findings the scope and filters selected.
    - In a failed result too; 0 when the run failed before the findings were listed (or the options were refused).
  returned: always
  type: int
  sample: 120
unchanged:
  description:
    - Number of selected findings that already had the desired status (and note and assignee).
    - 0 in a failed result that got no findings to compare.
  returned: always
  type: int
  sample: 80
counts:
  description:
    - The four counts together; C(changed) counts the findings written (or that would be, in check mode).
    - In a failed result too, all 0 when the run failed before the findings were listed.
  returned: always
  type: dict
  contains:
    matched:
      description: Findings selected.
      type: int
    changed:
      description: Findings written (in check mode, that would be written).
      type: int
    unchanged:
      description: Findings already in the desired state.
      type: int
    failed:
      description: Findings whose write failed or was not sent.
      type: int
  sample: {"matched": 120, "changed": 40, "unchanged": 80, "failed": 0}
changed_findings:
  description:
    - The findings written (in check mode, that would be written), with normalized statuses.
    - Empty in a failed result when nothing was written.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The vendor's finding id.
      type: str
    rule_id:
      description: Check id (CloudGeni, Kolega) or CVE id (HarborGuard); for Penaxtra a C(control_id) the platform sends
        (an assumption, see C(docs/assumptions.md)), else null.
      type: str
    before:
      description: Status before.
      type: str
    after:
      description: Status after.
      type: str
  sample: [{"id": "fnd_01", "rule_id": "generic-api-key", "before": "open", "after": "false_positive"}]
failed_findings:
  description:
    - The findings whose write failed, each with the error. Those not sent after a 401 or 403 are listed too.
    - Empty when no write was attempted (the run failed before, or everything was already as wanted).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The vendor's finding id.
      type: str
    error:
      description: "What went wrong, C(<action> <finding>: <vendor message> (HTTP <code> <vendor code>))."
      type: str
  sample: [{"id": "fnd_07", "error": "Set status of finding fnd_07: Service unavailable (HTTP 503 INTERNAL_ERROR)"}]
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {"total": 43, "GET": 3, "PATCH": 40, "retries": 0}
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
from ansible_collections.scanops.security.plugins.module_utils.findings import (
    DEFAULT_CONCURRENCY,
    finding_selection_spec,
    run_finding_status,
    status_result,
)


def main():
    argument_spec = scanops_argument_spec()
    argument_spec.update(finding_selection_spec())
    argument_spec.update(
        current_status=dict(type="list", elements="str"),
        status=dict(type="str", required=True),
        note=dict(type="str"),
        assignee=dict(type="str"),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
    )
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True, failure_defaults=status_result())
    run_finding_status(module)


if __name__ == '__main__':
    main()
