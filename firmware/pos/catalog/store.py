# The catalog on flash: fixed-size item records sorted by barcode key, then an index by SKU
# and one by PLU key, each searched by bisection with seek + readinto into one record buffer
# allocated when the file is opened: a look-up costs the same RAM for 500 items as for
# 5,000 (docs/catalog.md has the layout).  A new catalog is written to a file of its own,
# checked whole (header, length, CRC-32, order of every key, index entries in range) and
# only then renamed over the one in use: on any failure the old catalog stays.
#
#     cat = Catalog()                       # "catalog.bin" on flash
#     it = cat.item(cat.by_barcode(key))    # key from barcode.parse; -1: unknown
#     install("catalog.new")                # CatalogError: refused, the old one kept
import binascii
import os
import struct

from micropython import const

from pos.catalog import CatalogError

PATH = "catalog.bin"
MAGIC = b"SPCT"
FORMAT = const(1)
HEADER = const(32)       # magic, format u16, record size u16, version, count, PLU count, CRC-32
RECORD = const(80)       # key 14, SKU 12, price i32, PLU u16, tax, unit, category, flags, names 22+22
SKU_ENTRY = const(16)    # SKU 12, record u32
PLU_ENTRY = const(8)     # PLU u16, 2 spare, record u32
_HEAD = ">4sHHIIII"
_REC = ">14s12siHBBBB22s22s"


class Item:
    __slots__ = ("index", "key", "sku", "price", "plu", "tax", "unit", "category", "flags", "name", "name_zh")

    def __init__(self, index, fields):
        self.index = index
        (key, sku, self.price, self.plu, self.tax, self.unit, self.category, self.flags,
         name, zh) = fields
        self.key = key.decode()
        self.sku = sku.rstrip(b"\0").decode()
        self.name = name.rstrip(b"\0").decode()
        self.name_zh = zh.rstrip(b"\0").decode()


def _header(f, size):
    """(version, count, PLU count, CRC) of an open catalog file of `size` bytes; CatalogError
    when it is not a whole catalog of this format."""
    h = f.read(HEADER)
    if len(h) != HEADER:
        raise CatalogError("catalog file cut short: reload the catalog")
    magic, fmt, rec, version, count, plus, crc = struct.unpack_from(_HEAD, h)
    if magic != MAGIC or fmt != FORMAT or rec != RECORD:
        raise CatalogError("not a catalog of format %d: reload the catalog" % FORMAT)
    if size != HEADER + count * (RECORD + SKU_ENTRY) + plus * PLU_ENTRY:
        raise CatalogError("catalog file cut short or too long: reload the catalog")
    return version, count, plus, crc


def _differ(buf, off, key):
    """<0, 0, >0 as buf[off:off+len(key)] sorts before, equal to, after `key` (no allocation)."""
    for i in range(len(key)):
        d = buf[off + i] - key[i]
        if d:
            return d
    return 0


class Catalog:
    def __init__(self, path=PATH):
        try:
            self.f = open(path, "rb")
        except OSError:
            raise CatalogError("no catalog on this terminal: load one")
        f = self.f
        try:
            size = f.seek(0, 2)
            f.seek(0)
            self.version, self.count, self.plus, _ = _header(f, size)
        except CatalogError:
            f.close()
            raise
        self.rec = bytearray(RECORD)
        self.key = bytearray(14)
        self.sku_at = HEADER + self.count * RECORD
        self.plu_at = self.sku_at + self.count * SKU_ENTRY

    def close(self):
        self.f.close()

    def _search(self, base, n, width, key, off):
        """Index of the entry whose bytes at `off` equal `key` in n sorted entries of `width`
        at `base` (the entry left in self.rec), or -1."""
        f = self.f
        mv = memoryview(self.rec)[:width]
        lo = 0
        hi = n - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            f.seek(base + mid * width)
            f.readinto(mv)
            d = _differ(self.rec, off, key)
            if d == 0:
                return mid
            if d < 0:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def by_barcode(self, key):
        """The record index of a 14-digit key (barcode.parse), -1 if unknown."""
        k = self.key
        for i in range(14):
            k[i] = ord(key[i])
        return self._search(HEADER, self.count, RECORD, k, 0)

    def by_sku(self, sku):
        k = bytearray(12)
        k[:len(sku)] = sku.encode()[:12]
        i = self._search(self.sku_at, self.count, SKU_ENTRY, k, 0)
        return -1 if i < 0 else struct.unpack_from(">I", self.rec, 12)[0]

    def by_plu(self, plu):
        i = self._search(self.plu_at, self.plus, PLU_ENTRY, struct.pack(">H", plu), 0)
        return -1 if i < 0 else struct.unpack_from(">I", self.rec, 4)[0]

    def item(self, index):
        """The Item at record `index`."""
        if index < 0 or index >= self.count:
            raise CatalogError("no such item")
        self.f.seek(HEADER + index * RECORD)
        self.f.readinto(self.rec)
        return Item(index, struct.unpack_from(_REC, self.rec))

    def sku(self, index):
        """The SKU of record `index`: only its 12 bytes read (the promotions engine asks)."""
        mv = memoryview(self.rec)[:12]
        self.f.seek(HEADER + index * RECORD + 14)
        self.f.readinto(mv)
        return bytes(mv).rstrip(b"\0").decode()

    def favourites(self, first=0, n=9):
        """Up to n (PLU, Item) of the PLU keys in order from position `first`."""
        out = []
        for i in range(first, min(first + n, self.plus)):
            self.f.seek(self.plu_at + i * PLU_ENTRY)
            self.f.readinto(memoryview(self.rec)[:PLU_ENTRY])
            plu, rec = struct.unpack_from(">H2xI", self.rec)
            out.append((plu, self.item(rec)))
        return out


def _ordered(f, base, n, width, keylen, ref, count):
    """CatalogError unless n entries at `base` have strictly rising keys and (ref >= 0) a
    record number below count at offset `ref`."""
    prev = bytearray(keylen)
    buf = bytearray(width)
    for i in range(n):
        f.seek(base + i * width)
        f.readinto(buf)
        if i and _differ(buf, 0, prev) <= 0:
            raise CatalogError("catalog keys out of order at entry %d: reload the catalog" % i)
        if ref >= 0 and struct.unpack_from(">I", buf, ref)[0] >= count:
            raise CatalogError("catalog index points past its items: reload the catalog")
        prev[:] = buf[:keylen]


def check(path):
    """The version of the whole, consistent catalog at `path`; CatalogError otherwise."""
    try:
        f = open(path, "rb")
    except OSError:
        raise CatalogError("catalog update missing: reload the catalog")
    try:
        size = f.seek(0, 2)
        f.seek(0)
        version, count, plus, crc = _header(f, size)
        buf = bytearray(512)
        mv = memoryview(buf)
        c = 0
        while True:
            n = f.readinto(buf)
            if not n:
                break
            c = binascii.crc32(mv[:n], c)
        if c != crc:
            raise CatalogError("catalog update damaged (CRC): reload the catalog")
        _ordered(f, HEADER, count, RECORD, 14, -1, count)
        sku_at = HEADER + count * RECORD
        _ordered(f, sku_at, count, SKU_ENTRY, 12, 12, count)
        _ordered(f, sku_at + count * SKU_ENTRY, plus, PLU_ENTRY, 2, 4, count)
        return version
    finally:
        f.close()


def version(path=PATH):
    """The version of the catalog in use, 0 if there is none readable."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(0)
            return _header(f, size)[0]
    except (OSError, CatalogError):
        return 0


def install(new_path, path=PATH):
    """Put the catalog at `new_path` in use once it is checked whole and newer than the one
    in use; CatalogError (the update removed, the old catalog kept) otherwise."""
    try:
        v = check(new_path)
        old = version(path)
        if v <= old:
            raise CatalogError("catalog update %d is not newer than %d in use" % (v, old))
    except CatalogError:
        try:
            os.remove(new_path)
        except OSError:
            pass
        raise
    os.rename(new_path, path)
    return v
