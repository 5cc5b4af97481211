"""Card sales through the whole terminal: keypad -> card tender -> ISO 7816 reader model ->
EMV card simulator -> kernel -> payment engine -> acquirer host; receipts on the printer
model.  Frozen firmware on the virtual board (host_sim.rig)."""
import re

import pytest

from host_sim.rig import Rig


@pytest.fixture(scope="module")
def rig():
    with Rig() as r:
        yield r


def _receipt_pairs(rig, n_before):
    return rig.receipts()[n_before:]


def test_offline_pin_card_sale(rig):
    before = len(rig.receipts())
    text = rig.sale_by_card(1250, "visa-credit", pin="1234")
    assert "APPROVED" in text and "476173******0119" in text
    assert rig.printer.wait_for_cuts(before + 2)
    merchant, customer = _receipt_pairs(rig, before)[:2]
    for r in (merchant, customer):
        assert "476173******0119" in r and "4761739001010119" not in r
        assert "AID              A0000000031010" in r or re.search(r"AID +A0000000031010", r)
        assert re.search(r"TVR +0000000000", r) and re.search(r"TSI +E800", r)
        assert "PIN VERIFIED" in r and re.search(r"TOTAL +USD 12\.50", r)
        assert re.search(r"TC +[0-9A-F]{16}", r)
    assert "MERCHANT COPY" in merchant and "CUSTOMER COPY" in customer
    e = rig.batch()[-1]
    assert e["ok"] and e["amount"] == 1250 and e["pan"] == "476173******0119" and e["stan"]
    # the offline approval went to the host as an advice (0220)
    alpha = rig.hosts["alpha"]
    assert alpha.db.txn("TERM0001", e["stan"]) is not None
    # the entry names the acquirer the advice went to and that acquirer's terminal id: the
    # cloud books and reconciles the payment by them (docs/bookkeeping.md)
    assert (e["acq"], e["tid"], e["rrn"]) == ("alpha", "TERM0001", "")
    rig.keys(["ENTER"])
    rig.remove()


def test_online_card_sale_above_the_floor_limit(rig):
    text = rig.sale_by_card(150000, "visa-credit", pin="1234")
    assert "APPROVED" in text and "AUTH" in text
    e = rig.batch()[-1]
    assert e["online"] and e["rc"] == "00" and len(e["auth"]) == 6
    t = rig.hosts["alpha"].db.txn("TERM0001", e["stan"])
    assert t is not None and t["mti"] == "0200" and t["amount"] == 150000
    rig.keys(["ENTER"])
    rig.remove()


def test_declined_by_the_issuer(rig):
    text = rig.sale_by_card(150000, "visa-lowbalance")
    assert "DECLINED" in text
    rig.keys(["ENTER"])
    rig.remove()


def test_card_pulled_mid_transaction(rig):
    rig.home()
    rig.keys(list("150000") + ["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    rig.wait_text("INSERT")
    rig.insert("visa-credit")
    rig.wait_text("ENTER PIN")
    rig.remove()                              # pulled while the PIN pad is up: ends at once
    which, text = rig.wait_any(["NOT COMPLETED", "DECLINED"], 30)
    assert "APPROVED" not in text and "CARD REMOVED" in text
    rig.keys(["ENTER"])


def test_balance_inquiry(rig):
    rig.home()
    rig.keys(["MENU"])
    text = rig.wait_text("10 Balance")
    for _ in range(9):
        rig.keys(["DOWN"], pace=0.08)
    rig.keys(["ENTER"])
    rig.wait_text("INSERT")
    n = len(rig.receipts())
    rig.insert("visa-cvn10")
    text = rig.finish_card("1234")
    assert "APPROVED" in text and "Balance USD 5000.00" in text
    t = [r for r in rig.hosts["alpha"].db.db.execute("SELECT mti, pcode FROM transactions").fetchall()]
    assert ("0100", "310000") in t
    assert len(rig.receipts()) == n                       # a balance is shown, not printed
    rig.keys(["ENTER"])
    rig.remove()


def test_wrong_online_pin_is_declined_as_incorrect_and_the_receipt_claims_no_verification(rig):
    """Typed as a cashier might ("111", then the right "4321" after it): the issuer refuses a
    7-digit PIN as incorrect (55), not as a host fault, and the declined receipt says nothing
    about a verified PIN or a signature."""
    rig.home()
    before = len(rig.receipts())
    rig.keys(list("1800") + ["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    rig.wait_text("INSERT")
    rig.insert("mastercard-credit")
    rig.wait_text("CHOOSE APPLICATION")
    rig.keys(["1"])
    rig.wait_text("ENTER PIN")
    rig.keys(list("1114321") + ["ENTER"])
    which, text = rig.wait_any(["APPROVED", "DECLINED", "NOT COMPLETED"], 60)
    assert which == "DECLINED" and "Incorrect PIN" in text
    assert rig.printer.wait_for_cuts(before + 2)
    for r in rig.receipts()[before:before + 2]:
        assert "RESPONSE 55" in r and "Incorrect PIN" in r
        assert "PIN VERIFIED" not in r and "SIGNATURE" not in r
    rig.keys(["ENTER"])
    rig.remove()


def test_the_cardholder_chooses_an_application_on_a_multi_application_card(rig):
    """mastercard-credit carries MASTERCARD and MAESTRO: the terminal asks (CHOOSE
    APPLICATION) and the sale runs on the one chosen, by label or by place in the list."""
    text = rig.sale_by_card(150000, "mastercard-credit", pin="4321", app="MAESTRO")
    assert "APPROVED" in text
    e = rig.batch()[-1]
    assert e["aid"] == "A0000000043060" and e["amount"] == 150000
    rig.keys(["ENTER"])
    rig.remove()
    text = rig.sale_by_card(150000, "mastercard-credit", pin="4321", app=1)
    assert "APPROVED" in text and rig.batch()[-1]["aid"] == "A0000000041010"
    rig.keys(["ENTER"])
    rig.remove()
