"""Catalog and stock in the cloud and the catalog's delta sync (docs/stock.md).

stock-import: a 5,000-item price list imported by CSV into the cloud's embedded database
(SQLite in a temporary folder): rows a second for the first import and for the same list again
(nothing changes), and the request's wall time.

stock-delta: a 5,000-item catalog in the cloud, a terminal at its version; bytes of the delta
for 1, 10 and 100 repriced items; the terminal's apply (pos.catalog.delta on the unix port,
the board's heap) of the 100-item delta, its time, and the smallest heap it runs in at 500 and
at 5,000 items (the same figure: the apply's heap does not grow with the catalog).
"""
import os
import struct
import tempfile
import time

from host_sim import catalog as builder


def _csv(items, bump=()):
    rows = ["sku,barcode,name,name_zh,price,tax,unit,plu"]
    for i, it in enumerate(items):
        p = it["price"] + (1 if i in bump else 0)
        rows.append("%s,%s,%s,%s,%d.%02d,%d,%s,%d" % (it["sku"], it["barcode"], it["name"], it["name_zh"],
                                                      p // 100, p % 100, it["tax"], it["unit"], it["plu"]))
    return ("\n".join(rows) + "\n").encode()


class _Cloud:
    def __init__(self, folder):
        from fastapi.testclient import TestClient
        from cloud.app import create_app
        from cloud.settings import Settings
        self.app = create_app(Settings(data_dir=folder, bootstrap_admin_password="bench-password-1"))
        self.api = TestClient(self.app)
        tok = self.api.post("/api/v1/auth/login", json={"username": "admin", "password": "bench-password-1"}).json()
        self.admin = {"Authorization": "Bearer " + tok["token"]}
        self.m = self.api.post("/api/v1/merchants", json={"name": "Bench", "mid": "MID000000000009"},
                               headers=self.admin).json()["id"]
        s = self.api.post("/api/v1/stores", json={"merchant_id": self.m, "name": "Main"}, headers=self.admin).json()
        reg = self.api.post("/api/v1/terminals", json={"serial": "B-1", "controller_id": "B-1", "store_id": s["id"]},
                            headers=self.admin).json()
        ident = self.api.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "B-1"})
        self.dev = {"Authorization": "TargetToken " + ident.json()["target_token"]}

    def load(self, data):
        t = time.perf_counter()
        r = self.api.post("/api/v1/merchants/%d/catalog/import" % self.m, content=data,
                          headers=dict(self.admin, **{"Content-Type": "text/csv"}))
        assert r.status_code == 200, r.text[:300]
        return time.perf_counter() - t, r.json()

    def feed(self, since):
        r = self.api.get("/default/controller/v1/B-1/catalog?since=%d" % since, headers=self.dev)
        return r.content

    def close(self):
        self.app.state.engine.dispose()


def imports():
    items = builder.sample(5000, seed=13)
    with tempfile.TemporaryDirectory(prefix="smartpos-bench-stock-") as folder:
        c = _Cloud(folder)
        first, _ = c.load(_csv(items))
        again, _ = c.load(_csv(items))
        c.close()
    return [("CSV import, 5,000 new items, one request", round(first, 2), "s"),
            ("CSV import rate, new items", int(5000 / first), "rows/s"),
            ("CSV import rate, the same list again (nothing changes)", int(5000 / again), "rows/s")]


_APPLY = r"""
import gc, time
from pos.catalog import delta
gc.collect()
t = time.ticks_us()
v = delta.apply('catalog.delta')
print(v, time.ticks_diff(time.ticks_us(), t))
"""


def _smallest_heap(flash, snap, data):
    from host_sim import mpy
    lo, hi = 8, 192
    while lo < hi:
        mid = (lo + hi) // 2
        with open(os.path.join(flash, "catalog.bin"), "wb") as f:
            f.write(snap)
        with open(os.path.join(flash, "catalog.delta"), "wb") as f:
            f.write(data)
        try:
            mpy.run(_APPLY, heap="%dK" % mid, cwd=flash)
            hi = mid
        except mpy.MicroPythonError:
            lo = mid + 1
    return lo


def _apply_case(n, changed):
    from host_sim import mpy
    items = builder.sample(n, seed=13)
    with tempfile.TemporaryDirectory(prefix="smartpos-bench-stock-") as folder:
        c = _Cloud(os.path.join(folder, "cloud"))
        c.load(_csv(items))
        snap = c.feed(0)
        sizes = {}
        for k in (1, 10, changed):
            c.load(_csv(items, bump=set(range(0, n, n // k)[:k])))
            sizes[k] = len(c.feed(1))
            c.load(_csv(items))
        c.load(_csv(items, bump=set(range(0, n, n // changed)[:changed])))
        v = struct.unpack_from(">I", snap, 8)[0]
        data = c.feed(v)
        c.close()
        flash = os.path.join(folder, "flash")
        os.makedirs(flash)
        with open(os.path.join(flash, "catalog.bin"), "wb") as f:
            f.write(snap)
        with open(os.path.join(flash, "catalog.delta"), "wb") as f:
            f.write(data)
        out = mpy.run(_APPLY, cwd=flash).split()
        heap = _smallest_heap(flash, snap, data)
    return sizes, int(out[1]), heap, len(snap)


def deltas():
    sizes, us, heap, whole = _apply_case(5000, 100)
    _, small_us, small_heap, _ = _apply_case(500, 100)
    return [("whole catalog (snapshot), 5,000 items", whole, "B"),
            ("delta, 1 repriced item", sizes[1], "B"),
            ("delta, 10 repriced items", sizes[10], "B"),
            ("delta, 100 repriced items", sizes[100], "B"),
            ("delta bytes per changed item (100-item delta less its 48-byte header)",
             round((sizes[100] - 48) / 100, 1), "B"),
            ("terminal apply of a 100-item delta, 5,000-item catalog", round(us / 1000, 1), "ms"),
            ("terminal apply of a 100-item delta, 500-item catalog", round(small_us / 1000, 1), "ms"),
            ("smallest heap running the apply, 5,000 items (interpreter included)", heap, "KiB"),
            ("smallest heap running the apply, 500 items (interpreter included)", small_heap, "KiB")]


BENCHES = {"stock-import": imports, "stock-delta": deltas}
