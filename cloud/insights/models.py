"""Tables of the insights.

* ``insight_baskets``: the trading record the insights read, one row per sale, refund or
  chargeback (item codes as text, amounts in minor units, the member's code or "").
* ``insight_members``: a member's privacy switch: ``recommendations_opt_out`` keeps the member's
  baskets out of the model and the member out of every recommendation.
* ``insight_models``: a merchant's learnt recommendation model (JSON), replaced on each recompute.
* ``lenders``: a bank or factoring partner of the operator, authenticating with an API key
  (``lk_`` + 43 random characters; only its SHA-256 is kept).
* ``credit_consents``: a merchant's consent for one lender to read one scope until it expires
  or is revoked.  Rows are never deleted: a revocation sets ``revoked_at``.
"""
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base, utcnow


class InsightBasket(Base):
    __tablename__ = "insight_baskets"
    __table_args__ = (Index("ix_insight_baskets_merchant_at", "merchant_id", "at"),
                      Index("ix_insight_baskets_merchant_member", "merchant_id", "member_code"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    store_id: Mapped[object] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[object] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(12))          # sale, refund, chargeback
    tender: Mapped[str] = mapped_column(String(8))         # cash, card, qr, gift
    amount: Mapped[int] = mapped_column(Integer)            # minor units
    member_code: Mapped[str] = mapped_column(String(32), default="")
    items: Mapped[str] = mapped_column(Text, default="")    # item codes separated by spaces


class InsightItem(Base):
    __tablename__ = "insight_items"
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class InsightMember(Base):
    __tablename__ = "insight_members"
    __audited__ = True
    __table_args__ = (UniqueConstraint("merchant_id", "code", name="uq_insight_member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    recommendations_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class InsightModel(Base):
    __tablename__ = "insight_models"
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    baskets_used: Mapped[int] = mapped_column(Integer, default=0)
    members_excluded: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(Text, default="{}")


class Lender(Base):
    __tablename__ = "lenders"
    __audited__ = True
    __audit_secret__ = ("key_hash",)
    __table_args__ = (UniqueConstraint("operator_id", "name", name="uq_lender_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class CreditConsent(Base):
    __tablename__ = "credit_consents"
    __audited__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    lender_id: Mapped[int] = mapped_column(ForeignKey("lenders.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(120), default="")
    expires_at: Mapped[object] = mapped_column(DateTime)
    revoked_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    lender = relationship("Lender")
