"""The whole board loses power (host_sim.powercut): at flash writes of a chip, a tap, a
merchant-QR, a swipe (magstripe fallback), a split-tender and a customer-QR sale, and at
timed points after the host's reply.  After each reboot the
terminal reconciles journal against batch, sends what it owes while idle, and the host's
records, the journal and the batch agree per transaction.  A representative subset runs
here (the journal, batch and order-ledger writes of each tender); `smartpos demo
--scenario power-cut-sweep` cuts at every flash operation.
"""
import time

import pytest

from host_sim.powercut import PowerCut, Sweep, read_journal, journal_state
from host_sim.rig import Rig

PAN = "4761739001010135"          # visa-cvn10 (the tap card)
MONEY_FILES = ("/journal.bin", "/batch.jsonl", "/orders.bin")


@pytest.fixture(scope="module")
def rig():
    """The card tenders' terminal."""
    with Rig(power_cuts=True) as r:
        yield r


@pytest.fixture(scope="module")
def wallet_rig():
    """The wallet tender's terminal (its own: a QR order needs 2 KB of heap in one piece,
    which a long card journal on the same boot may leave fragmented)."""
    with Rig(power_cuts=True) as r:
        yield r


@pytest.mark.parametrize("tender", ["tap", "chip", "qr", "swipe", "split", "cqr"])
def test_power_cut_at_the_money_writes_of_a_sale(rig, wallet_rig, tender):
    if tender in ("qr", "cqr"):
        rig = wallet_rig
    sweep = Sweep(rig, log=print)
    rep = sweep.run(tender, select=lambda op: op[2] in MONEY_FILES)
    assert len(rep.points) >= 3, rep.ops
    assert [o for _l, o in rep.points] == ["cut"] * len(rep.points), rep.points
    assert rep.mismatches == []


@pytest.mark.parametrize("tender", ["swipe", "split", "cqr"])
def test_power_cut_as_the_host_answers(rig, wallet_rig, tender):
    """The power goes as the acquirer's approval (swipe, the split's card part) or the
    wallet's answer to a scanned code arrives: after the reboot the charge is given back."""
    if tender == "cqr":
        rig = wallet_rig
    sweep = Sweep(rig, log=print)
    rep = sweep.run(tender, points=[], delays=(0.0,))
    assert [o for _l, o in rep.points] == ["cut"], rep.points
    assert rep.mismatches == []


def test_customer_code_charged_as_the_power_goes_is_reversed(wallet_rig):
    """Known defect found by the sweep: a customer-presented code the wallet charged just
    before a power cut was never recorded and never reversed (no flash write before the
    batch entry).  Now the payment is open in the order ledger before it is asked for, and
    the terminal reverses it after the reboot."""
    rig = wallet_rig
    sweep = Sweep(rig, log=print)
    sweep.idle()
    w = rig.wallet
    with w.lock:
        paid = sum(w.payments.values())
    route = w.route

    def charged_then_cut(method, path, term, data):
        answer = route(method, path, term, data)
        if path == "/v1/pay":                     # charged; the power goes before the answer
            w.route = route
            rig.board.power_cut()
        return answer
    w.route = charged_then_cut
    try:
        with pytest.raises(PowerCut):
            sweep.sale("cqr")
    finally:
        w.route = route
    with w.lock:
        assert sum(w.payments.values()) == paid + 875
    rig.power_cycle()
    sweep.idle(90)
    with w.lock:
        assert sum(w.payments.values()) == paid
        assert [b["status"] for _c, b in w.idem.values() if b.get("amount") == 875][-1] == "reversed"
    assert sweep.agreement() == []


def test_tap_cut_half_a_second_after_the_approval_is_reversed_at_boot(rig):
    """Known defect: power cut within ~0.5 s after an approved contactless reply left the
    journal approved and settling, with no batch entry and no receipt."""
    sweep = Sweep(rig, log=print)
    sweep.idle()
    host = rig.hosts["alpha"]
    before = host.db.balance(PAN)
    n_batch = len(rig.batch())
    known = set(journal_state(read_journal(rig.flash_dir + "/journal.bin")))
    rep = sweep.run("tap", points=[], delays=(0.05, 0.3))
    assert [o for _l, o in rep.points] == ["cut", "cut"], rep.points
    assert rep.mismatches == []
    txns = journal_state(read_journal(rig.flash_dir + "/journal.bin"))
    new = [txns[s] for s in sorted(txns) if s not in known]
    assert len(new) == 4                            # two reference sales, then the two cut ones
    # both cut sales were given back; the reference sales stayed charged (one a loaded machine
    # answered too late was reversed as well: then it is given back too, and not in the batch)
    assert [x["state"] for x in new[2:]] == ["reversed", "reversed"]
    charged = [x for x in new if x["state"] in ("approved", "done")]
    assert len(charged) >= 1
    assert host.db.balance(PAN) == before - 3500 * len(charged)
    assert len(rig.batch()) == n_batch + len(charged)


def test_reversal_owed_after_a_power_cut_goes_out_while_idle(rig):
    """Known defect: a reversal owed after a power cut waited for the next card sale.
    Now the Ready screen counts it (TO SEND 1) and the background sender delivers it when
    the host is back, with no sale."""
    sweep = Sweep(rig, log=print)
    sweep.idle()
    host = rig.hosts["alpha"]
    before = host.db.balance(PAN)
    sweep.cut_after_reply(0.0)                         # the power goes as the approval arrives
    with pytest.raises(PowerCut):
        sweep.sale("tap")
    sweep.unhook()
    assert host.db.balance(PAN) == before - 3500  # the host charged the customer
    host.faults.set("refuse", seconds=600)        # the host is down at boot
    try:
        rig.power_cycle()
        text = rig.wait_text("TO SEND 1", 30)
        assert "READY" in text
        time.sleep(3)
        assert host.db.balance(PAN) == before - 3500
    finally:
        host.faults.clear()                       # the host's port opens again
    end = time.monotonic() + 60                   # backoff: base 2 s, doubling
    while "TO SEND" in rig.display.text() and time.monotonic() < end:
        time.sleep(0.2)
    assert "TO SEND" not in rig.display.text(), rig.display.text()
    assert host.db.balance(PAN) == before         # reversed with no sale on the terminal
    assert sweep.agreement() == []


def test_merchant_qr_paid_then_cancelled_is_recorded(wallet_rig):
    """Known defect: the customer paid, the cashier cancelled, the wallet said "paid" to the
    cancel and the terminal recorded nothing."""
    rig = wallet_rig
    sweep = Sweep(rig, log=print)
    sweep.idle()
    n_batch = len(rig.batch())
    rig.keys(list("1250") + ["ENTER"])
    rig.wait_text("3 QR")
    rig.keys(["3"])
    rig.wait_text("1 Show QR")
    rig.keys(["1"])
    rig.wait_text("Scan with your wallet app", 30)
    w = rig.wallet
    w.confirm_delay = 0.0
    with w.lock:
        order = [o for o in w.orders.values() if o["status"] == "pending"][-1]["order"]
    w.customer_pays(order)
    rig.board.devices["keypad"].tap("CANCEL")     # at once: before the terminal's next poll
    # the cancel's answer says "paid" (PAID shown), or the poll saw it first and the CANCEL
    # then left the PAID screen: either way the sale is in the batch once
    rig.wait_any(["PAID BY WALLET", "READY"], 15)
    end = time.monotonic() + 10
    while not [e for e in rig.batch() if e.get("order") == order] and time.monotonic() < end:
        time.sleep(0.1)
    es = [e for e in rig.batch() if e.get("order") == order]
    assert len(rig.batch()) == n_batch + 1 and len(es) == 1 and es[0]["amount"] == 1250 and es[0]["ok"]
    sweep.idle()
    assert sweep.agreement() == []
