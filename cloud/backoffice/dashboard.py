"""The figures of the merchant's dashboard, read from the back office's facts
(cloud.backoffice.models) by range scans of one merchant's days.

A period is a range of the stores' local business days; it is compared with the period of the
same length just before it.  Sales by hour compare one day with the same weekday a week before.
Amounts are minor units; refunds are negative in the facts and reported as a positive
``refunds`` figure beside ``net_sales`` (sales less refunds, discounts deducted, tip and tax
included).
"""
import datetime

from sqlalchemy import case, func, select

from cloud.backoffice.models import LineFact, SaleFact, StoreDay, TenderFact
from cloud.sales.models import Sale
from cloud.tenants.models import Merchant, Store, Terminal

ITEMS_SHOWN = 5


def previous(day_from, day_to):
    """The period of the same length just before [day_from, day_to]."""
    n = (day_to - day_from).days + 1
    return day_from - datetime.timedelta(days=n), day_from - datetime.timedelta(days=1)


def _where(table, merchant_id, day_from, day_to, store_id):
    out = [table.merchant_id == merchant_id, table.day >= day_from, table.day <= day_to]
    if store_id is not None:
        out.append(table.store_id == store_id)
    return out


def totals(db, merchant_id, day_from, day_to, store_id=None):
    """The period's figures, summed from the daily rollup (cloud.backoffice.rollup: a row a
    store-day, kept equal to the sale facts by the ingest's own commit)."""
    q = select(*[func.coalesce(func.sum(getattr(StoreDay, c)), 0) for c in
                 ("sales", "refunds", "discounts", "tips", "tax", "sale_count", "refund_count")]).where(
        *_where(StoreDay, merchant_id, day_from, day_to, store_id))
    sales, refunds, discounts, tips, tax, n_sales, n_refunds = (int(v) for v in db.execute(q).one())
    return {"sales": sales, "refunds": refunds, "net_sales": sales - refunds, "discounts": discounts,
            "tips": tips, "tax": tax, "transactions": n_sales, "refund_count": n_refunds,
            "average_ticket": sales // n_sales if n_sales else 0}


def totals_of_facts(db, merchant_id, day_from, day_to, store_id=None):
    """The same figures as totals(), summed from the sale facts themselves (what the rollup is
    checked against)."""
    is_sale = SaleFact.kind == "sale"
    q = select(func.coalesce(func.sum(case((is_sale, SaleFact.net), else_=0)), 0),
               func.coalesce(func.sum(case((is_sale, 0), else_=-SaleFact.net)), 0),
               func.coalesce(func.sum(SaleFact.net), 0),
               func.coalesce(func.sum(SaleFact.discounts), 0),
               func.coalesce(func.sum(SaleFact.tip), 0),
               func.coalesce(func.sum(SaleFact.tax), 0),
               func.count(case((is_sale, 1))),
               func.count(case((is_sale, None), else_=1))).where(
        *_where(SaleFact, merchant_id, day_from, day_to, store_id))
    sales, refunds, net, discounts, tips, tax, n_sales, n_refunds = db.execute(q).one()
    return {"sales": int(sales), "refunds": int(refunds), "net_sales": int(net), "discounts": int(discounts),
            "tips": int(tips), "tax": int(tax), "transactions": int(n_sales), "refund_count": int(n_refunds),
            "average_ticket": int(sales) // n_sales if n_sales else 0}


def ranked_merchants(db, operator_id, day_from, day_to, limit=10):
    """The operator's merchants with the most net sales over a period, from the daily rollup:
    [{merchant_id, name, net_sales, transactions}], most first."""
    net = func.sum(StoreDay.sales - StoreDay.refunds)
    q = select(Merchant.id, Merchant.name, net, func.sum(StoreDay.sale_count)).join(
        Merchant, Merchant.id == StoreDay.merchant_id).where(
        Merchant.operator_id == operator_id, StoreDay.day >= day_from, StoreDay.day <= day_to).group_by(
        Merchant.id, Merchant.name).order_by(net.desc(), Merchant.id).limit(limit)
    return [{"merchant_id": i, "name": n, "net_sales": int(v), "transactions": int(c)} for i, n, v, c in db.execute(q)]


def by_hour(db, merchant_id, day, store_id=None):
    """24 net amounts, one per local hour of `day`."""
    out = [0] * 24
    q = select(SaleFact.hour, func.sum(SaleFact.net)).where(
        *_where(SaleFact, merchant_id, day, day, store_id)).group_by(SaleFact.hour)
    for hour, net in db.execute(q):
        out[hour] = int(net)
    return out


def payment_mix(db, merchant_id, day_from, day_to, store_id=None):
    q = select(TenderFact.method, func.sum(TenderFact.amount), func.count()).where(
        *_where(TenderFact, merchant_id, day_from, day_to, store_id)).group_by(TenderFact.method)
    rows = [{"method": m, "amount": int(a), "count": int(c)} for m, a, c in db.execute(q)]
    return sorted(rows, key=lambda r: (-r["amount"], r["method"]))


def items(db, merchant_id, day_from, day_to, store_id=None):
    """(top items, slow items): by quantity sold net of refunds, at most ITEMS_SHOWN each."""
    q = select(LineFact.sku, func.max(LineFact.name), func.sum(LineFact.qty), func.sum(LineFact.amount)).where(
        *_where(LineFact, merchant_id, day_from, day_to, store_id)).group_by(LineFact.sku)
    rows = [{"sku": s, "name": n, "qty": int(q_), "amount": int(a)} for s, n, q_, a in db.execute(q)]
    top = sorted(rows, key=lambda r: (-r["qty"], -r["amount"], r["sku"]))[:ITEMS_SHOWN]
    slow = sorted(rows, key=lambda r: (r["qty"], r["amount"], r["sku"]))[:ITEMS_SHOWN]
    return top, slow


def members(db, merchant_id, day_from, day_to, store_id=None):
    """Members with a sale in the period: new (their first sale here is in it) and returning."""
    q = select(SaleFact.member_id, func.max(case((SaleFact.first_visit, 1), else_=0))).where(
        *_where(SaleFact, merchant_id, day_from, day_to, store_id), SaleFact.member_id != "",
        SaleFact.kind == "sale").group_by(SaleFact.member_id)
    rows = db.execute(q).all()
    new = sum(1 for _, first in rows if first)
    return {"new": new, "returning": len(rows) - new}


def breakdown(db, merchant_id, day_from, day_to, store_id, by):
    """Net sales and transaction count per store, terminal or cashier."""
    key, label = {"store": (SaleFact.store_id, Store.name), "terminal": (SaleFact.terminal_id, Terminal.controller_id),
                  "cashier": (SaleFact.cashier, SaleFact.cashier)}[by]
    q = select(key, func.sum(SaleFact.net), func.count(case((SaleFact.kind == "sale", 1)))).where(
        *_where(SaleFact, merchant_id, day_from, day_to, store_id)).group_by(key)
    rows = db.execute(q).all()
    names = {}
    if by != "cashier" and rows:
        table = Store if by == "store" else Terminal
        names = dict(db.execute(select(table.id, label).where(table.id.in_([r[0] for r in rows]))).all())
    out = [{"key": str(k), "name": names.get(k, k) or "-", "net_sales": int(n), "transactions": int(c)}
           for k, n, c in rows]
    return sorted(out, key=lambda r: (-r["net_sales"], r["name"]))


def summary(db, merchant_id, day_from, day_to, store_id=None):
    prev_from, prev_to = previous(day_from, day_to)
    week_before = day_to - datetime.timedelta(days=7)
    top, slow = items(db, merchant_id, day_from, day_to, store_id)
    return {
        "day_from": day_from, "day_to": day_to, "previous_from": prev_from, "previous_to": prev_to,
        "current": totals(db, merchant_id, day_from, day_to, store_id),
        "previous": totals(db, merchant_id, prev_from, prev_to, store_id),
        "hours": {"day": day_to, "week_before": week_before, "day_net": by_hour(db, merchant_id, day_to, store_id),
                  "week_before_net": by_hour(db, merchant_id, week_before, store_id)},
        "payment_mix": payment_mix(db, merchant_id, day_from, day_to, store_id),
        "top_items": top, "slow_items": slow,
        "members": members(db, merchant_id, day_from, day_to, store_id),
        "by_store": breakdown(db, merchant_id, day_from, day_to, store_id, "store"),
        "by_terminal": breakdown(db, merchant_id, day_from, day_to, store_id, "terminal"),
        "by_cashier": breakdown(db, merchant_id, day_from, day_to, store_id, "cashier"),
    }


def transactions_csv(db, merchant_id, day_from, day_to, store_id=None):
    """One line per transaction of the period: the drill-down's export."""
    q = select(SaleFact, Sale.invoice, Sale.terminal_time).join(Sale, Sale.id == SaleFact.sale_id).where(
        *_where(SaleFact, merchant_id, day_from, day_to, store_id)).order_by(SaleFact.day, Sale.terminal_time,
                                                                                SaleFact.sale_id)
    out = ["receipt_id,day,hour,store_id,terminal_id,invoice,kind,cashier,member_id,gross,discounts,net,tax,tip"]
    for f, invoice, _ in db.execute(q):
        out.append(",".join(str(v) for v in (f.sale_id, f.day, f.hour, f.store_id, f.terminal_id, invoice, f.kind,
                                             _csv_text(f.cashier), _csv_text(f.member_id), f.gross, f.discounts,
                                             f.net, f.tax, f.tip)))
    return "\n".join(out) + "\n"


def _csv_text(s):
    # RFC 4180: quote a field holding a comma or quote; a leading =+-@ is neutralised against formula injection
    if s[:1] in ("=", "+", "-", "@"):
        s = "'" + s
    return '"%s"' % s.replace('"', '""') if any(c in s for c in ',"\n') else s
