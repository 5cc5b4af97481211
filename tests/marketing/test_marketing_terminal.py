"""In-store marketing on the terminal (docs/marketing.md): the cloud's marketing feed over HTTP
to pos.marketing.refresh on real MicroPython, refused files (cut short, damaged, inconsistent)
that leave the campaigns in use as they were, the schedule (dates and hours of the day), and on
the virtual board the Ready screen showing a pushed campaign's line and picture."""
import io
import struct
import zlib

import pytest
from PIL import Image

from host_sim.mpy import run
from host_sim.rig import PRODUCT_HEAP, Rig

LINE = "AUTUMN SALE 20% OFF"


def _png():
    """White, its left half black: ink on the left of the display's band, paper on the right."""
    img = Image.new("RGB", (480, 192), (255, 255, 255))
    img.paste((0, 0, 0), (0, 0, 240, 192))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tmp_path_factory.mktemp("marketing")
    srv = CloudServer(Settings(data_dir=str(tmp / "cloud"), port=0,
                               bootstrap_admin_password="admin-password-1")).start()
    from fastapi.testclient import TestClient
    api = TestClient(srv.app)
    tok = api.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-password-1"}).json()["token"]
    admin = {"Authorization": "Bearer " + tok}
    m = api.post("/api/v1/merchants", json={"name": "Grocer", "mid": "MID000000000001"}, headers=admin).json()
    s = api.post("/api/v1/stores", json={"merchant_id": m["id"], "name": "Main"}, headers=admin).json()
    reg = api.post("/api/v1/terminals", json={"serial": "T-1", "controller_id": "T-1", "store_id": s["id"]},
                   headers=admin).json()
    ident = api.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "T-1"}).json()
    c = api.post("/api/v1/merchants/%d/campaigns" % m["id"], headers=admin, json={
        "name": "Autumn", "lines": [LINE], "starts_at": "2000-01-01T00:00", "ends_at": "2099-01-01T00:00",
        "store_ids": [s["id"]]}).json()
    assert api.put("/api/v1/campaigns/%d/image" % c["id"], content=_png(), headers=admin).status_code == 200
    yield {"srv": srv, "api": api, "token": ident["target_token"],
           "dev": {"Authorization": "TargetToken " + ident["target_token"]}}
    srv.stop()


def _refresh(c, flash):
    base = "%s/default/controller/v1/T-1" % c["srv"].url
    return run("import asyncio\nfrom pos.marketing import refresh\n"
               "print(asyncio.run(refresh.refresh(%r, {'Authorization': 'TargetToken %s'})))\n"
               % (base, c["token"]), heap=PRODUCT_HEAP, cwd=str(flash)).strip().splitlines()[-1]


def _feed(c):
    return c["api"].get("/default/controller/v1/T-1/marketing", headers=c["dev"]).content


def _install(flash, data):
    (flash / "marketing.part").write_bytes(data)
    return run("from pos.marketing import idle, MarketingError\n"
               "try:\n"
               "    print(idle.install('marketing.part'))\n"
               "except MarketingError as e:\n"
               "    print('refused', e)\n", heap=PRODUCT_HEAP, cwd=str(flash)).strip()


def test_the_feed_reaches_flash_once_and_bad_files_leave_the_campaigns_in_use(cloud, tmp_path):
    assert _refresh(cloud, tmp_path) == "True"
    data = _feed(cloud)
    assert (tmp_path / "marketing.bin").read_bytes() == data
    assert _refresh(cloud, tmp_path) == "False"                  # 204: the file in use is the newest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marketing.bin"]
    body = bytearray(data)
    body[-1] ^= 1
    crc_bad = bytes(body)
    empty = struct.pack(">4sHHII", b"SPMK", 1, 0, 0, 0)
    bad_count = bytearray(data)
    struct.pack_into(">H", bad_count, 6, 2)
    for bad, why in ((data[:-100], "cut short or padded"), (crc_bad, "damaged"), (b"GIF89a" + data[6:], "not a "),
                     (bytes(bad_count), "campaign 1 malformed"), (data[:16] + b"x" * (len(data) - 16), "malformed")):
        out = _install(tmp_path, bad)
        assert out.startswith("refused") and why in out, (why, out)
        assert (tmp_path / "marketing.bin").read_bytes() == data          # the old campaigns stay
        assert not (tmp_path / "marketing.part").exists()
    assert _install(tmp_path, empty) == "0"


def test_the_schedule_picks_campaigns_by_date_and_hour(tmp_path):
    from cloud.marketing import feed
    from cloud.marketing.models import Campaign
    from datetime import datetime
    day = Campaign(lines='["DAY LINE"]', starts_at=datetime(2026, 11, 1), ends_at=datetime(2026, 12, 1),
                   hour_from=9, hour_to=18, image=b"\xaa" * 2880)
    late = Campaign(lines='["LATE ONE", "SECOND"]', starts_at=datetime(2026, 11, 28, 12, 30),
                    ends_at=datetime(2027, 1, 1), hour_from=0, hour_to=24, image=b"\x55" * 2880)
    (tmp_path / "marketing.bin").write_bytes(feed.build([day, late]))
    out = run("from pos.marketing import idle\n"
              "for t in ((2026,11,28,8,59), (2026,11,28,9,0), (2026,11,28,12,30), (2026,12,1,0,0)):\n"
              "    print(idle.showing(t + (0, 0, 0)))\n", heap=PRODUCT_HEAP, cwd=str(tmp_path)).splitlines()
    assert out == ["([], None)", "(['DAY LINE'], 272)", "(['DAY LINE', 'LATE ONE', 'SECOND'], 272)",
                   "(['LATE ONE', 'SECOND'], %d)" % (16 + 256 + 2880)]


def test_ready_screen_shows_the_pushed_campaign_line_and_picture(cloud):
    def deliver(rig):                   # the cloud's feed to the board's flash, by the firmware's refresh
        assert _refresh(cloud, rig.flash_dir) == "True"
    with Rig(before_boot=deliver) as rig:
        rig.wait_text(LINE, timeout=60)
        rig.board.bridge.settle()
        img = rig.display.image()
        ink, paper = img.getpixel((120, 2)), img.getpixel((120, 320 - 30))   # title bar, under the footer line
        assert ink != paper
        for y in (200, 248, 295):       # the picture's band: ink on the left half, paper on the right
            assert img.getpixel((5, y)) == ink and img.getpixel((115, y)) == ink, y
            assert img.getpixel((125, y)) == paper and img.getpixel((235, y)) == paper, y
        assert img.getpixel((5, 198)) == paper and img.getpixel((5, 297)) == paper


def test_the_picture_goes_from_flash_into_the_framebuffer_without_a_picture_sized_block(tmp_path):
    from cloud.marketing import feed
    from cloud.marketing.models import Campaign
    from datetime import datetime
    c = Campaign(lines='["X"]', starts_at=datetime(2000, 1, 1), ends_at=datetime(2099, 1, 1), hour_from=0,
                 hour_to=24, image=bytes(range(256)) * 11 + bytes(64))
    (tmp_path / "marketing.bin").write_bytes(feed.build([c]))
    out = run("import gc, framebuf\nfrom pos.marketing import idle\n"
              "class D:\n"
              "    def __init__(self):\n"
              "        self.buf = bytearray(9600)\n"
              "        self.fb = framebuf.FrameBuffer(self.buf, 240, 320, framebuf.MONO_HLSB)\n"
              "    def mark_dirty(self, y0, y1):\n"
              "        pass\n"
              "class C:\n"
              "    def __init__(self, d):\n"
              "        self.d, self.fb = d, d.fb\n"
              "cv = C(D())\n"
              "lines, at = idle.showing((2026, 11, 28, 12, 0, 0, 0, 0))\n"
              "gc.collect()\n"
              "before = gc.mem_alloc()\n"
              "idle.draw_picture(cv, at)\n"
              "grew = gc.mem_alloc() - before\n"
              "print(grew, at, bytes(cv.d.buf[6000:6004]).hex(), bytes(cv.d.buf[8878:8880]).hex(), cv.d.buf[5999])\n",
              heap=PRODUCT_HEAP, cwd=str(tmp_path)).split()
    grew, at, first, last, above = out
    assert at == str(16 + 128) and first == "00010203" and last == "0000" and above == "0"
    assert int(grew) < 1024, grew       # a file object and a view: nothing near the picture's 2,880 bytes


def test_a_campaign_made_in_the_cloud_reaches_the_ready_screen_of_an_enrolled_terminal_before_its_first_sale():
    """The whole path: the back office's API, the feed, the pull at Ready from boot (no sale
    needed), the redraw; Ready's free heap after the pull is the heap it idled with before."""
    import json as _json
    import os
    import re
    from host_sim.salesync import SyncCounter

    class Counter(SyncCounter):
        def _enroll(self, flash_dir, broker, terminal_url):
            super()._enroll(flash_dir, broker, terminal_url)
            p = os.path.join(flash_dir, "config", "cloud.json")
            with open(p) as f:
                cfg = _json.load(f)
            cfg["marketing_poll_s"] = 1                 # every second, not every five minutes
            with open(p, "w") as f:
                _json.dump(cfg, f)

    with Counter(log=None) as sc:
        sc.rig.home()
        sc.rig.wait_text("READY")
        m = sc.api("POST", "/api/v1/merchants", {"name": "Corner", "mid": "MID000000000042"})
        s = sc.api("POST", "/api/v1/stores", {"merchant_id": m["id"], "name": "Main"})
        tid = [t for t in sc.api("GET", "/api/v1/terminals") if t["controller_id"] == sc.identity["controller_id"]]
        sc.api("PATCH", "/api/v1/terminals/%d" % tid[0]["id"], {"store_id": s["id"]})
        sc.api("POST", "/api/v1/merchants/%d/campaigns" % m["id"], {
            "name": "Tea", "lines": ["GREEN TEA 2 FOR 1"], "starts_at": "2000-01-01T00:00",
            "ends_at": "2099-01-01T00:00", "store_ids": [s["id"]]})
        text = sc.rig.wait_text("GREEN TEA 2 FOR 1", timeout=60)
        assert "READY" in text
        assert not sc.cloud_sales() and "sync answer" not in sc.board.console()     # no sale was made
        # Ready's free heap (a menu and back) after the pulls, against the heap it ran with at boot
        mark = sc.board.mark()
        sc.rig.keys(["MENU"])
        sc.rig.wait_text("1 Sale")
        sc.rig.keys(["CANCEL"])
        sc.board.wait_for("app idle heap_free=", 30, mark)
        console = sc.board.console()
        running = int(re.findall(r"app running heap_free=(\d+)", console)[0])
        idle = int(re.findall(r"app idle heap_free=(\d+)", console[mark:])[-1])
        assert idle >= running - 512, (idle, running)
