# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyfactor AgileSec Analytics Search API, mounted at /agilesec/searchdb (an OpenSearch behind the platform).

Documented (docs.keyfactor.com, AgileSec latest: ``search-api``, ``cryptographic-data-fields-reference``,
``search-api-migration-guide-v3-to-3-5``): the entry point ``https://<platform>/searchdb``, HTTP basic
authentication, ``POST <index pattern>/_search`` with an OpenSearch query body and ``from``/``size``,
``GET _resolve/index/<pattern>``, index names (v3.5 ``agilesec.<org>.v3.event-<kind>``, v3
``<org>-isg-event-<kind>``, the org domain with ``.`` replaced by ``_``) and the document layout
(``@timestamp``, ``first_found``, ``version``, ``object``, ``observation{sensor, source, file}``,
``crypto.<one subtype>``, ``analysis``, ``labels``).

OpenSearch's own behaviour reproduced here: the security plugin's 401 (``Unauthorized`` text and a
``WWW-Authenticate: Basic`` challenge) and 403 ``security_exception``; error bodies
``{"error": {"root_cause", "type", "reason"}, "status"}``; ``index.max_result_window`` (10,000) on
``from + size``; ``search_after`` with the sort values of the last hit; ``hits.total`` capped at 10,000
(``relation: gte``) unless ``track_total_hits`` is true; a concrete missing index is a 404, a wildcard
that matches nothing an empty answer.

ASSUMED (docs/assumptions.md, AgileSec search): the fields below the documented containers
(``observation.sensor.{id, name, type, execution_id}``, ``observation.source.{type, name, url, host}``,
``observation.file.{path, name, line}``, ``analysis.{priority, policy{name, rule, result}}``, the crypto
subtype fields), keyword mappings, one document per finding and sensor updated in place by each
execution that observes it again (same ``_id``), and documents searchable once the execution reports
``successful``.

The emulator's subset of the query DSL: ``match_all``, ``term`` (``value``, ``case_insensitive``),
``terms``, ``range`` (gt/gte/lt/lte on numbers and ISO dates), ``exists`` and ``bool`` (must, filter,
should, must_not, minimum_should_match); anything else is a 400 that says so.
"""

import base64
import fnmatch
import functools
import hashlib
import json
import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from .common import iso_seconds, json_response, parse_iso
from .findings import CRYPTO_CATALOG, CRYPTO_WEIGHTS, LazyFindings

PREFIX = "/agilesec/searchdb"
router = APIRouter(prefix=PREFIX)

DEFAULT_ORG_DOMAIN = "acme.example"
LAYOUTS = ("v3.5", "v3", "both")
# crypto subtypes the generator writes, each in its own v3.5 index
V35_KINDS = ("x509", "key", "keystore", "algorithm", "protocol", "library")
# the v3 index names the migration guide lists (certificate -> x509, sourcecode -> algorithm in v3.5)
V3_KINDS = ("certificate", "key", "keystore", "sourcecode")
MAX_RESULT_WINDOW = 10000
TOTAL_HITS_CAP = 10000
DEFAULT_SIZE = 10
DEMO_SEARCH_USERS = {
    "analytics-reader": {"password": "kf-search-demo-7d41c9e2b05a", "read": True},
    "no-index-access": {"password": "kf-search-none-3a9f1c7e2d58", "read": False},
}
BODY_KEYS = ("query", "size", "from", "sort", "search_after", "track_total_hits", "_source")
URL_PARAMS = ("ignore_unavailable", "allow_no_indices", "expand_wildcards")
# Where each catalog kind's findings sit in a sensor's source tree.
KIND_FILES = {
    "key": ("deploy/tls/server.key", "src/main/resources/keys/signing.pem", "config/jwt/private.key"),
    "x509": ("deploy/tls/server.crt", "charts/api/certs/ca.crt", "src/test/resources/certs/client.pem"),
    "algorithm": ("src/main/java/com/acme/crypto/Hashing.java", "app/auth/tokens.py", "lib/legacy/cipher.go"),
    "protocol": ("deploy/nginx/nginx.conf", "config/tls.yaml"),
    "keystore": ("src/main/resources/keystore.jks",),
    "library": ("pom.xml", "requirements.txt"),
}
DAY = 86400.0


class SearchError(Exception):
    """An OpenSearch error answer."""

    def __init__(self, status, error_type, reason, root_type=None, extra=None):
        super().__init__(reason)
        self.status = status
        self.error_type = error_type
        self.reason = reason
        self.root_type = root_type or error_type
        self.extra = extra or {}

    def body(self):
        root = dict({"type": self.root_type, "reason": self.reason}, **self.extra)
        error = {"root_cause": [root], "type": self.error_type, "reason": self.reason}
        if self.error_type == "search_phase_execution_exception":
            error.update(reason="all shards failed", phase="query", grouped=True,
                         caused_by={"type": self.root_type, "reason": self.reason})
        else:
            error.update(self.extra)
        return {"error": error, "status": self.status}


def bad_query(reason):
    return SearchError(400, "parsing_exception", reason)


def unsupported(what):
    return bad_query("%s is not part of the query DSL subset the scanops emulator implements" % what)


# ---------------------------------------------------------------------- the indexed documents
def org_prefix(domain):
    """``kf-agilesec.com`` -> ``kf-agilesec_com`` (the documented index prefix)."""
    return domain.replace(".", "_")


def _doc_id(seed, sensor_id, position):
    digest = hashlib.sha1(("%s:%s:%d" % (seed, sensor_id, position)).encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:20]


def _source_of(sensor):
    config = sensor.get("sensorConfig") or {}
    url = config.get("repositoryUrl") or config.get("url") or config.get("apiUrl")
    if not url and config.get("organization"):
        url = "https://github.com/%s" % config["organization"]
    url = url or "https://git.acme.example/%s.git" % sensor["sensorName"]
    host = url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1]
    name = url.rstrip("/").rsplit("/", 1)[-1].replace(".git", "") or sensor["sensorName"]
    kind = sensor["sensorType"].replace(" Sensor", "").lower().replace(" ", "_")
    return {"type": kind, "name": name, "url": url, "host": host}


def crypto_document(sensor, source, position, entry, first_seen, last_seen, execution_id, variant):
    """The ``_source`` of finding ``position`` of a sensor (see the module docstring for what is assumed).

    ``source`` is the sensor's ``observation.source``; ``first_seen``/``last_seen`` are epoch seconds.
    """
    kind = entry["kind"]
    details = {key: value for key, value in entry["crypto"].items() if key != "valid_days"}
    if kind == "x509":
        low, high = entry["crypto"]["valid_days"]
        not_after = last_seen + (low + variant % (high - low + 1)) * DAY
        details.update(subject="CN=%s.acme.example" % ("api", "payments", "internal", "legacy")[variant % 4],
                       issuer="CN=Acme Issuing CA 2", serial_number="%x" % (1000003 * (position + 1)),
                       not_before=iso_seconds(not_after - 397 * DAY), not_after=iso_seconds(not_after))
    files = KIND_FILES[kind]
    path = files[variant % len(files)]
    document = {
        "@timestamp": iso_seconds(last_seen),
        "first_found": iso_seconds(first_seen),
        "version": "3.5.0",
        "object": {"type": kind, "name": entry["label"], "summary": entry["title"]},
        "observation": {
            "sensor": {"id": sensor["sensorId"], "name": sensor["sensorName"], "type": sensor["sensorType"],
                       "execution_id": execution_id},
            "source": dict(source),
            "file": {"path": path, "name": path.rsplit("/", 1)[-1], "line": 1 + variant % 240},
        },
        "crypto": {kind: details},
        "analysis": {"priority": entry["priority"],
                     "policy": {"name": "Default cryptography policy", "rule": entry["rule"],
                                "result": "compliant" if entry["priority"] == "info" else "violation"}},
    }
    if sensor.get("labels"):
        document["labels"] = [dict(label) for label in sensor["labels"]]
    return document


class SensorFindings:
    """What the executions of one sensor have indexed: each finding position, who saw it first and last."""

    def __init__(self):
        self.first = []   # position -> (execution id, ended) of the first execution that observed it
        self.last = []    # position -> (execution id, ended) of the latest one
        self.version = 0

    def observe(self, execution_id, count, ended):
        for position in range(count):
            if position >= len(self.first):
                self.first.append((execution_id, ended))
                self.last.append((execution_id, ended))
            else:
                self.last[position] = (execution_id, ended)
        self.version += 1


class SearchStore:
    """The emulated search store of one platform: users, indexes and the documents of every sensor."""

    def __init__(self, emulator, agilesec_store):
        self.emulator = emulator
        self.agilesec = agilesec_store
        self.users = {name: dict(user) for name, user in DEMO_SEARCH_USERS.items()}
        self.org_domain = DEFAULT_ORG_DOMAIN
        self.layout = "v3.5"
        self.max_result_window = MAX_RESULT_WINDOW
        self.sensors = {}   # sensorId -> SensorFindings
        self._docs = None
        self._queries = {}
        self.version = 0

    # configuration --------------------------------------------------------------------------
    def describe(self):
        return {"search_layout": self.layout, "search_org_domain": self.org_domain,
                "search_max_result_window": self.max_result_window, "search_users": sorted(self.users),
                "search_documents": sum(len(found.last) for found in self.sensors.values())}

    def configure(self, key, value):
        if key == "search_layout":
            if value not in LAYOUTS:
                raise ValueError("search_layout must be one of %s" % ", ".join(LAYOUTS))
            self.layout = value
        elif key == "search_org_domain":
            if not isinstance(value, str) or not value.strip():
                raise ValueError("search_org_domain must be a domain name")
            self.org_domain = value.strip().lower()
        elif key == "search_max_result_window":
            self.max_result_window = int(value)
        else:
            return False
        self._changed()
        return True

    def add_user(self, spec):
        name, password = spec.get("username"), spec.get("password")
        if not name or not password:
            raise ValueError("search_user needs username and password")
        self.users[name] = {"password": password, "read": bool(spec.get("read", True))}
        return {"username": name, "read": self.users[name]["read"]}

    # indexing -------------------------------------------------------------------------------
    def observe(self, execution):
        """Index what a successful execution found (called when it ends)."""
        sensor = execution.sensor
        found = self.sensors.setdefault(sensor["sensorId"], SensorFindings())
        found.observe(execution.id, execution.count, execution.timeline.ended)
        self._changed()

    def _changed(self):
        self.version += 1
        self._docs = None
        self._queries = {}

    def index_names(self):
        prefix = org_prefix(self.org_domain)
        names = []
        if self.layout in ("v3.5", "both"):
            names.extend("agilesec.%s.v3.event-%s" % (prefix, kind) for kind in V35_KINDS)
        if self.layout in ("v3", "both"):
            names.extend("%s-isg-event-%s" % (prefix, kind) for kind in V3_KINDS)
        return sorted(names)

    def documents(self):
        """Every indexed document as ``(index, _id, _source)``, built once per change."""
        if self._docs is not None:
            return self._docs
        docs = []
        if self.layout in ("v3.5", "both"):
            prefix = org_prefix(self.org_domain)
            seed = self.emulator.seed
            for sensor_id, found in self.sensors.items():
                sensor = self.agilesec.sensors.get(sensor_id) or self.agilesec.deleted_sensors.get(sensor_id)
                if sensor is None:
                    continue
                lazy = LazyFindings(seed, sensor_id, len(found.last), CRYPTO_WEIGHTS)
                origin = _source_of(sensor)
                for position, kind_index in enumerate(lazy.kinds):
                    entry = CRYPTO_CATALOG[kind_index]
                    (_first_id, first_at), (last_id, last_at) = found.first[position], found.last[position]
                    source = crypto_document(sensor, origin, position, entry, first_at, last_at, last_id,
                                             lazy.variant(position, 1000003))
                    docs.append(("agilesec.%s.v3.event-%s" % (prefix, entry["kind"]), _doc_id(seed, sensor_id, position), source))
        self._docs = docs
        return docs

    # searching ------------------------------------------------------------------------------
    def matching(self, indexes, query, sort):
        """Documents of ``indexes`` that match ``query``, in ``sort`` order, with their sort values."""
        key = (tuple(indexes), json.dumps(query, sort_keys=True), json.dumps(sort, sort_keys=True))
        cached = self._queries.get(key)
        if cached is not None:
            return cached
        predicate = compile_query(query)
        wanted = set(indexes)
        hits = [doc for doc in self.documents() if doc[0] in wanted and predicate(doc)]
        if sort:
            keyed = [(sort_values(doc, sort), doc) for doc in hits]
            try:
                if not all(order == "asc" for _field, order in sort) or any(None in values for values, _doc in keyed):
                    raise TypeError("needs the comparator")
                keyed.sort(key=lambda item: item[0])   # the common case, without a Python comparator
            except TypeError:
                compare = sort_comparator(sort)
                keyed.sort(key=functools.cmp_to_key(lambda a, b: compare(a[0], b[0])))
        else:
            keyed = [(None, doc) for doc in hits]
        if len(self._queries) > 16:
            self._queries.clear()
        self._queries[key] = keyed
        return keyed


# ---------------------------------------------------------------------- the query DSL subset
def field_values(doc, field):
    """Every value at a dotted path of a document (arrays of objects are flattened as OpenSearch does)."""
    index, doc_id, source = doc
    if field == "_id":
        return [doc_id]
    if field == "_index":
        return [index]
    values = [source]
    for part in field.split("."):
        found = []
        for value in values:
            for item in (value if isinstance(value, list) else [value]):
                if isinstance(item, dict) and part in item:
                    found.append(item[part])
        values = found
    flat = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [value for value in flat if value is not None and not isinstance(value, dict)]


def _comparable(value):
    """Numbers as floats, ISO dates as epoch seconds, other strings as they are."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        parsed = parse_iso(value) if len(value) >= 10 and value[4:5] == "-" else None
        if parsed is not None:
            return parsed
    return value


def _equal(have, want, case_insensitive):
    if isinstance(have, str) and isinstance(want, str):
        return have.lower() == want.lower() if case_insensitive else have == want
    if isinstance(have, bool) or isinstance(want, bool):
        return have == want
    try:
        return float(have) == float(want)
    except (TypeError, ValueError):
        return str(have) == str(want)


def _single_field(clause, name):
    if not isinstance(clause, dict) or len(clause) != 1:
        raise bad_query("[%s] query doesn't support multiple fields" % name)
    return next(iter(clause.items()))


def compile_query(query):
    """A predicate ``doc -> bool`` for a query (None or {} match everything)."""
    if not query:
        return lambda doc: True
    if not isinstance(query, dict) or len(query) != 1:
        raise bad_query("[_na] query malformed, must start with start_object")
    kind, clause = next(iter(query.items()))
    if kind == "match_all":
        return lambda doc: True
    if kind == "term":
        field, spec = _single_field(clause, "term")
        case_insensitive = False
        if isinstance(spec, dict):
            unknown = set(spec) - {"value", "case_insensitive", "boost"}
            if unknown or "value" not in spec:
                raise bad_query("[term] query does not support [%s]" % ", ".join(sorted(unknown)) if unknown
                                else "[term] query needs a value")
            case_insensitive, spec = bool(spec.get("case_insensitive")), spec["value"]
        return lambda doc: any(_equal(value, spec, case_insensitive) for value in field_values(doc, field))
    if kind == "terms":
        pairs = [(field, values) for field, values in clause.items() if field != "boost"]
        if len(pairs) != 1 or not isinstance(pairs[0][1], list):
            raise bad_query("[terms] query requires one field with an array of values")
        field, wanted = pairs[0]
        return lambda doc: any(_equal(value, want, False) for value in field_values(doc, field) for want in wanted)
    if kind == "range":
        field, bounds = _single_field(clause, "range")
        if not isinstance(bounds, dict):
            raise bad_query("[range] query malformed, no start_object after query name")
        unknown = set(bounds) - {"gt", "gte", "lt", "lte", "format", "boost"}
        if unknown:
            raise bad_query("[range] query does not support [%s]" % ", ".join(sorted(unknown)))
        limits = []
        for op in ("gt", "gte", "lt", "lte"):
            if op in bounds:
                limit = _comparable(bounds[op])
                if isinstance(limit, str):
                    raise unsupported("a range bound that is neither a number nor an ISO date (%r)" % bounds[op])
                limits.append((op, limit))

        def in_range(doc):
            for value in field_values(doc, field):
                value = _comparable(value)
                if isinstance(value, str):
                    continue
                if all((value > lim) if op == "gt" else (value >= lim) if op == "gte" else (value < lim) if op == "lt"
                       else (value <= lim) for op, lim in limits):
                    return True
            return False
        return in_range
    if kind == "exists":
        if not isinstance(clause, dict) or "field" not in clause:
            raise bad_query("[exists] must be provided with a [field]")
        field = clause["field"]
        return lambda doc: bool(field_values(doc, field)) or _has_object(doc, field)
    if kind == "bool":
        if not isinstance(clause, dict):
            raise bad_query("[bool] query malformed")
        unknown = set(clause) - {"must", "filter", "should", "must_not", "minimum_should_match", "boost"}
        if unknown:
            raise bad_query("[bool] query does not support [%s]" % ", ".join(sorted(unknown)))
        groups = {}
        for occur in ("must", "filter", "should", "must_not"):
            items = clause.get(occur) or []
            items = items if isinstance(items, list) else [items]
            groups[occur] = [compile_query(item) for item in items]
        required = groups["must"] + groups["filter"]
        default_minimum = 0 if required else 1
        minimum = clause.get("minimum_should_match", default_minimum if groups["should"] else 0)
        if not isinstance(minimum, int):
            raise unsupported("minimum_should_match other than a whole number")

        def boolean(doc):
            if not all(test(doc) for test in required):
                return False
            if any(test(doc) for test in groups["must_not"]):
                return False
            if minimum:
                return sum(1 for test in groups["should"] if test(doc)) >= minimum
            return True
        return boolean
    raise unsupported("the [%s] query" % kind)


def _has_object(doc, field):
    source = doc[2]
    for part in field.split("."):
        if not isinstance(source, dict) or part not in source:
            return False
        source = source[part]
    return source not in (None, [], {})


def parse_sort(sort):
    """``[{"field": "asc"}, {"field": {"order": "desc"}}, "field"]`` as ``[(field, order)]``."""
    if sort is None:
        return []
    items = sort if isinstance(sort, list) else [sort]
    parsed = []
    for item in items:
        if isinstance(item, str):
            parsed.append((item, "desc" if item == "_score" else "asc"))
        elif isinstance(item, dict) and len(item) == 1:
            field, spec = next(iter(item.items()))
            if isinstance(spec, str):
                order = spec
            elif isinstance(spec, dict):
                unknown = set(spec) - {"order", "missing", "unmapped_type"}
                if unknown:
                    raise unsupported("sort option [%s]" % ", ".join(sorted(unknown)))
                order = spec.get("order", "asc")
            else:
                raise bad_query("malformed sort format")
            if order not in ("asc", "desc"):
                raise SearchError(400, "illegal_argument_exception", "Unknown SortOrder [%s]" % order)
            if field == "_score":
                raise unsupported("sorting on _score")
            parsed.append((field, order))
        else:
            raise bad_query("malformed sort format, within the sort array, an object or a string is allowed")
    return parsed


def _sort_value(value):
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        parsed = parse_iso(value)
        if parsed is not None:
            return int(round(parsed * 1000))   # dates sort (and come back in "sort") as epoch milliseconds
    return value


def sort_values(doc, sort):
    values = []
    for field, order in sort:
        found = [_sort_value(value) for value in field_values(doc, field)]
        values.append((min(found) if order == "asc" else max(found)) if found else None)
    return values


def sort_comparator(sort):
    """Compare two sort-value lists; missing values sort last in either order, as OpenSearch does."""
    orders = [order for _field, order in sort]

    def compare(left, right):
        for order, a, b in zip(orders, left, right):
            if a == b:
                continue
            if a is None:
                return 1
            if b is None:
                return -1
            try:
                less = a < b
            except TypeError:
                less = str(a) < str(b)
            return (-1 if less else 1) if order == "asc" else (1 if less else -1)
        return 0
    return compare


# ---------------------------------------------------------------------- requests
def search_store(request):
    emulator = request.app.state.emulator
    emulator.tick()
    return emulator.vendors["agilesec"].search


class _Refused(Exception):
    def __init__(self, response):
        super().__init__("refused")
        self.response = response


def authenticate(request, store):
    """The user of a valid ``Authorization: Basic`` header; the security plugin's 401 otherwise."""
    header = request.headers.get("authorization") or ""
    name = None
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        user, _sep, password = decoded.partition(":")
        record = store.users.get(user)
        if record is not None and _sep and record["password"] == password:
            name = user
    if name is None:
        raise _Refused(Response("Unauthorized", status_code=401, media_type="text/plain; charset=UTF-8",
                                headers={"WWW-Authenticate": 'Basic realm="OpenSearch Security"'}))
    return name


def forbidden(user, action):
    return SearchError(403, "security_exception", "no permissions for [%s] and User [name=%s, backend_roles=[], requestedTenant=null]"
                       % (action, user))


def resolve_expression(store, expression, ignore_unavailable=False, allow_no_indices=True):
    """Concrete index names for a comma-separated expression (wildcards allowed)."""
    existing = store.index_names()
    names = []
    for part in [item.strip() for item in expression.split(",") if item.strip()]:
        if part in ("_all", "*"):
            names.extend(existing)
        elif "*" in part:
            names.extend(name for name in existing if fnmatch.fnmatchcase(name, part))
        elif part in existing:
            names.append(part)
        elif not ignore_unavailable:
            raise SearchError(404, "index_not_found_exception", "no such index [%s]" % part,
                              extra={"index": part, "resource.type": "index_or_alias", "resource.id": part, "index_uuid": "_na_"})
    unique = sorted(set(names))
    if not unique and not allow_no_indices:
        raise SearchError(404, "index_not_found_exception", "no such index [%s]" % expression,
                          extra={"index": expression, "resource.type": "index_or_alias", "resource.id": expression, "index_uuid": "_na_"})
    return unique


def _flag(request, name, default):
    value = request.query_params.get(name)
    if value is None:
        return default
    if value not in ("true", "false", ""):
        raise SearchError(400, "illegal_argument_exception",
                          "Failed to parse value [%s] only [true] or [false] are allowed." % value)
    return value != "false"


def _check_params(request):
    for name in request.query_params:
        if name not in URL_PARAMS:
            raise SearchError(400, "illegal_argument_exception", "request [%s] contains unrecognized parameter: [%s]"
                              % (request.url.path[len(PREFIX):] or "/", name))


async def _answer(request, handler):
    store = search_store(request)
    try:
        user = authenticate(request, store)
        _check_params(request)
        return json_response(await handler(store, user))
    except _Refused as refused:
        return refused.response
    except SearchError as err:
        return json_response(err.body(), status=err.status)


@router.get("/_resolve/index/{name}")
async def resolve_index(name: str, request: Request):
    async def handle(store, user):
        if not store.users[user]["read"]:
            raise forbidden(user, "indices:admin/resolve/index")
        names = resolve_expression(store, name, ignore_unavailable=True)
        return {"indices": [{"name": index, "attributes": ["open"]} for index in names], "aliases": [], "data_streams": []}
    return await _answer(request, handle)


def _int(body, name, default):
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_query("[%s] must be a whole number, got [%s]" % (name, value))
    return value


async def run_search(request, target):
    async def handle(store, user):
        if not store.users[user]["read"]:
            raise forbidden(user, "indices:data/read/search")
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise SearchError(400, "x_content_parse_exception", "Unexpected character: the request body is not JSON") from None
        if not isinstance(body, dict):
            raise bad_query("the search body must be a JSON object")
        for key in body:
            if key not in BODY_KEYS:
                raise unsupported("the [%s] search body key" % key)
        size, start = _int(body, "size", DEFAULT_SIZE), _int(body, "from", 0)
        if size < 0:
            raise SearchError(400, "illegal_argument_exception", "[size] parameter cannot be negative, found [%d]" % size)
        if start < 0:
            raise SearchError(400, "illegal_argument_exception", "[from] parameter cannot be negative, found [%d]" % start)
        if start + size > store.max_result_window:
            raise SearchError(400, "search_phase_execution_exception",
                              "Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. "
                              "See the scroll api for a more efficient way to request large data sets. This limit can be set "
                              "by changing the [index.max_result_window] index level setting." % (store.max_result_window, start + size),
                              root_type="illegal_argument_exception")
        sort = parse_sort(body.get("sort"))
        after = body.get("search_after")
        if after is not None:
            if not isinstance(after, list) or not after:
                raise bad_query("[search_after] must be an array of sort values")
            if start:
                raise SearchError(400, "illegal_argument_exception", "[from] parameter must be set to 0 when [search_after] is used.")
            if not sort:
                raise SearchError(400, "illegal_argument_exception", "Sort must contain at least one field.")
            if len(after) != len(sort):
                raise SearchError(400, "illegal_argument_exception", "search_after has %d value(s) but sort has %d."
                                  % (len(after), len(sort)))
        indexes = resolve_expression(store, target, ignore_unavailable=_flag(request, "ignore_unavailable", False),
                                     allow_no_indices=_flag(request, "allow_no_indices", True))
        started = time.perf_counter()
        matched = store.matching(indexes, body.get("query"), sort)
        first = start
        if after is not None:
            compare = sort_comparator(sort)
            wanted = [_sort_value(value) for value in after]
            low, high = 0, len(matched)
            while low < high:   # the first hit whose sort values come after ``search_after``
                middle = (low + high) // 2
                if compare(matched[middle][0], wanted) <= 0:
                    low = middle + 1
                else:
                    high = middle
            first = low
        page = matched[first:first + size]
        source_wanted = body.get("_source", True)
        hits = []
        for values, (index, doc_id, source) in page:
            hit = {"_index": index, "_id": doc_id, "_score": None if sort else 1.0}
            if source_wanted is not False:
                hit["_source"] = source
            if sort:
                hit["sort"] = values
            hits.append(hit)
        total = len(matched)
        track = body.get("track_total_hits", TOTAL_HITS_CAP)
        if track is True:
            total_hits = {"value": total, "relation": "eq"}
        else:
            cap = TOTAL_HITS_CAP if track in (None, False) else int(track)
            total_hits = {"value": min(total, cap), "relation": "gte" if total > cap else "eq"}
        return {"took": int((time.perf_counter() - started) * 1000), "timed_out": False,
                "_shards": {"total": len(indexes), "successful": len(indexes), "skipped": 0, "failed": 0},
                "hits": {"total": total_hits, "max_score": None if sort else (1.0 if hits else None), "hits": hits}}
    return await _answer(request, handle)


@router.api_route("/_search", methods=["GET", "POST"])
async def search_all(request: Request):
    return await run_search(request, "_all")


@router.api_route("/{target}/_search", methods=["GET", "POST"])
async def search(target: str, request: Request):
    return await run_search(request, target)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
async def no_handler(rest: str, request: Request):
    async def handle(_store, _user):
        raise SearchError(400, "illegal_argument_exception", "no handler found for uri [/%s] and method [%s]" % (rest, request.method))
    return await _answer(request, handle)
