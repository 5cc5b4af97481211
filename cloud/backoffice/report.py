"""The back office's daily report as PDF (fpdf2): one day of one merchant (or one store), its
figures against the same weekday a week before, payment mix, items, and per store, terminal
and cashier.  Text only, in the PDF core font (Latin-1): other characters of names print as '?'."""
import datetime

from fpdf import FPDF

from cloud.backoffice import dashboard
from cloud.currency import currency, decimal_text

FIGURES = (("net_sales", "Net sales"), ("refunds", "Refunds"), ("discounts", "Discounts"), ("tips", "Tips"),
           ("tax", "Tax"), ("transactions", "Transactions"), ("average_ticket", "Average ticket"))


def _latin1(s):
    return str(s).encode("latin-1", "replace").decode("latin-1")


def daily_pdf(db, merchant, day, store_id=None):
    cur = currency(merchant.currency)
    exp = cur.exponent if cur else 2
    code = cur.code if cur else merchant.currency

    def money(v):
        return "%s %s" % (decimal_text(v, exp), code)

    week_before = day - datetime.timedelta(days=7)
    now = dashboard.totals(db, merchant.id, day, day, store_id)
    then = dashboard.totals(db, merchant.id, week_before, week_before, store_id)
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1("Daily report %s - %s" % (day.isoformat(), merchant.name)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, "against %s (same weekday a week before)" % week_before.isoformat(), new_x="LMARGIN", new_y="NEXT")

    def table(title, rows):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for cells in rows:
            for i, c in enumerate(cells):
                pdf.cell(70 if i == 0 else 45, 6, _latin1(c))
            pdf.ln(6)

    table("Figures", [(label, str(now[k]) if k == "transactions" else money(now[k]),
                       str(then[k]) if k == "transactions" else money(then[k])) for k, label in FIGURES])
    table("Payment mix", [(m["method"], money(m["amount"]), str(m["count"]))
                          for m in dashboard.payment_mix(db, merchant.id, day, day, store_id)])
    top, slow = dashboard.items(db, merchant.id, day, day, store_id)
    table("Top items", [(i["name"] or i["sku"], str(i["qty"]), money(i["amount"])) for i in top])
    table("Slow items", [(i["name"] or i["sku"], str(i["qty"]), money(i["amount"])) for i in slow])
    for by in ("store", "terminal", "cashier"):
        table("By " + by, [(r["name"], money(r["net_sales"]), str(r["transactions"]))
                           for r in dashboard.breakdown(db, merchant.id, day, day, store_id, by)])
    return bytes(pdf.output())
