"""ASGI entry point for process managers and several workers:

    uvicorn --factory cloud.asgi:create --workers 4        # settings from SMARTPOS_CLOUD_* variables

Each worker opens its own connection pool to the shared database (PostgreSQL for more than one
worker: SQLite allows one writer at a time).  The schema is migrated and the first operator made
by the parent (``smartpos cloud --workers N``) before the workers start.
"""
from cloud.app import create_app
from cloud.settings import Settings


def create():
    return create_app(Settings.from_env())
