"""Gift cards of a merchant and their ledger.

A **gift card** has a number (docs/gift-cards.md: 12 digits with a check digit), unique per
merchant, and a balance in minor units that never goes below zero.  A **gift card entry** is
one change of a balance: issued, redeemed at a terminal, refunded to it, topped up; an entry
made by a terminal is unique by (terminal, invoice, kind), the idempotency key of the counter's
request, so a request repeated after a lost answer changes the balance once.
"""
from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, utcnow


class GiftCard(Base):
    __tablename__ = "gift_cards"
    __audited__ = True
    __table_args__ = (UniqueConstraint("merchant_id", "number", name="uq_gift_card_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(12))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)          # minor units, never below 0
    issued: Mapped[int] = mapped_column(BigInteger, default=0)           # the balance it was issued with
    issued_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(120), default="")


class GiftCardEntry(Base):
    __tablename__ = "gift_card_entries"
    __table_args__ = (UniqueConstraint("terminal_id", "invoice", "kind", name="uq_gift_card_request"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"))
    card_id: Mapped[int] = mapped_column(ForeignKey("gift_cards.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))                         # issue | redeem | refund | topup
    amount: Mapped[int] = mapped_column(BigInteger)                      # + to the card, - spent
    balance: Mapped[int] = mapped_column(BigInteger)                     # the card's balance after it
    terminal_id: Mapped[object] = mapped_column(ForeignKey("terminals.id", ondelete="SET NULL"), nullable=True)
    invoice: Mapped[object] = mapped_column(BigInteger, nullable=True)   # the terminal's invoice
    original_invoice: Mapped[object] = mapped_column(BigInteger, nullable=True)   # a refund's sale
    at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(120), default="")
