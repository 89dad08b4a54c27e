# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declaration of every request an adapter can make, and the one "assumed call" error.

Each adapter lists its requests in ``CALLS`` (a tuple of ``Call``) and sends them only through
``ProviderAdapter.call``/``iter_call``, so the declaration is the code path. From the same
declarations come:

* the provider matrix in ``docs/providers.md`` (``docs/build-tables.py``);
* the check that the emulator's documented-only table switches off exactly the calls declared
  assumed (``tests/unit/plugins/module_utils/test_calls.py``);
* ``AssumedCallError``: when a vendor answers an assumed call as if it did not exist (404/405),
  or rejects an assumed body field or value with its validation status, the module fails with
  ``<vendor> does not document <METHOD path>; the collection assumes it (docs/assumptions.md,
  <section>) and <api_url> answered HTTP <status>`` instead of a bare 404 or a wrong action.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible.module_utils.six.moves.urllib.parse import urlsplit, urlunsplit

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError

# What the modules do, in the order of the provider matrix: key -> (row title, modules and roles).
OPERATIONS = (
    ("resolve_target", "resolve the target", ("scan_run", "scan_info", "finding_info", "finding_status", "finding_fix",
                                              "finding_fix_info", "scan lookup", "findings lookup")),
    ("trigger_scan", "trigger a scan", ("scan_run",)),
    ("poll_scan", "poll a scan", ("scan_run", "scan_info", "scan lookup")),
    ("scan_history", "list scans, adopt a running one, reuse with max_age", ("scan_run", "scan_info", "scan lookup",
                                                                             "findings lookup")),
    ("scan_results", "gate counts and report findings of a finished scan", ("scan_run", "post_deploy_scan role",
                                                                            "scan lookup", "findings lookup")),
    ("list_findings", "list findings", ("finding_info", "finding_status", "finding_fix", "findings_triage role",
                                        "findings lookup")),
    ("set_finding_status", "set a finding's status", ("finding_status", "findings_triage role")),
    ("callbacks", "callback endpoint / webhook", ("callback_endpoint", "callback_endpoint_info", "scan_platform role")),
    ("sensors", "sensors", ("scan_sensor", "scan_sensor_info", "scan_platform role")),
    ("fixes", "AI fixes: find, create, wait for, refine, cancel", ("finding_fix", "finding_fix_info", "findings_remediation role")),
    ("pull_requests", "open a fix's pull requests", ("finding_fix", "findings_remediation role")),
    ("quotas", "read the quota balance before a POST", ("finding_fix", "findings_remediation role")),
    ("inventory", "list the targets and their latest scans", ("scan_targets inventory",)),
)
OPERATION_KEYS = tuple(key for key, _title, _modules in OPERATIONS)

# Statuses with which a vendor says "this request is not valid here".
NOT_THERE = (404, 405)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Call(object):
    """One request an adapter can make.

    Args:
        name: the adapter's name for it (its method name, unique in the adapter).
        method: HTTP method.
        path: path template below ``api_url`` with ``{placeholders}`` (filled with quoted ids).
        operations: keys of ``OPERATIONS`` (the rows of the provider matrix) it serves.
        modules: the modules that send it (empty: declared, used by no module yet).
        documented: True when the vendor documents this method and path.
        assumption: the row of the provider's section in docs/assumptions.md this call relies on;
            required when the call is assumed or has an assumed part below.
        assumed_fields: request body fields the vendor does not document.
        assumed_values: ``{field: values}``: values of a documented body field that the vendor
            does not document.
        assumed_params: query parameters whose meaning is assumed (only shown in the docs).
        assumed_answer: True when the shape of the answer is assumed (only shown in the docs).
        absent: messages with which the ASSUMED contract says "no such object" on a 404; any
            other 404 of an assumed call reads as "the vendor has no such call".
        note: a few words for the provider matrix.
    """

    __slots__ = ("name", "method", "path", "operations", "modules", "documented", "assumption", "assumed_fields",
                 "assumed_values", "assumed_params", "assumed_answer", "absent", "note")

    def __init__(self, name, method, path, operations=(), modules=(), documented=True, assumption=None, assumed_fields=(),
                 assumed_values=None, assumed_params=(), assumed_answer=False, absent=(), note=None):
        self.name = name
        self.method = method.upper()
        self.path = path
        self.operations = tuple(operations)
        self.modules = tuple(modules)
        self.documented = bool(documented)
        self.assumption = assumption
        self.assumed_fields = tuple(assumed_fields)
        self.assumed_values = dict(assumed_values or {})
        self.assumed_params = tuple(assumed_params)
        self.assumed_answer = bool(assumed_answer)
        self.absent = tuple(absent)
        self.note = note
        unknown = [key for key in self.operations if key not in OPERATION_KEYS]
        if unknown:
            raise ValueError("call %s: unknown operation(s) %s" % (name, ", ".join(unknown)))
        served = set(module for key, _title, listed in OPERATIONS if key in self.operations for module in listed)
        strangers = [module for module in self.modules if module not in served]
        if strangers:
            raise ValueError("call %s: %s use none of its operations" % (name, ", ".join(strangers)))
        if self.has_assumption and not assumption:
            raise ValueError("call %s: an assumed call or part names its docs/assumptions.md row" % name)

    @property
    def has_assumption(self):
        """True when the call or a part of it (fields, values, parameters) is an assumption."""
        parts = (self.assumed_fields, self.assumed_values, self.assumed_params, self.assumed_answer)
        return not self.documented or any(parts)

    @property
    def placeholders(self):
        return tuple(_PLACEHOLDER.findall(self.path))

    def expand(self, quote, **values):
        """The path with every placeholder replaced by its quoted value."""
        missing = [name for name in self.placeholders if values.get(name) in (None, "")]
        if missing:
            raise ValueError("call %s needs %s" % (self.name, ", ".join(missing)))
        return _PLACEHOLDER.sub(lambda match: quote(values[match.group(1)]), self.path)

    def __repr__(self):
        return "Call(%s %s %s)" % (self.name, self.method, self.path)


class AssumedCallError(ScanopsApiError):
    """A vendor answered a call (or a part of it) that the collection assumes as if it did not exist.

    ``message`` names the vendor, what is undocumented, the docs/assumptions.md section and the
    answer; ``status``, ``code`` and ``path`` are those of the vendor's answer.
    """

    def __init__(self, message, assumption=None, undocumented=None, **kwargs):
        super(AssumedCallError, self).__init__(message, **kwargs)
        self.assumption = assumption
        self.undocumented = undocumented

    def undocumented_reason(self):
        """A short reason for notes: ``the platform does not accept the assumed <METHOD path ...>``."""
        return "the platform does not accept the assumed %s" % self.undocumented

    def describe(self, action, resource=None):
        # The status is already part of the message: no "(HTTP ...)" suffix.
        subject = action if not resource else "%s %s" % (action, resource)
        text = "%s: %s" % (subject, self.message)
        if self.note:
            text = "%s; %s" % (text, self.note)
        return text

    def to_dict(self):
        result = super(AssumedCallError, self).to_dict()
        result.update(assumption=self.assumption, undocumented=self.undocumented)
        return result


def public_url(url):
    """``url`` without credentials, query or fragment: safe to put into a message."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    if parts.port:
        host = "%s:%d" % (host, parts.port)
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def undocumented_part(call, err, json_body):
    """What of ``call`` the vendor's error ``err`` shows to be missing, or None.

    A 404/405 of an assumed call (unless it is the assumed contract's own "no such object") means
    the call itself; a 4xx validation answer to a body carrying assumed fields or values means
    those fields or values.
    """
    status = err.status
    if status is None:
        return None
    if not call.documented and status in NOT_THERE:
        if status == 404 and err.message in call.absent:
            return None
        return "%s %s" % (call.method, call.path)
    if status in (400, 422) and isinstance(json_body, dict):
        fields = [field for field in call.assumed_fields if field in json_body]
        if fields:
            return "%s %s with the body field%s %s" % (call.method, call.path, "s" if len(fields) > 1 else "", ", ".join(fields))
        for field, values in sorted(call.assumed_values.items()):
            if json_body.get(field) in values:
                return '%s %s with %s "%s"' % (call.method, call.path, field, json_body[field])
    return None


def assumed_call_error(call, err, json_body, vendor, section, api_url):
    """The AssumedCallError for ``err`` (a ScanopsApiError of ``call``), or None when it is not one."""
    if isinstance(err, AssumedCallError):
        return None
    what = undocumented_part(call, err, json_body)
    if what is None:
        return None
    answer = "HTTP %s" % err.status
    if err.message:
        answer = "%s (%s)" % (answer, err.message)
    reference = "%s: %s" % (section, call.assumption)
    message = ("%s does not document %s; the collection assumes it (docs/assumptions.md, %s) and %s answered %s"
               % (vendor, what, reference, public_url(api_url), answer))
    return AssumedCallError(message, assumption=reference, undocumented=what, provider=err.provider, status=err.status,
                            code=err.code, method=err.method, path=err.path, retry_after=err.retry_after,
                            details=err.details, may_have_acted=False)


class CallRequester(object):
    """Looks like an ApiClient to the pagination walkers; turns assumed-call failures into AssumedCallError.

    ``client`` is the adapter's ApiClient unless the call goes to another base (AgileSec's Search API).
    """

    def __init__(self, adapter, call, client=None):
        self.adapter = adapter
        self.call = call
        self.client = client

    def request(self, method, path, params=None, json_body=None, idempotent=None, rate_class=None):
        client = self.client or self.adapter.client
        try:
            return client.request(method, path, params=params, json_body=json_body, idempotent=idempotent,
                                  rate_class=rate_class)
        except ScanopsApiError as err:
            translated = self.adapter.assumed_call_error(self.call, err, json_body)
            if translated is not None:
                raise translated
            raise
