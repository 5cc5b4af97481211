"""/api/v1: recommendations for members, the credit profile, lenders and the merchant's consents.

Merchant-scoped routes (``/merchants/{id}/...``) answer 404 outside the caller's tenancy.
A terminal asks for the recommendations of the member it has identified on its own device API
(``POST /{tenant}/controller/v1/{controllerId}/recommendations``, TargetToken), for the merchant
of the store it is placed in.
The lender route (``/lending/...``) authenticates a lender's API key instead of a person and
answers only while the merchant's consent for that lender and scope is recorded, unexpired and
not revoked; otherwise 403 saying which.
"""
import datetime
import hashlib
import json
import secrets
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.models import MERCHANT_OWNER, MERCHANT_STAFF, OPERATOR_ADMIN
from cloud.accounts.principal import Principal
from cloud.audit.models import AuditEntry
from cloud.audit.recorder import act_as, actor_of
from cloud.db import utcnow
from cloud.deps import (AUTHED, IdPath, Input, UTCDateTime, commit, not_found, principal, problems, session,
                        unauthorized)
from cloud.insights import association, credit, record, schedule
from cloud.insights.models import CreditConsent, InsightMember, InsightModel, Lender
from cloud.tenants.models import Merchant, Terminal
from cloud.tms.ddi import controller

router = APIRouter(prefix="/api/v1", responses=AUTHED)
device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}", tags=["DDI (device API)"],
                   responses=problems(400, 401, 409, 413))

CODE = r"^[A-Za-z0-9_.:-]{1,32}$"
MemberPath = Path(min_length=1, max_length=32, pattern=CODE)
ItemCode = Annotated[str, StringConstraints(pattern=CODE)]
LENDER_KEY_PREFIX = "lk_"


def merchant_in_scope(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


def _forbid(message):
    return HTTPException(status_code=403, detail=message)


# ---------------------------------------------------------------- members' privacy switch

class PrivacyIn(Input):
    recommendations_opt_out: bool


class PrivacyOut(BaseModel):
    member: str
    recommendations_opt_out: bool
    updated_at: Optional[UTCDateTime] = None


@router.get("/merchants/{merchant_id}/members/{member}/privacy", response_model=PrivacyOut, tags=["insights"])
def get_privacy(merchant_id: IdPath, member: str = MemberPath, db: Session = Depends(session),
                who: Principal = Depends(principal)):
    merchant_in_scope(db, who, merchant_id)
    row = db.scalar(select(InsightMember).where(InsightMember.merchant_id == merchant_id,
                                                InsightMember.code == member))
    if row is None:
        return PrivacyOut(member=member, recommendations_opt_out=False)
    return PrivacyOut(member=member, recommendations_opt_out=row.recommendations_opt_out, updated_at=row.updated_at)


@router.put("/merchants/{merchant_id}/members/{member}/privacy", response_model=PrivacyOut, tags=["insights"])
def set_privacy(merchant_id: IdPath, body: PrivacyIn, member: str = MemberPath, db: Session = Depends(session),
                who: Principal = Depends(principal)):
    """The member's choice, recorded at the till or in the back office.  Opting out takes effect at
    once for recommendations (none are given) and at the next recompute for the model (the
    member's baskets are left out of it)."""
    merchant_in_scope(db, who, merchant_id)
    row = db.scalar(select(InsightMember).where(InsightMember.merchant_id == merchant_id,
                                                InsightMember.code == member))
    if row is None:
        row = InsightMember(merchant_id=merchant_id, code=member)
        db.add(row)
    row.recommendations_opt_out = body.recommendations_opt_out
    row.updated_at = utcnow()
    commit(db)
    return PrivacyOut(member=member, recommendations_opt_out=row.recommendations_opt_out, updated_at=row.updated_at)


# ---------------------------------------------------------------- recommendations

class RecommendIn(Input):
    member: str = Field("", max_length=32, pattern=r"^([A-Za-z0-9_.:-]{1,32})?$",
                        description="the identified member's code, or empty for a customer who is not one")
    basket: list[ItemCode] = Field(default_factory=list, max_length=100,
                                   description="item codes in the basket so far")
    limit: int = Field(5, ge=1, le=20)


class Suggestion(BaseModel):
    code: str
    name: str
    score: float
    because: str = Field(description="the item (in the basket or the member's past) it is often bought with; "
                                     "empty when it is a popular item filling up the list")


class RecommendOut(BaseModel):
    member: str
    opted_out: bool
    computed_at: UTCDateTime
    items: list[Suggestion]


def recommendations_for(db, merchant_id, body):
    row = db.get(InsightModel, merchant_id)
    if row is None:
        raise HTTPException(status_code=409, detail="no recommendation model yet for merchant %d: it is learnt by "
                                                    "the scheduled recompute (or POST .../recommendations/recompute)"
                                                    % merchant_id)
    if body.member and body.member in record.opted_out(db, merchant_id):
        return RecommendOut(member=body.member, opted_out=True, computed_at=row.computed_at, items=[])
    history = record.member_history(db, merchant_id, body.member) if body.member else []
    found = association.recommend(json.loads(row.model), body.basket, history, body.limit)
    names = record.item_names(db, merchant_id, {code for code, _, _ in found})
    return RecommendOut(member=body.member, opted_out=False, computed_at=row.computed_at,
                        items=[Suggestion(code=c, name=names.get(c, c), score=s, because=b) for c, s, b in found])


@router.post("/merchants/{merchant_id}/recommendations", response_model=RecommendOut, tags=["insights"])
def recommend(merchant_id: IdPath, body: RecommendIn, db: Session = Depends(session),
              who: Principal = Depends(principal)):
    """"Often bought with ...": item suggestions for a basket and the member holding it."""
    merchant_in_scope(db, who, merchant_id)
    return recommendations_for(db, merchant_id, body)


@device.post("/recommendations", response_model=RecommendOut, summary="Recommendations for the member a terminal "
             "identified: \"often bought with ...\" for its basket (the merchant of the terminal's store)")
def terminal_recommend(body: RecommendIn, db: Session = Depends(session), t: Terminal = Depends(controller)):
    if t.store is None:
        raise HTTPException(status_code=409, detail="the terminal is not placed in a store: no merchant to "
                                                    "recommend for")
    return recommendations_for(db, t.store.merchant_id, body)


class ModelOut(BaseModel):
    merchant_id: int
    computed_at: UTCDateTime
    baskets_used: int
    members_excluded: int


@router.post("/merchants/{merchant_id}/recommendations/recompute", response_model=ModelOut, tags=["insights"])
def recompute(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    merchant_in_scope(db, who, merchant_id)
    if who.role == MERCHANT_STAFF:
        raise _forbid("the role merchant_staff may not recompute the recommendations (the owner or the operator may)")
    row = schedule.recompute_one(db, merchant_id)
    commit(db)
    return ModelOut(merchant_id=merchant_id, computed_at=row.computed_at, baskets_used=row.baskets_used,
                    members_excluded=row.members_excluded)


# ---------------------------------------------------------------- credit profile

class FactorOut(BaseModel):
    name: str
    value: float
    points: float
    reason: str


class ProfileOut(BaseModel):
    merchant_id: int
    score: int = Field(description="300 (worst) to 900 (best); 600 is a merchant at every reference value")
    as_of: datetime.date
    months_on_record: int
    factors: list[FactorOut] = Field(description="every factor's contribution, the largest first")


def _profile(db, merchant_id):
    try:
        p = credit.profile(record.sales(db, merchant_id), record.today() + datetime.timedelta(days=1))
    except credit.CreditError as exc:
        raise HTTPException(status_code=409, detail="merchant %d: %s" % (merchant_id, exc))
    return ProfileOut(merchant_id=merchant_id, score=p.score, as_of=p.as_of, months_on_record=p.months,
                      factors=[FactorOut(name=f.name, value=f.value, points=f.points, reason=f.reason)
                               for f in p.factors])


@router.get("/merchants/{merchant_id}/credit-profile", response_model=ProfileOut, tags=["lending"])
def merchant_credit_profile(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """The score a lender would see, with its reasons: the merchant owner's own view (nobody else reads it
    without the owner's consent)."""
    merchant_in_scope(db, who, merchant_id)
    if who.role != MERCHANT_OWNER:
        raise _forbid("only the merchant's owner sees its credit profile (a lender needs the owner's consent)")
    return _profile(db, merchant_id)


# ---------------------------------------------------------------- lenders

class LenderIn(Input):
    name: str = Field(min_length=1, max_length=120)


class LenderOut(BaseModel):
    id: int
    name: str


class LenderCreated(LenderOut):
    key: str = Field(description="the lender's API key, shown this once (only its hash is kept)")


def _key_digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


@router.post("/lenders", response_model=LenderCreated, status_code=201, tags=["lending"])
def create_lender(body: LenderIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    if who.role != OPERATOR_ADMIN:
        raise _forbid("only an operator_admin may register a lender")
    key = LENDER_KEY_PREFIX + secrets.token_urlsafe(32)
    lender = Lender(operator_id=who.operator_id, name=body.name, key_hash=_key_digest(key))
    db.add(lender)
    commit(db, "a lender named %r exists" % body.name)
    return LenderCreated(id=lender.id, name=lender.name, key=key)


@router.get("/lenders", response_model=list[LenderOut], tags=["lending"])
def list_lenders(db: Session = Depends(session), who: Principal = Depends(principal)):
    rows = db.scalars(select(Lender).where(Lender.operator_id == who.operator_id).order_by(Lender.id))
    return [LenderOut(id=r.id, name=r.name) for r in rows]


# ---------------------------------------------------------------- consents

class ConsentIn(Input):
    lender_id: int = Field(ge=1, le=2**31 - 1)
    scope: Literal["credit_profile"] = "credit_profile"
    days: int = Field(90, ge=1, le=730, description="the consent lapses this many days from now")


class ConsentOut(BaseModel):
    id: int
    lender_id: int
    lender: str
    scope: str
    granted_at: UTCDateTime
    granted_by: str
    expires_at: UTCDateTime
    revoked_at: Optional[UTCDateTime] = None
    state: Literal["active", "expired", "revoked"]


def consent_state(c, now):
    if c.revoked_at is not None:
        return "revoked"
    return "active" if c.expires_at > now else "expired"


def consent_out(c, now=None):
    return ConsentOut(id=c.id, lender_id=c.lender_id, lender=c.lender.name, scope=c.scope, granted_at=c.granted_at,
                      granted_by=c.granted_by, expires_at=c.expires_at, revoked_at=c.revoked_at,
                      state=consent_state(c, now or utcnow()))


def _owner_only(who, what):
    if who.role != MERCHANT_OWNER:
        raise _forbid("only the merchant's owner may %s a consent: it is the merchant's decision" % what)


@router.get("/merchants/{merchant_id}/credit-consents", response_model=list[ConsentOut], tags=["lending"])
def list_consents(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    merchant_in_scope(db, who, merchant_id)
    if who.role == MERCHANT_STAFF:
        raise _forbid("the role merchant_staff may not see the consents (the owner may)")
    rows = db.scalars(select(CreditConsent).where(CreditConsent.merchant_id == merchant_id)
                      .order_by(CreditConsent.id))
    now = utcnow()
    return [consent_out(c, now) for c in rows]


@router.post("/merchants/{merchant_id}/credit-consents", response_model=ConsentOut, status_code=201,
             tags=["lending"])
def grant_consent(merchant_id: IdPath, body: ConsentIn, db: Session = Depends(session),
                  who: Principal = Depends(principal)):
    m = merchant_in_scope(db, who, merchant_id)
    _owner_only(who, "grant")
    lender = db.get(Lender, body.lender_id)
    if lender is None or lender.operator_id != m.operator_id:
        raise not_found("lender %d" % body.lender_id)
    now = utcnow()
    c = CreditConsent(merchant_id=merchant_id, lender_id=lender.id, lender=lender, scope=body.scope, granted_at=now,
                      granted_by=who.label[:120], expires_at=now + datetime.timedelta(days=body.days))
    db.add(c)
    commit(db)
    return consent_out(c, now)


@router.delete("/merchants/{merchant_id}/credit-consents/{consent_id}", response_model=ConsentOut, tags=["lending"])
def revoke_consent(merchant_id: IdPath, consent_id: IdPath, db: Session = Depends(session),
                   who: Principal = Depends(principal)):
    merchant_in_scope(db, who, merchant_id)
    c = db.get(CreditConsent, consent_id)
    if c is None or c.merchant_id != merchant_id:
        raise not_found("consent %d" % consent_id)
    _owner_only(who, "revoke")
    if c.revoked_at is not None:
        raise HTTPException(status_code=409, detail="consent %d was revoked on %s" % (c.id, c.revoked_at.isoformat()))
    c.revoked_at = utcnow()
    commit(db)
    return consent_out(c)


# ---------------------------------------------------------------- the lender's call

def _audit_lender_call(db, lender, merchant_id, action, detail):
    """In the audit log under the merchant (its owner sees who read its profile, and who was refused)."""
    actor, _ = actor_of(db)
    db.add(AuditEntry(at=utcnow(), operator_id=lender.operator_id, merchant_id=merchant_id, actor=actor[:120],
                      action=action, entity="merchants", entity_id=str(merchant_id),
                      detail=json.dumps(detail, sort_keys=True)))


def lender_of(request: Request, db: Session = Depends(session)):
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key.startswith(LENDER_KEY_PREFIX) or len(key) > 100:
        raise unauthorized("a lender calls with 'Authorization: Bearer <lender key>' (lk_...)")
    lender = db.scalar(select(Lender).where(Lender.key_hash == _key_digest(key)))
    if lender is None:
        raise unauthorized("the lender key is unknown")
    act_as(db, "lender:%d %s" % (lender.id, lender.name), lender.operator_id)
    return lender


@router.get("/lending/merchants/{merchant_id}/credit-profile", response_model=ProfileOut, tags=["lending"])
def lender_credit_profile(merchant_id: IdPath, db: Session = Depends(session), lender: Lender = Depends(lender_of)):
    """A lender reads a merchant's credit profile: only with the merchant's consent for this
    lender and the scope credit_profile, unexpired and not revoked.  Every answer is audited."""
    m = db.get(Merchant, merchant_id)
    if m is None or m.operator_id != lender.operator_id:
        raise not_found("merchant %d" % merchant_id)
    now = utcnow()
    consents = list(db.scalars(select(CreditConsent).where(
        CreditConsent.merchant_id == merchant_id, CreditConsent.lender_id == lender.id,
        CreditConsent.scope == "credit_profile").order_by(CreditConsent.id.desc())))
    live = [c for c in consents if consent_state(c, now) == "active"]
    if not live:
        if not consents:
            reason = "merchant %d has not consented to lender %r reading its credit profile" % (merchant_id, lender.name)
        elif consents[0].revoked_at is not None:
            reason = "merchant %d revoked its consent for lender %r on %s" % (
                merchant_id, lender.name, consents[0].revoked_at.replace(microsecond=0).isoformat() + "Z")
        else:
            reason = "the consent of merchant %d for lender %r expired on %s" % (
                merchant_id, lender.name, consents[0].expires_at.replace(microsecond=0).isoformat() + "Z")
        _audit_lender_call(db, lender, merchant_id, "credit_profile_refused", {"lender_id": lender.id, "reason": reason})
        db.commit()
        raise _forbid(reason)
    out = _profile(db, merchant_id)
    _audit_lender_call(db, lender, merchant_id, "credit_profile_read",
                       {"lender_id": lender.id, "consent_id": live[0].id, "score": out.score})
    db.commit()
    return out
