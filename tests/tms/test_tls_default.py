"""TLS to the cloud by default (docs/tms.md, "TLS to the cloud"): the managed terminal talks
HTTPS with the TEST CA pinned unless told otherwise, and a sale right after a poll over TLS
goes through; and the virtual board's faithful TLS heap (host_sim/tls_probe, tls_heap=True),
where mbedTLS's blocks come from the GC heap as on a board."""
import os
import shutil
import tempfile
import time

import pytest

from host_sim import fleet
from host_sim.rig import Rig

PASSWORD = "tls-default-pass-1"

_ONE_POLL = """
import asyncio
from pos.net.tls import PinnedCA
from pos.tms.ddi import DdiClient
client = DdiClient(%r, "default", "TLS-1", %r, ssl_context=PinnedCA())
async def main():
    try:
        p = await client.poll()
        print("POLLED", p.sleep_s)
    except Exception as e:
        print("FAILED", e)
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def tls_cloud():
    from cloud import tls as cloud_tls
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tempfile.mkdtemp(prefix="smartpos-tlsdefault-")
    srv = CloudServer(Settings(data_dir=os.path.join(tmp, "cloud"), port=0, ddi_poll_s=2,
                               bootstrap_admin_password=PASSWORD,
                               tls_cert=cloud_tls.TEST_SERVER_CERT, tls_key=cloud_tls.TEST_SERVER_KEY)).start()
    try:
        yield srv, tmp
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _poll_on(tls_cloud, heap, on_heap):
    """One DDI poll over TLS on MicroPython at `heap`; (stdout, probe figures)."""
    from cloud import tls as cloud_tls
    from host_sim import mpy
    from host_sim.tls_probe import TlsProbe
    srv, tmp = tls_cloud
    code = fleet.register(srv.url, PASSWORD, serial="TLS-1")["activation_code"]
    token = fleet._call(srv.url, "POST", "/api/v1/enroll", {"activation_code": code, "serial": "TLS-1"})["target_token"]
    flash = tempfile.mkdtemp(dir=tmp)
    os.makedirs(os.path.join(flash, "config"))
    shutil.copy(cloud_tls.TEST_CA_DER, os.path.join(flash, "config", "cloud_ca.der"))
    probe = TlsProbe(on_heap=on_heap)
    try:
        probe.reset()
        out = mpy.run(_ONE_POLL % (srv.url, token), heap=heap, cwd=flash, env=probe.env())
        return out, probe.figures()
    finally:
        probe.close()


def test_mbedtls_on_the_gc_heap_needs_the_record_buffer_in_one_piece(tls_cloud):
    """At 192K both ways poll; at 96K the C library's mbedTLS still polls, while the board's way
    (mbedTLS's requests from the GC heap) finds no 16.7 KB block and the poll fails."""
    out, fig = _poll_on(tls_cloud, "192K", on_heap=True)
    assert "POLLED" in out, out
    assert fig["largest"] == 16717 and fig["failed"] == 0 and fig["count"] > 1000
    out, fig = _poll_on(tls_cloud, "96K", on_heap=False)
    assert "POLLED" in out, out
    out, fig = _poll_on(tls_cloud, "96K", on_heap=True)
    assert "FAILED" in out and "ENOMEM" in out, out
    assert fig["failed"] >= 1


def test_managed_terminal_talks_https_by_default():
    """ManagedTerminal (the demos' terminal) is on HTTPS unless told otherwise; plain HTTP is the
    explicit debugging option."""
    assert fleet.ManagedTerminal().tls is True
    assert fleet.ManagedTerminal(tls=False).tls is False


def test_sale_right_after_a_poll_over_tls(tls_cloud):
    """The counter enrolled in the HTTPS cloud, its TEST CA pinned: once the agent has polled over
    TLS, a card sale is approved at the acquirer."""
    srv, _ = tls_cloud

    def enroll(rig):
        fleet.enroll(srv.url, PASSWORD, rig.flash_dir, serial="TLS-SALE")
    with Rig(before_boot=enroll) as rig:
        tok = fleet._call(srv.url, "POST", "/api/v1/auth/login", {"username": "admin", "password": PASSWORD})["token"]
        deadline = time.monotonic() + 60
        row = fleet._call(srv.url, "GET", "/api/v1/terminals?q=TLS-SALE", token=tok)[0]
        while row["last_seen_at"] is None and time.monotonic() < deadline:
            time.sleep(0.5)
            row = fleet._call(srv.url, "GET", "/api/v1/terminals?q=TLS-SALE", token=tok)[0]
        assert row["last_seen_at"] is not None, rig.board.console()[-2000:]
        assert "ddi poll failed" not in rig.board.console()
        text = rig.sale_by_card(1250, "visa-credit", pin="1234")
        assert "APPROVED" in text, text
