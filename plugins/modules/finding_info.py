#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: finding_info
short_description: List the findings of a CloudGeni, Kolega, AgileSec, HarborGuard or Penaxtra scope
version_added: 0.1.0
description:
  - Lists every finding in a provider's scope, every page, and returns them in one normalized shape
    with the vendor's own body under RV(findings[].raw).
  - "Scopes: a CloudGeni scan (O(repository) and O(scan_id)); a Kolega repository (O(repository)), optionally one
    scan batch (O(scan_id)); AgileSec cryptographic findings, optionally of one sensor (O(sensor)) or execution
    (O(scan_id)); HarborGuard vulnerabilities, optionally of one image (O(image)) or scan (O(scan_id));
    Penaxtra findings, optionally of one scan (O(scan_id))."
  - Keyfactor AgileSec keeps its findings in the AgileSec Analytics Search API, not in its scan API; the module reads
    them there with O(search_username) and O(search_password), and filters them by O(kind), O(algorithm),
    O(key_size_below), O(expires_within_days) and O(labels) as well as the common filters.
  - For large result sets, O(include_raw=false) leaves the vendor bodies out, O(fields) keeps only the normalized fields
    named, and O(output_file) writes the findings to a JSON Lines file as they are read and returns only their number.
  - The module never changes anything on the platform; with O(output_file) it writes that file.
author:
  - scanops engineering (@scanops)
extends_documentation_fragment:
  - scanops.security.scanops
  - scanops.security.findings
  - scanops.security.crypto_findings
  - scanops.security.agilesec_search
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  action_group:
    support: full
    membership: [scanops.security.scanops]
  check_mode:
    support: full
    details: The module only reads; with O(output_file) it reports whether the file would change, without writing it.
  diff_mode:
    support: none
    details: The module only reads.
  platform:
    platforms: all
options:
  status:
    description:
      - Only findings in these statuses, each a normalized status (V(open), V(acknowledged), V(in_progress),
        V(resolved), V(ignored), V(false_positive), V(needs_manual_review)) or the vendor's own word.
      - A status the provider does not have is an error that lists the ones it has.
    type: list
    elements: str
  limit:
    description:
      - Return at most this many findings (1 to 1000000); listing stops at the page that reaches it.
    type: int
  include_raw:
    description:
      - Whether each finding carries the vendor's body in RV(findings[].raw).
      - The vendor bodies are most of the result's size; leave them out when the normalized fields are enough.
      - When not set, V(true) unless O(fields) is set.
    type: bool
  fields:
    description:
      - Only these normalized fields in each finding, besides RV(findings[].id), which is always there
        (and RV(findings[].raw) with O(include_raw=true)).
      - When not set, every normalized field.
    type: list
    elements: str
    choices: [provider, rule_id, title, severity, status, vendor_status, location, first_seen, crypto]
  output_file:
    description:
      - Write the findings to this file on the host the module runs on, as JSON Lines (one finding a line, keys
        sorted), instead of returning them; RV(findings) is then empty and RV(count) says how many lines the file has.
      - Each finding goes to the file as soon as its page is read, so the module holds one page at a time, however
        many findings the scope has.
      - The file is replaced only once every page is read, and only when its content changes (then C(changed=true));
        a run that fails leaves the previous file as it was. In check mode nothing is written and C(changed) says
        whether the file would be replaced.
      - The directory must exist. O(include_raw) and O(fields) shape each line as they shape RV(findings).
    type: path
notes:
  - Ids in O(ids) that are not in the scope are reported in a warning.
  - "Results of tens of thousands of findings: see C(docs/performance.md) (section 5) for the time and memory each of
    O(include_raw), O(fields) and O(output_file) saves."
  - AgileSec filters go into the OpenSearch query where they can (everything but O(path)) and are applied again by
    the module. The document fields below C(observation), C(crypto) and C(analysis) that they use, and how C(analysis.priority)
    maps onto severities, are assumptions listed in C(docs/assumptions.md); AgileSec findings carry no triage status.
seealso:
  - module: scanops.security.finding_status
'''

EXAMPLES = r'''
- name: Open critical and high findings of a Kolega repository
  scanops.security.finding_info:
    provider: kolega
    repository: payments-service
    severity: [critical, high]
    status: [open]
  register: open_findings

- name: Findings of one CloudGeni scan in the network module
  scanops.security.finding_info:
    provider: cloudgeni
    organization: org_123
    repository: repo_abc123
    scan_id: scan_xyz789
    path: "network/*"

- name: The curl SOCKS5 heap overflow in any image
  scanops.security.finding_info:
    provider: harborguard
    cve: [CVE-2023-38545]
  register: curl_overflow

- name: Every finding of a large Kolega repository, without the vendor bodies, only what a report needs
  scanops.security.finding_info:
    provider: kolega
    repository: payments-service
    include_raw: false
    fields: [severity, status, rule_id, location]
  register: slim_findings

- name: Every finding of the repository into a JSON Lines file on the controller; the result keeps only the count
  scanops.security.finding_info:
    provider: kolega
    repository: payments-service
    output_file: /tmp/payments-service-findings.jsonl
  delegate_to: localhost
  register: exported

- name: Ten newest Penaxtra findings of a posture run
  scanops.security.finding_info:
    provider: penaxtra
    scan_id: 74e78e85-9cf1-433a-b338-ae0766d8c286
    limit: 10

# AgileSec findings come from its Search API; its user and password are read from
# AGILESEC_SEARCH_USERNAME and AGILESEC_SEARCH_PASSWORD here (or give search_username and search_password).
- name: Keys and certificate keys shorter than 2048 bits that the AgileSec payments sensor found
  scanops.security.finding_info:
    provider: agilesec
    sensor: payments-git
    kind: [key, certificate]
    key_size_below: 2048
  register: weak_keys

- name: Its certificates that expire within 30 days, expired ones included
  scanops.security.finding_info:
    provider: agilesec
    sensor: payments-git
    kind: [certificate]
    expires_within_days: 30
  register: expiring
'''

RETURN = r'''
findings:
  description:
    - The findings that passed every filter, in the vendor's order.
    - Empty with O(output_file), where they are written instead.
    - Each holds RV(findings[].id) and the fields O(fields) names (every field when it is not set); RV(findings[].raw)
      as O(include_raw) says.
    - Not in a failed result, so a failed read never looks like an empty one.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The vendor's finding id.
      type: str
    provider:
      description: The provider id.
      returned: unless O(fields) leaves it out
      type: str
    rule_id:
      description: Check id (CloudGeni, Kolega) or CVE id (HarborGuard); for Penaxtra a C(control_id) the platform sends
        (an assumption, see C(docs/assumptions.md)), else null.
      returned: unless O(fields) leaves it out
      type: str
    title:
      description: Short description.
      returned: unless O(fields) leaves it out
      type: str
    severity:
      description: Normalized severity, one of critical, high, medium, low, info.
      returned: unless O(fields) leaves it out
      type: str
    status:
      description: Normalized status (a vendor word with no normalized twin comes back lower-cased).
      returned: unless O(fields) leaves it out
      type: str
    vendor_status:
      description: The vendor's own status word.
      returned: unless O(fields) leaves it out
      type: str
    location:
      description:
        - Where the finding is, C(file) and C(line), C(package), C(version) and C(fixed_version), or C(resource).
        - AgileSec, the scanned C(source) (repository URL or name), C(file), C(line) and C(host).
      returned: unless O(fields) leaves it out
      type: dict
    first_seen:
      description: When the vendor first saw the finding; null when the vendor does not say.
      returned: unless O(fields) leaves it out
      type: str
    raw:
      description: The vendor's finding body, unchanged (AgileSec, the search hit with C(_index), C(_id) and C(_source)).
        Left out with O(include_raw=false), and when O(fields) is set and O(include_raw) is not.
      returned: with O(include_raw=true), or when neither O(include_raw) nor O(fields) is set
      type: dict
    crypto:
      description: AgileSec only, the cryptographic facts the filters look at.
      type: dict
      returned: when O(provider=agilesec), unless O(fields) leaves it out
      contains:
        kind:
          description: C(certificate), C(key), C(keystore), C(algorithm), C(protocol), C(library), C(token) or C(db).
          type: str
        algorithm:
          description: The algorithm, signature algorithm, protocol, library or keystore type the document names.
          type: str
        key_size:
          description: Key size in bits (keys and certificate public keys).
          type: int
        not_after:
          description: End of a certificate's validity.
          type: str
count:
  description: Number of findings returned, or written to O(output_file).
  returned: success
  type: int
  sample: 42
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {"total": 3, "GET": 3, "retries": 0}
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

from ansible_collections.scanops.security.plugins.module_utils.common import ScanopsModule, agilesec_search_spec, scanops_argument_spec
from ansible_collections.scanops.security.plugins.module_utils.findings import (
    crypto_selection_spec,
    finding_output_spec,
    finding_selection_spec,
    run_finding_info,
)


def main():
    argument_spec = scanops_argument_spec()
    argument_spec.update(finding_selection_spec())
    argument_spec.update(crypto_selection_spec())
    argument_spec.update(agilesec_search_spec())
    argument_spec.update(
        status=dict(type="list", elements="str"),
        limit=dict(type="int"),
    )
    argument_spec.update(finding_output_spec())
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True)
    run_finding_info(module)


if __name__ == '__main__':
    main()
