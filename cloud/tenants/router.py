"""/api/v1: operator, merchants, stores, terminals, enrollment."""
import json
from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.audit.recorder import act_as, record
from cloud.currency import TRADED, check_numeric
from cloud.db import utcnow
from cloud.deps import (AUTHED, commit, IdPath, Input, not_found, principal, problems, require, session,
                        settings, UTCDateTime)
from cloud.tenants import activation
from cloud.tenants.models import Merchant, Operator, Store, Terminal

router = APIRouter(prefix="/api/v1", responses=AUTHED)

Name = Field(min_length=1, max_length=120)
Id = Field(ge=1, le=2**31 - 1)
CONTROLLER_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


# ---------------------------------------------------------------- operator
class OperatorOut(BaseModel):
    id: int
    slug: str
    name: str


@router.get("/operator", response_model=OperatorOut, tags=["tenants"])
def get_operator(db: Session = Depends(session), who: Principal = Depends(principal)):
    """The operator the caller belongs to (its slug is the DDI tenant)."""
    op = db.get(Operator, who.operator_id)
    return OperatorOut(id=op.id, slug=op.slug, name=op.name)


# ---------------------------------------------------------------- merchants
class MerchantIn(Input):
    model_config = ConfigDict(extra="forbid")
    name: str = Name
    mid: str = Field("", max_length=15, pattern=r"^[0-9A-Za-z ]*$")
    currency: str = Field("978", pattern=r"^[0-9]{3}$", json_schema_extra={"enum": TRADED})

    @field_validator("currency")
    @classmethod
    def iso4217_currency(cls, code):
        return check_numeric(code)


class MerchantPatch(Input):
    model_config = ConfigDict(extra="forbid")
    name: Optional[str] = Field(None, min_length=1, max_length=120)
    mid: Optional[str] = Field(None, max_length=15, pattern=r"^[0-9A-Za-z ]*$")
    currency: Optional[str] = Field(None, pattern=r"^[0-9]{3}$", json_schema_extra={"enum": TRADED})

    @field_validator("currency")
    @classmethod
    def iso4217_currency(cls, code):
        return check_numeric(code)


class MerchantOut(BaseModel):
    id: int
    name: str
    mid: str
    currency: str
    store_count: int


def merchant_out(m):
    return MerchantOut(id=m.id, name=m.name, mid=m.mid, currency=m.currency, store_count=len(m.stores))


def _merchant(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


@router.get("/merchants", response_model=list[MerchantOut], tags=["tenants"])
def list_merchants(db: Session = Depends(session), who: Principal = Depends(principal)):
    q = select(Merchant).where(Merchant.operator_id == who.operator_id)
    if not who.is_operator:
        q = q.where(Merchant.id == who.merchant_id)
    return [merchant_out(m) for m in db.scalars(q.order_by(Merchant.id))]


@router.post("/merchants", response_model=MerchantOut, status_code=201, tags=["tenants"])
def create_merchant(body: MerchantIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "merchant:write")
    m = Merchant(operator_id=who.operator_id, name=body.name, mid=body.mid, currency=body.currency)
    db.add(m)
    commit(db, "a merchant named %r exists" % body.name)
    return merchant_out(m)


@router.get("/merchants/{merchant_id}", response_model=MerchantOut, tags=["tenants"])
def get_merchant(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return merchant_out(_merchant(db, who, merchant_id))


@router.patch("/merchants/{merchant_id}", response_model=MerchantOut, tags=["tenants"])
def update_merchant(merchant_id: IdPath, body: MerchantPatch, db: Session = Depends(session),
                    who: Principal = Depends(principal)):
    m = _merchant(db, who, merchant_id)
    require(who, "merchant:write")
    for k, v in body.model_dump(exclude_none=True).items():
        setattr(m, k, v)
    commit(db, "a merchant with that name exists")
    return merchant_out(m)


@router.delete("/merchants/{merchant_id}", status_code=204, tags=["tenants"])
def delete_merchant(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _merchant(db, who, merchant_id)
    require(who, "merchant:delete")
    if m.stores:
        raise HTTPException(status_code=409, detail="merchant %d still has %d store(s): remove them first"
                            % (m.id, len(m.stores)))
    db.delete(m)
    commit(db, "merchant %d still has accounts: disable or move them first" % merchant_id)


# ---------------------------------------------------------------- stores
class StoreIn(Input):
    model_config = ConfigDict(extra="forbid")
    merchant_id: int = Id
    name: str = Name
    address: str = Field("", max_length=240)
    timezone: str = Field("UTC", max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")


class StorePatch(Input):
    model_config = ConfigDict(extra="forbid")
    name: Optional[str] = Field(None, min_length=1, max_length=120)
    address: Optional[str] = Field(None, max_length=240)
    timezone: Optional[str] = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")


class StoreOut(BaseModel):
    id: int
    merchant_id: int
    name: str
    address: str
    timezone: str


def store_out(s):
    return StoreOut(id=s.id, merchant_id=s.merchant_id, name=s.name, address=s.address, timezone=s.timezone)


def _store(db, who, store_id):
    s = db.get(Store, store_id)
    if not who.sees_store(s):
        raise not_found("store %d" % store_id)
    return s


@router.get("/stores", response_model=list[StoreOut], tags=["tenants"])
def list_stores(merchant_id: Optional[int] = Query(None, ge=1, le=2**31 - 1),
                db: Session = Depends(session), who: Principal = Depends(principal)):
    q = select(Store).join(Merchant).where(Merchant.operator_id == who.operator_id)
    if not who.is_operator:
        q = q.where(Store.merchant_id == who.merchant_id)
    if merchant_id is not None:
        q = q.where(Store.merchant_id == merchant_id)
    return [store_out(s) for s in db.scalars(q.order_by(Store.id))]


@router.post("/stores", response_model=StoreOut, status_code=201, tags=["tenants"])
def create_store(body: StoreIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _merchant(db, who, body.merchant_id)
    require(who, "store:write")
    s = Store(merchant_id=m.id, name=body.name, address=body.address, timezone=body.timezone)
    db.add(s)
    commit(db, "merchant %d has a store named %r" % (m.id, body.name))
    return store_out(s)


@router.get("/stores/{store_id}", response_model=StoreOut, tags=["tenants"])
def get_store(store_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return store_out(_store(db, who, store_id))


@router.patch("/stores/{store_id}", response_model=StoreOut, tags=["tenants"])
def update_store(store_id: IdPath, body: StorePatch, db: Session = Depends(session),
                 who: Principal = Depends(principal)):
    s = _store(db, who, store_id)
    require(who, "store:write")
    for k, v in body.model_dump(exclude_none=True).items():
        setattr(s, k, v)
    commit(db, "the merchant has a store with that name")
    return store_out(s)


@router.delete("/stores/{store_id}", status_code=204, tags=["tenants"])
def delete_store(store_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    s = _store(db, who, store_id)
    require(who, "store:delete")
    placed = db.scalars(select(Terminal.id).where(Terminal.store_id == s.id)).all()
    if placed:
        raise HTTPException(status_code=409, detail="store %d still has %d terminal(s): move them first"
                            % (s.id, len(placed)))
    db.delete(s)
    commit(db)


# ---------------------------------------------------------------- terminals
class TerminalIn(Input):
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=1, max_length=64, pattern=CONTROLLER_ID)
    model: str = Field("", max_length=64)
    tid: str = Field("", max_length=8, pattern=r"^[0-9A-Za-z]*$")
    store_id: Optional[int] = Field(None, ge=1, le=2**31 - 1)
    controller_id: Optional[str] = Field(None, max_length=64, pattern=CONTROLLER_ID)


class TerminalPatch(Input):
    model_config = ConfigDict(extra="forbid")
    model: Optional[str] = Field(None, max_length=64)
    tid: Optional[str] = Field(None, max_length=8, pattern=r"^[0-9A-Za-z]*$")
    store_id: Optional[int] = Field(None, ge=0, le=2**31 - 1, description="0 takes it out of its store")
    state: Optional[Literal["registered", "disabled"]] = None


class TerminalOut(BaseModel):
    id: int
    controller_id: str
    serial: str
    model: str
    tid: str
    state: str
    store_id: Optional[int]
    merchant_id: Optional[int]
    enrolled_at: Optional[UTCDateTime]
    last_seen_at: Optional[UTCDateTime]
    activation_expires_at: Optional[UTCDateTime]
    attributes: dict = Field(default_factory=dict, description="DDI config data the terminal last sent")


class TerminalActivation(BaseModel):
    terminal: TerminalOut
    activation_code: str = Field(description="shown once; typed on the keypad or scanned as a QR")
    activation_qr: str = Field("", description="the code's 12 digits as a QR code (data: URI of a PNG) "
                                               "for the terminal's scanner")
    expires_at: UTCDateTime


def terminal_out(t):
    pending = t.activation_code_hash and t.activation_expires_at and t.activation_expires_at > utcnow()
    return TerminalOut(id=t.id, controller_id=t.controller_id, serial=t.serial, model=t.model, tid=t.tid,
                       state=t.state, store_id=t.store_id,
                       merchant_id=t.store.merchant_id if t.store is not None else None,
                       enrolled_at=t.enrolled_at, last_seen_at=t.last_seen_at,
                       activation_expires_at=t.activation_expires_at if pending else None,
                       attributes=json.loads(t.attributes or "{}"))


def _terminal(db, who, terminal_id):
    t = db.get(Terminal, terminal_id)
    if not who.sees_terminal(t):
        raise not_found("terminal %d" % terminal_id)
    return t


@router.get("/terminals", response_model=list[TerminalOut], tags=["terminals"])
def list_terminals(store_id: Optional[int] = Query(None, ge=1, le=2**31 - 1),
                   merchant_id: Optional[int] = Query(None, ge=1, le=2**31 - 1),
                   state: Optional[Literal["registered", "enrolled", "disabled"]] = None,
                   q: Optional[str] = Query(None, max_length=64),
                   limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9),
                   db: Session = Depends(session), who: Principal = Depends(principal)):
    stmt = select(Terminal).where(Terminal.operator_id == who.operator_id)
    if not who.is_operator or merchant_id is not None:
        stmt = stmt.join(Store, Terminal.store_id == Store.id)
        stmt = stmt.where(Store.merchant_id == (merchant_id if who.is_operator else who.merchant_id))
        if not who.is_operator and merchant_id is not None and merchant_id != who.merchant_id:
            return []
    if store_id is not None:
        stmt = stmt.where(Terminal.store_id == store_id)
    if state is not None:
        stmt = stmt.where(Terminal.state == state)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Terminal.serial.like(like, escape="\\") | Terminal.controller_id.like(like, escape="\\"))
    stmt = stmt.order_by(Terminal.id).limit(limit).offset(offset)
    return [terminal_out(t) for t in db.scalars(stmt)]


@router.post("/terminals", response_model=TerminalActivation, status_code=201, tags=["terminals"])
def register_terminal(body: TerminalIn, db: Session = Depends(session), who: Principal = Depends(principal),
                      cfg=Depends(settings)):
    """Register a terminal by its serial; the answer carries its first activation code."""
    require(who, "terminal:write")
    if body.store_id is not None:
        _store(db, who, body.store_id)
    t = Terminal(operator_id=who.operator_id, store_id=body.store_id, serial=body.serial, model=body.model,
                 tid=body.tid, controller_id=body.controller_id or body.serial, state="registered")
    code = activation.arm(t, cfg.activation_ttl_s)
    db.add(t)
    commit(db, "serial %r or controller id %r is already registered" % (body.serial, t.controller_id))
    return TerminalActivation(terminal=terminal_out(t), activation_code=activation.display(code),
                              activation_qr=activation.qr_data_uri(code), expires_at=t.activation_expires_at)


@router.get("/terminals/{terminal_id}", response_model=TerminalOut, tags=["terminals"])
def get_terminal(terminal_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return terminal_out(_terminal(db, who, terminal_id))


@router.patch("/terminals/{terminal_id}", response_model=TerminalOut, tags=["terminals"])
def update_terminal(terminal_id: IdPath, body: TerminalPatch, db: Session = Depends(session),
                    who: Principal = Depends(principal)):
    t = _terminal(db, who, terminal_id)
    require(who, "terminal:write")
    if body.store_id is not None:
        if body.store_id == 0:
            t.store_id = None
        else:
            t.store_id = _store(db, who, body.store_id).id
    if body.model is not None:
        t.model = body.model
    if body.tid is not None:
        t.tid = body.tid
    if body.state == "disabled":
        t.state, t.target_token_hash, t.activation_code_hash = "disabled", "", ""
    elif body.state == "registered" and t.state == "disabled":
        t.state = "registered"
    commit(db)
    db.refresh(t)
    return terminal_out(t)


@router.post("/terminals/{terminal_id}/activation", response_model=TerminalActivation, tags=["terminals"])
def new_activation(terminal_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal),
                   cfg=Depends(settings)):
    """A fresh activation code (the previous one stops working); to re-enroll a replaced or reset terminal."""
    t = _terminal(db, who, terminal_id)
    require(who, "terminal:write")
    if t.state == "disabled":
        raise HTTPException(status_code=409, detail="terminal %d is disabled: set state 'registered' first" % t.id)
    code = activation.arm(t, cfg.activation_ttl_s)
    commit(db)
    return TerminalActivation(terminal=terminal_out(t), activation_code=activation.display(code),
                              activation_qr=activation.qr_data_uri(code), expires_at=t.activation_expires_at)


@router.delete("/terminals/{terminal_id}", status_code=204, tags=["terminals"])
def decommission_terminal(terminal_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """Decommission: the terminal's token and activation code stop working; its history stays."""
    t = _terminal(db, who, terminal_id)
    require(who, "terminal:delete")
    t.state, t.target_token_hash, t.activation_code_hash = "disabled", "", ""
    commit(db)


# ---------------------------------------------------------------- enrollment (the terminal calls this)
class EnrollIn(Input):
    model_config = ConfigDict(extra="forbid")
    activation_code: str = Field(min_length=12, max_length=20, pattern=r"^[0-9 -]+$")
    serial: str = Field(min_length=1, max_length=64, pattern=CONTROLLER_ID)
    model: str = Field("", max_length=64)


class EnrollOut(BaseModel):
    tenant: str
    controller_id: str
    target_token: str = Field(description="DDI TargetToken: store it in the key store; shown once")
    ddi_path: str


ENROLL_REFUSED = "activation code unknown, used, expired, or issued for another serial"


@router.post("/enroll", response_model=EnrollOut, tags=["terminals"],
             responses=problems(403, 429))
def enroll(body: EnrollIn, request: Request, db: Session = Depends(session)):
    """A terminal exchanges its activation code for its DDI identity."""
    throttle = request.app.state.enroll_throttle
    client = request.client.host if request.client else "?"
    if throttle.blocked(client):
        raise HTTPException(status_code=429, detail="too many failed activation attempts: wait a minute")
    code = activation.normalise(body.activation_code)
    t = None
    if code is not None:
        t = db.scalar(select(Terminal).where(Terminal.activation_code_hash == activation.digest(code)))
    if t is None or t.state == "disabled" or t.activation_expires_at is None \
            or t.activation_expires_at <= utcnow() or t.serial != body.serial:
        throttle.failed(client)
        act_as(db, "enroll:%s" % client[:40])
        record(db, "enroll_refused", "terminals", t.id if t is not None else "",
               {"serial": body.serial}, operator_id=t.operator_id if t is not None else None)
        db.commit()
        raise HTTPException(status_code=403, detail=ENROLL_REFUSED)
    op = db.get(Operator, t.operator_id)
    act_as(db, "terminal:%s/%s" % (op.slug, t.controller_id), t.operator_id)
    token = activation.new_target_token()
    t.target_token_hash = activation.digest(token)
    t.activation_code_hash = ""
    t.activation_expires_at = None
    t.state = "enrolled"
    t.enrolled_at = utcnow()
    if body.model:
        t.model = body.model
    db.commit()
    return EnrollOut(tenant=op.slug, controller_id=t.controller_id, target_token=token,
                     ddi_path="/%s/controller/v1/%s" % (op.slug, t.controller_id))
