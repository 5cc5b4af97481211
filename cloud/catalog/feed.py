"""The catalog feed a terminal keeps its flash catalog up to date from (docs/stock.md, "Delta
sync"):

    GET /{tenant}/controller/v1/{controllerId}/catalog?since=N     Authorization: TargetToken <token>

answers 204 when N is the merchant's catalog version; a **delta** from N (what changed after
N) while the changes since N are all known; otherwise (N of 0, older than the oldest delta
start, newer than the cloud's, or a delta that would be larger) a **snapshot**: the whole
catalog file in the terminal's format (docs/catalog.md, ``catalog.bin``).  Header
``X-Catalog`` says which, ``X-Catalog-Version`` the version it brings.

A delta (big-endian; checked whole by the terminal before it touches its catalog):

    header 48 bytes: magic "SPCD", format u16 (1), record size u16 (80), from version u32,
        to version u32, item count after u32, PLU count after u32, CRC-32 of the catalog
        file's body after (the header's CRC of docs/catalog.md) u32, upserts u32, deletes u32,
        PLU upserts u32, CRC-32 of the delta's body u32
    upserts      80-byte item records, sorted by key (added, or replacing the record of that key)
    deletes      14-byte keys, sorted (records to drop; one the terminal lacks is no error)
    SKU order    u32 per upsert: upsert numbers sorted by SKU (for merging the SKU index)
    PLU order    u32 per upsert with a PLU key, sorted by PLU key

so the terminal merges its sorted file with sorted changes in one pass per section, holding a
few records, whatever the catalog's size; the result's CRC must be the one the delta names.
"""
import struct
import zlib

from sqlalchemy import select

from cloud.catalog import items as catalog
from cloud.catalog.models import CatalogTombstone, Category, Item

MAGIC = b"SPCT"
DELTA_MAGIC = b"SPCD"
FORMAT = 1
HEADER = 32
DELTA_HEADER = 48
RECORD = 80
UNITS = ("piece", "kg")
_REC = ">14s12siHBBBB22s22s"


def fixed(text, n):
    """UTF-8 in n bytes, zero padded, cut at a character boundary."""
    b = (text or "").encode("utf-8")[:n]
    while b:
        try:
            b.decode("utf-8")
            break
        except UnicodeDecodeError:
            b = b[:-1]
    return b.ljust(n, b"\0")


def record(item, codes):
    """The terminal's 80-byte record of an item (docs/catalog.md)."""
    return struct.pack(_REC, item.key.encode(), item.sku.encode().ljust(12, b"\0"), item.price, item.plu, item.tax,
                       UNITS.index(item.unit), codes.get(item.category_id, 0), 0, fixed(item.name, 22),
                       fixed(item.name_zh, 22))


def _codes(db, merchant_id):
    return {c.id: c.code for c in db.scalars(select(Category).where(Category.merchant_id == merchant_id))}


def _live(db, merchant_id):
    return list(db.scalars(select(Item).where(Item.merchant_id == merchant_id, Item.active.is_(True))
                           .order_by(Item.key)))


def body_of(records):
    """(the catalog file's body after its header, item count, PLU count) of records sorted by key."""
    skus = sorted((r[14:26], i) for i, r in enumerate(records))
    plus = sorted((struct.unpack_from(">H", r, 30)[0], i) for i, r in enumerate(records))
    plus = [p for p in plus if p[0]]
    body = b"".join(records) + b"".join(s + struct.pack(">I", i) for s, i in skus) \
        + b"".join(struct.pack(">H2xI", p, i) for p, i in plus)
    return body, len(records), len(plus)


def snapshot(db, merchant_id, version):
    codes = _codes(db, merchant_id)
    body, n, plus = body_of([record(i, codes) for i in _live(db, merchant_id)])
    head = struct.pack(">4sHHIIII", MAGIC, FORMAT, RECORD, version, n, plus, zlib.crc32(body))
    return head.ljust(HEADER, b"\0") + body


def delta(db, merchant_id, since, version):
    """The delta from `since` to `version` (bytes)."""
    codes = _codes(db, merchant_id)
    live = _live(db, merchant_id)
    records = [record(i, codes) for i in live]
    body, n, plus = body_of(records)
    changed = [r for i, r in zip(live, records) if i.version > since]
    keys = {i.key for i in live}
    gone = sorted({t.key for t in db.scalars(select(CatalogTombstone).where(
        CatalogTombstone.merchant_id == merchant_id, CatalogTombstone.version > since))} - keys)
    sku_order = sorted(range(len(changed)), key=lambda j: changed[j][14:26])
    plu_order = sorted((j for j in range(len(changed)) if struct.unpack_from(">H", changed[j], 30)[0]),
                       key=lambda j: struct.unpack_from(">H", changed[j], 30)[0])
    dbody = b"".join(changed) + b"".join(k.encode() for k in gone) \
        + b"".join(struct.pack(">I", j) for j in sku_order) + b"".join(struct.pack(">I", j) for j in plu_order)
    head = struct.pack(">4sHHIIIIIIIII", DELTA_MAGIC, FORMAT, RECORD, since, version, n, plus, zlib.crc32(body),
                       len(changed), len(gone), len(plu_order), zlib.crc32(dbody))
    return head.ljust(DELTA_HEADER, b"\0") + dbody, HEADER + len(body)


def feed(db, merchant_id, since):
    """(kind, version, bytes) for a terminal at `since`: kind "none" (up to date, no bytes),
    "delta" or "snapshot"."""
    version, floor = catalog.current_version(db, merchant_id)
    if since == version and version > 0:
        return "none", version, b""
    if 0 < since < version and since >= floor:
        data, whole = delta(db, merchant_id, since, version)
        if len(data) < whole:
            return "delta", version, data
    return "snapshot", version, snapshot(db, merchant_id, version)
