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


def create_app(profile="test", seed=0, documented_only=False, path_prefix=""):
    """Answer ``(asgi_app, emulator)``; serve ``asgi_app`` (the fault middleware wraps FastAPI).

    ``documented_only`` serves only what the vendor pages document (see documented.py).
    ``path_prefix`` (``/gateway/scanops``) serves everything below that path, as behind a gateway
    that strips it; other paths answer 404.
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
    app = EmulatorMiddleware(DocumentedOnly(api, lambda: emulator), lambda: emulator, routes=routes)
    if path_prefix:
        app = PathPrefix(app, path_prefix)
    return app, emulator


class PathPrefix:
    """Serve an ASGI app below ``prefix``: strip it from the path, answer 404 outside it."""

    def __init__(self, app, prefix):
        self.app = app
        self.prefix = "/" + prefix.strip("/")

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"error": "not below the path prefix"}'})
            return
        inner = dict(scope, path=path[len(self.prefix):] or "/", root_path=scope.get("root_path", "") + self.prefix)
        if "raw_path" in scope and scope["raw_path"] is not None:
            inner["raw_path"] = scope["raw_path"][len(self.prefix.encode("utf-8")):] or b"/"
        await self.app(inner, receive, send)
