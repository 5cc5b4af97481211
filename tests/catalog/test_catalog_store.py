"""The catalog on flash and barcodes on MicroPython (the board's heap): GS1 check digits,
in-store price and weight codes, look-ups by barcode, SKU and PLU against the PC builder's
file, the RAM a look-up costs at 500 and 5,000 items, and refused updates that keep the old
catalog."""
import json

import pytest

from host_sim import catalog, mpy


def _run(code, tmp_path):
    return mpy.run("import json, os, gc\nfrom pos.catalog import CatalogError, barcode\n"
                   "from pos.catalog.store import Catalog, install, check\n" + code, cwd=str(tmp_path))


def test_gs1_check_digits_and_codes(tmp_path):
    # known GTINs: EAN-13 4006381333931, EAN-8 96385074, UPC-A 036000291452
    out = _run("for c in ('4006381333931', '96385074', '036000291452', '2012345012509', '2312345012340'):\n"
               "    print(barcode.parse(c))\n"
               "for c in ('4006381333932', '40063813339', 'ABCDEFGH', '2012345012508', '123'):\n"
               "    try:\n"
               "        barcode.parse(c)\n"
               "        print('accepted')\n"
               "    except CatalogError as e:\n"
               "        print('refused', e)\n", tmp_path)
    lines = out.strip().splitlines()
    assert lines[0] == "('04006381333931', 'item', 0)"
    assert lines[1] == "('00000096385074', 'item', 0)"
    assert lines[2] == "('00036000291452', 'item', 0)"
    assert lines[3] == "('02012345000000', 'price', 1250)"           # prefix 20: price 12.50
    assert lines[4] == "('02312345000000', 'weight', 1234)"          # prefix 23: 1.234 kg
    assert lines[5] == "refused barcode check digit wrong: scan again"
    assert lines[6] == "refused not a product barcode (11 digits): key the item"
    assert lines[7] == "refused not a product barcode: key the item"
    assert lines[8] == "refused barcode check digit wrong: scan again"   # price-embedded, bad check
    assert lines[9].startswith("refused not a product barcode (3 digits)")
    for c in ("4006381333931", "96385074", "036000291452", "2012345012509", "2312345012340"):
        assert catalog.with_check(c[:-1]) == c
    assert catalog.barcode_key("2012345012509") == "02012345000000"


def test_every_item_is_found_by_barcode_sku_and_plu(tmp_path):
    items = catalog.sample(500, seed=3)
    catalog.write(str(tmp_path / "catalog.bin"), items, version=4)
    expect = {catalog.barcode_key(it["barcode"]): it for it in items}
    (tmp_path / "codes.txt").write_text("".join("%s %s\n" % (it["barcode"], it["sku"]) for it in items))
    out = _run("c = Catalog()\nprint(c.version, c.count, c.plus)\n"
               "for line in open('codes.txt'):\n"
               "    code, sku = line.split()\n"
               "    k, kind, v = barcode.parse(code)\n"
               "    i = c.by_barcode(k)\n"
               "    it = c.item(i)\n"
               "    print(json.dumps([code, it.sku, it.name, it.name_zh, it.price, it.tax, it.unit, it.plu, c.by_sku(sku) == i]))\n"
               "print(c.by_barcode('04006381333931'), c.by_sku('NOPE'), c.by_plu(9999))\n"
               "print(json.dumps([(p, it.sku) for p, it in c.favourites(0, 3)]))\n", tmp_path)
    lines = out.strip().splitlines()
    assert lines[0] == "4 500 50"
    for ln in lines[1:-2]:
        code, sku, name, zh, price, tax, unit, plu, same = json.loads(ln)
        it = expect[catalog.barcode_key(code)]
        assert (sku, name, zh, price, tax, unit, plu, same) == (
            it["sku"], it["name"], it["name_zh"], it["price"], it["tax"], catalog.UNITS.index(it["unit"]), it["plu"], True)
    assert len(lines) == 503
    assert lines[-2] == "-1 -1 -1"
    by_plu = sorted((it["plu"], it["sku"]) for it in items if it["plu"])[:3]
    assert json.loads(lines[-1]) == [list(p) for p in by_plu]


def _lookup_ram(tmp_path, n):
    items = catalog.sample(n, seed=5)
    catalog.write(str(tmp_path / "catalog.bin"), items, version=1)
    (tmp_path / "codes.txt").write_text("".join(it["barcode"] + "\n" for it in items[:200]))
    codes = [it["barcode"] for it in items[:200]]
    out = _run("codes = %r\n"
               "gc.collect()\nfree0 = gc.mem_free()\n"
               "c = Catalog()\n"
               "gc.collect()\nopen_cost = free0 - gc.mem_free()\n"
               "it = c.item(c.by_barcode(barcode.parse(codes[0])[0]))\ncode = it = None\n"
               "gc.collect()\nlow = gc.mem_free()\n"
               "for code in codes:\n"
               "    it = c.item(c.by_barcode(barcode.parse(code)[0]))\n"
               "    it = None\n"
               "gc.collect()\n"
               "print(open_cost, low - gc.mem_free())\n" % codes, tmp_path)
    return [int(x) for x in out.split()]


def test_lookup_ram_does_not_grow_with_the_catalog(tmp_path):
    small = _lookup_ram(tmp_path, 500)
    big = _lookup_ram(tmp_path, 5000)
    assert small[0] == big[0], (small, big)            # the open catalog: same bytes at 500 and 5,000
    assert small[0] < 1024
    assert small[1] <= 0 and big[1] <= 0, (small, big)     # nothing kept after 200 look-ups


def _bad_update(tmp_path, data):
    good = catalog.build(catalog.sample(50), version=2)
    (tmp_path / "catalog.bin").write_bytes(good)
    (tmp_path / "catalog.new").write_bytes(data)
    out = _run("try:\n    install('catalog.new')\n    print('installed')\n"
               "except CatalogError as e:\n    print('refused', e)\n"
               "c = Catalog()\nprint(c.version, c.count, 'catalog.new' in os.listdir())\n", tmp_path)
    assert (tmp_path / "catalog.bin").read_bytes() == good
    return out.strip().splitlines()


def test_a_truncated_update_is_refused_and_the_old_catalog_stays(tmp_path):
    new = catalog.build(catalog.sample(60, seed=9), version=3)
    assert _bad_update(tmp_path, new[:-100]) == [
        "refused catalog file cut short or too long: reload the catalog", "2 50 False"]


def test_a_damaged_or_inconsistent_update_is_refused(tmp_path):
    new = bytearray(catalog.build(catalog.sample(60, seed=9), version=3))
    new[500] ^= 1
    assert _bad_update(tmp_path, bytes(new))[0] == "refused catalog update damaged (CRC): reload the catalog"
    # keys out of order with a CRC that matches: a builder's defect, not a transfer's
    import struct
    import zlib
    new = bytearray(catalog.build(catalog.sample(60, seed=9), version=3))
    a = bytes(new[32:112])
    new[32:112] = new[112:192]
    new[112:192] = a
    struct.pack_into(">I", new, 20, zlib.crc32(bytes(new[32:])))
    assert _bad_update(tmp_path, bytes(new))[0] == "refused catalog keys out of order at entry 1: reload the catalog"
    old = catalog.build(catalog.sample(60, seed=9), version=2)
    assert _bad_update(tmp_path, old)[0] == "refused catalog update 2 is not newer than 2 in use"


def test_a_good_update_replaces_the_catalog(tmp_path):
    (tmp_path / "catalog.bin").write_bytes(catalog.build(catalog.sample(50), version=2))
    new = catalog.build(catalog.sample(70, seed=4), version=3)
    (tmp_path / "catalog.new").write_bytes(new)
    out = _run("print(install('catalog.new'))\nc = Catalog()\nprint(c.version, c.count)\n", tmp_path)
    assert out.split() == ["3", "3", "70"]
    assert (tmp_path / "catalog.bin").read_bytes() == new


def test_builder_refuses_bad_items():
    with pytest.raises(catalog.CatalogBuildError, match="check digit"):
        catalog.build([{"barcode": "4006381333932", "sku": "A", "price": 1}], 1)
    with pytest.raises(catalog.CatalogBuildError, match="twice"):
        catalog.build([{"barcode": "4006381333931", "sku": "A", "price": 1},
                       {"barcode": "4006381333931", "sku": "B", "price": 1}], 1)
