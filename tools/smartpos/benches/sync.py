"""The upload queue's cost on the counter (docs/sales-sync.md, "The terminal side"): the real
firmware on the virtual board (frozen, the product heap: 256K on the 64-bit unix port = the
board's 192K) enrolled in the cloud (SQLite) through a relay.

Flash: bytes of one queued upload (cash, chip card) and how many the default 64 KiB queue holds.
Heap at Ready (gc.collect first) after a sale before the sync code has loaded, and after a sale
with it loaded and its queue drained: the difference is what the sync keeps.  During an
upload: the heap free before the request and what the request took (its garbage included).
Interned names: the pool's count at boot and once the sync has run (the counter's margin).
"""
import os
import re
import time


def _last(console, pattern):
    found = re.findall(pattern, console)
    return int(found[-1]) if found else -1


def queue_cost():
    from host_sim.salesync import SyncCounter, read_queue
    rows = []
    with SyncCounter(queue_bytes=65536, log=None) as sc:
        b = sc.board
        sc.relay.down_for(3600)                     # the cloud unreachable: the uploads wait on flash
        sc.cash_sale(1250)
        sc.rig.wait_text("READY")
        time.sleep(0.5)
        before = _last(b.console(), r"app idle heap_free=(\d+)")
        path = os.path.join(sc.rig.flash_dir, "upload.q")
        end = time.monotonic() + 30
        while not read_queue(path) and time.monotonic() < end:
            time.sleep(0.2)
        sc.card_sale(4200)
        sc.cash_sale(800)
        end = time.monotonic() + 30
        while len(read_queue(path)) < 3 and time.monotonic() < end:
            time.sleep(0.2)
        size = os.path.getsize(path)
        q = read_queue(path)
        import json
        cash = [len(json.dumps(u, separators=(",", ":"))) + 7 for _, u in q if u["tenders"][0]["type"] == "cash"]
        card = [len(json.dumps(u, separators=(",", ":"))) + 7 for _, u in q if u["tenders"][0]["type"] == "card"]
        rows += [("queued upload on flash, cash sale", max(cash), "B"),
                 ("queued upload on flash, chip card sale", max(card), "B"),
                 ("queue file after 3 sales", size, "B"),
                 ("chip card sales the default 64 KiB queue holds", 65536 // max(card), "sales")]
        sc.relay.down_for(0)
        sc.wait_drained(120)
        time.sleep(1.5)
        con = b.console()
        drained = _last(con, r"sync idle heap_free=(\d+)")
        free_before = min(int(x) for x in re.findall(r"sync answer heap_free=(\d+)", con))
        took = max(int(x) for x in re.findall(r"upload_alloc=(-?\d+)", con))
        samples = []
        for k in range(4):                          # steady state: the best of four sales
            sc.cash_sale(900 + k)
            sc.rig.wait_text("READY")
            sc.wait_drained(60)
            time.sleep(1.5)
            samples.append(_last(b.console(), r"app idle heap_free=(\d+)"))
        after = max(samples)
        rows += [("heap free at Ready after a sale, sync not loaded", before, "B"),
                 ("heap free at Ready after a sale, sync loaded (best of 4)", after, "B"),
                 ("heap free at Ready after a sale, sync loaded (worst of 4)", min(samples), "B"),
                 ("heap the loaded sync keeps at Ready", before - after, "B"),
                 ("heap free once the queue drained (sync loaded)", drained, "B"),
                 ("heap free before an upload's request (lowest)", free_before, "B"),
                 ("heap taken while an upload ran (its and other tasks' garbage; most)", took, "B")]
        # enrolled, the boot does not print its pool (docs/tms.md gives 2,442 between polls and
        # 2,540 before the next pool part): the count once the sync has run
        out = b.exec("import micropython\nmicropython.qstr_info()", 60)
        m = re.search(r"n_pool=(\d+), n_qstr=(\d+)", out)
        if m:
            rows += [("interned names after sales and uploads (enrolled)", int(m.group(2)), "names"),
                     ("interned-name pool parts", int(m.group(1)), "parts")]
    return rows


BENCHES = {"sync-queue": queue_cost}
