"""Sales as stored, refused re-deliveries, the journal they post, and closed days.

A **sale** (or refund) is one completed transaction of one terminal, unique by terminal and
invoice number (the idempotency key); ``body`` is its canonical content and ``content_sha256``
the digest the key is compared with.  A delivery with a known key and other content is never
stored over it: it becomes a **sale conflict** for an operator or the merchant to look into.
Every sale posts one balanced **journal entry** (its **postings** add up to zero) on the day it
is booked to; a **day close** locks a store's day; a **reconciliation** compares a settlement
file with a day's records and posts the settlement.
"""
from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base, utcnow


class Sale(Base):
    __tablename__ = "sales"
    __table_args__ = (UniqueConstraint("terminal_id", "invoice", name="uq_sale_invoice"),
                      Index("ix_sales_merchant_day", "merchant_id", "booked_day"),
                      Index("ix_sales_merchant_received", "merchant_id", "received_at"),
                      Index("ix_sales_operator_received", "operator_id", "received_at", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="RESTRICT"))
    invoice: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))                     # sale | refund
    currency: Mapped[str] = mapped_column(String(3))                 # ISO 4217 alphabetic
    total: Mapped[int] = mapped_column(BigInteger)                   # lines - discounts, minor units
    tip: Mapped[int] = mapped_column(BigInteger, default=0)
    member_id: Mapped[str] = mapped_column(String(64), default="")
    cashier: Mapped[str] = mapped_column(String(40), default="")
    terminal_time: Mapped[object] = mapped_column(DateTime)          # terminal clock, naive UTC
    received_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    clock_skew_s: Mapped[object] = mapped_column(Integer, nullable=True)   # terminal - server, when known
    skew_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    business_day: Mapped[object] = mapped_column(Date)               # the store's local day it happened
    booked_day: Mapped[object] = mapped_column(Date)                 # the day its postings went to
    booking_note: Mapped[str] = mapped_column(String(200), default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    terminal = relationship("Terminal")
    store = relationship("Store")


class SaleConflict(Base):
    __tablename__ = "sale_conflicts"
    __table_args__ = (UniqueConstraint("terminal_id", "invoice", "content_sha256", name="uq_sale_conflict"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="RESTRICT"))
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    invoice: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)                          # the refused content, card data masked
    first_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    last_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    deliveries: Mapped[int] = mapped_column(Integer, default=1)


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_store_day", "store_id", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    sale_id: Mapped[object] = mapped_column(ForeignKey("sales.id", ondelete="RESTRICT"), nullable=True,
                                            unique=True)
    day: Mapped[object] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    narration: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    postings = relationship("Posting", order_by="Posting.id", passive_deletes=True)


class Posting(Base):
    __tablename__ = "postings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)                  # minor units; debit +, credit -
    tax_rate_bp: Mapped[object] = mapped_column(Integer, nullable=True)


class DayClose(Base):
    __tablename__ = "day_closes"
    __audited__ = True
    __table_args__ = (UniqueConstraint("store_id", "day", name="uq_day_close"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    day: Mapped[object] = mapped_column(Date)
    closed_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    closed_by: Mapped[str] = mapped_column(String(120))
    sales: Mapped[int] = mapped_column(Integer, default=0)
    refunds: Mapped[int] = mapped_column(Integer, default=0)
    net: Mapped[int] = mapped_column(BigInteger, default=0)          # sales - refunds, minor units, tax incl.


class Reconciliation(Base):
    """One settlement file of an acquirer or a wallet host compared with a store's day
    (cloud.sales.reconcile); the report lists every difference."""
    __tablename__ = "reconciliations"
    __audited__ = True
    __audit_quiet__ = ("report",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"), index=True)
    source: Mapped[str] = mapped_column(String(8))                   # acquirer | wallet
    name: Mapped[str] = mapped_column(String(40))
    day: Mapped[object] = mapped_column(Date)
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    matched: Mapped[int] = mapped_column(Integer, default=0)
    differences: Mapped[int] = mapped_column(Integer, default=0)
    entry_id: Mapped[object] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"), nullable=True)
    report: Mapped[str] = mapped_column(Text)
