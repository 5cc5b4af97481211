"""Cloud tests run on both databases: SQLite (the embedded default) and a throwaway
PostgreSQL 15 server that the session starts itself (skipped only where PostgreSQL is not
installed; CI installs it).  Each test gets an empty database and a fresh app."""
import itertools
import os
import re

import pytest

from cloud_pg import PgServer

ADMIN_PASSWORD = "admin-test-password"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get("SMARTPOS_TEST_PG_URL")
    if url:
        yield url
        return
    srv = PgServer()
    if not srv.available:
        pytest.skip("PostgreSQL (initdb, pg_ctl) is not installed: apt-get install postgresql")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "cloud.db")
    srv = request.getfixturevalue("pg_server")
    name = "t%d_%s" % (next(_counter), re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:40])
    if isinstance(srv, str):
        import psycopg
        base = srv.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(base, autocommit=True) as c:
            c.execute('CREATE DATABASE "%s"' % name)
        return srv.rsplit("/", 1)[0] + "/" + name
    return srv.create_database(name)


@pytest.fixture
def settings(db_url, tmp_path):
    from cloud.settings import Settings
    return Settings(data_dir=str(tmp_path / "data"), database_url=db_url, bootstrap_admin_password=ADMIN_PASSWORD)


@pytest.fixture
def app(settings):
    from cloud.app import create_app
    a = create_app(settings)
    yield a
    a.state.engine.dispose()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient
    with TestClient(app) as c:
        yield c


def login(client, username="admin", password=ADMIN_PASSWORD):
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


@pytest.fixture
def admin(client):
    return login(client)


@pytest.fixture
def tenancy(client, admin):
    """Two merchants with a store each and an owner and a staff account each."""
    out = {"admin": admin}
    for key in ("a", "b"):
        m = client.post("/api/v1/merchants", json={"name": "Shop " + key.upper(), "mid": "MID00000000000" + key.upper()},
                        headers=admin).json()
        s = client.post("/api/v1/stores", json={"merchant_id": m["id"], "name": "Main"}, headers=admin).json()
        for role in ("merchant_owner", "merchant_staff"):
            name = "%s-%s" % (role.split("_")[1], key)
            r = client.post("/api/v1/accounts", json={"username": name, "role": role, "merchant_id": m["id"],
                                                      "password": "pw-" + name + "-0123"}, headers=admin)
            assert r.status_code == 201, r.text
            out[name] = login(client, name, "pw-" + name + "-0123")
        out["merchant_" + key], out["store_" + key] = m, s
    r = client.post("/api/v1/accounts", json={"username": "staff", "role": "operator_staff",
                                              "password": "pw-staff-0123"}, headers=admin)
    assert r.status_code == 201, r.text
    out["staff"] = login(client, "staff", "pw-staff-0123")
    return out
