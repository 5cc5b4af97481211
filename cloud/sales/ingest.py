"""The device endpoint a terminal uploads a completed transaction to, exactly once
(docs/sales-sync.md):

    POST /{tenant}/controller/v1/{controllerId}/sales        Authorization: TargetToken <token>

The idempotency key is the terminal and its invoice number.  A new key is stored, its journal
entry posted, and committed before the answer (201); the same key with the same content is a
repeated delivery (200, the stored receipt id, nothing counted again); the same key with other
content is refused (409) and kept as a conflict for people to look into, the stored sale untouched.
"""
import datetime
from types import SimpleNamespace
from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloud import bulk
from cloud.audit.recorder import record
from cloud.backoffice import facts
from cloud.catalog import ledger as stock
from cloud.currency import currency
from cloud.db import utcnow
from cloud.deps import problems, session
from cloud.members import points as member_points
from cloud.members import wallet as member_wallet
from cloud.promotions import models as coupon_ledger
from cloud.sales import books
from cloud.sales.contract import SaleIn, card_number_problems, content, sum_problems, total_of
from cloud.sales.models import JournalEntry, Posting, Sale, SaleConflict
from cloud.tenants.models import Merchant, Store, Terminal
from cloud.tms.ddi import controller



class WithoutEcho(APIRoute):
    """Validation errors without the input that failed: an upload refused for a missing field
    must not send back whatever else it held (a card number typed into the wrong field)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def handle(request):
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise HTTPException(status_code=422, detail=[
                    {k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()])
        return handle


device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}", tags=["sales sync (device API)"],
                   responses=problems(400, 401, 409, 413), route_class=WithoutEcho)


class SaleAck(BaseModel):
    receipt_id: int
    status: Literal["stored", "duplicate"]
    invoice: int
    business_day: datetime.date
    booked_day: datetime.date
    clock_skew_s: Optional[int]
    flags: list[str]
    notes: list[str]


def refused(problem_list):
    # the shape of FastAPI's own validation errors, without the offending input
    return HTTPException(status_code=422, detail=[{"loc": where, "type": "value_error", "msg": msg}
                                                  for where, msg in problem_list])


def ack(sale, status):
    flags, notes = [], []
    if sale.skew_flagged:
        flags.append("clock_skew")
        notes.append("the terminal clock is %+d s off the server's: the sale is dated by the server's clock"
                     % sale.clock_skew_s)
    if sale.booking_note:
        flags.append("booked_late")
        notes.append(sale.booking_note)
    return SaleAck(receipt_id=sale.id, status=status, invoice=sale.invoice, business_day=sale.business_day,
                   booked_day=sale.booked_day, clock_skew_s=sale.clock_skew_s, flags=flags, notes=notes)


def skew(sale_in, now):
    """(skew in s or None, flagged, the transaction's time by the server's clock), naive UTC.  The
    skew is measured by the delivery's sent_at; without it a completion time in the future beyond
    the limit shows a clock ahead at least that much."""
    done = sale_in.terminal_time.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if sale_in.sent_at is not None:
        sent = sale_in.sent_at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        s = int(round((sent - now).total_seconds()))
    else:
        s = int(round((done - now).total_seconds()))
        if s <= books.SKEW_LIMIT_S:
            return None, False, done
    s = max(-2**31 + 1, min(2**31 - 1, s))
    if abs(s) <= books.SKEW_LIMIT_S:
        return s, False, done
    try:
        return s, True, done - datetime.timedelta(seconds=s)
    except OverflowError:
        return s, True, now


def _same_key(db, terminal, invoice):
    return db.scalar(select(Sale).where(Sale.terminal_id == terminal.id, Sale.invoice == invoice))


def _conflict(db, terminal, stored, text, digest):
    """Keep (or count again) a refused re-delivery; commit; the 409."""
    for attempt in (1, 2):
        c = db.scalar(select(SaleConflict).where(SaleConflict.terminal_id == terminal.id,
                                                 SaleConflict.invoice == stored.invoice,
                                                 SaleConflict.content_sha256 == digest))
        if c is None:
            c = SaleConflict(operator_id=terminal.operator_id, merchant_id=stored.merchant_id, terminal_id=terminal.id,
                             sale_id=stored.id, invoice=stored.invoice, content_sha256=digest, body=text)
            db.add(c)
        else:
            c.deliveries += 1
            c.last_at = utcnow()
        try:
            db.flush()
            record(db, "sale_conflict", "sales", stored.id, {"invoice": stored.invoice, "conflict": c.id,
                                                              "content_sha256": digest})
            db.commit()
            break
        except IntegrityError:          # the same conflict delivered twice at once: count it on the row
            db.rollback()
            if attempt == 2:
                raise
    return HTTPException(status_code=409, detail="invoice %d of this terminal is stored (receipt id %d) with other "
                         "content: this delivery is refused and kept as conflict %d for review; the stored sale "
                         "is unchanged" % (stored.invoice, stored.id, c.id))


def _again(db, terminal, sale_in, text, digest):
    stored = _same_key(db, terminal, sale_in.invoice)
    if stored is None:
        raise HTTPException(status_code=409, detail="the upload met a change made at the same time: send it again")
    if stored.content_sha256 == digest:
        return JSONResponse(ack(stored, "duplicate").model_dump(mode="json"), status_code=200)
    raise _conflict(db, terminal, stored, text, digest)


@device.post("/sales", status_code=201, response_model=SaleAck,
             responses={200: {"model": SaleAck, "description": "a repeated delivery: already stored, counted once"},
                        409: {"description": "the invoice is stored with other content: refused, kept as a conflict"},
                        422: {"description": "refused: a sum that does not add up, a full card number, a currency "
                                             "the store does not use, or a field out of its bounds"}},
             summary="Upload one completed transaction (exactly once: terminal + invoice is the key)")
def upload_sale(sale_in: SaleIn, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    problem_list = card_number_problems(sale_in.model_dump(mode="json")) or sum_problems(sale_in)
    if problem_list:
        raise refused(problem_list)
    if terminal.store_id is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store: its sales have no books "
                            "to go to; the operator places it first, then the upload is taken")
    # one ingest or close of a store at a time (PostgreSQL row lock; SQLite has one writer anyway)
    store = db.scalar(select(Store).where(Store.id == terminal.store_id).with_for_update())
    merchant = db.get(Merchant, store.merchant_id)
    cur = currency(sale_in.currency)
    if cur is None:
        raise refused([(["body", "currency"], "%s is not an ISO 4217 currency code" % sale_in.currency)])
    if cur.number != merchant.currency:
        mine = currency(merchant.currency)
        raise refused([(["body", "currency"], "the store %r takes %s (%s), not %s (%s): the transaction is refused"
                        % (store.name, mine.code if mine else "?", merchant.currency, cur.code, cur.number))])
    text, digest = content(sale_in)
    if _same_key(db, terminal, sale_in.invoice) is not None:
        return _again(db, terminal, sale_in, text, digest)
    try:
        sale = book(db, terminal, store, merchant, sale_in, utcnow(), (text, digest))
        db.commit()
    except IntegrityError:              # the same key stored by a delivery running at the same time
        db.rollback()
        return _again(db, terminal, sale_in, text, digest)
    return ack(sale, "stored")



def sale_fields(terminal, store, merchant, sale_in, now, closed=frozenset(), canonical=None):
    """The columns of the sale row an accepted upload becomes (received at `now`, naive UTC);
    `closed` is the store's closed days from the transaction's day on, `canonical` its
    content() when already made."""
    text, digest = canonical or content(sale_in)
    skew_s, flagged, happened = skew(sale_in, now)
    day = books.local_day(store, happened)
    booked, note = books.next_open_day(day, closed)
    return dict(operator_id=terminal.operator_id, merchant_id=merchant.id, store_id=store.id, terminal_id=terminal.id,
                invoice=sale_in.invoice, kind=sale_in.kind, currency=currency(sale_in.currency).code,
                total=total_of(sale_in), tip=sale_in.tip, member_id=sale_in.member_id, cashier=sale_in.cashier,
                terminal_time=sale_in.terminal_time.astimezone(datetime.timezone.utc).replace(tzinfo=None),
                received_at=now, clock_skew_s=skew_s, skew_flagged=flagged, business_day=day, booked_day=booked,
                booking_note=note, content_sha256=digest, body=text)


def book(db, terminal, store, merchant, sale_in, now, canonical=None):
    """Store one checked upload of a new key, post its journal entry and write its back-office
    facts and insights basket (flushed, not committed)."""
    skew_s, flagged, happened = skew(sale_in, now)
    closed = books.closed_days(db, store.id, books.local_day(store, happened))
    sale = Sale(**sale_fields(terminal, store, merchant, sale_in, now, closed, canonical))
    db.add(sale)
    db.flush()
    books.post(db, sale, sale_in, store)
    facts.record(db, sale, sale_in, store)
    stock.record_sale(db, sale, sale_in, store)       # in this commit: the stock moves once per stored sale
    member_points.accrue(db, sale, sale_in)     # a sale naming a member: its points, once
    coupon_ledger.redeem_sale(db, sale, sale_in, terminal)     # its coupons used; a second use flagged
    member_wallet.settle(db, sale, sale_in, terminal)   # an e-wallet spent offline: debited once, or flagged
    return sale


class BatchRefused(ValueError):
    """An upload of a batch the device endpoint would refuse; the message says which and why."""


def book_batch(db, store, merchant, uploads):
    """The bulk twin of the device endpoint's storing step, for loading many sales of one store
    at once (the seeded generator): `uploads` is [(terminal, SaleIn, received_at naive UTC)] of
    keys not stored yet.  Each is checked as the endpoint checks it, its row and postings made by
    the same functions, then written in three statements (sales, journal entries, postings);
    nothing is committed.  Returns the number stored."""
    if not uploads:
        return 0
    home = currency(merchant.currency)
    since = min(books.local_day(store, skew(s, now)[2]) for _, s, now in uploads)
    closed = books.closed_days(db, store.id, since)
    rows, posts = [], []
    for terminal, sale_in, now in uploads:
        problem_list = card_number_problems(sale_in.model_dump(mode="json")) or sum_problems(sale_in)
        if problem_list:
            raise BatchRefused("invoice %d of terminal %s: %s" % (sale_in.invoice, terminal.controller_id,
                                                                  "; ".join(m for _, m in problem_list)))
        if sale_in.kind == "void":          # its postings are its original's, read from the database
            raise BatchRefused("invoice %d of terminal %s: a void goes up through the device endpoint"
                               % (sale_in.invoice, terminal.controller_id))
        cur = currency(sale_in.currency)
        if cur is None or home is None or cur.number != home.number:
            raise BatchRefused("invoice %d of terminal %s: the store takes %s, not %s"
                               % (sale_in.invoice, terminal.controller_id, home.code if home else "?", sale_in.currency))
        rows.append(sale_fields(terminal, store, merchant, sale_in, now, closed))
        lines = books.postings(sale_in)
        if sum(v for _, v, _ in lines) != 0:
            raise books.BooksError("the postings of invoice %d do not balance" % sale_in.invoice)
        posts.append(lines)
    ids = bulk.write_with_ids(db, Sale.__table__, rows)          # COPY on PostgreSQL, one statement elsewhere
    posted_at = utcnow()
    entries = [dict(merchant_id=merchant.id, store_id=store.id, sale_id=sid, day=r["booked_day"],
                    currency=r["currency"], narration=books.narration(r["kind"], t.controller_id, r["invoice"]),
                    created_at=posted_at)
               for sid, r, (t, _, _) in zip(ids, rows, uploads)]
    entry_ids = bulk.write_with_ids(db, JournalEntry.__table__, entries)
    bulk.write(db, Posting.__table__, [dict(entry_id=eid, account=a, amount=v, tax_rate_bp=bp)
                                       for eid, lines in zip(entry_ids, posts) for a, v, bp in lines])
    seen = facts.members_seen(db, merchant.id)
    items = stock.items_by_sku(db, merchant.id, [ln.sku for _, s, _ in uploads for ln in s.lines])
    ledger = stock.Ledger(db, store, locked=True)
    stored = [(SimpleNamespace(id=sid, **r), sale_in) for sid, r, (_, sale_in, _) in zip(ids, rows, uploads)]
    facts.record_many(db, stored, store, seen)      # the back office's facts, as the endpoint writes them
    with db.no_autoflush:                   # the batch's stock moves go in as one flush at the caller's commit
        for sale, sale_in in stored:
            stock.record_sale(db, sale, sale_in, store, ledger, items)
    return len(ids)
