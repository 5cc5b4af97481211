"""The basket and its tax on MicroPython (the board's heap): scans, PLU keys, weighed and
price-embedded labels, quantity, void, supervisor override, line and order discounts, tax
per rate inclusive and exclusive, rounded per line and per total (amounts worked by hand in
the comments), and a basket past its line limit refused with the basket intact."""
import json

from host_sim import catalog, mpy

ITEMS = [
    {"barcode": "4006381333931", "sku": "A", "name": "APPLE JUICE", "name_zh": "苹果汁", "price": 250, "tax": 1},
    {"barcode": "96385074", "sku": "B", "name": "RICE 5KG", "name_zh": "大米", "price": 1999, "tax": 2},
    {"barcode": "2312345000002", "sku": "C", "name": "CHEESE", "name_zh": "奶酪", "price": 899, "tax": 1, "unit": "kg"},
    {"barcode": "2054321000001", "sku": "D", "name": "DELI TRAY", "name_zh": "熟食", "price": 0, "tax": 0},
    {"barcode": "036000291452", "sku": "E", "name": "EGGS", "name_zh": "鸡蛋", "price": 500, "tax": 2, "plu": 1},
]
RATES = {"0": 0, "1": 600, "2": 1300}


def _basket(tmp_path, mode, rounding, extra=""):
    catalog.write(str(tmp_path / "catalog.bin"), ITEMS, version=1)
    rules = {"tax": {"mode": mode, "rounding": rounding, "rates": RATES}}
    code = ("import json\nfrom pos.catalog import CatalogError\nfrom pos.catalog.store import Catalog\n"
            "from pos.catalog.cart import Cart, Rules\n"
            "cart = Cart(Catalog(), Rules(json.loads(%r)))\n"
            "for c in ('4006381333931', '4006381333931', '96385074', '2312345012340', '2054321012509'):\n"
            "    cart.scan(c)\n"
            "cart.plu(1)\n"
            "cart.void(1)\ncart.set_quantity(0, 3)\ncart.override(5, 450, 'SUE')\n"
            "cart.discount_line(2, 199)\ncart.discount_order(300)\n"
            "print(json.dumps([cart.line(i) for i in range(cart.n)]))\n"
            "print(json.dumps(cart.totals()))\n" % json.dumps(rules)) + extra
    return mpy.run(code, cwd=str(tmp_path)).strip().splitlines()


def test_lines_from_scans_plu_weight_and_price_labels(tmp_path):
    lines = json.loads(_basket(tmp_path, "exclusive", "line")[0])
    # (record, unit price, quantity, discount, tax, unit, flags); records sorted by key
    by_price = [(ln[1], ln[2], ln[3], ln[4], ln[5], ln[6]) for ln in lines]
    assert by_price == [
        (250, 3, 0, 1, 0, 0),        # apple juice, quantity 3
        (250, 1, 0, 1, 0, 1),        # the second scan, void
        (1999, 1, 199, 2, 0, 0),     # rice, 1.99 off the line
        (899, 1234, 0, 1, 1, 0),     # cheese: 1.234 kg at 8.99/kg
        (1250, 1, 0, 0, 0, 4),       # deli tray: the label's price
        (450, 1, 0, 2, 0, 2),        # eggs by PLU 1, overridden 5.00 -> 4.50
    ]


# amounts: 750, void, 1800, 1109 (899 x 1.234 = 1109.366), 1250, 450 = 5359;
# order discount 300 shared: 41, 100, 62, 69, last 28 -> 709, 1700, 1047, 1181, 422
def test_exclusive_tax_rounded_per_line(tmp_path):
    # rate 6 %: 709 -> 42.54 = 43, 1047 -> 62.82 = 63; rate 13 %: 1700 -> 221, 422 -> 54.86 = 55
    total, rates = json.loads(_basket(tmp_path, "exclusive", "line")[1])
    assert rates == [[0, 0, 1181, 0], [1, 600, 1756, 106], [2, 1300, 2122, 276]]
    assert total == 1181 + 1756 + 106 + 2122 + 276 == 5441


def test_exclusive_tax_rounded_per_total(tmp_path):
    # 1756 x 6 % = 105.36 = 105; 2122 x 13 % = 275.86 = 276
    total, rates = json.loads(_basket(tmp_path, "exclusive", "total")[1])
    assert rates == [[0, 0, 1181, 0], [1, 600, 1756, 105], [2, 1300, 2122, 276]]
    assert total == 5440


def test_inclusive_tax_per_line_and_per_total(tmp_path):
    # per line: 709 x 6/106 = 40.13 = 40, 1047 x 6/106 = 59.26 = 59; 1700 x 13/113 = 195.58 = 196,
    # 422 x 13/113 = 48.55 = 49
    total, rates = json.loads(_basket(tmp_path, "inclusive", "line")[1])
    assert rates == [[0, 0, 1181, 0], [1, 600, 1657, 99], [2, 1300, 1877, 245]]
    assert total == 5059
    # per total: 1756 x 6/106 = 99.40 = 99; 2122 x 13/113 = 244.12 = 244
    total, rates = json.loads(_basket(tmp_path, "inclusive", "total")[1])
    assert rates == [[0, 0, 1181, 0], [1, 600, 1657, 99], [2, 1300, 1878, 244]]
    assert total == 5059


def test_bad_scans_and_edits_are_refused_and_the_basket_kept(tmp_path):
    out = _basket(tmp_path, "exclusive", "line",
                  "def tryit(f):\n"
                  "    try:\n        f()\n        print('done')\n"
                  "    except CatalogError as e:\n        print(e)\n"
                  "tryit(lambda: cart.scan('4006381333932'))\n"      # check digit
                  "tryit(lambda: cart.scan('5901234123457'))\n"      # not in the catalog
                  "tryit(lambda: cart.scan('2054321012508'))\n"      # price label, bad check digit
                  "tryit(lambda: cart.scan('2312345000002'))\n"      # weight 0
                  "tryit(lambda: cart.plu(77))\n"
                  "tryit(lambda: cart.void(1))\n"
                  "tryit(lambda: cart.discount_line(0, 751))\n"
                  "tryit(lambda: cart.discount_order(999999))\n"
                  "tryit(lambda: cart.set_quantity(3, 2))\n"
                  "print(cart.n, json.dumps(cart.totals()))\n")
    assert out[2:] == ["barcode check digit wrong: scan again",
                       "unknown barcode: key the item or call a supervisor",
                       "barcode check digit wrong: scan again",
                       "weight 0 on the label: weigh again",
                       "no PLU key 77",
                       "line 2 already void",
                       "line discount larger than the line",
                       "order discount larger than the sale",
                       "quantity of this line cannot change",
                       "6 " + out[1]]


def test_a_500_line_basket_stops_at_the_limit_with_the_basket_intact(tmp_path):
    catalog.write(str(tmp_path / "catalog.bin"), ITEMS, version=1)
    out = mpy.run("import gc\nfrom pos.catalog import CatalogError\nfrom pos.catalog.store import Catalog\n"
                  "from pos.catalog.cart import Cart, Rules\n"
                  "cart = Cart(Catalog(), Rules({'tax': {'rates': {'1': 600}}, 'max_lines': 150}))\n"
                  "def fill(n):\n"
                  "    refused = 0\n    msg = ''\n"
                  "    for i in range(n):\n"
                  "        try:\n            cart.scan('4006381333931')\n"
                  "        except CatalogError as e:\n            refused += 1\n            msg = str(e)\n"
                  "    return refused, msg\n"
                  "refused = msg = msg2 = None\nfill(10)\ngc.collect()\nfree10 = gc.mem_free()\n"
                  "refused, msg = fill(490)\nmsg2 = None\ngc.collect()\n"
                  "print(free10 - gc.mem_free())\nprint(cart.n, refused, cart.totals())\nprint(msg)\n",
                  cwd=str(tmp_path)).strip().splitlines()
    # 150 x 2.50 = 375.00, tax 6 % per line 15 x 150 = 22.50
    assert out[1] == "150 350 (39750, [(1, 600, 37500, 2250)])"
    assert out[2] == "basket full (150 lines): pay, then start another sale"
    # 140 more lines and 350 refusals take no more heap than the message kept here: the
    # lines' buffer came with the cart
    assert int(out[0]) < 256, out[0]
