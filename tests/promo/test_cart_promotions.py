"""The promotions engine on the terminal's cart (MicroPython, the board's heap): scanned lines
and their catalog SKU and category, the item rewards on their lines and the order rewards
shared like the cashier's order discount, so the tax per rate falls on what is paid; applied
afresh after a void (worked by hand in the comments)."""
import json

from host_sim import catalog, mpy

ITEMS = [
    {"barcode": "4006381333931", "sku": "TEA", "name": "GREEN TEA", "price": 650, "tax": 1, "category": 1},
    {"barcode": "96385074", "sku": "MILK", "name": "MILK 1L", "price": 199, "tax": 1, "category": 3},
    {"barcode": "2312345000002", "sku": "CHEESE", "name": "CHEDDAR", "price": 1899, "tax": 1, "unit": "kg", "category": 3},
    {"barcode": "036000291452", "sku": "SOAP", "name": "HAND SOAP", "price": 399, "tax": 2, "category": 4},
]
PROGRAMS = [
    {"id": "TEA3FOR2", "type": "buy_x_get_y", "name": "TEA 3 FOR 2", "rule": {"skus": ["TEA"]},
     "reward": {"buy": 2, "free": 1}},
    {"id": "DAIRY10", "name": "10% OFF DAIRY", "rule": {"categories": [3]}, "reward": {"percent": 1000, "on": "items"}},
    {"id": "SPEND20", "name": "2.00 OFF OVER 20.00", "rule": {"min_amount": 2000}, "reward": {"fixed": 200}},
]
RULES = {"tax": {"mode": "exclusive", "rounding": "line", "rates": {"1": 600, "2": 1300}}}

CODE = """
import json
from pos.catalog.store import Catalog
from pos.catalog.cart import Cart, Rules
from pos.promo import engine
progs = engine.compile_programs(json.loads(%r))
cart = Cart(Catalog(), Rules(json.loads(%r)))
for c in ("4006381333931", "4006381333931", "4006381333931", "96385074", "2312345007506", "036000291452"):
    cart.scan(c)
out = cart.promote(progs, 0)
print(json.dumps([cart.totals(), [r.text for r in out.rewards], [cart.promoted(i) for i in range(cart.n)], out.discount]))
cart.void(1)
out = cart.promote(progs, 0)
print(json.dumps([cart.totals(), [r.text for r in out.rewards], [cart.promoted(i) for i in range(cart.n)], out.discount]))
"""


def test_promotions_on_the_cart_and_the_tax_on_what_is_paid(tmp_path):
    catalog.write(str(tmp_path / "catalog.bin"), ITEMS, version=1)
    first, second = [json.loads(s) for s in mpy.run(CODE % (json.dumps(PROGRAMS), json.dumps(RULES)),
                                                     cwd=str(tmp_path)).strip().splitlines()[-2:]]
    # item rewards in their order (same sequence: by id, DAIRY10 before TEA3FOR2).
    # tea: three lines of 6.50, one free: a tie of prices goes to the earliest line (line 0);
    # milk 1.99, cheddar 0.750 kg x 18.99 = 14.24, soap 3.99: subtotal 39.72.
    # DAIRY10 on 1.99 + 14.24 = 16.23 -> 1.62: milk 1.99 * 162 // 1623 = 0.19, cheddar 1.43.
    # left 39.72 - 6.50 - 1.62 = 31.60 -> SPEND20 2.00, shared over the lines by amount.
    (total, rates), texts, shares, discount = first
    assert texts == ["10% OFF DAIRY", "TEA 3 FOR 2", "2.00 OFF OVER 20.00"]
    assert shares == [650, 0, 0, 19, 143, 0] and discount == 1012
    # what is paid per line: 0, 6.50, 6.50, 1.80, 12.81, 3.99 = 31.60, less 2.00 shared in
    # proportion (floor; the last line the rest): 0, 41, 41, 11, 81, 26 -> 6.09, 6.09, 1.69,
    # 12.00, 3.73.  Tax per line at 6 %: 0.37, 0.37, 0.10, 0.72 = 1.56 on 25.87; 13 % of 3.73 = 0.48.
    assert rates == [[1, 600, 2587, 156], [2, 1300, 373, 48]]
    assert total == 2587 + 156 + 373 + 48 == 3972 - 1012 + 156 + 48
    # a tea voided: two teas left, nothing free; the rest as before on 33.22 - 1.62
    (total, rates), texts, shares, discount = second
    assert texts == ["10% OFF DAIRY", "2.00 OFF OVER 20.00"]
    assert shares == [0, 0, 0, 19, 143, 0] and discount == 362
