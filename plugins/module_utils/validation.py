# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks that run before any request, shared by every module and plugin.

Two layers:

* helpers for one value (``check_url``, ``check_proxy``, ``check_id``, ``check_number``,
  ``check_name``, ``check_text``, ``check_choice``, ``check_image_reference``), which module code
  calls where a rule depends on the provider or on another option;
* ``check_params(params, argument_spec)``, which walks a module's options (suboptions and list
  elements included) and applies the rule each option's name and type call for. Rules are keyed by
  option name, so every module that has a ``scan_id``, a ``timeout`` or an ``image`` gets the
  same checks without writing them again.

Every failure is an ``OptionError`` whose message starts with the option's name, never repeats
a value of a ``no_log`` option, and never repeats the user name or password of a URL.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import math
import re

from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.scanops.security.plugins.module_utils.errors import ScanopsError

HTTP_SCHEMES = ("http", "https")
# What httpx accepts for a proxy (socks needs the socksio extra).
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")

# Names and references: no controls, no bidirectional overrides, embeddings, isolates or marks,
# no invisible zero-width characters, no lone surrogates (they can't be encoded as UTF-8).
_FORBIDDEN_IN_NAMES = re.compile(u"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
# Free text (a triage note, a reason) may hold tabs and line breaks and right-to-left text.
_FORBIDDEN_IN_TEXT = re.compile(u"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LONE_SURROGATE = re.compile(u"[\ud800-\udfff]")
_SPACE_OR_CONTROL = re.compile(u"[\\s\x00-\x1f\x7f-\x9f\\\\\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
# An HTTP header value: visible ASCII only (h11 and httpx refuse anything else with a traceback).
_HEADER_VALUE = re.compile(r"^[\x21-\x7e]+$")

# The collection's own caps where no vendor documents one (docs/security.md).
MAX_NAME_LENGTH = 1024
MAX_TEXT_LENGTH = 12000   # Kolega's longest documented text field (fix instructions)
MAX_PATH_LENGTH = 4096    # PATH_MAX on Linux
MAX_SECRET_LENGTH = 8192
MAX_URL_LENGTH = 2048
# OCI distribution: a repository name of at most 255 characters, a tag of at most 128.
MAX_IMAGE_NAME_LENGTH = 255
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGE_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Za-z0-9=_-]{32,}$")
_IMAGE_COMPONENT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_IMAGE_REGISTRY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")

# Ranges of numeric options, by option name: (minimum, maximum, minimum excluded).
NUMBER_RANGES = {
    "timeout": (0, 3600, True),
    "retries": (0, 100, False),
    "retry_timeout": (0, 86400, False),
    "rate_limit": (0, 10000, False),
    "wait_timeout": (0, 604800, False),
    "wait_sleep": (0, 3600, False),
    "concurrency": (1, 32, False),
    "findings_limit": (0, 1000000, False),
    "limit": (1, 1000000, False),
    "max_risk_score": (0, 100, False),  # HarborGuard riskScore, 0 to 100 (docs/assumptions.md)
    "auto_resolution_interval": (1, 36500, False),
    # AgileSec crypto filters: a key size in bits, a certificate horizon in days (a century at most).
    "key_size_below": (1, 1000000, False),
    "expires_within_days": (0, 36500, False),
}
# Options whose value is put into a request path as one segment (one id, nothing else): these,
# and every option named ``id``, ``ids``, ``*_id`` or ``*_ids`` except the ones that only filter.
ID_OPTIONS = frozenset(("organization",))
NOT_PATH_IDS = frozenset(("rule_id",))
# Options that take a name (which may hold "/") or an id: never empty, never a dot segment.
NAME_OR_ID_OPTIONS = frozenset(("repository", "sensor", "callback"))
FREE_TEXT_OPTIONS = frozenset(("note", "reason", "instructions", "description"))
IMAGE_OPTIONS = frozenset(("image",))


# OpenSearch index names or patterns, comma-separated, as AgileSec names its indexes (lower case, no path characters).
SEARCH_INDEX_PATTERN = re.compile(r"^[a-z0-9*][a-z0-9._*+-]*(,[a-z0-9*][a-z0-9._*+-]*)*$")


class OptionError(ScanopsError):
    """Bad input in one option, found before any request; the message starts with the option's name."""

    def __init__(self, option, problem):
        super(OptionError, self).__init__("%s: %s" % (option, problem))
        self.option = option


# ---------------------------------------------------------------------------------- single values
def safe_url(value):
    """``value`` fit to repeat in a message: no user name or password, no query, no fragment, at most 120 characters."""
    text = str(value)
    try:
        parts = urlsplit(text)
    except ValueError:
        return "(an unparsable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "********@" + netloc.rsplit("@", 1)[1]
    shown = "%s://%s%s" % (parts.scheme, netloc, parts.path) if parts.scheme else netloc + parts.path
    if parts.query or "?" in text:
        shown += "?..."
    if parts.fragment or "#" in text:
        shown += "#..."
    shown = _FORBIDDEN_IN_NAMES.sub("?", shown)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _require_text(value, option, what):
    if not isinstance(value, str):
        raise OptionError(option, "must be %s, not %s" % (what, type(value).__name__))
    if not value.strip():
        raise OptionError(option, "must not be empty")


def check_url(value, option, userinfo_hint="put the credential in api_key instead"):
    """An absolute ``http(s)`` URL without user name, password, query, fragment or whitespace.

    Returns it without trailing slashes. ``userinfo_hint`` tells the user where the credential goes.
    """
    _check_url(value, option, HTTP_SCHEMES, userinfo_hint)
    return value.rstrip("/")


def check_proxy(value, option="proxy"):
    """A proxy URL (``http``, ``https``, ``socks5``, ``socks5h``) with no credentials and no path."""
    parts = _check_url(value, option, PROXY_SCHEMES,
                       "set the proxy credentials with proxy_username and proxy_password (no_log) instead")
    if parts.path not in ("", "/"):
        raise OptionError(option, "%s must not have a path; give scheme://host:port" % safe_url(value))
    return value


def _check_url(value, option, schemes, userinfo_hint):
    _require_text(value, option, "a URL")
    if len(value) > MAX_URL_LENGTH:
        raise OptionError(option, "is %d characters long; at most %d are allowed" % (len(value), MAX_URL_LENGTH))
    if _SPACE_OR_CONTROL.search(value):
        raise OptionError(option, "%s contains whitespace, a backslash or a control character; remove it"
                          % safe_url(value))
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise OptionError(option, "%s is not a valid URL (check the host and the port)" % safe_url(value))
    scheme = (parts.scheme or "").lower()
    if "://" not in value or not scheme:
        raise OptionError(option, "%s is not an absolute URL; start it with %s"
                          % (safe_url(value), " or ".join("%s://" % s for s in schemes[:2])))
    if scheme not in schemes:
        raise OptionError(option, "the scheme %s is not supported; use %s" % (scheme, ", ".join(schemes)))
    if "@" in parts.netloc:
        raise OptionError(option, "%s must not carry credentials (user:secret@); %s" % (safe_url(value), userinfo_hint))
    if not parts.hostname:
        raise OptionError(option, "%s has no host" % safe_url(value))
    if port is not None and not 0 < port < 65536:
        raise OptionError(option, "%s has an invalid port" % safe_url(value))
    if "?" in value:
        raise OptionError(option, "%s must not carry a query string (?...): requests would go to another path"
                          % safe_url(value))
    if "#" in value:
        raise OptionError(option, "%s must not carry a fragment (#...)" % safe_url(value))
    return parts


def check_search_index(value, option="search_index"):
    """OpenSearch index names or patterns separated by commas (the value goes into the search request's path)."""
    _require_text(value, option, "a string")
    if len(value) > MAX_NAME_LENGTH:
        raise OptionError(option, "is %d characters long; at most %d are allowed" % (len(value), MAX_NAME_LENGTH))
    if not SEARCH_INDEX_PATTERN.match(value):
        raise OptionError(option, "expected lower-case index names or patterns separated by commas (letters, digits, "
                                  "'.', '_', '-', '+', '*'), got %r" % (_FORBIDDEN_IN_NAMES.sub("?", value[:120]),))


def check_id(value, option):
    """An id that becomes one path segment: not empty, not ``.`` or ``..``, no ``/``."""
    text = _segment(value, option)
    if "/" in text:
        raise OptionError(option, "%r contains '/'; an id is one path segment" % text)
    return text


def check_name_or_id(value, option):
    """A name (which may contain ``/``) or an id: not empty, not ``.`` or ``..``."""
    return _segment(value, option)


def _segment(value, option):
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise OptionError(option, "must not be empty")
    if text.strip() in (".", ".."):
        raise OptionError(option, "%r is not an id: '.' and '..' would change the request path" % text)
    if text != text.strip():
        raise OptionError(option, "%r has leading or trailing whitespace" % text)
    return check_name(text, option)


def check_name(value, option, max_length=MAX_NAME_LENGTH, secret=False):
    """A name or reference: no control, bidirectional-override or invisible characters, at most ``max_length``."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_length:
        raise OptionError(option, "is %d characters long; at most %d are allowed" % (len(text), max_length))
    found = _FORBIDDEN_IN_NAMES.search(text)
    if found:
        raise OptionError(option, "contains the character U+%04X (a control, bidirectional-override or invisible "
                          "character)%s; remove it" % (ord(found.group()), "" if secret else " at position %d" % found.start()))
    return text


def check_text(value, option, max_length=MAX_TEXT_LENGTH):
    """Free text: line breaks and tabs are fine, other control characters are not."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_length:
        raise OptionError(option, "is %d characters long; at most %d are allowed" % (len(text), max_length))
    found = _FORBIDDEN_IN_TEXT.search(text)
    if found:
        raise OptionError(option, "contains the control character U+%04X at position %d; remove it"
                          % (ord(found.group()), found.start()))
    return text


def check_header_value(value, option):
    """A credential sent as an HTTP header: visible ASCII characters only (the value is never repeated)."""
    _require_text(value, option, "a string")
    if len(value) > MAX_SECRET_LENGTH:
        raise OptionError(option, "is %d characters long; at most %d are allowed" % (len(value), MAX_SECRET_LENGTH))
    if not _HEADER_VALUE.match(value):
        raise OptionError(option, "must consist of visible ASCII characters only (no spaces, line breaks or "
                          "non-ASCII letters); check that the whole credential was pasted")
    return value


def check_number(value, option, minimum=None, maximum=None, exclusive_minimum=False):
    """A finite number within ``[minimum, maximum]`` (``minimum`` itself excluded when asked)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptionError(option, "must be a number, not %s" % type(value).__name__)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise OptionError(option, "must be a finite number (got %s)" % value)
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        bound = "greater than %s" % minimum if exclusive_minimum else "at least %s" % minimum
        raise OptionError(option, "must be %s%s (got %s)" % (bound, "" if maximum is None else " and at most %s" % maximum, value))
    if maximum is not None and value > maximum:
        raise OptionError(option, "must be at most %s (got %s)" % (maximum, value))
    return value


def check_choice(value, choices, option, what="value"):
    """``value`` (compared without case) must be one of ``choices``; returns the matching choice."""
    if value is None:
        return None
    text = str(value)
    for choice in choices:
        if text.lower() == str(choice).lower():
            return choice
    raise OptionError(option, "%r is not a %s this provider knows; use one of: %s"
                      % (text[:80], what, ", ".join(str(c) for c in choices)))


def check_image_reference(value, option):
    """A container image reference ``[registry/]name[:tag][@digest]`` within the OCI limits."""
    text = check_name(value, option)
    if not text.strip():
        raise OptionError(option, "must not be empty")
    if _SPACE_OR_CONTROL.search(text):
        raise OptionError(option, "an image reference contains no whitespace")
    name, digest = text, None
    if "@" in name:
        name, digest = name.split("@", 1)
        if not _IMAGE_DIGEST.match(digest):
            raise OptionError(option, "the digest %r is not algorithm:hex (for example sha256:<64 hex>)" % digest[:80])
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
        if not _IMAGE_TAG.match(tag):
            raise OptionError(option, "the tag %r is not valid: 1 to 128 letters, digits, '_', '.' or '-', not starting "
                              "with '.' or '-'" % tag[:80])
    components = name.split("/")
    if not name or not all(_IMAGE_COMPONENT.match(part) for part in components[1:]) or not (
            _IMAGE_COMPONENT.match(components[0]) or (len(components) > 1 and _IMAGE_REGISTRY.match(components[0]))):
        raise OptionError(option, "%r has no valid image name: each part between '/' starts and ends with a letter or digit"
                          % text[:80])
    if len(name) > MAX_IMAGE_NAME_LENGTH:
        raise OptionError(option, "the image name is %d characters long; at most %d are allowed"
                          % (len(name), MAX_IMAGE_NAME_LENGTH))
    return text


def find_lone_surrogate(params, prefix=""):
    """The name (``targets[0].image``, ``config.token``) of the first value holding a lone surrogate, or None.

    Such a value can't be encoded as UTF-8: AnsibleModule can't even log it, httpx can't send it.
    """
    items = params.items() if isinstance(params, dict) else enumerate(params or [])
    for key, value in items:
        label = ("%s[%d]" % (prefix, key)) if isinstance(key, int) else ("%s.%s" % (prefix, key) if prefix else str(key))
        if isinstance(key, str) and _LONE_SURROGATE.search(key):
            return label
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                return label
        elif isinstance(value, (dict, list, tuple)):
            found = find_lone_surrogate(value, label)
            if found:
                return found
    return None


def check_sendable(value, option):
    """Structured data that will be sent as JSON: finite numbers and UTF-8-encodable strings only."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _LONE_SURROGATE.search(key):
                raise OptionError(option, "a key contains a lone surrogate character, which can't be sent")
            check_sendable(item, "%s.%s" % (option, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_sendable(item, "%s[%d]" % (option, index))
    elif isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise OptionError(option, "must be a finite number (got %s)" % value)
    elif isinstance(value, str) and _LONE_SURROGATE.search(value):
        raise OptionError(option, "contains a lone surrogate character, which can't be sent")
    return value


# ---------------------------------------------------------------------------------- whole modules
def is_id_option(name):
    """True for an option whose value goes into a request path as one segment."""
    if name in NOT_PATH_IDS:
        return False
    return name in ID_OPTIONS or name in ("id", "ids") or name.endswith("_id") or name.endswith("_ids")


def check_params(params, argument_spec, prefix=""):
    """Apply the rule of each option's name and type to every value set, suboptions included.

    Raises OptionError for the first problem found. Values of ``no_log`` options are never
    repeated in the message.
    """
    for name, spec in argument_spec.items():
        value = (params or {}).get(name)
        if value is None:
            continue
        _check_option(name, spec, value, prefix + name)


def _check_option(name, spec, value, label):
    kind = spec.get("type", "str")
    if kind in ("int", "float"):
        _check_numeric(name, value, label)
    elif kind in ("str", "path", "raw") and isinstance(value, str):
        _check_string(name, spec, value, label, kind)
    elif kind == "list" and isinstance(value, list):
        elements = spec.get("elements")
        for index, item in enumerate(value):
            item_label = "%s[%d]" % (label, index)
            if item is None:
                continue
            if elements == "dict" and spec.get("options") and isinstance(item, dict):
                check_params(item, spec["options"], item_label + ".")
            elif elements in ("int", "float"):
                _check_numeric(name, item, item_label)
            elif isinstance(item, str):
                _check_string(name, spec, item, item_label, elements or "str")
            else:
                check_sendable(item, item_label)
    elif kind == "dict" and isinstance(value, dict):
        if spec.get("options"):
            check_params(value, spec["options"], label + ".")
        else:
            check_sendable(value, label)


def _check_numeric(name, value, label):
    low, high, exclusive = NUMBER_RANGES.get(name, (None, None, False))
    check_number(value, label, low, high, exclusive)


def _check_string(name, spec, value, label, kind):
    if name == "api_url":
        check_url(value, label)
    elif name == "search_url":
        check_url(value, label, userinfo_hint="put the credential in search_username and search_password instead")
    elif name == "search_index":
        check_search_index(value, label)
    elif name == "proxy":
        check_proxy(value, label)
    elif is_id_option(name):
        check_id(value, label)
    elif name in NAME_OR_ID_OPTIONS:
        check_name_or_id(value, label)
    elif name in IMAGE_OPTIONS:
        check_image_reference(value, label)
    elif name in FREE_TEXT_OPTIONS:
        check_text(value, label)
    elif spec.get("no_log"):
        check_name(value, label, MAX_SECRET_LENGTH, secret=True)
    elif kind == "path":
        check_name(value, label, MAX_PATH_LENGTH)
    else:
        check_name(value, label)
