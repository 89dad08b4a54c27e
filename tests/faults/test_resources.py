# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults against the resource modules: callback_endpoint (AgileSec, CloudGeni) and scan_sensor (AgileSec).

A create that is dropped, times out or gets a 5xx may or may not have reached the server; the
module must look before it sends again, so over the fault run and the re-run the server acts on
at most one create request.
"""

import pytest

from fault_harness import ABSORBED, CREATE_AND_READ_FAULTS, assert_outcomes, faults_for, require_module

FAULTS = CREATE_AND_READ_FAULTS + [("slow", "any")]


def callback_args(runner, provider):
    receiver = runner.emulator.url + "/_emulator/health"
    if provider == "agilesec":
        return runner.connection(provider, name="fault-callback", url=receiver, auth_type="api_token", header_name="X-Fault-Token",
                                 token=runner.new_secret("callback_token"))
    return runner.connection(provider, url=receiver, token=runner.new_secret("webhook_secret"))


def sensor_args(runner, provider):
    return runner.connection(provider, name="fault-sensor", sensor_type="GIT Sensor", priority="low",
                             config={"repositoryUrl": "https://github.com/acme/fault-sensor.git", "username": "ci",
                                     "password": runner.new_secret("sensor_password")})


# One entry per (module, provider) whose task creates something: the create request, and the
# module arguments that create one object and find it unchanged on the next run; another resource
# module is one more entry. (finding_fix has its own cases in test_fixes.py: two writes per run.)
RESOURCES = {
    ("callback_endpoint", "agilesec"): (("POST", "/v3/callback-endpoints"), callback_args),
    ("callback_endpoint", "cloudgeni"): (("POST", "*/webhooks"), callback_args),
    ("scan_sensor", "agilesec"): (("POST", "/v3/scan/create"), sensor_args),
}
MODULES = sorted(set(module for module, _provider in RESOURCES))
# callback_endpoint gets every fault; the other modules read through the same client, so they get
# every fault on their create request and the read faults that end differently (a 5xx burst,
# malformed JSON).
CREATE_FAULTS = [fault for fault in FAULTS if fault[1] == "create" or fault[0] in ("5xx_burst", "malformed_json")]
CASES = [(module,) + fault for module in MODULES for fault in (FAULTS if module == "callback_endpoint" else CREATE_FAULTS)]


@pytest.mark.parametrize("module,kind,where", CASES, ids=["%s-%s-%s" % case for case in CASES])
def test_resource_module_under_fault(fault_runner, module, kind, where):
    require_module(module)
    fault_runner.emulator.reset()
    providers = [provider for (name, provider) in RESOURCES if name == module]

    def one(provider):
        create, make_args = RESOURCES[(module, provider)]
        return fault_runner.case(
            module, provider, "%s/%s" % (kind, where), faults_for(kind, where, provider, create), make_args(fault_runner, provider),
            create=create, max_creates=1, min_creates=1, first_must_converge=(kind, where) in ABSORBED)

    assert_outcomes(fault_runner.run_providers(one, providers))
