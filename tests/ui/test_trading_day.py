"""A shorter trading day on the whole terminal (frozen firmware on the virtual board with the
sim's heap, acquirer and wallet hosts): every kind of transaction at least once in a seeded
order, then the Z report, judged as the full day is (no MemoryError or traceback, heap free at
Ready back within 10 %, Z report totals equal to the hosts' records, no large allocation).  The
full day (300 transactions) is `smartpos demo --scenario trading-day` and `smartpos bench
trading-day`."""
import re

import pytest

from host_sim.rig import Rig
from host_sim.trading_day import KINDS, TradingDay, z_tenders
from host_sim import alloc_probe

SHORT_DAY = 18           # every kind once (14) and a few more


@pytest.fixture(scope="module")
def day():
    try:
        probe = alloc_probe.AllocProbe()
    except alloc_probe.ProbeError:
        probe = None
    with Rig(cpu_env=probe.env() if probe else None) as rig:
        rep = TradingDay(rig, seed=7, transactions=SHORT_DAY, probe=probe).run()
        yield rig, rep, probe
    if probe is not None:
        probe.close()


def test_the_day_runs_without_memory_errors_or_exceptions(day):
    rig, rep, _ = day
    assert rep.done == SHORT_DAY
    assert sorted(rep.kinds) == sorted(k for k, _ in KINDS)
    assert rep.faults == []
    for fault in ("MemoryError", "Traceback", "memory allocation failed"):
        assert fault not in rig.board.console()


def test_heap_free_at_ready_comes_back_after_the_day(day):
    _, rep, _ = day
    h10 = rep.heap_at(10)
    assert h10 and rep.heap_after_z
    assert abs(rep.heap_after_z - h10) <= h10 // 10, (h10, rep.heap_after_z, rep.heap_after)


def test_z_report_totals_are_the_hosts_records(day):
    _, rep, _ = day
    assert rep.z_tenders.get("cash", (0, 0))[1] == rep.cash_total > 0
    assert rep.z_tenders.get("qr", (0, 0))[1] == rep.wallet_total > 0
    assert rep.z_card_net == rep.host_card_net
    # balanced at once, or after the batch upload (a tip adjusted on the terminal)
    assert rep.z_settlement.startswith("SETTLE") and "FAILED" not in rep.z_settlement, rep.z_settlement
    assert all(w in ("SETTLE", "alpha", "beta", "BALANCED", "UPLOADED") for w in rep.z_settlement.split())
    assert rep.problems() == []


def test_no_transaction_allocates_a_large_block(day):
    _, rep, probe = day
    if probe is None:
        pytest.skip("no C compiler for the allocation probe")
    # the display's frame and band buffers (9.6 KB, 7.7 KB) are made once at boot; within a
    # transaction nothing of that order may be asked of the heap again
    assert rep.largest_alloc is not None and rep.largest_alloc <= 4096, (rep.largest_alloc, rep.largest_alloc_kind)


def test_every_interned_string_fits_the_pools_made_at_boot(day):
    """Interned strings (qstrs) live in pools that double as they fill; a pool part made
    mid-day is one block of 2560 entries (28 KB) that a day's heap does not have (a MemoryError
    at the import of the first flow that needs it).  The boot interns every flow's names and
    prints the pools it left; after the day there is no pool more than at boot."""
    rig, rep, _ = day
    console = rig.board.console()
    at_boot = re.findall(r"qstr pool: n_pool=(\d+), n_qstr=(\d+)", console)
    assert at_boot, "the boot did not intern the flows' names"
    out = rig.board.exec("import micropython\nmicropython.qstr_info()", 60)    # ends the day's main.py
    m = re.search(r"n_pool=(\d+), n_qstr=(\d+)", out)
    n_pool, n_qstr = int(m.group(1)), int(m.group(2))
    boot_pool, boot_qstr = int(at_boot[-1][0]), int(at_boot[-1][1])
    assert n_pool == boot_pool, (boot_pool, boot_qstr, n_pool, n_qstr)


def test_z_tenders_reads_the_printed_report():
    receipt = ("Z REPORT\n--------\nTENDER\n card         3        USD 45.10\n cash         1        USD 12.50\n"
               " refund       1        USD -5.00\nSCHEME\n visa         3        USD 45.10\n")
    assert z_tenders(receipt) == {"card": (3, 4510), "cash": (1, 1250), "refund": (1, -500)}
