"""HTTP edges: body limits, headers, the OpenAPI description, and schemathesis on every endpoint."""
import socket



def test_oversized_and_lying_bodies_are_refused(client, admin):
    r = client.post("/api/v1/merchants", content=b"{" + b" " * (2 << 20) + b"}",
                    headers=dict(admin, **{"Content-Type": "application/json"}))
    assert r.status_code == 413 and "too large" in r.json()["detail"]


def test_negative_content_length_is_refused(app):
    from cloud.server import CloudServer
    srv = CloudServer.__new__(CloudServer)
    srv.settings, srv.app, srv.log_level = app.state.settings, app, "warning"
    srv._sock = srv._server = srv._thread = None
    srv.settings.port = 0
    srv.start()
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(b"POST /api/v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: -5\r\n\r\n{}")
        answer = s.recv(4096)
        s.close()
        assert answer.split(b"\r\n")[0] in (b"HTTP/1.1 400 Bad Request",)
    finally:
        srv.stop()


def test_security_headers_and_health(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


def test_openapi_describes_every_route(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ("/api/v1/auth/login", "/api/v1/merchants", "/api/v1/stores/{store_id}", "/api/v1/terminals",
              "/api/v1/enroll", "/api/v1/audit", "/api/v1/accounts/{account_id}"):
        assert p in paths
    assert spec["info"]["title"] == "smartpos cloud"


def test_console_is_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "operator console" in r.text
    assert client.get("/console/console.js").status_code == 200
    assert client.get("/console/..%2fapp.py").status_code == 404


def test_text_with_a_nul_character_is_refused_alike_on_both_databases(client, admin):
    """schemathesis found PostgreSQL answering 500 ("text fields cannot contain NUL") where
    SQLite stored the NUL: refused with 422 before the database, on both."""
    r = client.post("/api/v1/auth/login", json={"username": "ad\x00min", "password": "x" * 12})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "username"]
    r = client.post("/api/v1/terminals", json={"serial": "SN-1", "model": "PX\x00"}, headers=admin)
    assert r.status_code == 422 and "NUL" in r.json()["detail"][0]["msg"]
    r = client.get("/api/v1/terminals", params={"q": "a\x00"}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "q"]
    r = client.post("/api/v1/terminals", json={"serial": "SN-1", "model": "PX 1"}, headers=admin)
    assert r.status_code == 201, r.text                 # the same request without the NUL
