"""/api/v1: the merchant's sales and books (docs/sales-sync.md, docs/bookkeeping.md).

Merchant roles see their own merchant only; operator roles every merchant of their operator.
A sale, store or merchant outside the caller's tenancy answers 404, as if it did not exist.
"""
import datetime
import json
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.db import utcnow
from cloud.deps import AUTHED, IdPath, Input, UTCDateTime, commit, not_found, principal, require, session
from cloud.sales import books, ledger, receipt, reconcile
from cloud.sales.contract import NAME
from cloud.sales.models import DayClose, JournalEntry, Reconciliation, Sale, SaleConflict
from cloud.tenants.models import Merchant, Store, Terminal

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["sales and books"])

OptId = Annotated[Optional[int], Query(ge=1, le=2**31 - 1)]


class SaleOut(BaseModel):
    id: int
    receipt_id: int
    merchant_id: int
    store_id: int
    terminal_id: int
    controller_id: str
    invoice: int
    kind: str
    currency: str
    total: int
    tip: int
    member_id: str
    cashier: str
    terminal_time: UTCDateTime
    received_at: UTCDateTime
    clock_skew_s: Optional[int]
    business_day: datetime.date
    booked_day: datetime.date
    flags: list[str]
    booking_note: str


class PostingOut(BaseModel):
    account: str
    amount: int
    tax_rate_bp: Optional[int]


class SaleDetail(SaleOut):
    content: dict
    receipt_text: str
    postings: list[PostingOut]


class ConflictOut(BaseModel):
    id: int
    sale_id: int
    terminal_id: int
    invoice: int
    content_sha256: str
    stored_sha256: str
    first_at: UTCDateTime
    last_at: UTCDateTime
    deliveries: int
    content: dict


class GapOut(BaseModel):
    terminal_id: int
    controller_id: str
    first_invoice: int
    last_invoice: int
    received: int
    missing: int
    missing_ranges: list[list[int]]


class DayCloseOut(BaseModel):
    id: int
    store_id: int
    day: datetime.date
    closed_at: UTCDateTime
    closed_by: str
    sales: int
    refunds: int
    voids: int = Field(description="voids booked on the day: each takes back its original whole")
    net: int = Field(description="sales - refunds, each void taking back what its original counted; "
                                 "minor units, tax included")


class TaxRateOut(BaseModel):
    currency: str
    tax_rate_bp: int
    sales_net: int
    sales_tax: int
    refunds_net: int
    refunds_tax: int
    tax_due: int


def sale_out(s, cls=SaleOut, **extra):
    flags = (["clock_skew"] if s.skew_flagged else []) + (["booked_late"] if s.booking_note else [])
    return cls(id=s.id, receipt_id=s.id, merchant_id=s.merchant_id, store_id=s.store_id, terminal_id=s.terminal_id,
               controller_id=s.terminal.controller_id, invoice=s.invoice, kind=s.kind, currency=s.currency,
               total=s.total, tip=s.tip, member_id=s.member_id, cashier=s.cashier, terminal_time=s.terminal_time,
               received_at=s.received_at, clock_skew_s=s.clock_skew_s, business_day=s.business_day,
               booked_day=s.booked_day, flags=flags, booking_note=s.booking_note, **extra)


def _merchant(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


def _store(db, who, store_id):
    s = db.get(Store, store_id)
    if not who.sees_store(s):
        raise not_found("store %d" % store_id)
    return s


def _scope(q, model, db, who, merchant_id, store_id):
    """`q` narrowed to what the caller may see and asked for."""
    q = q.where(model.operator_id == who.operator_id)
    if not who.is_operator:
        q = q.where(model.merchant_id == who.merchant_id)
    if merchant_id is not None:
        q = q.where(model.merchant_id == _merchant(db, who, merchant_id).id)
    if store_id is not None:
        q = q.where(model.store_id == _store(db, who, store_id).id)
    return q


def _period(day_from, day_to):
    """The booked days asked for (default: this month so far); a period that ends before it
    begins holds nothing."""
    day_to = day_to or utcnow().date()
    return day_from or day_to.replace(day=1), day_to


@router.get("/sales", response_model=list[SaleOut])
def list_sales(merchant_id: OptId = None, store_id: OptId = None,
               terminal_id: OptId = None, day_from: Optional[datetime.date] = None,
               day_to: Optional[datetime.date] = None,
               order: Literal["booked", "received"] = Query("booked", description="booked: by booked day and "
                                                            "terminal time; received: by the server's receipt time"),
               limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**7),
               db: Session = Depends(session), who: Principal = Depends(principal)):
    """Sales and refunds as stored, newest last; day_from/day_to bound the booked day."""
    q = _scope(select(Sale), Sale, db, who, merchant_id, store_id)
    if terminal_id is not None:
        t = db.get(Terminal, terminal_id)
        if not who.sees_terminal(t):
            raise not_found("terminal %d" % terminal_id)
        q = q.where(Sale.terminal_id == t.id)
    if day_from is not None:
        q = q.where(Sale.booked_day >= day_from)
    if day_to is not None:
        q = q.where(Sale.booked_day <= day_to)
    keys = (Sale.received_at, Sale.id) if order == "received" else (Sale.booked_day, Sale.terminal_time, Sale.id)
    return [sale_out(s) for s in db.scalars(q.order_by(*keys).offset(offset).limit(limit))]


def _sale(db, who, sale_id):
    s = db.get(Sale, sale_id)
    if s is None or s.operator_id != who.operator_id or (not who.is_operator and s.merchant_id != who.merchant_id):
        raise not_found("sale %d" % sale_id)
    return s


@router.get("/sales/{sale_id}", response_model=SaleDetail)
def get_sale(sale_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """One sale: what the terminal uploaded, its receipt as text, its postings."""
    s = _sale(db, who, sale_id)
    entry = db.scalar(select(JournalEntry).where(JournalEntry.sale_id == s.id))
    posts = [PostingOut(account=p.account, amount=p.amount, tax_rate_bp=p.tax_rate_bp)
             for p in (entry.postings if entry is not None else [])]
    text = receipt.render(s, s.store, db.get(Merchant, s.merchant_id))
    return sale_out(s, SaleDetail, content=json.loads(s.body), receipt_text=text, postings=posts)


@router.get("/sales/{sale_id}/receipt.txt", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def sale_receipt(sale_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    s = _sale(db, who, sale_id)
    return PlainTextResponse(receipt.render(s, s.store, db.get(Merchant, s.merchant_id)))


@router.get("/sale-conflicts", response_model=list[ConflictOut])
def list_conflicts(merchant_id: OptId = None, limit: int = Query(100, ge=1, le=1000),
                   db: Session = Depends(session), who: Principal = Depends(principal)):
    """Re-deliveries refused because their invoice was stored with other content, newest first."""
    q = _scope(select(SaleConflict, Sale.content_sha256).join(Sale, Sale.id == SaleConflict.sale_id),
               SaleConflict, db, who, merchant_id, None)
    return [ConflictOut(id=c.id, sale_id=c.sale_id, terminal_id=c.terminal_id, invoice=c.invoice,
                        content_sha256=c.content_sha256, stored_sha256=stored, first_at=c.first_at, last_at=c.last_at,
                        deliveries=c.deliveries, content=json.loads(c.body))
            for c, stored in db.execute(q.order_by(SaleConflict.last_at.desc(), SaleConflict.id.desc()).limit(limit))]


@router.get("/sale-gaps", response_model=list[GapOut])
def list_gaps(merchant_id: OptId = None, store_id: OptId = None,
              db: Session = Depends(session), who: Principal = Depends(principal)):
    """Per terminal, the invoice numbers not (yet) received between its first and last received."""
    base = _scope(select(Sale.terminal_id, Sale.invoice), Sale, db, who, merchant_id, store_id)
    numbered = base.add_columns(func.lag(Sale.invoice).over(partition_by=Sale.terminal_id,
                                                            order_by=Sale.invoice).label("prev")).subquery()
    holes = {}
    for tid, inv, prev in db.execute(select(numbered.c.terminal_id, numbered.c.invoice, numbered.c.prev)
                                     .where(numbered.c.invoice - numbered.c.prev > 1)
                                     .order_by(numbered.c.terminal_id, numbered.c.invoice)):
        got = holes.setdefault(tid, [])
        if len(got) < 100:
            got.append([prev + 1, inv - 1])
    stats = base.with_only_columns(Sale.terminal_id, func.min(Sale.invoice), func.max(Sale.invoice),
                                   func.count(Sale.id)).group_by(Sale.terminal_id)
    out = []
    for tid, lo, hi, n in db.execute(stats.order_by(Sale.terminal_id)).all():
        if hi - lo + 1 == n:
            continue
        out.append(GapOut(terminal_id=tid, controller_id=db.get(Terminal, tid).controller_id, first_invoice=lo,
                          last_invoice=hi, received=n, missing=hi - lo + 1 - n, missing_ranges=holes.get(tid, [])))
    return out


def close_out(db, c):
    return DayCloseOut(id=c.id, store_id=c.store_id, day=c.day, closed_at=c.closed_at, closed_by=c.closed_by,
                       sales=c.sales, refunds=c.refunds, voids=books.voids_on(db, c.store_id, c.day), net=c.net)


@router.get("/stores/{store_id}/days", response_model=list[DayCloseOut])
def list_closes(store_id: IdPath, limit: int = Query(60, ge=1, le=1000), db: Session = Depends(session),
                who: Principal = Depends(principal)):
    """The store's closed days, newest first."""
    s = _store(db, who, store_id)
    return [close_out(db, c) for c in db.scalars(select(DayClose).where(DayClose.store_id == s.id)
                                             .order_by(DayClose.day.desc()).limit(limit))]


@router.post("/stores/{store_id}/days/{day}/close", response_model=DayCloseOut, status_code=201)
def close_day(store_id: IdPath, day: datetime.date, db: Session = Depends(session),
              who: Principal = Depends(principal)):
    """Close a day of the store: its books are locked; a sale of that day arriving later is booked
    on the next open day, with a note."""
    s = _store(db, who, store_id)
    require(who, "books:close")
    s = db.scalar(select(Store).where(Store.id == s.id).with_for_update())
    try:
        c = books.close_day(db, s, day, who.label, books.local_day(s, utcnow()))
    except books.BooksError as exc:
        raise HTTPException(status_code=409, detail=str(exc))
    commit(db, "%s is already closed for store %d" % (day, s.id))
    return close_out(db, c)


@router.get("/merchants/{merchant_id}/ledger", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}},
                                         "text/csv": {"schema": {"type": "string"}}}}})
def export_ledger(merchant_id: IdPath, day_from: Optional[datetime.date] = None,
                  day_to: Optional[datetime.date] = None, store_id: OptId = None,
                  format: Literal["beancount", "csv"] = "beancount", db: Session = Depends(session),
                  who: Principal = Depends(principal)):
    """The journal of a period (booked days, default: this month so far) as a Beancount ledger or CSV."""
    m = _merchant(db, who, merchant_id)
    if store_id is not None and _store(db, who, store_id).merchant_id != m.id:
        raise not_found("store %d" % store_id)
    day_from, day_to = _period(day_from, day_to)
    name = "ledger-%d-%s-%s" % (m.id, day_from, day_to)
    if format == "csv":
        return PlainTextResponse(ledger.csv_text(db, m, day_from, day_to, store_id), media_type="text/csv",
                                 headers={"Content-Disposition": 'attachment; filename="%s.csv"' % name})
    return PlainTextResponse(ledger.beancount_text(db, m, day_from, day_to, store_id),
                             headers={"Content-Disposition": 'attachment; filename="%s.beancount"' % name})


@router.get("/merchants/{merchant_id}/tax-report", response_model=list[TaxRateOut])
def tax_report(merchant_id: IdPath, day_from: Optional[datetime.date] = None, day_to: Optional[datetime.date] = None,
               store_id: OptId = None, db: Session = Depends(session), who: Principal = Depends(principal)):
    """Per rate: sales and refunds net of tax, the tax in each and the tax due, for the booked days
    of a period (default: this month so far); minor units."""
    m = _merchant(db, who, merchant_id)
    if store_id is not None and _store(db, who, store_id).merchant_id != m.id:
        raise not_found("store %d" % store_id)
    day_from, day_to = _period(day_from, day_to)
    return [TaxRateOut(**r) for r in ledger.tax_report(db, m.id, day_from, day_to, store_id)]


class ReconcileIn(Input):
    model_config = ConfigDict(extra="forbid")
    source: Literal["acquirer", "wallet"]
    name: str = Field(max_length=40, pattern=NAME, description="the acquirer or wallet, as the terminals name it")
    day: datetime.date = Field(description="the store's booked day the file settles")
    file: str = Field(max_length=512 * 1024, description="the settlement file: CSV with the header "
                                                         "date,tid,stan,reference,amount,currency,fee "
                                                         "(or date,reference,amount,currency,fee)")


class DifferenceOut(BaseModel):
    kind: Literal["missing_in_settlement", "extra_in_settlement", "amount_differs", "unreadable"]
    reference: str = Field(description="the RRN (DE 37) or the wallet's transaction number, when known")
    tid: str = Field("", description="the terminal id (DE 41) of a card payment, when known")
    stan: str = Field("", description="its trace number (DE 11), when known")
    sale_id: Optional[int]
    recorded: Optional[str]
    settled: Optional[str]
    note: str = ""


class ReconciliationOut(BaseModel):
    id: int
    store_id: int
    source: str
    name: str
    day: datetime.date
    created_at: UTCDateTime
    created_by: str
    currency: str
    matched: int
    differences: list[DifferenceOut]
    recorded_total: str
    settled_total: str
    fees: str
    entry_id: Optional[int]


def reconciliation_out(r):
    rep = json.loads(r.report)
    return ReconciliationOut(id=r.id, store_id=r.store_id, source=r.source, name=r.name, day=r.day,
                             created_at=r.created_at, created_by=r.created_by, currency=rep["currency"],
                             matched=r.matched, differences=rep["differences"], recorded_total=rep["recorded_total"],
                             settled_total=rep["settled_total"], fees=rep["fees"], entry_id=r.entry_id)


@router.post("/stores/{store_id}/reconciliations", response_model=ReconciliationOut, status_code=201)
def reconcile_settlement(store_id: IdPath, body: ReconcileIn, db: Session = Depends(session),
                         who: Principal = Depends(principal)):
    """Compare an acquirer's or a wallet host's settlement file with what the store's terminals
    recorded on the day; every difference is reported, the settlement posted (fees included)."""
    s = _store(db, who, store_id)
    require(who, "books:close")
    s = db.scalar(select(Store).where(Store.id == s.id).with_for_update())
    try:
        report, entry = reconcile.reconcile(db, s, db.get(Merchant, s.merchant_id), body.source, body.name,
                                            body.day, body.file)
    except reconcile.ReconcileError as exc:
        raise HTTPException(status_code=409, detail=str(exc))
    r = Reconciliation(merchant_id=s.merchant_id, store_id=s.id, source=body.source, name=body.name, day=body.day,
                       created_by=who.label, matched=report["matched"], differences=len(report["differences"]),
                       entry_id=entry.id if entry is not None else None, report=json.dumps(report, sort_keys=True))
    db.add(r)
    commit(db)
    return reconciliation_out(r)


@router.get("/stores/{store_id}/reconciliations", response_model=list[ReconciliationOut])
def list_reconciliations(store_id: IdPath, limit: int = Query(60, ge=1, le=1000), db: Session = Depends(session),
                         who: Principal = Depends(principal)):
    """The store's reconciliations, newest first, each with its differences."""
    s = _store(db, who, store_id)
    return [reconciliation_out(r) for r in db.scalars(select(Reconciliation).where(Reconciliation.store_id == s.id)
                                                      .order_by(Reconciliation.id.desc()).limit(limit))]
