#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: scan_sensor
short_description: Manage Keyfactor AgileSec scan sensors as code
version_added: 0.1.0
description:
  - Creates, updates or removes an AgileSec scan sensor, found by its name.
  - A sensor is created with the documented C(POST /v3/scan/create) call, which also starts its first scan;
    the module returns that execution's id.
  - "B(Assumed API): AgileSec documents no call to list, change or delete a sensor. Finding a sensor by name
    (C(GET /v3/sensors)), updating it (C(PUT /v3/sensors/{sensorId})) and removing it (C(DELETE /v3/sensors/{sensorId}))
    use the endpoints described in the collection's C(docs/assumptions.md)."
  - O(config) is checked before anything is sent against the JSON Schema of a known sensor type; errors name the
    field, for example C(config.repositoryUrl). An unknown sensor type is sent unchecked, with a warning.
  - Only the options that are set are compared and sent.
extends_documentation_fragment:
  - scanops.security.scanops
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  action_group:
    support: full
    membership: [scanops.security.scanops]
  check_mode:
    support: full
    description: Every read is done, no write; C(changed) is what a real run would report.
  diff_mode:
    support: full
    description: Before and after in the platform's field names. A secret in O(config) that is sent is shown as
      C(********) on the after side; on the before side a stored secret the run replaces shows as
      C((write-only, unknown)), because the platform never returns it, and one that is kept shows as C(********).
options:
  provider:
    description:
      - Sensors exist only on AgileSec, so only V(agilesec) is accepted.
    type: str
    required: true
    choices: [agilesec]
  name:
    description:
      - The sensor's name (C(sensorName)), its natural key, at most 200 characters (the limit the AgileSec page gives
        for callback endpoint names, assumed for sensors).
    type: str
    required: true
  sensor_type:
    description:
      - The sensor type (C(sensorType)), for example C(GIT Sensor), C(Artifactory Sensor), C(GitHub Sensor),
        C(GitLab Sensor), C(Qualys Sensor), C(CipherInsights Sensor) or C(Keyfactor Command Sensor)
        (any case). Other types are sent as given, with a warning.
      - Required to create a sensor. A sensor's type can't change.
    type: str
  config:
    description:
      - The sensor-specific configuration (C(sensorConfig)), required to create a sensor.
      - "Checked against the collection's schema for the type (the keys are an assumption, the vendor publishes
        none; see C(docs/assumptions.md)). C(GIT Sensor): C(repositoryUrl) (https), C(branches),
        C(username) with C(password), or C(token), C(incremental). C(Artifactory Sensor): C(url), C(repositories),
        C(username) with C(password), C(token) or C(apiKey). C(GitHub Sensor): C(organization), C(token), C(apiUrl),
        C(repositories), C(branches). C(GitLab Sensor): C(url), C(token), C(groups), C(projects), C(branches).
        C(Qualys Sensor): C(apiUrl), C(username), C(password). C(CipherInsights Sensor): C(url), C(apiKey).
        C(Keyfactor Command Sensor): C(url), C(username), C(password), C(domain)."
      - Values under keys that look secret (C(password), C(token), C(apiKey), C(secret), C(privateKey) and look-alikes
        such as C(accessToken)) are hidden from logs, results and diffs, and never compared; see O(update_secrets).
      - "O(config) is merged into the platform's C(sensorConfig): keys left out here keep their stored values (stored
        secrets included), nested dictionaries key by key. Only the keys set here are compared; when one differs, the
        merged configuration is sent, with the secret values set here. With O(purge_config=true) O(config) is the whole
        configuration instead."
      - The merged (or, with O(purge_config), the given) configuration must pass the schema of the type before it is sent;
        a merge that combines a stored key with a new one the schema forbids together (a stored C(token) with a new
        C(password)) fails and says O(purge_config) replaces the stored configuration.
    type: dict
  purge_config:
    description:
      - V(true) makes O(config) the whole configuration; keys on the platform that are not in O(config) are removed,
        and finding such a key is a change. Secret keys count by presence (their values can't be read).
      - V(false) keeps the keys O(config) leaves out.
    type: bool
    default: false
  validate_config:
    description:
      - Check O(config) against the collection's schema before sending it. Turn off when the platform
        accepts keys the schema does not know.
    type: bool
    default: true
  priority:
    description:
      - Scan priority. The platform uses V(low) when it is not set.
    type: str
    choices: [low, medium, high]
  callback:
    description:
      - The callback endpoint the platform calls when a scan of this sensor ends, by name or by its
        24-hex Callback ID (see M(scanops.security.callback_endpoint)).
      - A 24-hex value is the Callback ID (the documented format the UI copies) and is sent as is; the platform answers
        C(callbackId not found.) when it does not exist. B(Assumed API:) a name is looked up with
        C(GET /v3/callback-endpoints?name=) (see C(docs/assumptions.md)).
    type: str
  incremental_scan:
    description:
      - Scan only what changed since the last scan. The platform default is V(false).
    type: bool
  auto_resolution_interval:
    description:
      - Days after which findings that are no longer seen are resolved (1 to 36500). The platform default applies when not set.
    type: int
  labels:
    description:
      - Labels saved with the sensor and returned with its scans and callbacks, as a dictionary.
        They are sent as the documented list of single-pair objects; their order does not matter.
      - Values are sent as strings.
    type: dict
  update_secrets:
    description:
      - The secret values in O(config) can't be read back, so they are never compared; a secret key the platform does
        not hold at all is a difference, though. V(on_create) sends them when the sensor is created or when the
        configuration is sent anyway (another key differs); V(always) sends the configuration on every run and so always
        reports a change.
    type: str
    choices: [always, on_create]
    default: on_create
  state:
    description:
      - V(present) creates or updates the sensor, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Creating a sensor starts a scan; an update does not. Use M(scanops.security.scan_run) to run an existing sensor.
  - Part of the C(scanops.security.scanops) action group.
requirements:
  - jsonschema (to check O(config) of a known sensor type)
seealso:
  - module: scanops.security.scan_sensor_info
  - module: scanops.security.callback_endpoint
author:
  - scanops engineering (@scanops)
'''

EXAMPLES = r'''
- name: Git sensor for the settlement worker, reporting to the registered callback endpoint
  scanops.security.scan_sensor:
    provider: agilesec
    name: payments-worker-git
    sensor_type: GIT Sensor
    config:
      repositoryUrl: https://git.acme.example/payments/payments-worker.git
      branches: [main, release]
      username: scanner
      password: "{{ vault_git_password }}"
    priority: high
    callback: scanops-results
    labels:
      team: payments
      env: prod
  register: sensor

- name: The scan that creating the sensor started
  ansible.builtin.debug:
    msg: "{{ sensor.execution_id }}"
  when: sensor.execution_id is not none

- name: Scan one more branch; the stored URL and credentials are kept
  scanops.security.scan_sensor:
    provider: agilesec
    name: payments-worker-git
    config:
      branches: [main, release, develop]

- name: Switch to a token (config is the whole configuration) and re-send it on every run, after a rotation
  scanops.security.scan_sensor:
    provider: agilesec
    name: payments-worker-git
    config:
      repositoryUrl: https://git.acme.example/payments/payments-worker.git
      token: "{{ vault_git_token }}"
    purge_config: true
    update_secrets: always

- name: Remove the sensor
  scanops.security.scan_sensor:
    provider: agilesec
    name: payments-worker-git
    state: absent
'''

RETURN = r'''
sensor:
  description:
    - The sensor as the platform describes it, secrets in C(sensorConfig) shown as C(********). Null once removed
      (in check mode, when it would be), and when it does not exist.
    - In check mode, the sensor as it would be.
    - In a failed result, the sensor as the run last saw it (found, or created before a later step failed); null when
      the run failed before it looked the sensor up.
  returned: always
  type: dict
  sample:
    sensorId: 65f1c2a9e8d7b6a5f4e3d2c2
    sensorName: payments-api-git
    sensorType: GIT Sensor
    sensorConfig:
      repositoryUrl: https://git.example.com/payments/api.git
      branches: [main, release]
      username: scanner
      password: "********"
    priority: high
    callbackId: 65f1c2a9e8d7b6a5f4e3d2c1
    incrementalScan: false
    labels: [{env: prod}, {team: payments}]
sensor_id:
  description:
    - The sensor's id; null when there is no such sensor (about to be created in check mode, or O(state=absent) and
      already gone).
    - After a removal (in check mode, one that would be done), the id the removed sensor had.
    - In a failed result, the id as far as the run got; null when it failed before it found or created the sensor.
  returned: always
  type: str
  sample: 65f1c2a9e8d7b6a5f4e3d2c2
execution_id:
  description: The scan started by creating the sensor; null when the sensor was not created by this run (also in a
    failed result where the create was not answered).
  returned: always
  type: str
  sample: 65f1c2a9e8d7b6a5f4e3d2c3
api_calls:
  description:
    - HTTP requests this run sent to the platform, in C(total), per method, and C(retries) (the repeats of a request
      after a server error, a rate limit or a lost connection, counted in C(total) too).
    - In a failed result too, the failed requests included; C(total) is 0 when the options were refused before any request.
  returned: always
  type: dict
  sample: {total: 3, GET: 2, POST: 1, retries: 0}
error:
  description:
    - The request that failed, as the platform answered it (or why no answer came). Request headers and credentials
      are never in it, and the vendor's message and details have secrets removed.
    - The same in every module of the collection.
  returned: when a request to the platform failed
  type: dict
  contains:
    provider:
      description: The provider id.
      type: str
    status:
      description: The HTTP status; null when no answer arrived (connection refused or dropped, time-out).
      type: int
    code:
      description: The vendor's error code (C(not_found), C(RATE_LIMITED)...), or the kind of transport failure
        (C(ConnectError), C(ReadTimeout)...); null when the vendor sends none.
      type: str
    message:
      description: The vendor's message.
      type: str
    method:
      description: The HTTP method of the failed request.
      type: str
    path:
      description: The path of the failed request, without the query string.
      type: str
    retry_after:
      description: Seconds the platform asked to wait before trying again; null when it did not say.
      type: float
    details:
      description: The vendor's structured details (CloudGeni's C(existingScanId), for example); null when there are none.
      type: dict
    may_have_acted:
      description: True when the request reached the platform and may have taken effect although it failed (a create that
        timed out or got a server error); the module then looks for what it may have created before sending it again.
      type: bool
    undocumented:
      description: What the vendor's pages do not document and the platform refused, the call (C(GET /v3/sensors)) or
        a part of it (C(PUT /api/vulnerabilities/{vulnId}/triage with the body field status)).
      returned: when the platform refused a call, a field or a value the collection assumes
      type: str
    assumption:
      description: "Where the collection writes that assumption down, C(<provider>: <row>) of C(docs/assumptions.md),
        for example C(HarborGuard: Triage request body)."
      returned: when the platform refused a call, a field or a value the collection assumes
      type: str
  sample: {"provider": "harborguard", "status": 401, "code": "UNAUTHORIZED", "message": "Authentication required",
           "method": "GET", "path": "/api/scans", "retry_after": null, "details": null, "may_have_acted": false}
'''

from ansible_collections.scanops.security.plugins.module_utils.common import scanops_argument_spec
from ansible_collections.scanops.security.plugins.module_utils.sensors import SENSOR_NOT_REACHED, SensorModule, run_scan_sensor


def main():
    argument_spec = scanops_argument_spec()
    argument_spec["provider"] = dict(argument_spec["provider"], choices=["agilesec"])
    argument_spec.update(
        name=dict(type="str", required=True),
        sensor_type=dict(type="str"),
        config=dict(type="dict"),
        validate_config=dict(type="bool", default=True),
        purge_config=dict(type="bool", default=False),
        priority=dict(type="str", choices=["low", "medium", "high"]),
        callback=dict(type="str"),
        incremental_scan=dict(type="bool"),
        auto_resolution_interval=dict(type="int"),
        labels=dict(type="dict"),
        update_secrets=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    # SensorModule registers the secret values inside config as no_log values before logging.
    module = SensorModule(argument_spec=argument_spec, supports_check_mode=True, failure_defaults=SENSOR_NOT_REACHED)
    run_scan_sensor(module)


if __name__ == "__main__":
    main()
