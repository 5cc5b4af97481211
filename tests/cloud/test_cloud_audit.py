"""Every change is in the audit log, with its actor, inside the same transaction."""
from sqlalchemy import text



def test_changes_are_logged_with_actor_and_fields(client, admin):
    m = client.post("/api/v1/merchants", json={"name": "Audited"}, headers=admin).json()
    client.patch("/api/v1/merchants/%d" % m["id"], json={"mid": "999"}, headers=admin)
    log = client.get("/api/v1/audit?entity=merchants", headers=admin).json()
    update, create = log[0], log[1]
    assert create["action"] == "create" and create["actor"].endswith(" admin")
    assert create["detail"]["name"] == "Audited" and create["entity_id"] == str(m["id"])
    assert update["action"] == "update" and update["detail"] == {"mid": ["", "999"]}


def test_secrets_never_reach_the_log(client, admin):
    client.post("/api/v1/accounts", json={"username": "cashier1", "role": "operator_staff",
                                          "password": "secret-password-1"}, headers=admin)
    reg = client.post("/api/v1/terminals", json={"serial": "AUD-1"}, headers=admin).json()
    e = client.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "AUD-1"}).json()
    dump = str(client.get("/api/v1/audit?limit=1000", headers=admin).json())
    assert "secret-password-1" not in dump and "scrypt$" not in dump
    assert e["target_token"] not in dump and reg["activation_code"].replace("-", "") not in dump
    entries = client.get("/api/v1/audit?entity=terminals", headers=admin).json()
    enroll = [x for x in entries if x["actor"].startswith("terminal:")][0]
    assert enroll["detail"]["target_token_hash"] == "(changed)" and enroll["detail"]["state"] == ["registered", "enrolled"]


def test_logins_and_failures_are_logged(client, admin):
    client.post("/api/v1/auth/login", json={"username": "admin", "password": "nope"})
    actions = [x["action"] for x in client.get("/api/v1/audit?entity=accounts", headers=admin).json()]
    assert actions[:2] == ["login_failed", "login"]


def test_a_refused_change_leaves_no_entry(client, admin, app):
    client.post("/api/v1/merchants", json={"name": "Twice"}, headers=admin)
    with app.state.engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM audit_log")).scalar()
    assert client.post("/api/v1/merchants", json={"name": "Twice"}, headers=admin).status_code == 409
    with app.state.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM audit_log")).scalar() == before


def test_audit_is_scoped(client, tenancy):
    t = tenancy
    assert client.get("/api/v1/audit", headers=t["staff-a"]).status_code == 403
    own = client.get("/api/v1/audit?limit=1000", headers=t["owner-a"]).json()
    assert own and all(str(t["merchant_b"]["id"]) != x["entity_id"] or x["entity"] != "merchants" for x in own)
    assert {x["entity"] for x in own} <= {"merchants", "accounts", "stores"}
