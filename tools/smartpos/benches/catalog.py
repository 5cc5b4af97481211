"""Catalog look-ups (pos.catalog, docs/catalog.md) on the unix port with the board's heap.

A 5,000-item catalog made by the PC builder: the time of one barcode look-up (parse, bisection
over the records on flash, the item read), mean and worst over 2,000 scans of codes in the
catalog, and of an unknown code; the RAM the open catalog takes and what look-ups leave
behind, at 500 and at 5,000 items (the same figures are the point: RAM does not grow with
the catalog).  Flash here is the PC's file system; a board's flash reads slower.
"""
import json
import os
import random
import tempfile

_MP = r"""
import gc, json, time
from pos.catalog import barcode
from pos.catalog.store import Catalog
gc.collect()
free0 = gc.mem_free()
c = Catalog()
gc.collect()
opened = free0 - gc.mem_free()
def scan(code):
    i = c.by_barcode(barcode.parse(code)[0])
    return c.item(i) if i >= 0 else None
scan(open('codes.txt').readline().strip())
gc.collect()
low = gc.mem_free()
def timed():
    worst = total = n = 0
    for line in open('codes.txt'):
        code = line.strip()
        t1 = time.ticks_us()
        scan(code)
        d = time.ticks_diff(time.ticks_us(), t1)
        worst = max(worst, d)
        total += d
        n += 1
    return total / n, worst
mean = worst = miss = t1 = 0
gc.collect()
low = gc.mem_free()
mean, worst = timed()
t1 = time.ticks_us()
for _ in range(100):
    scan('4006381333931')
miss = time.ticks_diff(time.ticks_us(), t1) / 100
gc.collect()
print(json.dumps({"opened": opened, "kept": low - gc.mem_free(), "mean": mean, "worst": worst, "miss": miss,
                  "free": gc.mem_free(), "file": c.count}))
"""


def _measure(n):
    from host_sim import catalog, mpy
    with tempfile.TemporaryDirectory(prefix="smartpos-bench-cat-") as flash:
        items = catalog.sample(n, seed=11)
        catalog.write(os.path.join(flash, "catalog.bin"), items, version=1)
        rnd = random.Random(2)
        with open(os.path.join(flash, "codes.txt"), "w") as f:
            for _ in range(2000):
                f.write(rnd.choice(items)["barcode"] + "\n")
        size = os.path.getsize(os.path.join(flash, "catalog.bin"))
        out = json.loads(mpy.run(_MP, cwd=flash).strip().splitlines()[-1])
        out["size"] = size
        return out


def lookups():
    small = _measure(500)
    big = _measure(5000)
    return [
        ("5,000-item catalog file on flash", big["size"], "B"),
        ("barcode look-up, 5,000 items, mean of 2,000 scans", round(big["mean"] / 1000, 3), "ms"),
        ("barcode look-up, 5,000 items, worst of 2,000 scans", round(big["worst"] / 1000, 3), "ms"),
        ("unknown barcode, 5,000 items, mean", round(big["miss"] / 1000, 3), "ms"),
        ("barcode look-up, 500 items, mean", round(small["mean"] / 1000, 3), "ms"),
        ("RAM of the open catalog, 5,000 items", big["opened"], "B"),
        ("RAM of the open catalog, 500 items", small["opened"], "B"),
        ("heap not back after 2,000 look-ups (the bench's own names included), 5,000 items", big["kept"], "B"),
        ("heap not back after 2,000 look-ups (the bench's own names included), 500 items", small["kept"], "B"),
    ]


_BASKET = r"""
import gc, json
from pos.catalog.store import Catalog
from pos.catalog.cart import Cart, Rules
gc.collect()
free0 = gc.mem_free()
cart = Cart(Catalog(), Rules({"tax": {"rates": {"0": 0, "1": 600, "2": 1300}}, "max_lines": 150}))
gc.collect()
opened = gc.mem_free()
def fill(k):
    n = 0
    for line in open("codes.txt"):
        if n == k:
            break
        cart.scan(line.strip())
        n += 1
fill(LINES)
total = cart.totals()[0]
gc.collect()
print(json.dumps({"cart": free0 - opened, "held": free0 - gc.mem_free(), "free": gc.mem_free(),
                  "lines": cart.n, "total": total}))
"""


def _smallest_heap(flash, lines):
    """The smallest heap (KiB, 1 KiB steps) in which the basket of `lines` lines and its totals run."""
    from host_sim import mpy
    lo, hi = 4, 192
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            mpy.run(_BASKET.replace("LINES", str(lines)), heap="%dK" % mid, cwd=flash)
            hi = mid
        except mpy.MicroPythonError:
            lo = mid + 1
    return lo


def basket():
    from host_sim import catalog, mpy
    with tempfile.TemporaryDirectory(prefix="smartpos-bench-cat-") as flash:
        items = catalog.sample(5000, seed=11)
        catalog.write(os.path.join(flash, "catalog.bin"), items, version=1)
        rnd = random.Random(3)
        pieces = [it for it in items if it["unit"] == "piece"]
        with open(os.path.join(flash, "codes.txt"), "w") as f:
            for _ in range(100):
                f.write(rnd.choice(pieces)["barcode"] + "\n")
        out = json.loads(mpy.run(_BASKET.replace("LINES", "100"), cwd=flash).strip().splitlines()[-1])
        one = _smallest_heap(flash, 1)
        hundred = _smallest_heap(flash, 100)
    return [
        ("open cart (5,000-item catalog, 150-line buffer)", out["cart"], "B"),
        ("heap held by a 100-line basket (collected)", out["held"], "B"),
        ("smallest heap running a 1-line basket and its totals", one, "KiB"),
        ("smallest heap running a 100-line basket and its totals (its peak)", hundred, "KiB"),
    ]


BENCHES = {"catalog-lookup": lookups, "catalog-basket": basket}
