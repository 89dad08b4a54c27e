#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: scan_run
short_description: Make sure a finished scan of a target exists and passes a gate
version_added: 0.1.0
description:
  - Desired state, "a scan of this target exists, has finished, and passes this gate", on
    CloudGeni (IaC repositories), Kolega DevSec (source repositories), Keyfactor AgileSec (sensors),
    HarborGuard (container images) and Penaxtra (cloud integrations).
  - A scan of the same target that is already queued or running is adopted instead of starting another one.
    With O(max_age), a completed scan of the same target younger than that is reused and the task reports
    C(changed=false). O(force=true) always triggers a new scan.
  - A trigger whose answer is lost (timeout, dropped connection, server error) is never sent again blindly;
    the module first looks for the scan it may have created and adopts it.
  - Waits for the scan with polling that follows the vendor's guidance and backs off, then evaluates the gate.
    Only the gate decides failure; everything else is reported.
  - "The target, per provider: a CloudGeni O(repository) (required) on O(branch), the repository's default branch when
    it is not set, with O(scan_type), V(static) (the vendor's default) when it is not set, optionally at O(commit);
    a Kolega O(repository) and O(scan_type) (both required); an AgileSec O(sensor) (required), run with
    C(POST /v3/scan/execute); a HarborGuard O(image) (required) with O(scanners); a Penaxtra O(integration_id) (required)."
  - A scan of the same target means, per provider, the same repository, branch, type and (when given) commit for CloudGeni;
    the same repository and O(scan_type) for Kolega; the same sensor for AgileSec; the same image for HarborGuard,
    compared in full by Docker's rules (registry with its port, C(docker.io) and C(library/) by default, repository,
    tag, C(latest) by default, or digest), read from each scan itself, so C(ghcr.io/acme/api:1.4) never reuses a
    scan of C(ghcr.io/acme/api:1.4.7); the same integration for Penaxtra. Targets are compared as resolved
    (repository and sensor names to ids), not as written.
  - "Bulk mode: O(targets) lists several targets of the one O(provider) in one task. They share one connection pool
    and the client's rate limiters (O(rate_limit)), run O(concurrency) at a time, and each gets exactly the flow above
    (adoption, O(max_age) reuse, duplicate avoidance, check mode). Every other option applies to every target. The
    result lists one entry per target in RV(scans); RV(gate) is the verdict over all of them and the reports cover all of them.
    A target that fails does not stop the others: the task fails afterwards naming the failed targets and the scans
    that were started, so a re-run with O(max_age) adopts or reuses them."
  - "ASSUMPTIONS where the vendors are silent (each is a row of the collection's C(docs/assumptions.md)): an AgileSec
    sensor given by name is found with C(GET /v3/sensors?name=) (a 24-hex sensor id needs no lookup); the only earlier
    execution of a sensor, the one that can be adopted or reused, is the C(lastExecutionId) of
    C(GET /v3/sensors/{sensorId}); AgileSec executions report C(pending) and C(running) before the documented
    C(successful) or C(failed) (any other word is read as still running); HarborGuard's C(GET /api/scans?search=) is a
    substring match on the image reference, and scans with one C(tagId) are of one image tag; CloudGeni's HTTP 429
    carries its wait in C(details.retryAfterSeconds)."
  - "When a platform answers an assumed call with HTTP 404 or 405, or rejects an assumed field or value, the task fails
    with one message naming the assumption: C(<vendor> does not document <METHOD path>; the collection assumes it
    (docs/assumptions.md, <section>) and <api_url> answered HTTP <status>). Documented paths keep working: an AgileSec
    sensor given by id is still run and polled, with a warning that no earlier execution can be adopted or reused."
author:
  - scanops engineering (@scanops)
extends_documentation_fragment:
  - scanops.security.scanops
  - scanops.security.scans
  - scanops.security.gate
  - scanops.security.agilesec_search
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  action_group:
    support: full
    membership: [scanops.security.scanops]
  check_mode:
    support: full
    description: Every read is done and no scan is triggered; C(changed) is what a real run would report. The gate is
      evaluated when an existing scan would be reused.
  diff_mode:
    support: none
    description: Scans are not configuration; there is nothing to diff.
options:
  scanners:
    description:
      - HarborGuard scanners to run; the vendor's default set when not given.
    type: list
    elements: str
    choices: [trivy, grype, syft, dive, dockle, osv]
  targets:
    description:
      - Bulk mode, several targets of O(provider) in one task, each a dictionary of the target options below.
      - Mutually exclusive with the top-level O(repository), O(branch), O(commit), O(scan_type), O(sensor), O(image),
        O(scanners) and O(integration_id). Every entry is validated before any request; errors name the entry,
        for example C(targets[2].scan_type).
      - Each target may be listed once. Targets are compared as resolved, not as written, so a repository named by id
        in one entry and by full name in another, or C(nginx) and C(docker.io/library/nginx:latest), are the same target;
        such a duplicate fails the task after the names are resolved and before any scan is triggered.
      - CloudGeni targets of the same repository (however it is named) run one after another, because CloudGeni refuses
        a second scan of a repository while one runs.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - A label for the target in RV(scans), warnings and errors; unique within O(targets).
        type: str
      repository:
        description:
          - As the top-level O(repository) (CloudGeni, Kolega).
        type: str
      branch:
        description:
          - As the top-level O(branch) (CloudGeni).
        type: str
      commit:
        description:
          - As the top-level O(commit) (CloudGeni).
        type: str
      scan_type:
        description:
          - As the top-level O(scan_type) (CloudGeni, Kolega).
        type: str
        choices: [static, full, secrets_scan, semgrep_scan, deep_ai_scan, sbom_scan]
      sensor:
        description:
          - As the top-level O(sensor) (AgileSec).
        type: str
      image:
        description:
          - As the top-level O(image) (HarborGuard).
        type: str
      scanners:
        description:
          - As the top-level O(scanners) (HarborGuard).
        type: list
        elements: str
        choices: [trivy, grype, syft, dive, dockle, osv]
      integration_id:
        description:
          - As the top-level O(integration_id) (Penaxtra).
        type: str
  concurrency:
    description:
      - With O(targets), how many targets are worked on at the same time (1 to 32), each in a thread of this one
        module process sharing one connection pool. Triggers and polls are still paced by the client's rate limiters.
      - Ignored without O(targets).
    type: int
    default: 8
  max_age:
    description:
      - Reuse a completed scan of the same target that finished less than this long ago, and report C(changed=false).
      - Only the newest finished scan of the target is considered; when it failed or was cancelled, an older completed
        scan is not reused (the target's latest result is not known to pass) and a new scan is triggered.
      - Seconds, or a duration such as C(30m), C(2h), C(1d) or C(1h30m).
      - When not set, a new scan is triggered unless one of the target is already queued or running.
    type: str
  scan_id:
    description:
      - Judge this existing scan (CloudGeni scan, Kolega batch, AgileSec execution, HarborGuard scan or Penaxtra run id)
        instead of finding or starting one. It is waited for when it has not finished, then gated and reported like any
        other; no scan is ever started, and the result says C(reused=true).
      - The target options still say where the scan lives (the CloudGeni or Kolega O(repository), the Penaxtra
        O(integration_id)). Not with O(targets), O(force) or O(max_age).
    type: str
  force:
    description:
      - Always trigger a new scan, even when one is running or a recent one exists.
      - CloudGeni refuses a second scan of a repository while one runs (HTTP 409). When the running scan is of this
        target (same branch, type and, when given, commit) it is adopted; otherwise O(on_conflict) decides.
    type: bool
    default: false
  on_conflict:
    description:
      - CloudGeni only. What to do when a trigger is refused (HTTP 409) because a scan of another branch, type or commit
        of the same repository is running. That scan is never judged as this target's.
      - V(wait) waits for it to finish, within O(wait_timeout) (also with O(wait=false), as the requested scan cannot
        start before), then triggers the requested scan; when the time runs out O(on_timeout) decides and no scan
        was triggered.
      - V(fail) fails the task at once, naming the running scan.
    type: str
    choices: [wait, fail]
    default: wait
  wait:
    description:
      - Wait for the scan to finish and evaluate the gate.
      - With V(false) the scan id is returned at once and no gate is evaluated.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait, in all, for the scan to finish, at most 604800 (7 days). One budget covers waiting for
        another scan of the repository that is in the way (O(on_conflict=wait)), finding the run Penaxtra started and
        polling the scan.
    type: int
    default: 1800
  wait_sleep:
    description:
      - Seconds between two status polls while the scan is young; once a fifth of the time already waited is longer,
        polls are that far apart, up to 60 seconds.
      - Defaults to the vendor's guidance, 10 seconds for Penaxtra ("no more often than every 10 s") and 5 seconds for the
        others (CloudGeni allows 60 status calls a minute). The client also paces itself under each documented rate limit.
      - Smaller values are meant for tests against an emulator; below 10 seconds on Penaxtra a warning is given.
      - From 0 to 3600.
    type: float
  on_timeout:
    description:
      - What to do when O(wait_timeout) passes, V(fail) the task or V(warn) and succeed.
      - Either way the result carries the scan id and its last status so a later task can pick it up.
    type: str
    choices: [fail, warn]
    default: fail
  return_findings:
    description:
      - Return the scan's normalized findings in RV(findings), worst first, at most O(findings_limit) of them plus
        every finding that broke the gate.
    type: bool
    default: false
  findings_limit:
    description:
      - Most findings returned in RV(findings) and written to reports (0 to 1000000). The gate always counts every finding.
      - The worst findings are kept (by severity, then in the vendor's order), and every counted finding that broke the
        gate is always included, even beyond this number, so the reports show what failed.
    type: int
    default: 500
  sarif_path:
    description:
      - Write the findings and the gate result as a SARIF 2.1.0 file here, one run per scan, ready for GitHub code
        scanning's upload (C(github/codeql-action/upload-sarif) or the REST API).
      - Each result has a rule id (made from the title when the vendor lists none), a location with a region (a stable
        pseudo-path when the finding is not in a file, C(image/<image>/<package>) for an image package,
        C(cloud/<provider>/<resource>) for a cloud resource, C(<root>/<provider>/<target>) otherwise) and a
        C(primaryLocationLineHash) fingerprint; each target has a category of its own (C(automationDetails.id)
        C(scanops/<provider>/<target>/<scan id>)), the same on every run, so code scanning tracks its alerts.
      - With more than 20 scans (code scanning takes at most 20 runs per file) the others go to C(<name>-2.sarif),
        C(<name>-3.sarif) and so on, all listed in RV(reports).
    type: path
  junit_path:
    description:
      - Write the gate result and the findings as a JUnit XML file here, a test case per gate check and per finding
        the policy looks at. Exactly the findings that broke the gate are failures, so the failure count matches
        RV(gate.counts); ignored and vendor-triaged findings are skipped.
    type: path
  markdown_path:
    description:
      - Write a Markdown summary of the scan and its gate here.
    type: path
notes:
  - The gate counts the same findings whether or not they are returned or reported, the findings of the judged scan
    with their vendor status, and C(gate.counts_source) says how the counts were obtained. Findings the vendor marks as
    triaged away are not counted (CloudGeni C(resolved), C(suppressed); Kolega C(resolved), C(ignored),
    C(false_positive); HarborGuard C(FIXED), C(WONT_FIX); Penaxtra C(fixed), C(risk_accepted), C(false_positive)) and
    are listed in C(gate.excluded). CloudGeni findings are listed from the scan, unless its C(summary) says it has
    none; Kolega findings from the repository's findings filtered by the batch (the batch results carry no id or
    status); HarborGuard findings are the scan's vulnerabilities with their triage; Penaxtra findings are the run's
    among the newest 200 the vendor lists. See the collection's C(docs/gate.md).
  - AgileSec executions carry no finding counts. With O(search_username) and O(search_password) the gate counts the
    Search API documents of the sensor that carry the execution's id (every page, however many), C(gate.counts_source)
    C(findings); without them a warning says that the severity checks see zero findings. How a document is tied to an
    execution and how its C(analysis.priority) maps onto severities are assumptions (see C(docs/assumptions.md)).
  - Penaxtra allows two manual runs per integration per 24 hours; on its refusal the error says when the next run
    is allowed, and a completed run younger than O(max_age) is reused instead.
  - Penaxtra answers a trigger with 202 and no run id; the run is the new run of the integration, of the trigger kind
    the answer names (C(manual)), that appears in the run list. The module looks for it within O(wait_timeout) (also with
    O(wait=false)). When none appears the task fails (or, with O(on_timeout=warn), warns) and no scan is judged; when
    several appear (another client triggered at the same moment) the task fails listing every one in RV(candidates)
    and judges none. A run that drops out of the newest 100 runs the vendor lists while it is polled can no longer be
    read, and the task fails saying so.
  - Runs on the same controller that converge the same target take turns at "look for a scan of this target, else
    start one" (an advisory file lock under E(SCANOPS_CACHE_DIR), else E(XDG_CACHE_HOME)/scanops or
    C(~/.cache/scanops)), so the second adopts the first's scan instead of starting another; it waits at most 10
    minutes, or O(wait_timeout) when that is longer. Runs on different controllers are not serialized.
seealso:
  - module: scanops.security.scan_info
'''

EXAMPLES = r'''
- name: Scan the infrastructure repository's main branch (reuse a scan younger than 2 hours), no critical findings but two accepted
  scanops.security.scan_run:
    provider: cloudgeni
    organization: org_123
    repository: myorg/infrastructure
    branch: main
    scan_type: static
    max_age: 2h
    max_findings:
      critical: 0
    ignore:
      - id: CKV_AWS_17
        reason: the reporting replica is reachable only through the private link (INFRA-231)
        expires: "2099-12-31"
      - id: CKV_AWS_20
        reason: the public-assets bucket serves the marketing site by design
        expires: "2099-12-31"
    sarif_path: "{{ playbook_dir }}/out/cloudgeni.sarif"

# This gate fails on purpose: the repository has committed secrets of high severity and worse. The
# play goes on (ignore_errors) and the next task shows why.
- name: Secrets scan of a Kolega repository, fail on high or worse, one accepted rule until mid-2099
  scanops.security.scan_run:
    provider: kolega
    repository: payments-service
    scan_type: secrets_scan
    fail_on: high
    ignore:
      - id: private-key
        reason: docker/ssl/server.key is the self-signed key of the local test stack
        expires: "2099-06-30"
  register: secrets_gate
  ignore_errors: true  # fails on purpose: gate failed for kolega scan

- name: Show why the secrets gate failed
  ansible.builtin.debug:
    msg: "{{ secrets_gate.gate.reasons }}"

- name: Gate an image on HarborGuard's grade and risk score, reusing its scan from the last week
  scanops.security.scan_run:
    provider: harborguard
    image: ghcr.io/acme/api:1.4.7
    scanners: [trivy, grype]
    max_age: 7d
    min_compliance_grade: B
    max_risk_score: 50

- name: Start a Penaxtra posture run without waiting (runs are limited to two a day), unless one ran today
  scanops.security.scan_run:
    provider: penaxtra
    integration_id: 3f6c9a2e-8b1d-4e7a-9c5f-2d8e4b6a1c03
    max_age: 1d
    wait: false
  register: posture

- name: Scan a release's images in one task, 8 at a time (reusing scans from the last week), one SARIF file for all of them
  scanops.security.scan_run:
    provider: harborguard
    targets:
      - image: ghcr.io/acme/api:1.4.7
      - image: ghcr.io/acme/worker:0.9.0
      - name: frontend
        image: ghcr.io/acme/web:2.0.1
        scanners: [trivy, grype]
    concurrency: 8
    max_age: 7d
    sarif_path: "{{ playbook_dir }}/out/release.sarif"
  register: release

- name: Show the scan id of each image
  ansible.builtin.debug:
    msg: "{{ release.scans | map(attribute='scan') | map(attribute='id') | list }}"

- name: Run the AgileSec payments sensor by name, warn instead of failing if it takes longer than 10 minutes
  scanops.security.scan_run:
    provider: agilesec
    sensor: payments-git
    wait_timeout: 600
    on_timeout: warn

# The gate counts the execution's findings in AgileSec's Search API (user and password from
# AGILESEC_SEARCH_USERNAME and AGILESEC_SEARCH_PASSWORD, or search_username and search_password).
- name: Gate the AgileSec payments sensor's cryptographic findings, no critical ones but expired certificates (being removed)
  scanops.security.scan_run:
    provider: agilesec
    sensor: payments-git
    max_age: 1h
    fail_on: critical
    ignore:
      - id: certificate-expired
        reason: the expired certificates were superseded and are no longer served; removal tracked in SEC-412
        expires: "2099-12-31"
    sarif_path: "{{ playbook_dir }}/out/payments-crypto.sarif"
'''

RETURN = r'''
scan:
  description:
    - The normalized scan (adopted, reused or triggered); null in check mode when a scan would be triggered.
    - On a wait timeout it carries the scan id and the last status seen.
    - Null with O(targets); each target's scan is in RV(scans).
    - In a failed result, the scan as far as the run got (so a re-run or a later task can pick it up); null when the
      run failed before it found or started one, and when the options were refused.
  returned: always
  type: dict
  contains:
    provider:
      description: Provider id.
      type: str
      sample: cloudgeni
    id:
      description: The vendor's scan id (CloudGeni scan, Kolega batch, AgileSec execution, HarborGuard scan, Penaxtra run).
      type: str
      sample: scan_xyz789
    target:
      description: What was scanned (repository id, sensor, image reference or integration id); null when the vendor's
        scan body does not say.
      type: str
    status:
      description: Normalized status, one of queued, running, completed, failed, cancelled.
      type: str
      sample: completed
    vendor_status:
      description: The vendor's own status word.
      type: str
    created_at:
      description: When the scan was created (the vendor's timestamp); null when the vendor does not say.
      type: str
    started_at:
      description: When the scan started; null when the vendor does not say (or it has not started).
      type: str
    completed_at:
      description: When the scan finished; null when the vendor does not say (or it has not finished).
      type: str
    duration_seconds:
      description: Run time in seconds; null when it is not known.
      type: float
    counts:
      description: Findings per severity (critical, high, medium, low, info) as the vendor reports them.
      type: dict
    url:
      description: The vendor's dashboard or poll URL; null when it gives none.
      type: str
    raw:
      description: The vendor's own scan body.
      type: dict
gate:
  description:
    - The gate's verdict; null when no gate was evaluated (no wait, timeout, check mode before a trigger, a failure
      before the scan finished, or options refused).
    - With O(targets), one verdict over every target whose gate was evaluated (null when none was); it passes only
      when each of them passed, and each reason, ignored finding, expired ignore and check names its target.
  returned: always
  type: dict
  contains:
    passed:
      description: Whether the scan passed.
      type: bool
    reasons:
      description: What broke the gate, with the counts.
      type: list
      elements: str
    counts:
      description:
        - Counted findings per severity (critical, high, medium, low, info), the findings of the judged scan less those
          an active O(ignore) entry matches and those the platform marks as triaged away, which are listed in
          RV(gate.excluded).
        - "Per provider: CloudGeni, the scan's findings, less C(resolved) and C(suppressed) (its C(summary) totals only
          when they say the scan found nothing, RV(gate.counts_source=summary)); Kolega, the batch's findings from the
          repository's findings list, less C(resolved), C(ignored) and C(false_positive); AgileSec, nothing (executions
          carry no findings, RV(gate.counts_source=none)); HarborGuard, the scan's vulnerabilities, less C(FIXED) and
          C(WONT_FIX); Penaxtra, the run's findings among the newest 200 the vendor lists, less C(fixed),
          C(risk_accepted) and C(false_positive)."
        - The same whether or not O(return_findings) or reports are asked for.
      type: dict
    counts_source:
      description:
        - How RV(gate.counts) were obtained. V(findings) every finding of the scan was read with its vendor status;
          V(summary) the vendor's own per-severity totals, used only when they say the scan found nothing (CloudGeni);
          V(none) nothing was counted (AgileSec without O(search_username) and O(search_password), or a scan that did
          not complete).
        - With O(targets), the value shared by every judged target, or V(mixed).
      type: str
      sample: findings
    excluded:
      description: Findings not counted because the vendor marks them as triaged away, with their status.
      type: list
      elements: dict
    unmatched_ignores:
      description: Active ignore entries that matched no finding of the scan.
      type: list
      elements: str
    ignored:
      description: Findings that matched an active ignore entry.
      type: list
      elements: dict
    expired_ignores:
      description: Ignore entries past their expiry date, with how many findings they matched.
      type: list
      elements: dict
    checks:
      description: One C({name, passed, detail}) per check.
      type: list
      elements: dict
    message:
      description: One-line verdict.
      type: str
    policy:
      description: The gate policy as it was applied, normalized (C(fail_on), C(max_findings), C(max_risk_score),
        C(min_compliance_grade), C(ignore)); unset keys are null.
      type: dict
      sample: {"fail_on": "high", "max_findings": null, "max_risk_score": null, "min_compliance_grade": null, "ignore": []}
    not_evaluated:
      description: With O(targets), the targets whose gate was not evaluated (no wait, timeout, failure, check mode).
      type: list
      elements: str
      returned: with O(targets)
scans:
  description:
    - With O(targets), one entry per target, in the order of O(targets); also when targets failed (each entry then says
      why in RV(scans[].error)).
  returned: with O(targets), once the options are accepted
  type: list
  elements: dict
  contains:
    name:
      description: C(targets[<i>]) and the target's O(targets[].name), or its resolved description.
      type: str
      sample: targets[0] (image ghcr.io/acme/api:1.4.7)
    target:
      description: Human-readable description of the resolved target; null when it could not be resolved.
      type: str
    scan:
      description: The target's normalized scan, as RV(scan) in single mode (null in check mode before a trigger).
      type: dict
    gate:
      description: The target's own gate verdict, as RV(gate) in single mode; null when it was not evaluated.
      type: dict
    reused:
      description: True when an existing scan was used instead of a new one.
      type: bool
    changed:
      description: True when a scan of this target was (or, in check mode, would be) triggered.
      type: bool
    timed_out:
      description: True when O(wait_timeout) passed before the target's scan finished.
      type: bool
    findings:
      description: The target's normalized findings, as RV(findings) in single mode.
      returned: with O(return_findings=true), when the target's scan finished
      type: list
      elements: dict
    findings_truncated:
      description: True when some of the target's findings were left out of RV(scans[].findings) and the reports.
      returned: when findings were cut
      type: bool
    error:
      description: Why this target failed; the other targets were still worked on.
      type: str
      returned: when the target failed
findings:
  description:
    - Normalized findings of the scan, worst first (by severity, then in the vendor's order), at most O(findings_limit)
      plus every counted finding that broke the gate.
  returned: when O(return_findings=true) and the scan finished, not with O(targets)
  type: list
  elements: dict
candidates:
  description:
    - Penaxtra, when more than one new run of the integration appeared after the trigger's 202, every one of them
      (normalized as RV(scan)); none was judged, and the task failed.
  returned: when several runs could be the one the trigger started
  type: list
  elements: dict
findings_truncated:
  description: True when some findings of the scan were left out of RV(findings) and the reports (O(findings_limit)).
  returned: when findings were cut
  type: bool
reused:
  description:
    - True when an existing scan (running or younger than O(max_age)) was used instead of a new one.
    - With O(targets), true when every target reused a scan.
    - False in a failed result that got no scan to reuse.
  returned: always
  type: bool
timed_out:
  description: True when O(wait_timeout) passed before the scan finished (with O(targets), before any target's scan finished).
  returned: always
  type: bool
target:
  description: Human-readable description of the resolved target (also in a failed result, once the target was resolved).
  returned: when the target was resolved, not with O(targets)
  type: str
  sample: myorg/infrastructure (main)
reports:
  description:
    - Paths of the report files written (with O(targets), the reports cover every target whose gate was evaluated).
    - More than one SARIF file when more than 20 scans are reported (C(<name>-2.sarif) and so on).
    - Empty when no report was asked for or none was written (the run failed before its scan was judged).
  returned: always
  type: list
  elements: str
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {"total": 4, "GET": 3, "POST": 1, "retries": 0}
error:
  description:
    - The request that failed, as the platform answered it (or why no answer came). Request headers and credentials
      are never in it, and the vendor's message and details have secrets removed.
    - The same in every module of the collection.
  returned: when a request to the platform failed, not with O(targets)
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

from ansible_collections.scanops.security.plugins.module_utils.client import DEFAULT_POOL_SIZE
from ansible_collections.scanops.security.plugins.module_utils.common import ScanopsModule, agilesec_search_spec, scanops_argument_spec
from ansible_collections.scanops.security.plugins.module_utils.gate import policy_spec
from ansible_collections.scanops.security.plugins.module_utils.scans import (
    DEFAULT_CONCURRENCY,
    HARBORGUARD_SCANNERS,
    MAX_CONCURRENCY,
    SCAN_RUN_NOT_REACHED,
    bulk_target_spec,
    run_scan,
    scan_adapter,
    scan_target_spec,
)


def argument_spec():
    spec = scanops_argument_spec()
    spec.update(scan_target_spec())
    spec.update(agilesec_search_spec())
    spec.update(
        scanners=dict(type="list", elements="str", choices=list(HARBORGUARD_SCANNERS)),
        targets=dict(type="list", elements="dict", options=bulk_target_spec()),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        max_age=dict(type="str"),
        scan_id=dict(type="str"),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        wait_sleep=dict(type="float"),
        on_timeout=dict(type="str", choices=["fail", "warn"], default="fail"),
        on_conflict=dict(type="str", choices=["wait", "fail"], default="wait"),
        return_findings=dict(type="bool", default=False),
        findings_limit=dict(type="int", default=500),
        sarif_path=dict(type="path"),
        junit_path=dict(type="path"),
        markdown_path=dict(type="path"),
    )
    spec.update(policy_spec())
    return spec


def main():
    module = ScanopsModule(argument_spec=argument_spec(), supports_check_mode=True, mutually_exclusive=[("scan_id", "targets")],
                           failure_defaults=SCAN_RUN_NOT_REACHED)
    # One connection pool for every worker thread of a bulk run (an out-of-range value fails in run_scan).
    workers = min(max(module.params["concurrency"] or 1, 1), MAX_CONCURRENCY)
    with scan_adapter(module, pool_size=max(DEFAULT_POOL_SIZE, workers)) as adapter:
        result = run_scan(adapter, module.params, check_mode=module.check_mode, warn=module.warn)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
