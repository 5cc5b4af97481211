"""A terminal exchanges its activation code for its DDI identity."""
import datetime

from sqlalchemy import text


def _register(client, h, serial="SP-0100", **kw):
    r = client.post("/api/v1/terminals", json=dict(serial=serial, **kw), headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def test_enrollment_gives_tenant_controller_and_token_once(client, admin, app):
    reg = _register(client, admin, controller_id="spos-0100")
    code = reg["activation_code"]
    r = client.post("/api/v1/enroll", json={"activation_code": code, "serial": "SP-0100", "model": "nucleo-f429zi"})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["tenant"] == "default" and e["controller_id"] == "spos-0100"
    assert len(e["target_token"]) == 32 and e["ddi_path"] == "/default/controller/v1/spos-0100"
    t = client.get("/api/v1/terminals/%d" % reg["terminal"]["id"], headers=admin).json()
    assert t["state"] == "enrolled" and t["model"] == "nucleo-f429zi" and t["activation_expires_at"] is None
    with app.state.engine.connect() as c:
        stored = c.execute(text("SELECT target_token_hash FROM terminals")).scalar()
    assert stored and e["target_token"] not in stored
    # the code is single-use
    r = client.post("/api/v1/enroll", json={"activation_code": code, "serial": "SP-0100"})
    assert r.status_code == 403


def test_code_typed_without_dashes_works(client, admin):
    code = _register(client, admin)["activation_code"].replace("-", "")
    assert client.post("/api/v1/enroll", json={"activation_code": code, "serial": "SP-0100"}).status_code == 200


def test_code_for_another_serial_expired_or_replaced_is_refused(client, admin, app):
    reg = _register(client, admin)
    code = reg["activation_code"]
    r = client.post("/api/v1/enroll", json={"activation_code": code, "serial": "SP-9999"})
    assert r.status_code == 403 and "another serial" in r.json()["detail"]
    # a new code replaces the old one
    new = client.post("/api/v1/terminals/%d/activation" % reg["terminal"]["id"], headers=admin).json()
    assert client.post("/api/v1/enroll", json={"activation_code": code, "serial": "SP-0100"}).status_code == 403
    with app.state.engine.begin() as c:
        c.execute(text("UPDATE terminals SET activation_expires_at = :t"),
                  {"t": datetime.datetime(2000, 1, 1)})
    r = client.post("/api/v1/enroll", json={"activation_code": new["activation_code"], "serial": "SP-0100"})
    assert r.status_code == 403


def test_disabled_terminal_cannot_enroll_and_gets_no_code(client, admin):
    reg = _register(client, admin)
    tid = reg["terminal"]["id"]
    assert client.delete("/api/v1/terminals/%d" % tid, headers=admin).status_code == 204
    r = client.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "SP-0100"})
    assert r.status_code == 403
    assert client.post("/api/v1/terminals/%d/activation" % tid, headers=admin).status_code == 409


def test_guessing_is_throttled(client, admin):
    _register(client, admin)
    codes = ["0000-0000-%04d" % i for i in range(12)]
    statuses = [client.post("/api/v1/enroll", json={"activation_code": c, "serial": "SP-0100"}).status_code
                for c in codes]
    assert statuses[:10] == [403] * 10 and statuses[10:] == [429, 429]


def test_malformed_codes_are_422(client):
    for bad in ("", "12", "abcd-efgh-ijkl", "1" * 21):
        assert client.post("/api/v1/enroll", json={"activation_code": bad, "serial": "X"}).status_code == 422
