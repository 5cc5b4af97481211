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

# Requests run in a pool of REQUEST_THREADS threads (anyio's default limiter) and each holds one
# connection; the connection pool is larger, so a thread never waits for a connection that a
# request waiting for a thread holds (that wait, under load, was a deadlock).
REQUEST_THREADS = 40
POOL_SIZE = 20
POOL_OVERFLOW = REQUEST_THREADS + 10 - POOL_SIZE

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


class Base(DeclarativeBase):
    pass


def utcnow():
    """Timestamps are naive UTC everywhere (SQLite keeps no zone)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def make_engine(url):
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=60)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
        return engine
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=60, pool_pre_ping=True)


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


def open_database(url):
    engine = make_engine(url)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
