"""The recommendations that travel with the terminal's member copy ("often bought with ...",
docs/insights.md): for each member with a buying history, up to three items the merchant's
recomputed model relates to what that member buys most, none of their usual items, worked out
at the scheduled recompute and kept with the model (a copy only reads them).  Members who opted
out get none, from the moment they do; before the first recompute nobody does.  The terminal shows the names from
its own catalog when the member is identified, online or not."""
import collections
import json

from sqlalchemy import select

from cloud.insights import association, record
from cloud.insights.models import InsightBasket, InsightModel

SHOWN = 3           # the terminal's note has room for three names
MEMBERS = "members"  # the model's key for the lists kept at recompute
HISTORY = 10        # the member's most frequent items the suggestions start from


def _histories(db, merchant_id):
    """{member code: [items, most frequent first]} over the merchant's sales, in one pass."""
    counts = collections.defaultdict(collections.Counter)
    q = select(InsightBasket.member_code, InsightBasket.items).where(
        InsightBasket.merchant_id == merchant_id, InsightBasket.kind == "sale", InsightBasket.member_code != "")
    for member, items in db.execute(q):
        counts[member].update(items.split())
    return {m: [code for code, _ in sorted(c.items(), key=lambda t: (-t[1], t[0]))[:HISTORY]]
            for m, c in counts.items()}


def compute(db, merchant_id, model, excluded=frozenset()):
    """{member number: [up to SHOWN item codes]} for the members with a buying history, from
    `model` (association.learn); kept with the model by the scheduled recompute."""
    out = {}
    for member, history in _histories(db, merchant_id).items():
        if member in excluded:
            continue
        usual = set(history)
        found = [code for code, score, _ in association.recommend(model, (), history, SHOWN + len(usual))
                 if score > 0 and code not in usual][:SHOWN]
        if found:
            out[member] = found
    return out


def for_members(db, merchant_id):
    """What the last recompute kept for each member, less the members who have opted out since
    (the switch counts from the moment it is set); {} before the merchant's first recompute."""
    row = db.get(InsightModel, merchant_id)
    if row is None:
        return {}
    kept = json.loads(row.model).get(MEMBERS, {})
    if not kept:
        return {}
    skip = record.opted_out(db, merchant_id)
    return {m: codes for m, codes in kept.items() if m not in skip}
