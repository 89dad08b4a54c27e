# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyfactor AgileSec Platform Scan API v3 (cryptographic inventory through sensors).

Documented: ``POST /v3/scan/create`` (create a sensor and run it), ``POST /v3/scan/execute``
(run an existing sensor), ``GET /v3/scan/{executionId}``; header ``isg-api-token``; response
payloads ``{status: successful|failed, message}``.

ASSUMPTIONS (docs/assumptions.md, AgileSec section), all in this file:
  * error bodies are ``{"status": "failed", "message": "..."}`` like the documented payloads;
  * sensors: ``GET /v3/sensors?name=&page=&pageSize=`` (``{data, page, pageSize, total}``,
    pageSize 1-100), ``GET/PUT/DELETE /v3/sensors/{sensorId}``;
  * callback endpoints: the same shape under ``/v3/callback-endpoints``; the token is write-only;
  * executions report ``pending`` then ``running`` before ``successful``/``failed``;
  * no published rate limit: the client paces itself at 5 requests a second;
  * sensor names have the 200-character limit the page gives for callback endpoint names;
  * the token comes from ``AGILESEC_API_TOKEN``.

Findings come from the AgileSec Analytics Search API (an OpenSearch behind the platform), with its
own credentials and its own ``ApiClient`` on the search base. Documented (docs.keyfactor.com, AgileSec
latest, ``search-api``, ``cryptographic-data-fields-reference``, ``search-api-migration-guide-v3-to-3-5``):
the entry point ``https://<platform>/searchdb``, HTTP basic authentication, ``POST <index
pattern>/_search`` with an OpenSearch query and ``from``/``size``, ``GET _resolve/index/<pattern>``,
index names (v3.5 ``agilesec.<org>.v3.event-<kind>``, v3 ``<org>-isg-event-<kind>``) and the document
containers (``observation{sensor, source, file}``, exactly one ``crypto.<subtype>``, ``analysis``,
``labels``, ``first_found``). OpenSearch documents ``search_after``, sorting on ``_id`` and
``index.max_result_window`` (10,000). ASSUMED (docs/assumptions.md, "AgileSec findings: the Search API"):
  * the search base is ``api_url`` + ``/searchdb`` and ``_resolve/index`` is served below it;
  * the fields below the documented containers (``SEARCH_FIELDS``), ``analysis.priority`` words
    (``PRIORITY_WORDS``), keyword mappings (exact ``term`` matches);
  * a finding is tied to the execution that last observed it by ``observation.sensor.execution_id``;
    a finding observed again is updated in place (same ``_id``), so ``_id`` is the finding id;
  * an execution's documents are searchable once it reports ``successful``;
  * no published rate limit: the search client paces itself at 5 requests a second too;
  * ``AGILESEC_SEARCH_URL``, ``AGILESEC_SEARCH_USERNAME``, ``AGILESEC_SEARCH_PASSWORD`` and
    ``AGILESEC_SEARCH_INDEX`` as environment variables (the vendor names none).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import datetime
import re

from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit

from ansible_collections.scanops.security.plugins.module_utils.client import ApiClient
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.pagination import iter_page_size_total
from ansible_collections.scanops.security.plugins.module_utils.providers.base import ProviderAdapter, parse_timestamp
from ansible_collections.scanops.security.plugins.module_utils.providers.calls import (
    AssumedCallError,
    Call,
    CallRequester,
    assumed_call_error,
)
from ansible_collections.scanops.security.plugins.module_utils.validation import SEARCH_INDEX_PATTERN
from ansible_collections.scanops.security.plugins.module_utils.vocabulary import SEVERITIES, Vocabulary

PAGE_SIZE = 100
# The page limits callback endpoint names and URLs to 200 characters; sensor names are assumed to
# have the same limit (the page gives none).
MAX_NAME_LENGTH = 200
SENSOR_TYPES = ("GIT Sensor", "Artifactory Sensor", "GitHub Sensor", "GitLab Sensor", "Qualys Sensor",
                "CipherInsights Sensor", "Keyfactor Command Sensor")
CALLBACK_AUTH_TYPES = ("none", "bearer", "api_token")

# -- the search store -----------------------------------------------------------------------------
SEARCH_PATH = "/searchdb"
SEARCH_PAGE_SIZE = 1000
# OpenSearch's default index.max_result_window: from + size may not pass it, so paging uses search_after.
RESULT_WINDOW = 10000
# Index generations, newest first: v3.5 names, then v3 names (search-api-migration-guide-v3-to-3-5).
INDEX_GENERATIONS = (
    ("v3.5", "agilesec.*.v3.event-*", re.compile(r"^agilesec\.(?P<org>[^.]+)\.v3\.event-"), "agilesec.%s.v3.event-*"),
    ("v3", "*-isg-event*", re.compile(r"^(?P<org>.+?)-isg-event"), "%s-isg-event*"),
)
# A comma-separated list of index names or patterns; OpenSearch names are lower case.
# _index and _id never change for a document and together are unique: a stable total order for search_after.
SEARCH_SORT = ({"_index": "asc"}, {"_id": "asc"})
# Finding kinds a user filters by -> the crypto subtype of the document (certificates are x509 since v3.5).
FINDING_KINDS = {"certificate": "x509", "key": "key", "keystore": "keystore", "algorithm": "algorithm",
                 "protocol": "protocol", "library": "library", "token": "token", "db": "db"}
KIND_OF_SUBTYPE = dict((subtype, kind) for kind, subtype in FINDING_KINDS.items())
# ASSUMED field paths below the documented containers (the one place to change them).
SEARCH_FIELDS = {
    "sensor_id": "observation.sensor.id",
    "sensor_name": "observation.sensor.name",
    "execution_id": "observation.sensor.execution_id",
    "priority": "analysis.priority",
    "rule": "analysis.policy.rule",
    "labels": "labels",
    "not_after": "crypto.x509.not_after",
}
# Where each subtype names its algorithm and key size (first present wins when normalizing).
ALGORITHM_FIELDS = (("algorithm", "name"), ("key", "algorithm"), ("x509", "signature_algorithm"),
                    ("x509", "public_key", "algorithm"), ("protocol", "name"), ("protocol", "cipher_suite"),
                    ("library", "name"), ("keystore", "type"))
KEY_SIZE_FIELDS = (("key", "size"), ("x509", "public_key", "size"))
# ASSUMED analysis.priority words per normalized severity; a document without a priority counts as info.
PRIORITY_WORDS = {"critical": ("critical",), "high": ("high",), "medium": ("medium",), "low": ("low",),
                  "info": ("info", "informational", "none")}

VOCABULARY = Vocabulary(
    "agilesec",
    scan_statuses={"pending": "queued", "queued": "queued", "running": "running",
                   "successful": "completed", "failed": "failed", "cancelled": "cancelled"},
    # AgileSec findings live in the platform's search store and carry no triage status.
    finding_statuses={},
    severities=dict((word, severity) for severity, words in PRIORITY_WORDS.items() for word in words),
)


SENSORS_ROW = "Get / update / delete a sensor"
CALLBACKS_ROW = "Callback endpoints"


class AgileSecAdapter(ProviderAdapter):
    """Keyfactor AgileSec; ``isg-api-token: <token>``."""

    NAME = "agilesec"
    DISPLAY_NAME = "Keyfactor AgileSec"
    DEFAULT_API_URL = "https://api.agilesec.net"
    API_KEY_ENV = ("AGILESEC_API_TOKEN",)
    API_URL_ENV = ("AGILESEC_API_URL",)
    MIN_POLL_INTERVAL = 5.0
    RATE_LIMITS = {"read": (5.0, 5), "write": (5.0, 5)}
    VOCABULARY = VOCABULARY
    # The page's header table marks content-type as required on every call, GETs included.
    REQUIRED_HEADERS = {"content-type": "application/json"}

    CALLS = (
        Call("create_sensor_and_scan", "POST", "/v3/scan/create", ("sensors",), ("scan_sensor",),
             note="creates the sensor and runs it"),
        Call("execute_sensor", "POST", "/v3/scan/execute", ("trigger_scan",), ("scan_run",)),
        Call("get_execution", "GET", "/v3/scan/{executionId}", ("poll_scan", "scan_history", "inventory"),
             ("scan_run", "scan_info", "scan_targets inventory", "scan lookup"),
             note="the states before successful/failed are an assumption (Execution states); the inventory reads each "
                  "sensor's last one"),
        Call("list_sensors", "GET", "/v3/sensors", ("resolve_target", "sensors", "inventory"),
             ("scan_run", "scan_info", "scan_sensor", "scan_sensor_info", "scan_targets inventory", "scan lookup"),
             documented=False, assumption="List sensors",
             note="only for a sensor given by name (a 24-hex sensor id is used as is); the inventory's targets"),
        Call("get_sensor", "GET", "/v3/sensors/{sensorId}", ("resolve_target", "scan_history", "sensors"),
             ("scan_run", "scan_info", "scan_sensor", "scan lookup"), documented=False, assumption=SENSORS_ROW,
             absent=("Sensor not found.",),
             note="its lastExecutionId is the only earlier execution; without it none is adopted or reused"),
        Call("update_sensor", "PUT", "/v3/sensors/{sensorId}", ("sensors",), ("scan_sensor",), documented=False,
             assumption=SENSORS_ROW, absent=("Sensor not found.", "callbackId not found.")),
        Call("delete_sensor", "DELETE", "/v3/sensors/{sensorId}", ("sensors",), ("scan_sensor",), documented=False,
             assumption=SENSORS_ROW, absent=("Sensor not found.",)),
        Call("list_callback_endpoints", "GET", "/v3/callback-endpoints", ("callbacks", "sensors"),
             ("callback_endpoint", "callback_endpoint_info", "scan_sensor"), documented=False, assumption=CALLBACKS_ROW,
             note="a sensor's callback given by name; a 24-hex Callback ID is used as is"),
        Call("get_callback_endpoint", "GET", "/v3/callback-endpoints/{callbackId}", ("callbacks",), (), documented=False,
             assumption=CALLBACKS_ROW, absent=("callbackId not found.",)),
        Call("create_callback_endpoint", "POST", "/v3/callback-endpoints", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=CALLBACKS_ROW),
        Call("update_callback_endpoint", "PUT", "/v3/callback-endpoints/{callbackId}", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=CALLBACKS_ROW, absent=("callbackId not found.",)),
        Call("delete_callback_endpoint", "DELETE", "/v3/callback-endpoints/{callbackId}", ("callbacks",), ("callback_endpoint",),
             documented=False, assumption=CALLBACKS_ROW, absent=("callbackId not found.",)),
        # The Search API (sent to search_url, api_url + /searchdb by default, with basic authentication).
        Call("resolve_search_indexes", "GET", SEARCH_PATH + "/_resolve/index/{expression}", ("list_findings", "scan_results"),
             ("finding_info", "scan_run"), documented=False, assumption="Index detection",
             note="Search API, only without search_index; the page shows this call for its Dev Tools console, below "
                  "/searchdb by inference"),
        Call("search_findings", "POST", SEARCH_PATH + "/{index}/_search", ("list_findings", "scan_results"),
             ("finding_info", "scan_run"), assumed_answer=True, assumption="Fields below the documented containers",
             note="Search API, basic auth; an OpenSearch query in pages of 1000 with search_after on _index, _id; the "
                  "fields below observation, crypto and analysis and the execution a finding belongs to are assumptions"),
    )
    NO_CALL = {
        "set_finding_status": "not available: Keyfactor documents no request that writes a finding (finding_status says so "
                              "before any request)",
        "fixes": "not available", "pull_requests": "not available", "quotas": "n/a",
    }
    FACTS = (
        ("authentication", True, "`isg-api-token`, and `content-type: application/json` on every call; the Search API "
                                 "takes HTTP basic authentication (`search_username`, `search_password`)"),
        ("rate limits (client-side pacing)", False, "5 a second, on the scan API and the Search API each (Rate limits)"),
        ("pagination", False, "`page`/`pageSize`, `total` (List sensors); the Search API's documented `from`/`size` is "
                              "not used past the first page: `search_after` (documented by OpenSearch) on `_index`, `_id`"),
    )
    # Module options this adapter takes besides the shared ones: the Search API's base and credentials.
    EXTRA_OPTIONS = ("search_url", "search_username", "search_password", "search_index")
    SEARCH_URL_ENV = ("AGILESEC_SEARCH_URL",)
    SEARCH_USERNAME_ENV = ("AGILESEC_SEARCH_USERNAME",)
    SEARCH_PASSWORD_ENV = ("AGILESEC_SEARCH_PASSWORD",)
    SEARCH_INDEX_ENV = ("AGILESEC_SEARCH_INDEX",)

    def __init__(self, api_key, api_url=None, search_url=None, search_username=None, search_password=None, search_index=None,
                 **options):
        super(AgileSecAdapter, self).__init__(api_key, api_url=api_url, **options)
        self.search_url = (search_url or self.api_url + SEARCH_PATH).rstrip("/")
        scheme, netloc = urlsplit(self.search_url)[:2]
        if scheme not in ("http", "https") or not netloc:
            raise ValueError("search_url: expected an http(s) URL, got %r" % (search_url,))
        if search_username is not None and ":" in search_username:
            raise ValueError("search_username: HTTP basic authentication cannot carry a ':' in the user name")
        if search_index is not None and not SEARCH_INDEX_PATTERN.match(search_index):
            raise ValueError("search_index: expected lower-case index names or patterns separated by commas "
                             "(letters, digits, '.', '_', '-', '+', '*'), got %r" % (search_index,))
        self.search_username = search_username
        self.search_password = search_password
        self.search_index_option = search_index
        self._search_index = search_index
        self._search_options = options
        self._search_client = None

    def close(self):
        super(AgileSecAdapter, self).close()
        if self._search_client is not None:
            self._search_client.close()

    def auth_headers(self):
        return {"isg-api-token": self.api_key}

    def parse_error(self, status, data, text):
        """``{"status": "failed", "message": "Sensor not found."}``: the message is all there is."""
        if not isinstance(data, dict):
            return {}
        return {"code": data.get("errorCode"), "message": data.get("message")}

    # -- scans ------------------------------------------------------------------------------------
    def create_sensor_and_scan(self, sensor_type, sensor_name, sensor_config, priority=None, callback_id=None,
                               incremental_scan=None, auto_resolution_interval=None, labels=None):
        """Create a sensor and start its first execution (POST, not retried blindly).

        Answers ``{sensorId, executionId, status, message}``. ``labels`` is a list of
        single-key dicts (or a dict, turned into that list).
        """
        body = {"sensorType": sensor_type, "sensorName": sensor_name, "sensorConfig": sensor_config}
        optional = (("priority", priority), ("callbackId", callback_id), ("incrementalScan", incremental_scan),
                    ("autoResolutionInterval", auto_resolution_interval), ("labels", labels_list(labels)))
        body.update(dict((k, v) for k, v in optional if v is not None))
        return self.call("create_sensor_and_scan", json_body=body)

    def execute_sensor(self, sensor_id):
        """Run an existing sensor; answers ``{executionId, status, message}``."""
        return self.call("execute_sensor", json_body={"sensorId": sensor_id})

    def get_execution(self, execution_id):
        """Execution status ``{sensorId, executionId, status, message, ranBy, ranAt, labels}``."""
        return self.call("get_execution", executionId=execution_id)

    # -- sensors (ASSUMED) ---------------------------------------------------------------------------
    def list_sensors(self, name=None):
        """Sensors, optionally only the one with this exact name."""
        return list(self.iter_call("list_sensors", iter_page_size_total, {"name": name}, page_size=PAGE_SIZE))

    def get_sensor(self, sensor_id):
        """One sensor (secret values in ``sensorConfig`` come back as ``********``)."""
        return self.call("get_sensor", sensorId=sensor_id)

    def update_sensor(self, sensor_id, **fields):
        """PUT any create field except ``sensorType`` (camelCase keys, e.g. ``sensorConfig``)."""
        if "labels" in fields:
            fields["labels"] = labels_list(fields["labels"])
        body = dict((k, v) for k, v in fields.items() if v is not None)
        return self.call("update_sensor", json_body=body, sensorId=sensor_id)

    def delete_sensor(self, sensor_id):
        """Delete a sensor."""
        return self.call("delete_sensor", sensorId=sensor_id)

    # -- callback endpoints (ASSUMED) ----------------------------------------------------------------
    def list_callback_endpoints(self, name=None):
        """Callback endpoints, optionally only the one with this exact name."""
        return list(self.iter_call("list_callback_endpoints", iter_page_size_total, {"name": name}, page_size=PAGE_SIZE))

    def get_callback_endpoint(self, callback_id):
        """One callback endpoint (never includes the token)."""
        return self.call("get_callback_endpoint", callbackId=callback_id)

    def create_callback_endpoint(self, name, url, auth_type="none", header_name=None, token=None):
        """Register an endpoint (POST, not retried blindly); the platform calls the URL first."""
        self.client.add_secret(token)
        body = {"name": name, "url": url, "authType": auth_type}
        if header_name is not None:
            body["headerName"] = header_name
        if token is not None:
            body["token"] = token
        return self.call("create_callback_endpoint", json_body=body)

    def update_callback_endpoint(self, callback_id, **fields):
        """PUT any of ``name``, ``url``, ``authType``, ``headerName``, ``token``."""
        self.client.add_secret(fields.get("token"))
        body = dict((k, v) for k, v in fields.items() if v is not None)
        return self.call("update_callback_endpoint", json_body=body, callbackId=callback_id)

    def delete_callback_endpoint(self, callback_id):
        """Delete a callback endpoint."""
        return self.call("delete_callback_endpoint", callbackId=callback_id)

    # -- the search store (Search API) ------------------------------------------------------------------
    def search_configured(self):
        """True when a search user and password were given (findings can be read)."""
        return bool(self.search_username and self.search_password)

    def require_search(self):
        """Raise a ScanopsError naming the options when findings are needed but no search user was given."""
        if not self.search_configured():
            raise ScanopsError("search_username and search_password are required to read AgileSec findings: they live in the "
                               "AgileSec Analytics Search API, which takes HTTP basic authentication with a platform user, not "
                               "the scan API token (set the options or %s and %s)"
                               % (self.SEARCH_USERNAME_ENV[0], self.SEARCH_PASSWORD_ENV[0]))

    @property
    def search_client(self):
        """The ApiClient of the search base (basic auth), created on first use; counts into ``client.stats``."""
        if self._search_client is None:
            self.require_search()
            options = dict(self._search_options)
            rate_limit = options.pop("rate_limit", None)
            for name in ("organization", "auth_scheme"):
                options.pop(name, None)
            credentials = ("%s:%s" % (self.search_username, self.search_password)).encode("utf-8")
            self._search_client = ApiClient(
                self.search_url, provider=self.NAME,
                auth_headers={"Authorization": "Basic %s" % base64.b64encode(credentials).decode("ascii")},
                error_parser=parse_search_error, counts_into=self.client, count_as="search",
                limiters=self.build_limiters(rate_limit, options.get("clock"), options.get("sleep")), **options)
            self._search_client.add_secret(self.search_password)
        return self._search_client

    def _search_call(self, name, json_body=None, **path_values):
        """Send the declared Search API call ``name`` to the search base; a search is a read, so retried."""
        call = self.declared(name)
        path = call.expand(quote_pattern, **path_values)[len(SEARCH_PATH):]
        requester = CallRequester(self, call, client=self.search_client)
        return requester.request(call.method, path, json_body=json_body, idempotent=True, rate_class="read")

    def assumed_call_error(self, call, err, json_body=None):
        # A Search API call's error names the search base, where it was sent.
        base = self.search_url if call.path.startswith(SEARCH_PATH + "/") else self.api_url
        return assumed_call_error(call, err, json_body, self.DISPLAY_NAME, self.DISPLAY_NAME, base)

    def resolve_search_indexes(self, expression):
        """``GET _resolve/index/<expression>``: the indexes, aliases and data streams the search user may read."""
        return self._search_call("resolve_search_indexes", expression=expression)

    def search_findings(self, index, body):
        """``POST <index>/_search`` with an OpenSearch request body; the raw answer."""
        return self._search_call("search_findings", json_body=body, index=index)

    def resolve_indexes(self, expression):
        """Names of the indexes an expression resolves to for the search user."""
        answer = self.resolve_search_indexes(expression)
        indices = answer.get("indices") if isinstance(answer, dict) else None
        if not isinstance(indices, list):
            raise ScanopsApiError("the index resolution answer has no 'indices' list", provider=self.NAME, status=200,
                                  method="GET", path="/_resolve/index")
        return [item.get("name") for item in indices if isinstance(item, dict) and item.get("name")]

    def search_index(self):
        """The index pattern findings are read from: ``search_index`` as given, else detected.

        Detection resolves the v3.5 names first, then the v3 names, and takes the organization prefix
        from them. Several organizations readable by one user are ambiguous; v3 indexes alone are
        refused (their flat layout is not what the collection reads). Cached for the adapter's life.
        """
        if self._search_index:
            return self._search_index
        for generation, expression, name_pattern, template in INDEX_GENERATIONS:
            try:
                names = self.resolve_indexes(expression)
            except AssumedCallError as err:
                err.note = "set search_index to name the indexes and skip this detection"
                raise
            orgs = sorted(set(m.group("org") for m in (name_pattern.match(n) for n in names) if m))
            if len(orgs) > 1:
                raise ScanopsError("search_index: the search user can read the %s indexes of %d organizations (%s); set "
                                   "search_index to the one to read, e.g. %s" % (generation, len(orgs), ", ".join(orgs),
                                                                                 template % orgs[0]))
            if orgs and generation != "v3.5":
                raise ScanopsError("search_index: only v3 AgileSec indexes (%s) are readable; this collection reads the v3.5 "
                                   "document layout (observation, crypto, analysis) of agilesec.<org>.v3.event-* indexes, which "
                                   "the platform writes from version 3.5 on" % (template % orgs[0]))
            if orgs:
                self._search_index = template % orgs[0]
                return self._search_index
        raise ScanopsError("search_index: the search user %s can read no AgileSec event index (looked for %s); set "
                           "search_index, or give the user read access to the organization's indexes"
                           % (self.search_username, " and ".join(item[1] for item in INDEX_GENERATIONS)))

    def iter_search(self, query, page_size=SEARCH_PAGE_SIZE, limit=None):
        """Yield every hit of ``query`` over the finding indexes, ``page_size`` at a time.

        Pages follow each other with ``search_after`` on the last hit's sort values (``_index``,
        ``_id``), never with ``from``, so walks are not bounded by the 10,000-hit result window.
        ``limit`` stops after that many hits.
        """
        index = self.search_index()
        size = max(1, min(int(page_size), RESULT_WINDOW))
        body = {"size": size, "query": query, "sort": [dict(item) for item in SEARCH_SORT]}
        yielded = 0
        while True:
            if limit is not None:
                body["size"] = max(1, min(size, limit - yielded))
            answer = self.search_findings(index, body)
            hits = (answer.get("hits") or {}).get("hits") if isinstance(answer, dict) else None
            if not isinstance(hits, list):
                raise ScanopsApiError("the search answer has no hits.hits list", provider=self.NAME, status=200,
                                      method="POST", path="/%s/_search" % index)
            yield from hits
            yielded += len(hits)
            if len(hits) < body["size"] or (limit is not None and yielded >= limit):
                return
            after = hits[-1].get("sort") if isinstance(hits[-1], dict) else None
            if not after:
                raise ScanopsApiError("the search answer carries no sort values to continue after hit %d" % yielded,
                                      provider=self.NAME, status=200, method="POST", path="/%s/_search" % index)
            body["search_after"] = after

    def _raw_severity(self, finding):
        return _value_at(_source(finding), SEARCH_FIELDS["priority"])

    # -- normalizers -----------------------------------------------------------------------------------
    def normalize_scan(self, raw, target=None, counts=None):
        return self._scan(
            raw, raw.get("executionId"), target or raw.get("sensorName") or raw.get("sensorId"), raw.get("status"),
            created_at=raw.get("ranAt"), started_at=raw.get("ranAt"), completed_at=raw.get("completedAt"),
            counts=counts, url=None,
        )

    def normalize_finding(self, raw):
        """A search hit ``{_index, _id, _source}`` as a finding, plus ``crypto{kind, algorithm, key_size, not_after}``.

        The id is the document ``_id`` (stable across executions: a finding seen again is updated in
        place). The rule is the analysis policy rule, else ``<kind>:<algorithm>``; the title the
        document's ``object.summary``.
        """
        source = _source(raw)
        facts = crypto_facts(raw)
        observation = source.get("observation") if isinstance(source.get("observation"), dict) else {}
        origin = observation.get("source") if isinstance(observation.get("source"), dict) else {}
        found_in = observation.get("file") if isinstance(observation.get("file"), dict) else {}
        summary = source.get("object") if isinstance(source.get("object"), dict) else {}
        rule = _value_at(source, SEARCH_FIELDS["rule"])
        if not rule and facts["kind"]:
            rule = "%s:%s" % (facts["kind"], facts["algorithm"]) if facts["algorithm"] else facts["kind"]
        title = summary.get("summary") or summary.get("name") or rule
        location = {"source": origin.get("url") or origin.get("name"), "file": found_in.get("path"),
                    "line": found_in.get("line"), "host": origin.get("host")}
        finding = self._finding(raw, raw.get("_id") if isinstance(raw, dict) else None, rule, title,
                                _value_at(source, SEARCH_FIELDS["priority"]), None, location,
                                source.get("first_found") or source.get("@timestamp"))
        finding["crypto"] = facts
        return finding


def labels_list(labels):
    """AgileSec labels are a list of one-key objects; accept a dict too."""
    if labels is None:
        return None
    if isinstance(labels, dict):
        return [{k: v} for k, v in sorted(labels.items())]
    return list(labels)


# -- search helpers (pure functions) ---------------------------------------------------------------------
def quote_pattern(value):
    """Quote an index expression for the path, keeping the ``*`` wildcards and ``,`` separators readable."""
    return quote(str(value), safe="*,")


def _source(hit):
    if isinstance(hit, dict) and isinstance(hit.get("_source"), dict):
        return hit["_source"]
    return hit if isinstance(hit, dict) else {}


def _value_at(document, path):
    """The value at a dotted path (the first one when an array of objects is on the way), or None."""
    value = document
    for part in path.split(".") if isinstance(path, str) else path:
        if isinstance(value, list):
            value = next((item for item in value if isinstance(item, dict) and part in item), {})
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def document_labels(hit):
    """A document's labels as ``{name: value}`` (the Scan API's list of one-key objects, or an object)."""
    labels = _value_at(_source(hit), SEARCH_FIELDS["labels"])
    if isinstance(labels, dict):
        return dict((str(k), v) for k, v in labels.items())
    merged = {}
    for item in labels if isinstance(labels, list) else []:
        if isinstance(item, dict):
            merged.update((str(k), v) for k, v in item.items())
    return merged


def crypto_facts(hit):
    """``{kind, algorithm, key_size, not_after}`` of a document; the kind in the user's words (certificate...)."""
    crypto = _source(hit).get("crypto")
    crypto = crypto if isinstance(crypto, dict) else {}
    subtype = next((name for name in sorted(crypto) if name in KIND_OF_SUBTYPE and isinstance(crypto[name], dict)), None)
    algorithm = key_size = None
    for path in ALGORITHM_FIELDS:
        if path[0] == subtype and _value_at(crypto, path):
            algorithm = str(_value_at(crypto, path))
            break
    for path in KEY_SIZE_FIELDS:
        value = _value_at(crypto, path) if path[0] == subtype else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            key_size = int(value)
            break
    not_after = _value_at(crypto, ("x509", "not_after")) if subtype == "x509" else None
    return {"kind": KIND_OF_SUBTYPE.get(subtype), "algorithm": algorithm, "key_size": key_size, "not_after": not_after}


def parse_search_error(status, data, text):
    """OpenSearch errors: ``{"error": {"root_cause": [{"type", "reason"}], "type", "reason"}, "status"}``.

    The first root cause says what went wrong (the top level of a search phase failure only says
    "all shards failed"); the code is the top-level type. The security plugin's 401 is plain text.
    """
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            causes = [c for c in (error.get("root_cause") or []) if isinstance(c, dict)]
            reason = (causes[0].get("reason") if causes else None) or error.get("reason")
            return {"code": error.get("type") or (causes[0].get("type") if causes else None), "message": reason}
        if isinstance(error, str):
            return {"message": error}
        return {"message": data.get("message")}
    if status == 401:
        return {"message": "the search store did not accept search_username and its password (%s)"
                           % (" ".join(str(text or "Unauthorized").split())[:80] or "Unauthorized")}
    return {}


def _clause(field, values, case_insensitive=False):
    """``term`` for one value, else ``bool.should`` of terms (``terms`` when case does not matter)."""
    values = list(values)
    if case_insensitive:
        terms = [{"term": {field: {"value": value, "case_insensitive": True}}} for value in values]
        return terms[0] if len(terms) == 1 else {"bool": {"should": terms, "minimum_should_match": 1}}
    return {"term": {field: values[0]}} if len(values) == 1 else {"terms": {field: values}}


def _any_of(clauses):
    clauses = [c for c in clauses if c]
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def _field(path):
    return "crypto." + ".".join(path)


def search_query(sensor=None, sensor_id=None, execution_id=None, severities=None, rule_ids=None, ids=None, kinds=None,
                 algorithms=None, key_size_below=None, expires_before=None, labels=None):
    """The OpenSearch query (filter context) for a scope and the filters that can go to the server.

    ``sensor`` matches a sensor name or id, ``sensor_id`` an id; ``severities`` are normalized words
    (mapped to ``analysis.priority`` words; ``info`` also matches documents without a priority);
    ``kinds`` finding kinds (``certificate``, ``key``...); ``algorithms`` match any algorithm field
    without regard to case; ``key_size_below`` keys and certificate keys shorter than that;
    ``expires_before`` (an aware datetime) certificates whose ``not_after`` is not later; ``labels``
    ``{name: value}`` all of which must be set. Only term, terms, range, exists and bool are used.
    """
    filters = []
    if sensor:
        filters.append(_any_of([_clause(SEARCH_FIELDS["sensor_name"], [sensor]), _clause(SEARCH_FIELDS["sensor_id"], [sensor])]))
    if sensor_id:
        filters.append(_clause(SEARCH_FIELDS["sensor_id"], [sensor_id]))
    if execution_id:
        filters.append(_clause(SEARCH_FIELDS["execution_id"], [execution_id]))
    if severities:
        wanted = [severity for severity in SEVERITIES if severity in set(severities)]
        words = [word for severity in wanted for word in PRIORITY_WORDS[severity]]
        clause = _clause(SEARCH_FIELDS["priority"], words)
        if "info" in wanted:
            clause = _any_of([clause, {"bool": {"must_not": [{"exists": {"field": SEARCH_FIELDS["priority"]}}]}}])
        filters.append(clause)
    if rule_ids:
        filters.append(_clause(SEARCH_FIELDS["rule"], sorted(rule_ids), case_insensitive=True))
    if ids:
        filters.append(_clause("_id", list(ids)))
    if kinds:
        filters.append(_any_of([{"exists": {"field": "crypto." + FINDING_KINDS[kind]}} for kind in sorted(set(kinds))]))
    if algorithms:
        names = sorted(set(algorithms))
        filters.append(_any_of([_clause(_field(path), names, case_insensitive=True) for path in ALGORITHM_FIELDS]))
    if key_size_below is not None:
        filters.append(_any_of([{"range": {_field(path): {"lt": int(key_size_below)}}} for path in KEY_SIZE_FIELDS]))
    if expires_before is not None:
        stamp = expires_before.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        filters.append({"range": {SEARCH_FIELDS["not_after"]: {"lte": stamp}}})
    for name, value in sorted((labels or {}).items()):
        filters.append(_clause("%s.%s" % (SEARCH_FIELDS["labels"], name), [value]))
    if not filters:
        return {"match_all": {}}
    return {"bool": {"filter": filters}}


def in_search_scope(hit, sensor=None, sensor_id=None, execution_id=None):
    """The client-side twin of the scope part of ``search_query``: a sensor by name or id, an execution."""
    source = _source(hit)
    if sensor and str(sensor) not in (str(_value_at(source, SEARCH_FIELDS["sensor_name"])),
                                      str(_value_at(source, SEARCH_FIELDS["sensor_id"]))):
        return False
    if sensor_id and str(_value_at(source, SEARCH_FIELDS["sensor_id"])) != str(sensor_id):
        return False
    return not execution_id or str(_value_at(source, SEARCH_FIELDS["execution_id"])) == str(execution_id)


def crypto_filter_matches(hit, kinds=None, algorithms=None, key_size_below=None, expires_before=None, labels=None):
    """The client-side twin of the crypto part of ``search_query`` (whatever the server ignored)."""
    facts = crypto_facts(hit)
    crypto = _source(hit).get("crypto") if isinstance(_source(hit).get("crypto"), dict) else {}
    if kinds and facts["kind"] not in set(kinds):
        return False
    if algorithms:
        wanted = set(str(a).lower() for a in algorithms)
        present = set(str(_value_at(crypto, path)).lower() for path in ALGORITHM_FIELDS if _value_at(crypto, path) is not None)
        if not wanted & present:
            return False
    if key_size_below is not None and (facts["key_size"] is None or facts["key_size"] >= key_size_below):
        return False
    if expires_before is not None:
        not_after = parse_timestamp(facts["not_after"])
        if not_after is None or not_after > expires_before:
            return False
    if labels:
        have = document_labels(hit)
        if any(str(have.get(name)) != str(value) for name, value in labels.items()):
            return False
    return True
