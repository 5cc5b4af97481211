"""smartpos cloud: the service that makes the terminal smart.

One ASGI application (FastAPI, OpenAPI at ``/openapi.json``) with a router per
domain, SQLAlchemy 2 models migrated by Alembic, SQLite in a data folder by
default and PostgreSQL by URL.  This package holds the foundation the other
domains build on:

- ``cloud.tenants``: operator -> merchants -> stores -> terminals, terminal
  activation codes and enrollment;
- ``cloud.accounts``: accounts with roles (operator admin, operator staff,
  merchant owner, merchant staff), salted scrypt password hashes, bearer tokens;
- ``cloud.audit``: every change to an audited row is written to the audit log
  with the actor who made it, inside the same database transaction.

Usage::

    from cloud.app import create_app
    from cloud.settings import Settings
    app = create_app(Settings(data_dir="var/cloud"))    # SQLite in var/cloud/cloud.db

``smartpos cloud`` runs it (docs/cloud.md).
"""
