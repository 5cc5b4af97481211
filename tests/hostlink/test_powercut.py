"""Power cut at EVERY journal write of a sale (and of its reversal paths): after the
reboot the host's balance equals what the journal says, nothing lost, nothing doubled.

Each cut point is tested twice: the process is SIGKILLed right after write k
reached flash ("clean"), and the same with write k torn in half on flash
("torn": the power went while the record was being written)."""
import os

import pytest

from hostlink.terminal import Terminal

PAN = "4761739001010119"

SCENARIOS = {
    # name: (MicroPython body, fault to arm, expected journal writes without a cut, charged if uncut)
    "chip-approve": ("""
req, r = sale(1500, entry="chip")
eng.complete(req, r, True)
""", None, 3, 1500),
    "card-declines-after-approval": ("""
req, r = sale(1500, entry="chip")
eng.complete(req, r, False)
""", None, 5, 0),
    "timeout-reversal": ("""
req, r = sale(1500)
""", "drop", 3, 0),
}

POINTS = []
for _name, (_b, _f, _n, _c) in SCENARIOS.items():
    for _k in range(1, _n + 1):
        for _how in ("clean", "torn"):
            POINTS.append((_name, _k, _how))


def _tear_last_record(path):
    data = open(path, "rb").read()
    pos, last = 0, 0
    while pos < len(data):
        last = pos
        pos += 3 + int.from_bytes(data[pos + 1:pos + 3], "big") + 4
    cut = last + (pos - last) // 2
    with open(path, "wb") as f:
        f.write(data[:cut])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_uncut_sale_write_count(tmp_path, alpha, name):
    body, fault, writes, charged = SCENARIOS[name]
    t = Terminal(tmp_path, {"alpha": alpha}, timeout_ms=1200)
    if fault:
        alpha.faults.set(fault)
    before = alpha.db.balance(PAN)
    (st,) = t.run(body + "out(state())")
    assert st["writes"] == writes
    assert st["net"] == charged and alpha.db.balance(PAN) == before - charged


def test_power_cut_at_every_journal_write(tmp_path, alpha):
    results = []
    for i, (name, k, how) in enumerate(POINTS):
        body, fault, writes, charged = SCENARIOS[name]
        flash = tmp_path / ("p%02d" % i)
        t = Terminal(flash, {"alpha": alpha}, timeout_ms=1200, tid="PC%06d" % i)
        alpha.faults.clear()
        if fault:
            alpha.faults.set(fault)
        before = alpha.db.balance(PAN)
        cut, at = t.run_until_cut(body, k)
        assert cut, "no journal write %d in %s: %s" % (k, name, at)
        if how == "torn":
            _tear_last_record(t.journal_path())
        alpha.faults.clear()
        (st,) = t.run("out(state())")                # reboot: recover, reverse, retry
        assert st["pending"] == [], (name, k, how, st)
        host_delta = before - alpha.db.balance(PAN)
        assert host_delta == st["net"], (name, k, how, st, host_delta)   # no lost, no double charge
        if how == "torn":
            assert st["discarded"] > 0
        results.append((name, k, how, at, st["net"]))
    # the sale is only charged when the card's approval reached the journal
    for name, k, how, at, net in results:
        if name == "chip-approve" and k == 3 and how == "clean":
            assert net == 1500
        else:
            assert net == 0, (name, k, how, at)
    assert len(results) == 22
    print("power-cut points tested: %d" % len(results))


def test_power_cut_during_recovery(tmp_path, alpha):
    """Cut at the approval's reply, then cut again at each write of the recovery."""
    for rk in (1, 2):
        flash = tmp_path / ("r%d" % rk)
        t = Terminal(flash, {"alpha": alpha}, timeout_ms=1200, tid="RC%06d" % rk)
        before = alpha.db.balance(PAN)
        cut, at = t.run_until_cut('req, r = sale(800, entry="chip")\n', 2)
        assert cut and at == "resp"
        assert alpha.db.balance(PAN) == before - 800      # the host charged it
        cut, at = t.run_until_cut("", rk)                 # recovery writes rev, then rev_ok
        assert cut and at == ("rev" if rk == 1 else "rev_ok")
        (st,) = t.run("out(state())")
        assert st["pending"] == [] and st["net"] == 0
        assert alpha.db.balance(PAN) == before


@pytest.mark.parametrize("how", ["clean", "torn"])
def test_power_cut_during_settlement(tmp_path, alpha, how):
    """Cut at the settlement's own writes (stl_req before the 0500, stl after the 0510):
    after the reboot the batch settles once, with the host's totals."""
    body = "sale(100); sale(200); eng.settle('alpha')\n"
    for k in (5, 6):                                     # writes 1-4: the two sales
        flash = tmp_path / ("s%d" % k)
        tid = "ST%d%s0000" % (k, how[0].upper())
        t = Terminal(flash, {"alpha": alpha}, timeout_ms=1500, tid=tid)
        cut, at = t.run_until_cut(body, k)
        assert cut and at == ("stl_req" if k == 5 else "stl")
        if how == "torn":
            _tear_last_record(t.journal_path())
        st, result, batches = t.run("""
out(state()); out(eng.settle("alpha")); out(eng.batches["alpha"])
""")
        assert st["pending"] == [] and st["net"] == 300      # the journal still holds both sales
        assert alpha.db.closed_batch(tid, 1) == "%03d%012d%03d%012d" % (2, 300, 0, 0)
        assert result[0] == "balanced"
        assert batches == (2 if (k == 5 or how == "torn") else 3)
