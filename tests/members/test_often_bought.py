""""Often bought with" on the terminal (MicroPython, the board's heap): a member identified at
the basket whose copy row carries the cloud's recommendations (r) gets their names from the
catalog as the basket's note, in the display language, without items already in the basket or
unknown to the catalog; a member without recommendations gets no note."""
import json

from host_sim import catalog, mpy
from tests.catalog.test_cart import ITEMS, RATES

RUN = """
import json
from pos.app.basket import Basket
from pos.catalog.store import Catalog
from pos.catalog.cart import Cart, Rules
from pos.members.book import Member
from pos.ui import messages


class Counter:          # the basket's own state that member_found reads and sets
    member_found = Basket.member_found

    def __init__(self):
        self.cart = Cart(Catalog(), Rules(json.loads(%r)))
        self.member = None
        self.note = "old note"


b = Counter()
b.cart.scan("4006381333931")                       # apple juice (A) already in the basket
for lang, r in (("en", ["A", "ZZZ", "E", "B", "C", "D"]), ("zh", ["E", "B"]), ("en", [])):
    messages.language = lang
    row = {"n": "8000000001", "nm": "L* W**", "t": "GOLD", "p": 120}
    if r:
        row["r"] = r
    b.member_found(Member(row, 0))
    print(json.dumps([b.member.number, b.note]))
"""


def test_recommended_names_as_the_basket_note(tmp_path):
    catalog.write(str(tmp_path / "catalog.bin"), ITEMS, version=1)
    rules = json.dumps({"tax": {"mode": "exclusive", "rounding": "line", "rates": RATES}})
    out = [json.loads(x) for x in mpy.run(RUN % rules, cwd=str(tmp_path)).strip().splitlines()]
    assert out[0] == ["8000000001", "Often bought with: EGGS, RICE 5KG, CHEESE"]   # A in basket, ZZZ unknown
    assert out[1] == ["8000000001", "常一起买: 鸡蛋, 大米"]
    assert out[2] == ["8000000001", ""]                                              # none: no note
