"""Offline evaluation of the insights on synthetic data (``cloud.insights.synthetic``).

* Recommendations: per merchant, learn from the baskets before the last 30 days and test on that
  held-out month: from each sale of two or more items one item (chosen by the seed) is hidden, the
  rest is the basket in hand; a hit when the hidden item is among the top 5.  The baseline offers
  the 5 most popular items.  Members who opted out (a share chosen by the seed) are neither learnt
  from nor tested.
* Credit: merchants trade for a year; each is scored on the record before the observation day
  (day 180) and the outcome is whether it failed after it.  AUC of the score and of the
  volume-only baseline against that outcome.
"""
import collections
import datetime
import random

from cloud.insights import association, credit, synthetic

HELD_OUT_DAYS = 30


def recommendation_cases(merchant, split, rng, opted_out=frozenset()):
    train, history, cases = [], collections.defaultdict(collections.Counter), []
    for b in merchant.baskets:
        if b.kind != "sale" or (b.member and b.member in opted_out):
            continue
        if b.at < split:
            train.append(b.items)
            if b.member:
                history[b.member].update(b.items)
        elif len(b.items) >= 2:
            held = b.items[rng.randrange(len(b.items))]
            rest = tuple(i for i in b.items if i != held)
            past = [i for i, _ in history[b.member].most_common(10)] if b.member else []
            cases.append((rest, past, held))
    return train, cases


def recommendations(seed=11, merchants=20, days=120, k=5, opt_out_share=0.1):
    world = synthetic.generate(seed=seed, merchants=merchants, days=days)
    rng = random.Random(seed)
    split = datetime.datetime.combine(world.start + datetime.timedelta(days=days - HELD_OUT_DAYS),
                                      datetime.time())
    hits_model = hits_base = total = 0
    for m in world.merchants:
        opted_out = frozenset(x for x in m.members if rng.random() < opt_out_share)
        train, cases = recommendation_cases(m, split, rng, opted_out)
        if not cases:
            continue
        model = association.learn(train)
        hits_model += association.hit_rate(model, cases, k) * len(cases)
        hits_base += association.hit_rate(
            model, cases, k, use=lambda mm, basket, history, kk: association.popular_baseline(mm, basket, kk)) \
            * len(cases)
        total += len(cases)
    return {"cases": total, "hit_rate_model": hits_model / total, "hit_rate_popular": hits_base / total}


def credit_auc(seed=23, merchants=160, days=365, observe_day=180):
    world = synthetic.generate(seed=seed, merchants=merchants, days=days, failures_after_day=observe_day,
                               daily_baskets=(6, 30), fail_share=0.3)
    as_of = world.start + datetime.timedelta(days=observe_day)
    risk, base, failed = [], [], []
    for m in world.merchants:
        sales = [credit.Sale(at=b.at, kind=b.kind, tender=b.tender, amount=b.amount, member=b.member)
                 for b in m.baskets]
        try:
            p = credit.profile(sales, as_of)
        except credit.CreditError:
            continue                         # not trading yet on the observation day
        risk.append(-p.score)
        base.append(-credit.volume_only(sales, as_of))
        failed.append(m.failed)
    return {"merchants": len(failed), "failed": sum(failed), "auc_score": credit.auc(risk, failed),
            "auc_volume_only": credit.auc(base, failed)}
