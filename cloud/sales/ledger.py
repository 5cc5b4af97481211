"""The merchant's journal out of the database: as a Beancount ledger (the plain-text double-entry
format; `bean-check` validates it), as CSV (one posting a row), and the tax report per rate.

    text = beancount_text(db, merchant, day_from, day_to, store_id=None)
"""
import csv
import io

from sqlalchemy import func, select

from cloud.currency import currency, decimal_text
from cloud.sales.models import JournalEntry, Posting, Sale
from cloud.tenants.models import Store, Terminal

CSV_COLUMNS = ("date", "entry", "sale_id", "store", "terminal", "invoice", "account", "amount", "currency",
               "tax_rate_bp", "narration")


def _quoted(text):
    """A Beancount string: double quotes and backslashes have no place in it."""
    return '"%s"' % text.replace("\\", "/").replace('"', "'").replace("\n", " ")


def entries(db, merchant_id, day_from, day_to, store_id=None):
    """[(entry, store name, terminal controller id or "", invoice or None, [postings])] by day, id."""
    q = (select(JournalEntry, Store.name, Terminal.controller_id, Sale.invoice)
         .join(Store, Store.id == JournalEntry.store_id)
         .outerjoin(Sale, Sale.id == JournalEntry.sale_id)
         .outerjoin(Terminal, Terminal.id == Sale.terminal_id)
         .where(JournalEntry.merchant_id == merchant_id, JournalEntry.day >= day_from, JournalEntry.day <= day_to))
    if store_id is not None:
        q = q.where(JournalEntry.store_id == store_id)
    rows = db.execute(q.order_by(JournalEntry.day, JournalEntry.id)).all()
    ids = [r[0].id for r in rows]
    by_entry = {}
    for i in range(0, len(ids), 500):
        for p in db.scalars(select(Posting).where(Posting.entry_id.in_(ids[i:i + 500])).order_by(Posting.id)):
            by_entry.setdefault(p.entry_id, []).append(p)
    return [(e, store, ctrl or "", inv, by_entry.get(e.id, [])) for e, store, ctrl, inv in rows]


def beancount_text(db, merchant, day_from, day_to, store_id=None):
    got = entries(db, merchant.id, day_from, day_to, store_id)
    home = currency(merchant.currency)
    out = ["; smartpos ledger of %s, %s .. %s" % (merchant.name.replace("\n", " "), day_from, day_to),
           "option %s %s" % (_quoted("title"), _quoted("%s %s..%s" % (merchant.name, day_from, day_to))),
           "option %s %s" % (_quoted("operating_currency"), _quoted(home.code if home else "EUR")), ""]
    opened = {}
    for e, _, _, _, ps in got:
        for p in ps:
            opened.setdefault(p.account, set()).add(e.currency)
    if got:
        first = got[0][0].day
        for account in sorted(opened):
            out.append("%s open %s %s" % (first.isoformat(), account, ",".join(sorted(opened[account]))))
        out.append("")
    exponents = {}
    for e, store, ctrl, inv, ps in got:
        exp = exponents.setdefault(e.currency, currency(e.currency).exponent)
        out.append("%s * %s %s" % (e.day.isoformat(), _quoted(store), _quoted(e.narration)))
        out.append("  entry: %s" % _quoted(str(e.id)))
        if e.sale_id is not None:
            out.append("  sale: %s" % _quoted(str(e.sale_id)))
            out.append("  terminal: %s" % _quoted(ctrl))
            out.append("  invoice: %s" % _quoted(str(inv)))
        for p in ps:
            out.append("  %-48s %s %s" % (p.account, decimal_text(p.amount, exp), e.currency))
        out.append("")
    return "\n".join(out)


def csv_text(db, merchant, day_from, day_to, store_id=None):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")           # RFC 4180
    w.writerow(CSV_COLUMNS)
    exponents = {}
    for e, store, ctrl, inv, ps in entries(db, merchant.id, day_from, day_to, store_id):
        exp = exponents.setdefault(e.currency, currency(e.currency).exponent)
        for p in ps:
            w.writerow((e.day.isoformat(), e.id, e.sale_id or "", store, ctrl, inv or "", p.account,
                        decimal_text(p.amount, exp), e.currency, "" if p.tax_rate_bp is None else p.tax_rate_bp,
                        e.narration))
    return buf.getvalue()


def tax_report(db, merchant_id, day_from, day_to, store_id=None):
    """Per currency and rate: what was sold and refunded net of tax, the tax in each, and the tax
    due (sales tax - refunds tax), minor units, from the postings booked in the period."""
    def query(*columns):
        q = (select(*columns).select_from(Posting)
             .join(JournalEntry, JournalEntry.id == Posting.entry_id)
             .join(Sale, Sale.id == JournalEntry.sale_id)
             .where(JournalEntry.merchant_id == merchant_id, JournalEntry.day >= day_from,
                    JournalEntry.day <= day_to, Posting.tax_rate_bp.is_not(None)))
        return q if store_id is None else q.where(JournalEntry.store_id == store_id)
    rates = {}

    def add(cur, bp, kind, is_tax, amount):
        r = rates.setdefault((cur, bp), {"currency": cur, "tax_rate_bp": bp, "sales_net": 0, "sales_tax": 0,
                                         "refunds_net": 0, "refunds_tax": 0})
        if kind == "sale":
            r["sales_tax" if is_tax else "sales_net"] += -int(amount)
        else:
            r["refunds_tax" if is_tax else "refunds_net"] += int(amount)

    for cur, bp, kind, account, amount in db.execute(
            query(JournalEntry.currency, Posting.tax_rate_bp, Sale.kind, Posting.account, func.sum(Posting.amount))
            .where(Sale.kind != "void")
            .group_by(JournalEntry.currency, Posting.tax_rate_bp, Sale.kind, Posting.account)).all():
        add(cur, bp, kind, account.startswith("Liabilities:TaxPayable:"), amount)
    # a void lowers the figures of what it voided: a sale's (its postings on Income:Sales) or a
    # refund's (on Income:Refunds); voids are few, so they are read one by one
    voids = {}
    for sale_id, cur, bp, account, amount in db.execute(
            query(Sale.id, JournalEntry.currency, Posting.tax_rate_bp, Posting.account, Posting.amount)
            .where(Sale.kind == "void")).all():
        voids.setdefault(sale_id, []).append((cur, bp, account, amount))
    for rows in voids.values():
        kind = "refund" if any(a.startswith("Income:Refunds:") for _, _, a, _ in rows) else "sale"
        for cur, bp, account, amount in rows:
            add(cur, bp, kind, account.startswith("Liabilities:TaxPayable:"), amount)
    out = []
    for key in sorted(rates):
        r = rates[key]
        r["tax_due"] = r["sales_tax"] - r["refunds_tax"]
        out.append(r)
    return out
