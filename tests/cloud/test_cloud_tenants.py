"""Operator -> merchants -> stores -> terminals: CRUD, scoping and conflicts."""


def test_operator_is_the_ddi_tenant(client, admin):
    op = client.get("/api/v1/operator", headers=admin).json()
    assert op["slug"] == "default"


def test_merchant_store_crud_and_conflicts(client, admin):
    m = client.post("/api/v1/merchants", json={"name": "Corner Shop", "mid": "123456789012345", "currency": "156"},
                    headers=admin)
    assert m.status_code == 201
    m = m.json()
    assert (m["mid"], m["currency"], m["store_count"]) == ("123456789012345", "156", 0)
    r = client.post("/api/v1/merchants", json={"name": "Corner Shop"}, headers=admin)
    assert r.status_code == 409 and "exists" in r.json()["detail"]
    s = client.post("/api/v1/stores", json={"merchant_id": m["id"], "name": "High Street"}, headers=admin).json()
    assert client.get("/api/v1/merchants/%d" % m["id"], headers=admin).json()["store_count"] == 1
    r = client.patch("/api/v1/stores/%d" % s["id"], json={"address": "1 High Street"}, headers=admin)
    assert r.json()["address"] == "1 High Street"
    r = client.delete("/api/v1/merchants/%d" % m["id"], headers=admin)
    assert r.status_code == 409 and "store" in r.json()["detail"]
    assert client.delete("/api/v1/stores/%d" % s["id"], headers=admin).status_code == 204
    assert client.delete("/api/v1/merchants/%d" % m["id"], headers=admin).status_code == 204
    assert client.get("/api/v1/merchants/%d" % m["id"], headers=admin).status_code == 404


def test_bad_fields_are_refused_with_the_field_named(client, admin):
    r = client.post("/api/v1/merchants", json={"name": "x", "currency": "EUR"}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "currency"]
    r = client.post("/api/v1/merchants", json={"name": "x" * 121}, headers=admin)
    assert r.status_code == 422
    r = client.post("/api/v1/merchants", json={"name": "x", "owner": "me"}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "extra_forbidden"
    r = client.post("/api/v1/terminals", json={"serial": "'; DROP TABLE terminals; --"}, headers=admin)
    assert r.status_code == 422
    r = client.get("/api/v1/terminals?q=%27%20OR%201%3D1%20--", headers=admin)
    assert r.status_code == 200 and r.json() == []


def test_merchants_see_only_their_own(client, tenancy):
    t = tenancy
    a, b = t["merchant_a"], t["merchant_b"]
    assert [m["id"] for m in client.get("/api/v1/merchants", headers=t["owner-a"]).json()] == [a["id"]]
    assert client.get("/api/v1/merchants/%d" % b["id"], headers=t["owner-a"]).status_code == 404
    assert client.get("/api/v1/stores/%d" % t["store_b"]["id"], headers=t["staff-a"]).status_code == 404
    assert [s["id"] for s in client.get("/api/v1/stores", headers=t["owner-a"]).json()] == [t["store_a"]["id"]]
    # owners manage their stores; staff only read; nobody writes another merchant's
    r = client.post("/api/v1/stores", json={"merchant_id": a["id"], "name": "Branch"}, headers=t["owner-a"])
    assert r.status_code == 201
    assert client.post("/api/v1/stores", json={"merchant_id": a["id"], "name": "B2"},
                       headers=t["staff-a"]).status_code == 403
    assert client.post("/api/v1/stores", json={"merchant_id": b["id"], "name": "B3"},
                       headers=t["owner-a"]).status_code == 404
    assert client.patch("/api/v1/merchants/%d" % a["id"], json={"mid": "X"}, headers=t["owner-a"]).status_code == 403
    # operator staff onboard merchants but do not delete them
    m = client.post("/api/v1/merchants", json={"name": "New"}, headers=t["staff"])
    assert m.status_code == 201
    assert client.delete("/api/v1/merchants/%d" % m.json()["id"], headers=t["staff"]).status_code == 403


def test_terminals_registration_placement_and_scoping(client, tenancy):
    t = tenancy
    r = client.post("/api/v1/terminals", json={"serial": "SP-0001", "model": "smartpos-f429", "tid": "TERM0001",
                                               "store_id": t["store_a"]["id"]}, headers=t["staff"])
    assert r.status_code == 201
    body = r.json()
    term = body["terminal"]
    assert term["controller_id"] == "SP-0001" and term["state"] == "registered"
    assert term["merchant_id"] == t["merchant_a"]["id"] and term["activation_expires_at"]
    assert len(body["activation_code"]) == 14 and body["activation_code"][4] == "-"
    r = client.post("/api/v1/terminals", json={"serial": "SP-0001"}, headers=t["admin"])
    assert r.status_code == 409
    client.post("/api/v1/terminals", json={"serial": "SP-0002", "store_id": t["store_b"]["id"]}, headers=t["admin"])
    client.post("/api/v1/terminals", json={"serial": "SP-0003"}, headers=t["admin"])
    serials = lambda h, qs="": [x["serial"] for x in client.get("/api/v1/terminals" + qs, headers=h).json()]
    assert serials(t["admin"]) == ["SP-0001", "SP-0002", "SP-0003"]
    assert serials(t["owner-a"]) == ["SP-0001"]
    assert serials(t["staff-b"]) == ["SP-0002"]
    assert serials(t["owner-a"], "?merchant_id=%d" % t["merchant_b"]["id"]) == []
    assert serials(t["admin"], "?merchant_id=%d" % t["merchant_b"]["id"]) == ["SP-0002"]
    assert serials(t["admin"], "?q=0003") == ["SP-0003"]
    assert serials(t["admin"], "?q=%25") == []           # a LIKE wildcard is a literal here
    assert client.post("/api/v1/terminals", json={"serial": "SP-9"}, headers=t["owner-a"]).status_code == 403
    # moving a terminal into a store of the operator; out of it with 0
    tid = term["id"]
    r = client.patch("/api/v1/terminals/%d" % tid, json={"store_id": t["store_b"]["id"]}, headers=t["admin"])
    assert r.json()["merchant_id"] == t["merchant_b"]["id"]
    assert serials(t["owner-a"]) == []
    r = client.patch("/api/v1/terminals/%d" % tid, json={"store_id": 0}, headers=t["admin"])
    assert r.json()["store_id"] is None
    r = client.delete("/api/v1/stores/%d" % t["store_b"]["id"], headers=t["admin"])
    assert r.status_code == 409 and "terminal" in r.json()["detail"]
