# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scanops.security.finding_events: an ansible-rulebook event source that follows Kolega's
finding lifecycle feed."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: Follow Kolega DevSec's finding lifecycle events
description:
  - An ansible-rulebook event source (C(async def main(queue, args))) that polls Kolega's documented
    C(GET /api/v1/finding-events) feed and emits each finding event once, oldest first.
  - Each event is C({scanops, payload, meta}); C(scanops.event_type) is C(finding_) plus Kolega's event type
    (C(finding_created), C(finding_status_changed)), with the finding, repository, scan, normalized severity and
    previous and new status in the collection's vocabulary; C(payload) is Kolega's event untouched and
    C(meta.uuid) is derived from the event id. See C(docs/eda.md).
  - A checkpoint file makes a restart, even after a kill -9, neither lose nor repeat events (see O(checkpoint_file)).
  - Uses the collection's Kolega adapter (its HTTP client, pacing, retries) in a worker thread; errors that remain
    after the client's retries are logged and the poll is retried with a growing, jittered delay.
extends_documentation_fragment:
  - scanops.security.scanops
options:
  provider:
    description: The platform; only V(kolega) has a finding-event feed.
    type: str
    choices: [kolega]
    default: kolega
  interval:
    description: Seconds between two polls.
    type: float
    default: 30
  checkpoint_file:
    description:
      - Where the position in the feed is kept (replaced atomically after each event). Point it at persistent
        storage; in a container, a mounted volume.
      - Default, C(~/.ansible/scanops_security/eda/finding_events-<hash of the feed>.json).
      - A checkpoint written for another API URL or other filters is refused.
    type: path
  start_from:
    description:
      - Where a first run (no checkpoint yet) starts, V(now) (events from now on), V(oldest) (the whole feed), or an
        ISO-8601 time.
    type: str
    default: now
  lookback:
    description:
      - Seconds before the newest event seen that every poll reads again, so an event that shows up late with an
        earlier time is still emitted; the checkpoint keeps the ids inside this window, so none is repeated.
    type: float
    default: 300
  max_backoff:
    description: Longest delay between polls while the API keeps failing.
    type: float
    default: 300
  feedback:
    description:
      - Wait for the rule engine's acknowledgement of each event before checkpointing it (ansible-rulebook 1.3 and
        later run with C(--persistence-id)). Without it, the source waits until the engine has taken the event off
        its queue.
    type: bool
    default: false
  feedback_timeout:
    description: Seconds to wait for that acknowledgement before the source fails.
    type: float
    default: 120
  repository_id:
    description: Only events of this repository (the feed's C(repository_id) filter).
    type: str
  finding_id:
    description: Only events of this finding.
    type: str
  scan_type:
    description: Only events of findings from this scan type (C(secrets_scan), C(semgrep_scan), ...).
    type: str
  severity:
    description: Only events of findings of this Kolega severity.
    type: str
  event_type:
    description: Only events of this Kolega event type (C(created), C(status_changed)).
    type: str
"""

EXAMPLES = r"""
- name: Kolega finding events
  hosts: localhost
  sources:
    - scanops.security.finding_events:
        api_key: "{{ kolega_token }}"
        interval: 60
        checkpoint_file: /var/lib/eda/kolega-finding-events.json
  rules:
    - name: New high or critical findings
      condition: >-
        event.scanops.event_type == "finding_created" and event.scanops.severity in ["high", "critical"]
      action:
        run_playbook:
          name: scanops.security.eda_finding_notify
"""

import os
import sys


def _collections_path_first():
    """ansible-rulebook runs a source with runpy from <path>/ansible_collections/scanops/security/
    extensions/eda/plugins/event_source/, without <path> on sys.path: put it there."""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 7)))
    if os.path.isdir(os.path.join(root, "ansible_collections", "scanops", "security")) and root not in sys.path:
        sys.path.insert(0, root)


_collections_path_first()
from ansible_collections.scanops.security.plugins.module_utils import eda_pollers as pollers  # noqa: E402 pylint: disable=wrong-import-position

ARGUMENT_SPEC = pollers.polling_argument_spec(("kolega",), interval=30, lookback=300)
ARGUMENT_SPEC.update(dict((name, dict(type="str")) for name in pollers.FindingEventFeed.FILTERS))


def make_poller(adapter, options):
    return pollers.FindingEventFeed(adapter, filters=options, lookback=options["lookback"], start_from=options["start_from"])


async def main(queue, args):
    """Poll the feed until cancelled (ansible-rulebook's shutdown)."""
    await pollers.run_polling_source(queue, args, "finding_events", ARGUMENT_SPEC, make_poller)


if __name__ == "__main__":
    # Try it by hand: KOLEGA_TOKEN=... python finding_events.py [API URL]; events are printed.
    from ansible_collections.scanops.security.plugins.module_utils.eda_events import run_by_hand  # noqa: E402

    run_by_hand(main, {"api_url": sys.argv[1]} if len(sys.argv) > 1 else {})
