"""The back office's marketing page (/backoffice/marketing) in headless Chromium (Debian's
chromium, driven by Playwright): a merchant owner creates a campaign with a picture for one
store and sees it listed as the API holds it (its converted picture included); a file that is
not a picture is refused with the service's reason.  Waits are on what the page shows."""
import io
import json
import os
import shutil
import tempfile
import urllib.request

import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")
PASSWORD = "marketing-page-test-1"
WAIT_MS = 90000


def _call(base, method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


@pytest.fixture
def cloud():
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tempfile.mkdtemp(prefix="smartpos-marketing-page-")
    srv = CloudServer(Settings(data_dir=tmp, port=0, bootstrap_admin_password=PASSWORD)).start()
    admin = {"Authorization": "Bearer " + _call(srv.url, "POST", "/api/v1/auth/login",
                                                {"username": "admin", "password": PASSWORD})["token"]}
    m = _call(srv.url, "POST", "/api/v1/merchants", {"name": "Corner Shop", "mid": "MID000000000007"}, admin)
    s = _call(srv.url, "POST", "/api/v1/stores", {"merchant_id": m["id"], "name": "Main"}, admin)
    _call(srv.url, "POST", "/api/v1/stores", {"merchant_id": m["id"], "name": "Airport"}, admin)
    _call(srv.url, "POST", "/api/v1/accounts", {"username": "owner", "role": "merchant_owner", "merchant_id": m["id"],
                                                "password": PASSWORD}, admin)
    yield srv, m, s, admin
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def test_an_owner_creates_a_campaign_with_a_picture_and_a_non_picture_is_refused(cloud, tmp_path):
    from playwright.sync_api import sync_playwright
    srv, m, s, admin = cloud
    img = Image.new("RGB", (300, 120), (255, 255, 255))
    img.paste((0, 0, 0), (0, 0, 150, 120))
    img.save(tmp_path / "ad.png")
    (tmp_path / "notes.png").write_bytes(b"these are notes, not a picture")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(srv.url + "/backoffice/marketing")
        page.fill("#username", "owner")
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector('body[data-ready="campaigns"]', timeout=WAIT_MS)
        page.fill("#c-name", "Autumn")
        page.fill("#c-lines", "AUTUMN SALE 20% OFF\nALL COATS")
        page.fill("#c-start", "2026-11-01T00:00")
        page.fill("#c-end", "2026-12-01T00:00")
        page.fill("#c-hfrom", "8")
        page.fill("#c-hto", "20")
        page.select_option("#c-stores", [str(s["id"])])
        page.set_input_files("#c-image", str(tmp_path / "ad.png"))
        page.click("#campaign-form button[type=submit]")
        page.wait_for_selector("#campaigns tr[data-campaign] img.picture", timeout=WAIT_MS)
        assert "created" in page.text_content("#notice")
        cells = [c.text_content() for c in page.query_selector_all("#campaigns tr[data-campaign] td")]
        assert cells[:6] == ["Autumn", "AUTUMN SALE 20% OFF / ALL COATS", "2026-11-01T00:00", "2026-12-01T00:00",
                             "8-20", "Main"]
        assert cells[7] == "active"
        shot = Image.open(io.BytesIO(page.query_selector("#campaigns img.picture").screenshot()))
        assert shot.size[0] >= 240
        api = _call(srv.url, "GET", "/api/v1/merchants/%d/campaigns" % m["id"], headers=admin)
        assert [(c["name"], c["store_ids"], c["image"]) for c in api] == [("Autumn", [s["id"]], True)]
        # a file that is not a picture: the campaign is made, its picture refused with the reason
        page.fill("#c-name", "Notes")
        page.fill("#c-lines", "READ OUR NOTES")
        page.select_option("#c-stores", [])
        page.set_input_files("#c-image", str(tmp_path / "notes.png"))
        page.click("#campaign-form button[type=submit]")
        page.wait_for_selector("#error:has-text('not a PNG or JPEG')", timeout=WAIT_MS)
        assert "without its picture" in page.text_content("#error")
        browser.close()
