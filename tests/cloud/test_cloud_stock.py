"""Catalog and stock in the cloud (docs/stock.md): price-list import whole or not at all, the
catalog version, sales moving stock exactly once, purchase orders and receiving, stock takes
with variance, low-stock alerts, tenancy.  On SQLite and PostgreSQL (conftest)."""
from sales_fixtures import place_terminal, sale

PRICE_LIST = """sku,barcode,name,name_zh,price,tax,unit,category,plu,reorder_level
COF,4006381333931,Coffee,咖啡,3.50,1,piece,Drinks,1,5
SAN,96385074,Sandwich,三明治,8.40,2,piece,Food,0,2
APL,2312345000002,Apples,苹果,2.99,1,kg,Fruit,2,0
"""


def _import(client, who, merchant_id, text):
    return client.post("/api/v1/merchants/%d/catalog/import" % merchant_id, content=text.encode(),
                       headers=dict(who, **{"Content-Type": "text/csv"}))


def _levels(client, who, store_id):
    return {r["sku"]: r for r in client.get("/api/v1/stores/%d/stock" % store_id, headers=who).json()}


def test_price_list_imports_whole_or_not_at_all(client, tenancy):
    m, owner = tenancy["merchant_a"]["id"], tenancy["owner-a"]
    r = _import(client, owner, m, PRICE_LIST)
    assert r.status_code == 200, r.text
    assert r.json() == {"version": 1, "created": 3, "changed": 0, "unchanged": 0}
    items = {i["sku"]: i for i in client.get("/api/v1/merchants/%d/catalog/items" % m, headers=owner).json()}
    assert items["COF"]["price"] == 350 and items["COF"]["key"] == "04006381333931"
    assert items["SAN"]["key"] == "00000096385074" and items["APL"]["key"] == "02312345000000"
    assert items["APL"]["unit"] == "kg" and items["COF"]["name_zh"] == "咖啡" and items["COF"]["category"] == "Drinks"
    cats = client.get("/api/v1/merchants/%d/catalog/categories" % m, headers=owner).json()
    assert sorted((c["name"], c["code"]) for c in cats) == [("Drinks", 1), ("Food", 2), ("Fruit", 3)]
    # the same list again changes nothing a terminal sees: no new version
    assert _import(client, owner, m, PRICE_LIST).json() == {"version": 1, "created": 0, "changed": 0, "unchanged": 3}
    # a list with a good change and bad rows: every problem reported, nothing stored
    bad = ("sku,barcode,name,price\nCOF,4006381333931,Coffee,3.90\nBAD,4006381333932,Wrong digit,1.00\n"
           "TEA,4006381333931,Tea,1.234\nCOF,96385074,Coffee again,1\n")
    r = _import(client, owner, m, bad)
    assert r.status_code == 422
    got = {(p["row"], p["column"]) for p in r.json()["detail"]}
    assert got == {(3, "barcode"), (4, "price")}, r.json()
    assert "check digit wrong" in r.json()["detail"][0]["msg"]
    r = _import(client, owner, m, "sku,barcode,name,price\nCOF,4006381333931,Coffee,3.90\n"
                                  "COF,96385074,Coffee again,1\nTEA,96385074,Tea,1\n")
    assert r.status_code == 422
    msgs = " | ".join("%s %s %s" % (p["row"], p["column"], p["msg"]) for p in r.json()["detail"])
    assert "3 sku COF also on row 2" in msgs and "barcode key 00000096385074" in msgs, msgs
    assert client.get("/api/v1/merchants/%d/catalog" % m, headers=owner).json() == {"version": 1, "floor": 0, "items": 3}
    assert client.get("/api/v1/merchants/%d/catalog/items?q=COF" % m, headers=owner).json()[0]["price"] == 350
    # unknown columns and a missing one are named
    r = _import(client, owner, m, "sku,barcode,title,price\n")
    assert {(p["column"], p["msg"][:14]) for p in r.json()["detail"]} == {("name", "column missing"),
                                                                         ("title", "unknown column")}
    # staff may not change the catalog; another merchant's owner does not see it
    assert _import(client, tenancy["staff-a"], m, PRICE_LIST).status_code == 403
    assert _import(client, tenancy["owner-b"], m, PRICE_LIST).status_code == 404
    # one change by the API: a new version; removing takes another
    r = client.post("/api/v1/merchants/%d/catalog/items" % m, headers=owner,
                    json={"sku": "COF", "barcode": "4006381333931", "name": "Coffee", "price": 390, "tax": 1})
    assert r.status_code == 201 and r.json()["catalog_version"] == 2
    r = client.delete("/api/v1/merchants/%d/catalog/items/SAN" % m, headers=owner)
    assert r.json() == {"sku": "SAN", "active": False, "catalog_version": 3}


def test_sales_move_stock_exactly_once_and_raise_low_stock(client, tenancy):
    m, s, owner, admin = tenancy["merchant_a"]["id"], tenancy["store_a"]["id"], tenancy["owner-a"], tenancy["admin"]
    assert _import(client, owner, m, PRICE_LIST).status_code == 200
    t = place_terminal(client, admin, s, "T-STOCK-1")
    po = client.post("/api/v1/stores/%d/purchase-orders" % s, headers=owner,
                     json={"supplier": "Roastery", "lines": [{"sku": "COF", "qty": 8, "unit_cost": 120},
                                                             {"sku": "SAN", "qty": 3}]}).json()
    r = client.post("/api/v1/purchase-orders/%d/receipts" % po["id"], headers=tenancy["staff-a"],
                    json={"ref": "D1", "lines": [{"barcode": "4006381333931", "qty": 8}, {"sku": "SAN", "qty": 3}]})
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "received"
    body = sale(1)                     # COF x2, SAN x1
    assert client.post(t["url"], json=body, headers=t["dev"]).status_code == 201
    assert client.post(t["url"], json=body, headers=t["dev"]).status_code == 200        # the same upload again
    lv = _levels(client, owner, s)
    assert (lv["COF"]["on_hand"], lv["SAN"]["on_hand"]) == (6, 2)
    assert lv["SAN"]["low"] and not lv["COF"]["low"]
    for inv in (2, 3):
        assert client.post(t["url"], json=sale(inv), headers=t["dev"]).status_code == 201
    lv = _levels(client, owner, s)
    assert (lv["COF"]["on_hand"], lv["SAN"]["on_hand"]) == (2, 0)
    alerts = client.get("/api/v1/stores/%d/stock/alerts" % s, headers=owner).json()
    assert sorted((a["sku"], a["on_hand"]) for a in alerts) == [("COF", 4), ("SAN", 2)]
    # a refund puts back; the movement ledger shows each line once
    refund = sale(4, kind="refund", original_invoice=3)
    assert client.post(t["url"], json=refund, headers=t["dev"]).status_code == 201
    assert _levels(client, owner, s)["COF"]["on_hand"] == 4
    moves = client.get("/api/v1/stores/%d/stock/movements?sku=COF" % s, headers=owner).json()
    assert [(x["kind"], x["qty"], x["on_hand_after"]) for x in moves] == [
        ("refund", 2, 4), ("sale", -2, 2), ("sale", -2, 4), ("sale", -2, 6), ("receipt", 8, 8)]
    # an adjustment above the reorder level clears the open alert
    r = client.post("/api/v1/stores/%d/stock/adjustments" % s, headers=owner,
                    json={"sku": "SAN", "qty": 5, "note": "found in the back"})
    assert r.json() == {"sku": "SAN", "qty": 5, "on_hand": 6}        # 0, the refund 1, then 5
    assert [a["sku"] for a in client.get("/api/v1/stores/%d/stock/alerts" % s, headers=owner).json()] == ["COF"]
    assert [x["sku"] for x in client.get("/api/v1/stores/%d/stock?low=true" % s, headers=owner).json()] == ["COF"]
    # a weighed line moves grams: 2.99 a kg, 4.49 buys 1,502 g
    body = sale(5, lines=[{"sku": "APL", "name": "Apples", "qty": 1, "unit_price": 449, "amount": 449,
                           "tax_rate_bp": 1000}], tenders=[{"type": "cash", "amount": 449}])
    assert client.post(t["url"], json=body, headers=t["dev"]).status_code == 201
    assert _levels(client, owner, s)["APL"]["on_hand"] == -1502
    # another merchant sees none of it
    assert client.get("/api/v1/stores/%d/stock" % s, headers=tenancy["owner-b"]).status_code == 404


def test_receiving_against_an_order_then_a_stock_take(client, tenancy):
    m, s, owner, staff = (tenancy["merchant_a"]["id"], tenancy["store_a"]["id"], tenancy["owner-a"],
                          tenancy["staff-a"])
    _import(client, owner, m, PRICE_LIST)
    assert client.post("/api/v1/stores/%d/purchase-orders" % s, headers=staff,
                       json={"supplier": "X", "lines": [{"sku": "COF", "qty": 1}]}).status_code == 403
    po = client.post("/api/v1/stores/%d/purchase-orders" % s, headers=owner,
                     json={"supplier": "Roastery", "lines": [{"sku": "COF", "qty": 10}, {"sku": "SAN", "qty": 4}]})
    assert po.status_code == 201, po.text
    url = "/api/v1/purchase-orders/%d/receipts" % po.json()["id"]
    r = client.post(url, headers=staff, json={"ref": "T1-1", "lines": [{"sku": "COF", "qty": 6}]})
    assert r.status_code == 201 and r.json()["state"] == "open"
    again = client.post(url, headers=staff, json={"ref": "T1-1", "lines": [{"sku": "COF", "qty": 6}]})
    assert again.status_code == 200 and again.json()["receipt"]["repeated"]
    # too many, and an item not ordered: refused whole (the good line is not booked either)
    r = client.post(url, headers=staff, json={"ref": "T1-2", "lines": [{"sku": "SAN", "qty": 4},
                                                                       {"sku": "COF", "qty": 5}, {"sku": "APL", "qty": 1}]})
    assert r.status_code == 409
    assert "COF: 5 more would make 11 received of 10 ordered" in r.json()["detail"]
    assert "APL is not on order" in r.json()["detail"]
    r = client.post(url, headers=staff, json={"ref": "T1-3", "lines": [{"barcode": "4006381333932", "qty": 1}]})
    assert r.status_code == 404 and "line 1: 4006381333932: check digit wrong" in r.json()["detail"]
    assert _levels(client, owner, s)["COF"]["on_hand"] == 6 and _levels(client, owner, s)["SAN"]["on_hand"] == 0
    r = client.post(url, headers=staff, json={"ref": "T1-4", "lines": [{"sku": "SAN", "qty": 4}, {"sku": "COF", "qty": 4}]})
    assert r.status_code == 201 and r.json()["state"] == "received"
    assert [(ln["sku"], ln["qty_received"]) for ln in r.json()["lines"]] == [("COF", 10), ("SAN", 4)]
    r = client.post(url, headers=staff, json={"ref": "T1-5", "lines": [{"sku": "SAN", "qty": 1}]})
    assert r.status_code == 409 and "is received" in r.json()["detail"]
    # a stock take: nine coffees counted by scans against twelve on hand, five sandwiches set against three
    client.post("/api/v1/stores/%d/stock/adjustments" % s, headers=owner, json={"sku": "COF", "qty": 2, "note": "found"})
    client.post("/api/v1/stores/%d/stock/adjustments" % s, headers=owner, json={"sku": "SAN", "qty": -1, "note": "spoiled"})
    take = client.post("/api/v1/stores/%d/stock-takes" % s, headers=staff, json={}).json()
    assert client.post("/api/v1/stores/%d/stock-takes" % s, headers=staff, json={}).status_code == 409
    url = "/api/v1/stock-takes/%d" % take["id"]
    for _ in range(9):                                   # nine scans of the coffee
        client.post(url + "/counts", headers=staff, json={"lines": [{"barcode": "4006381333931", "qty": 1}]})
    r = client.post(url + "/counts", headers=staff, json={"mode": "set", "lines": [{"sku": "SAN", "qty": 5}]})
    assert [(ln["sku"], ln["counted"]) for ln in r.json()["lines"]] == [("COF", 9), ("SAN", 5)]
    assert client.post(url + "/close", headers=staff).status_code == 403
    r = client.post(url + "/close", headers=owner)
    assert [(ln["sku"], ln["expected"], ln["variance"]) for ln in r.json()["lines"]] == [("COF", 12, -3), ("SAN", 3, 2)]
    lv = _levels(client, owner, s)
    assert (lv["COF"]["on_hand"], lv["SAN"]["on_hand"], lv["APL"]["on_hand"]) == (9, 5, 0)
    assert client.post(url + "/counts", headers=staff, json={"lines": [{"sku": "SAN", "qty": 1}]}).status_code == 409

def test_two_first_imports_at_once_make_one_catalog(app, client, tenancy):
    """Two price lists of a merchant without a catalog yet, at the same time: both stored, one
    version each, nothing lost (the catalog head is made once)."""
    import threading
    m, owner = tenancy["merchant_a"]["id"], tenancy["owner-a"]
    lists = [PRICE_LIST, "sku,barcode,name,price\nTEA,036000291452,Tea,2.00\n"]
    answers = [None, None]

    def send(i):
        answers[i] = _import(client, owner, m, lists[i])
    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200, 200], [a.text for a in answers]
    assert sorted(a.json()["version"] for a in answers) == [1, 2]
    assert client.get("/api/v1/merchants/%d/catalog" % m, headers=owner).json() == {"version": 2, "floor": 0, "items": 4}
