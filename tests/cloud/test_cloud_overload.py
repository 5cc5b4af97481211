"""An overloaded service, or a database unavailable for the moment, answers 503 with Retry-After
and a JSON reason (never 500, never a request queued for a minute), on SQLite and on PostgreSQL,
and leaves nothing half written (cloud/overload.py)."""
import asyncio
import re
import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from conftest import login
from ports import free_port

RETRY_AFTER_S = 3


def _assert_503(r):
    assert r.status_code == 503, (r.status_code, r.text)
    assert RETRY_AFTER_S <= int(r.headers["retry-after"]) <= 2 * RETRY_AFTER_S, r.headers
    assert r.headers["content-type"] == "application/json"
    assert "try again after the Retry-After seconds" in r.json()["detail"]


@pytest.fixture
def small(settings):
    """A one-connection pool that waits 1 s for its connection."""
    settings.db_pool_size, settings.db_pool_overflow, settings.db_wait_s = 1, 0, 1
    settings.retry_after_s = RETRY_AFTER_S
    from cloud.app import create_app
    app = create_app(settings)
    with TestClient(app) as c:
        yield app, c
    app.state.engine.dispose()


def _merchants(app):
    with Session(app.state.engine) as db:
        from cloud.tenants.models import Merchant
        return db.scalar(select(func.count()).select_from(Merchant))


def _load_terminal(app, settings):
    """One terminal with an open action (the load test's provisioning), its DDI path and header."""
    from cloud import loadtest
    tenant = loadtest.provision(settings.resolved_database_url(), 1)
    base = "/%s/controller/v1/%s00000" % (tenant, loadtest.PREFIX)
    return base, {"Authorization": "TargetToken " + loadtest.token_for(0)}


def test_pool_exhausted_answers_503_on_every_kind_of_route_and_writes_nothing(small, settings):
    app, client = small
    admin = login(client)
    base, dev = _load_terminal(app, settings)
    assert client.get(base, headers=dev).status_code == 200
    before = _merchants(app)
    held = app.state.engine.connect()          # the pool's only connection, taken elsewhere
    try:
        held.execute(text("SELECT 1"))
        _assert_503(client.get("/healthz"))
        _assert_503(client.get(base, headers=dev))                                   # DDI poll
        _assert_503(client.get("/api/v1/merchants", headers=admin))                  # signed-in read
        _assert_503(client.post("/api/v1/merchants", json={"name": "Shop Z", "mid": "MID0000000000ZZ"},
                                headers=admin))                                       # signed-in write
        _assert_503(client.post("/api/v1/auth/login", json={"username": "admin", "password": "whatever-pw"}))
    finally:
        held.close()
    assert _merchants(app) == before           # the refused write left nothing
    r = client.post("/api/v1/merchants", json={"name": "Shop Z", "mid": "MID0000000000ZZ"}, headers=admin)
    assert r.status_code == 201, r.text        # and the service serves again once the pool has room
    assert client.get(base, headers=dev).status_code == 200


def test_the_description_states_503_with_retry_after_on_every_operation(small):
    app, _ = small
    ops = [(p, m, op) for p, item in app.openapi()["paths"].items() for m, op in item.items()]
    assert len(ops) >= 20
    for path, method, op in ops:
        answer = op["responses"].get("503")
        assert answer is not None, (method, path)
        assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer", (method, path)


def _admission(limit, wait_s, streaming=r"^/stream$"):
    from cloud.overload import Admission
    gate = asyncio.Event()

    async def inner(scope, receive, send):
        if scope["path"] == "/slow":
            await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/stream":
            await gate.wait()                  # the body streams on after the response started
        await send({"type": "http.response.body", "body": b"ok"})
    return Admission(inner, limit=limit, wait_s=wait_s, retry_after_s=RETRY_AFTER_S,
                     streaming_paths=re.compile(streaming)), gate


async def _call(app, path):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)
    await app({"type": "http", "path": path, "headers": []}, receive, send)
    head = sent[0]
    return head["status"], dict(head["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_admission_sheds_load_at_the_door_after_its_bounded_wait():
    async def scenario():
        app, gate = _admission(limit=2, wait_s=0.3)
        slow = [asyncio.ensure_future(_call(app, "/slow")) for _ in range(2)]      # both places taken
        await asyncio.sleep(0)
        status, headers, body = await _call(app, "/fast")
        assert status == 503 and body == b'{"detail": "the service is overloaded: try again after the ' \
                                          b'Retry-After seconds"}'
        assert RETRY_AFTER_S <= int(headers[b"retry-after"]) <= 2 * RETRY_AFTER_S
        assert app.refused == 1
        gate.set()
        assert [(await s)[0] for s in slow] == [200, 200]
        assert (await _call(app, "/fast"))[0] == 200                              # places given back
    asyncio.run(scenario())


def test_a_streaming_download_gives_its_place_back_when_its_response_starts():
    async def scenario():
        app, gate = _admission(limit=1, wait_s=0.3)
        stream = asyncio.ensure_future(_call(app, "/stream"))
        await asyncio.sleep(0.05)
        assert (await _call(app, "/fast"))[0] == 200          # the download streams, the door is open
        gate.set()
        assert (await stream)[2] == b"ok"
        app2, gate2 = _admission(limit=1, wait_s=0.3, streaming=r"^$")
        other = asyncio.ensure_future(_call(app2, "/stream"))
        await asyncio.sleep(0.05)
        assert (await _call(app2, "/fast"))[0] == 503          # not a download: it counts to its end
        gate2.set()
        await other
    asyncio.run(scenario())


def test_what_counts_as_transient(tmp_path):
    from cloud.overload import is_transient
    # a locked SQLite database (another connection holds the write lock)
    path = str(tmp_path / "locked.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine("sqlite:///" + path, connect_args={"timeout": 0})
    with pytest.raises(OperationalError) as locked:
        with engine.begin() as c:
            c.execute(text("INSERT INTO t VALUES (1)"))
    assert "locked" in str(locked.value) and is_transient(locked.value)
    # a statement's own fault stays a defect (500)
    with pytest.raises(OperationalError) as missing:
        with engine.connect() as c:
            c.execute(text("SELECT * FROM no_such_table"))
    assert not is_transient(missing.value)
    holder.close()
    engine.dispose()
    # PostgreSQL that refuses the connection (nothing listens on the port)
    pg = create_engine("postgresql+psycopg://pos@127.0.0.1:%d/x" % free_port(),
                       connect_args={"connect_timeout": 5})
    with pytest.raises(OperationalError) as refused:
        pg.connect()
    assert is_transient(refused.value)
    pg.dispose()


@pytest.fixture
def pg_only(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return db_url


def test_postgresql_serialization_failure_is_transient_and_a_syntax_error_is_not(pg_only):
    from cloud.overload import is_transient
    engine = create_engine(pg_only, isolation_level="REPEATABLE READ")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE counter (n integer)"))
        c.execute(text("INSERT INTO counter VALUES (0)"))
    first, second = engine.connect(), engine.connect()
    try:
        first.execute(text("SELECT n FROM counter"))
        second.execute(text("SELECT n FROM counter"))
        first.execute(text("UPDATE counter SET n = n + 1"))
        first.commit()
        with pytest.raises(OperationalError) as conflict:
            second.execute(text("UPDATE counter SET n = n + 1"))
        assert "could not serialize" in str(conflict.value) and is_transient(conflict.value)
        second.rollback()
        with pytest.raises(Exception) as bad:
            second.execute(text("SELEC 1"))
        assert not is_transient(bad.value)
    finally:
        first.close()
        second.close()
        engine.dispose()


def test_postgresql_too_many_connections_answers_503(pg_only, settings, pg_server):
    """The service's own role may hold no more connections (SQLSTATE 53300): 503, then served again."""
    import psycopg
    dbname = pg_only.rsplit("/", 1)[1]
    admin_dsn = "host=127.0.0.1 port=%d user=pos dbname=postgres" % pg_server.port
    role = "svc_" + dbname[-20:]
    with psycopg.connect(admin_dsn, autocommit=True) as c:
        c.execute('CREATE ROLE "%s" LOGIN' % role)
        c.execute('ALTER DATABASE "%s" OWNER TO "%s"' % (dbname, role))
    settings.database_url = pg_only.replace("//pos@", "//%s@" % role)
    settings.retry_after_s = RETRY_AFTER_S
    from cloud.app import create_app
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            with psycopg.connect(admin_dsn, autocommit=True) as c:
                c.execute('ALTER ROLE "%s" CONNECTION LIMIT 0' % role)
            app.state.engine.dispose()                     # the pooled connections go; new ones are refused
            r = client.get("/healthz")
            _assert_503(r)
            assert "database is unavailable" in r.json()["detail"]
            with psycopg.connect(admin_dsn, autocommit=True) as c:
                c.execute('ALTER ROLE "%s" CONNECTION LIMIT -1' % role)
            assert client.get("/healthz").status_code == 200
    finally:
        app.state.engine.dispose()


def test_postgresql_connection_dropped_mid_feedback_leaves_nothing_half_written(pg_only, settings, pg_server):
    """The database connection is terminated between the feedback's first and second write: the
    terminal gets 503 with Retry-After, and neither the status row nor the action's new state nor
    an audit row of them is stored; the feedback sent again is taken."""
    import psycopg
    from cloud.audit.models import AuditEntry
    from cloud.tms.models import Action, ActionStatus
    settings.retry_after_s = RETRY_AFTER_S
    from cloud.app import create_app
    app = create_app(settings)
    writes = []
    admin_dsn = "host=127.0.0.1 port=%d user=pos dbname=postgres" % pg_server.port

    def cut_before_second_write(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes.append(statement.split(None, 3)[:3])
            if len(writes) == 2:
                pid = cursor.connection.info.backend_pid
                with psycopg.connect(admin_dsn, autocommit=True) as side:
                    side.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
    try:
        with TestClient(app) as client:
            base, dev = _load_terminal(app, settings)
            with Session(app.state.engine) as db:
                action = db.scalar(select(Action).order_by(Action.id.desc()).limit(1))
                audit_before = db.scalar(select(func.count()).select_from(AuditEntry))
            url = "%s/deploymentBase/%d/feedback" % (base, action.id)
            body = {"status": {"execution": "closed", "result": {"finished": "success"}}}
            event.listen(app.state.engine, "before_cursor_execute", cut_before_second_write)
            try:
                r = client.post(url, json=body, headers=dev)
            finally:
                event.remove(app.state.engine, "before_cursor_execute", cut_before_second_write)
            assert len(writes) >= 2, writes                       # the cut fell inside the transaction
            _assert_503(r)
            with Session(app.state.engine) as db:
                assert db.get(Action, action.id).state == "scheduled"
                assert db.scalar(select(func.count()).select_from(ActionStatus)
                                 .where(ActionStatus.action_id == action.id)) == 0
                assert db.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
            assert client.post(url, json=body, headers=dev).status_code == 200      # sent again: taken
            with Session(app.state.engine) as db:
                assert db.get(Action, action.id).state == "success"
                assert db.scalar(select(func.count()).select_from(ActionStatus)
                                 .where(ActionStatus.action_id == action.id)) == 1
    finally:
        app.state.engine.dispose()


def test_overload_settings_from_the_command_line_and_the_environment(monkeypatch, tmp_path):
    import argparse
    from cloud.settings import Settings, SettingsError
    from smartpos.cli import CommandError
    from smartpos.commands import cloud as command
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["cloud", "--data", str(tmp_path), "--db-pool", "4", "--db-wait", "2"])
    monkeypatch.setenv("SMARTPOS_CLOUD_RETRY_AFTER_S", "7")
    s = command.settings_from(args)
    assert (s.db_pool_size, s.db_pool_overflow, s.db_wait_s, s.retry_after_s) == (4, 30, 2, 7)
    # what the workers of `smartpos cloud --workers N` read back from the environment
    for k, v in s.to_env().items():
        monkeypatch.setenv(k, v)
    back = Settings.from_env()
    assert (back.db_pool_size, back.db_pool_overflow, back.db_wait_s, back.retry_after_s) == (4, 30, 2, 7)
    monkeypatch.setenv("SMARTPOS_CLOUD_DB_OVERFLOW", "lots")
    with pytest.raises(CommandError, match="SMARTPOS_CLOUD_DB_OVERFLOW must be a whole number"):
        command.settings_from(args)
    with pytest.raises(SettingsError, match="wait and a Retry-After of 1 s or more"):
        Settings(data_dir=str(tmp_path), db_wait_s=0).check()


def test_a_slow_database_sheds_load_and_the_load_test_clients_lose_nothing(tmp_path):
    """Every statement takes 20 ms and a worker serves one request at a time, waiting 1 s at most
    for its place: most of 30 clients are answered 503 with Retry-After, come back after it
    (as terminals do), and every feedback the service accepted is stored; no 500."""
    import time as clock
    from cloud import loadtest
    from cloud.server import CloudServer
    from cloud.settings import Settings
    s = Settings(data_dir=str(tmp_path), port=0, bootstrap_admin_password="overload-admin-1",
                 db_pool_size=1, db_pool_overflow=0, db_wait_s=1, retry_after_s=1)
    srv = CloudServer(s).start()

    def slow(conn, cursor, statement, parameters, context, executemany):
        clock.sleep(0.02)
    event.listen(srv.app.state.engine, "before_cursor_execute", slow)
    try:
        fig = loadtest.run(srv.url, s.resolved_database_url(), clients=30, seconds=8, poll_gap=0.5,
                           connections=30)
    finally:
        event.remove(srv.app.state.engine, "before_cursor_execute", slow)
        srv.stop()
    assert fig["status_counts"].get("503", 0) >= 10, fig                # shed at the door
    assert fig["retry_after_waits"] >= 10 and fig["server_errors"] == 0, fig
    assert fig["status_counts"].get("200", 0) >= 30, fig                 # and still served
    assert fig["lost"] == 0 and fig["feedback_rows_stored"] >= fig["feedback_accepted"] > 0, fig
