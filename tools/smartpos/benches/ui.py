"""Screen redraw times and the heap main.py reports at Ready (virtual board).

Boot time and firmware size are in the `board` bench."""
import re

from host_sim.board import VirtualBoard

REDRAW = """
import time, gc
from pos import hw
d = hw.display()
d.fb.fill(0); d.mark_dirty()
t = time.ticks_us(); d.show(); full = time.ticks_diff(time.ticks_us(), t)
d.fb.text("x", 0, 40, 1); d.mark_dirty(40, 48)
t = time.ticks_us(); d.show(); line = time.ticks_diff(time.ticks_us(), t)
gc.collect()
print(full, line, gc.mem_alloc(), gc.mem_free())
"""


def boot():
    rows = []
    with VirtualBoard(firmware=True, pty=False) as vb:
        vb.wait_for("smartpos ready", 30)
        m = re.search(r"ready heap_free=(\d+)", vb.console())
        if m:
            free = int(m.group(1))
            rows.append(("heap free at Ready (main.py running)", free, "bytes"))
            rows.append(("heap in use at Ready (incl. board support)", 194304 - free, "bytes"))
        full, line, alloc, free = map(int, vb.exec(REDRAW).split())
        rows.append(("full-screen redraw 240x320 (show)", full / 1000, "ms"))
        rows.append(("one 8-px text row redraw", line / 1000, "ms"))
    return rows


BENCHES = {"ui": boot}


def whole_terminal():
    """Cash and card sales from idle on the whole terminal (frozen firmware, host_sim.rig):
    keypresses and time, and the heap free at idle after every flow has run once."""
    import re
    import time as _t
    from host_sim.rig import Rig
    rows = []
    with Rig() as rig:
        rig.home()
        keys = list("1250") + ["ENTER", "1"] + list("2000") + ["ENTER"]
        t0 = _t.monotonic()
        rig.keys(keys, pace=0.03)
        rig.wait_text("Receipt printed")
        rows.append(("cash sale from idle: keypresses / time to receipt", "%d / %.2f" % (len(keys), _t.monotonic() - t0), "keys / s"))
        rig.keys(["ENTER"])
        t0 = _t.monotonic()
        text = rig.sale_by_card(4200, "visa-cvn10", pin="1234")
        dt = _t.monotonic() - t0
        # amount (4) + ENTER + Card + PIN (4) + ENTER = 11 keys, plus inserting the card
        rows.append(("chip card sale from idle (offline PIN): keypresses / time to APPROVED", "11 / %.2f" % dt, "keys / s"))
        rig.keys(["ENTER"])
        rig.remove()
        # every other flow once: split, refund, void, tip, X, Z, balance, language
        from smartpos.demos import app as flows        # noqa: F401  (same steps as the demos)
        rig.sale_by_card(150000, "visa-credit", pin="1234")
        rig.keys(["ENTER"])
        rig.remove()
        rig.home()
        rig.keys(["MENU", "7", "1"])
        rig.wait_text("NET USD")
        rig.home()
        rig.keys(["MENU", "7", "2"])
        rig.wait_text("Supervisor PIN")
        rig.keys(list("2222") + ["ENTER"])
        rig.wait_text("alpha")
        rig.home()
        rig.keys(["MENU", "9"])
        text = rig.wait_text("Heap free")
        free = int(re.search(r"Heap free (\d+)", text).group(1))
        rows.append(("heap free at idle after sales, X and Z reports (256K board on the 64-bit port)", free, "bytes"))
        rig.keys(["CANCEL"])
    return rows


BENCHES["terminal"] = whole_terminal


def qr_encode():
    """QR encode time (version 1 and version 10, level M, all 8 masks scored) on the unix port."""
    from host_sim import mpy
    out = mpy.run("import time\nfrom pos.qr import encoder\n"
                  "for n in (10, 210):\n"
                  "    encoder.encode('y' * n)\n"
                  "    t = time.ticks_us()\n"
                  "    for _ in range(3):\n"
                  "        q = encoder.encode('y' * n)\n"
                  "    print(q.version, time.ticks_diff(time.ticks_us(), t) // 3)\n", heap="192K", timeout=120)
    rows = []
    for line in out.strip().splitlines():
        v, us = line.split()
        rows.append(("QR encode, version %s level M (MicroPython unix port)" % v, int(us) / 1000.0, "ms"))
    return rows


BENCHES["qr"] = qr_encode
