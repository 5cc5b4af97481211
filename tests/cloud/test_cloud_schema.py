"""The migrations are what builds the schema: they must equal the models, both ways."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from cloud.db import Base, alembic_config, make_engine, migrate


def test_migrations_build_exactly_the_models(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert {"operators", "merchants", "stores", "terminals", "accounts", "api_tokens", "audit_log"} <= \
        set(inspect(engine).get_table_names())
    migrate(engine)          # idempotent
    engine.dispose()


def test_bootstrap_happens_once(settings):
    from cloud.app import create_app
    a1 = create_app(settings)
    assert a1.state.bootstrap[:2] == ("default", "admin")
    a1.state.engine.dispose()
    a2 = create_app(settings)
    assert a2.state.bootstrap is None
    a2.state.engine.dispose()


def test_generated_admin_password_goes_to_a_private_file(tmp_path):
    import os
    import stat
    from cloud.app import create_app
    from cloud.settings import Settings
    app = create_app(Settings(data_dir=str(tmp_path)))
    op, admin, password = app.state.bootstrap
    path = tmp_path / "initial-admin-password"
    assert path.read_text().strip() == password and len(password) >= 16
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    app.state.engine.dispose()
