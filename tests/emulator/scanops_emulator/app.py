# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builds the ASGI application: five vendor routers, the admin router, error handlers, faults."""

import asyncio
import contextlib

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import request_validation_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import admin, agilesec, agilesec_search, cloudgeni, harborguard, kolega, penaxtra
from .common import VendorError, json_response
from .documented import DocumentedOnly, not_found_body
from .faults import EmulatorMiddleware, vendor_of
from .store import Emulator


def create_app(profile="test", seed=0, documented_only=False):
    """Answer ``(asgi_app, emulator)``; serve ``asgi_app`` (the fault middleware wraps FastAPI).

    ``documented_only`` serves only what the vendor pages document (see documented.py).
    """
    emulator = Emulator(profile=profile, seed=seed, documented_only=documented_only)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        ticker = asyncio.get_running_loop().create_task(emulator.ticker())
        try:
            yield
        finally:
            ticker.cancel()
            await emulator.close()

    api = FastAPI(title="scanops vendor API emulator", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    api.state.emulator = emulator

    @api.exception_handler(VendorError)
    async def vendor_error_handler(request: Request, exc: VendorError):
        headers = dict(getattr(request.state, "extra_headers", None) or {})
        headers.update(exc.headers)
        return json_response(exc.body, status=exc.status, headers=headers)

    @api.exception_handler(admin.AdminError)
    async def admin_error_handler(_request: Request, exc: admin.AdminError):
        return json_response({"error": exc.message}, status=exc.status)

    @api.exception_handler(StarletteHTTPException)
    async def http_error_handler(request: Request, exc: StarletteHTTPException):
        vendor = vendor_of(request.url.path)
        return json_response(not_found_body(vendor, exc.status_code), status=exc.status_code)

    @api.exception_handler(RequestValidationError)
    async def validation_error_handler(request: Request, exc: RequestValidationError):
        # Only Kolega (a FastAPI service) declares typed parameters; its 422 is FastAPI's own.
        return await request_validation_exception_handler(request, exc)

    # The search router first: its catch-all must see /agilesec/searchdb/... before the Scan API's 404.
    routers = [module.router for module in (agilesec_search, cloudgeni, kolega, agilesec, harborguard, penaxtra, admin)]
    for router in routers:
        api.include_router(router)
    # The routes in the order FastAPI tries them, for the middleware to name a request's endpoint itself.
    routes = [route for router in routers for route in router.routes]
    return EmulatorMiddleware(DocumentedOnly(api, lambda: emulator), lambda: emulator, routes=routes), emulator
