"""A store's stock as a ledger of movements (docs/stock.md, "Stock").

    ledger = Ledger(db, store)                 # takes the store's row lock
    ledger.move(item, "receipt", 24, ref="po:7", by="account:3 anna")
    ledger.level(item)                         # on hand, base units

Quantities are base units: pieces, or grams for an item sold by the kg.  Each movement keeps
the level it left; a level falling to the item's reorder level or below raises a low-stock
alert, rising above it clears the open one.  The sales ingest moves stock once per sale line in
the transaction that stores the sale (record_sale): a repeated upload is never stored again, and
the movement's (sale, line) is unique besides.
"""
from sqlalchemy import select, update

from cloud.catalog.models import MOVEMENT_KINDS, Item, StockAlert, StockLevel, StockMovement
from cloud.db import utcnow
from cloud.tenants.models import Store


class StockError(ValueError):
    """A stock operation refused; the message says why and what to do."""


def lock_store(db, store_id):
    """Every stock change of a store takes its row lock first (PostgreSQL; SQLite has one
    writer), as the sales ingest does: levels and alerts never race."""
    return db.scalar(select(Store).where(Store.id == store_id).with_for_update())


class Ledger:
    def __init__(self, db, store, locked=False):
        self.db = db
        self.store = store if locked else lock_store(db, store.id)
        self.levels = {}
        self.raised = {}

    def _level(self, item):
        lv = self.levels.get(item.id)
        if lv is None:
            lv = self.db.get(StockLevel, (self.store.id, item.id))
            if lv is None:
                lv = StockLevel(store_id=self.store.id, item_id=item.id, merchant_id=self.store.merchant_id,
                                on_hand=0)
                self.db.add(lv)
            self.levels[item.id] = lv
        return lv

    def level(self, item):
        return self._level(item).on_hand

    def move(self, item, kind, qty, ref="", note="", by="", sale_id=None, line_no=None):
        if kind not in MOVEMENT_KINDS:
            raise StockError("no movement kind %r (%s)" % (kind, ", ".join(MOVEMENT_KINDS)))
        if item.merchant_id != self.store.merchant_id:
            raise StockError("item %s is not this merchant's" % item.sku)
        lv = self._level(item)
        before = lv.on_hand
        lv.on_hand = before + qty
        lv.updated_at = utcnow()
        m = StockMovement(merchant_id=self.store.merchant_id, store_id=self.store.id, item_id=item.id, kind=kind,
                          qty=qty, on_hand_after=lv.on_hand, sale_id=sale_id, line_no=line_no, ref=ref[:40],
                          note=note[:120], by=by[:120])
        self.db.add(m)
        rl = item.reorder_level
        if rl > 0 and before > rl >= lv.on_hand:
            a = StockAlert(merchant_id=self.store.merchant_id, store_id=self.store.id, item_id=item.id,
                           on_hand=lv.on_hand, reorder_level=rl)
            self.db.add(a)
            self.raised[item.id] = a
        elif rl > 0 and before <= rl < lv.on_hand:
            now = utcnow()
            a = self.raised.pop(item.id, None)
            if a is not None:
                a.cleared_at = now
            self.db.execute(update(StockAlert).where(StockAlert.store_id == self.store.id,
                                                     StockAlert.item_id == item.id,
                                                     StockAlert.cleared_at.is_(None)).values(cleared_at=now))
        return m


def line_quantity(item, line):
    """Base units a sale line takes: its qty for a piece item; for a kg item the grams its
    amount buys at the item's price per kg (the terminal prices a weighed line as price x
    grams / 1000, half up), its qty x 1000 when the item has no price."""
    if item.unit != "kg":
        return line.qty
    if item.price <= 0:
        return line.qty * 1000
    return (line.amount * 1000 + item.price // 2) // item.price


def items_by_sku(db, merchant_id, skus):
    skus = sorted(set(skus))
    out = {}
    for k in range(0, len(skus), 500):
        out.update({i.sku: i for i in db.scalars(select(Item).where(Item.merchant_id == merchant_id,
                                                                     Item.sku.in_(skus[k:k + 500])))})
    return out


def record_sale(db, sale, sale_in, store, ledger=None, items=None):
    """Move stock for each line of a stored sale (flushed, not committed) whose SKU is one of
    the merchant's items: a sale takes out, a refund or a void puts back.  Lines of other SKUs
    (a keyed amount) move nothing.  `ledger`, `items`: shared over a batch of one store."""
    items = items if items is not None else items_by_sku(db, sale.merchant_id, [ln.sku for ln in sale_in.lines])
    if not any(ln.sku in items for ln in sale_in.lines):
        return 0
    ledger = ledger or Ledger(db, store, locked=True)
    sign = -1 if sale.kind == "sale" else 1
    kind = "sale" if sale.kind == "sale" else "refund"
    n = 0
    for no, ln in enumerate(sale_in.lines, start=1):
        item = items.get(ln.sku)
        if item is None:
            continue
        ledger.move(item, kind, sign * line_quantity(item, ln), ref="invoice %d" % sale.invoice, sale_id=sale.id,
                    line_no=no)
        n += 1
    return n
