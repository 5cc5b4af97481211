"""/api/v1: a merchant's idle-screen campaigns, and the terminal's marketing feed (device API).

    POST   /api/v1/merchants/{id}/campaigns          {"name", "lines", "starts_at", "ends_at",
                                                      "hour_from", "hour_to", "store_ids"|null}
    GET    /api/v1/merchants/{id}/campaigns
    PUT    /api/v1/campaigns/{id}/image               body: a PNG or JPEG (422 when refused)
    GET    /api/v1/campaigns/{id}/image.png           the converted picture, as the display shows it
    DELETE /api/v1/campaigns/{id}                     ends it (the terminals drop it at their next sync)
    GET    /{tenant}/controller/v1/{controllerId}/marketing?since=D
"""
import json
from datetime import datetime, timedelta
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.db import utcnow
from cloud.deps import AUTHED, IdPath, Input, commit, not_found, principal, problems, require, session
from cloud.marketing import feed, image
from cloud.marketing.models import Campaign
from cloud.tenants.models import Merchant, Store, Terminal
from cloud.tms.ddi import controller

router = APIRouter(prefix="/api/v1", responses=AUTHED, tags=["in-store marketing"])


class CampaignIn(Input):
    name: str = Field(min_length=1, max_length=60)
    lines: list[Annotated[str, StringConstraints(min_length=1, max_length=feed.LINE)]] = Field(
        default=[], max_length=feed.LINES,
                             description="idle-screen lines, each at most 28 characters (one display row)")
    starts_at: datetime = Field(description="store-local wall time")
    ends_at: datetime
    hour_from: int = Field(0, ge=0, le=23)
    hour_to: int = Field(24, ge=1, le=24)
    store_ids: Optional[list[int]] = Field(None, max_length=1000, description="null: every store of the merchant")


def _inconsistent(body):
    """Why a schema-valid campaign cannot be shown as given (409), or None."""
    for s in body.lines:
        if not s.strip() or len(s.encode()) > feed.LINE:
            return "line %r: one display row is %d bytes of UTF-8 and not blank" % (s, feed.LINE)
    if body.starts_at.replace(tzinfo=None) >= body.ends_at.replace(tzinfo=None):
        return "ends_at must come after starts_at"
    if body.hour_from >= body.hour_to:
        return "hour_from must be before hour_to (shown while hour_from <= hour < hour_to)"
    return None


class CampaignOut(BaseModel):
    id: int
    merchant_id: int
    name: str
    lines: list[str]
    starts_at: str
    ends_at: str
    hour_from: int
    hour_to: int
    store_ids: Optional[list[int]]
    image: bool
    active: bool


def campaign_out(c):
    return CampaignOut(id=c.id, merchant_id=c.merchant_id, name=c.name, lines=json.loads(c.lines),
                       starts_at=c.starts_at.isoformat(timespec="minutes"),
                       ends_at=c.ends_at.isoformat(timespec="minutes"), hour_from=c.hour_from, hour_to=c.hour_to,
                       store_ids=json.loads(c.store_ids), image=c.image is not None, active=c.active)


def _merchant(db, who, merchant_id):
    m = db.get(Merchant, merchant_id)
    if not who.sees_merchant(m):
        raise not_found("merchant %d" % merchant_id)
    return m


def _campaign(db, who, campaign_id):
    c = db.get(Campaign, campaign_id)
    if c is None or not who.sees_merchant(db.get(Merchant, c.merchant_id)):
        raise not_found("campaign %d" % campaign_id)
    return c


@router.post("/merchants/{merchant_id}/campaigns", status_code=201, response_model=CampaignOut)
def create(merchant_id: IdPath, body: CampaignIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _merchant(db, who, merchant_id)
    require(who, "catalog:write")
    why = _inconsistent(body)
    if why:
        raise HTTPException(status_code=409, detail=why)
    if body.store_ids is not None:
        for sid in body.store_ids:
            s = db.get(Store, sid) if 0 < sid < 2**31 else None
            if s is None or s.merchant_id != m.id:
                raise HTTPException(status_code=409, detail="store %d is not a store of merchant %d" % (sid, m.id))
    c = Campaign(merchant_id=m.id, name=body.name, lines=json.dumps(body.lines),
                 starts_at=body.starts_at.replace(tzinfo=None, second=0, microsecond=0),
                 ends_at=body.ends_at.replace(tzinfo=None, second=0, microsecond=0), hour_from=body.hour_from,
                 hour_to=body.hour_to, store_ids=json.dumps(sorted(set(body.store_ids)) if body.store_ids is not None
                                                            else None), active=True, updated_at=utcnow())
    db.add(c)
    commit(db)
    return campaign_out(c)


@router.get("/merchants/{merchant_id}/campaigns", response_model=list[CampaignOut])
def list_campaigns(merchant_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    m = _merchant(db, who, merchant_id)
    return [campaign_out(c) for c in db.scalars(select(Campaign).where(Campaign.merchant_id == m.id)
                                                .order_by(Campaign.starts_at, Campaign.id))]


@router.put("/campaigns/{campaign_id}/image", response_model=CampaignOut,
            openapi_extra={"requestBody": {"required": True, "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}},
            responses={422: {"description": "not a PNG or JPEG, damaged, or too large"}})
async def put_image(campaign_id: IdPath, request: Request, db: Session = Depends(session),
                    who: Principal = Depends(principal)):
    c = _campaign(db, who, campaign_id)
    require(who, "catalog:write")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > image.MAX_UPLOAD:
        raise HTTPException(status_code=422, detail="the file is %s bytes: at most %d" % (declared, image.MAX_UPLOAD))
    raw = await request.body()
    try:
        c.image = image.convert(raw)
    except image.ImageRefused as e:
        raise HTTPException(status_code=422, detail=str(e))
    c.updated_at = utcnow()
    commit(db)
    return campaign_out(c)


@router.get("/campaigns/{campaign_id}/image.png", response_class=Response,
            responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def get_image(campaign_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    c = _campaign(db, who, campaign_id)
    if c.image is None:
        raise not_found("picture of campaign %d" % campaign_id)
    return Response(image.preview(c.image), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.delete("/campaigns/{campaign_id}", response_model=CampaignOut)
def end(campaign_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    c = _campaign(db, who, campaign_id)
    require(who, "catalog:write")
    c.active = False
    c.updated_at = utcnow()
    commit(db)
    return campaign_out(c)


# ---- the terminal's marketing feed (device API) ----

device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}", tags=["in-store marketing (device API)"],
                   responses=problems(401, 409))


@device.get("/marketing", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                 "format": "binary"}}},
                             "description": "the idle-screen campaigns of the terminal's store (docs/marketing.md)"},
                       204: {"description": "the terminal's file is the newest"}},
            summary="The idle-screen campaigns of the terminal's store")
def marketing_feed(since: int = Query(0, ge=0, le=2**32 - 1), db: Session = Depends(session),
                   terminal: Terminal = Depends(controller)):
    if terminal.store_id is None:
        raise HTTPException(status_code=409, detail="this terminal is not placed in a store: no campaigns for it")
    store = db.get(Store, terminal.store_id)
    # a day of margin: the stores' wall clocks may be ahead of or behind this service's
    data = feed.build(feed.campaigns_for(db, store.merchant_id, store.id, datetime.now() - timedelta(days=1)))
    headers = {"X-Marketing-Digest": str(feed.digest(data)), "Cache-Control": "no-store"}
    if feed.digest(data) == since:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type="application/octet-stream", headers=headers)
