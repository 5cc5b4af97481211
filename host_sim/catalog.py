"""Catalog files for the terminal (docs/catalog.md), written on the PC from CSV or JSON.

    items = catalog.from_csv("items.csv")        # or from_json; or a list of dicts
    data = catalog.build(items, version=7)       # bytes of a catalog.bin
    catalog.write(path, items, version=7)

An item: barcode (EAN-13, EAN-8, UPC-A; an in-store code with prefix 20-29 as the 13 digits
with zeros where the price or weight goes), sku, name, name_zh, price (minor units; per kg
for weighed items), tax (category 0-255), unit ("piece" or "kg"), category (0-255),
plu (favourite key number, 0: none).  Bad items raise CatalogBuildError naming the item.
"""
import csv
import json
import struct
import zlib

MAGIC = b"SPCT"
FORMAT = 1
HEADER = 32
RECORD = 80
UNITS = ("piece", "kg")
# the store's default in-store layouts (the firmware's pos.catalog.barcode.LAYOUTS)
LAYOUTS = {**{p: "IIIIIPPPPP" for p in ("20", "21", "22")},
           **{p: "IIIIIWWWWW" for p in ("23", "24", "25")},
           **{p: "IIIIIIIIII" for p in ("26", "27", "28", "29")}}


class CatalogBuildError(ValueError):
    pass


def check_digit(digits):
    """GS1 modulo-10 check digit (GS1 General Specifications 7.9.1) of the digits before it."""
    s = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - s % 10) % 10


def with_check(digits):
    return digits + str(check_digit(digits))


def barcode_key(code, layouts=None):
    """The 14-digit key the terminal looks the code up by."""
    code = str(code).strip()
    if not code.isdigit() or len(code) not in (8, 12, 13):
        raise CatalogBuildError("barcode %r: not EAN-13, EAN-8 or UPC-A" % code)
    if check_digit(code[:-1]) != int(code[-1]):
        raise CatalogBuildError("barcode %r: check digit wrong" % code)
    lay = (layouts or LAYOUTS).get(code[:2]) if len(code) == 13 and code[0] == "2" else None
    if lay is None:
        return code.zfill(14)
    body = "".join(d if c == "I" else "0" for c, d in zip(lay, code[2:12]))
    return "0" + code[:2] + body + "0"


def _fixed(text, n):
    b = str(text or "").encode("utf-8")
    if len(b) > n:
        # cut at a character boundary, never inside a UTF-8 sequence
        b = b[:n]
        while b and (b[-1] & 0xC0) == 0x80:
            b = b[:-1]
        if b and b[-1] >= 0xC0:
            b = b[:-1]
    return b.ljust(n, b"\0")


def record(item, layouts=None):
    key = barcode_key(item["barcode"], layouts)
    sku = str(item.get("sku", "")).encode()
    if not sku or len(sku) > 12:
        raise CatalogBuildError("item %s: SKU of 1-12 characters wanted" % item["barcode"])
    unit = item.get("unit", "piece")
    if unit not in UNITS:
        raise CatalogBuildError("item %s: unit %r is not piece or kg" % (item["barcode"], unit))
    price = int(item["price"])
    if not 0 <= price < 2 ** 31:
        raise CatalogBuildError("item %s: price out of range" % item["barcode"])
    rec = struct.pack(">14s12siHBBBB22s22s", key.encode(), sku.ljust(12, b"\0"), price,
                      int(item.get("plu") or 0), int(item.get("tax", 0)), UNITS.index(unit),
                      int(item.get("category", 0)), int(item.get("flags", 0)),
                      _fixed(item.get("name"), 22), _fixed(item.get("name_zh"), 22))
    assert len(rec) == RECORD
    return key, sku, rec


def build(items, version, layouts=None):
    recs = sorted((record(it, layouts) for it in items), key=lambda r: r[0])
    for a, b in zip(recs, recs[1:]):
        if a[0] == b[0]:
            raise CatalogBuildError("barcode key %s twice" % a[0])
    skus = sorted((r[1].ljust(12, b"\0"), i) for i, r in enumerate(recs))
    for a, b in zip(skus, skus[1:]):
        if a[0] == b[0]:
            raise CatalogBuildError("SKU %s twice" % a[0].rstrip(b"\0").decode())
    plus = sorted((struct.unpack_from(">H", r[2], 30)[0], i) for i, r in enumerate(recs))
    plus = [p for p in plus if p[0]]
    for a, b in zip(plus, plus[1:]):
        if a[0] == b[0]:
            raise CatalogBuildError("PLU key %d twice" % a[0])
    body = b"".join(r[2] for r in recs)
    body += b"".join(s + struct.pack(">I", i) for s, i in skus)
    body += b"".join(struct.pack(">H2xI", p, i) for p, i in plus)
    head = struct.pack(">4sHHIIII", MAGIC, FORMAT, RECORD, version, len(recs), len(plus), zlib.crc32(body))
    return head.ljust(HEADER, b"\0") + body


def write(path, items, version, layouts=None):
    data = build(items, version, layouts)
    with open(path, "wb") as f:
        f.write(data)
    return data


def from_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def from_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def sample(n, seed=1):
    """n distinct items for tests and benches: EAN-13 (most), EAN-8, UPC-A, weighed items
    under prefix 23 and priced ones under 20, every tenth a PLU key."""
    import random
    rnd = random.Random(seed)
    out = []
    seen = set()
    while len(out) < n:
        i = len(out)
        kind = i % 10
        if kind == 7:
            code = with_check("%07d" % rnd.randrange(10 ** 7))
        elif kind == 8:
            code = with_check("%011d" % rnd.randrange(10 ** 11))
        elif kind == 9:
            code = with_check("23%05d00000" % rnd.randrange(10 ** 5))
        elif kind == 6:
            code = with_check("20%05d00000" % rnd.randrange(10 ** 5))
        else:
            code = with_check("69%010d" % rnd.randrange(10 ** 10))
        k = barcode_key(code)
        if k in seen:
            continue
        seen.add(k)
        out.append({"barcode": code, "sku": "S%06d" % i, "name": "ITEM %d" % i, "name_zh": "商品%d" % i,
                    "price": 100 + rnd.randrange(10000), "tax": i % 3, "unit": "kg" if kind == 9 else "piece",
                    "category": i % 12, "plu": (i // 10 + 1) if i % 10 == 0 else 0})
    return out
