"""A seeded generator of SYNTHETIC trading data: merchants, stores, members, items and baskets.

Nothing here describes a real shop or a real person.  The data exists to exercise and evaluate
the insights (recommendations, credit profile) on records of known structure:

* each merchant sells a catalogue of items whose popularity falls off like Zipf's law, and has
  a few *bundles* (items bought together, like a coffee and a croissant); members prefer a
  couple of bundles each, so baskets carry co-occurrence a recommender can learn;
* each merchant has a known outcome: some **fail** during the period (on ``fails_on``).  For
  a while before failing (``distress_days``) their volume declines, refunds and chargebacks
  rise, takings swing more from day to day and fewer members come back.  Healthy merchants
  have noise of their own (seasonal dips, a bad month), so the outcome is not trivially seen.

The same seed gives the same data, byte for byte (``random.Random(seed)`` streams only).

    world = generate(seed=7, merchants=20, days=90)
    for m in world.merchants:
        for b in m.baskets: ...
"""
import dataclasses
import datetime
import math
import random

START = datetime.date(2026, 1, 1)
TENDERS = ("cash", "card", "qr", "gift")

_NOUNS = ("coffee", "tea", "croissant", "bagel", "muffin", "sandwich", "salad", "soup", "juice", "water",
          "cookie", "brownie", "yoghurt", "fruit cup", "wrap", "pasta", "pizza slice", "noodles", "rice bowl",
          "sparkling water", "cola", "chips", "chocolate bar", "gum", "newspaper", "magazine", "batteries",
          "phone cable", "umbrella", "tissues", "toothpaste", "shampoo", "soap", "milk", "bread", "eggs",
          "butter", "cheese", "ham", "apples", "bananas", "tomatoes", "onions", "pasta sauce", "flour",
          "sugar", "honey", "jam", "cereal", "oat milk")
_ADJ = ("small", "large", "organic", "classic", "house", "fresh", "iced", "spicy", "light", "double")


@dataclasses.dataclass
class Item:
    code: str
    name: str
    price: int                  # minor units


@dataclasses.dataclass
class Basket:
    at: datetime.datetime       # naive UTC
    store: int                  # index into Merchant.stores
    member: str                 # member code, "" for a customer who is not a member
    kind: str                   # "sale", "refund" or "chargeback"
    tender: str                 # one of TENDERS
    amount: int                 # minor units, positive for every kind
    items: tuple                # item codes


@dataclasses.dataclass
class Merchant:
    name: str
    stores: list
    items: list
    members: list               # member codes
    opens_on: datetime.date     # first trading day in the period (a new shop opens late)
    fails_on: object            # datetime.date the merchant stops trading, or None (the ground truth)
    distress_days: int          # how long before fails_on the decline shows
    baskets: list

    @property
    def failed(self):
        return self.fails_on is not None


@dataclasses.dataclass
class World:
    seed: int
    start: datetime.date
    days: int
    merchants: list


def generate(seed=1, merchants=20, days=90, start=START, fail_share=0.3, failures_after_day=0,
             daily_baskets=(20, 90)):
    """`merchants` merchants trading for `days` days from `start`.  About `fail_share` of them fail,
    each on a day after `failures_after_day` (so an observation window ending there sees only the
    warning signs of some).  `daily_baskets`: range of a healthy merchant's baskets per day."""
    if merchants < 1 or days < 1:
        raise ValueError("merchants and days must be at least 1")
    rng = random.Random(seed)
    out = []
    for n in range(merchants):
        out.append(_merchant(random.Random(rng.getrandbits(64)), n, start, days, fail_share,
                             failures_after_day, daily_baskets))
    return World(seed=seed, start=start, days=days, merchants=out)


def _catalogue(rng, n_items):
    names = set()
    items = []
    while len(items) < n_items:
        name = "%s %s" % (rng.choice(_ADJ), rng.choice(_NOUNS))
        if name in names:
            continue
        names.add(name)
        items.append(Item(code="I%03d" % len(items), name=name.capitalize(), price=rng.randrange(90, 2500, 10)))
    return items


def _cumulative(weights):
    total, acc = 0.0, []
    for w in weights:
        total += w
        acc.append(total)
    return acc


def _merchant(rng, n, start, days, fail_share, failures_after_day, daily_baskets):
    items = _catalogue(rng, rng.randrange(40, 90))
    codes = [i.code for i in items]
    prices = {i.code: i.price for i in items}
    order = codes[:]
    rng.shuffle(order)
    popularity = _cumulative([1.0 / (r + 1) ** 1.05 for r in range(len(order))])
    bundles = []
    for _ in range(rng.randrange(8, 16)):
        size = 2 if rng.random() < 0.7 else 3
        bundles.append(tuple(rng.sample(codes, size)))
    members, taste = [], {}
    stores = ["Store %d" % (k + 1) for k in range(1 if rng.random() < 0.7 else rng.randrange(2, 4))]

    young = rng.random() < 0.35                   # opens during the period: young shops fail more often
    opens = rng.randrange(0, max(1, min(days, max(failures_after_day, 30)) * 2 // 3)) if young else 0
    fails_on, distress = None, 0
    if rng.random() < fail_share * (1.6 if young else 0.7) and failures_after_day + 10 < days:
        fail_day = rng.randrange(max(failures_after_day, opens) + 10, days)
        fails_on = start + datetime.timedelta(days=fail_day)
        distress = rng.randrange(90, 240)
    base = rng.uniform(*daily_baskets)
    growth = rng.gauss(0.0008, 0.001)             # per day, healthy trend
    noise = rng.uniform(0.08, 0.25)               # day-to-day swing of a healthy shop
    tender_w = [rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.7), rng.uniform(0.05, 0.4), rng.uniform(0.0, 0.05)]
    tender_c = _cumulative(tender_w)
    refund_p = rng.uniform(0.004, 0.02)
    chargeback_p = rng.uniform(0.0005, 0.003)
    member_p = rng.uniform(0.25, 0.6)
    loyalty = rng.uniform(0.75, 0.95)             # share of member visits by a member seen before
    dip = (rng.randrange(days), rng.randrange(10, 40), rng.uniform(0.1, 0.35)) if rng.random() < 0.3 else None

    baskets = []
    for d in range(opens, days):
        day = start + datetime.timedelta(days=d)
        if fails_on is not None and day >= fails_on:
            break
        stress = 0.0
        if fails_on is not None:
            left = (fails_on - day).days
            if left < distress:
                stress = 1.0 - left / distress         # 0 -> 1 as the failure nears
        level = base * math.exp(growth * (d - opens)) * (1.0 - 0.6 * stress)
        if dip and dip[0] <= d < dip[0] + dip[1]:
            level *= 1.0 - dip[2]
        level *= 1.0 + 0.3 * math.sin(2 * math.pi * day.weekday() / 7.0) * 0.3
        level *= max(0.05, rng.gauss(1.0, noise * (1.0 + 2.0 * stress)))
        count = max(0, int(round(level)))
        p_member = member_p * (1.0 - 0.5 * stress)
        p_refund = refund_p * (1.0 + 6.0 * stress)
        p_charge = chargeback_p * (1.0 + 12.0 * stress)
        # a distressed shop sees fewer of its regular members: newcomers take their place
        p_return = loyalty * (1.0 - 0.5 * stress)
        for _ in range(count):
            at = datetime.datetime(day.year, day.month, day.day, rng.randrange(7, 21), rng.randrange(60),
                                   rng.randrange(60))
            member = ""
            if rng.random() < p_member:
                if members and rng.random() < p_return:
                    member = members[rng.randrange(len(members))]
                else:
                    member = "M%d-%05d" % (n, len(members))
                    members.append(member)
                    taste[member] = rng.sample(range(len(bundles)), 2)
            if member and rng.random() < 0.75:
                lines = list(bundles[rng.choice(taste[member])])
            elif rng.random() < 0.4:
                lines = list(rng.choice(bundles))
            else:
                lines = []
            for _ in range(rng.choice((0, 0, 1, 1, 2)) if lines else rng.randrange(1, 4)):
                code = order[_pick(popularity, rng.random() * popularity[-1])]
                if code not in lines:
                    lines.append(code)
            tender = TENDERS[_pick(tender_c, rng.random() * tender_c[-1])]
            amount = sum(prices[c] for c in lines)
            baskets.append(Basket(at=at, store=rng.randrange(len(stores)), member=member, kind="sale",
                                  tender=tender, amount=amount, items=tuple(lines)))
            r = rng.random()
            if r < p_refund:
                baskets.append(Basket(at=at + datetime.timedelta(hours=1), store=baskets[-1].store, member=member,
                                      kind="refund", tender=tender, amount=amount, items=tuple(lines)))
            elif r < p_refund + p_charge and tender == "card":
                baskets.append(Basket(at=at + datetime.timedelta(days=20), store=baskets[-1].store, member=member,
                                      kind="chargeback", tender=tender, amount=amount, items=()))
    baskets.sort(key=lambda b: b.at)
    return Merchant(name="Synthetic shop %03d" % (n + 1), stores=stores, items=items, members=members,
                    opens_on=start + datetime.timedelta(days=opens), fails_on=fails_on, distress_days=distress,
                    baskets=baskets)


def _pick(cumulative, x):
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo
