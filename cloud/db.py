"""Database engine, sessions and migrations.

``Base`` is the one declarative base of every model.  ``open_database(url)``
returns an engine whose schema Alembic has brought to the newest revision
(``cloud/migrations``); the models are never created with ``create_all`` outside
the migration test, so the migrations are what really runs.
"""
import datetime
import os

from sqlalchemy import create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

# Requests run in a pool of 40 threads (anyio's default limiter); a request keeps its connection
# between the steps it runs in those threads (its dependencies, then the route), so more requests
# than threads can hold one.  cloud.overload admits at most POOL_SIZE + POOL_OVERFLOW requests at a
# time, so a request normally never waits at the pool; POOL_WAIT_S bounds the wait when it does
# (then 503 with Retry-After, not a request queued for a minute).
POOL_SIZE = 20
POOL_OVERFLOW = 30
POOL_WAIT_S = 5

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


class Base(DeclarativeBase):
    pass


def utcnow():
    """Timestamps are naive UTC everywhere (SQLite keeps no zone)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def make_engine(url, pool_size=POOL_SIZE, pool_overflow=POOL_OVERFLOW, pool_wait_s=POOL_WAIT_S):
    pool = {"pool_size": pool_size, "max_overflow": pool_overflow, "pool_timeout": pool_wait_s}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def alembic_config(engine):
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine, revision="head"):
    """Bring the schema to `revision` (idempotent)."""
    from alembic import command
    command.upgrade(alembic_config(engine), revision)


def open_database(url, **pool):
    """`pool`: make_engine's pool_size, pool_overflow, pool_wait_s."""
    engine = make_engine(url, **pool)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
