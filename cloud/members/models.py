"""Members of a merchant, their cards, the merchant's points programme and the points ledger.

A **member** is known to one merchant by a member number (what a sale's ``member_id`` names),
with a tier, a points balance and a stored-value balance (minor units).  A **member card** is
the UID of an NFC card (MIFARE Classic, NTAG) registered to a member.  The **programme** holds
the points rule (points per amount), the next-reward threshold, the offline stored-value limit
and the key that signs member QR codes.  A **points entry** is one change of a balance: one per
sale at most (the sale's row id is unique), so a sale re-delivered never accrues twice.
"""
from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base, utcnow


class MemberProgramme(Base):
    __tablename__ = "member_programmes"
    __audited__ = True
    __audit_quiet__ = ("qr_key_pem",)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    spend_unit: Mapped[int] = mapped_column(Integer, default=100)      # minor units of spend ...
    points_per_unit: Mapped[int] = mapped_column(Integer, default=1)   # ... earning this many points
    reward_points: Mapped[int] = mapped_column(Integer, default=500)   # the next reward every N points
    reward_text: Mapped[str] = mapped_column(String(40), default="5.00 OFF")
    offline_stored_value: Mapped[int] = mapped_column(BigInteger, default=2000)   # minor units
    qr_ttl_s: Mapped[int] = mapped_column(Integer, default=300)
    qr_key_pem: Mapped[str] = mapped_column(Text)                       # RSA private key, PKCS#8 PEM
    version: Mapped[int] = mapped_column(Integer, default=1)


class Member(Base):
    __tablename__ = "members"
    __audited__ = True
    __table_args__ = (UniqueConstraint("merchant_id", "number", name="uq_member_number"),
                      UniqueConstraint("merchant_id", "phone", name="uq_member_phone"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(16))                      # digits only
    tier: Mapped[str] = mapped_column(String(12), default="BASIC")
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_value: Mapped[int] = mapped_column(BigInteger, default=0)    # minor units
    enrolled_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    enrolled_by: Mapped[str] = mapped_column(String(120), default="")
    cards = relationship("MemberCard", order_by="MemberCard.id", passive_deletes=True)


class MemberCard(Base):
    __tablename__ = "member_cards"
    __audited__ = True
    __table_args__ = (UniqueConstraint("merchant_id", "uid", name="uq_member_card_uid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(20))                        # upper-case hex, 4, 7 or 10 bytes
    kind: Mapped[str] = mapped_column(String(16), default="")           # mifare_classic | ntag


class PointsEntry(Base):
    __tablename__ = "points_entries"
    __table_args__ = (UniqueConstraint("sale_id", name="uq_points_sale"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    sale_id: Mapped[object] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[str] = mapped_column(String(8))                        # sale | refund | void | adjust
    points: Mapped[int] = mapped_column(BigInteger)                     # + earned, - taken back
    balance: Mapped[int] = mapped_column(BigInteger)                    # the member's points after it
    at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(120), default="")
