"""/api/v1 (back office) and the device API of gift cards (docs/gift-cards.md).

Back office: issue a gift card with a balance, list a merchant's cards, one card with its
ledger, top a card up.  Device (TargetToken, as cloud.sales.ingest): a card's balance, a
redemption and a refund, each keyed by the terminal and its invoice so that a request repeated
after a lost answer changes the balance once.
"""
from typing import Optional

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typing_extensions import Annotated

from cloud.accounts.principal import Principal
from cloud.deps import AUTHED, IdPath, Input, commit, not_found, principal, problems, require, session
from cloud.giftcards import number as numbers
from cloud.giftcards.models import GiftCard, GiftCardEntry
from cloud.tenants.models import Merchant, Terminal
from cloud.tms.ddi import controller

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["gift cards"])
device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}/giftcards", tags=["gift cards (device API)"],
                   responses=problems(401, 404, 409))

MAX_BALANCE = 10**9
NumberPath = Annotated[str, Path(pattern=numbers.PATTERN, description="12 digits, '9' first, Luhn check digit")]


class IssueIn(Input):
    model_config = ConfigDict(extra="forbid")
    balance: int = Field(ge=1, le=MAX_BALANCE, description="minor units the card is issued with")


class TopUpIn(Input):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=1, le=MAX_BALANCE)


class RedeemIn(Input):
    model_config = ConfigDict(extra="forbid")
    invoice: int = Field(ge=1, le=999_999_999, description="the terminal's invoice: with the terminal, "
                                                           "the idempotency key")
    amount: int = Field(ge=1, le=MAX_BALANCE)


class RefundIn(RedeemIn):
    original_invoice: int = Field(ge=1, le=999_999_999, description="the invoice that spent the card")


class EntryOut(BaseModel):
    id: int
    kind: str
    amount: int
    balance: int
    terminal: Optional[str]
    invoice: Optional[int]
    original_invoice: Optional[int]
    by: str


class GiftCardOut(BaseModel):
    id: int
    merchant_id: int
    number: str
    balance: int
    issued: int
    entries: list[EntryOut] = []


class BalanceOut(BaseModel):
    number: str = Field(description="masked: the last four digits")
    balance: int


class MovementOut(BaseModel):
    number: str = Field(description="masked: the last four digits")
    invoice: int
    amount: int
    balance: int = Field(description="the card's balance after this movement")
    status: str = Field(description="done, or duplicate: the same request again, nothing changed")


def _merchant(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


def _card(db, who, gift_card_id):
    c = db.get(GiftCard, gift_card_id)
    if c is None or not who.sees_merchant(db.get(Merchant, c.merchant_id)):
        raise not_found("gift card %d" % gift_card_id)
    return c


def card_out(db, c, entries=False):
    out = GiftCardOut(id=c.id, merchant_id=c.merchant_id, number=c.number, balance=c.balance, issued=c.issued)
    if entries:
        rows = db.execute(select(GiftCardEntry, Terminal.controller_id)
                          .outerjoin(Terminal, Terminal.id == GiftCardEntry.terminal_id)
                          .where(GiftCardEntry.card_id == c.id).order_by(GiftCardEntry.id))
        out.entries = [EntryOut(id=e.id, kind=e.kind, amount=e.amount, balance=e.balance, terminal=cid,
                                invoice=e.invoice, original_invoice=e.original_invoice, by=e.by) for e, cid in rows]
    return out


# -- back office --------------------------------------------------------------------------
@router.post("/merchants/{merchant_id}/gift-cards", response_model=GiftCardOut, status_code=201)
def issue(merchant_id: IdPath, body: IssueIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    """A new gift card of the merchant with `balance`; its number is made here (unique per merchant)."""
    m = _merchant(db, who, merchant_id)
    require(who, "giftcards:issue")
    for _ in range(20):
        n = numbers.new_number()
        if db.scalar(select(GiftCard.id).where(GiftCard.merchant_id == m.id, GiftCard.number == n)) is None:
            break
    else:
        raise HTTPException(status_code=409, detail="no free gift card number found: try again")
    c = GiftCard(operator_id=m.operator_id, merchant_id=m.id, number=n, balance=body.balance, issued=body.balance,
                 issued_by=who.label)
    db.add(c)
    db.flush()
    db.add(GiftCardEntry(merchant_id=m.id, card_id=c.id, kind="issue", amount=body.balance, balance=body.balance,
                         by=who.label))
    commit(db, "this gift card number was issued at the same moment: try again")
    return card_out(db, c, entries=True)


@router.get("/merchants/{merchant_id}/gift-cards", response_model=list[GiftCardOut])
def list_cards(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _merchant(db, who, merchant_id)
    return [card_out(db, c) for c in db.scalars(select(GiftCard).where(GiftCard.merchant_id == m.id)
                                                .order_by(GiftCard.id).limit(1000))]


@router.get("/gift-cards/{gift_card_id}", response_model=GiftCardOut)
def get_card(gift_card_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """The card, its balance and its ledger, oldest first."""
    return card_out(db, _card(db, who, gift_card_id), entries=True)


@router.post("/gift-cards/{gift_card_id}/top-up", response_model=GiftCardOut)
def top_up(gift_card_id: IdPath, body: TopUpIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    c = _card(db, who, gift_card_id)
    require(who, "giftcards:issue")
    _move(db, c, "topup", body.amount, by=who.label)
    commit(db)
    return card_out(db, c, entries=True)


def _move(db, c, kind, amount, terminal=None, invoice=None, original=None, by=""):
    """Change the card's balance by `amount` in one conditional UPDATE (never below zero, two
    counters at the same moment cannot both spend the last of it) and add its entry; None
    when the balance is too low."""
    got = db.execute(update(GiftCard).where(GiftCard.id == c.id, GiftCard.balance + amount >= 0)
                     .values(balance=GiftCard.balance + amount))
    if got.rowcount != 1:
        return None
    db.refresh(c, ["balance"])
    e = GiftCardEntry(merchant_id=c.merchant_id, card_id=c.id, kind=kind, amount=amount, balance=c.balance,
                      terminal_id=terminal.id if terminal is not None else None, invoice=invoice,
                      original_invoice=original, by=by)
    db.add(e)
    db.flush()
    return e


# -- device API ---------------------------------------------------------------------------
def _device_card(db, terminal, number):
    if terminal.store is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store: it has no gift cards")
    if not numbers.valid(number):
        raise HTTPException(status_code=422, detail="gift card number %s: check digit wrong, key it again"
                            % numbers.masked(number))
    c = db.scalar(select(GiftCard).where(GiftCard.merchant_id == terminal.store.merchant_id,
                                         GiftCard.number == number))
    if c is None:
        raise not_found("gift card %s" % numbers.masked(number))
    return c


def _earlier(db, terminal, invoice, kind):
    return db.scalar(select(GiftCardEntry).where(GiftCardEntry.terminal_id == terminal.id,
                                                 GiftCardEntry.invoice == invoice, GiftCardEntry.kind == kind))


def _repeat(c, e, amount, number):
    """The same request again: its first answer (200), or 409 when it is not the same request."""
    if e.card_id != c.id or abs(e.amount) != amount:
        raise HTTPException(status_code=409, detail="invoice %d of this terminal already moved another gift card "
                            "or amount (%d on %s)" % (e.invoice, abs(e.amount), numbers.masked(number)))
    return MovementOut(number=numbers.masked(c.number), invoice=e.invoice, amount=amount, balance=e.balance,
                       status="duplicate")


@device.get("/{number}", response_model=BalanceOut, summary="A gift card's balance")
def device_balance(number: NumberPath, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    c = _device_card(db, terminal, number)
    return BalanceOut(number=numbers.masked(c.number), balance=c.balance)


def _movement(db, terminal, number, kind, body, original=None):
    c = _device_card(db, terminal, number)
    e = _earlier(db, terminal, body.invoice, kind)
    if e is not None:
        return JSONResponse(_repeat(c, e, body.amount, number).model_dump())
    amount = -body.amount if kind == "redeem" else body.amount
    e = _move(db, c, kind, amount, terminal, body.invoice, original, "terminal:%s" % terminal.controller_id)
    if e is None:
        raise HTTPException(status_code=409, detail="gift card %s holds %d, less than the %d asked"
                            % (numbers.masked(c.number), c.balance, body.amount))
    try:
        db.commit()
    except IntegrityError:                     # the same request at the same moment: its twin won
        db.rollback()
        e = _earlier(db, terminal, body.invoice, kind)
        if e is None:
            raise
        return JSONResponse(_repeat(db.get(GiftCard, e.card_id), e, body.amount, number).model_dump())
    return MovementOut(number=numbers.masked(c.number), invoice=body.invoice, amount=body.amount, balance=e.balance,
                       status="done")


AGAIN = {200: {"model": MovementOut, "description": "the same request again: its first result, nothing moved"}}


@device.post("/{number}/redeem", response_model=MovementOut, status_code=201, responses=AGAIN,
             summary="Spend from a gift card, once per terminal and invoice")
def device_redeem(number: NumberPath, body: RedeemIn, db: Session = Depends(session),
                  terminal: Terminal = Depends(controller)):
    """201 spent; 200 the same terminal, invoice, card and amount again (nothing spent twice);
    409 a balance below the amount (the detail says how much it holds) or the invoice already
    used with another card or amount; 404 a number this merchant never issued."""
    return _movement(db, terminal, number, "redeem", body)


@device.post("/{number}/refund", response_model=MovementOut, status_code=201, responses=AGAIN,
             summary="Give back to a gift card what an invoice of this terminal spent from it")
def device_refund(number: NumberPath, body: RefundIn, db: Session = Depends(session),
                  terminal: Terminal = Depends(controller)):
    """The refund never exceeds what `original_invoice` spent from this card less what was
    refunded of it before (409)."""
    c = _device_card(db, terminal, number)
    spent = db.scalar(select(GiftCardEntry).where(GiftCardEntry.terminal_id == terminal.id,
                                                  GiftCardEntry.invoice == body.original_invoice,
                                                  GiftCardEntry.kind == "redeem", GiftCardEntry.card_id == c.id))
    if spent is None:
        raise HTTPException(status_code=409, detail="invoice %d of this terminal spent nothing from gift card %s"
                            % (body.original_invoice, numbers.masked(number)))
    back = sum(db.scalars(select(GiftCardEntry.amount).where(
        GiftCardEntry.card_id == c.id, GiftCardEntry.kind == "refund", GiftCardEntry.terminal_id == terminal.id,
        GiftCardEntry.original_invoice == body.original_invoice, GiftCardEntry.invoice != body.invoice)))
    if back + body.amount > -spent.amount:
        raise HTTPException(status_code=409, detail="invoice %d spent %d from gift card %s and %d of it went back "
                            "already: %d more is too much" % (body.original_invoice, -spent.amount,
                                                              numbers.masked(number), back, body.amount))
    return _movement(db, terminal, number, "refund", body, body.original_invoice)
