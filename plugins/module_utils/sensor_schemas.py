# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON Schemas (draft 7, as Python dicts) of AgileSec ``sensorConfig`` per sensor type.

Kept as Python so they travel with the module to the target host (AnsiballZ ships
module_utils, not data files).

ASSUMPTION, every key below: the Scan API page only says that ``sensorConfig`` is
"sensor-specific" and points at the per-sensor user guides, which publish no machine-readable
contract. The sensor type names are the ones the page and docs/assumptions.md use; the keys
(``repositoryUrl``, ``branches``, ``token`` ...) are this collection's assumption, recorded in
docs/assumptions.md ("AgileSec sensorConfig keys"). ``x-error`` is our own annotation, ignored by
jsonschema: the message shown when that subschema fails (a string, or a dict keyed by the
failing keyword).

Unknown sensor types are not validated here (the module warns and lets the platform decide).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

HTTPS_URL = {
    "type": "string",
    "maxLength": 2048,
    "pattern": r"^https://[^\s/?#]+[^\s]*$",
    "x-error": "must be an https:// URL",
}

NON_EMPTY = {"type": "string", "minLength": 1, "x-error": "must be a non-empty string"}

NAME_LIST = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": NON_EMPTY,
    "x-error": "must be a non-empty list of distinct non-empty strings",
}

# username and password go together; a token is the alternative (never both).
_USER_PASSWORD_OR_TOKEN = {
    "dependencies": {"username": ["password"], "password": ["username"]},
    "not": {"anyOf": [{"required": ["password", "token"]}, {"required": ["password", "apiKey"]},
                      {"required": ["token", "apiKey"]}]},
}

_AUTH_ERRORS = {
    "dependencies": "username and password go together",
    "not": "use either username and password or one token (token or apiKey), not several",
    "anyOf": "needs credentials: username and password, token or apiKey",
}


def _object(properties, required=(), extra=None):
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }
    schema.update(extra or {})
    if "dependencies" in schema:
        schema["x-error"] = _AUTH_ERRORS
    return schema


SCHEMAS = {
    # Git over HTTPS; anonymous for public repositories, else username/password or a token.
    "GIT Sensor": _object(
        {
            "repositoryUrl": HTTPS_URL,
            "branches": NAME_LIST,
            "username": NON_EMPTY,
            "password": NON_EMPTY,
            "token": NON_EMPTY,
            "incremental": {"type": "boolean", "x-error": "must be a boolean"},
        },
        required=("repositoryUrl",),
        extra=_USER_PASSWORD_OR_TOKEN,
    ),
    "Artifactory Sensor": _object(
        {
            "url": HTTPS_URL,
            "repositories": NAME_LIST,
            "username": NON_EMPTY,
            "password": NON_EMPTY,
            "token": NON_EMPTY,
            "apiKey": NON_EMPTY,
        },
        required=("url",),
        extra=dict(_USER_PASSWORD_OR_TOKEN, anyOf=[{"required": ["username"]}, {"required": ["token"]}, {"required": ["apiKey"]}]),
    ),
    "GitHub Sensor": _object(
        {
            "organization": NON_EMPTY,
            "token": NON_EMPTY,
            "apiUrl": HTTPS_URL,
            "repositories": NAME_LIST,
            "branches": NAME_LIST,
        },
        required=("organization", "token"),
    ),
    "GitLab Sensor": _object(
        {
            "url": HTTPS_URL,
            "token": NON_EMPTY,
            "groups": NAME_LIST,
            "projects": NAME_LIST,
            "branches": NAME_LIST,
        },
        required=("token",),
    ),
    "Qualys Sensor": _object(
        {
            "apiUrl": HTTPS_URL,
            "username": NON_EMPTY,
            "password": NON_EMPTY,
        },
        required=("apiUrl", "username", "password"),
    ),
    "CipherInsights Sensor": _object(
        {
            "url": HTTPS_URL,
            "apiKey": NON_EMPTY,
        },
        required=("url", "apiKey"),
    ),
    "Keyfactor Command Sensor": _object(
        {
            "url": HTTPS_URL,
            "username": NON_EMPTY,
            "password": NON_EMPTY,
            "domain": NON_EMPTY,
        },
        required=("url", "username", "password"),
    ),
}

# The platform spells "GIT Sensor" in capitals; accept any case of a known name.
_BY_LOWER = dict((name.lower(), name) for name in SCHEMAS)


def canonical_type(sensor_type):
    """The known type name matching ``sensor_type`` case-insensitively, or None."""
    if not isinstance(sensor_type, str):
        return None
    return _BY_LOWER.get(sensor_type.strip().lower())


def schema_for(sensor_type):
    """The schema of a known sensor type, or None."""
    name = canonical_type(sensor_type)
    return SCHEMAS.get(name) if name else None
