"""The promotions engine on the unix port with the board's heap (docs/promotions.md, "Memory"):
a 100-line basket scanned from a 5,000-item catalog with three promotions (buy X get Y on a
category, percent off a category, a fixed amount off the order over a minimum), applied by
the cart as the counter does after every scan: the heap the compiled programs hold, what one
application allocates (collected afterwards), the smallest heap that runs the basket with its
promotions and totals against the same basket without them, and the time of one application.
"""
import json
import os
import random
import tempfile

PROGRAMS = [
    {"id": "B2G1", "type": "buy_x_get_y", "name": "CAT 1: 3 FOR 2", "rule": {"categories": [1]},
     "reward": {"buy": 2, "free": 1}},
    {"id": "CAT3", "name": "10% OFF CATEGORY 3", "rule": {"categories": [3]}, "reward": {"percent": 1000, "on": "items"}},
    {"id": "SPEND", "name": "5.00 OFF OVER 50.00", "rule": {"min_amount": 5000}, "reward": {"fixed": 500}},
]

_MP = r"""
import gc, json, time
from pos.catalog.store import Catalog
from pos.catalog.cart import Cart, Rules
PROMOTE = WITH
MEASURE = ONE
gc.collect()
free0 = gc.mem_free()
loaded = compiled = 0
if PROMOTE:
    from pos.promo import engine
    gc.collect()
    loaded = free0 - gc.mem_free()
    with open("programs.json") as f:
        progs = engine.compile_programs(json.load(f))
    gc.collect()
    compiled = free0 - gc.mem_free() - loaded
cart = Cart(Catalog(), Rules({"tax": {"rates": {"0": 0, "1": 600, "2": 1300}}, "max_lines": 150}))
for line in open("codes.txt"):
    cart.scan(line.strip())
    if PROMOTE:
        out = cart.promote(progs, 0)
gc.collect()
before = gc.mem_alloc()
t0 = time.ticks_us()
one = 0
if PROMOTE and MEASURE:          # what one application allocates: the collector held off
    gc.disable()
    out = cart.promote(progs, 0)
    one = gc.mem_alloc() - before
    gc.enable()
elif PROMOTE:
    out = cart.promote(progs, 0)
us = time.ticks_diff(time.ticks_us(), t0)
total = cart.totals()[0]
gc.collect()
print(json.dumps({"loaded": loaded, "compiled": compiled, "one": one, "us": us, "lines": cart.n, "total": total,
                  "discount": out.discount if PROMOTE else 0,
                  "rewards": len(out.rewards) if PROMOTE else 0}))
"""


def _code(promote, measure=False):
    return _MP.replace("WITH", str(promote)).replace("ONE", str(measure))


def _smallest_heap(flash, promote, extra_path=()):
    from host_sim import mpy
    lo, hi = 8, 192
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            mpy.run(_code(promote), heap="%dK" % mid, cwd=flash, extra_path=extra_path)
            hi = mid
        except mpy.MicroPythonError:
            lo = mid + 1
    return lo


def basket():
    from host_sim import catalog, mpy
    with tempfile.TemporaryDirectory(prefix="smartpos-bench-promo-") as flash:
        items = catalog.sample(5000, seed=11)
        catalog.write(os.path.join(flash, "catalog.bin"), items, version=1)
        rnd = random.Random(3)
        pieces = [it for it in items if it["unit"] == "piece"]
        with open(os.path.join(flash, "codes.txt"), "w") as f:
            for _ in range(100):
                f.write(rnd.choice(pieces)["barcode"] + "\n")
        with open(os.path.join(flash, "programs.json"), "w") as f:
            json.dump(PROGRAMS, f)
        out = json.loads(mpy.run(_code(True, True), cwd=flash).strip().splitlines()[-1])
        assert out["lines"] == 100 and out["rewards"] == 3, out
        with_promos = _smallest_heap(flash, True)
        without = _smallest_heap(flash, False)
        # the same with the engine as bytecode (as frozen on the board: no compiling at import)
        import shutil
        import subprocess
        from posbuild.toolchain import FIRMWARE_DIR, mpy_cross_binary
        tree = os.path.join(flash, "fw")
        shutil.copytree(os.path.join(FIRMWARE_DIR, "pos"), os.path.join(tree, "pos"))
        src = os.path.join(tree, "pos", "promo", "engine.py")
        subprocess.run([mpy_cross_binary(), "-march=x64", src], check=True)
        os.remove(src)
        compiled = _smallest_heap(flash, True, (tree,))
    return [
        ("the engine module loaded", out["loaded"], "B"),
        ("three compiled programs held", out["compiled"], "B"),
        ("heap one application allocates on a 100-line basket (collected after)", out["one"], "B"),
        ("one application on a 100-line basket (unix port)", round(out["us"] / 1000, 2), "ms"),
        ("smallest heap: 100-line basket, promotions after every scan, totals (its peak)", with_promos, "KiB"),
        ("smallest heap: the same basket without promotions", without, "KiB"),
        ("smallest heap: with promotions, the engine as bytecode (.mpy, as frozen)", compiled, "KiB"),
    ]


BENCHES = {"promo-basket": basket}
