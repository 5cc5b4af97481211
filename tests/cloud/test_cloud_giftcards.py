"""Gift cards in the cloud (docs/gift-cards.md): issued in the back office with a balance and a
ledger, the balance asked and spent by a terminal with its invoice as the idempotency key (a
repeated redemption spends once), less balance than asked refused with what it holds, an
unknown or mistyped number refused, a refund back to the card bounded by what was spent, and a
gift-card sale booked as a reduction of the gift-card liability."""
from sales_fixtures import place_terminal, sale


def _setup(client, tenancy, balance=5000):
    m = tenancy["merchant_a"]["id"]
    r = client.post("/api/v1/merchants/%d/gift-cards" % m, json={"balance": balance}, headers=tenancy["owner-a"])
    assert r.status_code == 201, r.text
    t = place_terminal(client, tenancy["admin"], tenancy["store_a"]["id"], "POS-G1")
    return r.json(), t, "/default/controller/v1/POS-G1/giftcards/"


def _luhn_ok(n):
    s = 0
    for i, ch in enumerate(reversed(n)):
        d = int(ch) * (2 if i % 2 else 1)
        s += d - 9 if d > 9 else d
    return s % 10 == 0


def test_issue_balance_redeem_exactly_once_and_history(client, tenancy):
    card, t, base = _setup(client, tenancy)
    n = card["number"]
    assert len(n) == 12 and n[0] == "9" and _luhn_ok(n) and card["balance"] == 5000
    assert client.post("/api/v1/merchants/%d/gift-cards" % tenancy["merchant_a"]["id"], json={"balance": 100},
                       headers=tenancy["staff-a"]).status_code == 403
    assert client.get("/api/v1/gift-cards/%d" % card["id"], headers=tenancy["owner-b"]).status_code == 404
    got = client.get(base + n, headers=t["dev"])
    assert got.status_code == 200 and got.json() == {"number": "********" + n[-4:], "balance": 5000}
    first = client.post(base + n + "/redeem", json={"invoice": 7, "amount": 1200}, headers=t["dev"])
    assert first.status_code == 201 and first.json()["balance"] == 3800 and first.json()["status"] == "done"
    again = client.post(base + n + "/redeem", json={"invoice": 7, "amount": 1200}, headers=t["dev"])
    assert again.status_code == 200 and again.json()["balance"] == 3800 and again.json()["status"] == "duplicate"
    other = client.post(base + n + "/redeem", json={"invoice": 7, "amount": 900}, headers=t["dev"])
    assert other.status_code == 409 and "already moved" in other.json()["detail"]
    short = client.post(base + n + "/redeem", json={"invoice": 8, "amount": 3801}, headers=t["dev"])
    assert short.status_code == 409 and "holds 3800, less than the 3801 asked" in short.json()["detail"]
    whole = client.get("/api/v1/gift-cards/%d" % card["id"], headers=tenancy["staff-a"]).json()
    assert whole["balance"] == 3800
    assert [(e["kind"], e["amount"], e["balance"], e["terminal"], e["invoice"]) for e in whole["entries"]] == [
        ("issue", 5000, 5000, None, None), ("redeem", -1200, 3800, "POS-G1", 7)]
    listed = client.get("/api/v1/merchants/%d/gift-cards" % tenancy["merchant_a"]["id"], headers=tenancy["staff-a"])
    assert [(c["number"], c["balance"]) for c in listed.json()] == [(n, 3800)]


def test_unknown_mistyped_and_foreign_numbers_are_refused(client, tenancy):
    card, t, base = _setup(client, tenancy)
    n = card["number"]
    wrong = n[:-1] + str((int(n[-1]) + 1) % 10)                        # the check digit off by one
    r = client.get(base + wrong, headers=t["dev"])
    assert r.status_code == 422 and "check digit" in r.json()["detail"]
    unknown = "9" + ("1" if n[1] != "1" else "2") + n[2:-1]
    unknown += str([d for d in range(10) if _luhn_ok(unknown + str(d))][0])
    r = client.post(base + unknown + "/redeem", json={"invoice": 1, "amount": 1}, headers=t["dev"])
    assert r.status_code == 404 and unknown not in r.text
    assert client.get(base + "12345", headers=t["dev"]).status_code == 422
    assert client.get(base + n).status_code == 401                      # no TargetToken
    # another merchant's terminal does not know merchant a's card
    tb = place_terminal(client, tenancy["admin"], tenancy["store_b"]["id"], "POS-G2")
    assert client.get("/default/controller/v1/POS-G2/giftcards/" + n, headers=tb["dev"]).status_code == 404


def test_refund_goes_back_to_the_card_once_and_never_beyond_what_was_spent(client, tenancy):
    card, t, base = _setup(client, tenancy)
    n = card["number"]
    assert client.post(base + n + "/redeem", json={"invoice": 3, "amount": 2000}, headers=t["dev"]).status_code == 201
    r = client.post(base + n + "/refund", json={"invoice": 4, "original_invoice": 3, "amount": 1500}, headers=t["dev"])
    assert r.status_code == 201 and r.json()["balance"] == 4500
    r = client.post(base + n + "/refund", json={"invoice": 4, "original_invoice": 3, "amount": 1500}, headers=t["dev"])
    assert r.status_code == 200 and r.json()["balance"] == 4500
    r = client.post(base + n + "/refund", json={"invoice": 5, "original_invoice": 3, "amount": 501}, headers=t["dev"])
    assert r.status_code == 409 and "too much" in r.json()["detail"]
    r = client.post(base + n + "/refund", json={"invoice": 6, "original_invoice": 9, "amount": 1}, headers=t["dev"])
    assert r.status_code == 409 and "spent nothing" in r.json()["detail"]


def test_a_gift_card_sale_reduces_the_gift_card_liability(client, tenancy):
    card, t, _ = _setup(client, tenancy)
    body = sale(31, tenders=[{"type": "gift_card", "amount": 1000}, {"type": "cash", "amount": 540}])
    r = client.post(t["url"], json=body, headers=t["dev"])
    assert r.status_code == 201, r.text
    got = client.get("/api/v1/sales/%d" % r.json()["receipt_id"], headers=tenancy["staff-a"]).json()
    posts = {p["account"]: p["amount"] for p in got["postings"]}
    assert posts["Liabilities:GiftCards"] == 1000 and posts["Assets:Cash:Drawer"] == 540
