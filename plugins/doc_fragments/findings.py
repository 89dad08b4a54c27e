# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """The finding scope and filters that finding_info and finding_status share (``findings.finding_selection_spec``).

    Each module documents its own status filter and what becomes of ids not found in the scope.
    """

    DOCUMENTATION = r'''
options:
  repository:
    description:
      - CloudGeni (required there) and Kolega (required there), the repository, by id, name or full name (C(owner/repo)).
      - The value is tried as an id first; when the vendor answers 404 it is looked up by name, which fails
        when the name matches several repositories.
    type: str
  scan_id:
    description:
      - Only findings of this scan.
      - CloudGeni, the scan id (required there). Kolega, the scan batch id, sent as the C(scan_batch_id) filter.
        HarborGuard, the scan id; its findings are read from the scan itself (C(GET /api/scans/{scanId})), because
        the vendor's vulnerabilities list serves only the newest complete scan of each image.
        Penaxtra, the C(scan_id) of each finding, matched by the module because the vendor describes that
        filter as planned (an assumption, see C(docs/assumptions.md)).
        AgileSec (M(scanops.security.finding_info) only), the execution id, matched against the execution id the
        search documents carry (an assumption, see C(docs/assumptions.md)).
    type: str
    aliases: [scan_batch_id]
  image:
    description:
      - HarborGuard only, only vulnerabilities of this image (the vendor's C(image) filter).
    type: str
  severity:
    description:
      - Only findings of these normalized severities.
    type: list
    elements: str
    choices: [critical, high, medium, low, info]
  rule_id:
    description:
      - Only findings of these rules, compared without regard to case. CloudGeni check id (C(CKV_AWS_19)),
        Kolega check id (secrets rule, semgrep rule, ...), HarborGuard CVE id, AgileSec analysis policy rule
        (C(weak-rsa-key-size), or C(<kind>:<algorithm>) for a document without one). Not Penaxtra, whose findings list
        carries no rule or control id (a C(control_id) a platform sends is read as the rule id, an assumption, but the
        filter is refused).
    type: list
    elements: str
  cve:
    description:
      - Only findings about these CVE ids. HarborGuard (C(cveId)) and Kolega (SBOM findings, a CVE id in the check id, title or message).
    type: list
    elements: str
  package:
    description:
      - Only findings in these packages. HarborGuard only (C(package)), matched exactly, with case (C(PyYAML) is not C(pyyaml)),
        as the vendor matches it.
    type: list
    elements: str
  path:
    description:
      - Only findings whose file path matches this shell-style glob (Python C(fnmatch), where C(*) also matches C(/)).
        CloudGeni (the resource's file), Kolega (C(file_path)) and AgileSec (the document's file path).
    type: str
  ids:
    description:
      - Only the findings with these ids.
      - With O(ids), only the scope goes to the vendor; the other filters are applied by the module.
      - Penaxtra lists only its 200 newest findings; ids older than that are read one by one.
    type: list
    elements: str
notes:
  - Filters with exactly one value go to the vendor where its API filters on them (CloudGeni and Kolega severity and status;
    HarborGuard severity, status, package and CVE; Penaxtra severity), in the vendor's own words (HarborGuard C(info) is
    C(NEGLIGIBLE)). A severity the vendor has no single word for (Kolega C(info)) is filtered by the module only. AgileSec
    sends every filter but O(path) in its OpenSearch query, lists included. Every filter is applied again by the module, so
    lists with several values work everywhere.
  - A filter that a provider's findings cannot carry (for example O(path) for HarborGuard) is an error, not an empty result.
  - Penaxtra's list holds only the 200 newest findings (of the severity asked for); without O(ids) the module warns when it
    is full. Select older ones with O(ids).
'''
