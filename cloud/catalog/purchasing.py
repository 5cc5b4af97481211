"""Purchase orders and receiving goods against them (docs/stock.md, "Purchase orders").

    po = purchasing.order(db, store, "Fresh Farms", [(item, 24, 150)], by)
    purchasing.receive(db, po, "T1-0007", [(item, 12)], by)   # a re-sent ref counts once

An order stays open until every line is received in full (state received) or it is
cancelled.  Receiving more than a line still expects, or an item not on the order, is refused
whole: nothing of that delivery is booked.
"""
from sqlalchemy import select

from cloud.catalog.ledger import Ledger, StockError
from cloud.catalog.models import GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from cloud.tenants.models import Store


def order(db, store, supplier, lines, by, note=""):
    """`lines`: [(item, qty base units, unit cost minor units)]."""
    if not lines:
        raise StockError("an order has at least one line")
    seen = set()
    for item, qty, cost in lines:
        if item.id in seen:
            raise StockError("item %s is on the order twice: one line per item" % item.sku)
        seen.add(item.id)
        if qty <= 0:
            raise StockError("item %s: order a quantity above 0" % item.sku)
    po = PurchaseOrder(merchant_id=store.merchant_id, store_id=store.id, supplier=supplier, note=note,
                       created_by=by, state="open")
    db.add(po)
    db.flush()
    db.add_all([PurchaseOrderLine(order_id=po.id, item_id=item.id, qty_ordered=qty, qty_received=0,
                                  unit_cost=cost) for item, qty, cost in lines])
    db.flush()
    return po


def receive(db, po, ref, lines, by):
    """Book one delivery: [(item, qty)]; returns (receipt, repeated).  A ref already booked
    for this order returns that receipt and books nothing."""
    before = db.scalar(select(GoodsReceipt).where(GoodsReceipt.order_id == po.id, GoodsReceipt.ref == ref))
    if before is not None:
        return before, True
    if po.state != "open":
        raise StockError("order %d is %s: nothing more is received against it" % (po.id, po.state))
    ledger = Ledger(db, db.get(Store, po.store_id))
    db.refresh(po)                       # read after the lock: a delivery booked meanwhile counts
    by_item = {ln.item_id: ln for ln in po.lines}
    problems = []
    wanted = {}
    for item, qty in lines:
        ln = by_item.get(item.id)
        if ln is None:
            problems.append("%s is not on order %d" % (item.sku, po.id))
        elif qty <= 0:
            problems.append("%s: receive a quantity above 0" % item.sku)
        else:
            wanted[item.id] = wanted.get(item.id, 0) + qty
    for item_id, qty in wanted.items():
        ln = by_item[item_id]
        if ln.qty_received + qty > ln.qty_ordered:
            problems.append("%s: %d more would make %d received of %d ordered" % (
                ln.item.sku, qty, ln.qty_received + qty, ln.qty_ordered))
    if problems or not lines:
        raise StockError("; ".join(problems) or "a delivery has at least one line")
    receipt = GoodsReceipt(order_id=po.id, ref=ref, lines=len(wanted), received_by=by)
    db.add(receipt)
    for item, qty in lines:
        by_item[item.id].qty_received += qty
        ledger.move(item, "receipt", qty, ref="po:%d %s" % (po.id, ref), by=by)
    if all(ln.qty_received >= ln.qty_ordered for ln in po.lines):
        po.state = "received"
    db.flush()
    return receipt, False


def cancel(db, po):
    if po.state != "open":
        raise StockError("order %d is %s already" % (po.id, po.state))
    po.state = "cancelled"
    db.flush()

