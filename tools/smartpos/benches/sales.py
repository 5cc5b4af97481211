"""Sales upload into the cloud service on SQLite (the embedded default), in-process: sales per
second and the 95th percentile of an upload's answer time (stored and posted, committed), one
terminal after another and 7 terminals at once; a repeated delivery (duplicate) too.

Recorded (2026-11-28, 2 shared cores, SQLite in WAL mode): one terminal 150 sales/s, p95 8 ms;
7 terminals at once 140 sales/s, p95 109 ms (SQLite takes one writer at a time), none refused;
a repeated delivery answered in 10 ms at p95.
"""
import copy
import datetime
import tempfile
import threading
import time

TERMINALS = 8
PER_TERMINAL = 150

LINES = [{"sku": "COF", "name": "Coffee", "qty": 2, "unit_price": 350, "amount": 700, "tax_rate_bp": 1000},
         {"sku": "SAN", "name": "Sandwich", "qty": 1, "unit_price": 840, "amount": 840, "tax_rate_bp": 2000}]
CARD = {"masked_pan": "476173******0119", "scheme": "visa", "acquirer": "Demo Acquirer", "auth_code": "A1B2C3",
        "rrn": "000000123456", "stan": "000042",
        "emv": {"aid": "A0000000031010", "tvr": "0000008000", "tsi": "E800", "cryptogram": "1122334455667788"}}


def _sale(invoice):
    return {"invoice": invoice, "currency": "EUR", "lines": copy.deepcopy(LINES),
            "terminal_time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "tenders": [{"type": "card", "amount": 1540, "card": copy.deepcopy(CARD)}]}


def _p95(xs):
    xs = sorted(xs)
    return xs[max(0, int(len(xs) * 0.95) - 1)]


def ingest():
    from fastapi.testclient import TestClient
    from cloud.app import create_app
    from cloud.settings import Settings
    app = create_app(Settings(data_dir=tempfile.mkdtemp(), bootstrap_admin_password="bench-password-1"))
    rows = []
    with TestClient(app) as c:
        admin = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={
            "username": "admin", "password": "bench-password-1"}).json()["token"]}
        m = c.post("/api/v1/merchants", json={"name": "Bench shop"}, headers=admin).json()
        s = c.post("/api/v1/stores", json={"merchant_id": m["id"], "name": "Main"}, headers=admin).json()
        tills = []
        for i in range(TERMINALS):
            name = "bench-%d" % i
            reg = c.post("/api/v1/terminals", json={"serial": name, "controller_id": name, "store_id": s["id"]},
                         headers=admin).json()
            tok = c.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": name}).json()
            tills.append(("/default/controller/v1/%s/sales" % name,
                          {"Authorization": "TargetToken " + tok["target_token"]}))

        def upload(till, invoices, times, codes):
            url, dev = till
            for inv in invoices:
                t0 = time.perf_counter()
                r = c.post(url, json=_sale(inv), headers=dev)
                times.append(time.perf_counter() - t0)
                codes.append(r.status_code)

        times, codes = [], []
        t0 = time.perf_counter()
        upload(tills[0], range(1, PER_TERMINAL + 1), times, codes)
        wall = time.perf_counter() - t0
        assert set(codes) == {201}, set(codes)
        rows += [("one terminal: sales stored", len(times), ""),
                 ("one terminal: throughput", len(times) / wall, "sales/s"),
                 ("one terminal: p95 upload", _p95(times) * 1000, "ms")]

        times, codes = [], []
        threads = [threading.Thread(target=upload, args=(till, range(1, PER_TERMINAL + 1), times, codes))
                   for till in tills[1:]]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
        stored = codes.count(201)
        rows += [("%d terminals at once: sales stored" % (TERMINALS - 1), stored, ""),
                 ("%d terminals at once: refused 503 (retry later)" % (TERMINALS - 1), codes.count(503), ""),
                 ("%d terminals at once: throughput" % (TERMINALS - 1), stored / wall, "sales/s"),
                 ("%d terminals at once: p95 upload" % (TERMINALS - 1), _p95(times) * 1000, "ms")]

        url, dev = tills[0]
        first = c.post(url, json=_sale(10**6), headers=dev)
        body = first.request.read()
        dup = []
        for _ in range(50):
            t0 = time.perf_counter()
            r = c.post(url, content=body, headers=dict(dev, **{"Content-Type": "application/json"}))
            dup.append(time.perf_counter() - t0)
            assert r.status_code == 200
        rows.append(("repeated delivery (duplicate): p95 answer", _p95(dup) * 1000, "ms"))
    app.state.engine.dispose()
    return rows


BENCHES = {"sales-ingest": ingest}
