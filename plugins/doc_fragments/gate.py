# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """The gate policy that scan_run and the scan lookup share (``gate.policy_spec``)."""

    DOCUMENTATION = r'''
options:
  fail_on:
    description:
      - Fail the gate when any counted finding is of this severity or more severe.
    type: str
    choices: [critical, high, medium, low, info]
  max_findings:
    description:
      - "Per-severity limits of counted findings, for example C({critical: 0, high: 3})."
    type: dict
  max_risk_score:
    description:
      - HarborGuard only, highest acceptable C(riskScore) of the scan, from 0 to 100.
    type: float
  min_compliance_grade:
    description:
      - HarborGuard only, worst acceptable compliance grade (A best, F worst).
    type: str
    choices: [A, B, C, D, E, F]
  ignore:
    description:
      - Findings that do not count for the gate, by rule id (CloudGeni and Kolega check id, HarborGuard CVE id) or finding id,
        the id of the C(findings) that M(scanops.security.scan_run), M(scanops.security.finding_info) and
        M(scanops.security.finding_status) use. Each id may be listed once (case-insensitive); a second entry for it is
        an error.
      - Penaxtra findings carry no documented rule id (the collection reads C(control_id) when a platform sends one, a field
        no page lists; see C(docs/assumptions.md)), so list Penaxtra findings by their id.
      - An entry whose O(ignore[].expires) date has passed counts again and is reported in C(gate.expired_ignores).
        Dates are judged in UTC, so an entry expiring on a day holds until that day ends in UTC.
      - AgileSec findings come from its Search API and need O(search_username) and O(search_password); without them an
        ignore list is an error there. A scan that failed or was cancelled fails the gate on its status; the ignore list
        does not change that.
    type: list
    elements: dict
    suboptions:
      id:
        description: Rule id, CVE id or finding id (case-insensitive).
        type: str
        required: true
      reason:
        description: Why the finding may be ignored.
        type: str
        required: true
      expires:
        description: Last day (C(YYYY-MM-DD), in UTC) the entry holds.
        type: str
'''
