"""The board benches' own logic: callgrind counts per operation (more work, more instructions;
the same work N times, the same count per operation) and the firmware-size growth warning."""
import json
import shutil

import pytest

from smartpos.benches import mcu


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_instruction_count_per_operation_scales_with_the_work():
    setup = "def work(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
    small = mcu.instructions(setup, "work(100)", 4)
    large = mcu.instructions(setup, "work(1000)", 4)
    assert 100 * 10 < small < 100 * 1000          # some tens of instructions per bytecode loop turn
    assert 8 < large / small < 12                 # ten times the loop, about ten times the count
    again = mcu.instructions(setup, "work(1000)", 8)
    assert abs(again - large) / large < 0.02      # per operation, whatever N


def test_estimate_range_is_the_count_times_the_factor_at_168_mhz():
    lo, hi = mcu.m4_range_ms(168000000)
    assert (lo, hi) == pytest.approx((1000 * mcu.M4_FACTOR[0], 1000 * mcu.M4_FACTOR[1]))


def test_a_package_past_ten_percent_of_its_baseline_is_flagged(tmp_path, monkeypatch):
    base = {"pos.qr": 1000, "pos.crypto": 1000, "ROMFS image (frozen packages)": 200000}
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(base))
    monkeypatch.setattr(mcu, "BASELINE", str(path))
    monkeypatch.setattr(mcu, "package_sizes", lambda: {"pos.qr": 1101, "pos.crypto": 1099, "pos.new": 10,
                                                        "ROMFS image (frozen packages)": 270000})
    rows = {name: note for name, _, note in mcu.firmware_size()}
    assert "WARNING" in rows["pos.qr"] and "+10.1%" in rows["pos.qr"]
    assert "WARNING" not in rows["pos.crypto"] and "+9.9%" in rows["pos.crypto"]
    assert rows["pos.new"] == "bytes (new: not in the baseline)"
    assert "WARNING: over budget" in rows["image share of the 256 KB budget"]


def test_workloads_run_on_a_board_through_mpremote(tmp_path):
    from host_sim.board import VirtualBoard
    names = ["QR encode, 2,000 characters refused", "3DES block (two-key, ECB)"]
    with VirtualBoard(tmp_path / "flash", heap="192K", firmware="frozen", pty=True) as vb:
        vb.wait_for("smartpos ready", 30)
        rows = mcu.board_times(vb.pty.path, names)
    assert [name for name, _ in rows] == names
    assert all(ms > 0 for _, ms in rows)


def test_boot_phases_are_read_from_the_dumps_in_order(tmp_path):
    out = tmp_path / "callgrind.out"
    for n, total in enumerate((900, 10, 20, 30, 40, 7), 1):
        (tmp_path / ("callgrind.out.%d" % n)).write_text("events: Ir\nfn=x\n1 5\ntotals: %d\n" % total)
    assert mcu._dump_counts(str(out)) == [900, 10, 20, 30, 40, 7]


def test_the_boot_markers_leave_the_boot_as_it_is(tmp_path):
    """The power-on count's probe (host_sim/board/bsp/_bootmarks.py) wraps main.py's imports
    and print: the terminal still reaches Ready with its payment services started."""
    from host_sim.board import VirtualBoard
    from host_sim.rig import PRODUCT_HEAP, provision
    with VirtualBoard(tmp_path / "flash", heap=PRODUCT_HEAP, firmware="frozen", pty=False,
                      provision=lambda d: provision(d, {}), env={"SMARTPOS_BOOT_MARKS": "1"}) as vb:
        vb.wait_for("app ready", 60)
        assert "payment services not started" not in vb.console()


def test_card_transactions_report_what_they_allocate():
    # the heap a transaction's terminal side takes (64-bit port, collector off): a regression in
    # the kernel's allocation shows here before it shows as a MemoryError on a fragmented heap
    rows = dict(mcu.emv_allocations())
    assert set(rows) == {"contact chip sale, offline CDA + offline PIN", "contact chip sale, online (CDA, ARPC)",
                         "contactless tap, offline fDDA (qVSDC, 10.00)", "contactless tap, online qVSDC (ARQC, 30.00)"}
    assert 20000 < rows["contact chip sale, online (CDA, ARPC)"] < 72000      # 63.3 KB (69.4 KB, 98.5 KB before)
    assert 10000 < rows["contactless tap, offline fDDA (qVSDC, 10.00)"] < 30000    # 22.8 KB (33.6 KB before)
    # the online tap reads no record and recovers no key: less than the fDDA one
    assert 2000 < rows["contactless tap, online qVSDC (ARQC, 30.00)"] < rows["contactless tap, offline fDDA (qVSDC, 10.00)"]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_explicit_collections_are_not_counted():
    # the services collect around a card, not inside it (collector.HeldOff): the bench leaves the
    # driver's gc.collect() calls out, and only those
    from host_sim import mpy
    work = "x = [bytes(200) for _ in range(400)]\n"
    base = mcu._process_instructions(lambda: mpy.run(work))
    collected = mcu._process_instructions(lambda: mpy.run(work + "import gc\nfor _ in range(20):\n    gc.collect()\n"))
    # twenty collections of that heap counted: 8.1 M; left out: 132 K here (the loop, the calls),
    # 165 K seen in a full run from another checkout (paths of other lengths in the heap)
    assert abs(collected - base) < 500000
