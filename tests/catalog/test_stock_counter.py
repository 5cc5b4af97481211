"""Stock at the counter on the whole terminal (frozen firmware, product heap, enrolled in a running
cloud through a relay): the catalog pulled on a schedule at Ready (never under a sale, caught
up after the link was down), goods received against a purchase order by scanning and keying
with expected vs counted shown, a stock take with its variance against the book stock, each
posted once although the first answer was lost (docs/stock.md)."""
import json
import os
import re
import time
import urllib.request

import pytest

from host_sim import catalog
from host_sim.salesync import SyncCounter

PRICE_LIST = ("sku,barcode,name,price,unit\n"
              "COF,4006381333931,Coffee,3.50,piece\n"
              "SAN,96385074,Sandwich,8.40,piece\n"
              "APL,2312345000002,Apples,2.99,kg\n")
COFFEE, SANDWICH, APPLES = "4006381333931", "96385074", "2312345012340"     # apples: 1.234 kg


class Counter(SyncCounter):
    def _enroll(self, flash_dir, broker, terminal_url):
        super()._enroll(flash_dir, broker, terminal_url)
        catalog.write(os.path.join(flash_dir, "catalog.bin"), [], version=0)    # none from the cloud yet
        p = os.path.join(flash_dir, "config", "terminal.json")
        with open(p) as f:
            params = json.load(f)
        params["catalog_refresh_s"] = 2                 # every 2 s, not every 15 minutes
        with open(p, "w") as f:
            json.dump(params, f)


@pytest.fixture(scope="module")
def sc():
    with Counter(log=None) as c:
        c.rig.home()
        m = c.api("POST", "/api/v1/merchants", {"name": "Grocer", "mid": "MID000000000015"})
        s = c.api("POST", "/api/v1/stores", {"merchant_id": m["id"], "name": "Main"})
        tid = [t for t in c.api("GET", "/api/v1/terminals") if t["controller_id"] == c.identity["controller_id"]]
        c.api("PATCH", "/api/v1/terminals/%d" % tid[0]["id"], {"store_id": s["id"]})
        c.merchant, c.store = m["id"], s["id"]
        _csv(c, PRICE_LIST)
        yield c


def _csv(c, text):
    req = urllib.request.Request(c.cloud.url + "/api/v1/merchants/%d/catalog/import" % c.merchant,
                                 data=text.encode(), method="POST",
                                 headers={"Authorization": "Bearer " + c._token, "Content-Type": "text/csv"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


def _levels(c):
    return {r["sku"]: r["on_hand"] for r in c.api("GET", "/api/v1/stores/%d/stock" % c.store)}


def _catalog_line(c, since, version, timeout=60):
    """Wait for the pull's catalog line of `version` logged after console offset `since`."""
    c.board.wait_for("pull catalog kind=", timeout, since)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = re.findall(r"pull catalog kind=(\w+) version=(\d+)", c.board.console()[since:])
        if found and int(found[-1][1]) == version:
            return found[-1][0]
        time.sleep(0.2)
    raise AssertionError("catalog version %d never pulled: %r" % (version, found))


def _snapshot(c):
    """The cloud's whole catalog as the device API gives it."""
    req = urllib.request.Request(c.cloud.url + "/%s/controller/v1/%s/catalog?since=0" % (
        c.identity["tenant"], c.identity["controller_id"]),
        headers={"Authorization": "TargetToken " + c.identity["target_token"]})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def _flash_catalog(c):
    with open(os.path.join(c.board.flash_dir, "catalog.bin"), "rb") as f:
        return f.read()


def _scan(c, code, shows):
    c.rig.board.devices["scanner"].scan(code)
    return c.rig.wait_text(shows)


def _stock_menu(c):
    rig = c.rig
    rig.home()
    rig.keys(["MENU"])
    rig.wait_text("1 Sale")
    rig.keys(["UP", "UP"])                      # above the last line (Apps): Stock
    rig.wait_text("11 Stock")
    rig.keys(["ENTER"])
    rig.wait_text("PIN")
    rig.keys(list("1111") + ["ENTER"])          # a cashier may receive and count
    return rig.wait_text("1 Receive goods")


def test_catalog_pulled_at_ready_on_schedule_never_under_a_sale_and_caught_up_after_the_link_was_down(sc):
    assert _catalog_line(sc, 0, 1) == "snapshot"
    assert _flash_catalog(sc) == _snapshot(sc)
    # a sale is open: a change in the cloud waits until the counter is back at Ready
    sc.rig.home()
    sc.rig.keys(["F2"])
    sc.rig.wait_text("BASKET 0")
    mark = sc.board.mark()
    _csv(sc, "sku,barcode,name,price\nCOF,4006381333931,Coffee,3.60\n")
    sc.board.wait_for("pull waits why=counter in use", 60, mark)     # a round came due under the sale
    assert "pull catalog" not in sc.board.console()[mark:]
    sc.rig.keys(["CANCEL"])
    assert _catalog_line(sc, mark, 2) == "delta"
    # the link down: the pulls fail, the catalog in use stays; back up, the terminal catches up
    sc.relay.down_for(4)
    mark = sc.board.mark()
    _csv(sc, "sku,barcode,name,price\nSAN,96385074,Sandwich,8.50\n")
    sc.board.wait_for("pull catalog kept", 60, mark)
    assert _catalog_line(sc, mark, 3) == "delta"
    assert _flash_catalog(sc) == _snapshot(sc)


def test_goods_received_against_an_order_by_scanning_and_keying_posted_once(sc):
    po = sc.api("POST", "/api/v1/stores/%d/purchase-orders" % sc.store, {
        "supplier": "ACME", "lines": [{"sku": "COF", "qty": 10, "unit_cost": 200},
                                      {"sku": "SAN", "qty": 2, "unit_cost": 500}]})
    before = _levels(sc)
    _stock_menu(sc)
    rig = sc.rig
    rig.keys(["1"])
    rig.wait_text("PO %d ACME 2L" % po["id"])
    rig.keys(["ENTER"])
    text = rig.wait_text("RECEIVE PO %d" % po["id"])
    assert "0/10 -10" in text and "0/2 -2" in text and "UNDER 2 OVER 0" in text
    _scan(sc, COFFEE, "1/10 -9")
    rig.keys(list("12") + ["ENTER"])            # twelve counted by hand: more than ordered
    text = rig.wait_text("12/10 +2")
    assert "Coffee 12 KEYED" in text and "UNDER 1 OVER 1" in text
    text = _scan(sc, APPLES, "1234 NOT ORDERED")       # apples by weight, not on the order
    assert "Apples" in text and "NOT ORDERED 1" in text
    text = _scan(sc, "4006381333932", "check digit wrong")      # refused, the count as it was
    assert "12/10 +2" in text
    rig.keys(["ENTER"])                         # the cloud refuses the whole delivery, naming why
    text = rig.wait_text("REFUSED (409)")
    assert "RECEIVE PO" in text and "12/10 +2" in text
    assert _levels(sc) == before
    # corrected: the apples keyed to 0, the coffee to what came; one sandwich short
    rig.keys(list("0") + ["ENTER"])
    rig.wait_text("Apples 0.000kg KEYED")
    _scan(sc, COFFEE, "13/10 +3")
    rig.keys(list("10") + ["ENTER"])
    _scan(sc, SANDWICH, "1/2 -1")
    # the cloud books it but its answer is lost: the count stays on flash
    sc.relay.cut_next(b"/stock/receipts", after=0)
    rig.keys(["ENTER"])
    rig.wait_text("COUNT KEPT")
    kept = open(os.path.join(sc.board.flash_dir, "stock.out"), "rb").read()
    assert kept.startswith(b"receipts\n") and b'"qty":10' in kept and b"APL" not in kept
    after = _levels(sc)
    assert after["COF"] == before.get("COF", 0) + 10 and after["SAN"] == before.get("SAN", 0) + 1
    # sent again from the menu: the same reference, answered as booked before, nothing twice
    rig.keys(["ENTER"])
    rig.wait_text("READY")
    text = _stock_menu(sc)
    assert "3 Send kept count" in text
    rig.keys(["3"])
    text = rig.wait_text("RECEIVED PO %d" % po["id"])
    assert "NOTHING BOOKED TWICE" in text and "10/10" in text and "1/2" in text
    assert _levels(sc) == after
    assert not os.path.exists(os.path.join(sc.board.flash_dir, "stock.out"))
    rig.keys(["ENTER"])
    rig.wait_text("READY")


def test_stock_take_counted_at_the_terminal_shows_variance_per_item_and_in_total(sc):
    book = _levels(sc)
    _stock_menu(sc)
    rig = sc.rig
    rig.keys(["2"])
    rig.wait_text("STOCK TAKE")
    _scan(sc, COFFEE, "Coffee 1")
    _scan(sc, COFFEE, "Coffee 2")
    rig.keys(list("7") + ["ENTER"])
    rig.wait_text("Coffee 7 KEYED")
    _scan(sc, APPLES, "1.234kg")
    rig.keys(["ENTER"])
    text = rig.wait_text("TOTAL VARIANCE")
    cof = book["COF"]
    assert re.search(r"Coffee +7 +%d +%+d" % (cof, 7 - cof), text), text
    assert re.search(r"Apples +1234 +0 +\+1234", text), text
    # value: (7 - book) x 3.60 + 1.234 kg x 2.99 = 3.69
    value = (7 - cof) * 360 + 369
    assert "TOTAL VARIANCE %+d PCS" % (7 - cof) in text and "+1234G BY WEIGHT" in text
    assert "VALUE USD %s%d.%02d" % ("-" if value < 0 else "", abs(value) // 100, abs(value) % 100) in text
    takes = sc.api("GET", "/api/v1/stores/%d/stock-takes" % sc.store)
    open_take = [t for t in takes if t["state"] == "open"][0]
    counted = {ln["sku"]: ln["counted"] for ln in open_take["lines"]}
    assert counted == {"COF": 7, "APL": 1234}
    rig.keys(["ENTER"])
    rig.wait_text("READY")
