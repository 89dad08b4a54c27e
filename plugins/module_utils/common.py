# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between AnsibleModule and the API layer: shared options, adapter construction,
error rendering.

Typical module::

    argument_spec = scanops_argument_spec()
    argument_spec.update(...)
    module = ScanopsModule(argument_spec=argument_spec, supports_check_mode=True)
    with module_adapter(module, "Ensure sensor", repr(name)) as adapter:
        result = ...
        result["api_calls"] = adapter.client.stats
    module.exit_json(**result)
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import copy
import os
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.validation import check_type_dict
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.scanops.security.plugins.module_utils.client import HAS_HTTPX, HTTPX_IMPORT_ERROR
from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers import PROVIDERS, get_adapter_class
from ansible_collections.scanops.security.plugins.module_utils.validation import (
    OptionError,
    check_header_value,
    check_id,
    check_params,
    check_url,
    find_lone_surrogate,
)

_URL_START = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://")
# A user name at least this long in an http(s) URL is taken for a token (GitHub, GitLab and Bitbucket tokens are longer).
TOKEN_AS_USER_LENGTH = 16
# ApiClient.stats before its first request: what a result says when the run sent none.
NO_API_CALLS = {"total": 0, "retries": 0}


def scanops_argument_spec():
    """The options every module shares (documented in the ``scanops.security.scanops`` fragment)."""
    return dict(
        provider=dict(type="str", required=True, choices=list(PROVIDERS), fallback=(env_fallback, ["SCANOPS_PROVIDER"])),
        api_url=dict(type="str", fallback=(env_fallback, ["SCANOPS_API_URL"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["SCANOPS_API_KEY"])),
        organization=dict(type="str"),
        auth_scheme=dict(type="str", default="bearer", choices=["bearer", "x_api_key"]),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        proxy=dict(type="str"),
        proxy_username=dict(type="str", fallback=(env_fallback, ["SCANOPS_PROXY_USERNAME"])),
        proxy_password=dict(type="str", no_log=True, fallback=(env_fallback, ["SCANOPS_PROXY_PASSWORD"])),
        timeout=dict(type="float", default=30.0),
        retries=dict(type="int", default=5),
        retry_timeout=dict(type="float", default=60.0),
        rate_limit=dict(type="float"),
    )


def plugin_params(get_option, extra_spec=None, given=None):
    """The shared options (and ``extra_spec``'s) of a plugin, checked exactly as a module checks its own.

    One options layer for modules and plugins: ``get_option`` is how the caller reads an option
    (a lookup's or inventory's ``get_option``, ``dict.get`` for an inventory platform entry); the
    values then go through ``scanops_argument_spec`` with ``ArgumentSpecValidator``, so types,
    choices, defaults and the ``SCANOPS_*`` environment fallbacks are those of every module.
    ``given`` (a dict) overrides what ``get_option`` answers, for values that come from elsewhere
    (an inventory platform entry over the source's top-level options).

    Raises:
        ScanopsError: an unknown option, a missing provider, a value of the wrong type or outside
            its choices; the message names the option (never a credential's value).
    """
    spec = scanops_argument_spec()
    spec.update(extra_spec or {})
    values = {}
    for name in spec:
        try:
            value = get_option(name)
        except KeyError:
            value = None
        if value is not None:
            values[name] = value
    for name, value in (given or {}).items():
        if value is not None:
            values[name] = value
    return validate_params(values, spec)


def validate_params(values, spec):
    """``values`` validated against an argument spec as AnsibleModule would (no module needed), then
    checked by ``validation.check_params`` as ``build_adapter`` checks a module's options.

    Raises ScanopsError with every problem the validator found; values of ``no_log`` options are
    masked in the message.
    """
    result = ArgumentSpecValidator(spec).validate(dict(values))
    if result.error_messages:
        message = "; ".join(("unsupported option %s" % err.msg) if isinstance(err, UnsupportedError) else err.msg
                            for err in result.errors)
        for name, option in spec.items():
            if not option.get("no_log"):
                continue
            for secret in (values.get(name), result.validated_parameters.get(name)):
                if secret:
                    message = message.replace(str(secret), "********")
        raise ScanopsError(message)
    # The same value checks as every module's options (ids, numbers, names, URLs).
    check_params(result.validated_parameters, spec)
    return result.validated_parameters


def url_passwords(value, strict=False):
    """The secrets of every URL with credentials inside ``value`` (strings, lists, dicts).

    ``scheme://user:password@host`` gives the password; ``https://<token>@host`` (a token used as the
    user name, as Git hosts allow) gives the token, when the user name is long enough to be one (a
    plain user name such as ``git`` in ``ssh://git@host`` is not a secret, and masking it would
    blank that word everywhere in the output). ``strict`` takes any user name for a secret too.
    """
    found = []
    if isinstance(value, str):
        if _URL_START.match(value):
            scheme, rest = value.strip().split("://", 1)
            netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
            userinfo = netloc.rpartition("@")[0]
            user, _sep, password = userinfo.partition(":")
            if password:
                found.append(password)
            if user and (strict or (not password and len(user) >= TOKEN_AS_USER_LENGTH and scheme.lower() in ("http", "https"))):
                found.append(user)
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(url_passwords(item, strict))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(url_passwords(item, strict))
    return found


def register_url_secrets(module):
    """Treat the password of any URL in the module's parameters as a no_log value.

    A password typed into ``api_url``, ``proxy`` or a callback ``url`` is rejected or masked by the
    module, but AnsibleModule would still print it in the invocation; registering it first keeps it
    out of results, diffs, errors and logs.
    """
    params = module.params or {}
    for name, value in params.items():
        # api_url, proxy and search_url must carry no credentials at all: whatever is there is hidden.
        for secret in url_passwords(value, strict=name in ("api_url", "proxy", "search_url")):
            module.no_log_values.add(secret)


def register_no_log_inputs(module, environ=None):
    """Treat the values of ``no_log`` options (as given, or from their environment fallback) as no_log values.

    AnsibleModule learns them only once its argument validation succeeds; when it fails first (a
    string where a dictionary with suboptions belongs, say), the invocation it prints would show them.
    """
    environ = os.environ if environ is None else environ

    def walk(spec, values):
        if not isinstance(values, dict):
            return
        for name, option in spec.items():
            given = [values.get(key) for key in [name] + list(option.get("aliases") or []) if values.get(key) is not None]
            fallback = option.get("fallback")
            if option.get("no_log") and fallback and fallback[0] is env_fallback:
                given.extend(environ[variable] for variable in (fallback[1] if len(fallback) > 1 else ()) if environ.get(variable))
            for value in given:
                if option.get("no_log") and isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    module.no_log_values.add(str(value))
                elif option.get("options"):
                    for item in value if isinstance(value, list) else [value]:
                        walk(option["options"], item)

    walk(module.argument_spec or {}, module.params or {})


def _dict_with_suboptions_problem(module):
    """``"<option>: ..."`` when a dictionary option with suboptions was given something that is no dictionary.

    AnsibleModule's own message for that ("dictionary requested, could not parse JSON or key=value")
    names no option.
    """
    for name, option in (module.argument_spec or {}).items():
        value = (module.params or {}).get(name)
        if option.get("type") == "dict" and option.get("options") and isinstance(value, str):
            try:
                check_type_dict(value)
            except (TypeError, ValueError) as err:
                return "%s: must be a dictionary of %s (%s)" % (name, ", ".join(sorted(option["options"])), err)
    return None


def failed_result(failure_defaults, **reached):
    """The keys of a failed module result: what the run reached, over ``failure_defaults``.

    ``failure_defaults`` maps each key the module's RETURN documents as ``always`` to its value in a
    run that failed before reaching it (null, empty, 0 or false); ``api_calls`` is always one of
    them and counts no request unless ``reached`` says otherwise. Every value is a fresh copy.
    """
    result = {"api_calls": dict(NO_API_CALLS)}
    result.update(copy.deepcopy(failure_defaults or {}))
    result.update(reached)
    return result


class ScanopsModule(AnsibleModule):
    """AnsibleModule that keeps secrets out of its output from the moment it reads its parameters,
    and whose failed results carry every key RETURN promises in every result.

    Right after loading, before AnsibleModule validates (and may fail printing the whole
    invocation) or logs the invocation, it registers the passwords of URLs and the values of
    ``no_log`` options, and rejects a dictionary option with suboptions given a non-dictionary with a
    message that names the option.

    ``failure_defaults`` (see ``failed_result``) completes every ``fail_json``, AnsibleModule's own
    refusals of the options included, so a task that reads a documented key of a failed result
    never finds it missing.
    """

    def __init__(self, *args, **kwargs):
        # Set before AnsibleModule.__init__, which fails the module when it refuses the options.
        self.failure_defaults = kwargs.pop("failure_defaults", None) or {}
        super(ScanopsModule, self).__init__(*args, **kwargs)

    def fail_json(self, msg, **kwargs):
        super(ScanopsModule, self).fail_json(msg, **failed_result(self.failure_defaults, **kwargs))

    def _load_params(self):
        super(ScanopsModule, self)._load_params()
        register_url_secrets(self)
        register_no_log_inputs(self)
        problem = _dict_with_suboptions_problem(self)
        if problem:
            self.fail_json(msg=problem)

    def _log_invocation(self):
        register_url_secrets(self)
        unencodable = find_lone_surrogate(self.params)
        if unencodable:
            # AnsibleModule itself would fail with a traceback while logging such a value.
            self.fail_json(msg="%s: contains a lone surrogate character (U+D800 to U+DFFF), which can't be encoded; fix the value"
                           % unencodable)
        super(ScanopsModule, self)._log_invocation()


def agilesec_search_spec():
    """The AgileSec Search API options (documented in the ``scanops.security.agilesec_search`` fragment).

    Only the modules that read AgileSec findings take them (finding_info, scan_run); other
    providers ignore them.
    """
    agilesec = get_adapter_class("agilesec")
    return dict(
        search_url=dict(type="str", fallback=(env_fallback, list(agilesec.SEARCH_URL_ENV))),
        search_username=dict(type="str", fallback=(env_fallback, list(agilesec.SEARCH_USERNAME_ENV))),
        search_password=dict(type="str", no_log=True, fallback=(env_fallback, list(agilesec.SEARCH_PASSWORD_ENV))),
        search_index=dict(type="str", fallback=(env_fallback, list(agilesec.SEARCH_INDEX_ENV))),
    )


def _first_env(names, environ):
    for name in names:
        value = environ.get(name)
        if value:
            return name, value
    return None, None


def resolve_settings(params, environ=None):
    """Resolve ``(adapter_class, api_url, api_key, organization)`` from options, then the provider's env vars.

    The generic ``SCANOPS_API_URL``/``SCANOPS_API_KEY`` are already folded into ``params`` by
    the argument spec's env fallback, so the order is: option, SCANOPS_*, provider variable.
    Every shared option is checked here too (numbers, proxy, ids), so whoever resolves settings
    this way (modules, and plugins that reuse it) gets the same checks before any request.

    Raises:
        ScanopsError: no API key, CloudGeni without an organization, or an option that fails its
            check (``validation.OptionError``); the message names the option or the variable.
    """
    environ = os.environ if environ is None else environ
    check_params(params, scanops_argument_spec())
    adapter_class = get_adapter_class(params["provider"])
    if params.get("api_url") is not None:
        api_url = check_url(params["api_url"], "api_url")
    else:
        variable, api_url = _first_env(adapter_class.API_URL_ENV, environ)
        api_url = check_url(api_url, variable) if api_url else adapter_class.DEFAULT_API_URL
    api_key = params.get("api_key")
    key_source = "api_key"
    if not api_key:
        key_source, api_key = _first_env(adapter_class.API_KEY_ENV, environ)
    if not api_key:
        raise ScanopsError(
            "no API key for %s: set the api_key option or one of the environment variables %s"
            % (params["provider"], ", ".join(("SCANOPS_API_KEY",) + tuple(adapter_class.API_KEY_ENV))))
    check_header_value(api_key, key_source)
    organization = params.get("organization")
    org_source = "organization"
    if not organization:
        org_source, organization = _first_env(adapter_class.ORGANIZATION_ENV, environ)
    if adapter_class.ORGANIZATION_ENV and not organization:
        raise ScanopsError(
            "no organization id for %s: set the organization option or the environment variable %s"
            % (params["provider"], ", ".join(adapter_class.ORGANIZATION_ENV)))
    if organization:
        check_id(organization, org_source)
    if (params.get("proxy_username") or params.get("proxy_password")) and not params.get("proxy"):
        raise OptionError("proxy_username", "proxy_username and proxy_password are the credentials of the proxy "
                          "option, which is not set")
    if bool(params.get("proxy_username")) != bool(params.get("proxy_password")):
        raise OptionError("proxy_password" if params.get("proxy_username") else "proxy_username",
                          "proxy_username and proxy_password go together; set both")
    return adapter_class, api_url, api_key, organization


# The shared options that configure the HTTP client (the rest name the provider and the credential).
CLIENT_OPTIONS = ("timeout", "retries", "retry_timeout", "validate_certs", "ca_path", "client_cert", "client_key", "proxy")


def adapter_from_params(params, environ=None, **client_options):
    """The provider adapter for a dict of the shared options, for callers that are not modules.

    ``params`` holds the options of ``scanops_argument_spec`` (already validated, defaults
    applied); modules go through ``build_adapter``, event sources and other plugins call this.
    Every shared option is checked first (``resolve_settings``).

    Raises:
        ScanopsError: no credential or organization, or an option that fails its check (see ``resolve_settings``).
        IOError, OSError, ValueError: an unreadable CA bundle or client certificate.
    """
    adapter_class, api_url, api_key, organization = resolve_settings(params, environ)
    options = dict((name, params.get(name)) for name in CLIENT_OPTIONS)
    if options["validate_certs"] is None:
        options["validate_certs"] = True
    if params.get("proxy_username"):
        options["proxy_auth"] = (params["proxy_username"], params.get("proxy_password") or "")
    options.update(client_options)
    # Options only some providers take (AgileSec's Search API), when the caller has them.
    options.update((name, params[name]) for name in adapter_class.EXTRA_OPTIONS if params.get(name) is not None)
    return adapter_class(api_key, api_url=api_url, organization=organization, auth_scheme=params.get("auth_scheme"),
                         rate_limit=params.get("rate_limit"), **options)


def build_adapter(module, **client_options):
    """The provider adapter (with its HTTP client) for a module's shared options.

    Fails the module when httpx is missing, a credential cannot be found, or an option fails its
    check; the module's own options are checked here as well (``validation.check_params``), so
    every module rejects bad ids, numbers and names before its first request. Keys read from
    provider environment variables are registered as no_log values. Close the adapter when
    done (``with build_adapter(module) as adapter:``). ``client_options`` reach ``ApiClient``
    (tests use ``transport=``).
    """
    register_url_secrets(module)
    if not HAS_HTTPX:
        module.fail_json(msg=missing_required_lib("httpx"), exception="".join(
            traceback.format_exception(type(HTTPX_IMPORT_ERROR), HTTPX_IMPORT_ERROR, HTTPX_IMPORT_ERROR.__traceback__)))
    params = module.params
    try:
        api_key = resolve_settings(params)[2]
        check_params(params, getattr(module, "argument_spec", None) or {})
    except ScanopsError as err:
        module.fail_json(msg=err.message, changed=False)
    module.no_log_values.add(api_key)
    try:
        return adapter_from_params(params, **client_options)
    except (IOError, OSError, ValueError) as err:
        # Unreadable CA bundle or client certificate; the message names the file, not its content.
        module.fail_json(msg="Configure %s client: %s" % (params["provider"], err))


@contextlib.contextmanager
def module_adapter(module, action, resource=None, input_errors=(), partial=None, **client_options):
    """``with module_adapter(module, action, resource) as adapter:`` the module's adapter, closed after the block.

    A ScanopsError raised in the block fails the module through ``fail_with_error`` as
    ``<action> <resource>: <vendor message> (HTTP <code> <vendor code>)``; one of ``input_errors``
    (bad input only a read could reveal, such as an ambiguous name) fails it with its message alone.
    Either way the failed result carries ``partial`` (a dict the block fills with what it has done or
    found so far) and ``api_calls`` counting every request sent.
    """
    with build_adapter(module, **client_options) as adapter:
        try:
            yield adapter
        except input_errors as err:
            module.fail_json(msg=err.message, **dict(partial or {}, changed=False, api_calls=adapter.client.stats))
        except ScanopsError as err:
            fail_with_error(module, err, action, resource, **dict(partial or {}, api_calls=adapter.client.stats))


def error_result(err):
    """The structured ``error`` entry of a failed module result (no headers, no credentials)."""
    return err.to_dict()


def fail_with_error(module, err, action, resource=None, **result):
    """Fail the module with ``"<action> <resource>: <vendor message> (HTTP <code> <vendor code>)"``.

    ``result`` keys (changed, api_calls, partial results...) are returned alongside ``msg``. When
    a request failed (a ScanopsApiError) an ``error`` dict describes it; every module documents that
    dict alike. Bad input and other failures carry no ``error``.
    """
    result.setdefault("changed", False)
    if isinstance(err, ScanopsApiError):
        result["error"] = error_result(err)
    if isinstance(err, ScanopsError):
        module.fail_json(msg=err.describe(action, resource), **result)
    module.fail_json(msg="%s%s: %s" % (action, " %s" % resource if resource else "", err), **result)


class RunRecord(object):
    """What one run of a long module (scan_run, finding_fix) reports besides its work.

    The class using it sets ``adapter``, ``result`` (the result so far), ``warnings`` and ``_warn``
    (shows a warning as it happens, or None).
    """

    def warn(self, message):
        self.warnings.append(message)
        if self._warn is not None:
            self._warn(message)

    def snapshot(self):
        """The result so far with the API calls made: what a failure at this point returns."""
        result = dict(self.result)
        result["api_calls"] = self.adapter.client.stats
        return result


__all__ = ("scanops_argument_spec", "agilesec_search_spec", "plugin_params", "validate_params", "adapter_from_params", "build_adapter",
           "module_adapter", "fail_with_error", "resolve_settings", "RunRecord", "ScanopsModule", "failed_result", "ScanopsApiError",
           "ScanopsError")
