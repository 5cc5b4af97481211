"""Insights on synthetic data (cloud.insights.synthetic; seeded, so the figures repeat):
hit rate at 5 of the item-to-item recommendations against the most-popular baseline on a
held-out month, and AUC of the credit score against the generator's known failures and against
a volume-only baseline; and how long generating 20 merchants x 90 days takes."""


def recommendations():
    import time
    from cloud.insights import evaluation
    t0 = time.monotonic()
    fig = evaluation.recommendations(seed=11, merchants=20, days=120, k=5)
    wall = time.monotonic() - t0
    return [
        ("held-out baskets tested (last 30 of 120 days, 20 merchants, one item hidden each)", fig["cases"], "baskets"),
        ("hit rate at 5, item-to-item recommendations", fig["hit_rate_model"], ""),
        ("hit rate at 5, most-popular baseline", fig["hit_rate_popular"], ""),
        ("wall time (generate, learn, test)", wall, "s"),
    ]


def credit():
    import time
    from cloud.insights import evaluation
    t0 = time.monotonic()
    fig = evaluation.credit_auc(seed=23, merchants=160, days=365, observe_day=180)
    wall = time.monotonic() - t0
    return [
        ("merchants scored on day 180 of a year", fig["merchants"], "merchants"),
        ("of them failing later in the year (ground truth)", fig["failed"], "merchants"),
        ("AUC, credit score", fig["auc_score"], ""),
        ("AUC, volume-only baseline", fig["auc_volume_only"], ""),
        ("wall time (generate, score)", wall, "s"),
    ]


def generator():
    import time
    from cloud.insights import synthetic
    t0 = time.monotonic()
    world = synthetic.generate(seed=1, merchants=20, days=90)
    wall = time.monotonic() - t0
    return [
        ("baskets generated (20 merchants x 90 days)", sum(len(m.baskets) for m in world.merchants), "baskets"),
        ("merchants failing in the period", sum(1 for m in world.merchants if m.failed), "merchants"),
        ("generation time", wall, "s"),
    ]


BENCHES = {"insights-recommendations": recommendations, "insights-credit": credit,
           "insights-generator": generator}
