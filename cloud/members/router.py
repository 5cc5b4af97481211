"""/api/v1 (back office) and the device API of members (docs/members.md).

Back office: the merchant's member programme, members enrolled, cards registered, stored value
topped up, a member's points ledger, the QR a member's phone shows.  Device (TargetToken, as
cloud.sales.ingest): the programme parameters, a member looked up by card UID, phone or number,
enrolment at the counter, and the masked copy a terminal keeps for offline use.  Names and
phone numbers leave the service masked only; a phone is matched whole, never listed.
"""
import hashlib
import json
import re
import secrets
from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.db import utcnow
from cloud.insights import suggest
from cloud.deps import AUTHED, IdPath, Input, commit, not_found, principal, problems, require, session
from cloud.members import qr
from cloud.members.models import Member, MemberCard, MemberProgramme, PointsEntry
from cloud.members.points import next_reward
from cloud.sales.models import Sale
from cloud.tenants.models import Merchant, Terminal
from cloud.tms.ddi import controller

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["members"])
device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}/members", tags=["members (device API)"],
                   responses=problems(401, 404, 409))

PHONE = r"^\+?[0-9]{6,15}$"
UID = r"^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$"       # ISO/IEC 14443-3: 4, 7 or 10 bytes
TIERS = ("BASIC", "SILVER", "GOLD", "PLATINUM")


def phone_digits(phone):
    return phone.lstrip("+")


def mask_name(name):
    """Each word's first letter, the rest '*': 'Li Wei' -> 'L* W**'."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())[:60]


def mask_phone(phone):
    """The last four digits only: '13800001234' -> '*******1234'."""
    return "*" * max(0, len(phone) - 4) + phone[-4:]


def phone_digest(merchant_id, phone):
    """What a terminal's offline copy holds to match a typed phone: SHA-256 of the merchant id
    and the digits, 16 hex digits; the copy never holds the number."""
    return hashlib.sha256(("%d:%s" % (merchant_id, phone_digits(phone))).encode()).hexdigest()[:16].upper()


class ProgrammeIn(Input):
    model_config = ConfigDict(extra="forbid")
    spend_unit: int = Field(100, ge=1, le=10**9, description="minor units of spend that earn points_per_unit")
    points_per_unit: int = Field(1, ge=0, le=10**6)
    reward_points: int = Field(500, ge=1, le=10**9, description="a reward every this many points")
    reward_text: str = Field("5.00 OFF", max_length=40, pattern=r"^[ -~]*$")
    offline_stored_value: int = Field(2000, ge=0, le=10**12, description="the most stored value a terminal "
                                                                         "lets a member spend while offline")
    qr_ttl_s: int = Field(300, ge=30, le=86400, description="how long a member QR is valid")


class ProgrammeOut(BaseModel):
    merchant_id: int
    spend_unit: int
    points_per_unit: int
    reward_points: int
    reward_text: str
    offline_stored_value: int
    qr_ttl_s: int
    qr_key_n: str = Field(description="the QR key's RSA modulus, hex: the terminal's parameter")
    qr_key_e: str
    version: int


class EnrolIn(Input):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=60, pattern=r"^[^\x00-\x1f]*$", description="may stay empty at the counter")
    phone: str = Field(pattern=PHONE)
    tier: Literal[TIERS] = "BASIC"
    card_uid: str = Field("", pattern=r"^(%s)?$" % UID[1:-1])
    card_kind: Literal["", "mifare_classic", "ntag"] = ""


class CardIn(Input):
    model_config = ConfigDict(extra="forbid")
    uid: str = Field(pattern=UID)
    kind: Literal["", "mifare_classic", "ntag"] = ""


class StoredValueIn(Input):
    model_config = ConfigDict(extra="forbid")
    amount: int = Field(ge=-10**12, le=10**12, description="minor units: + top-up, - correction")


class MemberOut(BaseModel):
    id: int
    merchant_id: int
    number: str
    name: str = Field(description="masked: each word's first letter")
    phone: str = Field(description="masked: the last four digits")
    tier: str
    points: int
    stored_value: int
    next_reward_in: int
    cards: list[str] = Field(description="card UIDs, hex")


class EntryOut(BaseModel):
    id: int
    sale_id: Optional[int]
    kind: str
    points: int
    balance: int
    note: str


class QrOut(BaseModel):
    qr: str
    expires: int


def member_out(m, programme):
    return MemberOut(id=m.id, merchant_id=m.merchant_id, number=m.number, name=mask_name(m.name),
                     phone=mask_phone(m.phone), tier=m.tier, points=m.points, stored_value=m.stored_value,
                     next_reward_in=next_reward(m.points, programme) if programme else 0,
                     cards=[c.uid for c in m.cards])


def programme_out(p):
    n, e = qr.public_numbers(p)
    return ProgrammeOut(merchant_id=p.merchant_id, spend_unit=p.spend_unit, points_per_unit=p.points_per_unit,
                        reward_points=p.reward_points, reward_text=p.reward_text,
                        offline_stored_value=p.offline_stored_value, qr_ttl_s=p.qr_ttl_s, qr_key_n=n, qr_key_e=e,
                        version=p.version)


def _merchant(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


def _member(db, who, member_id):
    m = db.get(Member, member_id)
    if m is None or not who.sees_merchant(db.get(Merchant, m.merchant_id)):
        raise not_found("member %d" % member_id)
    return m


def _programme(db, merchant_id):
    p = db.get(MemberProgramme, merchant_id)
    if p is None:
        raise HTTPException(status_code=409, detail="merchant %d has no member programme: set one first "
                            "(PUT /api/v1/merchants/%d/member-programme)" % (merchant_id, merchant_id))
    return p


def _new_number(db, merchant_id):
    for _ in range(20):
        n = "8%09d" % secrets.randbelow(10**9)
        if db.scalar(select(Member.id).where(Member.merchant_id == merchant_id, Member.number == n)) is None:
            return n
    raise HTTPException(status_code=409, detail="no free member number found: try again")


def enrol(db, merchant, body, by):
    """A new member of `merchant` (flushed); 409 when the phone or the card is already a member's."""
    phone = phone_digits(body.phone)
    if db.scalar(select(Member.id).where(Member.merchant_id == merchant.id, Member.phone == phone)) is not None:
        raise HTTPException(status_code=409, detail="a member with this phone number exists already")
    m = Member(operator_id=merchant.operator_id, merchant_id=merchant.id, number=_new_number(db, merchant.id),
               name=body.name.strip(), phone=phone, tier=body.tier, enrolled_by=by)
    db.add(m)
    db.flush()
    if body.card_uid:
        _add_card(db, m, body.card_uid, body.card_kind)
    return m


def _add_card(db, m, uid, kind):
    uid = uid.upper()
    if db.scalar(select(MemberCard.id).where(MemberCard.merchant_id == m.merchant_id, MemberCard.uid == uid)):
        raise HTTPException(status_code=409, detail="card %s is registered to a member already" % uid)
    db.add(MemberCard(merchant_id=m.merchant_id, member_id=m.id, uid=uid, kind=kind))
    db.flush()
    db.refresh(m, ["cards"])


# -- back office --------------------------------------------------------------------------
@router.put("/merchants/{merchant_id}/member-programme", response_model=ProgrammeOut)
def set_programme(merchant_id: IdPath, body: ProgrammeIn, db: Session = Depends(session),
                  who: Principal = Depends(principal)):
    """The merchant's points rule and limits; the first call also makes the QR signing key."""
    m = _merchant(db, who, merchant_id)
    require(who, "members:programme")
    p = db.get(MemberProgramme, m.id)
    if p is None:
        p = MemberProgramme(merchant_id=m.id, qr_key_pem=qr.new_key_pem(), version=0)
        db.add(p)
    for k, v in body.model_dump().items():
        setattr(p, k, v)
    p.version += 1
    commit(db)
    return programme_out(p)


@router.get("/merchants/{merchant_id}/member-programme", response_model=ProgrammeOut)
def get_programme(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return programme_out(_programme(db, _merchant(db, who, merchant_id).id))


@router.post("/merchants/{merchant_id}/members", response_model=MemberOut, status_code=201)
def enrol_member(merchant_id: IdPath, body: EnrolIn, db: Session = Depends(session),
                 who: Principal = Depends(principal)):
    m = _merchant(db, who, merchant_id)
    p = _programme(db, m.id)
    member = enrol(db, m, body, who.label)
    commit(db, "this phone number or card is a member's already")
    return member_out(member, p)


@router.get("/merchants/{merchant_id}/members", response_model=list[MemberOut])
def list_members(merchant_id: IdPath, number: Optional[str] = Query(None, max_length=12),
                 limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**7),
                 db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _merchant(db, who, merchant_id)
    q = select(Member).where(Member.merchant_id == m.id)
    if number:
        q = q.where(Member.number == number)
    p = db.get(MemberProgramme, m.id)
    return [member_out(x, p) for x in db.scalars(q.order_by(Member.id).offset(offset).limit(limit))]


@router.get("/members/{member_id}", response_model=MemberOut)
def get_member(member_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _member(db, who, member_id)
    return member_out(m, db.get(MemberProgramme, m.merchant_id))


@router.get("/members/{member_id}/points", response_model=list[EntryOut])
def member_points(member_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """The member's points ledger, oldest first."""
    m = _member(db, who, member_id)
    return [EntryOut(id=e.id, sale_id=e.sale_id, kind=e.kind, points=e.points, balance=e.balance, note=e.note)
            for e in db.scalars(select(PointsEntry).where(PointsEntry.member_id == m.id).order_by(PointsEntry.id))]


@router.post("/members/{member_id}/cards", response_model=MemberOut, status_code=201)
def add_card(member_id: IdPath, body: CardIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _member(db, who, member_id)
    _add_card(db, m, body.uid, body.kind)
    commit(db, "card %s is registered to a member already" % body.uid.upper())
    return member_out(m, db.get(MemberProgramme, m.merchant_id))


@router.post("/members/{member_id}/stored-value", response_model=MemberOut)
def stored_value(member_id: IdPath, body: StoredValueIn, db: Session = Depends(session),
                 who: Principal = Depends(principal)):
    """Top up (or correct) the member's stored value; it never goes below zero."""
    m = _member(db, who, member_id)
    if m.stored_value + body.amount < 0:
        raise HTTPException(status_code=409, detail="the stored value is %d: a correction of %d takes it below zero"
                            % (m.stored_value, body.amount))
    m.stored_value += body.amount
    commit(db)
    return member_out(m, db.get(MemberProgramme, m.merchant_id))


@router.post("/members/{member_id}/qr", response_model=QrOut)
def member_qr(member_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """The QR a member's phone shows at the counter: signed, valid for the programme's QR lifetime."""
    m = _member(db, who, member_id)
    p = _programme(db, m.merchant_id)
    text = qr.issue(m, p, utcnow())
    return QrOut(qr=text, expires=int(text.split(".")[2]))


# -- device API ---------------------------------------------------------------------------
def _terminal_merchant(db, terminal):
    if terminal.store is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store: it has no members")
    return db.get(Merchant, terminal.store.merchant_id)


@device.get("/programme", response_model=ProgrammeOut, summary="The member programme parameters")
def device_programme(db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    return programme_out(_programme(db, _terminal_merchant(db, terminal).id))


@device.get("/lookup", response_model=MemberOut, summary="A member by card UID, phone or member number")
def device_lookup(card: Optional[str] = Query(None, pattern=UID), phone: Optional[str] = Query(None, pattern=PHONE),
                  number: Optional[str] = Query(None, max_length=12, pattern=r"^[0-9]+$"),
                  db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    merchant = _terminal_merchant(db, terminal)
    q = select(Member).where(Member.merchant_id == merchant.id)
    if card:
        q = q.join(MemberCard, MemberCard.member_id == Member.id).where(MemberCard.uid == card.upper())
    elif phone:
        q = q.where(Member.phone == phone_digits(phone))
    elif number:
        q = q.where(Member.number == number)
    else:
        raise HTTPException(status_code=422, detail="name the member by card, phone or number")
    m = db.scalar(q)
    if m is None:
        raise not_found("member")
    return member_out(m, db.get(MemberProgramme, merchant.id))


@device.post("", response_model=MemberOut, status_code=201, summary="Enrol a member at the counter")
def device_enrol(body: EnrolIn, db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    merchant = _terminal_merchant(db, terminal)
    p = _programme(db, merchant.id)
    m = enrol(db, merchant, body, "terminal:%s" % terminal.controller_id)
    commit(db, "this phone number or card is a member's already")
    return member_out(m, p)


def copy_rows(db, terminal):
    """(header, [member rows]) of the terminal's member copy: the header's inv is the highest
    invoice of this terminal stored (its points are in these balances), n the member count;
    a row: n number, nm masked name, ph masked phone, pd phone digest, t tier, p points,
    sv stored value, c card UIDs, r (when there are any) the items recommended to the member
    (cloud.insights.suggest)."""
    merchant = _terminal_merchant(db, terminal)
    p = _programme(db, merchant.id)
    through = db.scalar(select(func.max(Sale.invoice)).where(Sale.terminal_id == terminal.id)) or 0
    recommended = suggest.for_members(db, merchant.id)
    rows = []
    for m in db.scalars(select(Member).where(Member.merchant_id == merchant.id).order_by(Member.id)):
        row = {"n": m.number, "nm": mask_name(m.name), "ph": mask_phone(m.phone),
               "pd": phone_digest(merchant.id, m.phone), "t": m.tier, "p": m.points, "sv": m.stored_value,
               "c": [c.uid for c in m.cards]}
        if m.number in recommended:
            row["r"] = recommended[m.number]
        rows.append(row)
    return {"v": p.version, "inv": through, "n": len(rows)}, rows


@device.get("/copy", summary="The masked copy of the merchant's members a terminal keeps for offline use")
def device_copy(db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    """version, terminal_invoice (the highest invoice of this terminal stored: its points are
    in these balances) and members (the rows of copy.jsonl)."""
    head, rows = copy_rows(db, terminal)
    return {"version": head["v"], "terminal_invoice": head["inv"], "members": rows}


@device.get("/copy.jsonl", response_class=Response,
            responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
            summary="The member copy as the terminal stores it: a header line, then one member a line")
def device_copy_lines(db: Session = Depends(session), terminal: Terminal = Depends(controller)):
    head, rows = copy_rows(db, terminal)
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in [head] + rows)
    return PlainTextResponse(text, media_type="application/x-ndjson")
