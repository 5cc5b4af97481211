"""Stock takes: count a store's items, then close the take to set the stock to what was
counted (docs/stock.md, "Stock takes").

    take = stocktake.open_take(db, store, by)
    stocktake.count(db, take, [(item, 3)])            # a scan adds; mode "set" replaces
    stocktake.close(db, take, by)                     # variance = counted - on hand at close

Only the counted items change; one take is open per store at a time.  The expected quantity is
the level when the take closes, so sales made while counting are accounted for up to then.
"""
from sqlalchemy import select

from cloud.catalog.ledger import Ledger, StockError
from cloud.catalog.models import StockCountBatch, StockTake, StockTakeLine
from cloud.db import utcnow
from cloud.tenants.models import Store


def open_take(db, store, by, note=""):
    Ledger(db, store)                     # the store's lock: one open take at a time
    if db.scalar(select(StockTake.id).where(StockTake.store_id == store.id, StockTake.state == "open")):
        raise StockError("store %s has a stock take open: close or cancel it first" % store.name)
    t = StockTake(merchant_id=store.merchant_id, store_id=store.id, state="open", created_by=by, note=note)
    db.add(t)
    db.flush()
    return t


def count(db, take, lines, mode="add"):
    """`lines`: [(item, qty)]; mode add (a scan adds to the count) or set."""
    if take.state != "open":
        raise StockError("stock take %d is %s: counts go to an open take" % (take.id, take.state))
    if mode not in ("add", "set"):
        raise StockError("mode add or set")
    have = {ln.item_id: ln for ln in take.lines}
    for item, qty in lines:
        if item.merchant_id != take.merchant_id:
            raise StockError("item %s is not this merchant's" % item.sku)
        ln = have.get(item.id)
        if ln is None:
            ln = StockTakeLine(take_id=take.id, item_id=item.id, counted=0)
            db.add(ln)
            have[item.id] = ln
        ln.counted = ln.counted + qty if mode == "add" else qty
        if ln.counted < 0:
            raise StockError("item %s: a count below 0" % item.sku)
    db.flush()
    db.refresh(take)
    return take


def count_batch(db, take, ref, lines):
    """Add a terminal's batch of scanned counts once: (take, repeated); a `ref` already
    counted in this take adds nothing."""
    if db.scalar(select(StockCountBatch.id).where(StockCountBatch.take_id == take.id, StockCountBatch.ref == ref)):
        return take, True
    if take.state != "open":
        raise StockError("stock take %d is %s: counts go to an open take" % (take.id, take.state))
    db.add(StockCountBatch(take_id=take.id, ref=ref, lines=len(lines)))
    return count(db, take, lines), False


def open_take_of(db, store_id):
    return db.scalar(select(StockTake).where(StockTake.store_id == store_id, StockTake.state == "open"))


def close(db, take, by):
    """Set every counted item's stock to its count (a stocktake movement of the variance)."""
    if take.state != "open":
        raise StockError("stock take %d is %s already" % (take.id, take.state))
    ledger = Ledger(db, db.get(Store, take.store_id))
    for ln in take.lines:
        ln.expected = ledger.level(ln.item)
        ln.variance = ln.counted - ln.expected
        if ln.variance:
            ledger.move(ln.item, "stocktake", ln.variance, ref="take:%d" % take.id, by=by)
    take.state = "closed"
    take.closed_at = utcnow()
    db.flush()
    return take


def cancel(db, take):
    if take.state != "open":
        raise StockError("stock take %d is %s already" % (take.id, take.state))
    take.state = "cancelled"
    take.closed_at = utcnow()
    db.flush()
