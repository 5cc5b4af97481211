"""Writing a stored sale's facts: the back office's rows (cloud.backoffice.models) and the
insights' basket (cloud.insights.record), in the ingest's own transaction, so that the books,
the dashboard and the recommendations are fed by the one commit that acknowledges the upload.

Tenders are named for the dashboard's payment mix: ``cash``, ``card:<scheme>``, ``qr:<wallet>``,
``gift``.  A refund's amounts are negative.
"""
import datetime
import re

from sqlalchemy import exists, select

from cloud.backoffice.models import LineFact, SaleFact, TenderFact
from cloud import bulk
from cloud.backoffice import rollup
from cloud.insights.models import InsightBasket
from cloud.insights.record import basket_row
from cloud.sales import books

# an upload's tender type -> the insights' tender (cloud.insights.synthetic.TENDERS)
BASKET_TENDER = {"cash": "cash", "card": "card", "wallet": "qr", "gift_card": "gift", "stored_value": "gift"}
NOT_IN_CODE = re.compile(r"[^A-Za-z0-9_.:-]")
METHOD_LEN = 24
MEMBER_CODE_LEN = 32


def item_code(sku):
    """A SKU as an insights item code (1-32 of A-Z a-z 0-9 _ . : -): other characters become '_'."""
    return NOT_IN_CODE.sub("_", sku)[:32]


def method(tender):
    if tender.type == "card":
        scheme = (tender.card.scheme or "other").lower()
        return ("card:" + scheme)[:METHOD_LEN]
    if tender.type == "wallet":
        return ("qr:" + tender.wallet.name.lower())[:METHOD_LEN]
    if tender.type == "stored_value":
        return "stored_value"
    return "gift" if tender.type == "gift_card" else "cash"


def members_seen(db, merchant_id):
    """The members with a sale at the merchant already: for record() over a batch (one query)."""
    return set(db.scalars(select(SaleFact.member_id).where(SaleFact.merchant_id == merchant_id,
                                                          SaleFact.kind == "sale", SaleFact.member_id.is_not(None))
                          .distinct()))


def record(db, sale, sale_in, store, seen=None):
    """Add the facts and the basket of `sale` (stored, flushed) uploaded as `sale_in`, and its
    store-day's rollup.  `seen`: members_seen() of the sale's merchant (None asks the database)."""
    record_many(db, [(sale, sale_in)], store, seen)


def record_many(db, stored, store, seen=None):
    """The facts, baskets and rollups of many stored sales of one store at once: `stored` is
    [(sale row, SaleIn)]; a few multi-row writes (cloud.bulk), nothing committed.  `seen`:
    members_seen() of the merchant, kept up to date here; None asks the database per member."""
    sale_rows, tender_rows, line_rows, baskets = [], [], [], []
    zone = books.store_zone(store)
    for sale, sale_in in stored:
        sign = 1 if sale.kind == "sale" else -1     # a refund, or a void taking its sale back
        local = sale.terminal_time.replace(tzinfo=datetime.timezone.utc).astimezone(zone)
        first = False
        if sale.member_id and sale.kind == "sale":
            if seen is None:
                first = not db.scalar(select(exists().where(SaleFact.merchant_id == sale.merchant_id,
                                                            SaleFact.member_id == sale.member_id,
                                                            SaleFact.kind == "sale")))
                first = first and not any(r["member_id"] == sale.member_id and r["first_visit"] for r in sale_rows)
            else:
                first = sale.member_id not in seen
                seen.add(sale.member_id)
        gross = sum(ln.amount for ln in sale_in.lines)
        discounts = sum(d.amount for d in sale_in.discounts)
        tax = sum(t for _, _, t in books.tax_by_rate(sale_in))
        where = dict(merchant_id=sale.merchant_id, store_id=sale.store_id, day=sale.business_day)
        sale_rows.append(dict(sale_id=sale.id, terminal_id=sale.terminal_id, hour=local.hour, kind=sale.kind,
                              cashier=sale.cashier, member_id=sale.member_id, first_visit=first, gross=sign * gross,
                              discounts=sign * discounts, net=sign * (gross - discounts), tax=sign * tax,
                              tip=sign * sale.tip, **where))
        tender_rows += [dict(sale_id=sale.id, method=method(t), amount=sign * t.amount, **where)
                        for t in sale_in.tenders]
        line_rows += [dict(sale_id=sale.id, sku=ln.sku, name=ln.name, qty=sign * ln.qty, amount=sign * ln.amount,
                           **where) for ln in sale_in.lines]
        main = max(sale_in.tenders, key=lambda t: t.amount)
        kind = "sale" if sale.kind == "sale" else "refund"    # the insights know sales and refunds
        baskets.append(basket_row(sale.merchant_id, sale.terminal_time, kind, BASKET_TENDER[main.type], sale.total,
                                  items=[item_code(ln.sku) for ln in sale_in.lines],
                                  member=sale.member_id[:MEMBER_CODE_LEN], store_id=sale.store_id))
    bulk.write(db, SaleFact.__table__, sale_rows)
    bulk.write(db, TenderFact.__table__, tender_rows)
    bulk.write(db, LineFact.__table__, line_rows)
    bulk.write(db, InsightBasket.__table__, baskets)
    rollup.add(db, sale_rows)
