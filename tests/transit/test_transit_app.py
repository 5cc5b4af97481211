"""The transit-card recharge app (apps/transit) on the virtual board, product heap, against the
operator's load host: a load paid in cash, a card lifted before CREDIT reached it (loaded again,
once), a card lifted after it loaded but before its answer came back (the purse's transaction
proof shows it done: confirmed, never loaded twice), and a card whose MAC1 does not verify
(not loaded, the cash stated for return; a card payment refunded), and a torn load across a power cut."""
import pytest

from host_sim.hosts.transit import TransitHost, make_card
from host_sim.hosts.transit.counter import install, open_app, pay_by_cash
from host_sim.rig import Rig

CREDIT, PROVE, INIT = 0x52, 0x5A, 0x50


@pytest.fixture(scope="module")
def env():
    host = TransitHost(port=0).start()
    with Rig(before_boot=lambda r: install(r, host)) as rig:
        open_app(rig)
        rig.wait_text("Tap the transit card")
        yield rig, host, rig.board.devices["pn532"]
    host.stop()


def _buy(rig, nfc, card, key="2", amount="20.00"):
    nfc.tap(card)
    rig.wait_text("Load " + amount)
    nfc.remove()                        # the customer holds it again after paying
    rig.keys([key])
    pay_by_cash(rig, amount, amount.replace(".", ""))
    rig.wait_text("Hold the card")


def _next(rig):
    rig.keys(["ENTER"])
    rig.wait_text("Tap the transit card")


def test_a_load_paid_in_cash_credits_the_purse_once(env):
    rig, host, nfc = env
    card = make_card("31049000000000012345", balance=150)
    _buy(rig, nfc, card)
    n0 = len(rig.receipts())
    nfc.tap(card)
    rig.wait_text("Balance USD 21.50")
    assert card.balance == 2150 and card.counter == 1
    assert bytes(card.apdus[-3:]) == bytes([0xA4, INIT, CREDIT])
    rec = [r for r in host.records().values() if r["serial"].endswith("12345")][-1]
    assert rec["status"] == "done" and rec["amount"] == 2000 and rec["issued"] == 1
    slip = rig.receipts()[n0]
    assert "LOADED" in slip and "TAC " in slip and "Balance USD 21.50" in slip and "310490*" in slip
    nfc.remove()
    _next(rig)


def test_lifted_before_credit_reached_the_card_is_loaded_again_once(env):
    rig, host, nfc = env
    card = make_card("31049000000000022222", balance=500)
    _buy(rig, nfc, card, "1", "10.00")
    nfc.inject("leave", ins=CREDIT)
    nfc.tap(card)
    rig.wait_text("Card lifted")
    assert card.balance == 500 and card.counter == 0
    nfc.tap(card)
    rig.wait_text("Balance USD 15.00")
    assert card.balance == 1500 and card.counter == 1
    assert PROVE in card.apdus                      # asked first: 9406, not loaded
    rec = [r for r in host.records().values() if r["serial"].endswith("22222")][-1]
    assert rec["status"] == "done" and rec["issued"] == 2      # a second MAC2 for the same counter
    nfc.remove()
    _next(rig)


def test_lifted_after_the_card_loaded_is_confirmed_from_its_proof_not_loaded_twice(env):
    rig, host, nfc = env
    card = make_card("31049000000000033333", balance=0)
    _buy(rig, nfc, card, "3", "50.00")
    nfc.inject("leave_after", ins=CREDIT)
    nfc.tap(card)
    rig.wait_text("Card lifted")
    assert card.balance == 5000 and card.counter == 1          # the card did load
    n0 = len(rig.receipts())
    nfc.tap(card)
    rig.wait_text("Balance USD 50.00")
    assert card.balance == 5000 and card.counter == 1          # and only once
    assert card.apdus[-1] == PROVE and card.apdus.count(CREDIT) == 1
    rec = [r for r in host.records().values() if r["serial"].endswith("33333")][-1]
    assert rec["status"] == "done" and rec["issued"] == 1
    assert "LOADED" in rig.receipts()[n0]
    nfc.remove()
    _next(rig)


def test_a_card_whose_mac1_does_not_verify_is_not_loaded_and_the_cash_goes_back(env):
    rig, host, nfc = env
    card = make_card("31049000000000044444", balance=100)
    card.dlk = bytes(16)                            # not the operator's key for this card
    _buy(rig, nfc, card, "1", "10.00")
    n0 = len(rig.receipts())
    nfc.tap(card)
    rig.wait_text("RETURN USD 10.00 CASH")
    assert card.balance == 100 and CREDIT not in card.apdus
    assert "MAC1" in rig.receipts()[n0] and "NOT LOADED" in rig.receipts()[n0]
    nfc.remove()
    _next(rig)


def test_a_torn_load_survives_a_power_cut_and_is_finished_at_the_next_start(env):
    rig, host, nfc = env
    card = make_card("31049000000000055555", balance=0)
    _buy(rig, nfc, card, "1", "10.00")
    nfc.inject("leave", ins=CREDIT)
    nfc.tap(card)
    rig.wait_text("Card lifted")
    rig.power_cycle()                       # the terminal goes down with the load unfinished
    open_app(rig)
    rig.wait_text("Unfinished load USD 10.00")
    other = make_card("31049000000000066666", balance=0)
    nfc.tap(other)
    rig.wait_text("Another card")
    assert other.balance == 0 and INIT not in other.apdus
    nfc.remove()
    nfc.tap(card)
    rig.wait_text("Balance USD 10.00")
    assert card.balance == 1000 and card.counter == 1 and card.apdus.count(CREDIT) == 1  # the first never reached it
    nfc.remove()
    _next(rig)


def test_a_card_payment_for_a_load_the_operator_refuses_is_refunded_to_the_card(env):
    rig, host, nfc = env
    card = make_card("31049000000000077777", balance=0)
    card.dlk = bytes(16)                            # MAC1 will not verify
    nfc.tap(card)
    rig.wait_text("Load 10.00")
    nfc.remove()
    b0 = len(rig.batch())
    rig.keys(["1"])
    rig.wait_text("Sale USD 10.00")
    rig.keys(["2"])
    rig.wait_text("INSERT")
    rig.insert("visa-cvn10")
    rig.finish_card("1234", done=("Hold the card",))
    rig.remove()
    nfc.tap(card)
    rig.wait_text("Supervisor PIN", 30)
    rig.keys(list("2222") + ["ENTER"])
    rig.wait_text("REFUNDED", 60)
    e = rig.batch()[b0:]
    assert [(x.get("kind", "sale"), x["amount"], x["ok"]) for x in e] == [("sale", 1000, True), ("refund", 1000, True)]
    assert card.balance == 0 and CREDIT not in card.apdus
    nfc.remove()
    _next(rig)
