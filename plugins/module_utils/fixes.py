# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remediation (AI fixes and their pull requests) as desired state, for finding_fix and finding_fix_info.

Only Kolega DevSec offers it. A fix is identified by the exact *set* of finding ids it was
created for (order does not matter); the findings are chosen with the same selection as
finding_info and finding_status, so the ids are the ones those modules return.

``FixRun`` makes one of three states true with as few requests as possible:

* ``present``: a fix for exactly this set exists and has finished. A pending, running or
  completed fix for the set is adopted; otherwise one is created, once: after a create whose
  answer was lost the fixes are listed again before anything is re-sent.
* ``pull_request``: the same, and its pull requests are open. Pull requests are opened once;
  a fix that already has them is left alone.
* ``absent``: no fix for the set is pending or running (those are cancelled). Finished fixes
  cannot be removed through the API and are left as they are.

``refine`` re-runs a completed fix with follow-up instructions once per distinct text. Whether a
text was applied is read from the fix itself (an assumption kept in the Kolega adapter, see
``fix_refinements``); when the fix does not say, the module fails rather than refine again.

Before any POST that draws on a quota the balance is read; an exhausted quota fails the task
before the POST, naming the quota, what is left and when the period resets.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import time

from ansible_collections.scanops.security.plugins.module_utils.common import RunRecord, build_adapter, fail_with_error, module_adapter
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.findings import (
    _selection_options,
    build_selection,
    finding_selection_spec,
    select_findings,
    source_for,
)
from ansible_collections.scanops.security.plugins.module_utils.polling import DEFAULT_WAIT_TIMEOUT, poll_until
from ansible_collections.scanops.security.plugins.module_utils.providers import get_adapter_class
from ansible_collections.scanops.security.plugins.module_utils.providers.base import parse_timestamp
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import (
    CANCELLED,
    COMPLETED,
    FAILED,
    QUEUED,
    RUNNING,
    is_terminal,
)

FIX_STATES = ("present", "pull_request", "absent")
MATCH_MODES = ("exact", "any")
# Providers whose API creates fixes; the others fail before any request.
FIX_PROVIDERS = ("kolega",)
STATUS_FILTER_OPTION = "current_status"
NEW = "(new)"


# -- argument specs --------------------------------------------------------------------------------
def finding_fix_spec():
    """finding_fix's own options, on top of the shared connection options."""
    spec = finding_selection_spec()
    spec.update(
        current_status=dict(type="list", elements="str"),
        state=dict(type="str", default="present", choices=list(FIX_STATES)),
        title=dict(type="str"),
        instructions=dict(type="str"),
        source_repo=dict(type="str"),
        source_repo_provider=dict(type="str", choices=["github", "gitlab", "azure_devops"]),
        branch=dict(type="str"),
        refine=dict(type="str"),
        retry_failed=dict(type="bool", default=False),
        pull_request=dict(type="dict", options=dict(
            title=dict(type="str"),
            body=dict(type="str"),
            branch_name=dict(type="str"),
        )),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=DEFAULT_WAIT_TIMEOUT),
        wait_sleep=dict(type="float"),
        return_diff=dict(type="bool", default=False),
    )
    return spec


def finding_fix_info_spec():
    """finding_fix_info's own options."""
    spec = finding_selection_spec()
    spec.update(
        current_status=dict(type="list", elements="str"),
        fix_id=dict(type="str"),
        match=dict(type="str", default="exact", choices=list(MATCH_MODES)),
        return_diff=dict(type="bool", default=False),
        return_progress=dict(type="bool", default=False),
    )
    return spec


# finding_fix's result keys in a run that failed before it reached them; ``state`` is null only when Ansible
# refused the options (run_finding_fix sets it as soon as it starts).
FIX_NOT_REACHED = {"state": None, "fix": None, "findings": [], "finding_ids": [], "actions": [], "pull_request_urls": [],
                   "cancelled": []}


def require_fix_provider(module_name, provider):
    """Fail (no request sent, no credential needed) for a platform that has no fixes API."""
    if provider not in FIX_PROVIDERS:
        name = get_adapter_class(provider).DISPLAY_NAME
        raise ScanopsError("%s: %s offers no fixes API (only %s does); use provider: %s"
                           % (module_name, name, ", ".join(get_adapter_class(p).DISPLAY_NAME for p in FIX_PROVIDERS),
                              FIX_PROVIDERS[0]))


# -- helpers --------------------------------------------------------------------------------------
def _created_key(fix):
    parsed = parse_timestamp(fix.get("created_at"))
    return parsed.timestamp() if parsed is not None else 0.0


def _same_text(first, second):
    return (first or "").strip() == (second or "").strip()


def _finding_summary(finding):
    return {"id": finding["id"], "rule_id": finding.get("rule_id"), "severity": finding.get("severity"),
            "status": finding.get("status"), "file": (finding.get("location") or {}).get("file")}


def fixes_for_set(adapter, repository_id, finding_ids):
    """Raw fixes whose finding ids are exactly ``finding_ids`` (any order), newest first.

    The vendor filters by one finding id; the set comparison is ours.
    """
    wanted = set(finding_ids)
    found = adapter.list_fixes(repository_id, finding_id=sorted(wanted)[0])
    matches = [raw for raw in found if isinstance(raw, dict) and set(str(i) for i in raw.get("finding_ids") or []) == wanted]
    return sorted(matches, key=_created_key, reverse=True)


def state_of(fix):
    """What --diff shows of a normalized fix (None when there is none)."""
    if fix is None:
        return {"fix_id": None}
    return {"fix_id": fix["id"], "status": fix["status"], "finding_ids": list(fix["finding_ids"]),
            "refinements": list(fix["refinements"] or []), "pull_requests": list(fix["pull_request_urls"])}


class FixRun(RunRecord):
    """One finding_fix invocation (see the module docstring for the states)."""

    def __init__(self, adapter, params, check_mode=False, warn=None, sleep=time.sleep, clock=time.monotonic):
        self.adapter = adapter
        self.params = params
        self.check_mode = check_mode
        self._warn = warn
        self.sleep = sleep
        self.clock = clock
        self.warnings = []
        # What the current step is, for "<action> <resource>: <vendor message>" when it fails.
        self.action = "Select findings in"
        self.resource = params.get("repository")
        self.actions = []
        self.progress = None
        self.result = dict(copy.deepcopy(FIX_NOT_REACHED), changed=False, state=params.get("state"), actions=self.actions)

    def step(self, action, resource=None):
        self.action = action
        self.resource = resource or self.label

    # -- validation (no request) -------------------------------------------------------------------
    def validate(self):
        """Raise ScanopsError naming the option at fault."""
        params = self.params
        state = params.get("state") or "present"
        self.state = state
        self.source = source_for(self.adapter, params)
        self.selection = build_selection(self.adapter, params, STATUS_FILTER_OPTION)
        self.source.validate(_selection_options(params, STATUS_FILTER_OPTION), STATUS_FILTER_OPTION)
        if state != "absent":
            for name in ("title", "instructions"):
                if not (params.get(name) or "").strip():
                    raise ScanopsError("%s is required with state=%s (Kolega needs it to create a fix)" % (name, state))
            if len(params["title"]) > self.adapter.FIX_TITLE_MAX:
                raise ScanopsError("title: at most %d characters, got %d" % (self.adapter.FIX_TITLE_MAX, len(params["title"])))
        else:
            for name in ("refine", "pull_request"):
                if params.get(name):
                    raise ScanopsError("%s: not used with state=absent, which only cancels pending or running fixes" % name)
        if params.get("pull_request") and state != "pull_request":
            raise ScanopsError("pull_request: only used with state=pull_request")
        refine = params.get("refine")
        if refine is not None:
            if not refine.strip():
                raise ScanopsError("refine: must not be empty")
            if len(refine) > self.adapter.REFINE_INSTRUCTIONS_MAX:
                raise ScanopsError("refine: at most %d characters, got %d" % (self.adapter.REFINE_INSTRUCTIONS_MAX, len(refine)))
        source_repo = params.get("source_repo")
        malformed = source_repo is not None and any((source_repo.count("/") < 1, source_repo.startswith("/"), source_repo.endswith("/"),
                                                     any(c.isspace() for c in source_repo)))
        if malformed:
            raise ScanopsError("source_repo: expected the repository's full name, owner/name; got %r" % source_repo)
        for name in ("wait_timeout", "wait_sleep"):
            if params.get(name) is not None and params[name] < 0:
                raise ScanopsError("%s must not be negative" % name)

    # -- the flow ------------------------------------------------------------------------------------
    def run(self):
        self.label = "findings of %s" % self.params["repository"]
        self.step("Select findings in", self.params["repository"])
        findings, missing = select_findings(self.source, self.selection)
        for warning in self.source.warnings:
            self.warn(warning)
        if missing:
            raise ScanopsError("ids not found in %s: %s (nothing was sent)" % (self.source.describe_scope(), ", ".join(missing)))
        self.repository_id = self.source.repository_id
        ids = sorted(set(str(f["id"]) for f in findings))
        self.result["findings"] = [_finding_summary(f) for f in sorted(findings, key=lambda f: str(f["id"]))]
        self.result["finding_ids"] = ids
        if not ids:
            self.warn("no finding of %s matches the selection: there is nothing to fix" % self.params["repository"])
            return self.finish(None, None)
        self.ids = ids
        self.label = "%d finding%s of %s" % (len(ids), "" if len(ids) == 1 else "s", self.params["repository"])
        self.step("List fixes of")
        matches = fixes_for_set(self.adapter, self.repository_id, ids)
        if self.state == "absent":
            return self._absent(matches)
        return self._present(matches)

    def finish(self, before, raw):
        """The result: the fix as it now is (``raw``), and --diff's before/after."""
        fix = None
        if raw is not None:
            fix = self.adapter.normalize_fix(raw, progress=self.progress)
        self.result["fix"] = fix
        self.result["pull_request_urls"] = list(fix["pull_request_urls"]) if fix else []
        self.result["diff"] = {"before": state_of(before), "after": self._predicted(before, fix)}
        self.result["api_calls"] = self.adapter.client.stats
        return self.result

    def _predicted(self, before, after):
        """--diff's after: the real state, or in check mode the state the skipped writes would give."""
        if not self.check_mode:
            return state_of(after)
        state = state_of(after if after is not None else before)
        if "create" in self.actions:
            state = {"fix_id": NEW, "status": COMPLETED if self.params.get("wait", True) else QUEUED,
                     "finding_ids": list(self.ids), "refinements": [], "pull_requests": []}
        if "refine" in self.actions:
            state["refinements"] = list(state.get("refinements") or []) + [self.params["refine"]]
        if "open_pull_requests" in self.actions:
            state["pull_requests"] = list(state.get("pull_requests") or []) + [NEW]
        if "cancel" in self.actions:
            state["status"] = CANCELLED
        return state

    # -- absent -------------------------------------------------------------------------------------
    def _absent(self, matches):
        adapter = self.adapter
        before = adapter.normalize_fix(matches[0]) if matches else None
        final = matches[0] if matches else None
        active = [raw for raw in matches if adapter.scan_status(raw.get("status")) in (QUEUED, RUNNING)]
        for raw in active:
            if self.check_mode:
                cancelled, current = True, raw
            else:
                self.step("Cancel fix %s of" % raw["id"])
                cancelled, current = self._cancel(raw)
            if cancelled:
                self.actions.append("cancel")
                self.result["cancelled"].append(raw["id"])
                self.result["changed"] = True
            if raw is final:
                final = current
        return self.finish(before, final)

    def _cancel(self, raw):
        """Cancel one fix; answer ``(cancelled, fix body)``: not cancelled when it finished first."""
        adapter = self.adapter
        try:
            return True, adapter.cancel_fix(self.repository_id, raw["id"])
        except ScanopsApiError as err:
            if not (err.may_have_acted or err.status == 409):
                raise
            unclear = err
        # The answer was lost, or the fix changed state meanwhile: look before sending again.
        self.step("Read fix %s after an unclear cancel of" % raw["id"])
        current = adapter.get_fix(self.repository_id, raw["id"])
        status = adapter.scan_status(current.get("status"))
        if status == CANCELLED:
            return True, current
        if is_terminal(status):
            self.warn("fix %s ended %s before it could be cancelled" % (raw["id"], current.get("status")))
            return False, current
        if unclear.status == 409:
            raise unclear
        self.step("Cancel fix %s of" % raw["id"])
        return True, adapter.cancel_fix(self.repository_id, raw["id"])

    # -- present / pull_request -------------------------------------------------------------------------
    def _present(self, matches):
        adapter = self.adapter
        live = [raw for raw in matches if adapter.scan_status(raw.get("status")) in (QUEUED, RUNNING, COMPLETED)]
        chosen = None
        if live:
            # Fixes cannot be deleted: when several exist for one set, prefer the one whose pull
            # requests are open, then the newest, and say so.
            chosen = sorted(live, key=lambda raw: (bool(raw.get("pull_requests")), _created_key(raw)), reverse=True)[0]
            if len(live) > 1:
                self.warn("%d fixes exist for these %d findings (%s); using %s"
                          % (len(live), len(self.ids), ", ".join(raw["id"] for raw in live), chosen["id"]))
            self._note_differences(chosen)
        before = adapter.normalize_fix(chosen) if chosen is not None else None
        if chosen is None:
            failed = [raw for raw in matches if adapter.scan_status(raw.get("status")) == FAILED]
            if failed and not self.params.get("retry_failed"):
                newest = failed[0]
                raise ScanopsError("fix %s for these findings failed (%s) and none is pending, running or completed; set "
                                   "retry_failed=true to start another" % (newest["id"], newest.get("error_message") or "no reason given"))
            raw = self._create(matches)
            if raw is None:
                # Check mode: what follows the create is predicted, not read.
                if self.params.get("refine"):
                    self.actions.append("refine")
                if self.state == "pull_request":
                    self.actions.append("open_pull_requests")
                return self.finish(None, None)
        else:
            raw = chosen
            self.actions.append("adopt")
        raw = self._settle(raw)
        raw = self._refine(raw)
        if self.state == "pull_request":
            raw = self._pull_requests(raw)
        if self.progress is None:
            self.step("Read the progress of fix %s of" % raw["id"])
            self.progress = adapter.get_fix_progress(self.repository_id, raw["id"])
        final = self.finish(before, raw)
        if self.params.get("return_diff") and final["fix"] is not None:
            self.step("Read the diff of fix %s of" % raw["id"])
            answer = adapter.get_fix_diff(self.repository_id, raw["id"]) or {}
            final["fix"]["diff"] = answer.get("diff")
            # finish() counted the requests before this one.
            final["api_calls"] = adapter.client.stats
        return final

    def _note_differences(self, raw):
        """Options that only shape a new fix: say when the adopted one was made differently."""
        for option, key in (("title", "title"), ("source_repo", "source_repo"), ("branch", "source_scan_branch")):
            wanted = self.params.get(option)
            if wanted and raw.get(key) and raw.get(key) != wanted:
                self.warn("fix %s for these findings was created with %s %r, not %r; %s is used only when a fix is created"
                          % (raw["id"], option, raw.get(key), wanted, option))

    def _source(self):
        """``(source_repo, provider)`` checked against the repository's source repositories."""
        self.step("Read repository", self.repository_id)
        repository = self.adapter.get_repository(self.repository_id) or {}
        refs = [ref for ref in repository.get("repositories") or [] if isinstance(ref, dict) and ref.get("full_name")]
        names = [ref["full_name"] for ref in refs]
        wanted = self.params.get("source_repo")
        if wanted:
            ref = next((r for r in refs if r["full_name"] == wanted), None)
            if ref is None and refs:
                raise ScanopsError("source_repo %r is not a source repository of %s; it has: %s"
                                   % (wanted, repository.get("name") or self.repository_id, ", ".join(names)))
        elif len(refs) == 1:
            ref = refs[0]
        else:
            raise ScanopsError("source_repo is required: %s has %s source repositories (%s); name the one to fix"
                               % (repository.get("name") or self.repository_id, len(refs) or "no", ", ".join(names) or "none listed"))
        provider = self.params.get("source_repo_provider") or (ref or {}).get("provider") or None
        return (wanted or ref["full_name"]), provider

    def _check_quota(self, operation):
        """Read the balance; fail before the POST when the quota it draws on has nothing left.

        A failure is reported as the current step's (the POST that was not sent).
        """
        quota = self.adapter.quota_of(operation)
        if not quota:
            return
        action, resource = self.action, self.resource
        self.step("Read the quota balance for", self.label)
        balance = self.adapter.quota_balance() or {}
        self.step(action, resource)
        counter = balance.get(quota)
        if not isinstance(counter, dict) or counter.get("remaining") is None:
            return
        if int(counter["remaining"]) <= 0:
            raise ScanopsError("the Kolega %s quota is exhausted: %s left of %s (plan %s, top-up %s, used %s); it resets at %s"
                               % (quota, counter.get("remaining"), int(counter.get("plan") or 0) + int(counter.get("topup") or 0),
                                  counter.get("plan"), counter.get("topup"), counter.get("used"),
                                  balance.get("period_end") or "the end of the period"))

    def _create(self, matches):
        """Create the fix (never twice); None in check mode."""
        params = self.params
        source_repo, provider = self._source()
        self.step("Create fix for")
        self._check_quota("create_fix")
        self.actions.append("create")
        self.result["changed"] = True
        if self.check_mode:
            return None
        baseline = set(raw.get("id") for raw in matches)

        def send():
            return self.adapter.create_fix(self.repository_id, self.ids, params["title"], params["instructions"], source_repo,
                                           source_repo_provider=provider, source_scan_branch=params.get("branch"))

        self.step("Create fix for")
        try:
            return send()
        except ScanopsApiError as err:
            if not err.may_have_acted:
                self._explain_quota(err)
                raise
            lost = err
        self.step("Look for the fix a lost create may have made for")
        for raw in fixes_for_set(self.adapter, self.repository_id, self.ids):
            if raw.get("id") not in baseline:
                self.warn("the answer to the create was lost (%s) but the fix it made was found: %s" % (lost.message, raw["id"]))
                return raw
        self.warn("the answer to the create was lost (%s) and no new fix exists; creating it once more" % lost.message)
        self.step("Create fix for")
        try:
            return send()
        except ScanopsApiError as err:
            self._explain_quota(err)
            raise

    def _explain_quota(self, err):
        """A quota refusal that the balance did not predict (a race): add what the balance says now."""
        quota = (err.details or {}).get("quota_type") if isinstance(err.details, dict) else None
        if err.status != 403 or not quota:
            return
        try:
            balance = self.adapter.quota_balance() or {}
        except ScanopsError:
            return
        counter = balance.get(quota) or {}
        err.note = "%s left of the %s quota; it resets at %s" % (counter.get("remaining"), quota, balance.get("period_end"))

    def _settle(self, raw):
        """Wait for the fix to finish when asked; fail when it failed or the wait ran out."""
        adapter = self.adapter
        fix_id = raw["id"]
        if not self.params.get("wait", True) or is_terminal(adapter.scan_status(raw.get("status"))):
            return self._finished(raw) if is_terminal(adapter.scan_status(raw.get("status"))) else raw
        interval = self.params.get("wait_sleep")
        interval = adapter.MIN_POLL_INTERVAL if interval is None else float(interval)
        self.step("Wait for fix %s of" % fix_id)

        def refresh(current):
            self.result["fix"] = adapter.normalize_fix(raw, progress=current)
            self.progress = adapter.get_fix_progress(self.repository_id, fix_id)
            return self.progress

        progress, timed_out = poll_until(self.progress or {"status": raw.get("status")},
                                         lambda current: is_terminal(adapter.scan_status(current.get("status"))),
                                         refresh, interval, self.params.get("wait_timeout"), self.sleep, self.clock)
        if timed_out:
            self.result["fix"] = adapter.normalize_fix(raw, progress=self.progress)
            raise ScanopsError("fix %s is still %s after the wait_timeout of %s s; a re-run adopts it"
                               % (fix_id, progress.get("status"), self.params.get("wait_timeout")))
        self.step("Read finished fix %s of" % fix_id)
        return self._finished(adapter.get_fix(self.repository_id, fix_id))

    def _finished(self, raw):
        status = self.adapter.scan_status(raw.get("status"))
        if status in (FAILED, CANCELLED):
            self.result["fix"] = self.adapter.normalize_fix(raw, progress=self.progress)
            raise ScanopsError("fix %s ended %s: %s" % (raw["id"], raw.get("status"), raw.get("error_message") or "no reason given"))
        return raw

    def _refine(self, raw):
        """Send ``refine`` once per distinct text to a completed fix, then wait for the re-run."""
        text = self.params.get("refine")
        if not text:
            return raw
        adapter = self.adapter
        if adapter.scan_status(raw.get("status")) != COMPLETED:
            self.warn("fix %s is %s: refine is sent once it has completed (run again with wait)" % (raw["id"], raw.get("status")))
            return raw
        history = adapter.fix_refinements(raw)
        if history is None:
            raise ScanopsError("Kolega did not list the refinements of fix %s (the '%s' field this collection assumes, see "
                               "docs/assumptions.md), so whether refine was already applied cannot be told; it was not sent"
                               % (raw["id"], adapter.FIX_REFINEMENTS_FIELD))
        if any(_same_text(text, applied) for applied in history):
            return raw
        self.actions.append("refine")
        self.result["changed"] = True
        if self.check_mode:
            return raw
        self.step("Refine fix %s of" % raw["id"])
        try:
            raw = adapter.refine_fix(self.repository_id, raw["id"], text)
        except ScanopsApiError as err:
            if not err.may_have_acted:
                raise
            self.step("Read fix %s after a lost refine of" % raw["id"])
            current = adapter.get_fix(self.repository_id, raw["id"])
            if any(_same_text(text, applied) for applied in adapter.fix_refinements(current) or []):
                self.warn("the answer to refine was lost (%s) but the fix shows the refinement" % err.message)
                raw = current
            else:
                self.warn("the answer to refine was lost (%s) and the fix does not show it; refining once more" % err.message)
                self.step("Refine fix %s of" % raw["id"])
                raw = adapter.refine_fix(self.repository_id, raw["id"], text)
        self.progress = None
        return self._settle(raw)

    def _pull_requests(self, raw):
        """Open the fix's pull requests once it has completed, unless it has them."""
        adapter = self.adapter
        if raw.get("pull_requests"):
            return raw
        if adapter.scan_status(raw.get("status")) != COMPLETED:
            self.warn("fix %s is %s: its pull requests are opened once it has completed (run again with wait)"
                      % (raw["id"], raw.get("status")))
            return raw
        self.step("Open the pull requests of fix %s of" % raw["id"])
        self._check_quota("create_pull_requests")
        self.actions.append("open_pull_requests")
        self.result["changed"] = True
        if self.check_mode:
            return raw
        options = self.params.get("pull_request") or {}

        def send():
            return adapter.create_pull_requests(self.repository_id, raw["id"], title=options.get("title"), body=options.get("body"),
                                                branch_name=options.get("branch_name"))

        self.step("Open the pull requests of fix %s of" % raw["id"])
        try:
            send()
        except ScanopsApiError as err:
            if not (err.may_have_acted or err.status == 409):
                self._explain_quota(err)
                raise
            lost = err
            self.step("Read fix %s after an unclear pull request call on" % raw["id"])
            current = adapter.get_fix(self.repository_id, raw["id"])
            if current.get("pull_requests"):
                self.warn("the answer to the pull request call was lost (%s) but the fix has them" % lost.message)
                return current
            if lost.status == 409:
                raise lost
            self.warn("the answer to the pull request call was lost (%s) and the fix has none; sending it once more" % lost.message)
            self.step("Open the pull requests of fix %s of" % raw["id"])
            send()
        # The answer lists the pull requests only; the fix carries them with everything else.
        self.step("Read fix %s of" % raw["id"])
        return adapter.get_fix(self.repository_id, raw["id"])


# -- finding_fix_info -------------------------------------------------------------------------------
class FixQuery(object):
    """One finding_fix_info invocation: one fix by id, the fixes of a finding selection, or all of a repository."""

    def __init__(self, adapter, params):
        self.adapter = adapter
        self.params = params
        self.warnings = []

    def validate(self):
        """Raise ScanopsError naming the option at fault (no request)."""
        params = self.params
        self.source = source_for(self.adapter, params)
        self.selection = build_selection(self.adapter, params, STATUS_FILTER_OPTION)
        self.source.validate(_selection_options(params, STATUS_FILTER_OPTION), STATUS_FILTER_OPTION)
        self.selecting = bool(self.selection.used()) or bool(params.get("scan_id"))
        if params.get("fix_id") and self.selecting:
            raise ScanopsError("fix_id: give either fix_id or a finding selection, not both")

    def run(self):
        adapter, params = self.adapter, self.params
        ids = None
        if self.selecting:
            findings, missing = select_findings(self.source, self.selection)
            self.warnings.extend(self.source.warnings)
            if missing:
                self.warnings.append("ids not found in %s: %s" % (self.source.describe_scope(), ", ".join(missing)))
            ids = sorted(set(str(f["id"]) for f in findings))
            repository_id = self.source.repository_id
            if not ids:
                self.warnings.append("no finding of %s matches the selection" % params["repository"])
                return []
        else:
            repository_id = _resolve_repository_id(self.source)
        if params.get("fix_id"):
            raws = [adapter.get_fix(repository_id, params["fix_id"])]
        elif ids is not None and params.get("match", "exact") == "exact":
            raws = fixes_for_set(adapter, repository_id, ids)
        elif ids is not None:
            wanted = set(ids)
            raws = [raw for raw in adapter.list_fixes(repository_id)
                    if isinstance(raw, dict) and wanted.intersection(str(i) for i in raw.get("finding_ids") or [])]
        else:
            raws = adapter.list_fixes(repository_id)
        fixes = []
        for raw in raws:
            if not isinstance(raw, dict):
                continue
            progress = adapter.get_fix_progress(repository_id, raw["id"]) if params.get("return_progress") else None
            fix = adapter.normalize_fix(raw, progress=progress)
            if params.get("return_diff"):
                fix["diff"] = (adapter.get_fix_diff(repository_id, raw["id"]) or {}).get("diff")
            fixes.append(fix)
        return fixes


def _resolve_repository_id(source):
    """The repository id for the ``repository`` option (an id, a name or a full name), with one read."""
    wanted = str(source.params["repository"])
    matches = [repo_id for repo_id, names in source.repository_candidates()
               if str(repo_id) == wanted or wanted in [str(n) for n in names if n]]
    if len(matches) > 1:
        raise ScanopsError("repository '%s' is ambiguous: it names %d repositories (ids %s); give the id"
                           % (wanted, len(matches), ", ".join(str(m) for m in matches)))
    if not matches:
        raise ScanopsError("repository '%s' matches no %s repository id, name or full name" % (wanted, source.name))
    return matches[0]


# -- module entry points ---------------------------------------------------------------------------
def run_finding_fix(module, sleep=time.sleep, clock=time.monotonic):
    """Entry point of finding_fix."""
    # The options are accepted: from here on every failed result names the state asked for.
    module.failure_defaults = dict(getattr(module, "failure_defaults", None) or FIX_NOT_REACHED, state=module.params.get("state"))
    try:
        require_fix_provider("finding_fix", module.params["provider"])
    except ScanopsError as err:
        module.fail_json(msg=err.message)
    with build_adapter(module) as adapter:
        run = FixRun(adapter, module.params, check_mode=module.check_mode, warn=module.warn, sleep=sleep, clock=clock)
        try:
            run.validate()
        except ScanopsError as err:
            module.fail_json(msg=err.message, **run.snapshot())
        try:
            result = run.run()
        except ScanopsError as err:
            fail_with_error(module, err, run.action, run.resource, **run.snapshot())
        if not module._diff:  # pylint: disable=protected-access
            result.pop("diff", None)
    module.exit_json(**result)


def run_finding_fix_info(module):
    """Entry point of finding_fix_info."""
    try:
        require_fix_provider("finding_fix_info", module.params["provider"])
    except ScanopsError as err:
        module.fail_json(msg=err.message)
    with module_adapter(module, "List fixes of", module.params.get("repository")) as adapter:
        query = FixQuery(adapter, module.params)
        try:
            query.validate()
        except ScanopsError as err:
            module.fail_json(msg=err.message, api_calls=adapter.client.stats)
        fixes = query.run()
        for warning in query.warnings:
            module.warn(warning)
        module.exit_json(changed=False, fixes=fixes, count=len(fixes), api_calls=adapter.client.stats)
