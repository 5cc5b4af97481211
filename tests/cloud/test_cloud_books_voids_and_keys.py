"""A trading day's card payments reconciled by what both sides know of every payment (terminal id,
STAN and date; RRN where present), and voids: uploaded as voids of their sale, booked so that
the pair nets to zero, expected absent from the acquirer's settlement (docs/bookkeeping.md)."""
import copy
import datetime
import subprocess
from decimal import Decimal

from cloud.sales.contract import SaleIn, content
from sales_fixtures import CARD, sale
from test_cloud_books import BEAN_CHECK, beancount_totals, books, line, upload  # noqa: F401 (fixture)

DEMO = "Assets:Receivables:Acquirer:Demo-Acquirer"


def card_tender(amount, stan, rrn="", tid="TERM0001"):
    c = copy.deepcopy(CARD)
    c.update(stan=stan, rrn=rrn, tid=tid)
    return {"type": "card", "amount": amount, "card": c}


def paid(invoice, at, amount, stan, rrn="", tip=0, **kw):
    return sale(invoice, terminal_time=at, lines=[line("goods", amount, 2000)], tip=tip,
                tenders=[card_tender(amount + tip, stan, rrn)], **kw)


def today():
    return datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=5, second=0, microsecond=0)


def reconcile(client, books, day, rows, header="date,tid,stan,reference,amount,currency,fee"):
    r = client.post("/api/v1/stores/%d/reconciliations" % books["s"],
                    json={"source": "acquirer", "name": "Demo Acquirer", "day": day,
                          "file": "\r\n".join([header] + rows) + "\r\n"}, headers=books["owner-a"])
    assert r.status_code == 201, r.text
    return r.json()


def test_card_payments_match_by_terminal_id_stan_and_date_and_by_rrn_where_present(client, books):
    at = today()
    t = books["till"]
    upload(client, t, paid(1, at.isoformat(), 1000, "000011", rrn="263300000101"))    # online
    upload(client, t, paid(2, at.isoformat(), 2450, "000012"))          # offline approval: no RRN on the terminal
    upload(client, t, paid(3, at.isoformat(), 700, "000013"))           # offline, planted missing
    upload(client, t, paid(4, at.isoformat(), 300, "", rrn="263300000104"))   # no STAN: matched by its RRN
    upload(client, t, paid(5, at.isoformat(), 500, "000015"))           # settled under another day's date
    day = at.date().isoformat()
    other = (at - datetime.timedelta(days=1)).date().isoformat()
    rep = reconcile(client, books, day, [
        "%s,TERM0001,000011,263300000101,10.00,EUR,0.15" % day,
        "%s,TERM0001,000012,263300000102,24.50,EUR,0.37" % day,       # the advice's RRN: the terminal has none
        "%s,,,263300000104,3.00,EUR,0.05" % day,
        "%s,TERM0001,000015,263300000105,5.00,EUR,0.08" % other])      # a STAN wraps: not today's 000015
    assert rep["matched"] == 3
    got = [{k: d[k] for k in ("kind", "reference", "tid", "stan", "recorded", "settled")} for d in rep["differences"]]
    assert got == [
        {"kind": "missing_in_settlement", "reference": "", "tid": "TERM0001", "stan": "000013", "recorded": "7.00",
         "settled": None},
        {"kind": "missing_in_settlement", "reference": "", "tid": "TERM0001", "stan": "000015", "recorded": "5.00",
         "settled": None},
        {"kind": "extra_in_settlement", "reference": "263300000105", "tid": "TERM0001", "stan": "000015",
         "recorded": None, "settled": "5.00"}]
    # the file of the older format (reference only) is still read: matched by RRN where both have it
    old = reconcile(client, books, day, ["%s,263300000101,10.00,EUR,0" % day],
                    header="date,reference,amount,currency,fee")
    assert old["matched"] == 1 and len(old["differences"]) == 4


def test_an_amount_that_differs_is_reported_on_the_payment_matched_by_stan(client, books):
    at = today()
    upload(client, books["till"], paid(1, at.isoformat(), 1000, "000021"))
    day = at.date().isoformat()
    rep = reconcile(client, books, day, ["%s,TERM0001,21,263300000201,9.00,EUR,0" % day])   # STAN unpadded
    assert rep["matched"] == 0
    assert [(d["kind"], d["stan"], d["reference"], d["recorded"], d["settled"]) for d in rep["differences"]] == [
        ("amount_differs", "000021", "263300000201", "10.00", "9.00")]


def test_a_void_takes_its_sale_back_whole_and_is_expected_absent_from_settlement(client, books, tmp_path):
    at = today()
    t = books["till"]
    upload(client, t, paid(1, at.isoformat(), 1250, "000031", rrn="263300000301", tip=150))
    upload(client, t, paid(2, at.isoformat(), 800, "000032", rrn="263300000302"))
    # the void: the terminal's own entry (its STAN, its RRN), the sale's amount with its tip as one line
    v = upload(client, t, paid(3, at.isoformat(), 1400, "000033", rrn="263300000303", kind="void",
                               original_invoice=1))
    day = at.date().isoformat()
    led = client.get("/api/v1/merchants/%d/ledger" % books["m"], params={"day_from": day, "day_to": day},
                     headers=books["owner-a"]).text
    _, totals = beancount_totals(led)
    # sale 1 and its void net to zero on every account: only sale 2 stays
    assert totals[DEMO] == Decimal("8.00") and totals["Liabilities:TipsPayable"] == 0
    assert totals["Income:Sales:Rate-20-00"] == Decimal("-6.67") and "Income:Refunds:Rate-20-00" not in totals
    path = tmp_path / "ledger.beancount"
    path.write_text(led)
    done = subprocess.run([BEAN_CHECK, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    tax = client.get("/api/v1/merchants/%d/tax-report" % books["m"], params={"day_from": day, "day_to": day},
                     headers=books["owner-a"]).json()
    assert tax == [{"currency": "EUR", "tax_rate_bp": 2000, "sales_net": 667, "sales_tax": 133, "refunds_net": 0,
                    "refunds_tax": 0, "tax_due": 133}]
    receipt = client.get("/api/v1/sales/%d/receipt.txt" % v["receipt_id"], headers=books["owner-a"]).text
    assert "VOID 3" in receipt and "VOID OF INVOICE 1" in receipt
    # the acquirer settles neither the voided sale nor its void
    rep = reconcile(client, books, day, ["%s,TERM0001,000032,263300000302,8.00,EUR,0.12" % day])
    assert rep["matched"] == 1 and rep["differences"] == [] and rep["recorded_total"] == "8.00"
    _, totals = beancount_totals(client.get("/api/v1/merchants/%d/ledger" % books["m"],
                                            params={"day_from": day, "day_to": day}, headers=books["owner-a"]).text)
    assert totals[DEMO] == 0
    c = client.post("/api/v1/stores/%d/days/%s/close" % (books["s"], day), headers=books["owner-a"]).json()
    assert (c["sales"], c["refunds"], c["voids"], c["net"]) == (2, 0, 1, 800)


def test_a_void_names_what_it_voids(client, books):
    at = today().isoformat()
    r = client.post(books["till"]["url"], json=paid(1, at, 500, "000041", kind="void"), headers=books["till"]["dev"])
    assert r.status_code == 422 and "a void names the invoice it voids" in r.text
    # a void whose sale is not in the cloud posts its own content as a sale taken back
    upload(client, books["till"], paid(2, at, 500, "000042", kind="void", original_invoice=1))
    day = today().date().isoformat()
    _, totals = beancount_totals(client.get("/api/v1/merchants/%d/ledger" % books["m"],
                                            params={"day_from": day, "day_to": day}, headers=books["owner-a"]).text)
    assert totals[DEMO] == Decimal("-5.00") and totals["Income:Sales:Rate-20-00"] == Decimal("4.17")


def test_the_terminal_id_is_left_out_of_the_digest_when_not_sent():
    """A sale stored before the contract had `tid` keeps its digest: its re-delivery is a duplicate."""
    body = sale(1, terminal_time="2026-11-27T10:00:00Z")
    text, _ = content(SaleIn.model_validate(body))
    assert '"tid"' not in text and '"stan":"000042"' in text
    body["tenders"][0]["card"]["tid"] = "TERM0001"
    text, _ = content(SaleIn.model_validate(body))
    assert '"tid":"TERM0001"' in text
