"""The promotions engine on MicroPython (the board's heap): each program type, the order of
application and stacking (docs/promotions.md), conditions (amount, quantity, time window,
members, codes, coupons), each figure worked by hand in the comments, and bad programs refused
with a message naming them."""
import json

import pytest

from host_sim import mpy

from tests.promo.programs import DAY, HOUR, MONDAY, PROGRAMS

RUN = """
import json
from pos.promo import engine
class Lines:
    def __init__(self, lines):
        self.lines = [tuple(x) for x in lines]
        self.n = len(lines)
        self.shares = [0] * self.n
    def entry(self, i):
        return self.lines[i][1:]
    def sku(self, i):
        return self.lines[i][0]
    def allot(self, i, minor):
        self.shares[i] += minor
progs = engine.compile_programs(json.loads(%r))
out = []
for b in json.loads(%r):
    ls = Lines(b["lines"])
    o = engine.apply(ls, progs, b.get("codes", ()), b.get("coupons", ()), object() if b.get("member") else None,
                     b.get("now", MONDAY))
    out.append({"discount": o.discount, "items": o.item_discount, "order": o.order_discount, "points": o.points,
                "issues": o.issues, "rewards": [[r.program, r.discount, r.points, r.text] for r in o.rewards],
                "shares": ls.shares})
print(json.dumps(out))
"""


def run(baskets, programs=PROGRAMS):
    code = ("MONDAY = %d\n" % MONDAY) + RUN % (json.dumps(programs), json.dumps(baskets))
    return json.loads(mpy.run(code).strip().splitlines()[-1])


def test_each_program_type_and_the_order_they_apply_in():
    noon = MONDAY + 12 * HOUR
    [r] = run([{"lines": [["TEA", 1, 3, 1950],      # 3 x 6.50
                          ["MILK", 3, 2, 398],      # 2 x 1.99
                          ["TEA2", 1, 1, 600],      # 1 x 6.00
                          ["RICE", 2, 1, 1999],
                          ["CHEESE", 3, 0, 1424],   # weighed
                          ["WINE", 8, 1, 2000]],
                "codes": ["1515"], "coupons": ["WELCOME5"], "member": True, "now": noon}])
    # items first. TEA 3 FOR 2: 4 tea pieces -> 1 free, the cheapest: TEA2 at 6.00 (line 2).
    # DAIRY10: milk 3.98 + cheese 14.24 = 18.22 (2 pieces: min_qty 2 met) -> 1.82, shared
    #   398 * 182 // 1822 = 39 on milk, the last line (cheese) the rest 143.
    # subtotal 83.71 - items 7.82 = 75.89 left for the order rewards, in sequence:
    #   SPEND50 5.00 -> 70.89; MEMBER5 5 % = 3.54 (half up of 354.45) -> 67.35;
    #   CODE15 15 % = 10.10 (1010.25) -> 57.25, exclusive: WELCOME5 does not apply after it.
    # points on 57.25 paid: 57 + 5 per order; TEA POINTS 10 x 4 tea pieces = 40.
    assert r["rewards"] == [["TEA3FOR2", 600, 0, "TEA 3 FOR 2"],
                            ["DAIRY10", 182, 0, "10% OFF DAIRY"],
                            ["SPEND50", 500, 0, "5.00 OFF OVER 50.00"],
                            ["MEMBER5", 354, 0, "MEMBERS 5% OFF"],
                            ["CODE15", 1010, 0, "CODE 1515: 15% OFF"],
                            ["POINTS", 0, 62, "POINTS +62 PTS"],
                            ["TEAPTS", 0, 40, "TEA POINTS +40 PTS"],
                            ["NEXT", 0, 0, "NEXT VISIT: COUPON BELOW"]]
    assert r["shares"] == [0, 39, 600, 0, 143, 0]
    assert (r["items"], r["order"], r["discount"], r["points"]) == (782, 1864, 2646, 102)
    assert r["issues"] == ["WELCOME5"]


def test_conditions_gate_each_program():
    monday_5pm = MONDAY + 17 * HOUR
    sunday_5pm = MONDAY + 6 * DAY + 17 * HOUR
    rows = run([
        # happy hour on a weekday at 17:00: 1.00 off the snacks (both lines share it, 60/40)
        {"lines": [["CHIPS", 5, 1, 300], ["NUTS", 5, 1, 200]], "now": monday_5pm},
        # the same on Sunday, and on Monday at 18:00 (the window is [16, 18)): nothing
        {"lines": [["CHIPS", 5, 1, 300], ["NUTS", 5, 1, 200]], "now": sunday_5pm},
        {"lines": [["CHIPS", 5, 1, 300], ["NUTS", 5, 1, 200]], "now": MONDAY + 18 * HOUR},
        # one dairy piece (min_qty 2): no 10 %; no member: no member discount and no points
        {"lines": [["MILK", 3, 1, 199]], "now": MONDAY + 9 * HOUR},
        # the promo code a week later (window ended), a wrong code, a coupon under its 20.00 minimum
        {"lines": [["RICE", 2, 1, 1999]], "codes": ["1515"], "now": MONDAY + 7 * DAY},
        {"lines": [["RICE", 2, 1, 1999]], "codes": ["1516"], "coupons": ["WELCOME5"]},
        # the coupon over its minimum: 5.00 off
        {"lines": [["RICE", 2, 1, 2000]], "coupons": ["WELCOME5"]},
    ])
    assert rows[0]["rewards"] == [["HAPPYHR", 100, 0, "HAPPY HOUR SNACKS 1.00 OFF"]] and rows[0]["shares"] == [60, 40]
    assert rows[1]["rewards"] == [] and rows[2]["rewards"] == []
    assert rows[3]["rewards"] == [] and rows[3]["points"] == 0
    assert rows[4]["rewards"] == [] and rows[5]["rewards"] == []
    assert rows[6]["rewards"] == [["WELCOME5", 500, 0, "WELCOME COUPON 5.00 OFF"]]


def test_a_line_takes_one_item_reward_and_caps_hold():
    progs = [
        {"id": "A", "name": "A 50% CAP 3.00", "sequence": 1, "rule": {"skus": ["X"]},
         "reward": {"percent": 5000, "max": 300, "on": "items"}},
        {"id": "B", "name": "B 10% ON CAT 1", "sequence": 2, "rule": {"categories": [1]},
         "reward": {"percent": 1000, "on": "items"}},
        {"id": "C", "name": "C 99.00 OFF", "rule": {}, "reward": {"fixed": 9900}},
    ]
    [r] = run([{"lines": [["X", 1, 2, 1000], ["Y", 1, 1, 500], ["Z", 2, 1, 100]]}], progs)
    # A: 50 % of 10.00 = 5.00 capped at 3.00 on X.  B: only Y is left in category 1: 0.50.
    # C: 99.00 fixed, never more than what is left: 16.00 - 3.50 = 12.50.
    assert r["rewards"] == [["A", 300, 0, "A 50% CAP 3.00"], ["B", 50, 0, "B 10% ON CAT 1"],
                            ["C", 1250, 0, "C 99.00 OFF"]]
    assert r["shares"] == [300, 50, 0] and r["discount"] == 1600


def test_a_reward_that_gives_nothing_leaves_its_lines_to_the_next():
    progs = [{"id": "A", "type": "buy_x_get_y", "name": "A 3 FOR 2", "sequence": 1, "rule": {"skus": ["X"]},
              "reward": {"buy": 2, "free": 1}},
             {"id": "B", "name": "B 10% ON CAT 1", "sequence": 2, "rule": {"categories": [1]},
              "reward": {"percent": 1000, "on": "items"}}]
    [r] = run([{"lines": [["X", 1, 2, 1000], ["Y", 1, 1, 500]]}], progs)
    # two X: nothing free, so B takes both lines: 10 % of 15.00, 1.00 on X and 0.50 on Y
    assert r["rewards"] == [["B", 150, 0, "B 10% ON CAT 1"]] and r["shares"] == [100, 50]


def test_buy_x_get_y_gives_the_cheapest_pieces_and_leaves_weighed_lines_out():
    progs = [{"id": "B2G1", "type": "buy_x_get_y", "name": "B2G1", "rule": {"categories": [1]},
              "reward": {"buy": 2, "free": 1}}]
    [r, s] = run([
        # 7 pieces -> 2 free: the 2.00 piece (line 1), then one of the 3.00 each (line 2: 2 x 3.00)
        {"lines": [["A", 1, 3, 1500], ["B", 1, 1, 200], ["C", 1, 2, 600], ["D", 1, 1, 900], ["W", 1, 0, 50]]},
        # 2 pieces: nothing free yet
        {"lines": [["A", 1, 2, 1000]]},
    ], progs)
    assert r["shares"] == [0, 200, 300, 0, 0] and r["discount"] == 500
    assert s["rewards"] == []


@pytest.mark.parametrize("program, message", [
    ({"name": "no id"}, "without an id"),
    ({"id": "P", "type": "gift"}, "unknown type gift"),
    ({"id": "P", "type": "promo_code", "reward": {"percent": 100}}, "needs its code"),
    ({"id": "P", "reward": {}}, "percent or a fixed"),
    ({"id": "P", "reward": {"percent": 10001}}, "more than 100"),
    ({"id": "P", "reward": {"fixed": -5}}, "fixed must be a whole number"),
    ({"id": "P", "type": "buy_x_get_y", "reward": {"buy": 2}}, "buy and free above 0"),
    ({"id": "P", "rule": [1], "reward": {"fixed": 1}}, "program 1 is not an object with a rule and a reward"),
    ("P", "program 1 is not an object"),
    ({"id": "P", "rule": {"hours": 5}, "reward": {"fixed": 1}}, "program P: a field of the wrong kind"),
    ({"id": "P", "rule": {"categories": ["dairy"]}, "reward": {"fixed": 1}}, "program P: a field of the wrong kind"),
])
def test_bad_programs_are_refused_naming_the_program(program, message):
    code = ("from pos.promo import engine\ntry:\n    engine.compile_programs([%r])\n"
            "except engine.PromoError as e:\n    print('REFUSED', e)\n" % program)
    out = mpy.run(code)
    assert out.startswith("REFUSED") and message in out
