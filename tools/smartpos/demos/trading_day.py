"""A trading day at the counter on the virtual board (the product heap, frozen firmware):

    smartpos demo --scenario trading-day

300 transactions in a seeded order (cash, chip with offline and online PIN, tap, swipe
fallback, merchant and customer QR, split tender, refund, void, pre-auth and completion,
tip adjust, X reports, reprints), then the Z report.  RESULT gives the heap free at Ready
after 10 and after 300 transactions and after the Z report, the largest single allocation
of any transaction (host_sim.alloc_probe), and whether the Z report's totals are the hosts'.
"""
import time

DAY_TRANSACTIONS = 300
DAY_SEED = 11


def run_day(transactions=DAY_TRANSACTIONS, seed=DAY_SEED, log=print, probe=True):
    """(DayReport, probe error text or "").  Shared with `smartpos bench trading-day`."""
    from host_sim.rig import Rig
    from host_sim.trading_day import TradingDay
    from host_sim import alloc_probe
    p, why = None, ""
    if probe:
        try:
            p = alloc_probe.AllocProbe()
        except alloc_probe.ProbeError as exc:
            why = str(exc)
    try:
        with Rig(cpu_env=p.env() if p else None) as rig:
            if p is not None:
                t = time.monotonic() + 10
                while p.count() == 0 and time.monotonic() < t:
                    time.sleep(0.1)
                if p.count() == 0:
                    why, p = "the allocation probe did not attach to the board process", None
            day = TradingDay(rig, seed=seed, transactions=transactions, probe=p, log=log, free_block=True)
            return day.run(), why
    finally:
        if p is not None:
            p.close()


def trading_day(args):
    t0 = time.monotonic()
    rep, why = run_day(log=lambda line: print(line, flush=True))
    wall = time.monotonic() - t0
    problems = rep.problems()
    print("transactions by kind: %s" % ", ".join("%s %d" % kv for kv in sorted(rep.kinds.items())))
    print("Z report tenders: %s" % rep.z_tenders)
    print("hosts: card net %d, wallet %d; cash taken %d" % (rep.host_card_net, rep.wallet_total, rep.cash_total))
    for p in problems:
        print("PROBLEM: %s" % p)
    largest = ("%d bytes (%s)" % (rep.largest_alloc, rep.largest_alloc_kind) if rep.largest_alloc
               else "not measured: %s" % why)
    ok = not problems and rep.done == DAY_TRANSACTIONS
    ran = ("%d transactions + Z report" % rep.done if rep.heap_after_z is not None
           else "stopped after %d transactions, no Z report," % rep.done)
    return ok, ("%s in %.0f s, %s; heap free at Ready: %s after 10, %s after %d, "
                "%s after the Z report; largest free block after the day %s bytes; largest single "
                "allocation in a transaction %s; Z report = hosts "
                "(card net USD %.2f, QR USD %.2f, cash USD %.2f)%s" % (
                    ran, wall, "no MemoryError, no exception" if not rep.faults else "FAULTS on the board",
                    rep.heap_at(10), rep.heap_at(rep.done), rep.done, rep.heap_after_z,
                    rep.largest_free_after_z, largest,
                    rep.z_card_net / 100, rep.z_tenders.get("qr", (0, 0))[1] / 100,
                    rep.z_tenders.get("cash", (0, 0))[1] / 100,
                    "" if ok else "; FAILED: " + "; ".join(problems)))


SCENARIOS = {"trading-day": trading_day}
