# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """The AgileSec Search API options of the modules that read AgileSec findings (``common.agilesec_search_spec``)."""

    DOCUMENTATION = r'''
options:
  search_url:
    description:
      - AgileSec only. Base URL of the AgileSec Analytics Search API, the platform's C(/searchdb) entry point.
      - Defaults to O(api_url) followed by C(/searchdb), the same platform host (an assumption, see C(docs/assumptions.md)).
      - If not set, the value of the E(AGILESEC_SEARCH_URL) environment variable is used.
    type: str
  search_username:
    description:
      - AgileSec only. The platform user the Search API authenticates with HTTP basic authentication. The scan API
        token in O(api_key) is not accepted there.
      - Required to read AgileSec findings; without it M(scanops.security.scan_run) cannot count the findings
        of an execution.
      - If not set, the value of the E(AGILESEC_SEARCH_USERNAME) environment variable is used.
    type: str
  search_password:
    description:
      - AgileSec only. The password of O(search_username).
      - If not set, the value of the E(AGILESEC_SEARCH_PASSWORD) environment variable is used.
    type: str
  search_index:
    description:
      - AgileSec only. The OpenSearch index names or patterns to read findings from, separated by commas,
        for example C(agilesec.example_com.v3.event-*).
      - If not set, the indexes the search user may read are listed with C(_resolve/index) and the organization's
        v3.5 indexes (C(agilesec.<org>.v3.event-*)) are used. Only v3 indexes (C(<org>-isg-event-*)) is an error, because
        the collection reads the v3.5 document layout; several organizations is an error that asks for this option.
      - If not set, the value of the E(AGILESEC_SEARCH_INDEX) environment variable is used.
    type: str
notes:
  - AgileSec findings are documents of the AgileSec Analytics Search API (an OpenSearch), not of the scan API. They are
    read in pages of 1000 with C(search_after) on a sort by C(_index) and C(_id), so there is no 10,000-finding limit.
  - The finding id is the document C(_id), which stays the same when a later execution observes the finding again.
  - Search API queries are counted under C(search) in the module's C(api_calls) (they are POST requests that only read),
    so C(POST) counts only requests that write.
'''
