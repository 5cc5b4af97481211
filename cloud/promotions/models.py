"""The coupon redemption ledger: one row per coupon redeemed, unique per merchant and serial, so
a second redemption of the same coupon (another terminal offline, or a replayed upload) is
refused when it is uploaded (``redeem``)."""
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base
from cloud.promotions.coupons import CouponError


class CouponRedemption(Base):
    __tablename__ = "coupon_redemptions"
    __table_args__ = (UniqueConstraint("merchant_id", "serial", name="uq_coupon_redemptions_serial"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    serial: Mapped[str] = mapped_column(String(20))
    program: Mapped[str] = mapped_column(String(20))
    terminal: Mapped[str] = mapped_column(String(64))
    invoice: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger)
    redeemed_at: Mapped[datetime] = mapped_column(DateTime)


def redeem(session, merchant_id, serial, program, terminal, invoice, discount, when):
    """Record the coupon's redemption; CouponError when it was redeemed before (the same
    terminal and invoice again is the same redemption, an upload sent twice: no error)."""
    prior = session.query(CouponRedemption).filter_by(merchant_id=merchant_id, serial=serial).one_or_none()
    if prior is not None:
        if (prior.terminal, prior.invoice) == (terminal, invoice):
            return prior
        raise CouponError("coupon %s already redeemed on terminal %s, invoice %d"
                          % (serial, prior.terminal, prior.invoice))
    row = CouponRedemption(merchant_id=merchant_id, serial=serial, program=program, terminal=terminal,
                           invoice=invoice, discount=discount, redeemed_at=when)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise CouponError("coupon %s already redeemed" % serial)
    return row
