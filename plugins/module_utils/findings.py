# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings as desired state, shared by ``finding_info`` and ``finding_status``.

A *source* knows one provider's findings scope (which options select it, which filters the
vendor applies itself, how one finding's status is written). Everything else is common:

1. validate the options against the provider before any request;
2. list every page of the scope once, pushing single-valued filters to the vendor;
3. apply every filter again on our side (cheap, and correct whatever the server ignored);
4. finding_status: compare, then write only what differs, over the one connection pool, with
   a bounded thread pool paced by the client's rate limiter.

Listing always finishes before the first write: writing while walking pages that are filtered
by status would shift the offsets and skip findings.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import fnmatch
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.scanops.security.plugins.module_utils.common import build_adapter, error_result, fail_with_error
from ansible_collections.scanops.security.plugins.module_utils.client import DEFAULT_POOL_SIZE
from ansible_collections.scanops.security.plugins.module_utils.errors import (
    ScanopsApiError,
    ScanopsError,
    VocabularyError,
)
from ansible_collections.scanops.security.plugins.module_utils.jsonlines import JsonLinesWriter, check_destination
from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import (
    FINDING_KINDS,
    SEARCH_PAGE_SIZE,
    crypto_filter_matches,
    in_search_scope,
    search_query,
)
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import AssumedCallError
from ansible_collections.scanops.security.plugins.module_utils.providers.penaxtra import FINDINGS_CAP as PENAXTRA_FINDINGS_CAP
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import COMPLETED, SEVERITIES

MIN_CONCURRENCY = 1
MAX_CONCURRENCY = 32
DEFAULT_CONCURRENCY = 8
# Above this many changed findings the diff is a summary with counts instead of one line each.
DIFF_DETAIL_LIMIT = 50

FILTER_OPTIONS = ("severity", "status", "rule_id", "cve", "package", "path", "ids")
# The normalized fields of a finding (adapters' normalize_finding) that finding_info's ``fields`` can pick;
# ``id`` is always kept and ``raw`` goes by ``include_raw``; ``crypto`` only AgileSec findings have.
FINDING_FIELDS = ("provider", "rule_id", "title", "severity", "status", "vendor_status", "location", "first_seen",
                  "crypto")
# Options that choose the scope of findings (which ones a provider takes is its SCOPE).
SCOPE_OPTIONS = ("repository", "scan_id", "image", "sensor")
# finding_info's filters of cryptographic findings (AgileSec only).
CRYPTO_OPTIONS = ("kind", "algorithm", "key_size_below", "expires_within_days", "labels")
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)


# -- argument spec -------------------------------------------------------------------------------
def crypto_selection_spec():
    """finding_info's AgileSec scope (``sensor``) and crypto filters, documented in the module itself."""
    return dict(
        sensor=dict(type="str"),
        kind=dict(type="list", elements="str", choices=sorted(FINDING_KINDS)),
        algorithm=dict(type="list", elements="str"),
        key_size_below=dict(type="int"),
        expires_within_days=dict(type="int"),
        labels=dict(type="dict"),
    )


def finding_selection_spec():
    """The scope and filter options finding_info and finding_status share.

    Documented in the ``scanops.security.findings`` fragment; each module adds its own status
    filter (``status`` or ``current_status``), which the modules describe differently.
    """
    return dict(
        repository=dict(type="str"),
        scan_id=dict(type="str", aliases=["scan_batch_id"]),
        image=dict(type="str"),
        severity=dict(type="list", elements="str", choices=list(SEVERITIES)),
        rule_id=dict(type="list", elements="str"),
        cve=dict(type="list", elements="str"),
        package=dict(type="list", elements="str"),
        path=dict(type="str"),
        ids=dict(type="list", elements="str"),
    )


# -- selection ---------------------------------------------------------------------------------
class Selection(object):
    """The filters, normalized: sets of lower-cased words, a glob, and ids in the user's order.

    ``status`` holds normalized finding statuses (validated against the provider's vocabulary).
    Rule ids, CVE ids and packages are also kept as given, for the vendors that match them with
    their case (``FindingSource.CASE_SENSITIVE``).
    """

    def __init__(self, severity=None, status=None, rule_id=None, cve=None, package=None, path=None, ids=None):
        self.severity = _lower_set(severity)
        self.status = set(status) if status else None
        self.rule_id = _lower_set(rule_id)
        self.cve = _lower_set(cve)
        self.package = _lower_set(package)
        self.given = dict((name, _given_set(values)) for name, values in (("rule_id", rule_id), ("cve", cve), ("package", package)))
        self.path = path or None
        self.ids = list(dict.fromkeys(str(i) for i in ids)) if ids else None
        self._id_set = set(self.ids) if self.ids else set()

    def used(self):
        """Names of the filters that are set."""
        return [name for name in FILTER_OPTIONS if getattr(self, name)]

    def single(self, name):
        """The one value of a filter (as given, for words with a case), when it has exactly one."""
        values = self.given.get(name) or getattr(self, name)
        if values and len(values) == 1:
            return next(iter(values))
        return None

    def _word_matches(self, source, name, value):
        if name in source.CASE_SENSITIVE:
            return str(value or "") in self.given[name]
        return str(value or "").lower() in getattr(self, name)

    def matches(self, source, finding):
        """True when a normalized finding passes every filter that is set."""
        if self.ids is not None and str(finding["id"]) not in self._id_set:
            return False
        if self.severity is not None and finding["severity"] not in self.severity:
            return False
        if self.status is not None and finding["status"] not in self.status:
            return False
        if self.rule_id is not None and not self._word_matches(source, "rule_id", finding["rule_id"]):
            return False
        if self.cve is not None and not any(self._word_matches(source, "cve", c) for c in source.cves(finding)):
            return False
        if self.package is not None and not self._word_matches(source, "package", source.package(finding)):
            return False
        if self.path is not None:
            file_path = source.file_path(finding)
            if not file_path or not _glob_match(file_path, self.path):
                return False
        return True


def _lower_set(values):
    return set(str(v).strip().lower() for v in values) if values else None


def _given_set(values):
    return set(str(v).strip() for v in values) if values else None


def _glob_match(file_path, pattern):
    # Vendors report paths with or without a leading "./"; compare both spellings the same way.
    candidate = file_path[2:] if file_path.startswith("./") else file_path
    pattern = pattern[2:] if pattern.startswith("./") else pattern
    return fnmatch.fnmatchcase(candidate, pattern)


# -- per-provider sources ----------------------------------------------------------------------
class FindingSource(object):
    """One provider's findings scope. Subclasses set the class attributes and the hooks."""

    # scope option -> True when required for this provider
    SCOPE = {}
    # filters this provider's findings carry (others are an error, not an empty result)
    FILTERS = frozenset(("severity", "status", "rule_id", "ids"))
    # why a filter does not apply, by filter name
    NO_FILTER_REASON = {}
    # triage fields besides the status that a write can store
    TRIAGE_FIELDS = ()
    # the vendor's list is capped to this many rows (newest first); None when every page is reachable
    LIST_CAP = None
    # filters the vendor matches with their case: sent as given and compared as given here too
    CASE_SENSITIVE = frozenset()

    def __init__(self, adapter, params):
        self.adapter = adapter
        self.params = params
        self.warnings = []

    @property
    def name(self):
        return self.adapter.NAME

    # validation ---------------------------------------------------------------------------
    def validate(self, selection_options, status_filter_option):
        """Raise ScanopsError naming the option at fault, before any request."""
        for option in SCOPE_OPTIONS:
            value = self.params.get(option)
            if option not in self.SCOPE and value:
                raise ScanopsError("%s: not used by %s findings (%s scope options: %s)"
                                   % (option, self.name, self.name, ", ".join(sorted(self.SCOPE)) or "none"))
            if self.SCOPE.get(option) and not value:
                raise ScanopsError("%s is required for %s findings" % (option, self.name))
        for name in FILTER_OPTIONS:
            option = status_filter_option if name == "status" else name
            if selection_options.get(name) and name not in self.FILTERS:
                raise ScanopsError("%s: %s findings carry no %s, so this filter cannot apply; filters available: %s"
                                   % (option, self.name, self.NO_FILTER_REASON.get(name, name),
                                      ", ".join(status_filter_option if f == "status" else f
                                                for f in FILTER_OPTIONS if f in self.FILTERS)))
        for option in CRYPTO_OPTIONS:
            if self.params.get(option) not in (None, [], {}):
                raise ScanopsError("%s: only AgileSec findings are cryptographic objects; %s findings cannot be filtered by %s"
                                   % (option, self.name, option.replace("_", " ")))

    # listing ------------------------------------------------------------------------------
    def pushed(self, selection, name):
        """The one value of a filter in the vendor's words, or None to keep the filter on our side.

        Severities go through the provider's vocabulary: a severity with no single vendor word
        (Kolega has none for info) is filtered here only. Statuses are translated by the adapter.
        """
        value = selection.single(name)
        if value is not None and name == "severity":
            return self.adapter.vocabulary.vendor_severity(value)
        return value

    def iter_raw(self, selection):
        """Yield the vendor's findings of the scope; may push single-valued filters to the vendor."""
        raise NotImplementedError

    def fetch_one(self, finding_id):  # pylint: disable=unused-argument
        """The vendor's finding by id, for ids a capped list did not reach; None when unsupported."""
        return None

    def in_scope(self, raw):  # pylint: disable=unused-argument
        """Client-side part of the scope (e.g. a scan id the vendor cannot filter on)."""
        return True

    def extra_matches(self, raw):  # pylint: disable=unused-argument
        """Client-side check of the provider's own filters (AgileSec crypto filters)."""
        return True

    # writing ------------------------------------------------------------------------------
    def write(self, finding_id, vendor_status, note=None, assignee=None):
        raise NotImplementedError

    def current_triage(self, finding):  # pylint: disable=unused-argument
        """The stored triage fields (``note``, ``assignee``) of a normalized finding."""
        return {}

    # what the filters look at ---------------------------------------------------------------
    def cves(self, finding):
        return []

    def package(self, finding):
        return (finding.get("location") or {}).get("package")

    def file_path(self, finding):
        return (finding.get("location") or {}).get("file")

    def describe_scope(self):
        parts = ["%s %s" % (option, self.params[option]) for option in SCOPE_OPTIONS if self.params.get(option)]
        return "%s findings%s" % (self.name, (" of " + ", ".join(parts)) if parts else "")


class _RepositoryScoped(FindingSource):
    """CloudGeni and Kolega: findings live under a repository, given by id or by name."""

    # The shape of the vendor's repository ids: a value of that shape is used as the id, any other
    # is looked up in the repository list. None: try the value as an id and read the vendor's
    # documented 404 as "look it up" (CloudGeni documents 404 for a missing resource).
    ID_SHAPE = None

    def __init__(self, adapter, params):
        super(_RepositoryScoped, self).__init__(adapter, params)
        self.repository_id = params.get("repository")
        self._resolved = False

    def repository_candidates(self):
        """``[(id, [names])]`` of every repository, to resolve a name."""
        raise NotImplementedError

    def _resolve_repository(self):
        wanted = str(self.params["repository"])
        matches = []
        for repo_id, names in self.repository_candidates():
            if str(repo_id) == wanted or wanted in [str(n) for n in names if n]:
                matches.append(repo_id)
        self._resolved = True
        if len(matches) > 1:
            raise ScanopsError("repository '%s' is ambiguous: it names %d repositories (ids %s); give the id"
                               % (wanted, len(matches), ", ".join(str(m) for m in matches)))
        return matches[0] if matches else None

    def _resolve_by_list(self):
        found = self._resolve_repository()
        if found is None:
            raise ScanopsError("repository '%s' matches no %s repository id, name or full name"
                               % (self.params["repository"], self.name))
        self.repository_id = found

    def iter_scoped(self, make_pages):
        """Walk ``make_pages(repository_id)`` with the option resolved to a repository id.

        With ``ID_SHAPE`` the value's shape decides: an id goes straight to the findings, anything
        else is looked up in the repository list first. Without it the value is tried as an id and
        a 404 before the first item sends it to the list (a name costs one 404 plus the list).
        """
        yielded = False
        if self.ID_SHAPE is not None:
            if not self._resolved and not self.ID_SHAPE.match(str(self.repository_id)):
                self._resolve_by_list()
            yield from make_pages(self.repository_id)
            return
        if "/" in str(self.repository_id) and not self._resolved:
            # A full name (owner/repo) can never be an id.
            self._resolve_by_list()
        try:
            for item in make_pages(self.repository_id):
                yielded = True
                yield item
            return
        except ScanopsApiError as err:
            if err.status != 404 or yielded or self._resolved:
                raise
            found = self._resolve_repository()
            if found is None or str(found) == str(self.repository_id):
                # The repository exists (or nothing matches): the 404 is the vendor's answer.
                raise
            self.repository_id = found
        yield from make_pages(self.repository_id)


class CloudGeniFindings(_RepositoryScoped):
    SCOPE = {"repository": True, "scan_id": True}
    FILTERS = frozenset(("severity", "status", "rule_id", "path", "ids"))
    NO_FILTER_REASON = {"cve": "CVE ids (they are IaC policy checks)", "package": "packages (they are IaC policy checks)"}

    def repository_candidates(self):
        return [(r.get("id"), [r.get("name"), r.get("fullName")]) for r in self.adapter.list_repositories()]

    def iter_raw(self, selection):
        severity, status = self.pushed(selection, "severity"), selection.single("status")
        return self.iter_scoped(lambda repo_id: self.adapter.iter_findings(
            repo_id, self.params["scan_id"], severity=severity, status=status))

    def write(self, finding_id, vendor_status, note=None, assignee=None):
        return self.adapter.update_finding_status(self.repository_id, self.params["scan_id"], finding_id, vendor_status)


class KolegaFindings(_RepositoryScoped):
    SCOPE = {"repository": True, "scan_id": False}
    # Kolega ids are UUIDs; its OpenAPI documents only 200 and 422 below a repository, so a 404
    # there is never read as "the value was a name" (docs/assumptions.md, Repository ids).
    ID_SHAPE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
    FILTERS = frozenset(("severity", "status", "rule_id", "cve", "path", "ids"))
    NO_FILTER_REASON = {"package": "package field (SBOM findings name the package only in their text; filter by cve or rule_id)"}

    def repository_candidates(self):
        candidates = []
        for repo in self.adapter.list_repositories(include_archived=True):
            names = [repo.get("name")] + [s.get("full_name") for s in (repo.get("repositories") or []) if isinstance(s, dict)]
            candidates.append((repo.get("id"), names))
        return candidates

    def iter_raw(self, selection):
        severity, status = self.pushed(selection, "severity"), selection.single("status")
        return self.iter_scoped(lambda repo_id: self.adapter.iter_findings(
            repo_id, scan_batch_id=self.params.get("scan_id"), severity=severity, status=status))

    def write(self, finding_id, vendor_status, note=None, assignee=None):
        return self.adapter.update_finding_status(self.repository_id, finding_id, vendor_status)

    def cves(self, finding):
        # SBOM findings carry their CVE as the check id (and repeat it in the title and message).
        raw = finding.get("raw") or {}
        found = []
        for key in ("check_id", "title", "message"):
            found.extend(_CVE.findall(str(raw.get(key) or "")))
        return found


class HarborGuardFindings(FindingSource):
    SCOPE = {"image": False, "scan_id": False}
    FILTERS = frozenset(("severity", "status", "rule_id", "cve", "package", "ids"))
    NO_FILTER_REASON = {"path": "file paths (they are image packages; filter by package or cve)"}
    TRIAGE_FIELDS = ("note", "assignee")
    # The vulnerabilities list matches package names exactly (PyYAML is not pyyaml).
    CASE_SENSITIVE = frozenset(("package",))

    def iter_raw(self, selection):
        if self.params.get("scan_id"):
            return self._scan_vulnerabilities(self.params["scan_id"])
        cve = self.pushed(selection, "cve") or (self.pushed(selection, "rule_id") if not selection.cve else None)
        return self.adapter.iter_vulnerabilities(
            severity=self.pushed(selection, "severity"), status=selection.single("status"), image=self.params.get("image"),
            package=self.pushed(selection, "package"), cve_id=cve.upper() if cve else None)

    def _scan_vulnerabilities(self, scan_id):
        # GET /api/vulnerabilities serves the newest complete scan of each image only; the scan
        # object carries its own findings (with their triage), whichever scan it is.
        scan = self.adapter.get_scan(scan_id) or {}
        image = scan.get("image") if isinstance(scan.get("image"), dict) else {}
        wanted = self.params.get("image")
        if wanted:
            reference = "%s:%s" % (image.get("name"), image.get("tag"))
            if wanted not in (reference, image.get("name"), image.get("digest")):
                raise ScanopsError("scan_id: scan %s is of image %s, not %s (image)" % (scan_id, reference, wanted))
        if self.adapter.scan_status(scan.get("status")) != COMPLETED:
            self.warnings.append("scan %s is %s: HarborGuard reports a scan's findings once it is complete"
                                 % (scan_id, scan.get("status")))
        return iter(scan.get("vulnerabilities") or [])

    def in_scope(self, raw):
        # The vulnerabilities list has no scan filter; every item names its scan.
        scan_id = self.params.get("scan_id")
        return not scan_id or str(raw.get("scanId")) == str(scan_id)

    def write(self, finding_id, vendor_status, note=None, assignee=None):
        return self.adapter.set_triage(finding_id, status=vendor_status, assignee=assignee, note=note)

    def current_triage(self, finding):
        triage = (finding.get("raw") or {}).get("triage") or {}
        return {"note": triage.get("note"), "assignee": triage.get("assignee")}

    def cves(self, finding):
        cve = (finding.get("raw") or {}).get("cveId")
        return [cve] if cve else []


class PenaxtraFindings(FindingSource):
    SCOPE = {"scan_id": False}
    FILTERS = frozenset(("severity", "status", "ids"))
    NO_FILTER_REASON = {"rule_id": "rule or control id in the findings list (id, scan_id, title, severity, status)",
                        "cve": "CVE ids (they are cloud posture controls)", "package": "packages (they are cloud posture controls)",
                        "path": "file paths (they are cloud resources)"}

    LIST_CAP = PENAXTRA_FINDINGS_CAP

    def iter_raw(self, selection):
        # The vendor filters by severity only; scan_id (planned there) and status are ours.
        return iter(self.adapter.list_findings(severity=self.pushed(selection, "severity")))

    def in_scope(self, raw):
        scan_id = self.params.get("scan_id")
        return not scan_id or str(raw.get("scan_id")) == str(scan_id)

    def fetch_one(self, finding_id):
        return self.adapter.get_finding(finding_id)

    def write(self, finding_id, vendor_status, note=None, assignee=None):
        return self.adapter.update_finding_status(finding_id, vendor_status)


class AgileSecFindings(FindingSource):
    """AgileSec: documents of the Search API, of a sensor (name or id) and/or one execution (``scan_id``).

    Every filter that can goes into the OpenSearch query; all of them are applied again here.
    """

    SCOPE = {"sensor": False, "scan_id": False}
    FILTERS = frozenset(("severity", "rule_id", "path", "ids"))
    NO_FILTER_REASON = {"status": "triage status (the search store keeps findings, not their triage)",
                        "cve": "CVE ids (they are cryptographic objects; filter by algorithm or kind)",
                        "package": "packages (they are cryptographic objects; filter by algorithm or kind)"}

    def validate(self, selection_options, status_filter_option):
        for option in ("repository", "image"):
            if self.params.get(option):
                raise ScanopsError("%s: not used by agilesec findings (agilesec scope options: sensor, scan_id)" % option)
        for name in FILTER_OPTIONS:
            option = status_filter_option if name == "status" else name
            if selection_options.get(name) and name not in self.FILTERS:
                raise ScanopsError("%s: agilesec findings carry no %s, so this filter cannot apply; filters available: %s"
                                   % (option, self.NO_FILTER_REASON.get(name, name),
                                      ", ".join([f for f in FILTER_OPTIONS if f in self.FILTERS] + list(CRYPTO_OPTIONS))))
        self._crypto = crypto_filters(self.params)
        self.adapter.require_search()

    @property
    def crypto(self):
        """The crypto filters as ``search_query`` arguments (checked by ``validate``)."""
        if getattr(self, "_crypto", None) is None:
            self._crypto = crypto_filters(self.params)
        return self._crypto

    def iter_raw(self, selection):
        # With ids only the scope goes to the server (see select_findings); the crypto filters apply here.
        crypto = {} if selection.ids else self.crypto
        query = search_query(sensor=self.params.get("sensor"), execution_id=self.params.get("scan_id"),
                             severities=selection.severity, rule_ids=selection.rule_id, ids=selection.ids, **crypto)
        limit = self.params.get("limit")
        page_size = min(SEARCH_PAGE_SIZE, limit) if limit and not self.params.get("path") else SEARCH_PAGE_SIZE
        return self.adapter.iter_search(query, page_size=page_size)

    def in_scope(self, raw):
        return in_search_scope(raw, sensor=self.params.get("sensor"), execution_id=self.params.get("scan_id"))

    def extra_matches(self, raw):
        return crypto_filter_matches(raw, **self.crypto)


def crypto_filters(params, now=None):
    """The crypto filter options as ``search_query``/``crypto_filter_matches`` arguments; ScanopsError naming a bad one."""
    filters = {}
    if params.get("kind"):
        unknown = [kind for kind in params["kind"] if kind not in FINDING_KINDS]
        if unknown:
            raise ScanopsError("kind: unknown finding kind %s; use %s" % (", ".join(unknown), ", ".join(sorted(FINDING_KINDS))))
        filters["kinds"] = list(params["kind"])
    if params.get("algorithm"):
        names = [str(name).strip() for name in params["algorithm"]]
        if not all(names):
            raise ScanopsError("algorithm: an algorithm name must not be empty")
        filters["algorithms"] = names
    if params.get("key_size_below") is not None:
        if params["key_size_below"] < 1:
            raise ScanopsError("key_size_below: expected a key size in bits of 1 or more, got %s" % params["key_size_below"])
        filters["key_size_below"] = params["key_size_below"]
    if params.get("expires_within_days") is not None:
        days = params["expires_within_days"]
        if days < 0 or days > 36500:
            raise ScanopsError("expires_within_days: expected 0 to 36500 days, got %s" % days)
        now = now or datetime.datetime.now(datetime.timezone.utc)
        filters["expires_before"] = now + datetime.timedelta(days=days)
    if params.get("labels"):
        labels = {}
        for name, value in params["labels"].items():
            if not re.match(r"^[A-Za-z0-9_.@/-]+$", str(name)):
                raise ScanopsError("labels: label name %r must be letters, digits, '_', '.', '@', '/' or '-'" % (name,))
            if isinstance(value, (dict, list)) or value is None:
                raise ScanopsError("labels.%s: expected a text value, got %r" % (name, value))
            labels[str(name)] = value if isinstance(value, (bool, int, float)) else str(value)
        filters["labels"] = labels
    return filters


SOURCES = {
    "agilesec": AgileSecFindings,
    "cloudgeni": CloudGeniFindings,
    "kolega": KolegaFindings,
    "harborguard": HarborGuardFindings,
    "penaxtra": PenaxtraFindings,
}


def source_for(adapter, params):
    """The FindingSource of the adapter's provider."""
    return SOURCES[adapter.NAME](adapter, params)


# Why finding_status refuses AgileSec (kept here so docs and tests quote one sentence).
AGILESEC_NO_STATUS = ("provider: AgileSec findings cannot be given a status: Keyfactor documents only a read API for them (the "
                      "Search API of the AgileSec Analytics store) and no request that writes a finding's status or triage; "
                      "list them with finding_info, and accept known ones in scan_run with the ignore option")


def build_selection(adapter, params, status_filter_option):
    """A Selection from the module options; statuses are checked against the provider's words."""
    status = None
    if params.get(status_filter_option):
        status = []
        for word in params[status_filter_option]:
            try:
                status.append(adapter.vocabulary.normalize_finding_status(word))
            except VocabularyError as err:
                raise ScanopsError("%s: %s" % (status_filter_option, err.message))
    return Selection(severity=params.get("severity"), status=status, rule_id=params.get("rule_id"), cve=params.get("cve"),
                     package=params.get("package"), path=params.get("path"), ids=params.get("ids"))


# -- listing -----------------------------------------------------------------------------------
def select_findings(source, selection, limit=None):
    """Normalized findings of the scope that pass the selection, and the ids asked for but not found.

    With ``ids`` no other filter goes to the server, so an id missing from the result is really
    missing from the scope (and not just filtered out).
    """
    missing = []
    found = list(iter_selected_findings(source, selection, limit=limit, missing=missing))
    return found, missing


def iter_selected_findings(source, selection, limit=None, missing=None):
    """``select_findings`` one finding at a time, so a caller can pass each on without holding them all.

    ``missing`` (a list) receives the ids asked for but not found once the walk is over.
    """
    adapter = source.adapter
    server_selection = Selection(ids=selection.ids) if selection.ids else selection
    seen = set()
    listed = 0
    selected = 0
    for raw in source.iter_raw(server_selection):
        listed += 1
        if not isinstance(raw, dict) or not source.in_scope(raw):
            continue
        finding = adapter.normalize_finding(raw)
        key = str(finding["id"])
        if key in seen:
            continue  # a finding can move between pages while we walk them
        seen.add(key)
        if selection.matches(source, finding) and source.extra_matches(raw):
            selected += 1
            yield finding
            if limit is not None and selected >= limit:
                return
    not_found = [i for i in selection.ids if i not in seen] if selection.ids else []
    if source.LIST_CAP is not None and listed >= source.LIST_CAP:
        if not_found:
            # Older than the capped list: read them one by one.
            still_missing = []
            for finding_id in not_found:
                try:
                    raw = source.fetch_one(finding_id)
                except ScanopsApiError as err:
                    if err.status == 404:
                        still_missing.append(finding_id)
                        continue
                    raise
                if not isinstance(raw, dict) or not source.in_scope(raw):
                    still_missing.append(finding_id)
                    continue
                finding = adapter.normalize_finding(raw)
                if selection.matches(source, finding):
                    yield finding
            not_found = still_missing
        elif not selection.ids:
            # With ids, every id the list did not reach was read by itself above: nothing was left out.
            source.warnings.append("%s lists only its %d newest findings; older findings were not considered (select them by ids)"
                                   % (source.name, source.LIST_CAP))
    if missing is not None:
        missing.extend(not_found)


def finding_source(adapter, params, status_filter_option):
    """The FindingSource and Selection of finding_info's options (the findings lookup's too), checked before any request."""
    source = source_for(adapter, params)
    # The source first: a filter the provider cannot apply is named as such, before its words are checked.
    source.validate(_selection_options(params, status_filter_option), status_filter_option)
    return source, build_selection(adapter, params, status_filter_option)


def finding_output_spec():
    """finding_info's options for large result sets: what each finding carries, and a file to write them to."""
    return dict(
        include_raw=dict(type="bool"),
        fields=dict(type="list", elements="str", choices=list(FINDING_FIELDS)),
        output_file=dict(type="path"),
    )


def finding_shaper(fields=None, include_raw=None):
    """A function that cuts a normalized finding down to ``id``, the ``fields`` asked for and ``raw`` when wanted.

    ``include_raw`` unset means: the vendor body comes along unless ``fields`` picks the fields.
    """
    if include_raw is None:
        include_raw = fields is None
    if fields is None:
        if include_raw:
            return lambda finding: finding
        return lambda finding: dict((key, value) for key, value in finding.items() if key != "raw")
    keep = ["id"] + [name for name in FINDING_FIELDS if name in fields] + (["raw"] if include_raw else [])
    # Every finding has the fields of FINDING_FIELDS but crypto, which is AgileSec's alone.
    return lambda finding: dict((key, finding.get(key)) for key in keep if key in finding or key != "crypto")


def run_finding_info(module):
    """Entry point of finding_info."""
    params = module.params
    limit = params.get("limit")
    if limit is not None and limit < 1:
        module.fail_json(msg="limit must be 1 or more, got %d" % limit)
    shape = finding_shaper(params.get("fields"), params.get("include_raw"))
    output_file = params.get("output_file")
    # build_adapter checks every option first (validation.check_params: the path's length and characters too).
    with build_adapter(module) as adapter:
        try:
            if output_file:
                check_destination(output_file, "output_file")
            source, selection = finding_source(adapter, params, "status")
        except ScanopsError as err:
            module.fail_json(msg=err.message, api_calls=adapter.client.stats)
        missing = []
        findings = []
        writer = JsonLinesWriter(output_file, module.check_mode) if output_file else None
        try:
            # One finding at a time: with output_file each goes to the file as soon as it is read.
            for finding in iter_selected_findings(source, selection, limit=limit, missing=missing):
                if writer is not None:
                    writer.write(shape(finding))
                else:
                    findings.append(shape(finding))
        except ScanopsError as err:
            if writer is not None:
                writer.discard()
            # With output_file the file is left as it was: a half-listed scope is never written.
            fail_with_error(module, err, "List", source.describe_scope(), api_calls=adapter.client.stats)
        except BaseException:
            if writer is not None:
                writer.discard()
            raise
        for warning in source.warnings:
            module.warn(warning)
        if missing:
            module.warn("ids not found in %s: %s" % (source.describe_scope(), ", ".join(missing)))
        changed = False
        count = len(findings)
        if writer is not None:
            try:
                changed = writer.commit(module)
            except (IOError, OSError) as err:
                writer.discard()
                module.fail_json(msg="Write output_file %s: %s" % (output_file, err), api_calls=adapter.client.stats)
            count = writer.count
        module.exit_json(changed=changed, findings=findings, count=count, api_calls=adapter.client.stats)


def _selection_options(params, status_filter_option):
    options = dict((name, params.get(name)) for name in FILTER_OPTIONS if name != "status")
    options["status"] = params.get(status_filter_option)
    return options


# -- desired state -------------------------------------------------------------------------------
def plan_changes(source, findings, vendor_status, note=None, assignee=None):
    """Split findings into ``(to_change, unchanged)``; each change is ``(finding, before, after)``.

    Only what the user set is compared: the status always, note and assignee when given.
    """
    vocabulary = source.adapter.vocabulary
    after_status = vocabulary.finding_status_from_vendor(vendor_status)
    to_change, unchanged = [], []
    for finding in findings:
        current_vendor = str(finding.get("vendor_status") or "")
        before = {"status": finding["status"]}
        after = {"status": after_status}
        differs = current_vendor.lower() != vendor_status.lower()
        triage = source.current_triage(finding) if (note is not None or assignee is not None) else {}
        for field, wanted in (("note", note), ("assignee", assignee)):
            if wanted is None:
                continue
            before[field] = triage.get(field)
            after[field] = wanted
            differs = differs or (triage.get(field) or "") != wanted
        if differs:
            to_change.append((finding, before, after))
        else:
            unchanged.append(finding)
    return to_change, unchanged


def write_changes(source, to_change, vendor_status, note=None, assignee=None, concurrency=DEFAULT_CONCURRENCY):
    """Send one write per change over a bounded thread pool; return ``(done, failed)``.

    ``done`` holds the changes that were written, ``failed`` ``(change, error)`` pairs. A 401
    or 403, or an AssumedCallError (the platform lacks the assumed write), stops further writes
    (they would all fail the same way); those not sent are failed with a "not sent" note. The
    client's limiter, shared by the threads, keeps the pace.
    """
    stop = threading.Event()
    stop_reason = []
    outcome = [None] * len(to_change)

    def work(index):
        finding = to_change[index][0]
        if stop.is_set():
            outcome[index] = ScanopsError("not sent: %s" % stop_reason[0])
            return
        try:
            source.write(finding["id"], vendor_status, note=note, assignee=assignee)
        except ScanopsError as err:
            outcome[index] = err
            if isinstance(err, AssumedCallError) and not stop.is_set():
                stop_reason.append("an earlier write showed that %s" % err.undocumented_reason())
                stop.set()
            elif isinstance(err, ScanopsApiError) and err.status in (401, 403) and not stop.is_set():
                stop_reason.append("an earlier write was refused with HTTP %s" % err.status)
                stop.set()
        except Exception as err:  # pylint: disable=broad-except
            # Never let one write's surprise lose the record of what the others did.
            outcome[index] = ScanopsError("%s: %s" % (type(err).__name__, err))
        else:
            outcome[index] = True

    workers = max(1, min(int(concurrency), len(to_change)))
    if to_change:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, range(len(to_change))))
    done, failed = [], []
    for change, result in zip(to_change, outcome):
        if result is True:
            done.append(change)
        else:
            failed.append((change, result))
    return done, failed


def change_entry(change):
    finding, before, after = change
    return {"id": finding["id"], "rule_id": finding.get("rule_id"), "before": before["status"], "after": after["status"]}


def build_diff(changes):
    """``{before, after}``: one entry per finding id, or a summary with counts when there are many."""
    if len(changes) <= DIFF_DETAIL_LIMIT:
        before = dict((str(f["id"]), b) for f, b, _a in changes)
        after = dict((str(f["id"]), a) for f, _b, a in changes)
        return {"before": before, "after": after}

    def summary(side):
        counts = {}
        for change in changes:
            word = change[side]["status"]
            counts[word] = counts.get(word, 0) + 1
        return {"findings": len(changes), "status": counts}

    return {"before": summary(1), "after": summary(2)}


def _failure_message(error, finding_id):
    if isinstance(error, ScanopsApiError):
        return error.describe("Set status of finding", str(finding_id))
    return "Set status of finding %s: %s" % (finding_id, getattr(error, "message", error))


def status_result(matched=0, unchanged=0, done=(), failed=()):
    """finding_status's counts and lists; a failed result carries them too (zeros before the findings are listed)."""
    return dict(
        matched=matched,
        unchanged=unchanged,
        counts={"matched": matched, "changed": len(done), "unchanged": unchanged, "failed": len(failed)},
        changed_findings=[change_entry(c) for c in done],
        failed_findings=[{"id": c[0]["id"], "error": _failure_message(e, c[0]["id"])} for c, e in failed],
    )


def run_finding_status(module):
    """Entry point of finding_status."""
    params = module.params
    concurrency = params.get("concurrency")
    if concurrency is None or not MIN_CONCURRENCY <= concurrency <= MAX_CONCURRENCY:
        module.fail_json(msg="concurrency must be between %d and %d, got %s" % (MIN_CONCURRENCY, MAX_CONCURRENCY, concurrency),
                         **status_result())
    if params.get("provider") == "agilesec":
        module.fail_json(msg=AGILESEC_NO_STATUS, api_calls={"total": 0, "retries": 0}, **status_result())
    with build_adapter(module, pool_size=max(DEFAULT_POOL_SIZE, concurrency)) as adapter:
        try:
            source = source_for(adapter, params)
            try:
                vendor_status = adapter.vocabulary.finding_status_to_vendor(params["status"])
            except VocabularyError as err:
                raise ScanopsError("status: %s" % err.message)
            for field in ("note", "assignee"):
                if params.get(field) is not None and field not in source.TRIAGE_FIELDS:
                    raise ScanopsError("%s: %s findings cannot store a triage %s (only harborguard can); remove the option"
                                       % (field, source.name, field))
            selection = build_selection(adapter, params, "current_status")
            source.validate(_selection_options(params, "current_status"), "current_status")
        except ScanopsError as err:
            module.fail_json(msg=err.message, api_calls=adapter.client.stats, **status_result())
        if not selection.used() and not params.get("scan_id") and not params.get("image") and adapter.NAME in ("harborguard", "penaxtra"):
            module.warn("no filter and no scan_id or image: every %s finding the API lists is selected" % adapter.NAME)
        try:
            findings, missing = select_findings(source, selection)
        except ScanopsError as err:
            fail_with_error(module, err, "List", source.describe_scope(), api_calls=adapter.client.stats, **status_result())
        if missing:
            module.fail_json(msg="Set finding status: ids not found in %s: %s (nothing was written)"
                             % (source.describe_scope(), ", ".join(missing)), changed=False, api_calls=adapter.client.stats,
                             **status_result(matched=len(findings)))
        for warning in source.warnings:
            module.warn(warning)

        note, assignee = params.get("note"), params.get("assignee")
        to_change, unchanged = plan_changes(source, findings, vendor_status, note=note, assignee=assignee)
        if module.check_mode:
            done, failed = to_change, []
        else:
            done, failed = write_changes(source, to_change, vendor_status, note=note, assignee=assignee,
                                         concurrency=concurrency)
        result = status_result(matched=len(findings), unchanged=len(unchanged), done=done, failed=failed)
        result.update(changed=bool(done), api_calls=adapter.client.stats)
        if module._diff:  # pylint: disable=protected-access
            result["diff"] = build_diff(done)
        assumed = [(change, err) for change, err in failed if isinstance(err, AssumedCallError)]
        # The failed request the message names, as every module reports one (each write's error is in failed_findings).
        refused = [err for _change, err in assumed] + [err for _change, err in failed if isinstance(err, ScanopsApiError)]
        if refused:
            result["error"] = error_result(refused[0])
        if assumed:
            change, err = assumed[0]
            module.fail_json(msg="%s; %d of %d writes not done, %d findings changed"
                             % (err.describe("Set status of finding", str(change[0]["id"])), len(failed), len(to_change), len(done)),
                             **result)
        if failed:
            first = result["failed_findings"][0]["error"]
            module.fail_json(msg="Set finding status: %d of %d writes failed, %d findings changed; a re-run retries the rest. First error: %s"
                             % (len(failed), len(to_change), len(done), first), **result)
        module.exit_json(**result)
