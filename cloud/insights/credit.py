"""Credit profile of a merchant from its trading record: a score with its reasons.

The record is reduced to monthly figures (``MonthFigures``), and these to eight factors:

| factor            | what                                                           | good when |
| ----------------- | -------------------------------------------------------------- | --------- |
| volume            | average monthly sales over the last 3 whole months (log scale)  | high      |
| growth            | daily sales of the last 45 days against the 45 before          | high      |
| volatility        | coefficient of variation of daily sales over the last 90 days   | low       |
| refund_rate       | refunds / sales, last 3 months                                  | low       |
| chargeback_rate   | chargebacks / card sales, last 3 months                         | low       |
| electronic_share  | card + QR share of sales (traceable takings)                    | high      |
| returning_share   | member sales by members who bought in an earlier month          | high      |
| tenure            | months since the first recorded sale                           | long      |

A scorecard: each factor is put on a common scale against a reference value (``REFERENCE``:
value at which it adds nothing, and the spread of one step), clipped to +-3 steps, and times
its weight in points.  Score = 600 + the sum, clipped to 300..900; each factor's contribution
is reported as its reason.  The weights are set by judgement (what a lender looks at), not
fitted to the evaluation data.
"""
import dataclasses
import datetime
import math

BASE = 600
LOW, HIGH = 300, 900
WINDOW_MONTHS = 3

# factor: (reference value, one step, points per step, direction +1 higher is better / -1 lower is)
REFERENCE = {
    "volume": (math.log(2_000_000), 0.8, 25, +1),          # about 20,000.00 a month
    "growth": (0.0, 0.15, 45, +1),
    "volatility": (0.25, 0.12, 35, -1),
    "refund_rate": (0.012, 0.01, 40, -1),
    "chargeback_rate": (0.003, 0.004, 45, -1),
    "electronic_share": (0.6, 0.2, 10, +1),
    "returning_share": (0.6, 0.15, 30, +1),
    "tenure": (12.0, 12.0, 10, +1),
}
EXPLAIN = {
    "volume": "average monthly sales %s",
    "growth": "sales change against the 45 days before %s",
    "volatility": "day-to-day swing of sales %s",
    "refund_rate": "refunds %s of sales",
    "chargeback_rate": "chargebacks %s of card sales",
    "electronic_share": "card and QR payments %s of sales",
    "returning_share": "returning members %s of member sales",
    "tenure": "trading for %s",
}


class CreditError(Exception):
    """The record cannot be scored (no sales)."""


@dataclasses.dataclass
class Sale:
    at: datetime.datetime
    kind: str          # sale, refund, chargeback
    tender: str
    amount: int
    member: str


@dataclasses.dataclass
class Factor:
    name: str
    value: float
    points: float
    reason: str


@dataclasses.dataclass
class Profile:
    score: int
    factors: list      # Factor, largest effect first
    months: int
    as_of: datetime.date


def _month(d):
    return d.year * 12 + d.month - 1


def figures(sales, as_of):
    """The factor values of a record of `Sale`s, considering only what happened before `as_of`."""
    sales = [s for s in sales if s.at.date() < as_of]
    sold = [s for s in sales if s.kind == "sale"]
    if not sold:
        raise CreditError("no sales recorded before %s: nothing to score" % as_of)
    last = _month(as_of) - 1            # the last whole month before the one as_of falls in
    first = _month(min(s.at for s in sold))
    monthly = {}
    for s in sold:
        m = _month(s.at)
        monthly[m] = monthly.get(m, 0) + s.amount
    recent = [monthly.get(m, 0) for m in range(last - WINDOW_MONTHS + 1, last + 1) if m >= first]
    # the month as_of falls in is partial and left out (a shop's first month may be partial)
    recent_avg = sum(recent) / max(1, len(recent))
    volume = math.log(max(recent_avg, 1.0))
    window_start = as_of - datetime.timedelta(days=90)
    daily = {}
    for s in sold:
        if s.at.date() >= window_start:
            daily[s.at.date()] = daily.get(s.at.date(), 0) + s.amount
    first_day = max(window_start, min(s.at.date() for s in sold))
    days = [daily.get(first_day + datetime.timedelta(days=k), 0) for k in range((as_of - first_day).days)]
    mean = sum(days) / max(1, len(days))
    half = len(days) // 2
    if half >= 14 and sum(days[:half]) > 0:
        growth = (sum(days[half:]) / (len(days) - half)) / (sum(days[:half]) / half) - 1.0
        growth = max(-1.0, min(2.0, growth))
    else:
        growth = 0.0
    volatility = (math.sqrt(sum((x - mean) ** 2 for x in days) / max(1, len(days))) / mean) if mean > 0 else 3.0
    recent_start = as_of - datetime.timedelta(days=90)
    r_sold = [s for s in sold if s.at.date() >= recent_start] or sold
    r_amount = sum(s.amount for s in r_sold) or 1
    refunds = sum(s.amount for s in sales if s.kind == "refund" and s.at.date() >= recent_start)
    card = [s for s in r_sold if s.tender == "card"]
    chargebacks = sum(1 for s in sales if s.kind == "chargeback" and s.at.date() >= recent_start)
    electronic = sum(s.amount for s in r_sold if s.tender in ("card", "qr")) / r_amount
    seen_before, member_sales, returning = {}, 0, 0
    for s in sold:
        if not s.member:
            continue
        m = _month(s.at)
        if s.at.date() >= recent_start:
            member_sales += 1
            if seen_before.get(s.member, m) < m:
                returning += 1
        seen_before.setdefault(s.member, m)
    return {
        "volume": volume,
        "growth": growth,
        "volatility": volatility,
        "refund_rate": refunds / r_amount,
        "chargeback_rate": chargebacks / max(1, len(card)),
        "electronic_share": electronic,
        "returning_share": returning / member_sales if member_sales else 0.0,
        "tenure": float(last - first + 1),
    }


def _shown(name, value):
    if name == "volume":
        return "%.2f" % (math.exp(value) / 100)
    if name == "tenure":
        return "%d months" % value
    if name == "volatility":
        return "%.0f%%" % (value * 100)
    if name in ("refund_rate", "chargeback_rate"):
        return "%.2f%%" % (value * 100)
    return "%+.0f%%" % (value * 100) if name == "growth" else "%.0f%%" % (value * 100)


def score(values, as_of=None, months=0):
    """The Profile of factor `values` (from `figures`)."""
    factors = []
    for name, (ref, step, points, direction) in REFERENCE.items():
        z = max(-3.0, min(3.0, direction * (values[name] - ref) / step))
        pts = round(points * z, 1)
        better = "better" if pts > 0 else "worse" if pts < 0 else "as"
        reason = (EXPLAIN[name] % _shown(name, values[name])) + (
            ": %+.1f points (%s than the reference)" % (pts, better) if pts else ": at the reference, 0 points")
        factors.append(Factor(name=name, value=round(values[name], 6), points=pts, reason=reason))
    total = BASE + sum(f.points for f in factors)
    factors.sort(key=lambda f: (-abs(f.points), f.name))
    return Profile(score=int(round(max(LOW, min(HIGH, total)))), factors=factors, months=months, as_of=as_of)


def profile(sales, as_of):
    values = figures(sales, as_of)
    return score(values, as_of=as_of, months=int(values["tenure"]))


def volume_only(sales, as_of):
    """The baseline: average monthly sales of the last 3 months (higher = better)."""
    return figures(sales, as_of)["volume"]


def auc(risk, failed):
    """Area under the ROC curve of `risk` (higher = riskier) for the outcomes `failed` (True/1 =
    failed): the probability that a failed merchant has a higher risk than one that did not,
    ties counting one half (Mann-Whitney U / (n_pos * n_neg)), by ranks with average ranks for ties."""
    if len(risk) != len(failed):
        raise ValueError("risk and failed differ in length")
    pos = sum(1 for f in failed if f)
    neg = len(failed) - pos
    if pos == 0 or neg == 0:
        raise ValueError("AUC needs at least one failed and one healthy merchant")
    order = sorted(range(len(risk)), key=lambda i: risk[i])
    ranks = [0.0] * len(risk)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and risk[order[j + 1]] == risk[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    rank_sum = sum(r for r, f in zip(ranks, failed) if f)
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)
