"""The scan-or-PLU sale on the whole terminal (frozen firmware on the virtual board with the
product heap, acquirer hosts): F2 at Ready opens the basket, the scanner model sends codes
over its UART, PLU keys on the keypad, the total on the display becomes the amount of the
cash and card tenders, and the receipt lists the lines and the tax per rate."""
import json
import os
import re

import pytest

from host_sim import catalog
from host_sim.rig import Rig

ITEMS = [
    {"barcode": "4006381333931", "sku": "A", "name": "APPLE JUICE", "name_zh": "苹果汁", "price": 250, "tax": 1},
    {"barcode": "96385074", "sku": "B", "name": "RICE 5KG", "name_zh": "大米", "price": 1999, "tax": 2},
    {"barcode": "2312345000002", "sku": "C", "name": "CHEESE", "name_zh": "奶酪", "price": 899, "tax": 1, "unit": "kg"},
    {"barcode": "036000291452", "sku": "E", "name": "EGGS", "name_zh": "鸡蛋", "price": 500, "tax": 2, "plu": 1},
]
RULES = {"tax": {"mode": "exclusive", "rounding": "line", "rates": {"0": 0, "1": 600, "2": 1300}}}


def _stock(rig):
    catalog.write(os.path.join(rig.flash_dir, "catalog.bin"), ITEMS, version=1)
    with open(os.path.join(rig.flash_dir, "config", "catalog.json"), "w") as f:
        json.dump(RULES, f)




@pytest.fixture(scope="module")
def rig():
    with Rig(before_boot=_stock) as r:
        yield r


def _ready_heap(rig):
    found = re.findall(r"app idle heap_free=(\d+)", rig.board.console())
    return int(found[-1])


def _scan(rig, code, shows):
    rig.board.devices["scanner"].scan(code)
    return rig.wait_text(shows)


def test_scanned_basket_paid_in_cash_with_lines_and_tax_on_the_receipt(rig):
    rig.home()
    rig.printer.tear_off()
    rig.keys(["F2"])
    rig.wait_text("BASKET 0")
    _scan(rig, "4006381333931", "BASKET 1")
    _scan(rig, "4006381333931", "BASKET 2")
    _scan(rig, "96385074", "BASKET 3")
    text = _scan(rig, "2312345012340", "BASKET 4")          # cheese, 1.234 kg on the scale's label
    assert "1.234" in text and "USD 11.09" in text
    # bad codes: a message, the basket as it was
    text = _scan(rig, "4006381333932", "check digit wrong")
    assert "BASKET 4" in text
    text = _scan(rig, "5901234123457", "unknown barcode")
    assert "BASKET 4" in text
    rig.keys(["1", "ENTER"])                                  # PLU key 1: eggs
    # 2.50 + 2.50 + 19.99 + 11.09 + 5.00 = 41.08; tax 6 %: 0.15 + 0.15 + 0.67, 13 %: 2.60 + 0.65
    rig.wait_text("USD 45.30")
    rig.keys(["F3"])                                          # the eggs void: 45.30 - 5.00 - 0.65
    text = rig.wait_text("USD 39.65")
    assert "VOID" in text and "BASKET 5" in text
    rig.keys(["ENTER"])
    rig.wait_text("1 Cash")
    rig.keys(["1"])
    rig.wait_text("Cash tendered")
    rig.keys(["F1"])                                          # exact
    rig.wait_text("Change")
    assert rig.printer.wait_for_cuts(1)
    (r,) = rig.receipts()
    assert "APPLE JUICE" in r and "RICE 5KG" in r and "CHEESE" in r and "EGGS" in r
    assert "  1.234kg x 8.99/kg" in r and "  1 x 19.99" in r
    lines = r.split("\n")
    assert "  VOID" in [ln.rstrip() for ln in lines]
    assert any(ln.startswith("SUBTOTAL") and ln.endswith("USD 36.08") for ln in lines)
    assert any(ln.startswith("TAX 6.00% ON USD 16.09") and ln.endswith("USD 0.97") for ln in lines)
    assert any(ln.startswith("TAX 13.00% ON USD 19.99") and ln.endswith("USD 2.60") for ln in lines)
    assert "TOTAL                  USD 39.65" in lines
    e = rig.batch()[-1]
    assert (e["kind"], e["tender"], e["amount"], e["ok"]) == ("sale", "cash", 3965, True)
    rig.keys(["ENTER"])
    rig.wait_text("READY")


def test_basket_paid_by_card(rig):
    rig.home()
    rig.printer.tear_off()
    n0 = len(rig.batch())
    rig.keys(["F2"])
    rig.wait_text("BASKET 0")
    _scan(rig, "96385074", "BASKET 1")
    rig.keys(["1", "ENTER"])
    rig.wait_text("USD 28.24")                # 19.99 + 5.00 + 13 % tax 2.60 + 0.65
    rig.keys(["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    rig.wait_text("INSERT")
    rig.insert("visa-credit")
    text = rig.finish_card("1234", done=("Paid", "DECLINED", "NOT COMPLETED"))
    assert "Paid" in text
    rig.remove()
    sale = [e for e in rig.batch()[n0:] if e["kind"] == "sale"]
    assert [(e["tender"], e["amount"], e["ok"]) for e in sale] == [("card", 2824, True)]
    assert rig.printer.wait_for_cuts(3)        # merchant and customer card copies, then the basket
    summary = rig.receipts()[-1]
    assert "RICE 5KG" in summary and "EGGS" in summary
    assert any(ln.startswith("TAX 13.00% ON USD 24.99") and ln.endswith("USD 3.25") for ln in summary.split("\n"))
    rig.keys(["ENTER"])
    rig.wait_text("READY")


def test_no_catalog_says_so_and_ready_comes_back(rig):
    rig.home()
    path = os.path.join(rig.flash_dir, "catalog.bin")
    os.rename(path, path + ".away")
    try:
        rig.keys(["F2"])
        rig.wait_text("no catalog on this terminal")
        rig.keys(["ENTER"])
        rig.wait_text("READY")
    finally:
        os.rename(path + ".away", path)


def test_quantity_override_by_a_supervisor_and_discounts_from_the_basket_menu(rig):
    rig.home()
    rig.printer.tear_off()
    rig.keys(["F2"])
    rig.wait_text("BASKET 0")
    _scan(rig, "4006381333931", "BASKET 1")
    rig.keys(["MENU"])
    rig.wait_text("1 Quantity")
    rig.keys(["1"])
    rig.wait_text("Quantity")
    rig.keys(["4", "ENTER"])
    rig.wait_text("USD 10.60")                       # 4 x 2.50 = 10.00 + 6 % 0.60
    rig.keys(["MENU"])
    rig.wait_text("3 Price override")
    rig.keys(["3"])
    rig.wait_text("Supervisor PIN")
    rig.keys(["1", "1", "1", "1", "ENTER"])          # a cashier's PIN: not allowed
    rig.wait_text("Not allowed")
    rig.keys(["2", "2", "2", "2", "ENTER"])
    rig.wait_text("Enter amount")
    rig.keys(["2", "0", "0", "ENTER"])               # 2.00 each
    rig.wait_text("USD 8.48")                        # 4 x 2.00 = 8.00 + 0.48
    rig.keys(["MENU"])
    rig.wait_text("5 Order discount")
    rig.keys(["5"])
    rig.wait_text("Enter amount")
    rig.keys(["1", "0", "0", "ENTER"])               # 1.00 off the order: 7.00 + 0.42
    rig.wait_text("USD 7.42")
    rig.keys(["ENTER"])
    rig.wait_text("1 Cash")
    rig.keys(["1"])
    rig.wait_text("Cash tendered")
    rig.keys(["F1"])
    rig.wait_text("Change")
    assert rig.printer.wait_for_cuts(1)
    r = rig.receipts()[-1]
    lines = [ln.rstrip() for ln in r.split("\n")]
    i = lines.index("APPLE JUICE")
    assert lines[i + 1] == "  4 x 2.00              USD 8.00" and lines[i + 2] == "  PRICE SET BY SUPERVISOR"
    assert "ORDER DISCOUNT         -USD 1.00" in lines and "TAX 6.00% ON USD 7.00   USD 0.42" in lines
    assert rig.batch()[-1]["amount"] == 742
    rig.keys(["ENTER"])
    rig.wait_text("READY")
