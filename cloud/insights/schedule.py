"""The scheduled recompute of the recommendation models.

    recompute(sessionmaker)                 # every merchant with baskets (a nightly job)
    recompute(sessionmaker, [merchant_id])  # one merchant (its owner asked)

Run it from cron with ``smartpos cloud insights recompute`` (same database options as the
service).  Each merchant's model is learnt from its sales of the last LOOKBACK_DAYS, leaving
out every basket of a member who opted out, and replaces the previous model in one commit.
"""
import datetime
import json

from sqlalchemy import select

from cloud.db import utcnow
from cloud.insights import association, record, suggest
from cloud.insights.models import InsightBasket, InsightModel

LOOKBACK_DAYS = 365


def recompute_one(db, merchant_id, now=None):
    now = now or utcnow()
    excluded = record.opted_out(db, merchant_id)
    model = association.learn(record.sale_baskets(db, merchant_id, now - datetime.timedelta(days=LOOKBACK_DAYS),
                                                  excluded))
    row = db.get(InsightModel, merchant_id)
    if row is None:
        row = InsightModel(merchant_id=merchant_id)
        db.add(row)
    row.computed_at = now
    row.baskets_used = model["baskets"]
    row.members_excluded = len(excluded)
    model[suggest.MEMBERS] = suggest.compute(db, merchant_id, model, excluded)   # the member copy's "r"
    row.model = json.dumps(model, sort_keys=True)
    return row


def recompute(sessionmaker, merchant_ids=None, now=None):
    """Returns {merchant_id: baskets used}."""
    with sessionmaker() as db:
        ids = list(merchant_ids) if merchant_ids is not None else list(
            db.scalars(select(InsightBasket.merchant_id).distinct()))
    done = {}
    for mid in sorted(ids):
        with sessionmaker() as db:
            done[mid] = recompute_one(db, mid, now).baskets_used
            db.commit()
    return done
