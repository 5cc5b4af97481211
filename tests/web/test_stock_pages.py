"""The back office's catalog and stock pages (/backoffice/stock) in headless Chromium (Debian's
chromium, driven by Playwright): a merchant owner imports a price list (a wrong one first: its
problems shown, nothing imported), adjusts stock, orders and receives, runs a stock take and
reads the low-stock list; each page's figures are compared with the API's.  Waits are on what
the page shows; nothing sleeps."""
import json
import os
import shutil
import tempfile
import urllib.request

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")
PASSWORD = "stock-pages-test-1"
WAIT_MS = 90000
GOOD = ("sku,barcode,name,name_zh,price,tax,unit,category,plu,reorder_level\n"
        "COF,4006381333931,Coffee,咖啡,3.50,1,piece,Drinks,1,5\n"
        "SAN,96385074,Sandwich,三明治,8.40,2,piece,Food,0,2\n"
        "APL,2312345000002,Apples,苹果,2.99,1,kg,Fruit,2,3\n")
BAD = "sku,barcode,name,price\nCOF,4006381333931,Coffee,3.50\nTEA,4006381333932,Tea,1.00\n"


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
    tmp = tempfile.mkdtemp(prefix="smartpos-stock-pages-")
    srv = CloudServer(Settings(data_dir=tmp, port=0, bootstrap_admin_password=PASSWORD)).start()
    admin = {"Authorization": "Bearer " + _call(srv.url, "POST", "/api/v1/auth/login",
                                                {"username": "admin", "password": PASSWORD})["token"]}
    m = _call(srv.url, "POST", "/api/v1/merchants", {"name": "Corner Shop", "mid": "MID000000000007"}, admin)
    s = _call(srv.url, "POST", "/api/v1/stores", {"merchant_id": m["id"], "name": "Main"}, admin)
    _call(srv.url, "POST", "/api/v1/accounts", {"username": "owner", "role": "merchant_owner", "merchant_id": m["id"],
                                                "password": PASSWORD}, admin)
    yield srv, m, s, admin
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def _ready(page, name):
    page.wait_for_selector('body[data-ready="%s"]' % name, timeout=WAIT_MS)


def _go(page, name):
    page.click('nav a[href="#%s"]' % name)
    _ready(page, name)


def test_every_stock_page_shows_what_the_api_holds(cloud, tmp_path):
    from playwright.sync_api import sync_playwright
    srv, m, s, admin = cloud
    (tmp_path / "bad.csv").write_text(BAD)
    (tmp_path / "good.csv").write_text(GOOD)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(srv.url + "/backoffice/stock")
        page.fill("#username", "owner")
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        _ready(page, "items")
        # items: a wrong list shows its problems and imports nothing; the right one imports
        page.set_input_files("#import-file", str(tmp_path / "bad.csv"))
        page.click("#import-form button[type=submit]")
        page.wait_for_selector("#import-problems:not([hidden])", timeout=WAIT_MS)
        _ready(page, "items")
        assert "check digit wrong" in page.text_content("#import-problems tbody")
        assert page.text_content("#import-problems tbody td") == "3"
        assert page.query_selector_all("#items tbody tr") == []
        page.set_input_files("#import-file", str(tmp_path / "good.csv"))
        page.click("#import-form button[type=submit]")
        page.wait_for_selector('#items tr[data-sku="APL"]', timeout=WAIT_MS)
        assert "imported: 3 new" in page.text_content("#notice")
        assert page.text_content("#version") == "catalog version 1, 3 items"
        cells = [c.text_content() for c in page.query_selector_all('#items tr[data-sku="COF"] td')]
        assert cells[:5] == ["COF", "4006381333931", "Coffee", "咖啡", "350"]
        assert [c.text_content() for c in page.query_selector_all("#categories tbody td")][:3] == ["1", "Drinks", ""]
        # stock: an adjustment
        _go(page, "stock")
        page.fill("#adjust-sku", "COF")
        page.fill("#adjust-qty", "10")
        page.fill("#adjust-note", "opening stock")
        page.click("#adjust-form button[type=submit]")
        page.wait_for_selector('#levels tr[data-sku="COF"][data-on-hand="10"]', timeout=WAIT_MS)
        assert "adjustment" in page.text_content("#movements tbody")
        # purchase orders: order, then receive the rest
        _go(page, "orders")
        page.fill("#order-supplier", "Bakery")
        page.fill("#order-lines", "SAN x 4")
        page.click("#order-form button[type=submit]")
        page.wait_for_selector('#orders tr[data-state="open"] button[data-receive]', timeout=WAIT_MS)
        page.click("#orders button[data-receive]")
        page.wait_for_selector('#orders tr[data-state="received"]', timeout=WAIT_MS)
        assert "SAN 4/4" in page.text_content("#orders tbody")
        # stock take: seven coffees counted by barcode against ten on hand
        _go(page, "takes")
        page.click("#take-open")
        page.wait_for_selector("#count-form:not([hidden])", timeout=WAIT_MS)
        page.fill("#count-code", "4006381333931")
        page.fill("#count-qty", "7")
        page.click("#count-form button[type=submit]")
        page.wait_for_selector('#take-lines tr[data-sku="COF"]', timeout=WAIT_MS)
        page.click("#take-close")
        page.wait_for_selector('#take-lines tr[data-sku="COF"][data-variance="-3"]', timeout=WAIT_MS)
        # low stock: APL never stocked (reorder at 3); SAN falls to 1 (reorder at 2) and raises an alert
        _call(srv.url, "POST", "/api/v1/stores/%d/stock/adjustments" % s["id"],
              {"sku": "SAN", "qty": -3, "note": "spoiled"}, admin)
        _go(page, "low")
        assert [r.get_attribute("data-sku") for r in page.query_selector_all("#low tbody tr")] == ["APL", "SAN"]
        assert page.text_content("#alerts tbody td") == "SAN"
        page.screenshot(path=str(tmp_path / "stock.png"), full_page=True)
        browser.close()
    levels = {r["sku"]: r["on_hand"] for r in _call(srv.url, "GET", "/api/v1/stores/%d/stock" % s["id"], None, admin)}
    assert levels == {"COF": 7, "SAN": 1, "APL": 0}
    take = _call(srv.url, "GET", "/api/v1/stores/%d/stock-takes" % s["id"], None, admin)[0]
    assert (take["state"], take["lines"][0]["variance"]) == ("closed", -3)
