"""The coupon redemption ledger: one row per coupon redeemed, unique per merchant and serial, so
a second redemption of the same coupon (another terminal offline, or a replayed upload) is
refused when it is uploaded (``redeem``).  The sales ingest marks a sale's coupons used in the
commit that stores the sale (``redeem_sale``); a sale whose coupon was redeemed before
elsewhere (two terminals offline) is stored as the money was taken, and the second redemption
is kept as a ``CouponDoubleRedemption`` for the back office, counted once in the ledger."""
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from cloud.audit.recorder import record
from cloud.db import Base, utcnow
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


class CouponDoubleRedemption(Base):
    """A coupon redeemed again after its first redemption (another terminal, another invoice),
    found when the second sale was uploaded: the sale is stored, the coupon not counted twice."""
    __tablename__ = "coupon_double_redemptions"
    __table_args__ = (UniqueConstraint("merchant_id", "serial", "terminal", "invoice",
                                       name="uq_coupon_double_redemptions_use"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    serial: Mapped[str] = mapped_column(String(20))
    program: Mapped[str] = mapped_column(String(20))
    terminal: Mapped[str] = mapped_column(String(64))
    invoice: Mapped[int] = mapped_column(BigInteger)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"))
    discount: Mapped[int] = mapped_column(BigInteger)
    first_id: Mapped[int] = mapped_column(ForeignKey("coupon_redemptions.id", ondelete="CASCADE"))
    found_at: Mapped[datetime] = mapped_column(DateTime)


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


def redeem_sale(session, sale, sale_in, terminal):
    """Mark the uploaded sale's coupons used (in the caller's transaction, the one that stores
    the sale); a coupon redeemed before by another sale is flagged (CouponDoubleRedemption and
    the audit log), never counted a second time.  Returns the double redemptions found."""
    doubles = []
    for c in sale_in.coupons:
        try:
            redeem(session, sale.merchant_id, c.serial, c.program, terminal.controller_id, sale.invoice,
                   c.discount, sale.terminal_time)
        except CouponError as e:
            first = session.query(CouponRedemption).filter_by(merchant_id=sale.merchant_id,
                                                               serial=c.serial).one()
            row = CouponDoubleRedemption(merchant_id=sale.merchant_id, serial=c.serial, program=c.program,
                                         terminal=terminal.controller_id, invoice=sale.invoice, sale_id=sale.id,
                                         discount=c.discount, first_id=first.id, found_at=utcnow())
            session.add(row)
            session.flush()
            record(session, "coupon_double_redemption", "sales", sale.id,
                   {"serial": c.serial, "invoice": sale.invoice, "terminal": terminal.controller_id,
                    "first_terminal": first.terminal, "first_invoice": first.invoice, "why": str(e)},
                   operator_id=terminal.operator_id)
            doubles.append(row)
    return doubles
