# Goods counted by scanning at the terminal, for receiving against a purchase order or for a
# stock take (docs/stock.md, "At the terminal"): each scan adds to its item's line (a weight
# label adds its grams, other codes one piece); the lines go to the cloud in one request whose
# reference makes a re-sent batch count once.  The lines live in one bytearray allocated when
# the tally opens (8 bytes a line: catalog record number, quantity), names are read from the
# flash catalog again when shown.
#
#     t = Tally(Catalog(), 200)
#     item, qty = t.scan("4006381333931")          # CatalogError: refused, the tally as it was
#     st, answer = await t.send_receipt(link, order_id, "T-1/0007")
#
# A request is kept on flash before it is sent (`keep`, `KEPT`) and taken off only once the
# cloud has answered it: a count whose answer did not come is sent again, the same bytes and
# reference, and the cloud books it once.
import json
import os
import struct

from micropython import const

from pos.catalog import CatalogError, barcode

_LINE = const(8)
KEPT = "stock.out"              # the request not yet answered: its path, a newline, its JSON body
SEQ = "stock.seq"               # the number of the terminal's last reference


class Link:
    """Where the terminal's stock requests go: the cloud's device API with its TargetToken."""

    def __init__(self, base, tenant, controller_id, token, pin=None):
        self.url = "%s/%s/controller/v1/%s/stock/" % (base.rstrip("/"), tenant, controller_id)
        self.headers = {"Authorization": "TargetToken " + token, "Content-Type": "application/json"}
        self.pin = pin

    async def post(self, path, body):
        """(status, the answer's JSON or its text); HttpError when no answer came."""
        return await self._ask("POST", path, body)

    async def get(self, path):
        """(status, the answer's JSON or its text); HttpError when no answer came."""
        return await self._ask("GET", path, None)

    async def _ask(self, method, path, body):
        from pos.net import http
        st, hdrs, answer = await http.request(method, self.url + path, headers=self.headers, body=body,
                                              timeout_ms=30000, ssl_context=self.pin)
        try:
            return st, json.loads(answer)
        except ValueError:
            return st, answer[:200].decode()


class Tally:
    def __init__(self, catalog, max_lines=200, layouts=None):
        self.catalog = catalog
        self.layouts = layouts
        self.max = max_lines
        self.buf = bytearray(max_lines * _LINE)
        self.n = 0

    def _find(self, rec):
        for i in range(self.n):
            if struct.unpack_from(">I", self.buf, i * _LINE)[0] == rec:
                return i
        return -1

    def scan(self, code, qty=1):
        """Add a scanned code: (Item, its quantity so far).  A weight label counts its grams."""
        key, kind, value = barcode.parse(code, self.layouts)
        rec = self.catalog.by_barcode(key)
        if rec < 0:
            raise CatalogError("unknown barcode: not in the catalog")
        item = self.catalog.item(rec)
        if kind == "weight":
            qty = value
        i = self._find(rec)
        if i < 0:
            if self.n == self.max:
                raise CatalogError("tally full (%d lines): send it, then go on" % self.max)
            i = self.n
            self.n += 1
            struct.pack_into(">Ii", self.buf, i * _LINE, rec, 0)
        total = struct.unpack_from(">i", self.buf, i * _LINE + 4)[0] + qty
        struct.pack_into(">i", self.buf, i * _LINE + 4, total)
        return item, total

    def set(self, i, qty):
        """Line i's quantity keyed instead of scanned (0 and above)."""
        if qty < 0:
            raise CatalogError("a count is 0 or more")
        struct.pack_into(">i", self.buf, i * _LINE + 4, qty)

    def counted(self, sku):
        """The quantity counted of `sku` (0 when not scanned)."""
        for i in range(self.n):
            item, qty = self.line(i)
            if item.sku == sku:
                return qty
        return 0

    def line(self, i):
        """(Item, quantity) of line i."""
        rec, qty = struct.unpack_from(">Ii", self.buf, i * _LINE)
        return self.catalog.item(rec), qty

    def body(self, head, zeros=True):
        """The request's JSON: `head` (the fields before the lines, ending with a comma) and
        the lines by SKU (`zeros` False: lines keyed to 0 left out, as a delivery's)."""
        out = bytearray(b"{")
        out.extend(head.encode())
        out.extend(b'"lines":[')
        first = True
        for i in range(self.n):
            item, qty = self.line(i)
            if not qty and not zeros:
                continue                    # keyed to 0: nothing of it came
            if not first:
                out.extend(b",")
            first = False
            out.extend(('{"sku":%s,"qty":%d}' % (json.dumps(item.sku), qty)).encode())
        out.extend(b"]}")
        return out

    async def send_receipt(self, link, order_id, ref):
        return await link.post("receipts", self.body('"order_id":%d,"ref":%s,' % (order_id, json.dumps(ref)), False))

    async def send_counts(self, link, ref):
        return await link.post("counts", self.body('"ref":%s,' % json.dumps(ref)))

    def clear(self):
        self.n = 0


def next_ref(controller_id):
    """A reference of this terminal never used before ("POS1/7"); the number is on flash."""
    try:
        with open(SEQ) as f:
            n = int(f.read() or "0")
    except (OSError, ValueError):
        n = 0
    n += 1
    with open(SEQ + ".tmp", "w") as f:
        f.write(str(n))
    os.rename(SEQ + ".tmp", SEQ)
    return "%s/%d" % (controller_id, n)


def keep(path, body):
    """The request (`path` under the stock API, its JSON body) on flash until answered."""
    with open(KEPT + ".tmp", "wb") as f:
        f.write(path.encode())
        f.write(b"\n")
        f.write(body)
    os.rename(KEPT + ".tmp", KEPT)


def kept():
    """(path, body) of the request kept on flash, or None."""
    try:
        size = os.stat(KEPT)[6]
        f = open(KEPT, "rb")
    except OSError:
        return None
    try:
        path = f.readline().decode().strip()
        body = bytearray(size - len(path) - 1)
        f.readinto(body)
    finally:
        f.close()
    return path, body


def settle():
    """The kept request was answered (booked or refused for good): off flash."""
    try:
        os.remove(KEPT)
    except OSError:
        pass


async def send_kept(link):
    """Send the kept request: (path, status, answer); status 0 when no answer came (the
    request stays on flash).  Booked (200, 201) or refused for good (404, 409, 422) take it off."""
    from pos.net import http
    path, body = kept()
    try:
        st, answer = await link.post(path, body)
    except http.HttpError as e:
        return path, 0, str(e)
    if st in (200, 201, 404, 422) or (st == 409 and "again" not in str(answer)):
        settle()                        # a 409 that says "send it again" met a concurrent booking
    return path, st, answer
