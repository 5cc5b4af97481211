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
import json
import struct

from micropython import const

from pos.catalog import CatalogError, barcode

_LINE = const(8)


class Link:
    """Where the terminal's stock requests go: the cloud's device API with its TargetToken."""

    def __init__(self, base, tenant, controller_id, token, pin=None):
        self.url = "%s/%s/controller/v1/%s/stock/" % (base.rstrip("/"), tenant, controller_id)
        self.headers = {"Authorization": "TargetToken " + token, "Content-Type": "application/json"}
        self.pin = pin

    async def post(self, path, body):
        """(status, the answer's JSON or its text)."""
        from pos.net import http
        st, hdrs, answer = await http.request("POST", self.url + path, headers=self.headers, body=body,
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

    def line(self, i):
        """(Item, quantity) of line i."""
        rec, qty = struct.unpack_from(">Ii", self.buf, i * _LINE)
        return self.catalog.item(rec), qty

    def body(self, head):
        """The request's JSON: `head` (the fields before the lines, ending with a comma) and
        the lines by SKU."""
        out = bytearray(b"{")
        out.extend(head.encode())
        out.extend(b'"lines":[')
        for i in range(self.n):
            item, qty = self.line(i)
            if i:
                out.extend(b",")
            out.extend(('{"sku":%s,"qty":%d}' % (json.dumps(item.sku), qty)).encode())
        out.extend(b"]}")
        return out

    async def send_receipt(self, link, order_id, ref):
        return await link.post("receipts", self.body('"order_id":%d,"ref":%s,' % (order_id, json.dumps(ref))))

    async def send_counts(self, link, ref):
        return await link.post("counts", self.body('"ref":%s,' % json.dumps(ref)))

    def clear(self):
        self.n = 0
