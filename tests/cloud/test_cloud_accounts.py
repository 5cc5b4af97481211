"""Accounts, sign-in, tokens and roles, on SQLite and PostgreSQL."""
from conftest import ADMIN_PASSWORD, login


def test_login_gives_a_token_that_works_and_logout_revokes_it(client):
    r = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200
    tok = r.json()["token"]
    assert tok.startswith("spt_") and len(tok) > 40
    h = {"Authorization": "Bearer " + tok}
    me = client.get("/api/v1/auth/me", headers=h).json()
    assert me["username"] == "admin" and me["role"] == "operator_admin"
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 204
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_the_database_keeps_no_token_and_no_password(client, app):
    h = login(client)
    tok = h["Authorization"].split()[1]
    from sqlalchemy import text
    with app.state.engine.connect() as c:
        hashes = [r[0] for r in c.execute(text("SELECT token_hash FROM api_tokens"))]
        pw = c.execute(text("SELECT password_hash FROM accounts WHERE username='admin'")).scalar()
    assert tok not in hashes and all(len(x) == 64 for x in hashes)
    assert pw.startswith("scrypt$16384$8$1$") and ADMIN_PASSWORD not in pw


def test_no_token_wrong_token_and_wrong_password_are_refused(client):
    assert client.get("/api/v1/merchants").status_code == 401
    r = client.get("/api/v1/merchants", headers={"Authorization": "Bearer spt_nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"
    r = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong username or password"


def test_five_failures_lock_the_account_even_for_the_right_password(client, settings):
    for _ in range(settings.login_max_failures):
        assert client.post("/api/v1/auth/login", json={"username": "admin", "password": "x"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 423 and "locked" in r.json()["detail"]


def test_expired_tokens_are_refused(client, app):
    h = login(client)
    from sqlalchemy import text
    with app.state.engine.begin() as c:
        c.execute(text("UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00'"))
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_password_policy_and_change_revokes_other_sessions(client):
    h1, h2 = login(client), login(client)
    r = client.post("/api/v1/auth/password", json={"old_password": ADMIN_PASSWORD, "new_password": "short"},
                    headers=h1)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "new_password"]
    r = client.post("/api/v1/auth/password", json={"old_password": "wrong", "new_password": "long-enough-1"},
                    headers=h1)
    assert r.status_code == 403
    r = client.post("/api/v1/auth/password", json={"old_password": ADMIN_PASSWORD, "new_password": "long-enough-1"},
                    headers=h1)
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=h1).status_code == 200
    assert client.get("/api/v1/auth/me", headers=h2).status_code == 401
    login(client, "admin", "long-enough-1")


def test_who_may_grant_which_role(client, tenancy):
    t = tenancy
    ma, mb = t["merchant_a"]["id"], t["merchant_b"]["id"]
    def new(role, merchant=None):
        body = {"username": "u%s%s" % (role[:5], merchant or ""), "role": role, "password": "0123456789ab"}
        if merchant is not None:
            body["merchant_id"] = merchant
        return body
    # operator staff manages no accounts
    assert client.post("/api/v1/accounts", json=new("merchant_staff", ma), headers=t["staff"]).status_code == 403
    # a merchant owner adds staff to its own merchant only, and no owner or operator role
    assert client.post("/api/v1/accounts", json=new("merchant_staff", ma), headers=t["owner-a"]).status_code == 201
    assert client.post("/api/v1/accounts", json=new("merchant_staff", mb), headers=t["owner-a"]).status_code == 404
    assert client.post("/api/v1/accounts", json=new("merchant_owner", ma), headers=t["owner-a"]).status_code == 403
    assert client.post("/api/v1/accounts", json=new("operator_admin"), headers=t["owner-a"]).status_code == 403
    # merchant staff: nothing
    assert client.post("/api/v1/accounts", json=new("merchant_staff", ma), headers=t["staff-a"]).status_code == 403
    # role and merchant must fit together
    r = client.post("/api/v1/accounts", json=new("merchant_owner"), headers=t["admin"])
    assert r.status_code == 422
    r = client.post("/api/v1/accounts", json=new("operator_staff", ma), headers=t["admin"])
    assert r.status_code == 422
    # duplicate username
    r = client.post("/api/v1/accounts", json={"username": "staff", "role": "operator_staff",
                                              "password": "0123456789ab"}, headers=t["admin"])
    assert r.status_code == 409 and "taken" in r.json()["detail"]


def test_account_lists_are_scoped(client, tenancy):
    names = lambda h: sorted(a["username"] for a in client.get("/api/v1/accounts", headers=h).json())
    assert names(tenancy["owner-a"]) == ["owner-a", "staff-a"]
    assert "owner-b" in names(tenancy["staff"]) and "admin" in names(tenancy["staff"])
    other = client.get("/api/v1/accounts", headers=tenancy["owner-b"]).json()[0]["id"]
    assert client.get("/api/v1/accounts/%d" % other, headers=tenancy["owner-a"]).status_code == 404


def test_disabled_account_cannot_sign_in_and_its_tokens_stop(client, tenancy):
    aid = [a for a in client.get("/api/v1/accounts", headers=tenancy["admin"]).json() if a["username"] == "staff-a"][0]["id"]
    assert client.delete("/api/v1/accounts/%d" % aid, headers=tenancy["owner-a"]).status_code == 204
    assert client.get("/api/v1/auth/me", headers=tenancy["staff-a"]).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "staff-a", "password": "pw-staff-a-0123"})
    assert r.status_code == 401
    me = client.get("/api/v1/auth/me", headers=tenancy["admin"]).json()
    assert client.delete("/api/v1/accounts/%d" % me["id"], headers=tenancy["admin"]).status_code == 409


def test_an_account_changes_without_a_new_password(client, tenancy):
    accounts = client.get("/api/v1/accounts", headers=tenancy["owner-a"]).json()
    staff = next(a for a in accounts if a["username"] == "staff-a")
    r = client.patch("/api/v1/accounts/%d" % staff["id"], json={"display_name": "Anna at the till"},
                     headers=tenancy["owner-a"])
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Anna at the till"
    login(client, "staff-a", "pw-staff-a-0123")          # the password is the one it was
    r = client.patch("/api/v1/accounts/%d" % staff["id"], json={"password": "short"}, headers=tenancy["owner-a"])
    assert r.status_code == 422
