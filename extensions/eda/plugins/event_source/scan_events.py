# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scanops.security.scan_events: an ansible-rulebook event source that emits scan_completed
for the platforms that do not push (Penaxtra runs, Kolega batches, CloudGeni and HarborGuard scans)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: Emit scan_completed events from the scan lists of Penaxtra, Kolega, CloudGeni and HarborGuard
description:
  - An ansible-rulebook event source (C(async def main(queue, args))) that polls a platform's scan list (Penaxtra
    cloud-posture runs, Kolega scan batches, CloudGeni and HarborGuard scans) and emits one C(scan_completed)
    event per scan that reached an end (completed, failed or cancelled), oldest first.
  - Each event is C({scanops, payload, meta}); C(scanops) holds the provider, scan id, target, the O(scanops.security.scan_run#module:repository)
    / C(image) / C(integration_id) options that name the scan's target (C(scan_target)), the normalized status and
    the severity counts of a completed scan (one extra call per scan, see O(counts)); C(payload) is the vendor's
    scan body and C(meta.uuid) is derived from the scan id. See C(docs/eda.md).
  - AgileSec calls back when a scan ends; receive those with M(scanops.security.scan_webhook).
  - A checkpoint file makes a restart, even after a kill -9, neither lose nor repeat events (see O(checkpoint_file)).
  - Uses the collection's adapters (their HTTP client, pacing, retries) in a worker thread. CloudGeni and Kolega cost
    one list call per watched repository per poll, HarborGuard one per 200 scans, Penaxtra one.
extends_documentation_fragment:
  - scanops.security.scanops
options:
  provider:
    description: The platform to watch.
    type: str
    choices: [cloudgeni, kolega, harborguard, penaxtra]
    required: true
  interval:
    description:
      - Seconds between two polls. Penaxtra asks for no more than one poll every 10 seconds, and CloudGeni
        allows 60 status calls a minute.
    type: float
    default: 60
  checkpoint_file:
    description:
      - Where the scans already emitted are kept (replaced atomically after each event). Point it at persistent
        storage; in a container, a mounted volume.
      - Default, C(~/.ansible/scanops_security/eda/scan_events-<hash of the watch>.json).
      - A checkpoint written for another platform, API URL or filter is refused.
    type: path
  start_from:
    description:
      - Where a first run (no checkpoint yet) starts, V(now) (scans that end from now on), V(oldest) (every
        finished scan the list shows), or an ISO-8601 time (scans that ended since).
    type: str
    default: now
  lookback:
    description:
      - Seconds before the newest end time seen within which scans are still looked for (a scan may be listed with
        an end time earlier than one already seen); the checkpoint keeps the ids inside this window, so none is
        repeated. A scan that shows up finished later than this after its end time is not emitted.
    type: float
    default: 86400
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
  counts:
    description:
      - Add the severity counts of each completed scan (CloudGeni's summary, else one findings call; Kolega's batch
        results; HarborGuard's scan; Penaxtra's findings of the run among the tenant's newest 200).
    type: bool
    default: true
  repositories:
    description: CloudGeni and Kolega, the repositories to watch (id, name or full name); default, all of them.
    type: list
    elements: str
  integration_id:
    description: Penaxtra, only runs of this integration.
    type: str
  image:
    description: HarborGuard, only scans whose image matches this search (the vendor's C(search) filter).
    type: str
"""

EXAMPLES = r"""
- name: Finished Penaxtra posture runs
  hosts: localhost
  sources:
    - scanops.security.scan_events:
        provider: penaxtra
        api_key: "{{ penaxtra_token }}"
        integration_id: 3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03
        interval: 60
        checkpoint_file: /var/lib/eda/penaxtra-runs.json
  rules:
    - name: Gate a run with critical findings
      condition: event.scanops.status == "completed" and event.scanops.severity_counts.critical > 0
      action:
        run_playbook:
          name: scanops.security.eda_post_deploy_gate
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

ARGUMENT_SPEC = pollers.polling_argument_spec(pollers.SCAN_POLL_PROVIDERS, interval=60, lookback=86400)
ARGUMENT_SPEC.update(
    counts=dict(type="bool", default=True),
    repositories=dict(type="list", elements="str"),
    integration_id=dict(type="str"),
    image=dict(type="str"),
)


def make_poller(adapter, options):
    return pollers.FinishedScanWatch(adapter, repositories=options["repositories"], integration_id=options["integration_id"],
                                     image=options["image"], counts=options["counts"], lookback=options["lookback"],
                                     start_from=options["start_from"])


async def main(queue, args):
    """Poll the scan list until cancelled (ansible-rulebook's shutdown)."""
    await pollers.run_polling_source(queue, args, "scan_events", ARGUMENT_SPEC, make_poller)


if __name__ == "__main__":
    # Try it by hand: python scan_events.py PROVIDER [API URL] (key from the environment); events are printed.
    from ansible_collections.scanops.security.plugins.module_utils.eda_events import run_by_hand  # noqa: E402

    run_by_hand(main, dict(zip(("provider", "api_url"), sys.argv[1:3])))
