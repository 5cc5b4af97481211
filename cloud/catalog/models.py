"""The merchant's catalog and each store's stock (docs/stock.md).

**Catalog.** Items and categories belong to a merchant.  An item's SKU is unique within its
merchant; its barcode key (the 14-digit key the terminal looks a scan up by) is unique among
the merchant's active items.  Items are never deleted, only made inactive: the stock ledger
keeps pointing at them.  Every change of what a terminal holds takes the merchant's next
**catalog version** (``catalog_heads``, its row locked for the change, so catalog writes of a
merchant go one at a time); a changed item carries the version of its last change, a key that
left the catalog a **tombstone** with the version it left at.  A terminal at version N is sent
what changed after N (cloud.catalog.feed).

**Stock.** A store's stock of an item is a ledger of **movements** (sale, refund, receipt,
adjustment, stocktake) in base units (pieces; grams for items sold by the kg), and the level
they add up to (``stock_levels``, kept in the same transaction).  Every stock change of a
store takes that store's row lock first, as the sales ingest does.  A movement of a sale line
is unique by sale and line: an upload is stored once, so its stock moves once.
"""
from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, SmallInteger, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base, utcnow

MOVEMENT_KINDS = ("sale", "refund", "receipt", "adjustment", "stocktake")
ORDER_STATES = ("open", "received", "cancelled")
TAKE_STATES = ("open", "closed", "cancelled")


class CatalogHead(Base):
    __tablename__ = "catalog_heads"
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # the oldest version a delta can start from (tombstones before it were let go)
    floor: Mapped[int] = mapped_column(Integer, default=0)


class Category(Base):
    __tablename__ = "catalog_categories"
    __audited__ = True
    __table_args__ = (UniqueConstraint("merchant_id", "code", name="uq_category_code"),
                      UniqueConstraint("merchant_id", "name", name="uq_category_name"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    code: Mapped[int] = mapped_column(SmallInteger)                  # 1-255: the terminal's category byte
    name: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(40), default="")


class Item(Base):
    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("merchant_id", "sku", name="uq_item_sku"),
                      Index("ix_catalog_items_merchant_version", "merchant_id", "version"),
                      Index("ix_catalog_items_merchant_key", "merchant_id", "key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(12))
    barcode: Mapped[str] = mapped_column(String(13))                 # as printed: EAN-13, EAN-8, UPC-A
    key: Mapped[str] = mapped_column(String(14))                     # the terminal's look-up key
    name: Mapped[str] = mapped_column(String(60))
    name_zh: Mapped[str] = mapped_column(String(60), default="")
    price: Mapped[int] = mapped_column(BigInteger)                   # minor units; per kg for kg items
    tax: Mapped[int] = mapped_column(SmallInteger, default=0)        # tax category 0-255
    unit: Mapped[str] = mapped_column(String(5), default="piece")    # piece | kg
    category_id: Mapped[object] = mapped_column(ForeignKey("catalog_categories.id", ondelete="RESTRICT"),
                                                nullable=True)
    plu: Mapped[int] = mapped_column(Integer, default=0)             # favourite key, 0: none
    reorder_level: Mapped[int] = mapped_column(BigInteger, default=0)   # base units; 0: no alert
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer)                    # catalog version of its last change
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    category = relationship("Category")


class CatalogTombstone(Base):
    __tablename__ = "catalog_tombstones"
    __table_args__ = (Index("ix_catalog_tombstones_merchant_version", "merchant_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(14))
    version: Mapped[int] = mapped_column(Integer)


class StockLevel(Base):
    __tablename__ = "stock_levels"
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    item = relationship("Item")


class StockMovement(Base):
    __tablename__ = "stock_movements"
    __table_args__ = (UniqueConstraint("sale_id", "line_no", name="uq_stock_movement_sale_line"),
                      Index("ix_stock_movements_store_item", "store_id", "item_id", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    qty: Mapped[int] = mapped_column(BigInteger)                     # signed base units
    on_hand_after: Mapped[int] = mapped_column(BigInteger)
    sale_id: Mapped[object] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), nullable=True)
    line_no: Mapped[object] = mapped_column(Integer, nullable=True)
    ref: Mapped[str] = mapped_column(String(40), default="")         # po:7, take:3, the sale's invoice
    note: Mapped[str] = mapped_column(String(120), default="")
    by: Mapped[str] = mapped_column(String(120), default="")
    at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    item = relationship("Item")


class StockAlert(Base):
    __tablename__ = "stock_alerts"
    __table_args__ = (Index("ix_stock_alerts_store_open", "store_id", "cleared_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"))
    on_hand: Mapped[int] = mapped_column(BigInteger)                 # the level when it fell to the reorder level
    reorder_level: Mapped[int] = mapped_column(BigInteger)
    raised_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    cleared_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    item = relationship("Item")


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    __audited__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    supplier: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    lines = relationship("PurchaseOrderLine", order_by="PurchaseOrderLine.id", passive_deletes=True)


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (UniqueConstraint("order_id", "item_id", name="uq_po_line_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="RESTRICT"))
    qty_ordered: Mapped[int] = mapped_column(BigInteger)
    qty_received: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_cost: Mapped[int] = mapped_column(BigInteger, default=0)    # minor units per base unit
    item = relationship("Item")


class GoodsReceipt(Base):
    """One delivery received against an order; `ref` (the receiver's own reference, e.g. the
    terminal and its count number) makes a re-sent receipt count once."""
    __tablename__ = "goods_receipts"
    __table_args__ = (UniqueConstraint("order_id", "ref", name="uq_goods_receipt_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(40))
    lines: Mapped[int] = mapped_column(Integer, default=0)
    received_by: Mapped[str] = mapped_column(String(120), default="")
    received_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class StockTake(Base):
    __tablename__ = "stock_takes"
    __audited__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    lines = relationship("StockTakeLine", order_by="StockTakeLine.id", passive_deletes=True)


class StockCountBatch(Base):
    """One batch of counts sent to a take by a terminal; `ref` makes a re-sent batch count once."""
    __tablename__ = "stock_count_batches"
    __table_args__ = (UniqueConstraint("take_id", "ref", name="uq_stock_count_batch_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("stock_takes.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(40))
    lines: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class StockTakeLine(Base):
    __tablename__ = "stock_take_lines"
    __table_args__ = (UniqueConstraint("take_id", "item_id", name="uq_stock_take_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("stock_takes.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="RESTRICT"))
    counted: Mapped[int] = mapped_column(BigInteger, default=0)
    expected: Mapped[object] = mapped_column(BigInteger, nullable=True)   # the level at close
    variance: Mapped[object] = mapped_column(BigInteger, nullable=True)   # counted - expected
    item = relationship("Item")
