"""The ASGI application: ``create_app(settings)``.

Routers, one per domain, mount under ``/api/v1``; the operator console is served
at ``/``; ``/openapi.json`` describes every endpoint; ``/healthz`` answers
without authentication (load balancers).
"""
import os
import re

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import text

from cloud import bootstrap, overload
from cloud.db import open_database
from cloud.settings import Settings
from cloud.tenants.activation import Throttle

CONSOLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "console")
BACKOFFICE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "backoffice", "page")
STOCK_PAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog", "page")
MARKETING_PAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "marketing", "page")
VERSION = "0.1.0"
SERVED_BY = "%s-%d" % (os.uname().nodename[:32], os.getpid())


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413, by Content-Length and while it streams;
    paths matching `large_paths` may carry up to `large_limit` (artifact uploads)."""

    def __init__(self, app, limit, large_limit=0, large_paths=None):
        self.app, self.small_limit, self.large_limit, self.large_paths = app, limit, large_limit, large_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        large = self.large_paths is not None and self.large_paths.match(scope.get("path", ""))
        limit = self.large_limit if large else self.small_limit
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    n = int(value)
                except ValueError:
                    n = -1
                if n < 0 or n > limit:
                    return await _refuse(send, 413 if n > limit else 400,
                                         "request body too large (limit %d bytes)" % limit
                                         if n > limit else "bad Content-Length")
        seen = 0

        async def counted():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return msg
        try:
            return await self.app(scope, counted, send)
        except _TooLarge:
            return await _refuse(send, 413, "request body too large (limit %d bytes)" % limit)


class SecurityHeaders:
    """Headers every answer carries (unless the route set its own), and the worker that served it.
    A plain ASGI middleware: the decorator form (BaseHTTPMiddleware) runs each request in a task
    of its own and streams its body through a queue, a cost on every request under load."""
    DEFAULTS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"no-referrer"))

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-served-by"]
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.DEFAULTS if k not in have]
                headers.append((b"x-served-by", SERVED_BY.encode()))
                message = dict(message, headers=headers)
            await send(message)
        await self.app(scope, receive, sending)


class _TooLarge(Exception):
    pass


async def _refuse(send, status, message):
    body = ('{"detail": "%s"}' % message).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings=None):
    settings = (settings or Settings()).check()
    engine, sessionmaker = open_database(settings.resolved_database_url(), pool_size=settings.db_pool_size,
                                         pool_overflow=settings.db_pool_overflow, pool_wait_s=settings.db_wait_s)
    from fastapi import Depends
    from cloud.deps import describe_nul_free, no_nul_text
    app = FastAPI(title="smartpos cloud", version=VERSION, dependencies=[Depends(no_nul_text)],
                  responses=overload.DESCRIBED,
                  description="Terminal management, app store and back office of smartpos terminals.")
    overload.install(app, settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.enroll_throttle = Throttle()
    app.state.bootstrap = bootstrap.ensure_operator(sessionmaker, settings)
    app.state.waker = None
    if settings.mqtt_url:
        from cloud.push import Waker
        app.state.waker = Waker(settings.mqtt_url)

    from cloud.accounts.router import router as accounts
    from cloud.audit.router import router as audit
    from cloud.tenants.router import router as tenants
    from cloud.tms.ddi import router as ddi
    from cloud.tms.manage import router as tms
    from cloud.tms.parameters import router as parameters
    from cloud.tms.keyvault import router as keyvault
    from cloud.tms.rollouts import router as rollouts
    from cloud.tms.diagnostics import device as diag_device, router as diagnostics
    from cloud.sales.ingest import device as sales_device
    from cloud.sales.router import router as sales
    from cloud.tms.storage import ArtifactStore
    from cloud.insights.router import device as insights_device, router as insights
    from cloud.backoffice.router import router as backoffice
    from cloud.catalog.router import device as catalog_device, router as catalog
    from cloud.appstore.router import device as appstore_device, page as store_page, router as appstore
    from cloud.appstore.mip import router as mip_index
    from cloud.members.router import device as members_device, router as members
    from cloud.marketing.router import device as marketing_device, router as marketing
    from cloud.promotions.router import device as coupons_device, router as promotions
    from cloud.giftcards.router import device as giftcards_device, router as giftcards
    from cloud.members.wallet import device as wallet_device, router as wallet
    app.state.artifacts = ArtifactStore(settings.data_dir)
    for r in (accounts, tenants, audit, tms, parameters, keyvault, rollouts, diagnostics, diag_device, sales,
              sales_device, insights, insights_device, backoffice, catalog, catalog_device,
              appstore, appstore_device, store_page, mip_index, members, members_device, marketing,
              marketing_device, promotions, coupons_device, giftcards, giftcards_device, wallet,
              wallet_device, ddi):
        app.include_router(r)

    @app.get("/healthz", tags=["service"])
    def healthz():
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        return {"status": "ok", "database": engine.dialect.name, "version": VERSION, "ddi_poll_s": settings.ddi_poll_s}

    @app.get("/", include_in_schema=False)
    def console():
        return FileResponse(os.path.join(CONSOLE, "index.html"), headers={"Cache-Control": "no-store"})

    @app.get("/console/{name}", include_in_schema=False)
    def console_file(name: str):
        if name not in ("console.js", "console.css"):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return FileResponse(os.path.join(CONSOLE, name), headers={"Cache-Control": "no-store"})

    @app.get("/backoffice", include_in_schema=False)
    def backoffice_page():
        return FileResponse(os.path.join(BACKOFFICE, "index.html"), headers={"Cache-Control": "no-store"})

    @app.get("/backoffice/stock", include_in_schema=False)
    def stock_page():
        return FileResponse(os.path.join(STOCK_PAGES, "index.html"), headers={"Cache-Control": "no-store"})

    @app.get("/backoffice/stock/{name}", include_in_schema=False)
    def stock_file(name: str):
        if name not in ("stock.js", "stock.css"):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return FileResponse(os.path.join(STOCK_PAGES, name), headers={"Cache-Control": "no-store"})

    @app.get("/backoffice/marketing", include_in_schema=False)
    def marketing_page():
        return FileResponse(os.path.join(MARKETING_PAGES, "index.html"), headers={"Cache-Control": "no-store"})

    @app.get("/backoffice/marketing/{name}", include_in_schema=False)
    def marketing_file(name: str):
        if name != "marketing.js":
            return JSONResponse({"detail": "not found"}, status_code=404)
        return FileResponse(os.path.join(MARKETING_PAGES, name), headers={"Cache-Control": "no-store"})

    @app.get("/backoffice/{name}", include_in_schema=False)
    def backoffice_file(name: str):
        if name not in ("backoffice.js", "backoffice.css"):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return FileResponse(os.path.join(BACKOFFICE, name), headers={"Cache-Control": "no-store"})

    app.add_middleware(SecurityHeaders)

    describe = app.openapi

    def openapi():
        if app.openapi_schema is None:
            describe_nul_free(describe())
        return app.openapi_schema
    app.openapi = openapi

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, large_limit=settings.max_artifact_bytes,
                       large_paths=re.compile(r"^/api/v1/tms/modules/[0-9]+/artifacts/[^/]+$"))
    app.add_middleware(overload.Admission, limit=settings.db_pool_size + settings.db_pool_overflow,
                       wait_s=settings.db_wait_s, retry_after_s=settings.retry_after_s,
                       streaming_paths=re.compile(r"^/[^/]+/controller/v1/[^/]+/softwaremodules/[0-9]+/artifacts/"
                                                  r"[^/]+$"))
    return app
