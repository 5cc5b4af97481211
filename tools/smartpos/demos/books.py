"""Bookkeeping: a trading day closed and reconciled in the cloud.

    smartpos demo --scenario day-close

The virtual board (frozen firmware, the product heap) enrolled in the cloud service (embedded
SQLite, ephemeral ports) runs a seeded trading day at the keypad (cash, chip, tap, swipe,
merchant and customer QR, split, refund, void, pre-auth and completion, X report, reprint) and
its Z report; its upload queue brings every transaction to the cloud.  The acquirer hosts and
the wallet host write their settlement files from what they recorded, one card payment planted
missing from an acquirer's file; the cloud reconciles each file against the day, the day is
closed and its Beancount ledger is checked by bean-check.  RESULT holds when every transaction
is in the cloud once, the planted difference is the only one found, and bean-check passes.
"""


def _day_close(args):
    from host_sim.dayclose import close_a_day
    from host_sim.salesync import SyncCounter
    with SyncCounter(queue_bytes=65536) as sc:
        print("terminal %s enrolled as %s/%s; uploads to %s" % (sc.serial, sc.identity["tenant"],
                                                               sc.identity["controller_id"], sc.cloud.url),
              flush=True)
        report = close_a_day(sc, log=lambda line: print(line, flush=True))
        for p in report.problems:
            print("  PROBLEM: " + p)
        return report.ok, report.figures() if report.ok else "; ".join(report.problems[:5])


SCENARIOS = {"day-close": _day_close}
