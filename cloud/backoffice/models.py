"""The merchant back office's facts: one row per sale, per tender and per line, written by the
ingest in the same commit that stores the sale and posts its books (cloud.backoffice.facts), so
that the dashboard reads narrow, indexed rows instead of parsing uploads.

Every table carries the merchant, the store and the store's local business day, indexed
(merchant_id, day) and (merchant_id, store_id, day): a dashboard query is a range scan of one
merchant's days.  Amounts are minor units and signed: a refund's rows are negative, so a sum over
a period is the net.
"""
from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base


class SaleFact(Base):
    __tablename__ = "sale_facts"
    __table_args__ = (Index("ix_sale_facts_merchant_day", "merchant_id", "day"),
                      Index("ix_sale_facts_merchant_store_day", "merchant_id", "store_id", "day"),
                      Index("ix_sale_facts_merchant_member", "merchant_id", "member_id"))
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"))
    day: Mapped[object] = mapped_column(Date)                        # the store's local business day
    hour: Mapped[int] = mapped_column(SmallInteger)                  # the store's local hour, 0-23
    kind: Mapped[str] = mapped_column(String(8))                     # sale | refund
    cashier: Mapped[str] = mapped_column(String(40), default="")
    member_id: Mapped[str] = mapped_column(String(64), default="")
    first_visit: Mapped[bool] = mapped_column(Boolean, default=False)   # the member's first sale here
    gross: Mapped[int] = mapped_column(BigInteger)                   # lines, tax included
    discounts: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)                     # gross - discounts, tip excluded
    tax: Mapped[int] = mapped_column(BigInteger)
    tip: Mapped[int] = mapped_column(BigInteger)


class TenderFact(Base):
    __tablename__ = "tender_facts"
    __table_args__ = (Index("ix_tender_facts_merchant_day", "merchant_id", "day"),
                      Index("ix_tender_facts_merchant_store_day", "merchant_id", "store_id", "day"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    day: Mapped[object] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(24))                  # cash | card:<scheme> | qr:<wallet> | gift
    amount: Mapped[int] = mapped_column(BigInteger)                  # signed


class LineFact(Base):
    __tablename__ = "line_facts"
    __table_args__ = (Index("ix_line_facts_merchant_day", "merchant_id", "day"),
                      Index("ix_line_facts_merchant_store_day", "merchant_id", "store_id", "day"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    day: Mapped[object] = mapped_column(Date)
    sku: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60), default="")
    qty: Mapped[int] = mapped_column(Integer)                        # signed
    amount: Mapped[int] = mapped_column(BigInteger)                  # signed, tax included


class StoreDay(Base):
    """The daily rollup of a store's sale facts (migration 0017): one row per merchant, store and
    local business day, kept by the ingest in the same commit as the facts it sums (facts.record),
    so that a period's totals, and the operator's merchants ranked over a month, read a row a
    store-day instead of a row a sale.  Amounts signed as in sale_facts; `sales` and `refunds`
    are the net of the sales and the (positive) amount taken back by refunds and voids."""
    __tablename__ = "store_days"
    __table_args__ = (Index("ix_store_days_day", "day"),)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[object] = mapped_column(Date, primary_key=True)
    sale_count: Mapped[int] = mapped_column(Integer, default=0)
    refund_count: Mapped[int] = mapped_column(Integer, default=0)
    sales: Mapped[int] = mapped_column(BigInteger, default=0)
    refunds: Mapped[int] = mapped_column(BigInteger, default=0)
    gross: Mapped[int] = mapped_column(BigInteger, default=0)
    discounts: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    tips: Mapped[int] = mapped_column(BigInteger, default=0)
