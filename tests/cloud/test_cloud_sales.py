"""Sales sync, exactly once: the device endpoint's idempotency (terminal + invoice), conflicts
kept and never written over, reordered deliveries and gaps, skewed clocks, currencies, card data
masked only, bad bodies; the merchant's read endpoints and their tenancy."""
import copy
import datetime
import threading

import pytest
from sqlalchemy import text

from sales_fixtures import CARD, place_terminal, sale, when


@pytest.fixture
def shop(client, tenancy):
    a = place_terminal(client, tenancy["admin"], tenancy["store_a"]["id"], "till-a1")
    b = place_terminal(client, tenancy["admin"], tenancy["store_b"]["id"], "till-b1")
    return dict(tenancy, till_a=a, till_b=b)


def count(app, table):
    with app.state.engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM %s" % table)).scalar()


def test_a_sale_is_stored_once_and_acknowledged_after_commit(client, app, shop):
    t = shop["till_a"]
    r = client.post(t["url"], json=sale(1), headers=t["dev"])
    assert r.status_code == 201, r.text
    ack = r.json()
    assert ack["status"] == "stored" and ack["invoice"] == 1 and ack["flags"] == []
    # the acknowledgement came after the commit: another connection sees the sale and its entry
    with app.state.engine.connect() as c:
        assert c.execute(text("SELECT id, total, currency FROM sales")).one() == (ack["receipt_id"], 1540, "EUR")
        assert c.execute(text("SELECT count(*) FROM journal_entries WHERE sale_id = :s"),
                         {"s": ack["receipt_id"]}).scalar() == 1
    assert client.get("/api/v1/sales/%d" % ack["receipt_id"], headers=shop["owner-a"]).json()["total"] == 1540


def test_duplicate_delivery_answers_the_stored_receipt_and_counts_once(client, app, shop):
    t = shop["till_a"]
    body = sale(5)
    first = client.post(t["url"], json=body, headers=t["dev"])
    assert first.status_code == 201
    for sent in (when(0), when(0.01)):
        again = client.post(t["url"], json=dict(body, sent_at=sent), headers=t["dev"])
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "duplicate"
        assert again.json()["receipt_id"] == first.json()["receipt_id"]
    # key order and whitespace are not content
    reordered = {k: body[k] for k in reversed(list(body))}
    assert client.post(t["url"], json=reordered, headers=t["dev"]).status_code == 200
    assert count(app, "sales") == 1 and count(app, "journal_entries") == 1 and count(app, "sale_conflicts") == 0


def test_same_key_other_content_is_refused_flagged_and_never_overwritten(client, app, shop):
    t = shop["till_a"]
    body = sale(9)
    stored = client.post(t["url"], json=body, headers=t["dev"]).json()
    changed = copy.deepcopy(body)
    changed["lines"][0]["qty"], changed["lines"][0]["amount"] = 3, 1050
    changed["tenders"][0]["amount"] = 1890
    for _ in range(2):
        r = client.post(t["url"], json=changed, headers=t["dev"])
        assert r.status_code == 409, r.text
        assert "receipt id %d" % stored["receipt_id"] in r.json()["detail"]
        assert "kept as conflict" in r.json()["detail"]
    with app.state.engine.connect() as c:
        assert c.execute(text("SELECT total FROM sales")).scalar() == 1540          # not overwritten
        assert c.execute(text("SELECT deliveries FROM sale_conflicts")).scalar() == 2
    owner = shop["owner-a"]
    conflicts = client.get("/api/v1/sale-conflicts", headers=owner).json()
    assert len(conflicts) == 1 and conflicts[0]["sale_id"] == stored["receipt_id"]
    assert conflicts[0]["content"]["lines"][0]["qty"] == 3 and conflicts[0]["deliveries"] == 2
    assert conflicts[0]["content_sha256"] != conflicts[0]["stored_sha256"]
    assert client.get("/api/v1/sale-conflicts", headers=shop["owner-b"]).json() == []
    # the operator's audit log says so
    audit = client.get("/api/v1/audit", headers=shop["admin"]).json()
    assert any(e["action"] == "sale_conflict" for e in audit)
    # and the original still answers as a duplicate
    assert client.post(t["url"], json=body, headers=t["dev"]).status_code == 200


def test_reordered_deliveries_are_taken_and_gaps_reported(client, shop):
    t = shop["till_a"]
    for inv in (7, 6, 3, 10):
        assert client.post(t["url"], json=sale(inv), headers=t["dev"]).status_code == 201
    gaps = client.get("/api/v1/sale-gaps", headers=shop["owner-a"]).json()
    assert gaps == [{"terminal_id": t["id"], "controller_id": "till-a1", "first_invoice": 3, "last_invoice": 10,
                     "received": 4, "missing": 4, "missing_ranges": [[4, 5], [8, 9]]}]
    for inv in (4, 5, 8, 9):
        client.post(t["url"], json=sale(inv), headers=t["dev"])
    assert client.get("/api/v1/sale-gaps", headers=shop["owner-a"]).json() == []
    listed = client.get("/api/v1/sales", params={"order": "received"}, headers=shop["owner-a"]).json()
    assert [s["invoice"] for s in listed] == [7, 6, 3, 10, 4, 5, 8, 9]


def test_concurrent_deliveries_of_one_key_store_it_once(client, app, shop):
    t = shop["till_a"]
    answers, body = [], sale(21)

    def deliver():
        answers.append(client.post(t["url"], json=body, headers=t["dev"]).status_code)
    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert answers.count(201) == 1
    assert set(answers) <= {200, 201, 503}
    assert count(app, "sales") == 1 and count(app, "journal_entries") == 1


def test_a_clock_hours_off_is_accepted_flagged_and_dated_by_the_server(client, app, shop):
    t = shop["till_a"]
    ahead = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)
    body = sale(30, terminal_time=(ahead - datetime.timedelta(minutes=10)).isoformat(), sent_at=ahead.isoformat())
    r = client.post(t["url"], json=body, headers=t["dev"])
    assert r.status_code == 201, r.text
    ack = r.json()
    assert ack["flags"] == ["clock_skew"] and abs(ack["clock_skew_s"] - 5 * 3600) < 60
    assert "off the server's" in ack["notes"][0]
    assert ack["business_day"] == (datetime.datetime.now(datetime.timezone.utc)
                                   - datetime.timedelta(minutes=10)).date().isoformat()
    # no sent_at: a completion time hours in the future is flagged too
    r = client.post(t["url"], json=sale(31, terminal_time=ahead.isoformat()), headers=t["dev"])
    assert r.json()["flags"] == ["clock_skew"]
    # a sale stored offline for days with a right clock is not flagged
    r = client.post(t["url"], json=sale(32, terminal_time=when(72), sent_at=when(0)), headers=t["dev"])
    assert r.json()["flags"] == [] and abs(r.json()["clock_skew_s"]) < 60
    listed = client.get("/api/v1/sales", params={"order": "received"}, headers=shop["owner-a"]).json()
    assert [s["invoice"] for s in listed] == [30, 31, 32]
    assert listed[0]["flags"] == ["clock_skew"]


def test_a_currency_the_store_does_not_use_is_refused(client, app, shop):
    t = shop["till_a"]
    for code, says in (("USD", "takes EUR (978), not USD (840)"), ("840", "not USD (840)"),
                       ("XYZ", "not an ISO 4217")):
        r = client.post(t["url"], json=sale(40, currency=code), headers=t["dev"])
        assert r.status_code == 422 and says in r.text, r.text
    assert client.post(t["url"], json=sale(40, currency="978"), headers=t["dev"]).status_code == 201
    assert count(app, "sales") == 1


def test_a_full_card_number_is_refused_without_echo(client, app, shop):
    t = shop["till_a"]
    full = "4761739001010119"
    body = sale(50)
    body["tenders"][0]["card"]["masked_pan"] = full
    r = client.post(t["url"], json=body, headers=t["dev"])
    assert r.status_code == 422 and "first 6 and last 4" in r.text and full not in r.text
    body = sale(50)
    body["lines"][0]["name"] = "card " + full
    r = client.post(t["url"], json=body, headers=t["dev"])
    assert r.status_code == 422 and "full card number" in r.text and full not in r.text
    body = sale(50)
    body["tenders"][0]["card"]["masked_pan"] = "47617300000119"     # not masked
    assert client.post(t["url"], json=body, headers=t["dev"]).status_code == 422
    assert count(app, "sales") == 0 and count(app, "sale_conflicts") == 0
    # a PAN-like field the EMV model does not know (tag 5A) is refused as an unknown field
    body = sale(50)
    body["tenders"][0]["card"]["emv"]["pan"] = full
    assert client.post(t["url"], json=body, headers=t["dev"]).status_code == 422


@pytest.mark.parametrize("change, says", [
    (lambda b: b["lines"][0].update(amount=701), "is not qty 2 x unit_price 350"),
    (lambda b: b["tenders"][0].update(amount=1500), "tenders pay 1500 but lines - discounts + tip is 1540"),
    (lambda b: b.update(discounts=[{"amount": 100, "tax_rate_bp": 700, "funder": "shop"}]), "no line has tax rate"),
    (lambda b: b.update(discounts=[{"amount": 10, "tax_rate_bp": 1000, "funder": "campaign"}]), "names its funder"),
    (lambda b: b["tenders"][0].pop("card"), "carries its card data"),
    (lambda b: b.update(original_invoice=3), "only a refund"),
    (lambda b: b.update(terminal_time="1970-01-01T00:00:00Z"), "set the clock"),
    (lambda b: b.update(sent_at="2213-01-01T00:00:00-12:00"), "set the clock"),
])
def test_sums_that_do_not_add_up_are_refused(client, app, shop, change, says):
    t = shop["till_a"]
    body = sale(60)
    change(body)
    r = client.post(t["url"], json=body, headers=t["dev"])
    assert r.status_code == 422 and says in r.text, r.text
    assert count(app, "sales") == 0


def test_malformed_and_oversized_bodies(client, app, shop):
    t = shop["till_a"]
    r = client.post(t["url"], content=b"{not json", headers=dict(t["dev"], **{"Content-Type": "application/json"}))
    assert r.status_code == 422
    r = client.post(t["url"], content=b"x" * (2 << 20), headers=dict(t["dev"], **{"Content-Type": "application/json"}))
    assert r.status_code == 413 and "too large" in r.text
    many = sale(70)
    many["lines"] = many["lines"] * 300
    assert client.post(t["url"], json=many, headers=t["dev"]).status_code == 422
    assert client.post(t["url"], json=dict(sale(70), invoice=0), headers=t["dev"]).status_code == 422
    assert client.post(t["url"], json=dict(sale(70), extra=1), headers=t["dev"]).status_code == 422
    assert count(app, "sales") == 0


def test_terminal_authentication_is_the_ddi_target_token(client, shop):
    t = shop["till_a"]
    assert client.post(t["url"], json=sale(1)).status_code == 401
    assert client.post(t["url"], json=sale(1), headers=shop["till_b"]["dev"]).status_code == 401
    assert client.post(t["url"], json=sale(1), headers=shop["owner-a"]).status_code == 401
    r = client.post(t["url"].replace("till-a1", "till-zz"), json=sale(1), headers=t["dev"])
    assert r.status_code == 401 and r.headers["www-authenticate"] == "TargetToken"


def test_a_terminal_outside_any_store_cannot_upload(client, shop):
    reg = client.post("/api/v1/terminals", json={"serial": "loose", "controller_id": "loose"}, headers=shop["admin"])
    tok = client.post("/api/v1/enroll", json={"activation_code": reg.json()["activation_code"], "serial": "loose"})
    r = client.post("/default/controller/v1/loose/sales", json=sale(1),
                    headers={"Authorization": "TargetToken " + tok.json()["target_token"]})
    assert r.status_code == 409 and "not placed in a store" in r.text


def test_one_sale_with_its_receipt_and_postings(client, shop):
    t = shop["till_a"]
    body = sale(80, member_id="M-0042", tip=100,
                discounts=[{"label": "Bank week", "amount": 40, "tax_rate_bp": 2000, "funder": "campaign",
                            "campaign": "Big Bank"}])
    body["tenders"] = [{"type": "card", "amount": 1000, "card": copy.deepcopy(CARD)},
                       {"type": "cash", "amount": 600}]
    sid = client.post(t["url"], json=body, headers=t["dev"]).json()["receipt_id"]
    got = client.get("/api/v1/sales/%d" % sid, headers=shop["staff-a"])
    assert got.status_code == 200, got.text
    s = got.json()
    assert s["total"] == 1500 and s["tip"] == 100 and s["member_id"] == "M-0042"
    receipt = s["receipt_text"]
    for want in ("Shop A", "INVOICE 80", "TERMINAL till-a1", "Coffee", "2 x 3.50", "7.00", "Bank week (Big Bank)",
                 "-0.40", "TOTAL EUR", "15.00", "TIP", "TOTAL WITH TIP", "16.00", "VISA 476173******0119",
                 "AUTH A1B2C3", "AID A0000000031010", "CASH", "6.00", "MEMBER M-0042", "RECEIPT %d" % sid):
        assert want in receipt, (want, receipt)
    assert all(len(line) <= 40 for line in receipt.splitlines())
    assert client.get("/api/v1/sales/%d/receipt.txt" % sid, headers=shop["owner-a"]).text == receipt
    posts = {(p["account"], p["tax_rate_bp"]): p["amount"] for p in s["postings"]}
    assert sum(posts.values()) == 0
    assert posts[("Assets:Receivables:Acquirer:Demo-Acquirer", None)] == 1000
    assert posts[("Assets:Cash:Drawer", None)] == 600
    assert posts[("Assets:Receivables:Campaign:Big-Bank", None)] == 40
    assert posts[("Liabilities:TipsPayable", None)] == -100
    # 7.00 at 10 %: tax 0.64; 8.40 at 20 % (the campaign pays 0.40 of it, the price stays): tax 1.40
    assert posts[("Liabilities:TaxPayable:Rate-10-00", 1000)] == -64
    assert posts[("Income:Sales:Rate-10-00", 1000)] == -636
    assert posts[("Liabilities:TaxPayable:Rate-20-00", 2000)] == -140
    assert posts[("Income:Sales:Rate-20-00", 2000)] == -700


def test_list_sales_filters(client, shop):
    a, b = shop["till_a"], shop["till_b"]
    for inv in (1, 2):
        client.post(a["url"], json=sale(inv), headers=a["dev"])
    client.post(b["url"], json=sale(1), headers=b["dev"])
    mine = client.get("/api/v1/sales", headers=shop["owner-a"]).json()
    assert [(s["controller_id"], s["invoice"]) for s in mine] == [("till-a1", 1), ("till-a1", 2)]
    everyone = client.get("/api/v1/sales", headers=shop["admin"]).json()
    assert len(everyone) == 3
    only_b = client.get("/api/v1/sales", params={"merchant_id": shop["merchant_b"]["id"]}, headers=shop["admin"])
    assert [s["controller_id"] for s in only_b.json()] == ["till-b1"]
    assert len(client.get("/api/v1/sales", params={"limit": 1, "offset": 1}, headers=shop["admin"]).json()) == 1


def test_every_merchant_scoped_endpoint_refuses_another_merchants_token(client, app, shop):
    """Merchant B's owner and staff try everything of merchant A: 404 (or 403), never A's data."""
    a = shop["till_a"]
    sid = client.post(a["url"], json=sale(1), headers=a["dev"]).json()["receipt_id"]
    changed = sale(1)
    changed["lines"][0]["name"] = "Other"
    client.post(a["url"], json=changed, headers=a["dev"])
    ma, sa = shop["merchant_a"]["id"], shop["store_a"]["id"]
    today = datetime.date.today().isoformat()
    settlement = {"source": "acquirer", "name": "Demo Acquirer", "day": today,
                  "file": "date,reference,amount,currency,fee\n%s,000000123456,15.40,EUR,0\n" % today}
    tried = {
        ("GET", "/api/v1/sales"): [{"merchant_id": ma}, {"store_id": sa}, {"terminal_id": a["id"]}],
        ("GET", "/api/v1/sales/{sale_id}"): [{}],
        ("GET", "/api/v1/sales/{sale_id}/receipt.txt"): [{}],
        ("GET", "/api/v1/sale-conflicts"): [{"merchant_id": ma}],
        ("GET", "/api/v1/sale-gaps"): [{"merchant_id": ma}, {"store_id": sa}],
        ("GET", "/api/v1/stores/{store_id}/days"): [{}],
        ("POST", "/api/v1/stores/{store_id}/days/{day}/close"): [{}],
        ("GET", "/api/v1/merchants/{merchant_id}/ledger"): [{}, {"format": "csv"}],
        ("GET", "/api/v1/merchants/{merchant_id}/tax-report"): [{}],
        ("GET", "/api/v1/stores/{store_id}/reconciliations"): [{}],
        ("POST", "/api/v1/stores/{store_id}/reconciliations"): [{}],
    }
    from cloud.sales.router import router
    assert {(m, r.path) for r in router.routes for m in r.methods} == set(tried), "a new endpoint to try here"
    for who in ("owner-b", "staff-b"):
        for (method, path), queries in tried.items():
            url = path.format(sale_id=sid, store_id=sa, merchant_id=ma, day=today)
            for q in queries:
                r = client.request(method, url, params=q, headers=shop[who],
                                   json=settlement if url.endswith("reconciliations") and method == "POST" else None)
                assert r.status_code in (403, 404), (who, method, url, q, r.status_code, r.text)
        # the lists without a filter hold none of A's rows
        assert client.get("/api/v1/sales", headers=shop[who]).json() == []
        assert client.get("/api/v1/sale-conflicts", headers=shop[who]).json() == []
    assert count(app, "day_closes") == 0 and count(app, "reconciliations") == 0
