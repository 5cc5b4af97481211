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
