# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of scan-completion callbacks, shared by ``callback_endpoint`` and its ``_info`` twin.

Two providers keep such a registration:

* AgileSec callback endpoints (ASSUMED API, docs/assumptions.md): named, with an auth type and a
  write-only token; scans reference them by their 24-hex ``callbackId``. The platform calls the
  URL when an endpoint is registered or its URL changes, and answers 400 "Callback URL is not
  reachable" when nothing answers.
* CloudGeni ``scan.completed`` webhooks (ASSUMED API): no name, so the URL is the natural key;
  the signing secret is write-only.

A write-only token is never compared: ``update_token=always`` sends it on every run (and reports
a change), ``on_create`` only when the object is created.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import re

from ansible_collections.scanops.security.plugins.module_utils.common import module_adapter
from ansible_collections.scanops.security.plugins.module_utils.errors import REDACTED, ScanopsApiError, ScanopsError

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
MAX_LENGTH = 200
AUTH_TYPES = ("none", "bearer", "api_token")
WEBHOOK_EVENTS = ("scan.completed",)
# Keys a vendor might echo that must never reach a result.
_SECRET_KEYS = ("token", "secret")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# What a diff shows for a stored write-only token, which can't be read back.
UNKNOWN_TOKEN = "(write-only, unknown)"


class InputError(ScanopsError):
    """Bad module input, found before any request."""


def is_object_id(value):
    """True for a 24-hex-character MongoDB ObjectId (AgileSec's callbackId format)."""
    return isinstance(value, str) and bool(OBJECT_ID.match(value))


def public_endpoint(raw):
    """A copy of a vendor endpoint/webhook object without any write-only credential."""
    endpoint = dict(raw or {})
    for key in _SECRET_KEYS:
        endpoint.pop(key, None)
    return endpoint


def endpoint_id(raw):
    """``callbackId`` (AgileSec) or ``id`` (CloudGeni webhook)."""
    if not raw:
        return None
    return raw.get("callbackId") or raw.get("id")


def ambiguity_error(kind, key, value, matches):
    ids = ", ".join(str(endpoint_id(m)) for m in matches)
    return InputError("%s: %d %ss match %s %r (ids %s); remove the duplicates or use distinct names"
                      % (key, len(matches), kind, key, value, ids))


# ---------------------------------------------------------------------------------- validation
def _check_url(url, option="url"):
    """Shared URL checks; returns the list of warnings."""
    if not isinstance(url, str) or not url.strip():
        raise InputError("%s: must be a non-empty http(s) URL" % option)
    if len(url) > MAX_LENGTH:
        raise InputError("%s: is %d characters long, the platform allows at most %d" % (option, len(url), MAX_LENGTH))
    if not re.match(r"^https?://[^\s/?#]+", url, re.I) or re.search(r"\s", url):
        raise InputError("%s: %r is not an http(s) URL" % (option, url))
    if url.lower().startswith("http://"):
        return ["%s uses plain http: the callback and its credential travel unencrypted; use https" % option]
    return []


def validate_endpoint_params(params):
    """Check the ``callback_endpoint`` options; returns ``(desired, warnings)``.

    ``desired`` holds only what the user set, in the vendor's spelling. Raises InputError
    naming the option, before any request.
    """
    provider = params["provider"]
    state = params.get("state") or "present"
    warnings = []
    desired = {}
    if provider not in ("agilesec", "cloudgeni"):
        raise InputError("provider: callback endpoints exist only for agilesec (callback endpoints) and cloudgeni (webhooks), "
                         "not %s" % provider)
    if provider == "agilesec":
        for option in ("events", "active"):
            if params.get(option) is not None:
                raise InputError("%s: only applies to provider=cloudgeni webhooks" % option)
        name = params.get("name")
        if name is None or not str(name).strip():
            raise InputError("name: required for provider=agilesec (the callback endpoint's natural key)")
        if len(name) > MAX_LENGTH:
            raise InputError("name: is %d characters long, the platform allows at most %d" % (len(name), MAX_LENGTH))
        desired["name"] = name
        if state == "absent":
            return desired, warnings
        auth_type = params.get("auth_type")
        header_name = params.get("header_name")
        token = params.get("token")
        if params.get("url") is not None:
            warnings.extend(_check_url(params["url"]))
            desired["url"] = params["url"]
        if auth_type is not None:
            desired["authType"] = auth_type
        if header_name is not None:
            if auth_type != "api_token":
                raise InputError("header_name: only used with auth_type=api_token")
            if not _HEADER_NAME.match(header_name):
                raise InputError("header_name: %r is not a valid HTTP header name" % header_name)
            desired["headerName"] = header_name
        if auth_type == "api_token" and header_name is None:
            raise InputError("header_name: required with auth_type=api_token")
        if token is not None:
            if auth_type == "none":
                raise InputError("token: not used with auth_type=none")
            if not token:
                raise InputError("token: must not be empty")
        if auth_type in ("bearer", "api_token") and token is None:
            raise InputError("token: required with auth_type=%s" % auth_type)
        return desired, warnings

    # CloudGeni webhooks
    for option in ("name", "auth_type", "header_name"):
        if params.get(option) is not None:
            raise InputError("%s: not supported for provider=cloudgeni; its webhooks have no %s, the url is their natural key"
                             % (option, option.replace("_", " ")))
    if params.get("url") is None:
        raise InputError("url: required for provider=cloudgeni (the webhook's natural key)")
    warnings.extend(_check_url(params["url"]))
    desired["url"] = params["url"]
    if state == "absent":
        return desired, warnings
    events = params.get("events")
    if events is not None:
        unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
        if not events or unknown:
            raise InputError("events: must be a non-empty list of %s (got %s)" % (", ".join(WEBHOOK_EVENTS), ", ".join(unknown) or "[]"))
        desired["events"] = sorted(set(events))
    if params.get("active") is not None:
        desired["active"] = params["active"]
    if params.get("token") is not None and not params["token"]:
        raise InputError("token: must not be empty")
    return desired, warnings


# ---------------------------------------------------------------------------------- managers
class _Manager(object):
    """What differs between AgileSec endpoints and CloudGeni webhooks."""

    KIND = None
    KEY = None          # natural key, vendor spelling
    KEY_OPTION = None   # natural key, option name
    TOKEN_FIELD = None  # write-only credential field, vendor spelling

    def __init__(self, adapter):
        self.adapter = adapter

    def find(self, key_value):
        """Objects whose natural key equals ``key_value`` exactly."""
        return [item for item in self.list(key_value) if item.get(self.KEY) == key_value]

    def list(self, key_value=None):
        raise NotImplementedError

    def defaults(self):
        """Values the platform fills in on create when an option is left unset."""
        return {}

    def create(self, body):
        raise NotImplementedError

    def update(self, object_id, body):
        raise NotImplementedError

    def delete(self, object_id):
        raise NotImplementedError

    def normalize(self, field, value):
        if field == "events" and isinstance(value, list):
            return sorted(set(value))
        return value

    def changes_credential(self, changes):
        """True when ``changes`` alter how the credential is presented, so the token must go with them."""
        return False

    def holds_token(self, view):  # pylint: disable=unused-argument
        """Whether the platform holds a token for this object (unknowable: assume it may)."""
        return True

    def settle(self, view):
        """``view`` (current fields with the changes applied) as the platform will hold it."""
        return view


class AgileSecCallbacks(_Manager):
    KIND = "callback endpoint"
    KEY = "name"
    KEY_OPTION = "name"
    TOKEN_FIELD = "token"

    def list(self, key_value=None):
        return self.adapter.list_callback_endpoints(name=key_value)

    def defaults(self):
        return {"authType": "none"}

    def changes_credential(self, changes):
        return "authType" in changes or "headerName" in changes

    def holds_token(self, view):
        return (view or {}).get("authType") in ("bearer", "api_token")

    def settle(self, view):
        # ASSUMED platform rules (docs/assumptions.md): only api_token keeps a header name.
        if view.get("authType") != "api_token":
            view["headerName"] = None
        return view

    def create(self, body):
        body = dict(body)
        return self.adapter.create_callback_endpoint(body.pop("name"), body.pop("url"), auth_type=body.pop("authType", "none"),
                                                     header_name=body.pop("headerName", None), token=body.pop("token", None))

    def update(self, object_id, body):
        return self.adapter.update_callback_endpoint(object_id, **body)

    def delete(self, object_id):
        return self.adapter.delete_callback_endpoint(object_id)


class CloudGeniWebhooks(_Manager):
    KIND = "webhook"
    KEY = "url"
    KEY_OPTION = "url"
    TOKEN_FIELD = "secret"

    def list(self, key_value=None):
        # The assumed list has no filter: fetch all and match the URL here.
        return self.adapter.list_webhooks()

    def defaults(self):
        return {"events": list(WEBHOOK_EVENTS), "active": True}

    def create(self, body):
        return self.adapter.create_webhook(body["url"], events=body.get("events"), secret=body.get("secret"),
                                           active=body.get("active", True))

    def update(self, object_id, body):
        return self.adapter.update_webhook(object_id, **body)

    def delete(self, object_id):
        return self.adapter.delete_webhook(object_id)


def manager_for(adapter):
    if adapter.NAME == "agilesec":
        return AgileSecCallbacks(adapter)
    if adapter.NAME == "cloudgeni":
        return CloudGeniWebhooks(adapter)
    raise InputError("provider: callback endpoints exist only for agilesec and cloudgeni (got %s)" % adapter.NAME)


def _masked(view, token_sent, token_field):
    view = public_endpoint(view)
    if token_sent:
        view[token_field] = REDACTED
    return view


def _unreachable_hint(err):
    if isinstance(err, ScanopsApiError) and err.status == 400 and "not reachable" in (err.message or "").lower():
        err.note = ("the platform calls the URL when an endpoint is registered or its URL changes, and nothing answered there; "
                    "make the receiver reachable from the platform first")
    return err


def ensure_endpoint(manager, desired, token, update_token, state, check_mode, progress=None):
    """Converge one callback endpoint / webhook. Returns the module result (without api_calls).

    ``desired`` comes from ``validate_endpoint_params``; ``token`` is the write-only secret or None.
    ``progress`` (a dict) is kept up to date with the endpoint as found or created, for a failed
    result to say where the run stopped.
    """
    progress = {} if progress is None else progress
    key_value = desired[manager.KEY]
    matches = manager.find(key_value)
    if len(matches) > 1:
        raise ambiguity_error(manager.KIND, manager.KEY_OPTION, key_value, matches)
    current = matches[0] if matches else None
    result = {"changed": False, "callback_id": endpoint_id(current), "endpoint": public_endpoint(current) if current else None}
    progress.update(callback_id=result["callback_id"], endpoint=result["endpoint"])

    if state == "absent":
        if current is None:
            result["diff"] = {"before": {}, "after": {}}
            return result
        result.update(changed=True, diff={"before": public_endpoint(current), "after": {}})
        if not check_mode:
            manager.delete(endpoint_id(current))
        result["endpoint"] = None
        return result

    if current is None:
        if manager.KEY == "name" and "url" not in desired:
            raise InputError("url: required to create %s %r" % (manager.KIND, key_value))
        body = dict(manager.defaults())
        body.update(desired)
        if token is not None:
            body[manager.TOKEN_FIELD] = token
        after = _masked(body, token is not None, manager.TOKEN_FIELD)
        result.update(changed=True, diff={"before": {}, "after": after})
        if check_mode:
            result["endpoint"] = public_endpoint(body)
            return result
        try:
            created = manager.create(body)
        except ScanopsApiError as err:
            if err.may_have_acted:
                # The POST reached the server; look before anyone sends it again.
                err.note = _created_note(manager, key_value)
            raise _unreachable_hint(err)
        result.update(callback_id=endpoint_id(created), endpoint=public_endpoint(created))
        return result

    # Existing: compare only what the user set.
    changes = {}
    for field, value in desired.items():
        if manager.normalize(field, current.get(field)) != manager.normalize(field, value):
            changes[field] = value
    if "authType" in changes and changes["authType"] in ("bearer", "api_token") and token is None:
        raise InputError("token: required to switch %s %r to auth_type=%s" % (manager.KIND, key_value, changes["authType"]))
    # A new auth type or header name takes the token the user gave with it: the platform keeps
    # the stored one otherwise, and deliveries would carry the old credential.
    token_sent = token is not None and (update_token == "always" or manager.changes_credential(changes))
    if token_sent:
        changes[manager.TOKEN_FIELD] = token
    if not changes:
        return result
    before = public_endpoint(current)
    after = manager.settle(dict(before, **dict((k, v) for k, v in changes.items() if k != manager.TOKEN_FIELD)))
    # The stored token can't be read: show whether one is held, is replaced or goes away.
    if manager.holds_token(current) and (token_sent or not manager.holds_token(after)):
        before[manager.TOKEN_FIELD] = UNKNOWN_TOKEN
    if token_sent:
        after[manager.TOKEN_FIELD] = REDACTED
    result.update(changed=True, diff={"before": before, "after": after})
    if check_mode:
        result["endpoint"] = public_endpoint(after)
        return result
    body = dict((k, v) for k, v in changes.items() if v is not None)
    try:
        updated = manager.update(endpoint_id(current), body)
    except ScanopsApiError as err:
        raise _unreachable_hint(err)
    if not isinstance(updated, dict) or not updated:
        updated = public_endpoint(after)
    result.update(callback_id=endpoint_id(updated) or endpoint_id(current), endpoint=public_endpoint(updated))
    return result


def _created_note(manager, key_value):
    try:
        found = manager.find(key_value)
    except ScanopsError:
        return "the request may have reached the platform; re-run to converge (the module looks up %r before creating)" % key_value
    if found:
        return "the platform did create %s %r (id %s); re-run to converge" % (manager.KIND, key_value, endpoint_id(found[0]))
    return "the platform shows no %s %r; it is safe to re-run" % (manager.KIND, key_value)


def list_endpoints(manager, name=None, url=None):
    """Endpoints (without credentials), filtered by exact name and/or URL."""
    items = manager.list(name if manager.KEY == "name" else None)
    if name is not None:
        items = [item for item in items if item.get("name") == name]
    if url is not None:
        items = [item for item in items if item.get("url") == url]
    return [public_endpoint(item) for item in items]


# ---------------------------------------------------------------------------------- module entry points
# callback_endpoint's result keys in a run that failed before it found (or created) the endpoint.
ENDPOINT_NOT_REACHED = {"callback_id": None, "endpoint": None}


def _resource(params):
    return repr(params.get("name") if params.get("provider") == "agilesec" else params.get("url"))


def run_callback_endpoint(module, **client_options):
    """Main of ``callback_endpoint``."""
    params = module.params
    # What a failed result says about the endpoint until the run finds (or creates) it.
    progress = dict(ENDPOINT_NOT_REACHED)
    try:
        desired, warnings = validate_endpoint_params(params)
    except InputError as err:
        module.fail_json(msg=err.message, changed=False, **progress)
    for warning in warnings:
        module.warn(warning)
    kind = "callback endpoint" if params["provider"] == "agilesec" else "webhook"
    action = "Remove %s" % kind if params["state"] == "absent" else "Ensure %s" % kind
    with module_adapter(module, action, _resource(params), input_errors=(InputError,), partial=progress, **client_options) as adapter:
        if params.get("token"):
            adapter.client.add_secret(params["token"])
        result = ensure_endpoint(manager_for(adapter), desired, params.get("token"), params.get("update_token"),
                                 params["state"], module.check_mode, progress)
        result["api_calls"] = adapter.client.stats
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


def run_callback_endpoint_info(module, **client_options):
    """Main of ``callback_endpoint_info``."""
    params = module.params
    if params["provider"] not in ("agilesec", "cloudgeni"):
        module.fail_json(msg="provider: callback endpoints exist only for agilesec and cloudgeni")
    if params["provider"] == "cloudgeni" and params.get("name") is not None:
        module.fail_json(msg="name: CloudGeni webhooks have no name; filter with url")
    action = "List %ss" % ("callback endpoint" if params["provider"] == "agilesec" else "webhook")
    with module_adapter(module, action, **client_options) as adapter:
        endpoints = list_endpoints(manager_for(adapter), params.get("name"), params.get("url"))
        module.exit_json(changed=False, endpoints=copy.deepcopy(endpoints), api_calls=adapter.client.stats)
