"""Alembic environment: the engine comes from ``cloud.db.migrate`` (config attribute
``engine``), or from the URL in ``-x url=...`` when Alembic's own command line is used."""
from alembic import context
from sqlalchemy import create_engine

import cloud.models  # noqa: F401
from cloud.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online():
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: give a database URL")
run_migrations_online()
