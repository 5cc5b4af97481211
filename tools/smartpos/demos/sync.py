"""Sales sync: the counter's transactions reach the cloud exactly once, whatever the power does.

    smartpos demo --scenario sync-power-cut

The virtual board (frozen firmware, the product heap) enrolled in the cloud service (embedded
SQLite, ephemeral ports) through a relay; a sale per step (cash, every fourth a chip card) with
the power cut at that step of its upload: queued before sending, a torn append, mid-request,
after the cloud committed but before the answer was read, after the answer before the
acknowledged-up-to pointer was written, a torn pointer, the pointer's rename, a torn
compaction, plus an answer lost on the link without a cut.  After each cut the board is powered
on again.  RESULT holds when the cloud's database holds each transaction of the terminal's list
once, with its amount.
"""


def _sync_power_cut(args):
    from host_sim.salesync import SyncCounter
    with SyncCounter() as sc:
        print("terminal %s enrolled as %s/%s; uploads through a relay to %s"
              % (sc.serial, sc.identity["tenant"], sc.identity["controller_id"], sc.cloud.url), flush=True)
        report = sc.sweep()
        for inv, kind, total, tip in sc.cloud_sales():
            print("  cloud: invoice %06d %-6s %d.%02d" % (inv, kind, (total + tip) // 100, (total + tip) % 100))
        for p in report.problems:
            print("  PROBLEM: " + p)
        return report.ok, report.figures() if report.ok else "; ".join(report.problems[:5])


SCENARIOS = {"sync-power-cut": _sync_power_cut}
