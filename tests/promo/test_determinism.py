"""Terminal and cloud compute the same promotions: 1,000 seeded baskets (lines of random items,
weighed and counted, promo codes, coupons, members, any hour of a week) through the engine on
the real MicroPython unix port with the board's heap, and through the cloud's path
(cloud.promotions.engine on CPython), every figure compared: total discount, item and order
parts, points, coupons issued, each reward and each line's share."""
import json
import random

from cloud.promotions import engine as cloud_engine
from host_sim import mpy

from tests.promo.programs import DAY, MONDAY, PROGRAMS, SKUS

N = 1000


def baskets(n, seed=20261128):
    rnd = random.Random(seed)
    skus = sorted(SKUS)
    out = []
    for _ in range(n):
        lines = []
        for _ in range(rnd.randint(1, 30)):
            sku = rnd.choice(skus)
            if rnd.random() < 0.1:
                lines.append([sku, SKUS[sku], 0, rnd.randint(1, 4000)])          # weighed
            elif rnd.random() < 0.05:
                lines.append([sku, SKUS[sku], 1, 0])                             # void
            else:
                q = rnd.randint(1, 6)
                lines.append([sku, SKUS[sku], q, q * rnd.randint(1, 2500) - rnd.choice((0, 0, 0, 1, 37))])
        out.append({"lines": lines,
                    "codes": ["1515"] if rnd.random() < 0.2 else [],
                    "coupons": ["WELCOME5"] if rnd.random() < 0.2 else [],
                    "member": rnd.random() < 0.5,
                    "now": MONDAY - DAY + rnd.randrange(9 * DAY)})
    return out


# one line per basket: discount, item, order, points, issues, rewards, line shares
FIGURES = ("def figures(out, shares):\n"
           "    return json.dumps([out.discount, out.item_discount, out.order_discount, out.points, out.issues,\n"
           "                       [[r.program, r.discount, r.points, r.text] for r in out.rewards], shares])\n")

ON_TERMINAL = """
import json
from pos.promo import engine
%s
class Lines:
    def __init__(self, lines):
        self.lines = lines
        self.n = len(lines)
        self.shares = [0] * self.n
    def entry(self, i):
        return self.lines[i][1:]
    def sku(self, i):
        return self.lines[i][0]
    def allot(self, i, minor):
        self.shares[i] += minor
with open(%r) as f:
    progs = engine.compile_programs(json.loads(f.readline()))
    marks = bytearray(150)
    while True:
        s = f.readline()
        if not s:
            break
        b = json.loads(s)
        lines = Lines([tuple(x) for x in b["lines"]])
        out = engine.apply(lines, progs, b["codes"], b["coupons"], object() if b["member"] else None, b["now"], marks)
        print(figures(out, lines.shares))
"""


def test_terminal_and_cloud_agree_on_1000_baskets(tmp_path):
    data = baskets(N)
    path = tmp_path / "baskets.jsonl"
    with open(path, "w") as f:
        f.write(json.dumps(PROGRAMS) + "\n")
        for b in data:
            f.write(json.dumps(b) + "\n")
    terminal = mpy.run(ON_TERMINAL % (FIGURES, str(path)), timeout=600).splitlines()

    ns = {"json": json}
    exec(FIGURES, ns)
    progs = cloud_engine.compile_programs(PROGRAMS)
    cloud = []
    for b in data:
        basket = cloud_engine.Basket(b["lines"])
        out = cloud_engine.apply(basket, progs, b["codes"], b["coupons"], object() if b["member"] else None, b["now"])
        cloud.append(ns["figures"](out, basket.allotted))
        # each basket's own arithmetic: the line shares add up to the item rewards, nothing
        # costs less than nothing
        assert sum(basket.allotted) == out.item_discount
        assert out.discount <= sum(line[3] for line in b["lines"])
    assert len(terminal) == N
    differ = [i for i in range(N) if terminal[i] != cloud[i]]
    assert differ == [], "basket %d: terminal %s cloud %s" % (differ[0], terminal[differ[0]], cloud[differ[0]])
    # the baskets exercised every program (a generator that never triggers one proves nothing)
    applied = set()
    for row in cloud:
        applied.update(r[0] for r in json.loads(row)[5])
    assert applied == {p["id"] for p in PROGRAMS}
