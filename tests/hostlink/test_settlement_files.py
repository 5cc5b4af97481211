"""Settlement files the simulated hosts send: what was paid out, in the format the cloud
reconciles (docs/bookkeeping.md), built from what the hosts really recorded."""
import datetime

import pytest

from cloud.currency import currency, decimal_text
from cloud.sales.reconcile import read_file
from host_sim.hosts.settlement import SettlementError, fee_of, settlement_csv
from host_sim.hosts.wallet import WalletHost
from hostlink.terminal import Terminal

DAY = datetime.date(2026, 11, 27)


def test_the_file_format_amounts_and_fees():
    text = settlement_csv(DAY, "EUR", 2, [("000000000001", 1999, "TERM0001", "000011"),
                                          ("000000000002", -500, "TERM0001", "000012"), ("X3", 5)], fee_bp=150)
    assert text.split("\r\n") == [
        "date,tid,stan,reference,amount,currency,fee",
        "2026-11-27,TERM0001,000011,000000000001,19.99,EUR,0.30",     # 1.5 % of 19.99 = 0.29985: half up
        "2026-11-27,TERM0001,000012,000000000002,-5.00,EUR,0.00",     # nothing kept on a refund
        "2026-11-27,,,X3,0.05,EUR,0.00",                # a wallet's payment; 0.075 cent rounds to nothing
        ""]
    assert decimal_text(-5, 2) == "-0.05" and decimal_text(7, 0) == "7" and decimal_text(123456, 3) == "123.456"
    assert fee_of(10000, 10000) == 10000 and fee_of(-10000, 150) == 0


@pytest.mark.parametrize("payments,fee,why", [
    ([("", 1)], 0, "empty"), ([("A,B", 1)], 0, "comma"), ([("A", 1), ("A", 2)], 0, "twice"),
    ([("A", 1)], 10001, "basis points"), ([("A", 1, "TERM0001", "")], 0, "goes with a STAN"),
    ([("A", 1, "T1", "000001"), ("B", 2, "T1", "000001")], 0, "twice")])
def test_a_file_that_could_not_be_read_back_is_never_written(payments, fee, why):
    with pytest.raises(SettlementError, match=why):
        settlement_csv(DAY, "EUR", 2, payments, fee_bp=fee)


def test_acquirer_settles_what_the_closed_batch_holds(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha}, drop_missing=True)
    (got,) = t.run("""
req, a = sale(1000); req, b = sale(2550); req, c = sale(700)
req, v = sale(700, kind="void", original=eng.original(int(c.stan)))
req, r = sale(300, kind="refund")
req, d = sale(2000, pan="4761739001010010")
out({"rrn": [x.rrn for x in (a, b, c, r)], "stan": [x.stan for x in (a, b, r)], "ok": [x.approved for x in (a, b, c, v, r)], "d": d.approved,
     "settle": eng.settle("alpha")[0]})
""")
    assert got["ok"] == [True] * 5 and got["settle"] == "balanced"
    a, b, c, r = got["rrn"]
    a_stan, b_stan, r_stan = got["stan"]
    paid = alpha.db.settled_payments()
    # the voided sale and the declined one are not paid out; the refund is taken back
    assert got["d"] is False                                        # 10.00 on the account: 20.00 declined
    assert paid == [(a, 1000, "TERM0001", a_stan), (b, 2550, "TERM0001", b_stan), (r, -300, "TERM0001", r_stan)]
    text = settlement_csv(DAY, "EUR", 2, paid, fee_bp=150)
    rows, bad = read_file(text, currency("EUR"))                   # the cloud reads it as written
    assert bad == [] and {k: (p.reference, p.amount, p.fee) for k, p in rows.items()} == {
        (DAY, "TERM0001", a_stan): (a, 1000, 15), (DAY, "TERM0001", b_stan): (b, 2550, 38),
        (DAY, "TERM0001", r_stan): (r, -300, 0)}


def test_an_offline_approval_is_settled_by_the_stan_its_advice_carried(tmp_path, alpha):
    """The terminal approved it offline (Y1) and has no RRN for it; the acquirer settles its
    advice (0220) with an RRN of its own and the terminal's STAN and terminal id, which is what
    the cloud matches it by."""
    t = Terminal(tmp_path, {"alpha": alpha})
    (got,) = t.run("""
req = AuthRequest("sale", 450, "978", "4761739001010119", "2812", entry_mode="chip")
stan = eng.advise_offline(req, "Y1", "Y1")
out({"stan": "%06d" % stan, "settle": eng.settle("alpha")[0]})
""")
    assert got["settle"] == "balanced"
    ((rrn, amount, tid, stan),) = alpha.db.settled_payments()
    assert (amount, tid, stan) == (450, "TERM0001", got["stan"]) and len(rrn) == 12
    line = settlement_csv(DAY, "EUR", 2, alpha.db.settled_payments()).split("\r\n")[1]
    assert line == "2026-11-27,TERM0001,%s,%s,4.50,EUR,0.00" % (got["stan"], rrn)


def test_open_batch_is_not_settled_yet(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha})
    (ok,) = t.run("req, a = sale(1000); out(a.approved)")
    assert ok is True and alpha.db.settled_payments() == []


def test_wallet_settles_payments_that_stand():
    w = WalletHost(port=0)
    txns = []
    for n, amount in enumerate((1200, 450, 99)):                   # customer codes scanned
        code, body = w.route("POST", "/v1/pay", "TERM0001",
                             {"code": "WALLET-%d" % n, "amount": amount, "idempotency_key": "k%d" % n})
        assert code == 200 and body["status"] == "success"
        txns.append(body["txn"])
    code, body = w.route("POST", "/v1/pay/reverse", "TERM0001", {"idempotency_key": "k1"})
    assert body["status"] == "reversed"                            # taken back out
    code, body = w.route("POST", "/v1/orders", "TERM0001", {"amount": 800, "currency": "978", "reference": "1"})
    assert code == 201
    code, paid = w.customer_pays(body["order"])                    # the merchant's QR paid
    assert code == 200 and paid["status"] == "paid"
    assert w.settled_payments() == [(txns[0], 1200), (txns[2], 99), (paid["txn"], 800)]


def test_acquirer_command_line_prints_the_file(tmp_path):
    """`smartpos host acquirer` answers `settlement DATE CURRENCY FEE_BP` on its standard input."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.run([sys.executable, "-c", "import sys; from smartpos.cli import main; sys.exit(main())",
                        "host", "acquirer", "--port", "0"],
                       input="settlement 2026-11-27 JPY 150\nsettlement 2026-13-01 USD\nsettlement 2026-11-27 XYZ\nquit\n",
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[1] == "date,tid,stan,reference,amount,currency,fee"     # nothing settled yet: the header only
    assert lines[2].startswith("settlement: month must be in 1..12 (usage:")
    assert lines[3].startswith("settlement: 'XYZ' is not an ISO 4217 currency code")
