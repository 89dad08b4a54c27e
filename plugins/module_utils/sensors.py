# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state of AgileSec scan sensors, shared by ``scan_sensor`` and ``scan_sensor_info``.

Documented: ``POST /v3/scan/create`` creates a sensor and starts its first execution. ASSUMED
(docs/assumptions.md): listing sensors by name, ``PUT``/``DELETE /v3/sensors/{sensorId}``, and
secret values in ``sensorConfig`` coming back as ``********``.

Secrets inside ``config``: the option is a plain dict (so the non-secret settings stay readable
in ``-vvv`` output); instead of ``no_log`` on the whole dict, which would register every leaf,
branch names included, as a secret and blank each of them wherever it appears in the output,
the values under secret-looking keys are registered with ``module.no_log_values`` as soon as
the parameters are parsed (``SensorModule``), before AnsibleModule logs its invocation.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import re
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.scanops.security.plugins.module_utils import sensor_schemas
from ansible_collections.scanops.security.plugins.module_utils.callbacks import InputError, ambiguity_error, is_object_id
from ansible_collections.scanops.security.plugins.module_utils.common import ScanopsModule, module_adapter
from ansible_collections.scanops.security.plugins.module_utils.errors import REDACTED, ScanopsApiError, ScanopsError
from ansible_collections.scanops.security.plugins.module_utils.providers.agilesec import MAX_NAME_LENGTH as AGILESEC_MAX_NAME_LENGTH
from ansible_collections.scanops.security.plugins.module_utils.validation import OptionError, check_name


def _load_jsonschema():
    """jsonschema, imported the first time a config is checked (its import is a good part of a
    module run, and scan_sensor_info, a removal or a task without config never need it).

    Raises MissingLibrary (with the ImportError as its cause) when it is not installed.
    """
    try:
        import jsonschema  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        error = MissingLibrary(missing_required_lib("jsonschema"))
        error.import_error = exc
        raise error
    return jsonschema


# Substrings (compared without case, "_" or "-") of sensorConfig keys whose values are secret.
# The platform masks password, token, apiKey, secret and privateKey; we treat look-alikes
# (accessToken, clientSecret, passphrase ...) as secret too, never the other way round.
SECRET_WORDS = ("password", "passwd", "passphrase", "token", "apikey", "secret", "privatekey")
PRIORITIES = ("low", "medium", "high")
# Schema keywords that relate several keys; left out when only the keys given are checked.
_CROSS_FIELD_KEYWORDS = ("required", "dependencies", "anyOf", "not")
UNKNOWN_SECRET = "(write-only, unknown)"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MissingLibrary(ScanopsError):
    """A Python library needed for this input is not installed."""


# ---------------------------------------------------------------------------------- secrets
def is_secret_key(key):
    folded = re.sub(r"[-_\s]", "", str(key)).lower()
    return any(word in folded for word in SECRET_WORDS)


def secret_values(config):
    """Every scalar value stored under a secret-looking key, anywhere in ``config``."""
    found = []

    def leaves(value):
        if isinstance(value, dict):
            for item in value.values():
                leaves(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                leaves(item)
        elif value is not None and value != "" and value != REDACTED:
            found.append(str(value))

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if is_secret_key(key):
                    leaves(item)
                else:
                    walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(config)
    return found


def has_secrets(config):
    return bool(secret_values(config))


def mask_config(config, placeholder=REDACTED):
    """A copy of ``config`` with every value under a secret-looking key replaced."""
    if isinstance(config, dict):
        return dict((key, placeholder if is_secret_key(key) and value is not None else mask_config(value, placeholder))
                    for key, value in config.items())
    if isinstance(config, list):
        return [mask_config(item, placeholder) for item in config]
    return config


def register_config_secrets(module):
    """Add the secret leaves of ``config`` to the module's no_log values (idempotent)."""
    config = (module.params or {}).get("config")
    if isinstance(config, str):
        # Not yet converted to a dict (raw parameters): a JSON object string is what it will become.
        try:
            config = json.loads(config)
        except ValueError:
            config = None
    if isinstance(config, dict):
        for value in secret_values(config):
            module.no_log_values.add(value)


class SensorModule(ScanopsModule):
    """ScanopsModule that knows the secrets inside ``config`` from the moment it reads its parameters.

    Registering them right after loading (before argument validation) matters: a validation
    error (a bad ``priority``, say) makes AnsibleModule fail with the whole invocation, config
    included, before any module code runs.
    """

    def _load_params(self):
        super(SensorModule, self)._load_params()
        register_config_secrets(self)

    def _log_invocation(self):
        register_config_secrets(self)
        super(SensorModule, self)._log_invocation()


def mask_sensor(sensor):
    """A copy of a vendor sensor object with ``sensorConfig`` secrets masked."""
    if not isinstance(sensor, dict):
        return sensor
    masked = copy.deepcopy(sensor)
    if isinstance(masked.get("sensorConfig"), dict):
        masked["sensorConfig"] = mask_config(masked["sensorConfig"])
    return masked


# ---------------------------------------------------------------------------------- validation
def labels_dict(labels):
    """The vendor's list of one-pair objects (or a dict) as one dict."""
    merged = {}
    if isinstance(labels, dict):
        return dict(labels)
    for item in labels or []:
        if isinstance(item, dict):
            merged.update(item)
    return merged


def _label_value(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise InputError("labels.%s: must be a string, number or boolean (got %s)" % (key, type(value).__name__))


def _config_path(path):
    text = "config"
    for part in path:
        text += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return text


def _schema_message(error):
    path = _config_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        missing = [key for key in error.validator_value if isinstance(error.instance, dict) and key not in error.instance]
        return ["%s.%s: is required" % (path, key) for key in missing]
    if error.validator == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known)) if isinstance(error.instance, dict) else []
        return ["%s.%s: unexpected field (known fields: %s)" % (path, key, ", ".join(known)) for key in extra]
    custom = schema.get("x-error")
    if isinstance(custom, dict):
        custom = custom.get(error.validator)
    if custom:
        return ["%s: %s" % (path, custom)]
    return ["%s: %s" % (path, error.message)]


def validate_config(sensor_type, config, per_key=False):
    """Validate ``config`` against the schema of a known ``sensor_type``.

    Returns ``(canonical type or None, warnings)``; raises InputError listing every problem
    by field path (``config.repositoryUrl: must be an https:// URL``). ``per_key`` checks only
    the keys given (a config merged into the platform's may leave required keys out).
    """
    canonical = sensor_schemas.canonical_type(sensor_type)
    if canonical is None:
        return None, ["sensor_type %r is not one this collection knows (%s); config is sent unchecked"
                      % (sensor_type, ", ".join(sorted(sensor_schemas.SCHEMAS)))]
    if config is None:
        return canonical, []
    jsonschema = _load_jsonschema()
    schema = sensor_schemas.SCHEMAS[canonical]
    if per_key:
        schema = dict((key, value) for key, value in schema.items() if key not in _CROSS_FIELD_KEYWORDS)
    validator = jsonschema.Draft7Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: ([str(p) for p in e.absolute_path], e.validator)):
        for message in _schema_message(error):
            if message not in messages:
                messages.append(message)
    if messages:
        raise InputError("Invalid input for sensorConfig (%s): %s" % (canonical, "; ".join(messages)))
    return canonical, []


def validate_sensor_params(params):
    """Check the ``scan_sensor`` options that need no request; returns ``(desired, warnings)``.

    ``desired`` holds what the user set, in the vendor's spelling; ``labels`` as a dict.
    """
    warnings = []
    name = params.get("name")
    if name is None or not str(name).strip():
        raise InputError("name: Missing required field: sensorName.")
    if _CONTROL.search(name):
        raise InputError("name: must not contain control characters")
    try:
        check_name(name, "name", AGILESEC_MAX_NAME_LENGTH)
    except OptionError as err:
        raise InputError(err.message)
    desired = {"sensorName": name}
    if params.get("state") == "absent":
        return desired, warnings
    sensor_type = params.get("sensor_type")
    if sensor_type is not None:
        if not sensor_type.strip():
            raise InputError("sensor_type: Missing required field: sensorType.")
        canonical = sensor_schemas.canonical_type(sensor_type)
        desired["sensorType"] = canonical or sensor_type
    config = params.get("config")
    if config is not None:
        desired["sensorConfig"] = config
    if sensor_type is not None and params.get("validate_config", True):
        # Merged into the platform's config, a config may leave required keys out: the whole
        # config is checked once it is known, still before any write.
        _canonical, more = validate_config(sensor_type, config, per_key=not params.get("purge_config"))
        warnings.extend(more)
    priority = params.get("priority")
    if priority is not None:
        if priority not in PRIORITIES:
            raise InputError("priority: Invalid type or value for priority: expected one of ['low', 'medium', 'high'].")
        desired["priority"] = priority
    callback = params.get("callback")
    if callback is not None:
        if not callback.strip():
            raise InputError("callback: must be a callback endpoint's name or its 24-hex id")
        desired["callback"] = callback
    if params.get("incremental_scan") is not None:
        desired["incrementalScan"] = bool(params["incremental_scan"])
    interval = params.get("auto_resolution_interval")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise InputError("auto_resolution_interval: Invalid type for autoResolutionInterval: expected a positive integer (days).")
        desired["autoResolutionInterval"] = interval
    labels = params.get("labels")
    if labels is not None:
        clean = {}
        for key, value in labels.items():
            if not isinstance(key, str) or not key.strip():
                raise InputError("labels: label names must be non-empty strings")
            clean[key] = _label_value(key, value)
        desired["labels"] = clean
    return desired, warnings


# ---------------------------------------------------------------------------------- comparison
def _same(wanted, actual, exact=False):
    """Whether the user's value matches the platform's, never looking at secret values.

    Dicts: only the user's keys, or with ``exact`` the same keys on both sides (secret keys by
    presence). Lists of scalars: order-insensitive.
    """
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return False
        if exact and set(wanted) != set(actual):
            return False
        for key, value in wanted.items():
            if key not in actual:
                return False
            if not is_secret_key(key) and not _same(value, actual[key], exact):
                return False
        return True
    if isinstance(wanted, list):
        if not isinstance(actual, list) or len(wanted) != len(actual):
            return False
        if all(not isinstance(item, (dict, list)) for item in wanted + actual):
            return sorted(wanted, key=repr) == sorted(actual, key=repr)
        return all(_same(w, a, exact) for w, a in zip(wanted, actual))
    return wanted == actual


def _merged(stored, wanted):
    """``stored`` with ``wanted`` laid over it, dicts key by key: keys absent from ``wanted`` are kept."""
    merged = copy.deepcopy(stored)
    for key, value in wanted.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not is_secret_key(key):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def plan_config(wanted, stored, purge=False, update_secrets="on_create"):
    """``(sensorConfig to send or None, secret keys whose values it carries)`` for an existing sensor.

    By default ``wanted`` is merged into the platform's config: keys it leaves out are kept
    (stored secrets travel as the platform's own mask, which keeps them). With ``purge`` it is
    the whole config and keys it leaves out are removed. Secret values are never compared, only
    their presence; they are sent with any config that is sent, and on every run with
    ``update_secrets=always``.
    """
    stored = stored if isinstance(stored, dict) else {}
    secrets = sorted(key for key in wanted if is_secret_key(key))
    if _same(wanted, stored, exact=purge) and not (update_secrets == "always" and secrets):
        return None, []
    return (copy.deepcopy(wanted) if purge else _merged(stored, wanted)), secrets


def find_sensors(adapter, name):
    return [sensor for sensor in adapter.list_sensors(name=name) if sensor.get("sensorName") == name]


def resolve_callback(adapter, value, check_mode):
    """``(callback_id, warning)`` for a callback endpoint given by name or by its 24-hex Callback ID.

    A 24-hex value is the Callback ID (the documented format; the UI copies it) and is sent as is:
    the documented ``/v3/scan/create`` answers 404 "callbackId not found." when it is unknown. A
    name needs the assumed endpoint list. In check mode an endpoint that does not exist yet
    (created earlier in the same check run) is reported as a warning instead of an error, and the
    id is None.
    """
    if is_object_id(value):
        return value, None
    named = [item for item in adapter.list_callback_endpoints(name=value) if item.get("name") == value]
    if len(named) > 1:
        raise ambiguity_error("callback endpoint", "callback", value, named)
    if named:
        callback_id = named[0].get("callbackId")
        if not is_object_id(callback_id):
            raise InputError("callback: endpoint %r has id %r; Invalid format for callbackId: expected a 24-hex-character ObjectId."
                             % (value, callback_id))
        return callback_id, None
    message = "callback: no callback endpoint is named %r" % value
    if check_mode:
        return None, message + "; check mode assumes it will exist"
    raise InputError(message + " (and it is not a 24-hex callbackId either)")


def _diff_view(sensor):
    keys = ("sensorName", "sensorType", "sensorConfig", "priority", "callbackId", "incrementalScan",
            "autoResolutionInterval", "labels")
    return dict((key, sensor[key]) for key in keys if key in sensor)


def ensure_sensor(adapter, desired, params, check_mode, progress=None):
    """Converge one sensor. Returns ``(result, warnings)``.

    ``progress`` (a dict) is kept up to date with the sensor as found or created, for a failed
    result to say where the run stopped.
    """
    progress = {} if progress is None else progress
    warnings = []
    name = desired["sensorName"]
    matches = find_sensors(adapter, name)
    if len(matches) > 1:
        raise InputError("name: %d sensors are named %r (ids %s); remove the duplicates first"
                         % (len(matches), name, ", ".join(str(m.get("sensorId")) for m in matches)))
    current = matches[0] if matches else None
    result = {"changed": False, "sensor": mask_sensor(current), "sensor_id": current.get("sensorId") if current else None,
              "execution_id": None}
    progress.update(sensor=result["sensor"], sensor_id=result["sensor_id"], execution_id=None)

    if params.get("state") == "absent":
        result["diff"] = {"before": mask_sensor(_diff_view(current)) if current else {}, "after": {}}
        if current is None:
            return result, warnings
        result["changed"] = True
        if not check_mode:
            adapter.delete_sensor(current["sensorId"])
        result["sensor"] = None
        return result, warnings

    # Type and config checks that need the existing sensor (still before any write).
    if current is not None and "sensorType" in desired:
        if str(current.get("sensorType", "")).lower() != desired["sensorType"].lower():
            raise InputError("sensor_type: sensor %r is a %s and a sensor's type can't change; remove it (state=absent) and create it again"
                             % (name, current.get("sensorType")))
    if current is None:
        if "sensorType" not in desired:
            raise InputError("sensor_type: Missing required field: sensorType. (needed to create sensor %r)" % name)
        if "sensorConfig" not in desired:
            raise InputError("config: Missing required field: sensorConfig. (needed to create sensor %r)" % name)

    callback_id = None
    if "callback" in desired:
        callback_id, warning = resolve_callback(adapter, desired["callback"], check_mode)
        if warning:
            warnings.append(warning)
    wanted = dict((k, v) for k, v in desired.items() if k != "callback")
    if "callback" in desired:
        wanted["callbackId"] = callback_id or "(%s, not created yet)" % desired["callback"]

    if current is None:
        body = dict(wanted)
        _check_whole_config(body["sensorType"], body["sensorConfig"], params)
        result.update(changed=True, diff={"before": {}, "after": mask_sensor(_diff_view(_with_label_list(body)))})
        if check_mode:
            result["sensor"] = mask_sensor(_with_label_list(body))
            return result, warnings
        try:
            answer = adapter.create_sensor_and_scan(
                body["sensorType"], name, body["sensorConfig"], priority=body.get("priority"), callback_id=callback_id,
                incremental_scan=body.get("incrementalScan"), auto_resolution_interval=body.get("autoResolutionInterval"),
                labels=body.get("labels"))
        except ScanopsApiError as err:
            if err.may_have_acted:
                err.note = _created_note(adapter, name)
            raise
        answer = answer or {}
        sensor_id = answer.get("sensorId")
        result.update(sensor_id=sensor_id, execution_id=answer.get("executionId"))
        progress.update(sensor_id=sensor_id, execution_id=answer.get("executionId"))
        sensor = None
        if sensor_id:
            try:
                sensor = adapter.get_sensor(sensor_id)
            except ScanopsError as err:
                warnings.append("sensor %r was created (id %s) but reading it back failed: %s" % (name, sensor_id, err.message))
        if not isinstance(sensor, dict):
            sensor = dict(_with_label_list(body), sensorId=sensor_id, lastExecutionId=answer.get("executionId"))
        result["sensor"] = mask_sensor(sensor)
        return result, warnings

    # Update: compare only what the user set.
    changes = {}
    for field in ("priority", "callbackId", "incrementalScan", "autoResolutionInterval"):
        if field in wanted and wanted[field] != current.get(field):
            changes[field] = wanted[field]
    if "labels" in wanted and wanted["labels"] != labels_dict(current.get("labels")):
        changes["labels"] = wanted["labels"]
    sent_secrets = []
    if "sensorConfig" in wanted:
        config, sent_secrets = plan_config(wanted["sensorConfig"], current.get("sensorConfig"),
                                           purge=bool(params.get("purge_config")), update_secrets=params.get("update_secrets"))
        if config is not None:
            kept = [] if params.get("purge_config") else sorted(set(config) - set(wanted["sensorConfig"]))
            _check_whole_config(current.get("sensorType"), config, params, kept)
            changes["sensorConfig"] = config
    if not changes:
        return result, warnings
    before = _diff_view(mask_sensor(current))
    after_raw = dict(_diff_view(current))
    after_raw.update(_with_label_list(changes))
    after = mask_sensor(after_raw)
    stored_config = current.get("sensorConfig")
    if sent_secrets and isinstance(stored_config, dict):
        # A stored secret that is replaced can't be read; say so rather than show two equal masks.
        before["sensorConfig"] = dict(before["sensorConfig"], **dict((key, UNKNOWN_SECRET) for key in sent_secrets
                                                                     if key in stored_config))
    result.update(changed=True, diff={"before": before, "after": after})
    if check_mode:
        merged = dict(current)
        merged.update(_with_label_list(changes))
        result["sensor"] = mask_sensor(merged)
        return result, warnings
    updated = adapter.update_sensor(current["sensorId"], **changes)
    if not isinstance(updated, dict) or "sensorId" not in updated:
        updated = dict(current)
        updated.update(_with_label_list(changes))
    result["sensor"] = mask_sensor(updated)
    return result, warnings


def _check_whole_config(sensor_type, config, params, kept=()):
    """Check the config about to be sent against its type's schema (all keys, cross-field rules too)."""
    if not params.get("validate_config", True) or sensor_schemas.canonical_type(sensor_type) is None:
        return
    try:
        validate_config(sensor_type, config)
    except InputError as err:
        if not kept:
            raise
        raise InputError("%s (checked on config merged into the platform's, which keeps %s; purge_config=true replaces the stored config)"
                         % (err.message, ", ".join(kept)))


def _with_label_list(fields):
    fields = dict(fields)
    if isinstance(fields.get("labels"), dict):
        fields["labels"] = [{key: value} for key, value in sorted(fields["labels"].items())]
    return fields


def _created_note(adapter, name):
    try:
        found = find_sensors(adapter, name)
    except ScanopsError:
        return "the request may have reached the platform; re-run to converge (the module looks the sensor up by name first)"
    if found:
        return "the platform did create sensor %r (id %s); re-run to converge" % (name, found[0].get("sensorId"))
    return "the platform shows no sensor %r; it is safe to re-run" % name


def list_sensors(adapter, name=None):
    """Sensors (secrets masked), optionally only the one with this exact name."""
    sensors = adapter.list_sensors(name=name)
    if name is not None:
        sensors = [sensor for sensor in sensors if sensor.get("sensorName") == name]
    return [mask_sensor(sensor) for sensor in sensors]


# ---------------------------------------------------------------------------------- module entry points
# scan_sensor's result keys in a run that failed before it found (or created) the sensor.
SENSOR_NOT_REACHED = {"sensor": None, "sensor_id": None, "execution_id": None}


def _require_agilesec(module, result=None):
    if module.params.get("provider") != "agilesec":
        module.fail_json(msg="provider: scan sensors exist only on AgileSec (provider=agilesec), not %s" % module.params.get("provider"),
                         **(result or {}))


def run_scan_sensor(module, **client_options):
    """Main of ``scan_sensor``."""
    register_config_secrets(module)
    # What a failed result says about the sensor until the run finds (or creates) it.
    progress = dict(SENSOR_NOT_REACHED)
    _require_agilesec(module, progress)
    params = module.params
    try:
        desired, warnings = validate_sensor_params(params)
    except MissingLibrary as err:
        cause = getattr(err, "import_error", None) or err
        module.fail_json(msg=err.message, exception="".join(traceback.format_exception(
            type(cause), cause, cause.__traceback__)), **progress)
    except InputError as err:
        module.fail_json(msg=err.message, changed=False, **progress)
    for warning in warnings:
        module.warn(warning)
    action = "Remove sensor" if params["state"] == "absent" else "Ensure sensor"
    with module_adapter(module, action, repr(params["name"]), input_errors=(InputError,), partial=progress, **client_options) as adapter:
        for value in secret_values(params.get("config")):
            adapter.client.add_secret(value)
        try:
            result, warnings = ensure_sensor(adapter, desired, params, module.check_mode, progress)
        except MissingLibrary as err:
            # Neither bad input nor the platform's answer: the message alone, like the check before the adapter.
            module.fail_json(msg=err.message, api_calls=adapter.client.stats, **progress)
        result["api_calls"] = adapter.client.stats
    for warning in warnings:
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


def run_scan_sensor_info(module, **client_options):
    """Main of ``scan_sensor_info``."""
    _require_agilesec(module)
    with module_adapter(module, "List sensors", **client_options) as adapter:
        sensors = list_sensors(adapter, module.params.get("name"))
        module.exit_json(changed=False, sensors=sensors, api_calls=adapter.client.stats)
