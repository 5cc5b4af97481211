# A catalog delta from the cloud applied to the flash catalog (docs/stock.md, "Delta sync";
# the delta's layout is cloud.catalog.feed's).  The delta is on flash whole before this runs;
# it is checked (header, length, CRC-32, the version it starts from) and merged with the
# catalog in use into a new file, one pass per section (records, SKU index, PLU index), with
# a few fixed buffers: the heap it takes does not depend on the catalog's size.  The result
# must have the item count and CRC the delta names, and is then installed by store.install
# (checked whole once more, renamed over the old file).  On any failure the old catalog stays
# in use and CatalogError says why.
#
#     v = delta.apply("catalog.delta")        # the new version
import binascii
import os
import struct

from micropython import const

from pos.catalog import CatalogError
from pos.catalog import store

MAGIC = b"SPCD"
HEADER = const(48)
_HEAD = ">4sHHIIIIIIIII"
_DROP = const(0xFFFFFFFF)
_KEY = const(14)
_SKU_AT = const(14)
_SKU = const(12)
_PLU_AT = const(30)
NEW = "catalog.new"
_MAP = "catalog.map"
_INS = "catalog.ins"


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _differ(a, ao, b, bo, n):
    for i in range(n):
        d = a[ao + i] - b[bo + i]
        if d:
            return d
    return 0


class _Out:
    """The new catalog file: written in order, its CRC-32 kept as it goes."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(bytes(store.HEADER))
        self.crc = 0

    def write(self, mv):
        self.f.write(mv)
        self.crc = binascii.crc32(mv, self.crc)


class _U32s:
    """A flash file of u32, written in order through a 256-byte buffer."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.buf = bytearray(256)
        self.n = 0

    def put(self, v):
        struct.pack_into(">I", self.buf, self.n, v)
        self.n += 4
        if self.n == 256:
            self.f.write(self.buf)
            self.n = 0

    def done(self, path):
        if self.n:
            self.f.write(memoryview(self.buf)[:self.n])
        self.f.close()
        return open(path, "rb")


def _u32(f, i, buf):
    f.seek(i * 4)
    f.readinto(buf)
    return struct.unpack_from(">I", buf, 0)[0]


def _header(d, size):
    h = bytearray(HEADER)
    if d.readinto(h) != HEADER:
        raise CatalogError("catalog update cut short: it is fetched again")
    (magic, fmt, rec, since, to, count, plus, crc, ups, dels, pups, body_crc) = struct.unpack_from(_HEAD, h)
    if magic != MAGIC or fmt != store.FORMAT or rec != store.RECORD:
        raise CatalogError("not a catalog delta of format %d" % store.FORMAT)
    if size != HEADER + ups * (store.RECORD + 4) + dels * _KEY + pups * 4:
        raise CatalogError("catalog update cut short or too long: it is fetched again")
    return since, to, count, plus, crc, ups, dels, pups, body_crc


def _body_crc(d):
    buf = bytearray(512)
    mv = memoryview(buf)
    c = 0
    while True:
        n = d.readinto(buf)
        if not n:
            return c
        c = binascii.crc32(mv[:n], c)


def apply(delta_path, path=store.PATH):
    """Apply the delta at `delta_path` to the catalog at `path`; the new version.  The delta
    file is removed either way; CatalogError leaves the catalog in use as it was."""
    try:
        return _apply(delta_path, path)
    except CatalogError:
        _remove(NEW)
        raise
    except OSError as e:
        _remove(NEW)
        raise CatalogError("catalog update not applied (flash: %s): the old catalog stays" % e)
    finally:
        _remove(delta_path)
        _remove(_MAP)
        _remove(_INS)


def _apply(delta_path, path):
    try:
        d = open(delta_path, "rb")
    except OSError:
        raise CatalogError("catalog update missing")
    try:
        size = d.seek(0, 2)
        d.seek(0)
        since, to, count, plus, crc, ups, dels, pups, body_crc = _header(d, size)
        if _body_crc(d) != body_crc:
            raise CatalogError("catalog update damaged (CRC): it is fetched again")
        cat = store.Catalog(path)
        try:
            if cat.version != since:
                raise CatalogError("catalog update is from version %d, the catalog is %d: a whole one is fetched"
                                   % (since, cat.version))
            if to <= since:
                raise CatalogError("catalog update %d is not newer than %d in use" % (to, since))
            out = _Out(NEW)
            try:
                n = _records(cat, d, ups, dels, out)
                if n != count:
                    raise CatalogError("catalog update inconsistent: %d items, %d expected" % (n, count))
                _index(cat, d, ups, out, cat.sku_at, cat.count, store.SKU_ENTRY, _SKU, 12,
                       HEADER + ups * store.RECORD + dels * _KEY, ups, _SKU_AT)
                _index(cat, d, ups, out, cat.plu_at, cat.plus, store.PLU_ENTRY, 2, 4,
                       HEADER + ups * (store.RECORD + 4) + dels * _KEY, pups, _PLU_AT)
                if out.crc != crc:
                    raise CatalogError("catalog update inconsistent with the catalog in use (CRC): "
                                       "a whole one is fetched")
                out.f.seek(0)
                out.f.write(struct.pack(">4sHHIIII", store.MAGIC, store.FORMAT, store.RECORD, to, count, plus, crc))
            finally:
                out.f.close()
        finally:
            cat.close()
    finally:
        d.close()
    return store.install(NEW, path)


def _records(cat, d, ups, dels, out):
    """Merge the catalog's records with the delta's upserts and deletes (all sorted by key) into
    `out`; old record -> new number (or _DROP) to the map file, upsert -> new number to the ins
    file.  Returns the number of records written."""
    f = cat.f
    old = bytearray(store.RECORD)
    up = bytearray(store.RECORD)
    gone = bytearray(_KEY)
    m = _U32s(_MAP)
    ins = _U32s(_INS)
    i = j = k = n = 0
    have_old = have_up = have_gone = False
    prev = bytearray(_KEY)
    while True:
        if not have_old and i < cat.count:
            f.seek(store.HEADER + i * store.RECORD)
            f.readinto(old)
            have_old = True
        if not have_up and j < ups:
            d.seek(HEADER + j * store.RECORD)
            d.readinto(up)
            if j and _differ(up, 0, prev, 0, _KEY) <= 0:
                raise CatalogError("catalog update keys out of order at %d" % j)
            prev[:] = memoryview(up)[:_KEY]
            have_up = True
        if not have_old and not have_up:
            break
        c = -1 if not have_old else 1 if not have_up else _differ(up, 0, old, 0, _KEY)
        if c <= 0 and have_up:
            out.write(up)
            ins.put(n)
            n += 1
            j += 1
            have_up = False
            if c == 0:
                m.put(_DROP)
                i += 1
                have_old = False
            continue
        # the old record: dropped if the delta deletes its key
        while k < dels:
            if not have_gone:
                d.seek(HEADER + ups * store.RECORD + k * _KEY)
                d.readinto(gone)
                have_gone = True
            g = _differ(gone, 0, old, 0, _KEY)
            if g >= 0:
                break
            k += 1
            have_gone = False
        if have_gone and k < dels and _differ(gone, 0, old, 0, _KEY) == 0:
            m.put(_DROP)
        else:
            out.write(old)
            m.put(n)
            n += 1
        i += 1
        have_old = False
    m.done(_MAP).close()
    ins.done(_INS).close()
    return n


def _index(cat, d, ups, out, base, n_old, width, keylen, ref, order_at, n_new, key_at):
    """Merge an index of the catalog (entries of `width`: key of `keylen`, record number u32 at
    `ref`) with the upserts taken in the delta's order table at `order_at`."""
    f = cat.f
    mf = open(_MAP, "rb")
    nf = open(_INS, "rb")
    try:
        old = bytearray(width)
        new = bytearray(width)
        key = memoryview(new)[:keylen]
        four = bytearray(4)
        i = j = 0
        have_old = have_new = False
        while True:
            while not have_old and i < n_old:
                f.seek(base + i * width)
                f.readinto(old)
                r = _u32(mf, struct.unpack_from(">I", old, ref)[0], four)
                i += 1
                if r != _DROP:
                    struct.pack_into(">I", old, ref, r)
                    have_old = True
            if not have_new and j < n_new:
                d.seek(order_at + j * 4)
                d.readinto(four)
                u = struct.unpack_from(">I", four, 0)[0]
                if u >= ups:
                    raise CatalogError("catalog update index points past its items")
                d.seek(HEADER + u * store.RECORD + key_at)
                d.readinto(key)
                for x in range(keylen, width):
                    new[x] = 0
                struct.pack_into(">I", new, ref, _u32(nf, u, four))
                j += 1
                have_new = True
            if not have_old and not have_new:
                return
            c = -1 if not have_new else 1 if not have_old else _differ(old, 0, new, 0, keylen)
            if c == 0:
                raise CatalogError("catalog update inconsistent: a key twice in an index")
            if c < 0:
                out.write(old)
                have_old = False
            else:
                out.write(new)
                have_new = False
    finally:
        mf.close()
        nf.close()
