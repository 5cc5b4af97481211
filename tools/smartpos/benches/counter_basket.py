"""Scan to total on the whole counter (docs/promotions.md, "Memory"): the virtual board on the
product heap with a 5,000-item catalog and the three promotions of `promo-basket`; 100 items
scanned by the scanner model, one at a time.  Each figure runs from the scanner's first byte on
its UART (9,600 baud: a 13-digit code and its CR take 15 ms on the wire) to the display
showing the basket's new line count with its total (the screen's last band taken by the
display model).  The unix port on a PC: a board runs the interpreter tens of times slower.
"""
import json
import os
import random
import statistics
import time

from smartpos.benches.promo import PROGRAMS

RULES = {"tax": {"mode": "exclusive", "rounding": "line", "rates": {"0": 0, "1": 600, "2": 1300}},
         "max_lines": 150}


def scan_to_total():
    from host_sim import catalog
    from host_sim.rig import Rig
    items = catalog.sample(5000, seed=11)
    rnd = random.Random(3)
    pieces = [it for it in items if it["unit"] == "piece"]
    codes = [rnd.choice(pieces)["barcode"] for _ in range(100)]

    def stock(rig):
        catalog.write(os.path.join(rig.flash_dir, "catalog.bin"), items, version=1)
        with open(os.path.join(rig.flash_dir, "config", "catalog.json"), "w") as f:
            json.dump(RULES, f)
        with open(os.path.join(rig.flash_dir, "config", "promotions.json"), "w") as f:
            json.dump({"programs": PROGRAMS}, f)

    took = []
    with Rig(before_boot=stock) as rig:
        rig.home()
        rig.keys(["F2"])
        rig.wait_text("BASKET 0")
        scanner = rig.board.devices["scanner"]
        for n, code in enumerate(codes, 1):
            t0 = time.monotonic()
            scanner.scan(code)
            rig.wait_text("BASKET %d" % n)
            took.append((time.monotonic() - t0) * 1000)
        shown = rig.display.text()
        rig.keys(["CANCEL"])
    assert "BASKET 100" in shown, shown
    return [
        ("last scan (line 100, three promotions) to its total on the display", round(took[-1], 1), "ms"),
        ("median over the 100 scans", round(statistics.median(took), 1), "ms"),
        ("slowest of the 100 scans", round(max(took), 1), "ms"),
        ("first scan (empty basket) to its total", round(took[0], 1), "ms"),
    ]


BENCHES = {"counter-scan-to-total": scan_to_total}
