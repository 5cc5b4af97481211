"""A trading day on the whole terminal (smartpos demo --scenario trading-day): 300 seeded
mixed transactions and the Z report on the product heap; heap free at Ready along the day
and the largest single allocation of a transaction (host_sim.alloc_probe)."""


def trading_day():
    import time
    from smartpos.demos.trading_day import DAY_TRANSACTIONS, run_day
    t0 = time.monotonic()
    rep, why = run_day(log=lambda line: None)
    wall = time.monotonic() - t0
    rows = [
        ("transactions completed (then the Z report)", rep.done, "txns"),
        ("heap free at Ready after 10 transactions", rep.heap_at(10), "bytes"),
        ("heap free at Ready after %d transactions" % DAY_TRANSACTIONS, rep.heap_at(DAY_TRANSACTIONS), "bytes"),
        ("heap free at Ready after the Z report", rep.heap_after_z, "bytes"),
        ("largest free heap block after the day (main loop stopped, collected)", rep.largest_free_after_z,
         "bytes"),
        ("lowest heap free at Ready during the day", min(rep.heap_after.values()) if rep.heap_after else None,
         "bytes"),
    ]
    if rep.largest_alloc:
        rows.append(("largest single allocation in a transaction (%s)" % rep.largest_alloc_kind,
                     rep.largest_alloc, "bytes"))
    else:
        rows.append(("largest single allocation in a transaction (%s)" % why, 0, "bytes"))
    rows.append(("MemoryError / tracebacks on the board", len(rep.faults), "lines"))
    rows.append(("problems against the day's criteria", len(rep.problems()), ""))
    rows.append(("wall time of the day (incl. boot and Z report)", wall, "s"))
    rows.append(("per transaction", wall / max(1, rep.done), "s"))
    return rows


BENCHES = {"trading-day": trading_day}
