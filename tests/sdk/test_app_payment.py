"""request_payment on the virtual board: an installed app (apps/payer) asks the counter for a
payment, the cashier takes it by cash or by card (PIN) through the sale's own tenders, and
the app gets back the outcome -- approved, amount, tender, masked PAN, scheme, reference --
and nothing else; the payment is in the batch like any sale."""
import json
import os
import shutil
import time

import pytest

from host_sim.rig import Rig

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAFE_KEYS = {"approved", "amount", "tender", "pan", "scheme", "reference", "invoice"}


def _install(rig):
    shutil.copytree(os.path.join(REPO, "apps", "payer"), os.path.join(rig.flash_dir, "apps", "payer"))
    shutil.copytree(os.path.join(REPO, "tests", "sdk", "apps", "hostile"),
                    os.path.join(rig.flash_dir, "apps", "hostile"))


@pytest.fixture(scope="module")
def rig():
    # 512K: these apps are sources, compiled on the terminal when they start (the hostile app's
    # 6 KB file is read in one piece); after a card payment the product heap has no such block.
    # Apps installed as compiled packages do not need it (docs/sdk.md, "Memory").
    with Rig(heap="512K", before_boot=_install) as r:
        yield r


def _open_payer(rig):
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("1 Sale")
    rig.keys(["UP"])                     # the last line of the menu: Apps
    rig.keys(["ENTER"])
    rig.wait_text("2 Payer")
    rig.keys(["2"])
    rig.wait_text("ENTER pay")


def _last(rig):
    with open(os.path.join(rig.flash_dir, "appdata", "payer", "last")) as f:
        return json.load(f)


def test_cash_payment_for_an_app(rig):
    _open_payer(rig)
    n0 = len(rig.batch())
    rig.keys(list("1250") + ["ENTER"])
    rig.wait_text("Sale USD 12.50")
    rig.keys(["1"])                      # Cash
    rig.wait_text("Cash tendered")
    rig.keys(list("2000") + ["ENTER"])
    rig.wait_text("7.50")                # the change, on the counter's own screen
    rig.keys(["ENTER"])
    text = rig.wait_text("PAID")
    assert "cash 1250" in text and "PAYER-1" in text
    o = _last(rig)
    assert set(o) == SAFE_KEYS
    assert o["approved"] is True and o["amount"] == 1250 and o["tender"] == "cash" and o["pan"] == ""
    b = rig.batch()
    assert len(b) == n0 + 1 and b[-1]["tender"] == "cash" and b[-1]["amount"] == 1250
    assert b[-1]["inv"] == o["invoice"]
    assert "PAYER-1" in rig.receipts()[-1]           # the app's own slip, printed through the SDK
    rig.keys(["CANCEL"])
    rig.wait_text("READY")


def test_card_payment_for_an_app_returns_only_the_masked_outcome(rig):
    _open_payer(rig)
    rig.keys(list("4200") + ["ENTER"])
    rig.wait_text("Sale USD 42.00")
    rig.keys(["2"])                      # Card
    rig.wait_text("INSERT")
    card = rig.insert("visa-cvn10")
    text = rig.finish_card("1234", done=("PAID", "NOT PAID"))
    assert "PAID" in text and "card 4200" in text
    o = _last(rig)
    assert set(o) == SAFE_KEYS
    pan = card.pan if hasattr(card, "pan") else None
    assert o["approved"] is True and o["amount"] == 4200 and o["tender"] == "card"
    assert o["reference"] == "PAYER-2"
    assert o["pan"][:6].isdigit() and "*" in o["pan"] and o["pan"][-4:].isdigit()
    if pan:
        assert pan not in json.dumps(o) and o["pan"][-4:] == pan[-4:]
    raw = open(os.path.join(rig.flash_dir, "appdata", "payer", "last")).read()
    assert "1234" not in raw.replace(o["pan"], "")          # no PIN in what the app kept
    e = rig.batch()[-1]
    assert e["tender"] == "card" and e["amount"] == 4200 and e["ok"] and e["inv"] == o["invoice"]
    rig.remove()
    # F1: the app refunds it; the counter asks for the supervisor's PIN and sends the refund
    rig.keys(["F1"])
    rig.wait_text("PIN")
    rig.keys(list("2222") + ["ENTER"])
    text = rig.wait_text("refund 4200", 60)
    assert "PAID" in text and "PAYER-2" in text
    with open(os.path.join(rig.flash_dir, "appdata", "payer", "refund")) as f:
        r = json.load(f)
    assert set(r) == SAFE_KEYS and r["approved"] is True and r["amount"] == 4200 and r["pan"] == o["pan"]
    e = rig.batch()[-1]
    assert e["kind"] == "refund" and e["orig"] == o["invoice"] and e["ok"] and e["amount"] == 4200
    # F1 again: the payment is refunded already; the counter refuses, nothing is sent
    n = len(rig.batch())
    rig.keys(["F1"])
    text = rig.wait_text("no payment of this app", 30)
    assert "PIN" not in text and len(rig.batch()) == n
    rig.keys(["CANCEL"])
    rig.wait_text("READY")


def test_a_runaway_app_is_stopped_by_an_interrupt_and_the_counter_sells_again(rig):
    """`while True: pass` in an app cannot be pre-empted by the firmware (docs/sdk.md); an
    interrupt (Ctrl-C on the REPL: SIGINT, as the STM32 UART IRQ raises it) reaches the
    running bytecode, and the runtime stops the app and goes back to Ready."""
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("1 Sale")
    rig.keys(["UP", "ENTER"])
    rig.wait_text("1 Hostile")
    rig.keys(["1"])
    rig.wait_text("HOSTILE")
    rig.keys(["9"])
    flag = os.path.join(rig.flash_dir, "appdata", "hostile", "looping")
    end = time.monotonic() + 30
    while not os.path.exists(flag) and time.monotonic() < end:
        time.sleep(0.05)
    assert os.path.exists(flag), "the app never reached its loop"
    rig.board.write(b"\x03")
    text = rig.wait_text("stopped", 30).replace("\n", "")
    assert "hostile stopped: raised KeyboardInterrupt" in text
    rig.keys(["CANCEL"])
    rig.wait_text("READY")
    n0 = len(rig.batch())
    rig.keys(list("500") + ["ENTER"])     # the counter works on: a cash sale
    rig.wait_text("1 Cash")
    rig.keys(["1"])
    rig.wait_text("Cash tendered")
    rig.keys(list("500") + ["ENTER"])
    rig.wait_text("Change")
    rig.keys(["ENTER"])
    rig.wait_text("READY")
    assert len(rig.batch()) == n0 + 1
