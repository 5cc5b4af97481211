"""Defects a merchant meets at the counter, on the whole terminal (frozen firmware on the
virtual board, hosts, device models; host_sim.rig): each test drives the keypad, the card
slot, the NFC field or the printer as a cashier would and reads the display, the receipts,
the LEDs and the hosts."""
import json
import os
import re
import time

import pytest

from host_sim.rig import Rig

LONG_MERCHANT = "THE CORNER BAKERY AND COFFEE HOUSE"


def _long_merchant(rig):
    path = os.path.join(rig.flash_dir, "config", "terminal.json")
    with open(path) as f:
        d = json.load(f)
    d["merchant"] = LONG_MERCHANT
    with open(path, "w") as f:
        json.dump(d, f)


@pytest.fixture(scope="module")
def rig():
    with Rig(before_boot=_long_merchant) as r:
        yield r


def wait_until(pred, timeout=15, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("never: %s" % what)


def _amount(rig, keys):
    rig.home()
    rig.keys(list(keys))


def _to_card(rig, minor):
    rig.home()
    rig.keys(list(str(minor)) + ["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    return rig.wait_text("INSERT")


# -- sign-on ----------------------------------------------------------------------------
def test_signs_on_at_boot_when_the_host_answers(rig):
    """No transaction yet: the terminal has already fetched its working keys from both
    acquirers (0800/0810), so the first online PIN does not wait for or fail on them."""
    wait_until(lambda: "TERM0001" in rig.hosts["alpha"].terminal_keys, 20, "alpha sign-on at boot")
    wait_until(lambda: "TERM0002" in rig.hosts["beta"].terminal_keys, 20, "beta sign-on at boot")
    wait_until(lambda: os.path.exists(os.path.join(rig.flash_dir, "wk_alpha.json")), 10, "keys stored")


# -- merchant QR ---------------------------------------------------------------------
@pytest.fixture
def fresh_rig():
    """A counter of its own: the merchant-QR and report tests do not depend on how much
    heap the other flows left (the trading-day endurance is another test's)."""
    with Rig(before_boot=_long_merchant) as r:
        yield r


def test_paid_merchant_qr_prints_and_ends_the_sale(fresh_rig):
    rig = fresh_rig
    rig.home()
    b0 = len(rig.batch())
    n0 = len(rig.receipts())
    order = rig.show_merchant_qr(1250)
    assert order["amount"] == 1250 and order["currency"] == "840"
    code, _ = rig.wallet.customer_pays(order["order"])
    assert code == 200
    text = rig.wait_text("PAID BY WALLET", 15)
    assert "USD 12.50" in text
    assert rig.printer.wait_for_cuts(n0 + 1, timeout=10)
    r = rig.receipts()[-1]
    assert re.search(r"TOTAL +USD 12\.50", r) and order["order"] in r and "TID TERM0001" in r
    rig.keys(["ENTER"])
    text = rig.wait_text("READY")
    assert "Sale USD" not in text
    rig.keys(["ENTER"])                               # nothing leads back to the tender menu
    time.sleep(0.5)
    assert "1 Cash" not in rig.display.text()
    b = rig.batch()
    assert len(b) == b0 + 1 and b[-1]["tender"] == "qr" and b[-1]["amount"] == 1250


def test_cancel_after_the_customer_paid_ends_as_paid(fresh_rig):
    """The customer pays the shown QR and the cashier presses CANCEL before the terminal's
    next poll: the sale ends as paid (receipt, batch), not back at the tender menu."""
    rig = fresh_rig
    rig.home()
    b0 = len(rig.batch())
    order = rig.show_merchant_qr(640)
    rig.wallet.customer_pays(order["order"])
    rig.keys(["CANCEL"])
    text = rig.wait_text("PAID BY WALLET", 15)
    assert "USD 6.40" in text and "1 Cash" not in text
    assert rig.wallet.orders[order["order"]]["status"] == "paid"
    assert len(rig.batch()) == b0 + 1
    rig.keys(["ENTER"])
    rig.wait_text("READY")


# -- amount entry -------------------------------------------------------------------------
def test_decimal_point_key(rig):
    _amount(rig, ["1", "2", ".", "5"])
    text = rig.wait_text("USD 12.50")
    assert "Enter amount" in text
    rig.keys(["ENTER"])
    rig.wait_text("Sale USD 12.50")
    rig.home()
    _amount(rig, ["1", "2", "5", "0"])                 # cash-register style stays as it was
    rig.wait_text("USD 12.50")
    rig.keys(["CLEAR", "CLEAR", "CLEAR", "CLEAR"])
    rig.keys(["7", ".", "0", "5", "CLEAR", "9"])      # 7.0 then 7.09
    rig.wait_text("USD 7.09")


def test_enter_on_an_empty_amount_says_why(rig):
    rig.home()
    rig.keys(["MENU", "1"])
    rig.wait_text("Enter amount")
    rig.keys(["ENTER"])
    text = rig.wait_text("Key in an amount first")
    assert "USD 0.00" in text


def test_quick_cash_keys(rig):
    rig.home()
    rig.keys(list("1250") + ["ENTER"])
    rig.wait_text("1 Cash")
    rig.keys(["1"])
    text = rig.wait_text("Cash tendered")
    assert "F1 Exact USD 12.50" in text and "F2 USD 20.00" in text and "F3 USD 50.00" in text
    n0 = len(rig.receipts())
    rig.keys(["F2"])                                  # a 20 note
    text = rig.wait_text("Change")
    assert "USD 7.50" in text
    assert rig.printer.wait_for_cuts(n0 + 1, timeout=10)
    r = rig.receipts()[-1]
    assert re.search(r"CASH +USD 20\.00", r) and re.search(r"CHANGE +USD 7\.50", r)
    # a cash receipt names the merchant and terminal IDs like a card receipt does
    assert "MID MERCHANT0000001" in r and "TID TERM0001" in r
    # the merchant's name wraps on the receipt instead of being cut
    head = [l.strip() for l in r.split("\n")[:3]]
    assert head == ["THE CORNER", "BAKERY AND", "COFFEE HOUSE"], head    # 16 double-width a line
    rig.keys(["ENTER"])
    text = rig.wait_text("READY")
    # the Ready screen's counter says what it counts
    assert re.search(r"Transactions in batch: \d+", text), text


# -- paper ----------------------------------------------------------------------------
def test_paper_out_shows_in_the_status_bar(rig):
    rig.home()
    rig.printer.inject("paper_out")
    try:
        wait_until(lambda: "NO PAPER" in rig.display.text().split("\n")[0], 15, "NO PAPER in the status bar")
    finally:
        rig.printer.load_paper()
    wait_until(lambda: "NO PAPER" not in rig.display.text().split("\n")[0], 15, "paper back")


# -- PIN, card removal, REMOVE CARD -----------------------------------------------------
def test_tap_prompt_and_contactless_lights(rig):
    text = _to_card(rig, 1800)
    assert "TAP, INSERT OR SWIPE" in text
    leds = rig.board.devices["leds"]
    wait_until(lambda: leds.state == [1, 0, 0, 0], 5, "Book A ready to read: light 1")
    from host_sim.cards.contactless import make_card
    n = len(leds.sequence())
    rig.board.devices["pn532"].tap(make_card("visa-cvn10"))
    rig.wait_text("APPROVED", 30)
    rig.board.devices["pn532"].remove()
    seq = leds.sequence()[n:]
    assert (1, 1, 1, 1) in seq                        # all four at the outcome
    wait_until(lambda: leds.state == [0, 0, 0, 0], 5, "lights dark after the outcome")
    rig.keys(["ENTER"])
    rig.wait_text("READY")
    assert leds.state == [0, 0, 0, 0]
    e = rig.batch()[-1]
    assert e["entry"] == "CONTACTLESS" and e["scheme"] == "visa"


def test_first_wrong_pin_says_so_with_tries_left(rig):
    _to_card(rig, 1250)
    rig.insert("visa-cvn10")                          # offline plaintext PIN
    rig.wait_text("ENTER PIN", 30)
    rig.keys(list("9999") + ["ENTER"])
    text = rig.wait_text("WRONG PIN", 15)
    assert "2 TRIES LEFT" in text and "ENTER PIN" in text
    rig.keys(list("1234") + ["ENTER"])
    text = rig.wait_text("APPROVED", 30)
    # after the approval: REMOVE CARD until the card is out
    assert "REMOVE CARD" in text
    rig.remove()
    wait_until(lambda: "REMOVE CARD" not in rig.display.text(), 5, "REMOVE CARD gone")
    assert "APPROVED" in rig.display.text()
    rig.keys(["ENTER"])


def test_card_pulled_during_pin_entry_ends_at_once(rig):
    b0 = len(rig.batch())
    _to_card(rig, 1250)
    rig.insert("visa-cvn10")
    rig.wait_text("ENTER PIN", 30)
    rig.keys(["1", "2"])
    rig.remove()
    t0 = time.monotonic()
    text = rig.wait_text("CARD REMOVED", 5)
    assert time.monotonic() - t0 < 5
    assert "APPROVED" not in text
    assert len(rig.batch()) == b0                      # nothing charged
    rig.keys(["ENTER"])


# -- refund ------------------------------------------------------------------------------
def _supervisor(rig):
    rig.wait_text("Supervisor PIN")
    rig.keys(list("2222") + ["ENTER"])


def test_refund_prefilled_and_over_limit_kept(rig):
    text = _to_card(rig, 4000)
    rig.insert("visa-cvn10")
    rig.wait_text("ENTER PIN", 30)
    rig.keys(list("1234") + ["ENTER"])
    rig.wait_text("APPROVED", 30)
    rig.remove()
    sale = rig.batch()[-1]
    rig.keys(["ENTER"])
    rig.home()
    rig.keys(["MENU", "2"])
    _supervisor(rig)
    rig.wait_text("Original invoice")
    rig.keys(list(str(sale["inv"])) + ["ENTER"])
    text = rig.wait_text("Enter amount")
    assert "USD 40.00" in text                          # the original amount, prefilled
    rig.keys(list("5000") + ["ENTER"])                  # 50.00: more than was paid
    text = rig.wait_text("Over limit", 10)
    assert "max USD 40.00" in text and "USD 50.00" in text     # refused, the entry kept
    rig.keys(["CLEAR", "CLEAR", "CLEAR", "CLEAR", "1", "5", "0", "0", "ENTER"])
    which, text = rig.wait_any(["APPROVED", "DECLINED"], 30)
    assert which == "APPROVED"
    e = rig.batch()[-1]
    assert e["kind"] == "refund" and e["amount"] == 1500
    rig.keys(["ENTER"])


# -- reports -------------------------------------------------------------------------------
def test_x_report_counts_contactless_under_its_scheme(fresh_rig):
    rig = fresh_rig
    _to_card(rig, 1800)
    from host_sim.cards.contactless import make_card
    rig.board.devices["pn532"].tap(make_card("visa-cvn10"))
    rig.wait_text("APPROVED", 30)
    rig.board.devices["pn532"].remove()
    rig.keys(["ENTER"])
    rig.home()
    rig.keys(list("500") + ["ENTER"])
    rig.wait_text("1 Cash")
    rig.keys(["1"])
    rig.wait_text("Cash tendered")
    rig.keys(["F1"])
    rig.wait_text("Change")
    rig.keys(["ENTER"])
    rig.home()
    n0 = len(rig.receipts())
    rig.keys(["MENU", "7"])
    rig.wait_text("1 X report")
    rig.keys(["1"])
    assert rig.printer.wait_for_cuts(n0 + 1, timeout=10), rig.board.console()[-800:]
    r = rig.receipts()[-1]
    scheme = r[r.index("SCHEME"):r.index("OPERATOR")]
    # the tap under its scheme, cash under its tender
    assert re.search(r" visa +1 +USD 18\.00", scheme), scheme
    assert re.search(r" cash +1 +USD 5\.00", scheme), scheme
    assert not re.search(r" card +\d+", scheme), scheme
    assert "THE CORNER BAKERY AND COFFEE" in r and "HOUSE" in r   # the name wraps, not cut
    rig.keys(["ENTER"])


def test_transaction_list_rows_fit(rig):
    rig.home()
    rig.keys(["MENU", "7"])
    rig.wait_text("3 Transactions")
    rig.keys(["3"])
    text = rig.wait_text("1 00")                        # the list's first row: "1 000001 ..."
    rows = [l for l in text.split("\n") if re.match(r"^\d \d{6} ", l)]
    assert rows, text
    for row in rows:
        assert len(row) <= 28, row
        assert re.match(r"^\d \d{6} (SALE|RFND|VOID|PRE|COMP|BAL) \d+\.\d\d( V)?$", row), row
    rig.keys(["CANCEL", "CANCEL"])


# -- one currency ---------------------------------------------------------------------------
def _euro_terminal(rig):
    path = os.path.join(rig.flash_dir, "config", "emv.json")
    src = path if os.path.exists(path) else os.path.join(os.path.dirname(__file__), "..", "..", "firmware",
                                                         "config", "emv.json")
    with open(src) as f:
        d = json.load(f)
    d["terminal"]["currency_code"] = "0978"
    with open(path, "w") as f:
        json.dump(d, f)


def test_one_currency_from_the_terminal_configuration():
    """The terminal configured for euros: the amount screens, the cash receipt, the chip
    sale's screen, receipt and ISO 8583 DE 49 all say EUR / 978."""
    with Rig(before_boot=_euro_terminal) as rig:
        rig.home()
        rig.keys(list("1250") + ["ENTER"])
        text = rig.wait_text("1 Cash")
        assert "EUR 12.50" in text and "USD" not in text
        rig.keys(["1"])
        text = rig.wait_text("Cash tendered")
        assert "F1 Exact EUR 12.50" in text
        rig.keys(["F1"])
        rig.wait_text("Change")
        assert rig.printer.wait_for_cuts(1, timeout=10)
        assert re.search(r"TOTAL +EUR 12\.50", rig.receipts()[-1])
        rig.keys(["ENTER"])
        rig.home()
        seen = []
        rig.hosts["alpha"].on_message = lambda d, line, raw, ports: seen.append(line)
        text = rig.sale_by_card(1500, "visa-cvn10", pin="1234")
        assert "APPROVED" in text and "EUR 15.00" in text
        e = rig.batch()[-1]
        t = rig.hosts["alpha"].db.txn("TERM0001", e["stan"])
        assert t is not None
        assert any("currency 978" in line for line in seen if line.startswith(("0200", "0220", "0100"))), seen
        assert rig.printer.wait_for_cuts(3, timeout=10)
        assert re.search(r"TOTAL +EUR 15\.00", rig.receipts()[-1])


def _first_sign_on_unanswered(rig):
    rig.alpha_lines = []
    rig.hosts["alpha"].on_message = lambda d, line, raw, ports: rig.alpha_lines.append((d, line))
    # the boot sign-on and the retry once Ready is up both go unanswered
    rig.hosts["alpha"].faults.set("drop", count=2, mtis=("0810",))


def test_sign_on_before_pin_entry_when_no_working_key():
    """The boot sign-on goes unanswered: the first sale that needs an online PIN signs on
    before the PIN is asked for, and is approved (not refused for want of keys)."""
    with Rig(before_boot=_first_sign_on_unanswered) as rig:
        wait_until(lambda: rig.board.console().count("sign-on failed acquirer=alpha") >= 2, 40,
                   "the boot sign-on and its retry given up")
        rig.home()
        assert not os.path.exists(os.path.join(rig.flash_dir, "wk_alpha.json"))
        text = rig.sale_by_card(2500, "unionpay-debit", pin="1234")
        assert "APPROVED" in text, text
        ins = [line for d, line in rig.alpha_lines if d == "out"]     # terminal to host
        sign_ons = [i for i, line in enumerate(ins) if line.startswith("0800") and "DE70 001" in line]
        auths = [i for i, line in enumerate(ins) if line.startswith(("0100", "0200"))]
        assert len(sign_ons) == 3 and auths and sign_ons[2] < auths[0], ins
        rig.remove()



def test_a_pin_typed_in_one_burst_loses_no_digit():
    """A cardholder types faster than the terminal reads its keypad: every key of a FIFO read
    counts (the PIN prompt used to keep only the first key of each read)."""
    from host_sim.rig import Rig
    with Rig() as rig:
        rig.keys(rig.amount_keys(1500) + ["ENTER"])
        rig.wait_text("2 Card")
        rig.keys(["2"])
        rig.wait_text("TAP, INSERT OR SWIPE")
        rig.insert("visa-cvn10")
        rig.wait_text("ENTER PIN", 60)
        kp = rig.board.devices["keypad"]
        for k in "1234":                 # all in the FIFO before the firmware reads once
            kp.tap(k)
        kp.tap("ENTER")
        which, text = rig.wait_any(["APPROVED", "DECLINED", "NOT COMPLETED", "WRONG PIN"], 60)
    assert which == "APPROVED", text


# -- a sale approved offline with no host record -----------------------------------------
def _offline_sale_without_stan(rig, inv, amount):
    """The batch entry an offline approval leaves when its advice could not be queued (the
    kernel approved, the engine's advice failed): approved, no STAN, nothing at the host."""
    e = {"inv": inv, "kind": "sale", "tender": "card", "amount": amount, "result": "APPROVED", "ok": True,
         "entry": "CHIP", "pan": "476173******0119", "label": "VISA CREDIT", "aid": "A0000000031010",
         "scheme": "visa", "cvm": "offline PIN", "auth": "Y1", "rc": "", "text": "", "mid": "", "tid": "",
         "stan": "", "rrn": "", "acq": "", "online": False, "op": "CASHIER", "ref": "T-%06d" % inv}
    with open(os.path.join(rig.flash_dir, "batch.jsonl"), "a") as f:
        f.write(json.dumps(e) + "\n")


def _host_rows(rig):
    return sum(len(h.db.transactions("TERM0001")) + len(h.db.transactions("TERM0002")) for h in rig.hosts.values())


def test_refund_and_void_of_a_sale_with_no_host_record(rig):
    _offline_sale_without_stan(rig, 990001, 1800)
    rows = _host_rows(rig)
    # refund: the card data is not in the journal without a host record: said so, nothing sent
    rig.home()
    rig.keys(["MENU", "2"])
    _supervisor(rig)
    rig.wait_text("Original invoice")
    rig.keys(list("990001") + ["ENTER"])
    rig.wait_text("USD 18.00")
    rig.keys(["ENTER"])
    text = rig.wait_text("no host record", 15)
    assert "invalid syntax" not in text
    assert _host_rows(rig) == rows
    # void: nothing reached a host, so nothing is sent; the sale no longer counts
    rig.home()
    rig.keys(["MENU", "3"])
    _supervisor(rig)
    rig.wait_text("Original invoice")
    rig.keys(list("990001") + ["ENTER"])
    which, text = rig.wait_any(["APPROVED", "DECLINED", "no host record", "invalid syntax"], 15)
    assert which == "APPROVED", text
    voided = [e for e in rig.batch() if e["inv"] == 990001][0]
    void = [e for e in rig.batch() if e.get("orig") == 990001][0]
    assert voided["voided"] and void["kind"] == "void" and void["amount"] == 1800 and void["stan"] == ""
    assert _host_rows(rig) == rows
    rig.keys(["ENTER"])
