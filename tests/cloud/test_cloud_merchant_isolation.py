"""No data crosses merchants: every endpoint of the OpenAPI description that names a merchant's
object (merchant, store, terminal, account, sale, member, or a parameter scope of one) is called with
merchant B's owner and staff tokens on merchant A's objects, with a valid body where one is
needed, and answers 404 or 403; A's objects are unchanged afterwards.  A new endpoint is tried
by itself; one that needs a body must get an entry in BODIES."""
import datetime

import pytest

from sales_fixtures import place_terminal, sale

SCOPED = ("merchant_id", "store_id", "terminal_id", "account_id", "sale_id", "scope_id", "order_id", "take_id",
          "member_id", "campaign_id", "gift_card_id")
TODAY = datetime.date.today().isoformat()
BODIES = {
    ("PATCH", "/api/v1/accounts/{account_id}"): {"display_name": "taken over"},
    ("PATCH", "/api/v1/merchants/{merchant_id}"): {"name": "taken over"},
    ("PATCH", "/api/v1/stores/{store_id}"): {"name": "taken over"},
    ("PATCH", "/api/v1/terminals/{terminal_id}"): {"model": "taken over"},
    ("PUT", "/api/v1/tms/parameters/{scope}/{scope_id}"): {"files": {"terminal.json": {"x": 1}}},
    ("PUT", "/api/v1/terminals/{terminal_id}/kek"): {"key": "0123456789ABCDEF0123456789ABCDEF"},
    ("POST", "/api/v1/terminals/{terminal_id}/diagnostics"): {"what": "logs"},
    ("PUT", "/api/v1/merchants/{merchant_id}/members/{member}/privacy"): {"recommendations_opt_out": True},
    ("POST", "/api/v1/merchants/{merchant_id}/recommendations"): {"member": "M1", "basket": ["SKU1"]},
    ("POST", "/api/v1/merchants/{merchant_id}/credit-consents"): {"lender_id": None, "days": 30},   # filled in below
    ("POST", "/api/v1/merchants/{merchant_id}/catalog/items"): {"sku": "COF", "barcode": "4006381333931",
                                                                "name": "Taken over", "price": 1},
    ("POST", "/api/v1/merchants/{merchant_id}/catalog/categories"): {"name": "Taken over"},
    ("POST", "/api/v1/merchants/{merchant_id}/catalog/import"): "sku,barcode,name,price\nCOF,4006381333931,X,0.01\n",
    ("POST", "/api/v1/stores/{store_id}/stock/adjustments"): {"sku": "COF", "qty": -5, "note": "taken"},
    ("POST", "/api/v1/stores/{store_id}/purchase-orders"): {"supplier": "X", "lines": [{"sku": "COF", "qty": 1}]},
    ("POST", "/api/v1/stores/{store_id}/stock-takes"): {},
    ("POST", "/api/v1/purchase-orders/{order_id}/receipts"): {"ref": "B", "lines": [{"sku": "COF", "qty": 1}]},
    ("POST", "/api/v1/stock-takes/{take_id}/counts"): {"lines": [{"sku": "COF", "qty": 1}]},
    ("PUT", "/api/v1/merchants/{merchant_id}/member-programme"): {"spend_unit": 1, "points_per_unit": 100},
    ("POST", "/api/v1/merchants/{merchant_id}/members"): {"name": "Taken Over", "phone": "13800009999"},
    ("POST", "/api/v1/members/{member_id}/cards"): {"uid": "0A0B0C0D"},
    ("POST", "/api/v1/members/{member_id}/stored-value"): {"amount": 100000},
    ("POST", "/api/v1/merchants/{merchant_id}/gift-cards"): {"balance": 100000},
    ("POST", "/api/v1/gift-cards/{gift_card_id}/top-up"): {"amount": 100000},
    ("POST", "/api/v1/merchants/{merchant_id}/campaigns"): {"name": "Taken over", "lines": ["TAKEN"],
                                                           "starts_at": "2026-01-01T00:00",
                                                           "ends_at": "2099-01-01T00:00"},
    ("PUT", "/api/v1/campaigns/{campaign_id}/image"): "not a picture",
    ("POST", "/api/v1/stores/{store_id}/reconciliations"): {
        "source": "acquirer", "name": "Demo Acquirer", "day": TODAY,
        "file": "date,reference,amount,currency,fee\n%s,000000123456,15.40,EUR,0\n" % TODAY},
}


def scoped_operations(app):
    out = []
    for path, ops in app.openapi()["paths"].items():
        if not path.startswith("/api/v1/") or not any("{%s}" % p in path for p in SCOPED):
            continue
        for method, op in ops.items():
            out.append((method.upper(), path, op.get("requestBody", {}).get("required", False)))
    return out


def test_another_merchants_token_gets_404_or_403_everywhere(client, app, tenancy):
    admin = tenancy["admin"]
    till = place_terminal(client, admin, tenancy["store_a"]["id"], "till-a1")
    sid = client.post(till["url"], json=sale(1), headers=till["dev"]).json()["receipt_id"]
    accounts = client.get("/api/v1/accounts", headers=admin).json()
    owner_a = next(a["id"] for a in accounts if a["username"] == "owner-a")
    ids = {"merchant_id": tenancy["merchant_a"]["id"], "store_id": tenancy["store_a"]["id"], "terminal_id": till["id"],
           "account_id": owner_a, "sale_id": sid, "day": TODAY, "request_id": 1, "filename": "x"}
    # a lender, and merchant A's consent to it: another merchant may neither grant nor revoke
    lender = client.post("/api/v1/lenders", json={"name": "Factoring Partner"}, headers=admin).json()["id"]
    BODIES[("POST", "/api/v1/merchants/{merchant_id}/credit-consents")]["lender_id"] = lender
    r = client.post("/api/v1/merchants/%d/credit-consents" % ids["merchant_id"], json={"lender_id": lender},
                    headers=tenancy["owner-a"])
    assert r.status_code == 201, r.text
    ids.update(member="M1", consent_id=r.json()["id"])
    # merchant A's catalog, a purchase order and an open stock take
    r = client.post("/api/v1/merchants/%d/catalog/import" % ids["merchant_id"], headers=dict(admin, **{
        "Content-Type": "text/csv"}), content=b"sku,barcode,name,price\nCOF,4006381333931,Coffee,3.50\n")
    assert r.status_code == 200, r.text
    po = client.post("/api/v1/stores/%d/purchase-orders" % ids["store_id"], headers=admin,
                     json={"supplier": "Roastery", "lines": [{"sku": "COF", "qty": 4}]}).json()
    take = client.post("/api/v1/stores/%d/stock-takes" % ids["store_id"], headers=admin, json={}).json()
    ids.update(sku="COF", order_id=po["id"], take_id=take["id"])
    # merchant A's member programme and a member: another merchant may not read, change or use them
    r = client.put("/api/v1/merchants/%d/member-programme" % ids["merchant_id"], json={}, headers=tenancy["owner-a"])
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/merchants/%d/members" % ids["merchant_id"], json={"name": "Li Wei", "phone": "13800001234"},
                    headers=tenancy["owner-a"])
    assert r.status_code == 201, r.text
    ids["member_id"] = r.json()["id"]
    # merchant A's idle-screen campaign: another merchant may neither see, change nor end it
    r = client.post("/api/v1/merchants/%d/campaigns" % ids["merchant_id"], headers=tenancy["owner-a"],
                    json=BODIES[("POST", "/api/v1/merchants/{merchant_id}/campaigns")])
    assert r.status_code == 201, r.text
    ids["campaign_id"] = r.json()["id"]
    # merchant A's gift card: another merchant may neither read nor top it up, nor issue for A
    r = client.post("/api/v1/merchants/%d/gift-cards" % ids["merchant_id"], json={"balance": 500},
                    headers=tenancy["owner-a"])
    assert r.status_code == 201, r.text
    ids["gift_card_id"] = r.json()["id"]
    ops = scoped_operations(app)
    assert len(ops) >= 25
    missing = [(m, p) for m, p, needs in ops if needs and (m, p) not in BODIES]
    assert missing == [], "give these endpoints a valid body in BODIES: %s" % missing
    before = {k: client.get(u, headers=admin).json() for k, u in (
        ("merchant", "/api/v1/merchants/%d" % ids["merchant_id"]), ("store", "/api/v1/stores/%d" % ids["store_id"]),
        ("terminal", "/api/v1/terminals/%d" % ids["terminal_id"]), ("sale", "/api/v1/sales/%d" % sid),
        ("member", "/api/v1/members/%d" % ids["member_id"]),
        ("programme", "/api/v1/merchants/%d/member-programme" % ids["merchant_id"]),
        ("members", "/api/v1/merchants/%d/members" % ids["merchant_id"]),
        ("campaigns", "/api/v1/merchants/%d/campaigns" % ids["merchant_id"]),
        ("gift cards", "/api/v1/merchants/%d/gift-cards" % ids["merchant_id"]))}
    tried = 0
    for who in ("owner-b", "staff-b"):
        for method, path, _ in ops:
            scopes = [("merchant", ids["merchant_id"]), ("store", ids["store_id"]), ("terminal", ids["terminal_id"])] \
                if "{scope}" in path else [(None, None)]
            for scope, scope_id in scopes:
                url = path.format(scope=scope, scope_id=scope_id, **ids)
                r = client.request(method, url, json=BODIES.get((method, path)), headers=tenancy[who])
                # the lenders' API takes no person's token at all (401): it reads nothing either
                allowed = (401, 403, 404) if path.startswith("/api/v1/lending/") else (403, 404)
                assert r.status_code in allowed, (who, method, url, r.status_code, r.text[:300])
                assert "Shop A" not in r.text
                tried += 1
    assert tried >= 50
    after = {k: client.get(u, headers=admin).json() for k, u in (
        ("merchant", "/api/v1/merchants/%d" % ids["merchant_id"]), ("store", "/api/v1/stores/%d" % ids["store_id"]),
        ("terminal", "/api/v1/terminals/%d" % ids["terminal_id"]), ("sale", "/api/v1/sales/%d" % sid),
        ("member", "/api/v1/members/%d" % ids["member_id"]),
        ("programme", "/api/v1/merchants/%d/member-programme" % ids["merchant_id"]),
        ("members", "/api/v1/merchants/%d/members" % ids["merchant_id"]),
        ("campaigns", "/api/v1/merchants/%d/campaigns" % ids["merchant_id"]),
        ("gift cards", "/api/v1/merchants/%d/gift-cards" % ids["merchant_id"]))}
    assert after == before
    assert client.get("/api/v1/merchants/%d/catalog" % ids["merchant_id"], headers=admin).json()["version"] == 1
    assert client.get("/api/v1/merchants/%d/catalog/items" % ids["merchant_id"], headers=admin).json()[0]["price"] == 350
    assert client.get("/api/v1/stores/%d/stock/movements" % ids["store_id"], headers=admin).json() == []
    assert client.get("/api/v1/stock-takes/%d" % ids["take_id"], headers=admin).json()["lines"] == []
    assert client.get("/api/v1/purchase-orders/%d" % ids["order_id"], headers=admin).json()["state"] == "open"
    assert client.get("/api/v1/stores/%d/days" % ids["store_id"], headers=admin).json() == []
    assert client.get("/api/v1/stores/%d/reconciliations" % ids["store_id"], headers=admin).json() == []
