"""An overloaded or briefly unavailable service answers 503 with Retry-After, never 500.

Two parts, both installed by ``cloud.app.create_app``:

* ``Admission`` (ASGI middleware, outermost): at most ``limit`` requests per worker are in
  progress at once; an artifact download (``streaming_paths``, which gives its database session
  back before its body streams) counts only until its response starts.  ``limit`` is the
  connection pool's size plus overflow, so an admitted request does not wait at the pool.  A request that finds every place taken
  waits up to ``wait_s`` for one, then is answered 503: load is shed at the door in seconds
  instead of queueing for a database connection.
* ``transient_database_error`` (exception handler, every route): the errors a retry later can
  cure -- the pool's wait ran out, the database refused or dropped the connection, PostgreSQL
  "too many connections", a serialization failure or deadlock, a lock not granted, a locked
  SQLite database -- answer 503; the request's transaction was rolled back (the session closes
  without commit, and PostgreSQL drops a dropped connection's transaction), so nothing of it
  is half written.  Any other database error stays a 500: it is a defect, not load.

Retry-After (RFC 9110 section 10.2.3) is in seconds, spread over retry_after_s .. 2 x
retry_after_s so that the clients refused together do not come back together.
"""
import asyncio
import json
import random
import sqlite3

from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

from cloud.deps import Problem

# SQLite's primary result codes for "try again" (https://sqlite.org/rescode.html)
SQLITE_BUSY = 5
SQLITE_LOCKED = 6

BUSY = "the service is overloaded: try again after the Retry-After seconds"
UNAVAILABLE = "the database is unavailable for the moment: try again after the Retry-After seconds"

# the 503 answer as the OpenAPI description states it, on every operation
DESCRIBED = {503: {"description": "overloaded, or the database unavailable for the moment: nothing was "
                                  "changed; try again after Retry-After seconds",
                   "model": Problem,
                   "headers": {"Retry-After": {"description": "seconds to wait before trying again",
                                               "schema": {"type": "integer", "minimum": 1}}}}}


def retry_after(base_s):
    return base_s + random.randint(0, base_s)


def overloaded_response(base_s, detail=BUSY):
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": str(retry_after(base_s))})


def is_transient(exc):
    """True for a database error that a later retry can cure (see the module's text)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        return (orig.sqlite_errorcode & 0xFF) in (SQLITE_BUSY, SQLITE_LOCKED)
    import psycopg
    # psycopg's OperationalError is exactly PostgreSQL's "not the statement's fault" family:
    # connection exceptions (SQLSTATE class 08), insufficient resources (53, e.g. 53300 too many
    # connections), operator intervention (57, e.g. 57P01 admin shutdown, 57P03 cannot connect
    # now), transaction rollback (40001 serialization failure, 40P01 deadlock), lock not
    # available (55P03), and a connection that could not be made at all.
    return isinstance(orig, psycopg.OperationalError)


def install(app, settings):
    """The exception handler; the middleware is added by create_app (it must be outermost)."""
    async def transient_database_error(request, exc):
        if not is_transient(exc):
            raise exc
        return overloaded_response(settings.retry_after_s,
                                   BUSY if isinstance(exc, PoolTimeout) else UNAVAILABLE)
    app.add_exception_handler(PoolTimeout, transient_database_error)
    app.add_exception_handler(DBAPIError, transient_database_error)


class Admission:
    def __init__(self, app, limit, wait_s, retry_after_s, streaming_paths):
        self.app, self.limit, self.wait_s, self.retry_after_s = app, limit, wait_s, retry_after_s
        self.streaming_paths = streaming_paths
        self.places = None
        self.loop = None
        self.refused = 0                   # requests answered 503 at the door (since start)

    def _places(self):
        loop = asyncio.get_running_loop()
        if loop is not self.loop:          # a semaphore belongs to one event loop (tests start several)
            self.loop, self.places = loop, asyncio.Semaphore(self.limit)
        return self.places

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        places = self._places()
        try:
            await asyncio.wait_for(places.acquire(), self.wait_s)
        except asyncio.TimeoutError:
            self.refused += 1
            body = json.dumps({"detail": BUSY}).encode()
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode()),
                                    (b"retry-after", str(retry_after(self.retry_after_s)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        held = True

        def release():
            nonlocal held
            if held:
                held = False
                places.release()

        async def sending(message):
            if message["type"] == "http.response.start":
                release()                  # the database part is over; the body streams on
            await send(message)
        try:
            if self.streaming_paths.match(scope.get("path", "")):
                await self.app(scope, receive, sending)
            else:
                await self.app(scope, receive, send)
        finally:
            release()
