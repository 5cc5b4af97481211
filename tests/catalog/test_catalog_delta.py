"""Delta sync of the catalog (docs/stock.md): the cloud's feed over HTTP to the firmware's
pos.catalog.update on real MicroPython, a terminal a week behind catching up by one delta
whose result is byte for byte the cloud's snapshot, and refused updates (truncated, damaged,
from another version, inconsistent) that leave the catalog in use as it was."""
import struct
import zlib

import pytest

from host_sim import catalog
from host_sim.mpy import run

BOARD_HEAP = "192K"     # the reference board's heap: the HTTP client and the apply
APPLY_HEAP = "48K"      # the apply alone: what it takes does not grow with the catalog (docs/stock.md)


def _csv(items):
    rows = ["sku,barcode,name,name_zh,price,tax,unit,plu"]
    for it in items:
        rows.append("%s,%s,%s,%s,%d.%02d,%d,%s,%d" % (it["sku"], it["barcode"], it["name"], it["name_zh"],
                                                      it["price"] // 100, it["price"] % 100, it["tax"], it["unit"],
                                                      it["plu"]))
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    tmp = tmp_path_factory.mktemp("feed")
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
    items = catalog.sample(500, seed=5)
    r = api.post("/api/v1/merchants/%d/catalog/import" % m["id"], content=_csv(items).encode(),
                 headers=dict(admin, **{"Content-Type": "text/csv"}))
    assert r.status_code == 200, r.text
    dev = {"Authorization": "TargetToken " + ident["target_token"]}
    yield {"srv": srv, "api": api, "admin": admin, "merchant": m["id"], "token": ident["target_token"], "dev": dev,
           "items": items}
    srv.stop()


def _feed(c, since):
    r = c["api"].get("/default/controller/v1/T-1/catalog?since=%d" % since, headers=c["dev"])
    return r.status_code, r.headers.get("x-catalog"), r.content


def _refresh(c, flash):
    out = run("import asyncio\nfrom pos.catalog import update, CatalogError\n"
              "try:\n"
              "    print(asyncio.run(update.refresh(%r, 'default', 'T-1', %r)))\n"
              "except CatalogError as e:\n"
              "    print('refused', e)\n" % (c["srv"].url, c["token"]), heap=BOARD_HEAP, cwd=str(flash))
    return out.strip()


def _apply(flash):
    return run("from pos.catalog import delta, CatalogError\n"
               "try:\n"
               "    print(delta.apply('catalog.delta'))\n"
               "except CatalogError as e:\n"
               "    print('refused', e)\n", heap=APPLY_HEAP, cwd=str(flash)).strip()


def test_a_terminal_a_week_behind_catches_up_by_one_delta(cloud, tmp_path):
    c = cloud
    api, admin, m = c["api"], c["admin"], c["merchant"]
    assert _refresh(c, tmp_path) == "('snapshot', 1)"
    assert _refresh(c, tmp_path) == "('none', 1)"
    items = [dict(it) for it in c["items"]]
    for day in range(7):                 # a week of changes while the terminal is away
        for it in items[day * 7:day * 7 + 5]:
            it["price"] += 10
        new = catalog.sample(520 + day, seed=5)[500 + day]
        new = dict(new, sku="N%d" % day, barcode=catalog.with_check("77%010d" % day))
        items.append(new)
        r = api.post("/api/v1/merchants/%d/catalog/import" % m, content=_csv(items).encode(),
                     headers=dict(admin, **{"Content-Type": "text/csv"}))
        assert r.json()["changed"] == 5 and r.json()["created"] == 1, r.text
    api.delete("/api/v1/merchants/%d/catalog/items/%s" % (m, items[100]["sku"]), headers=admin)
    moved = dict(items[200], barcode=catalog.with_check("88%010d" % 1), plu=0, price=items[200]["price"])
    r = api.post("/api/v1/merchants/%d/catalog/items" % m, headers=admin, json=dict(
        {k: moved[k] for k in ("sku", "barcode", "name", "name_zh", "price", "tax", "unit", "plu")}))
    assert r.status_code == 201, r.text
    version = r.json()["catalog_version"]
    assert version == 10
    st, kind, data = _feed(c, 1)
    assert (st, kind) == (200, "delta")
    ups, dels, pups = struct.unpack_from(">III", data, 28)
    assert (ups, dels) == (35 + 7 + 1, 2)      # 35 repriced, 7 new, 1 moved; its old key and one removed
    assert len(data) == 48 + ups * 84 + dels * 14 + 4 * pups
    assert _refresh(c, tmp_path) == "('delta', %d)" % version
    _, kind, snap = _feed(c, 0)
    assert kind == "snapshot"
    assert (tmp_path / "catalog.bin").read_bytes() == snap          # the terminal holds the cloud's catalog
    out = run("from pos.catalog.store import Catalog\nc = Catalog()\n"
              "print(c.by_barcode(%r), c.item(c.by_barcode(%r)).sku, c.item(c.by_sku(%r)).price)\n"
              % (catalog.barcode_key(items[100]["barcode"]), catalog.barcode_key(moved["barcode"]),
                 items[0]["sku"]), heap=APPLY_HEAP, cwd=str(tmp_path))
    assert out.split() == ["-1", moved["sku"], str(items[0]["price"])]
    assert not [p.name for p in tmp_path.iterdir() if p.name != "catalog.bin"]      # no work files left


def test_refused_updates_keep_the_catalog_in_use(cloud, tmp_path):
    c = cloud
    api, admin, m = c["api"], c["admin"], c["merchant"]
    _, _, snap = _feed(c, 0)
    v = struct.unpack_from(">I", snap, 8)[0]
    (tmp_path / "catalog.bin").write_bytes(snap)
    it = c["items"][300]
    r = api.post("/api/v1/merchants/%d/catalog/items" % m, headers=admin, json=dict(
        {k: it[k] for k in ("sku", "barcode", "name", "name_zh", "tax", "unit", "plu")}, price=it["price"] + 7))
    assert r.json()["catalog_version"] == v + 1
    _, kind, good = _feed(c, v)
    assert kind == "delta" and len(good) == 48 + 84 + (4 if it["plu"] else 0)      # 84 bytes an item, 4 more with a PLU key
    cases = {"cut short": good[:-3],
             "damaged (CRC)": good[:60] + bytes([good[60] ^ 1]) + good[61:]}
    # a record changed with the delta's own CRC made right: the result is not the cloud's
    bad = bytearray(good)
    bad[48 + 40] ^= 0x20
    struct.pack_into(">I", bad, 40, zlib.crc32(bytes(bad[48:])))
    cases["inconsistent with the catalog in use (CRC)"] = bytes(bad)
    other = bytearray(good)
    struct.pack_into(">I", other, 8, v - 1)
    cases["from version %d, the catalog is %d" % (v - 1, v)] = bytes(other)
    for why, data in cases.items():
        (tmp_path / "catalog.delta").write_bytes(data)
        out = _apply(tmp_path)
        assert out.startswith("refused") and why in out, (why, out)
        assert (tmp_path / "catalog.bin").read_bytes() == snap
        assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.bin"]
    (tmp_path / "catalog.delta").write_bytes(good)
    assert _apply(tmp_path) == str(v + 1)
    # a terminal whose catalog is not the cloud's at its version: the delta does not fit, a
    # whole snapshot follows
    (tmp_path / "catalog.bin").write_bytes(catalog.build(c["items"][:50], version=v))
    assert _refresh(c, tmp_path) == "('snapshot', %d)" % (v + 1)
    assert (tmp_path / "catalog.bin").read_bytes() == _feed(c, 0)[2]


def test_too_old_a_version_gets_a_snapshot(cloud):
    c = cloud
    from cloud.catalog import items as catalog_items
    db = c["srv"].app.state.sessionmaker()
    try:
        version, _ = catalog_items.current_version(db, c["merchant"])
        catalog_items.forget_before(db, c["merchant"], version - 1)
        db.commit()
    finally:
        db.close()
    assert _feed(c, version - 2)[1] == "snapshot"
    assert _feed(c, version - 1)[1] == "delta"
    assert _feed(c, version)[0] == 204
    assert _feed(c, version + 5)[1] == "snapshot"
