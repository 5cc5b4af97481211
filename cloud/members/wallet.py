"""A member's stored value spent as a tender: the e-wallet (docs/gift-cards.md, "E-wallet").

The balance is the member's ``stored_value``; every change a terminal makes is an entry of
``stored_value_entries``, unique by (terminal, invoice, kind) like a gift card's, so a request
sent twice changes the balance once.  Online the terminal spends through the device API; offline
it spends up to the programme's ``offline_stored_value`` a day from the balance it last knew,
and the sale's upload (tender ``stored_value``, the member named) settles it here: debited once
if the terminal did not spend it online already, and what the balance could not cover is kept
as the entry's ``short``, listed for the back office, never dropped.
"""
from typing import Optional

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from typing_extensions import Annotated

from cloud.accounts.principal import Principal
from cloud.db import Base, utcnow
from cloud.deps import AUTHED, IdPath, Input, not_found, principal, problems, session
from cloud.members.models import Member
from cloud.tenants.models import Merchant, Terminal
from cloud.tms.ddi import controller

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["members"])
device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}/members/{number}/wallet",
                   tags=["members (device API)"], responses=problems(401, 404, 409))
NumberPath = Annotated[str, Path(pattern=r"^[0-9]{1,12}$", description="the member number")]


class StoredValueEntry(Base):
    __tablename__ = "stored_value_entries"
    __table_args__ = (UniqueConstraint("terminal_id", "invoice", "kind", name="uq_stored_value_request"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))                         # spend | refund | topup
    amount: Mapped[int] = mapped_column(BigInteger)                      # + to the balance, - spent
    balance: Mapped[int] = mapped_column(BigInteger)                     # the member's stored value after it
    short: Mapped[int] = mapped_column(BigInteger, default=0)            # an offline spend the balance lacked
    offline: Mapped[bool] = mapped_column(Boolean, default=False)        # settled from the sale's upload
    terminal_id: Mapped[object] = mapped_column(ForeignKey("terminals.id", ondelete="SET NULL"), nullable=True)
    invoice: Mapped[object] = mapped_column(BigInteger, nullable=True)
    at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class MoveIn(Input):
    model_config = ConfigDict(extra="forbid")
    invoice: int = Field(ge=1, le=999_999_999, description="the terminal's invoice: with the terminal, the "
                                                           "idempotency key")
    amount: int = Field(ge=1, le=10**9)


class MoveOut(BaseModel):
    invoice: int
    amount: int
    balance: int = Field(description="the member's stored value after it")
    status: str = Field(description="done, or duplicate: the same request again, nothing changed")


class FlagOut(BaseModel):
    id: int
    member_number: str
    terminal: Optional[str]
    invoice: Optional[int]
    amount: int
    short: int = Field(description="what the member's balance lacked when the offline spend was settled")


def _move(db, member, kind, amount, terminal, invoice, offline=False):
    """Change the balance by `amount` (never below zero: an offline spend takes what is there and
    keeps the rest as `short`) and add the entry; None when an online spend finds too little."""
    short = 0
    if offline and amount < 0:
        db.refresh(member, ["stored_value"])
        take = min(-amount, member.stored_value)
        short, amount = -amount - take, -take
    got = db.execute(update(Member).where(Member.id == member.id, Member.stored_value + amount >= 0)
                     .values(stored_value=Member.stored_value + amount))
    if got.rowcount != 1:
        return None
    db.refresh(member, ["stored_value"])
    e = StoredValueEntry(merchant_id=member.merchant_id, member_id=member.id, kind=kind, amount=amount,
                         balance=member.stored_value, short=short, offline=offline,
                         terminal_id=terminal.id, invoice=invoice)
    db.add(e)
    db.flush()
    return e


def _earlier(db, terminal, invoice, kind):
    return db.scalar(select(StoredValueEntry).where(StoredValueEntry.terminal_id == terminal.id,
                                                    StoredValueEntry.invoice == invoice, StoredValueEntry.kind == kind))


def settle(db, sale, sale_in, terminal):
    """The stored value a stored sale spent (or a refund or void gave back), once: a spend the
    terminal made online is in the ledger already; one made offline is debited here."""
    spent = sum(t.amount for t in sale_in.tenders if t.type == "stored_value")
    if not spent:
        return
    kind = "spend" if sale_in.kind == "sale" else "refund"
    member = db.scalar(select(Member).where(Member.merchant_id == sale.merchant_id,
                                            Member.number == sale_in.member_id))
    if member is None or _earlier(db, terminal, sale_in.invoice, kind) is not None:
        return
    _move(db, member, kind, -spent if kind == "spend" else spent, terminal, sale_in.invoice, offline=True)


# -- device API ---------------------------------------------------------------------------
def _member(db, terminal, number):
    if terminal.store is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store: it has no members")
    m = db.scalar(select(Member).where(Member.merchant_id == terminal.store.merchant_id, Member.number == number))
    if m is None:
        raise not_found("member *%s" % number[-4:])
    return m


def _movement(db, terminal, number, kind, body):
    m = _member(db, terminal, number)
    e = _earlier(db, terminal, body.invoice, kind)
    if e is None:
        e = _move(db, m, kind, -body.amount if kind == "spend" else body.amount, terminal, body.invoice)
        if e is None:
            raise HTTPException(status_code=409, detail="member *%s holds %d of stored value, less than the %d asked"
                                % (number[-4:], m.stored_value, body.amount))
        try:
            db.commit()
            return MoveOut(invoice=body.invoice, amount=body.amount, balance=e.balance, status="done")
        except IntegrityError:                 # the same request at the same moment: its twin won
            db.rollback()
            e = _earlier(db, terminal, body.invoice, kind)
    if e.member_id != m.id or abs(e.amount) != body.amount:
        raise HTTPException(status_code=409, detail="invoice %d of this terminal already moved another member's "
                            "stored value or another amount" % body.invoice)
    return JSONResponse(MoveOut(invoice=body.invoice, amount=body.amount, balance=e.balance,
                                status="duplicate").model_dump())


AGAIN = {200: {"model": MoveOut, "description": "the same request again: its first result, nothing moved"}}


@device.post("/spend", response_model=MoveOut, status_code=201, responses=AGAIN, summary="Spend a member's stored value online")
def device_spend(number: NumberPath, body: MoveIn, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    """201 spent; 200 the same terminal, invoice, member and amount again; 409 a balance below it."""
    return _movement(db, terminal, number, "spend", body)


@device.post("/top-up", response_model=MoveOut, status_code=201, responses=AGAIN, summary="Top up a member's stored value (cash "
                                                                          "taken at the counter)")
def device_top_up(number: NumberPath, body: MoveIn, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    return _movement(db, terminal, number, "topup", body)


# -- back office --------------------------------------------------------------------------
@router.get("/merchants/{merchant_id}/stored-value-flags", response_model=list[FlagOut])
def flags(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """Offline spends the member's balance could not cover when their sale was uploaded, newest first."""
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    rows = db.execute(select(StoredValueEntry, Member.number, Terminal.controller_id)
                      .join(Member, Member.id == StoredValueEntry.member_id)
                      .outerjoin(Terminal, Terminal.id == StoredValueEntry.terminal_id)
                      .where(StoredValueEntry.merchant_id == m.id, StoredValueEntry.short > 0)
                      .order_by(StoredValueEntry.id.desc()).limit(1000))
    return [FlagOut(id=e.id, member_number=n, terminal=cid, invoice=e.invoice, amount=-e.amount + e.short,
                    short=e.short) for e, n, cid in rows]
