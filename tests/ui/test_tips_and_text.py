"""Tip entry at sale time (Settings > Tips at sale), and text entry on the numeric keypad
(Settings > Merchant name, admin PIN)."""
import re

import pytest

from host_sim.rig import Rig


@pytest.fixture(scope="module")
def rig():
    with Rig() as r:
        yield r


def test_tip_entered_at_sale_goes_on_the_card_and_the_receipt(rig):
    rig.home()
    rig.keys(["MENU", "8"])
    rig.wait_text("3 Tips at sale")
    rig.keys(["3"])
    rig.wait_text("On")
    rig.home()
    rig.keys(list("4000") + ["ENTER"])
    rig.wait_text("Tip")
    rig.keys(list("600") + ["ENTER"])
    rig.wait_text("Sale USD 46.00")
    rig.keys(["2"])
    rig.wait_text("INSERT")
    n0 = len(rig.receipts())
    rig.insert("visa-cvn10")
    assert "APPROVED" in rig.finish_card("1234")
    rig.printer.wait_for_cuts(n0 + 2)
    r = rig.receipts()[-1]
    assert re.search(r"BASE +USD 40\.00", r) and re.search(r"TIP +USD 6\.00", r) and re.search(r"TOTAL +USD 46\.00", r)
    e = rig.batch()[-1]
    assert e["amount"] == 4000 and e["tip"] == 600
    rig.keys(["ENTER"])
    rig.remove()
    rig.keys(["MENU", "8", "3"])                      # tips off again
    rig.wait_text("Off")


def test_merchant_name_typed_on_the_keypad(rig):
    rig.home()
    rig.keys(["MENU", "8"])
    rig.wait_text("2 Merchant name")
    rig.keys(["2"])
    rig.wait_text("PIN")
    rig.keys(list("3333") + ["ENTER"])               # admin
    rig.wait_text("ENTER ok")
    for _ in range(20):
        rig.keys(["CLEAR"], pace=0.02)
    rig.keys(["2", "2", "6", "6", "6", "2", "2"], pace=0.05)      # B O B (multi-tap)
    rig.wait_text("BOB_")
    rig.keys(["ENTER"])
    text = rig.wait_text("READY")
    assert "BOB" in text.split("\n")[1]
