# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Admin API under /_emulator/: reset, seed, config, faults, request log, deliveries.

No vendor has this; it is how tests drive the emulator. Reference: docs/emulator.md.
"""

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from . import ADMIN_PREFIX, VENDORS
from .common import json_response
from .faults import FAULT_KINDS

router = APIRouter(prefix=ADMIN_PREFIX)


class AdminError(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status
        self.message = message


def emulator_of(request):
    return request.app.state.emulator


async def body_of(request, default=None):
    raw = await request.body()
    if not raw.strip():
        return {} if default is None else default
    try:
        return json.loads(raw)
    except ValueError:
        raise AdminError("request body is not JSON") from None


def check_vendor(vendor):
    if vendor not in VENDORS:
        raise AdminError("unknown vendor %r (one of %s)" % (vendor, ", ".join(VENDORS)), 404)


@router.get("/health")
async def health(request: Request):
    emulator = emulator_of(request)
    return json_response({"status": "ok", "profile": emulator.profile, "seed": emulator.seed, "vendors": list(VENDORS),
                          "documented_only": emulator.documented_only})


@router.post("/reset")
async def reset(request: Request):
    body = await body_of(request)
    try:
        emulator_of(request).reset(seed=body.get("seed"), profile=body.get("profile"))
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    emulator = emulator_of(request)
    return json_response({"status": "reset", "profile": emulator.profile, "seed": emulator.seed})


@router.get("/config")
async def get_all_config(request: Request):
    emulator = emulator_of(request)
    body = {vendor: emulator.describe_config(vendor) for vendor in VENDORS}
    body.update({"profile": emulator.profile, "seed": emulator.seed, "delivery_retry_delays": emulator.config["delivery_retry_delays"]})
    return json_response(body)


@router.get("/config/{vendor}")
async def get_config(vendor: str, request: Request):
    check_vendor(vendor)
    return json_response(emulator_of(request).describe_config(vendor))


@router.api_route("/config/{vendor}", methods=["PATCH", "PUT"])
async def update_config(vendor: str, request: Request):
    emulator = emulator_of(request)
    if vendor == "global":
        body = await body_of(request)
        if "delivery_retry_delays" in body:
            emulator.config["delivery_retry_delays"] = [float(delay) for delay in body["delivery_retry_delays"]]
        return json_response({"delivery_retry_delays": emulator.config["delivery_retry_delays"]})
    check_vendor(vendor)
    body = await body_of(request)
    if not isinstance(body, dict):
        raise AdminError("config changes must be a JSON object")
    try:
        return json_response(emulator.update_config(vendor, body))
    except (ValueError, TypeError, KeyError) as exc:
        raise AdminError(str(exc)) from None


@router.post("/seed")
async def seed(request: Request):
    """Body: one object or a list of ``{"vendor", "kind", ...spec}``; answers what was created."""
    emulator = emulator_of(request)
    body = await body_of(request)
    created = []
    for spec in body if isinstance(body, list) else [body]:
        spec = dict(spec)
        vendor = spec.pop("vendor", None)
        kind = spec.pop("kind", None)
        check_vendor(vendor)
        try:
            created.append({"vendor": vendor, "kind": kind, "object": emulator.vendors[vendor].seed(kind, spec)})
        except (ValueError, TypeError, KeyError) as exc:
            raise AdminError("%s %s: %s" % (vendor, kind, exc)) from None
    return json_response({"created": created}, status=201)


@router.get("/faults")
async def list_faults(request: Request):
    return json_response({"faults": emulator_of(request).faults, "kinds": list(FAULT_KINDS)})


@router.post("/faults")
async def add_faults(request: Request):
    emulator = emulator_of(request)
    body = await body_of(request)
    added = []
    for spec in body if isinstance(body, list) else [body]:
        try:
            fault = emulator.fault_registry.validate(spec)
        except (ValueError, TypeError) as exc:
            raise AdminError(str(exc)) from None
        fault["id"] = next(emulator.fault_seq)
        emulator.faults.append(fault)
        added.append(fault)
    return json_response({"faults": added}, status=201)


@router.delete("/faults")
async def clear_faults(request: Request):
    emulator_of(request).faults.clear()
    return Response(status_code=204)


@router.delete("/faults/{fault_id}")
async def delete_fault(fault_id: int, request: Request):
    emulator = emulator_of(request)
    before = len(emulator.faults)
    emulator.faults[:] = [fault for fault in emulator.faults if fault["id"] != fault_id]
    if len(emulator.faults) == before:
        raise AdminError("no fault %d" % fault_id, 404)
    return Response(status_code=204)


@router.get("/requests")
async def read_requests(request: Request):
    query = request.query_params
    since = int(query.get("since_id", "0") or 0)
    return json_response(emulator_of(request).read_requests(query.get("vendor"), query.get("method"), query.get("path"), since))


@router.delete("/requests")
async def clear_requests(request: Request):
    emulator = emulator_of(request)
    emulator.request_log.clear()
    emulator.request_counters.clear()
    return Response(status_code=204)


@router.get("/deliveries")
async def read_deliveries(request: Request):
    items = emulator_of(request).read_deliveries(request.query_params.get("vendor"), request.query_params.get("kind"))
    return json_response({"items": items, "total": len(items)})


@router.delete("/deliveries")
async def clear_deliveries(request: Request):
    emulator_of(request).deliveries.clear()
    return Response(status_code=204)


@router.get("/state/{vendor}")
async def vendor_state(vendor: str, request: Request):
    """A read-only summary of what a vendor store holds (counts and ids), for debugging tests."""
    check_vendor(vendor)
    emulator = emulator_of(request)
    emulator.tick()
    return json_response(emulator.vendors[vendor].describe_state())


@router.post("/harborguard/webhooks")
async def add_harborguard_webhook(request: Request):
    """HarborGuard webhooks are configured in its UI; tests register them here."""
    body = await body_of(request)
    try:
        hook = emulator_of(request).vendors["harborguard"].add_webhook(body)
    except (ValueError, TypeError) as exc:
        raise AdminError(str(exc)) from None
    return json_response(hook, status=201)


@router.get("/harborguard/webhooks")
async def list_harborguard_webhooks(request: Request):
    hooks = emulator_of(request).vendors["harborguard"].webhooks
    return json_response({"items": [dict(hook, secret="<redacted>") for hook in hooks.values()]})


@router.delete("/harborguard/webhooks/{hook_id}")
async def delete_harborguard_webhook(hook_id: str, request: Request):
    hooks = emulator_of(request).vendors["harborguard"].webhooks
    if hooks.pop(hook_id, None) is None:
        raise AdminError("no webhook %s" % hook_id, 404)
    return Response(status_code=204)
