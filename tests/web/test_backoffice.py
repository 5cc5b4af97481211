"""The merchant back office in headless Chromium (Debian's chromium, driven by Playwright): a
merchant owner signs in, and every figure the page shows is compared with SQL over the cloud's
database; the sales were uploaded through the real device endpoint.  The screenshot goes to
docs/img/dashboard.png (docs/back-office.md) with SMARTPOS_DOCS_SCREENSHOTS=1.  Waits are on what the page shows; nothing sleeps."""
import datetime
import json
import os
import shutil
import sys
import tempfile
import urllib.request

import pytest
from sqlalchemy import text

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cloud"))
from sales_fixtures import sale  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")
PASSWORD = "backoffice-test-1"
WAIT_MS = 90000
# the docs' picture is retaken with SMARTPOS_DOCS_SCREENSHOTS=1; otherwise the run leaves the tree as it was
DOCS_SHOT = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "img", "dashboard.png")


def _call(base, method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _trading(base):
    """A merchant with an owner, a till, and a week of uploads (and one the week before)."""
    admin = {"Authorization": "Bearer " + _call(base, "POST", "/api/v1/auth/login",
                                                {"username": "admin", "password": PASSWORD})["token"]}
    m = _call(base, "POST", "/api/v1/merchants", {"name": "Corner Cafe", "mid": "MID000000000CC"}, admin)
    s = _call(base, "POST", "/api/v1/stores", {"merchant_id": m["id"], "name": "High Street"}, admin)
    _call(base, "POST", "/api/v1/accounts", {"username": "owner", "role": "merchant_owner", "merchant_id": m["id"],
                                             "password": PASSWORD}, admin)
    reg = _call(base, "POST", "/api/v1/terminals", {"serial": "till-1", "controller_id": "till-1",
                                                    "store_id": s["id"]}, admin)
    ident = _call(base, "POST", "/api/v1/enroll", {"activation_code": reg["activation_code"], "serial": "till-1"})
    dev = {"Authorization": "TargetToken " + ident["target_token"]}
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    midnight = now.replace(hour=0, minute=0)
    times = [(max(midnight, now - datetime.timedelta(minutes=25 * k)), {}) for k in (1, 2, 3, 9)]
    times += [(midnight - datetime.timedelta(days=1) + datetime.timedelta(hours=h), {"tenders": [
        {"type": "cash", "amount": 1540}]}) for h in (10, 13)]
    times += [(midnight - datetime.timedelta(days=3) + datetime.timedelta(hours=9), {
        "member_id": "M7", "tip": 100, "tenders": [{"type": "gift_card", "amount": 1640}]})]
    times += [(midnight - datetime.timedelta(days=7) + datetime.timedelta(hours=h), {"tenders": [
        {"type": "wallet", "amount": 1540, "wallet": {"name": "PayQR"}}]}) for h in (9, 12)]
    for invoice, (t, kw) in enumerate(times, 1):
        _call(base, "POST", "/default/controller/v1/till-1/sales",
              sale(invoice, terminal_time=t.isoformat(), cashier="ANNA" if t.hour < 12 else "BEN", **kw), dev)
    return m


@pytest.fixture
def cloud():
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tempfile.mkdtemp(prefix="smartpos-backoffice-")
    srv = CloudServer(Settings(data_dir=tmp, port=0, bootstrap_admin_password=PASSWORD)).start()
    yield srv
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def test_the_dashboard_shows_what_the_database_holds(cloud, tmp_path):
    from playwright.sync_api import sync_playwright
    m = _trading(cloud.url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(cloud.url + "/backoffice")
        page.fill("#username", "owner")
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("body[data-ready]", timeout=WAIT_MS)
        assert page.text_content("#error") == ""
        period = page.get_attribute("body", "data-ready").split("..")
        shown = {k: int(page.get_attribute('[data-figure="%s"] .value' % k, "data-minor"))
                 for k in ("net_sales", "refunds", "discounts", "tips", "tax", "transactions", "average_ticket")}
        hours = {int(r.get_attribute("data-hour")): int(r.get_attribute("data-minor"))
                 for r in page.query_selector_all("#hours-chart rect")}
        mix = {r.get_attribute("data-method"): int(r.get_attribute("data-minor"))
               for r in page.query_selector_all("#mix-chart rect")}
        shot = DOCS_SHOT if os.environ.get("SMARTPOS_DOCS_SCREENSHOTS") == "1" else str(tmp_path / "dashboard.png")
        page.screenshot(path=shot, full_page=True)
        with open(shot, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        with page.expect_download(timeout=WAIT_MS) as dl:
            page.click("#pdf")
        with open(dl.value.path(), "rb") as f:
            assert f.read(5) == b"%PDF-"
        # drill down: the last day's first transaction and its receipt
        page.click("#transactions a[data-receipt]")
        page.wait_for_function("document.querySelector('#receipt').textContent.length > 0", timeout=WAIT_MS)
        assert "15.40" in page.text_content("#receipt")
        browser.close()
    engine = cloud.app.state.engine
    with engine.connect() as c:
        args = {"m": m["id"], "a": period[0], "b": period[1]}
        net, n, tips = c.execute(text(
            "SELECT SUM(CASE WHEN kind = 'refund' THEN -total ELSE total END), COUNT(*), SUM(tip) FROM sales "
            "WHERE merchant_id = :m AND business_day BETWEEN :a AND :b"), args).one()
        tax = c.execute(text(
            "SELECT -SUM(p.amount) FROM postings p JOIN journal_entries j ON j.id = p.entry_id JOIN sales s "
            "ON s.id = j.sale_id WHERE s.merchant_id = :m AND s.business_day BETWEEN :a AND :b AND "
            "p.account LIKE 'Liabilities:TaxPayable%'"), args).scalar()
        by_hour = dict(c.execute(text(
            "SELECT CAST(strftime('%H', terminal_time) AS INTEGER), SUM(total) FROM sales WHERE merchant_id = :m "
            "AND business_day = :b GROUP BY 1"), args).all())
        assert mix["cash"] == c.execute(text(
            "SELECT COALESCE(SUM(total), 0) FROM sales WHERE merchant_id = :m AND business_day BETWEEN :a AND :b "
            "AND body LIKE '%\"type\":\"cash\"%'"), args).scalar()
    assert shown["net_sales"] == net > 0
    assert shown["transactions"] == n and shown["refunds"] == 0
    assert shown["tips"] == tips and shown["tax"] == tax
    assert shown["average_ticket"] == net // n
    assert {h: v for h, v in hours.items() if v} == by_hour
    assert "qr:payqr" not in mix          # the wallet sales were the week before
