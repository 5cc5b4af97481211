"""What each issuing bank owes the merchant for its card-linked offers (docs/bank-offers.md).

A terminal uploads a sale with a bank's offer as its price in the lines and the bank's share as
a discount with ``funder: "campaign"`` and ``campaign`` naming the bank (the discount's label
is the campaign's id); the books post that share to ``Assets:Receivables:Campaign:<bank>``.
This report lists, per bank and campaign, the sales and refunds it funded in a period of
local business days, for settlement with that bank: the merchant invoices each bank its total.

    report(db, merchant_id, day_from, day_to, store_id=None)   # {"banks": [...], ...}
"""
import json

from sqlalchemy import select

from cloud.sales.models import Sale


def report(db, merchant_id, day_from, day_to, store_id=None):
    q = select(Sale.id, Sale.kind, Sale.currency, Sale.total, Sale.business_day, Sale.body).where(
        Sale.merchant_id == merchant_id, Sale.business_day >= day_from, Sale.business_day <= day_to)
    if store_id is not None:
        q = q.where(Sale.store_id == store_id)
    banks = {}
    for sid, kind, currency, total, day, body in db.execute(q.order_by(Sale.id)):
        if kind == "void":
            continue        # a void nets to nothing with the sale it takes back (its batch unsettled)
        sign = -1 if kind == "refund" else 1
        for d in json.loads(body).get("discounts", ()):
            if d.get("funder") != "campaign":
                continue
            b = banks.setdefault((d["campaign"], currency), {"bank": d["campaign"], "currency": currency,
                                                             "funded": 0, "campaigns": {}})
            c = b["campaigns"].setdefault(d.get("label") or "", {"campaign": d.get("label") or "", "sales": 0,
                                                                  "refunds": 0, "funded": 0, "card_paid": 0})
            c["sales" if sign > 0 else "refunds"] += 1
            c["funded"] += sign * d["amount"]
            c["card_paid"] += sign * total
            b["funded"] += sign * d["amount"]
    out = []
    for key in sorted(banks):
        b = banks[key]
        b["campaigns"] = [b["campaigns"][k] for k in sorted(b["campaigns"])]
        out.append(b)
    return {"day_from": day_from.isoformat(), "day_to": day_to.isoformat(), "banks": out}
