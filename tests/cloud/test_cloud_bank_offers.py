"""Per-bank report of the discounts issuing banks funded through card-linked offers: sales
uploaded through the device endpoint, the report per bank and campaign checked against the
postings the books made to each bank's receivable account."""
import copy
import datetime

from sqlalchemy import text

from sales_fixtures import CARD, place_terminal, sale

DAY = datetime.date.today() - datetime.timedelta(days=1)
AT = datetime.datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=datetime.timezone.utc).isoformat()


def offer(invoice, bank, campaign, off, kind="sale", **kw):
    """The 15.40 sale with `off` paid by `bank`'s offer `campaign`: the card pays the rest."""
    return sale(invoice, kind=kind, terminal_time=AT,
                discounts=[{"label": campaign, "amount": off, "tax_rate_bp": 2000, "funder": "campaign",
                            "campaign": bank}],
                tenders=[{"type": "card", "amount": 1540 - off, "card": copy.deepcopy(CARD)}], **kw)


def test_bank_funded_discounts_are_reported_per_bank_for_settlement(client, app, tenancy):
    till = place_terminal(client, tenancy["admin"], tenancy["store_a"]["id"], "till-offers")
    bodies = [offer(1, "EXAMPLE BANK", "EXB10", 154), offer(2, "EXAMPLE BANK", "EXB10", 154),
              offer(3, "UNION BANK", "UPAY5", 77),
              offer(4, "EXAMPLE BANK", "EXB10", 154, kind="refund", original_invoice=1),
              sale(5, terminal_time=AT),                                            # no offer
              sale(6, terminal_time=AT, discounts=[{"label": "staff", "amount": 100, "tax_rate_bp": 2000,
                                                    "funder": "shop"}],
                   tenders=[{"type": "cash", "amount": 1440}])]                     # the shop's own
    for body in bodies:
        r = client.post(till["url"], json=body, headers=till["dev"])
        assert r.status_code == 201, r.text
    mid = tenancy["merchant_a"]["id"]
    r = client.get("/api/v1/merchants/%d/bank-offers" % mid,
                   params={"day_from": DAY.isoformat(), "day_to": DAY.isoformat()}, headers=tenancy["owner-a"])
    assert r.status_code == 200, r.text
    banks = r.json()["banks"]
    assert banks == [
        {"bank": "EXAMPLE BANK", "currency": "EUR", "funded": 154,
         "campaigns": [{"campaign": "EXB10", "sales": 2, "refunds": 1, "funded": 154, "card_paid": 1386}]},
        {"bank": "UNION BANK", "currency": "EUR", "funded": 77,
         "campaigns": [{"campaign": "UPAY5", "sales": 1, "refunds": 0, "funded": 77, "card_paid": 1463}]}]
    # what the report says each bank owes is what the books hold receivable from it
    with app.state.sessionmaker() as db:
        for b in banks:
            booked = db.execute(text(
                "SELECT SUM(p.amount) FROM postings p JOIN journal_entries j ON j.id = p.entry_id "
                "WHERE j.merchant_id = :m AND p.account = :a"),
                {"m": mid, "a": "Assets:Receivables:Campaign:" + b["bank"].replace(" ", "-")}).scalar()
            assert booked == b["funded"], (b["bank"], booked)
    # a day without offers, another merchant's back office, a bad period
    r = client.get("/api/v1/merchants/%d/bank-offers" % mid, params={"day_from": "2001-01-01", "day_to": "2001-01-02"},
                   headers=tenancy["owner-a"])
    assert r.status_code == 200 and r.json()["banks"] == []
    assert client.get("/api/v1/merchants/%d/bank-offers" % tenancy["merchant_b"]["id"],
                      headers=tenancy["owner-a"]).status_code == 404
    r = client.get("/api/v1/merchants/%d/bank-offers" % mid, params={"day_from": DAY.isoformat(), "day_to": "2001-01-01"},
                   headers=tenancy["owner-a"])
    assert r.status_code == 422 and "day_from on or before day_to" in r.text
