# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: triage_exceptions
short_description: Check finding exceptions and put them in one form
version_added: 0.2.0
author:
  - scanops engineering (@scanops)
description:
  - Checks a list of finding exceptions (the entries of a C(findings_triage) exceptions file) before anything is sent, and
    fails naming every entry at fault and what it lacks.
  - Each entry needs a C(provider) with a findings API (C(cloudgeni), C(kolega), C(harborguard) or C(penaxtra)), a C(reason),
    an C(owner), at least one selector (C(rule_id), C(cve), C(path), C(package), C(severity) or C(ids)) and, if it expires,
    an C(expires) date written C(YYYY-MM-DD).
  - The C(status) is taken in the collection's words or the provider's own, in any case, like
    M(scanops.security.finding_status) takes it; a status the provider does not know, or one that means C(open), is refused.
  - Used by the C(scanops.security.findings_triage) role.
positional: today
options:
  _input:
    description: The exceptions.
    type: list
    elements: dict
    required: true
  today:
    description: The day the exceptions are judged against, C(YYYY-MM-DD). An exception holds through its C(expires) day.
    type: str
    required: true
  default_status:
    description: The status of an exception that names none.
    type: str
    default: ignored
  annotate:
    description: Give HarborGuard exceptions the triage note (the reason and owner, or that it expired) and assignee (the owner).
    type: bool
    default: true
  scopes:
    description: The scope (C(repository), C(scan_id), C(image)) an exception uses when it names none, by provider id.
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Check exceptions before applying them
  ansible.builtin.set_fact:
    checked: "{{ exceptions | scanops.security.triage_exceptions(now(utc=true).strftime('%Y-%m-%d')) }}"
  vars:
    exceptions:
      - id: api-openssl
        provider: harborguard
        image: ghcr.io/acme/api:1.4.7
        cve: CVE-2023-0286
        status: WONT_FIX  # HarborGuard's word for ignored
        reason: openssl is replaced in the next base image
        owner: platform-team@acme.example
        expires: "2025-06-30"

- name: The ids of the exceptions past their expiry date
  ansible.builtin.debug:
    msg: "{{ checked | selectattr('state', 'equalto', 'expired') | map(attribute='id') | list }}"
'''

RETURN = r'''
_value:
  description: One entry per exception, in the order given.
  type: list
  elements: dict
  contains:
    index:
      description: Position of the exception in the input (0-based).
      type: int
    id:
      description: The exception's C(id), or its 1-based position when it has none.
      type: str
    provider:
      description: The provider id.
      type: str
    state:
      description: C(active), or C(expired) once the day judged is after C(expires).
      type: str
    status:
      description: The status in the collection's words (C(ignored), C(false_positive), ...).
      type: str
    vendor_status:
      description: The same status in the provider's words (HarborGuard C(WONT_FIX), ...).
      type: str
    selectors:
      description: The selectors set, lists for C(rule_id), C(cve), C(package), C(severity) and C(ids).
      type: dict
    scope:
      description: C(repository), C(scan_id) and C(image) from the entry, or from O(scopes) where the entry names none.
      type: dict
    note:
      description: The HarborGuard triage note to write, or null.
      type: str
    assignee:
      description: The HarborGuard assignee to write (active exceptions), or null.
      type: str
    reason:
      description: The reason.
      type: str
    owner:
      description: The owner.
      type: str
    expires:
      description: The last day the exception holds, or null.
      type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.scanops.security.plugins.plugin_utils.triage import TriageError, check_exceptions


def triage_exceptions(exceptions, today, default_status="ignored", annotate=True, scopes=None):
    """The filter: ``check_exceptions`` with its error as a filter error."""
    try:
        return check_exceptions(exceptions, today, default_status=default_status, annotate=annotate, scopes=scopes)
    except TriageError as err:
        raise AnsibleFilterError(err.message)


class FilterModule(object):
    """Finding exceptions, checked."""

    def filters(self):
        return {"triage_exceptions": triage_exceptions}
