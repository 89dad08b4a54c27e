# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """The scan target options that scan_run and scan_info share (``scans.scan_target_spec``).

    Only what names the target is here; scan_run (what is scanned, what is required) and scan_info
    (what is listed) say in their own description what they do with it.
    """

    DOCUMENTATION = r'''
options:
  repository:
    description:
      - CloudGeni repository id (C(repo_abc123)), full name (C(myorg/infrastructure)) or name; Kolega repository id or name.
      - Names are looked up in the vendor's documented repository list. A Kolega value shaped like a UUID is taken as
        the repository id and used as is (Kolega ids are UUIDs, see C(docs/assumptions.md)).
      - A name that matches several repositories is an error listing their ids.
      - Required for O(provider=cloudgeni) and O(provider=kolega).
    type: str
  branch:
    description:
      - CloudGeni only, a branch of O(repository).
    type: str
  commit:
    description:
      - CloudGeni only, a commit SHA (7 to 40 hexadecimal characters) of O(repository).
    type: str
  scan_type:
    description:
      - The scan type, V(static) or V(full) for CloudGeni, V(secrets_scan), V(semgrep_scan), V(deep_ai_scan) or V(sbom_scan)
        for Kolega.
    type: str
    choices: [static, full, secrets_scan, semgrep_scan, deep_ai_scan, sbom_scan]
  sensor:
    description:
      - AgileSec sensor id or exact sensor name.
      - A value of 24 hexadecimal characters is the sensor id and goes straight to the documented C(POST /v3/scan/execute)
        and C(GET /v3/scan/{executionId}). B(Assumed API:) a name is looked up with C(GET /v3/sensors?name=), a call
        AgileSec does not document (see C(docs/assumptions.md)).
    type: str
  image:
    description:
      - HarborGuard image reference, for example C(ghcr.io/acme/api:1.4.7) or C(name@sha256:...).
      - Compared in full by Docker's rules, C(nginx) is C(docker.io/library/nginx:latest); a scan counts as a scan of
        this image only when its own image has the same registry, repository and tag (or digest, when one is given).
    type: str
  integration_id:
    description:
      - Penaxtra integration (connected cloud account) UUID.
    type: str
'''
