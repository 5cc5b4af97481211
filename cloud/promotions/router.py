"""/api/v1 (back office) and the device API of coupons (docs/promotions.md, "Single use").

Back office: ``GET /api/v1/merchants/{id}/coupon-redemptions`` (the ledger) and
``GET /api/v1/merchants/{id}/coupon-double-redemptions`` (a coupon redeemed twice: two terminals
offline; the second sale stored, the coupon counted once).  Device API:
``GET /{tenant}/controller/v1/{controllerId}/coupons/redeemed?after=N``: the serials of the
merchant's coupons redeemed since ledger row N, as the terminal's own used-coupon file holds
them (20-byte records, the serial space padded), the last row in ``X-Coupons-Through``, so a
coupon used at one terminal is refused at the others once they have synced.
"""
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.deps import AUTHED, IdPath, not_found, principal, problems, session
from cloud.promotions.models import CouponDoubleRedemption, CouponRedemption
from cloud.tenants.models import Merchant, Terminal
from cloud.tms.ddi import controller

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["promotions"])
device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}/coupons", tags=["promotions (device API)"],
                   responses=problems(401, 409))

RECORD = 20                  # a used-coupon record on the terminal: the serial, space padded
PAGE = 1000                  # records a delivery at most (20 KB); the terminal asks again


class RedemptionOut(BaseModel):
    id: int
    serial: str
    program: str
    terminal: str
    invoice: int
    discount: int
    redeemed_at: datetime


class DoubleOut(BaseModel):
    id: int
    serial: str
    program: str
    terminal: str
    invoice: int
    sale_id: int
    discount: int
    first_terminal: str
    first_invoice: int
    found_at: datetime


def _merchant(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


@router.get("/merchants/{merchant_id}/coupon-redemptions", response_model=list[RedemptionOut])
def list_redemptions(merchant_id: IdPath, limit: int = Query(100, ge=1, le=1000),
                     db: Session = Depends(session), who: Principal = Depends(principal)):
    """The coupons redeemed, newest first."""
    _merchant(db, who, merchant_id)
    rows = db.scalars(select(CouponRedemption).where(CouponRedemption.merchant_id == merchant_id)
                      .order_by(CouponRedemption.id.desc()).limit(limit))
    return [RedemptionOut(id=r.id, serial=r.serial, program=r.program, terminal=r.terminal, invoice=r.invoice,
                          discount=r.discount, redeemed_at=r.redeemed_at) for r in rows]


@router.get("/merchants/{merchant_id}/coupon-double-redemptions", response_model=list[DoubleOut])
def list_doubles(merchant_id: IdPath, limit: int = Query(100, ge=1, le=1000),
                 db: Session = Depends(session), who: Principal = Depends(principal)):
    """Coupons redeemed again after their first redemption (terminals that sold offline), newest
    first, each with the redemption that counted."""
    _merchant(db, who, merchant_id)
    q = (select(CouponDoubleRedemption, CouponRedemption)
         .join(CouponRedemption, CouponRedemption.id == CouponDoubleRedemption.first_id)
         .where(CouponDoubleRedemption.merchant_id == merchant_id)
         .order_by(CouponDoubleRedemption.id.desc()).limit(limit))
    return [DoubleOut(id=d.id, serial=d.serial, program=d.program, terminal=d.terminal, invoice=d.invoice,
                      sale_id=d.sale_id, discount=d.discount, first_terminal=f.terminal, first_invoice=f.invoice,
                      found_at=d.found_at) for d, f in db.execute(q)]


@device.get("/redeemed", summary="Serials of the merchant's coupons redeemed since a ledger row",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
def device_redeemed(after: int = Query(0, ge=0, le=2**31 - 1), db: Session = Depends(session),
                    terminal: Terminal = Depends(controller)):
    if terminal.store is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store: it has no coupons")
    rows = db.execute(select(CouponRedemption.id, CouponRedemption.serial)
                      .where(CouponRedemption.merchant_id == terminal.store.merchant_id, CouponRedemption.id > after)
                      .order_by(CouponRedemption.id).limit(PAGE)).all()
    body = b"".join(s.encode().ljust(RECORD, b" ") for _, s in rows)
    return Response(body, media_type="application/octet-stream",
                    headers={"X-Coupons-Through": str(rows[-1][0] if rows else after)})
