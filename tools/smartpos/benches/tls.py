"""What TLS to the cloud costs the terminal's heap (docs/tms.md, "TLS and the heap").

mbedTLS's own memory is measured with host_sim/tls_probe (on a board it comes from the GC
heap; on the unix port from the C library, where the probe counts it), the Python objects on
the GC heap at the board's 192K; beside them, what the whole counter leaves free at Ready on
the virtual board (frozen firmware, product heap) and its largest free block."""
import json
import os
import re
import tempfile

PASSWORD = "bench-tls-pass-1"

_ONE_POLL = """
import asyncio, gc
from pos.net.tls import PinnedCA
from pos.tms.ddi import DdiClient
gc.collect(); f0 = gc.mem_free()
pin = PinnedCA()
ctx = pin.context()
gc.collect(); f1 = gc.mem_free()
client = DdiClient(%r, "default", "BENCH-1", %r, ssl_context=pin)
async def main():
    p = await client.poll()
    print("SLEEP", p.sleep_s)
asyncio.run(main())
gc.collect(); f2 = gc.mem_free()
print("CTX", f0 - f1, "AFTER", f0 - f2)
"""


def tls_heap():
    from fastapi.testclient import TestClient
    from cloud import tls as cloud_tls
    from cloud.server import CloudServer
    from cloud.settings import Settings
    from host_sim import mpy
    from host_sim.tls_probe import TlsProbe
    tmp = tempfile.mkdtemp(prefix="smartpos-bench-tls-")
    srv = CloudServer(Settings(data_dir=os.path.join(tmp, "cloud"), port=0, bootstrap_admin_password=PASSWORD,
                               tls_cert=cloud_tls.TEST_SERVER_CERT, tls_key=cloud_tls.TEST_SERVER_KEY)).start()
    probe = TlsProbe()
    try:
        api = TestClient(srv.app)
        h = {"Authorization": "Bearer " + api.post("/api/v1/auth/login", json={"username": "admin",
                                                                               "password": PASSWORD}).json()["token"]}
        reg = api.post("/api/v1/terminals", json={"serial": "BENCH-1"}, headers=h).json()
        token = api.post("/api/v1/enroll", json={"activation_code": reg["activation_code"],
                                                 "serial": "BENCH-1"}).json()["target_token"]
        os.makedirs(os.path.join(tmp, "flash", "config"))
        with open(cloud_tls.TEST_CA_DER, "rb") as src, open(os.path.join(tmp, "flash", "config", "cloud_ca.der"),
                                                             "wb") as dst:
            dst.write(src.read())
        probe.reset()
        out = mpy.run(_ONE_POLL % (srv.url, token), heap="192K", cwd=os.path.join(tmp, "flash"), env=probe.env())
        fig = probe.figures()
        ctx, after = (int(x) for x in re.search(r"CTX (\d+) AFTER (-?\d+)", out).groups())
    finally:
        probe.close()
        srv.stop()
    rows = [("mbedTLS heap at a connection's peak (one DDI poll, ECDHE-ECDSA, P-256)", fig["peak"], "B"),
            ("  its largest single block (receive record buffer)", fig["largest"], "B"),
            ("  allocation requests during the connection", fig["count"], ""),
            ("GC heap: client context with the pinned CA (64-bit unix port)", ctx, "B"),
            ("GC heap kept after the poll, context included", after, "B")]
    rows += _counter_at_ready()
    rows += _managed_at_ready()
    return rows


def _managed_at_ready():
    """The enrolled counter (ManagedTerminal, the demos' terminal) at Ready after its agent has
    polled a few times: plain HTTP, HTTPS as the simulator runs it (mbedTLS in the C library),
    and HTTPS on the faithful heap (mbedTLS from the GC heap, as on a board: tls_heap=True)."""
    import time
    from host_sim.fleet import ManagedTerminal
    rows = []
    for label, kw in (("http", {"tls": False}), ("https, sim (mbedTLS off the heap)", {"tls": True}),
                      ("https, board's way (mbedTLS on the GC heap)", {"tls": True, "tls_heap": True})):
        with ManagedTerminal(poll_s=2, **kw) as mt:
            mt.board.wait_for("tms agent idle", 60)
            time.sleep(8)                                       # a few polls at 2 s
            console = mt.board.console()
            info = mt.board.exec("import gc, micropython; gc.collect(); micropython.mem_info()")
            probe = mt.board.tls_probe.figures() if mt.board.tls_probe else None
        free = int(re.search(r"free: (\d+)", info).group(1))
        largest = int(re.search(r"max free sz: (\d+)", info).group(1)) * 32
        rows += [("enrolled counter at Ready, %s: heap free" % label, free, "B"),
                 ("  largest free block", largest, "B"),
                 ("  polls that failed (of the first few)", console.count("ddi poll failed"), "")]
        if probe is not None:
            rows.append(("  mbedTLS requests the GC heap refused", probe["failed"], ""))
    return rows


def _counter_at_ready():
    """Free heap and largest free block at Ready on the whole counter (frozen, product heap)."""
    from host_sim.board import VirtualBoard
    from host_sim.rig import PRODUCT_HEAP, provision
    with VirtualBoard(heap=PRODUCT_HEAP, firmware="frozen", provision=lambda d: provision(d, {}), pty=False) as vb:
        vb.wait_for("heap_free=", 60)
        info = vb.exec("import gc, micropython; gc.collect(); micropython.mem_info()")
    free = int(re.search(r"free: (\d+)", info).group(1))
    blocks = int(re.search(r"max free sz: (\d+)", info).group(1))
    return [("counter at Ready (%s frozen): heap free" % PRODUCT_HEAP, free, "B"),
            ("  largest free block (GC blocks of 32 B on this port)", blocks * 32, "B")]


BENCHES = {"tls-heap": tls_heap}
