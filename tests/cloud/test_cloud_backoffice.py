"""The back office's dashboard: sales uploaded through the real device endpoint feed the facts in
the ingest's commit; the figures the dashboard shows are checked against SQL over the sales and
the journal, and against what was uploaded."""
import copy
import datetime

from sqlalchemy import func, select, text

from sales_fixtures import CARD, place_terminal, sale

from cloud.backoffice.models import LineFact, SaleFact, TenderFact
from cloud.insights.models import InsightBasket

DAY = datetime.date.today() - datetime.timedelta(days=1)


def at(day, hour, minute=15):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.timezone.utc).isoformat()


def uploads():
    coffee = [{"sku": "COF", "name": "Coffee", "qty": 1, "unit_price": 350, "amount": 350, "tax_rate_bp": 1000}]
    week_before = DAY - datetime.timedelta(days=7)
    return [
        sale(1, terminal_time=at(DAY, 9), member_id="M1"),                                      # card 15.40
        sale(2, terminal_time=at(DAY, 14), member_id="M1", tip=50, cashier="BEN",
             discounts=[{"label": "staff", "amount": 100, "tax_rate_bp": 1000, "funder": "shop"}],
             tenders=[{"type": "cash", "amount": 1490}]),
        sale(3, terminal_time=at(week_before, 9), member_id="M2",
             tenders=[{"type": "wallet", "amount": 1540, "wallet": {"name": "PayQR", "order_ref": "o-3"}}]),
        sale(4, kind="refund", original_invoice=1, terminal_time=at(DAY - datetime.timedelta(days=1), 11),
             lines=coffee, tenders=[{"type": "card", "amount": 350, "card": copy.deepcopy(CARD)}]),
        sale(5, terminal_time=at(DAY, 16), member_id="M2", tenders=[{"type": "gift_card", "amount": 1540}]),
    ]


def load(client, tenancy):
    till = place_terminal(client, tenancy["admin"], tenancy["store_a"]["id"], "till-a1")
    for body in uploads():
        r = client.post(till["url"], json=body, headers=till["dev"])
        assert r.status_code == 201, r.text
    return till


def test_dashboard_figures_match_the_database(client, app, tenancy):
    till = load(client, tenancy)
    mid = tenancy["merchant_a"]["id"]
    day_from = DAY - datetime.timedelta(days=6)
    r = client.get("/api/v1/merchants/%d/dashboard" % mid, params={"day_from": day_from.isoformat(),
                                                                  "day_to": DAY.isoformat()},
                   headers=tenancy["owner-a"])
    assert r.status_code == 200, r.text
    d = r.json()
    cur, prev = d["current"], d["previous"]
    with app.state.sessionmaker() as db:
        signed = "CASE WHEN kind = 'refund' THEN -total ELSE total END"
        net, n_sales = db.execute(text(
            "SELECT SUM(%s), SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) FROM sales WHERE merchant_id = :m "
            "AND business_day BETWEEN :a AND :b" % signed), {"m": mid, "a": day_from, "b": DAY}).one()
        tax = db.scalar(text(
            "SELECT -SUM(p.amount) FROM postings p JOIN journal_entries j ON j.id = p.entry_id JOIN sales s "
            "ON s.id = j.sale_id WHERE s.merchant_id = :m AND s.business_day BETWEEN :a AND :b AND "
            "p.account LIKE 'Liabilities:TaxPayable%'"), {"m": mid, "a": day_from, "b": DAY})
    assert cur["net_sales"] == net == 1540 + 1440 + 1540 - 350
    assert cur["transactions"] == n_sales == 3
    assert cur["tax"] == tax > 0
    assert (cur["sales"], cur["refunds"], cur["discounts"], cur["tips"]) == (4520, 350, 100, 50)
    assert cur["average_ticket"] == 4520 // 3
    assert (prev["net_sales"], prev["transactions"]) == (1540, 1)
    assert d["previous_to"] == (day_from - datetime.timedelta(days=1)).isoformat()
    hours = d["hours"]
    assert [(h, v) for h, v in enumerate(hours["day_net"]) if v] == [(9, 1540), (14, 1440), (16, 1540)]
    assert [(h, v) for h, v in enumerate(hours["week_before_net"]) if v] == [(9, 1540)]
    mix = {m["method"]: (m["amount"], m["count"]) for m in d["payment_mix"]}
    assert mix == {"card:visa": (1190, 2), "cash": (1490, 1), "gift": (1540, 1)}
    assert [(i["sku"], i["qty"]) for i in d["top_items"]] == [("COF", 5), ("SAN", 3)]
    assert d["slow_items"][0]["sku"] == "SAN"
    assert d["members"] == {"new": 1, "returning": 1}          # M1 first came this week, M2 the week before
    assert {c["name"]: c["net_sales"] for c in d["by_cashier"]} == {"ANNA": 1540 + 1540 - 350, "BEN": 1440}
    assert [(t["name"], t["net_sales"]) for t in d["by_terminal"]] == [("till-a1", 4170)]
    assert [(s["name"], s["transactions"]) for s in d["by_store"]] == [("Main", 3)]
    # a repeated delivery counts nothing twice; the insights got one basket per sale
    assert client.post(till["url"], json=uploads()[0], headers=till["dev"]).status_code == 200
    with app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(SaleFact)) == 5
        assert db.scalar(select(func.count()).select_from(TenderFact)) == 5
        assert db.scalar(select(func.count()).select_from(LineFact)) == 9
        baskets = db.execute(select(InsightBasket.kind, InsightBasket.tender, InsightBasket.items)
                             .order_by(InsightBasket.at)).all()
    assert baskets == [("sale", "qr", "COF SAN"), ("refund", "card", "COF"), ("sale", "card", "COF SAN"),
                       ("sale", "cash", "COF SAN"), ("sale", "gift", "COF SAN")]


def test_transactions_export_and_drill_down(client, tenancy):
    load(client, tenancy)
    mid = tenancy["merchant_a"]["id"]
    q = {"day_from": (DAY - datetime.timedelta(days=6)).isoformat(), "day_to": DAY.isoformat()}
    r = client.get("/api/v1/merchants/%d/dashboard/transactions.csv" % mid, params=q, headers=tenancy["staff-a"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = [ln.split(",") for ln in r.text.splitlines()]
    assert rows[0][:3] == ["receipt_id", "day", "hour"]
    assert [(x[5], x[6], x[11]) for x in rows[1:]] == [("4", "refund", "-350"), ("1", "sale", "1540"),
                                                       ("2", "sale", "1440"), ("5", "sale", "1540")]
    receipt = client.get("/api/v1/sales/%s/receipt.txt" % rows[2][0], headers=tenancy["staff-a"])
    assert receipt.status_code == 200 and "15.40" in receipt.text


def test_period_out_of_bounds_is_refused_clearly(client, tenancy):
    mid = tenancy["merchant_a"]["id"]
    r = client.get("/api/v1/merchants/%d/dashboard" % mid, params={"day_from": "2026-02-01", "day_to": "2026-01-01"},
                   headers=tenancy["owner-a"])
    assert r.status_code == 422 and "day_from on or before day_to" in r.text
    r = client.get("/api/v1/merchants/%d/dashboard" % mid, params={"day_from": "0001-01-01", "day_to": "0001-01-02"},
                   headers=tenancy["owner-a"])
    assert r.status_code == 422
    other = tenancy["store_b"]["id"]
    r = client.get("/api/v1/merchants/%d/dashboard" % mid, params={"store_id": other}, headers=tenancy["owner-a"])
    assert r.status_code == 404


def test_daily_report_pdf_reads_back_with_the_days_figures(client, tenancy):
    from io import BytesIO
    from pypdf import PdfReader
    load(client, tenancy)
    mid = tenancy["merchant_a"]["id"]
    r = client.get("/api/v1/merchants/%d/dashboard/daily-report.pdf" % mid, params={"day": DAY.isoformat()},
                   headers=tenancy["owner-a"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    words = " ".join(PdfReader(BytesIO(r.content)).pages[0].extract_text().split())
    assert "Daily report %s - Shop A" % DAY.isoformat() in words
    # net sales of the day 15.40 + 14.40 + 15.40 against 15.40 the week before; cash 14.90 paid
    assert "Net sales 45.20 EUR 15.40 EUR" in words
    assert "cash 14.90 EUR 1" in words and "Coffee 6 21.00 EUR" in words


def test_the_daily_rollup_equals_the_facts_it_sums(client, app, tenancy):
    """The dashboard's totals read the rollup the ingest keeps (cloud.backoffice.rollup); every
    period, store and merchant gives the same figures as the sale facts themselves."""
    from cloud.backoffice import dashboard
    from cloud.backoffice.models import StoreDay
    till = load(client, tenancy)
    assert client.post(till["url"], json=uploads()[1], headers=till["dev"]).status_code == 200   # counted once
    mid, store = tenancy["merchant_a"]["id"], tenancy["store_a"]["id"]
    with app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(StoreDay)) == 3          # three days had sales
        periods = [(DAY - datetime.timedelta(days=k), DAY) for k in (0, 1, 6, 13, 30)] + [
            (DAY - datetime.timedelta(days=7), DAY - datetime.timedelta(days=7))]
        for day_from, day_to in periods:
            for store_id in (None, store):
                got = dashboard.totals(db, mid, day_from, day_to, store_id)
                assert got == dashboard.totals_of_facts(db, mid, day_from, day_to, store_id), (day_from, store_id)
        assert dashboard.totals(db, mid, DAY - datetime.timedelta(days=13), DAY)["net_sales"] == 4520 + 1540 - 350
        assert dashboard.totals(db, tenancy["merchant_b"]["id"], DAY - datetime.timedelta(days=13), DAY) == \
            dashboard.totals_of_facts(db, tenancy["merchant_b"]["id"], DAY - datetime.timedelta(days=13), DAY)
        from cloud.tenants.models import Merchant
        ranked = dashboard.ranked_merchants(db, db.get(Merchant, mid).operator_id, DAY - datetime.timedelta(days=13),
                                            DAY)
    assert [(r["merchant_id"], r["net_sales"], r["transactions"]) for r in ranked] == [(mid, 4520 + 1540 - 350, 4)]
