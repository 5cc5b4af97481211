"""/api/v1: the merchant back office's dashboard figures and its export (docs/back-office.md).

Merchant roles see their own merchant only; operator roles every merchant of their operator; a
merchant or store outside the caller's tenancy answers 404.  The transactions behind a figure
are listed by GET /api/v1/sales (merchant_id, store_id, day_from, day_to) and each one's receipt
by GET /api/v1/sales/{id}/receipt.txt.
"""
import datetime
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.backoffice import bank_offers, dashboard, report
from cloud.db import utcnow
from cloud.deps import AUTHED, IdPath, not_found, principal, session
from cloud.tenants.models import Merchant, Store

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["back office"])

OptId = Annotated[Optional[int], Query(ge=1, le=2**31 - 1)]
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2099, 12, 31)
LONGEST_DAYS = 366


def _scope(db, who, merchant_id, store_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    if store_id is not None:
        s = db.get(Store, store_id)
        if s is None or s.merchant_id != m.id or not who.sees_store(s):
            raise not_found("store %d" % store_id)
    return m


def _period(day_from, day_to):
    """The days asked for (default: today and the 6 days before)."""
    day_to = day_to or utcnow().date()
    day_from = day_from or day_to - datetime.timedelta(days=6)
    problems = []
    for name, d in (("day_from", day_from), ("day_to", day_to)):
        if not EARLIEST <= d <= LATEST:
            problems.append({"loc": ["query", name], "type": "value_error",
                             "msg": "a day from %s to %s" % (EARLIEST, LATEST)})
    if not problems and not 0 <= (day_to - day_from).days < LONGEST_DAYS:
        problems.append({"loc": ["query", "day_from"], "type": "value_error",
                         "msg": "a period of 1 to %d days: day_from on or before day_to" % LONGEST_DAYS})
    if problems:
        raise HTTPException(status_code=422, detail=problems)
    return day_from, day_to


@router.get("/merchants/{merchant_id}/dashboard")
def merchant_dashboard(merchant_id: IdPath, day_from: Optional[datetime.date] = None,
                       day_to: Optional[datetime.date] = None, store_id: OptId = None,
                       db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    """The dashboard's figures for a period of local business days (default: the last 7) against the
    period before it: net sales, refunds, discounts, tips, tax, average ticket; sales by hour of the
    last day against the same weekday a week before; payment mix; top and slow items; new and
    returning members; per store, terminal and cashier.  Minor units."""
    m = _scope(db, who, merchant_id, store_id)
    day_from, day_to = _period(day_from, day_to)
    out = dashboard.summary(db, m.id, day_from, day_to, store_id)
    out["currency"] = m.currency
    return out


@router.get("/merchants/{merchant_id}/bank-offers")
def bank_offer_settlement(merchant_id: IdPath, day_from: Optional[datetime.date] = None,
                          day_to: Optional[datetime.date] = None, store_id: OptId = None,
                          db: Session = Depends(session), who: Principal = Depends(principal)) -> dict:
    """The discounts issuing banks funded through their card-linked offers in a period of local
    business days (default: the last 7), per bank and campaign: sales, refunds, the amount the
    bank owes the merchant (`funded`) and what the cards paid.  Minor units (docs/bank-offers.md)."""
    m = _scope(db, who, merchant_id, store_id)
    day_from, day_to = _period(day_from, day_to)
    return bank_offers.report(db, m.id, day_from, day_to, store_id)


@router.get("/merchants/{merchant_id}/dashboard/transactions.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_transactions(merchant_id: IdPath, day_from: Optional[datetime.date] = None,
                        day_to: Optional[datetime.date] = None, store_id: OptId = None,
                        db: Session = Depends(session), who: Principal = Depends(principal)):
    """The transactions of a period, one CSV line each (receipt id, day, hour, store, terminal,
    invoice, kind, cashier, member, gross, discounts, net, tax, tip)."""
    m = _scope(db, who, merchant_id, store_id)
    day_from, day_to = _period(day_from, day_to)
    return PlainTextResponse(dashboard.transactions_csv(db, m.id, day_from, day_to, store_id), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="transactions-%d-%s-%s.csv"'
                                      % (m.id, day_from, day_to)})


@router.get("/merchants/{merchant_id}/dashboard/daily-report.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def daily_report(merchant_id: IdPath, day: Optional[datetime.date] = None, store_id: OptId = None,
                 db: Session = Depends(session), who: Principal = Depends(principal)):
    """One local business day (default: today) as a PDF report, against the same weekday a week before."""
    m = _scope(db, who, merchant_id, store_id)
    day, _ = _period(day, day or utcnow().date())
    return Response(report.daily_pdf(db, m, day, store_id), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="daily-%d-%s.pdf"' % (m.id, day)})
