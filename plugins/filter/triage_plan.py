# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: triage_plan
short_description: Decide which findings each finding exception writes, resolving overlaps
version_added: 0.2.0
author:
  - scanops engineering (@scanops)
description:
  - Takes the exceptions checked by P(scanops.security.triage_exceptions#filter) and, in the same order, what
    M(scanops.security.finding_info) selected for each, and answers which finding ids each exception sets with
    M(scanops.security.finding_status), so that exceptions that select the same findings converge.
  - An active exception wins over an expired one; the expired one leaves the findings an active one selects alone and
    re-opens only the others that still carry its status.
  - Two active exceptions that select the same finding and want it in different states (status, or HarborGuard note and
    assignee) are an error naming both; when they agree, the first one in the list writes the finding.
  - An expired exception is not applied when an active exception of the same provider could not be read.
  - Used by the C(scanops.security.findings_triage) role.
positional: selections
options:
  _input:
    description: The checked exceptions.
    type: list
    elements: dict
    required: true
  selections:
    description:
      - One M(scanops.security.finding_info) result per exception (its C(findings), or its C(msg) when it failed), in the
        order of the exceptions, for example the C(results) of a registered loop.
    type: list
    elements: dict
    required: true
'''

EXAMPLES = r'''
# Two exceptions select the same finding; the active one holds it, the expired one leaves it alone.
- name: Decide what each exception writes
  ansible.builtin.set_fact:
    plan: "{{ exceptions | scanops.security.triage_exceptions('2025-06-01') | scanops.security.triage_plan(selected) }}"
  vars:
    exceptions:
      - {id: keep, provider: harborguard, cve: CVE-2023-0286, reason: base image pinned, owner: platform-team@acme.example}
      - {id: old, provider: harborguard, cve: CVE-2023-0286, reason: waiver, owner: platform-team@acme.example, expires: "2025-01-31"}
    # What scanops.security.finding_info selected for each exception, in the same order.
    selected:
      - findings: [{id: vuln-3kp9q1-00007, status: ignored}]
      - findings: [{id: vuln-3kp9q1-00007, status: ignored}]

- name: Show it (keep writes vuln-3kp9q1-00007; old writes nothing, kept_by {keep 1})
  ansible.builtin.debug:
    msg: "{{ plan | map(attribute='apply_ids') | list }} {{ plan[1].kept_by }}"
'''

RETURN = r'''
_value:
  description: One entry per exception, in the order given.
  type: list
  elements: dict
  contains:
    id:
      description: The exception's id.
      type: str
    matched:
      description: How many findings the exception selects.
      type: int
    apply_ids:
      description: The finding ids to pass to M(scanops.security.finding_status) for this exception; empty when it has nothing to write.
      type: list
      elements: str
    unmatched:
      description: Selectors that found nothing (ids not found, or the whole selection when nothing matched).
      type: list
      elements: str
    kept_by:
      description: For an expired exception, the findings an active exception holds, counted by that exception's id.
      type: dict
    shared_with:
      description: For an active exception, findings an earlier agreeing active exception writes, counted by its id.
      type: dict
    error:
      description: Why the exception is not applied (its findings could not be read), or null.
      type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.scanops.security.plugins.plugin_utils.triage import TriageError, plan_exceptions


def triage_plan(exceptions, selections):
    """The filter: ``plan_exceptions`` with its error as a filter error."""
    try:
        return plan_exceptions(exceptions, selections)
    except TriageError as err:
        raise AnsibleFilterError(err.message)


class FilterModule(object):
    """Overlapping finding exceptions, resolved."""

    def filters(self):
        return {"triage_plan": triage_plan}
