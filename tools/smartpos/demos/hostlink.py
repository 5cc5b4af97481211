"""Host-link demos: the payment engine (firmware, on MicroPython with the
board's 192 KB heap and a flash directory) against the acquirer host simulator
on 127.0.0.1.  Card data: a manual-entry request with a TEST card; PANs are
masked in everything printed.

  online-approve    sale approved online; host balance moves by the amount
  online-decline    sale declined by the issuer (51 insufficient funds)
  timeout-reversal  host answers past the timeout -> terminal reverses (0400)
  power-cut         power cut at each journal write of a chip sale, clean and
                    torn; after reboot the host balance equals the journal
  settlement        sales + refund, host loses one -> 0500 95, batch upload
                    0320, re-settle 00
"""
import shutil
import tempfile

PAN = "4761739001010119"          # TEST card
POOR = "4761739001010010"         # TEST card with 10.00 on the account


def _mask(pan):
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _money(minor):
    return "%d.%02d" % divmod(minor, 100)


class _Setup:
    def __init__(self, timeout_ms=2000, **host_kw):
        from host_sim.hosts.acquirer import AcquirerHost
        from host_sim.hosts.acquirer.terminal import Terminal
        self.dir = tempfile.mkdtemp(prefix="smartpos-hostlink-")
        self.host = AcquirerHost(port=0, name="alpha", **host_kw).start()
        self.term = Terminal(self.dir + "/flash", {"alpha": self.host}, timeout_ms=timeout_ms,
                             drop_missing=True)
        print("acquirer host alpha on 127.0.0.1:%d; terminal flash %s" % (self.host.port, self.term.flash))

    def close(self):
        self.host.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def _show_log(lines):
    for line in lines:
        print("  terminal: " + line)


SALE = """
req, r = sale(%d, pan=%r, expiry="2812")
out(resp_dict(r)); out(state()); out(_LOG)
"""


def online_approve(args):
    with _Setup() as s:
        before = s.host.db.balance(PAN)
        r, st, logs = s.term.run(SALE % (1234, PAN))
        _show_log(logs)
        after = s.host.db.balance(PAN)
        print("card %s  amount %s  host balance %s -> %s" % (_mask(PAN), _money(1234), _money(before),
                                                            _money(after)))
        ok = r["approved"] and r["rc"] == "00" and before - after == 1234 == st["net"]
        return ok, "approved rc=%s auth=%s rrn=%s, charged %s" % (r["rc"], r["auth"], r["rrn"],
                                                                _money(before - after))


def online_decline(args):
    with _Setup() as s:
        before = s.host.db.balance(POOR)
        r, st, logs = s.term.run(SALE % (5000, POOR))
        _show_log(logs)
        after = s.host.db.balance(POOR)
        print("card %s  amount %s  host balance %s -> %s" % (_mask(POOR), _money(5000), _money(before),
                                                            _money(after)))
        ok = (not r["approved"]) and r["rc"] == "51" and before == after and st["net"] == 0
        return ok, "declined rc=%s (%s), nothing charged" % (r["rc"], r["text"])


def timeout_reversal(args):
    with _Setup(timeout_ms=1500) as s:
        s.host.faults.set("delay", seconds=3.0)     # the 0210 comes 3 s late; the terminal waits 1.5 s
        before = s.host.db.balance(PAN)
        r, st, logs = s.term.run(SALE % (2500, PAN))
        _show_log(logs)
        stan = r["stan"] or max(st["states"], key=int)
        host_txn = s.host.db.txn("TERM0001", "%06d" % int(max(st["states"], key=int)))
        after = s.host.db.balance(PAN)
        state = st["states"][str(max(int(k) for k in st["states"]))]
        print("host faults fired: %s" % s.host.faults.fired)
        print("card %s  host balance %s -> %s; terminal journal: %s" % (_mask(PAN), _money(before),
                                                                      _money(after), state))
        ok = (r["unable"] and state == "reversed" and st["pending"] == [] and host_txn is not None
              and host_txn["reversed"] == 1 and before == after)
        return ok, "no reply within 1.5 s -> reversal 0400 acknowledged; host charge undone (%s)" % (
            "balance unchanged" if before == after else "balance off by %s" % _money(before - after))


POWER_SALE = """
req, r = sale(1500, entry="chip")
eng.complete(req, r, True)
"""


def power_cut(args):
    import os
    with _Setup() as s:
        # how many journal writes does a chip sale make?
        (st,) = s.term.run(POWER_SALE + "out(state())")
        writes = st["writes"]
        print("an uninterrupted chip sale makes %d journal writes" % writes)
        results = []
        n = 0
        for k in range(1, writes + 1):
            for how in ("clean", "torn"):
                n += 1
                flash = os.path.join(s.dir, "cut%d%s" % (k, how))
                from host_sim.hosts.acquirer.terminal import Terminal
                t = Terminal(flash, {"alpha": s.host}, tid="PCUT%03d%s" % (k, how[0].upper()),
                             drop_missing=True)
                before = s.host.db.balance(PAN)
                cut, at = t.run_until_cut(POWER_SALE, k)
                if how == "torn":
                    _tear(t.journal_path())
                (after_boot,) = t.run("out(state())")       # reboot: recover + reverse
                host_delta = before - s.host.db.balance(PAN)
                good = cut and host_delta == after_boot["net"] and after_boot["pending"] == []
                results.append(good)
                print("  cut %-5s after write %d (%-4s): journal says charged %-5s host charged %-5s %s" % (
                    how, k, at, _money(after_boot["net"]), _money(host_delta), "OK" if good else "MISMATCH"))
        ok = all(results) and len(results) == 2 * writes
        return ok, "%d power-cut points, host balance equals the journal at every one" % len(results) if ok \
            else "%d of %d power-cut points inconsistent" % (results.count(False), len(results))


def _tear(path):
    data = open(path, "rb").read()
    pos = last = 0
    while pos < len(data):
        last = pos
        pos += 3 + int.from_bytes(data[pos + 1:pos + 3], "big") + 4
    with open(path, "wb") as f:
        f.write(data[:last + (pos - last) // 2])


def settlement(args):
    with _Setup() as s:
        s.host.faults.set("settle_mismatch")      # the host loses one transaction
        out = s.term.run("""
for amt in (100, 250, 400):
    sale(amt)
sale(300, kind="refund")
out(eng.totals("alpha"))
out(eng.settle("alpha"))
out(_LOG)
""")
        totals, (result, tot), logs = out
        _show_log([l for l in logs if "settle" in l or "batch" in l or "upload" in l])
        closed = s.host.db.closed_batch("TERM0001", 1)
        want = "%03d%012d%03d%012d" % tuple(totals)
        print("terminal totals: %d sales %s, %d refunds %s; host closed batch 1 with %s" % (
            totals[0], _money(totals[1]), totals[2], _money(totals[3]), closed))
        ok = result == "uploaded" and closed == want and totals == [3, 750, 1, 300]
        return ok, "batch 1 settled %s: %d sales %s, %d refunds %s match the host" % (
            "after batch upload" if result == "uploaded" else result, totals[0], _money(totals[1]), totals[2],
            _money(totals[3]))


SCENARIOS = {
    "online-approve": online_approve,
    "online-decline": online_decline,
    "timeout-reversal": timeout_reversal,
    "power-cut": power_cut,
    "settlement": settlement,
}
