"""The trading record of the insights: writing baskets in, reading sales and baskets out.

``record_basket`` is the one way a basket enters (the sales pipeline calls it once a transaction
is committed; ``seed`` fills it with synthetic data).  Item codes are short tokens without
spaces, since the items of a basket are kept as one space-separated text.
"""
import datetime
import re

from sqlalchemy import delete, select

from cloud.insights import credit, synthetic
from cloud.insights.models import InsightBasket, InsightItem, InsightMember
from cloud.tenants.models import Merchant, Store

ITEM_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")
KINDS = ("sale", "refund", "chargeback")


class RecordError(ValueError):
    """A basket that cannot be recorded (unknown kind or tender, bad item code)."""


def record_basket(db, merchant_id, at, kind, tender, amount, items=(), member="", store_id=None):
    db.execute(InsightBasket.__table__.insert(), [basket_row(merchant_id, at, kind, tender, amount, items, member,
                                                             store_id)])


def basket_row(merchant_id, at, kind, tender, amount, items=(), member="", store_id=None):
    """The checked columns of one basket (for writing many at once: cloud.bulk)."""
    if kind not in KINDS:
        raise RecordError("kind must be one of %s, not %r" % (", ".join(KINDS), kind))
    if tender not in synthetic.TENDERS:
        raise RecordError("tender must be one of %s, not %r" % (", ".join(synthetic.TENDERS), tender))
    bad = [c for c in items if not ITEM_CODE.match(c)]
    if bad:
        raise RecordError("item code %r: 1 to 32 letters, digits or _.:- only" % bad[0])
    if amount < 0:
        raise RecordError("amount is in minor units and never negative (the kind says refund)")
    return {"merchant_id": merchant_id, "store_id": store_id, "at": at, "kind": kind, "tender": tender,
            "amount": amount, "member_code": member or "", "items": " ".join(items)}


def opted_out(db, merchant_id):
    return set(db.scalars(select(InsightMember.code).where(InsightMember.merchant_id == merchant_id,
                                                           InsightMember.recommendations_opt_out.is_(True))))


def sale_baskets(db, merchant_id, since=None, excluded=frozenset()):
    """Item tuples of the merchant's sales (oldest first), leaving out the members in `excluded`."""
    q = select(InsightBasket.items, InsightBasket.member_code).where(
        InsightBasket.merchant_id == merchant_id, InsightBasket.kind == "sale")
    if since is not None:
        q = q.where(InsightBasket.at >= since)
    for items, member in db.execute(q.order_by(InsightBasket.at, InsightBasket.id)):
        if member and member in excluded:
            continue
        yield tuple(items.split())


def member_history(db, merchant_id, member, limit=10):
    """The items `member` bought most often (most frequent first)."""
    counts = {}
    q = select(InsightBasket.items).where(InsightBasket.merchant_id == merchant_id,
                                          InsightBasket.member_code == member, InsightBasket.kind == "sale")
    for (items,) in db.execute(q):
        for code in items.split():
            counts[code] = counts.get(code, 0) + 1
    return [c for c, _ in sorted(counts.items(), key=lambda t: (-t[1], t[0]))[:limit]]


def sales(db, merchant_id):
    """The merchant's record as credit.Sale rows."""
    q = select(InsightBasket.at, InsightBasket.kind, InsightBasket.tender, InsightBasket.amount,
               InsightBasket.member_code).where(InsightBasket.merchant_id == merchant_id)
    return [credit.Sale(at=at, kind=kind, tender=tender, amount=amount, member=member)
            for at, kind, tender, amount, member in db.execute(q)]


def item_names(db, merchant_id, codes):
    if not codes:
        return {}
    q = select(InsightItem.code, InsightItem.name).where(InsightItem.merchant_id == merchant_id,
                                                         InsightItem.code.in_(list(codes)))
    return dict(db.execute(q).all())


def seed(sessionmaker, operator_id, seed=1, merchants=20, days=90, start=None, name_prefix=""):
    """Write a synthetic world (cloud.insights.synthetic) into the database: one merchant per generated
    merchant (named `name_prefix` + its name; an existing one is refilled), its stores, items and
    baskets.  Returns [(merchant_id, synthetic.Merchant)]."""
    world = synthetic.generate(seed=seed, merchants=merchants, days=days,
                               **({"start": start} if start else {}))
    out = []
    for gm in world.merchants:
        with sessionmaker() as db:
            name = (name_prefix + gm.name)[:120]
            m = db.scalar(select(Merchant).where(Merchant.operator_id == operator_id, Merchant.name == name))
            if m is None:
                m = Merchant(operator_id=operator_id, name=name, mid="", currency="978")
                db.add(m)
                db.flush()
            db.execute(delete(InsightBasket).where(InsightBasket.merchant_id == m.id))
            db.execute(delete(InsightItem).where(InsightItem.merchant_id == m.id))
            stores = []
            for sname in gm.stores:
                s = db.scalar(select(Store).where(Store.merchant_id == m.id, Store.name == sname))
                if s is None:
                    s = Store(merchant_id=m.id, name=sname)
                    db.add(s)
                    db.flush()
                stores.append(s.id)
            db.execute(InsightItem.__table__.insert(),
                       [{"merchant_id": m.id, "code": i.code, "name": i.name} for i in gm.items])
            rows = [{"merchant_id": m.id, "store_id": stores[b.store], "at": b.at, "kind": b.kind,
                     "tender": b.tender, "amount": b.amount, "member_code": b.member, "items": " ".join(b.items)}
                    for b in gm.baskets]
            for k in range(0, len(rows), 5000):
                db.execute(InsightBasket.__table__.insert(), rows[k:k + 5000])
            db.commit()
            out.append((m.id, gm))
    return out


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()
