"""Receiving and stock takes by scanning at the terminal (docs/stock.md, "At the terminal"):
pos.catalog.tally on real MicroPython with the board's heap, the catalog delta-synced from the
cloud, the counts posted to the cloud's device API; a re-sent batch counts once."""

import pytest

from host_sim.mpy import run

BOARD_HEAP = "192K"
PRICE_LIST = ("sku,barcode,name,price,unit,reorder_level\n"
              "COF,4006381333931,Coffee,3.50,piece,5\n"
              "SAN,96385074,Sandwich,8.40,piece,2\n"
              "APL,2312345000002,Apples,2.99,kg,0\n")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tmp_path_factory.mktemp("tally")
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
    r = api.post("/api/v1/merchants/%d/catalog/import" % m["id"], content=PRICE_LIST.encode(),
                 headers=dict(admin, **{"Content-Type": "text/csv"}))
    assert r.status_code == 200, r.text
    yield {"srv": srv, "api": api, "admin": admin, "store": s["id"], "token": ident["target_token"]}
    srv.stop()


PRELUDE = """
import asyncio, json
from pos.catalog import CatalogError, update
from pos.catalog.store import Catalog
from pos.catalog.tally import Link, Tally
print(asyncio.run(update.refresh(%r, 'default', 'T-1', %r)))
link = Link(%r, 'default', 'T-1', %r)
t = Tally(Catalog(), 50)
def scan(code):
    try:
        item, qty = t.scan(code)
        print('scan', item.sku, qty)
    except CatalogError as e:
        print('refused', e)
"""


def _mp(c, flash, body):
    url, tok = c["srv"].url, c["token"]
    return run(PRELUDE % (url, tok, url, tok) + body, heap=BOARD_HEAP, cwd=str(flash)).strip().splitlines()


def _levels(c):
    return {r["sku"]: r["on_hand"] for r in c["api"].get("/api/v1/stores/%d/stock" % c["store"],
                                                         headers=c["admin"]).json()}


def test_goods_scanned_in_against_an_order_count_once(cloud, tmp_path):
    c = cloud
    po = c["api"].post("/api/v1/stores/%d/purchase-orders" % c["store"], headers=c["admin"], json={
        "supplier": "Farm", "lines": [{"sku": "COF", "qty": 6}, {"sku": "APL", "qty": 5000}]}).json()
    out = _mp(c, tmp_path, """
for code in ('4006381333931', '4006381333931', '2312345012340', '4006381333932', '4006381333931', '5901234123457'):
    scan(code)
for ref in ('T-1/0001', 'T-1/0001'):
    st, answer = asyncio.run(t.send_receipt(link, %d, ref))
    print(st, answer['state'], answer['repeated'], json.dumps([(l['sku'], l['qty_received']) for l in answer['lines']]))
""" % po["id"])
    assert out[0] == "('snapshot', 1)"
    assert out[1:7] == ["scan COF 1", "scan COF 2", "scan APL 1234", "refused barcode check digit wrong: scan again",
                        "scan COF 3", "refused unknown barcode: not in the catalog"]
    assert out[7] == '201 open False [["COF", 3], ["APL", 1234]]'
    assert out[8] == '200 open True [["COF", 3], ["APL", 1234]]'            # the same batch again: counted once
    assert _levels(c)["COF"] == 3 and _levels(c)["APL"] == 1234


def test_a_stock_take_counted_at_the_terminal_shows_its_variance(cloud, tmp_path):
    c = cloud
    before = _levels(c)
    take = c["api"].post("/api/v1/stores/%d/stock-takes" % c["store"], headers=c["admin"], json={}).json()
    out = _mp(c, tmp_path, """
for code in ('4006381333931',) * 5 + ('96385074',):
    scan(code)
for ref in ('T-1/C1', 'T-1/C1'):
    st, answer = asyncio.run(t.send_counts(link, ref))
    print(st, answer['repeated'], json.dumps([(l['sku'], l['counted'], l['on_hand'], l['variance']) for l in answer['lines']]))
""")
    assert out[-2] == '200 false [["COF", 5, %d, %d], ["SAN", 1, %d, %d]]'.replace("false", "False") % (
        before["COF"], 5 - before["COF"], before["SAN"], 1 - before["SAN"])
    assert out[-1].startswith("200 True ")
    closed = c["api"].post("/api/v1/stock-takes/%d/close" % take["id"], headers=c["admin"]).json()
    assert [(ln["sku"], ln["counted"]) for ln in closed["lines"]] == [("COF", 5), ("SAN", 1)]
    assert _levels(c)["COF"] == 5 and _levels(c)["SAN"] == 1
