"""Routing across acquirers (two profiles), settlement per acquirer, batch upload on mismatch."""
from hostlink.terminal import Terminal

VISA = "4761739001010119"
MC = "5413330089010434"


def test_routing_picks_acquirer_by_bin_scheme_wallet_and_default(tmp_path, alpha, beta):
    t = Terminal(tmp_path, {"alpha": alpha, "beta": beta})
    got = t.run("""
from pos.payments.routing import Router
r = eng.router
out([r.route(pan="%s"), r.route(pan="%s"), r.route(pan="2223000048400011", scheme="mastercard"),
     r.route(wallet="alipay"), r.route(pan="6799998900000060018"), r.route(scheme="VISA")])
req, a = sale(100, pan="%s")
req, b = sale(200, pan="%s", expiry="2812")
out([resp_dict(a), resp_dict(b)])
""" % (VISA, MC, VISA, MC))
    routes, (a, b) = got
    assert routes == ["alpha", "beta", "beta", "beta", "alpha", "alpha"]
    assert a["acq"] == "alpha" and a["approved"]
    assert b["acq"] == "beta" and b["approved"]            # packed BCD profile with TPDU
    assert alpha.db.balance(VISA) == 500000 - 100
    assert beta.db.balance(MC) == 500000 - 200
    assert alpha.db.txn("TERM0001", a["stan"]) is not None and beta.db.txn("TERM0002", b["stan"]) is not None


def test_each_acquirer_settles_its_own_batch_and_totals_match_host(tmp_path, alpha, beta):
    t = Terminal(tmp_path, {"alpha": alpha, "beta": beta})
    res = t.run("""
for amt in (100, 250, 400):
    sale(amt)
sale(300, kind="refund")
sale(999, pan="%s")
out([eng.totals("alpha"), eng.totals("beta")])
out(eng.settle("alpha")); out(eng.settle("beta"))
out([eng.batches["alpha"], eng.batches["beta"], j.count])
""" % MC)
    (ta, tb), sa, sb, after = res
    assert ta == [3, 750, 1, 300] and tb == [1, 999, 0, 0]
    assert sa == ["balanced", ta] and sb == ["balanced", tb]
    assert alpha.db.closed_batch("TERM0001", 1) == "%03d%012d%03d%012d" % tuple(ta)
    assert beta.db.closed_batch("TERM0002", 1) == "%03d%012d%03d%012d" % tuple(tb)
    assert after[:2] == [2, 2] and after[2] == 1         # journal rotated: one counters record
    # the new batch survives a reboot, STAN keeps counting
    (st,) = t.run('out([eng.batches["alpha"], eng.stan > 5, eng.totals("alpha")])')
    assert st == [2, True, [0, 0, 0, 0]]


def test_settlement_mismatch_triggers_batch_upload_then_resettle(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha})
    alpha.faults.set("settle_mismatch")
    res = t.run("""
sale(100); sale(200)
out(eng.settle("alpha"))
out(_LOG)
""")
    result, logs = res
    assert result == ["uploaded", [2, 300, 0, 0]]
    assert ("settle_mismatch", "0510") in alpha.faults.fired
    assert alpha.db.closed_batch("TERM0001", 1) == "%03d%012d%03d%012d" % (2, 300, 0, 0)
    assert alpha.db.balance(VISA) == 500000 - 300        # the forgotten sale charged by its upload, once
    assert any("batch upload" in l for l in logs)
    assert not any("4761739001010119" in l for l in logs)


def test_offline_advice_is_stored_and_forwarded(tmp_path, alpha):
    t = Terminal(tmp_path, {"alpha": alpha})
    alpha.faults.set("refuse", seconds=1.0)
    (st1,) = t.run("""
req = AuthRequest("sale", 450, "978", "4761739001010119", "2812", entry_mode="chip")
eng.advise_offline(req, "Y1", "Y1")
out(state())
""")
    assert len(st1["pending"]) == 1
    import time
    time.sleep(1.1)
    (st2,) = t.run("out(state())")              # reboot: the advice goes out
    assert st2["pending"] == [] and st2["net"] == 450
    assert alpha.db.balance("4761739001010119") == 500000 - 450
    (st3,) = t.run("out(state())")              # and is not sent twice
    assert alpha.db.balance("4761739001010119") == 500000 - 450
