"""/api/v1/audit: the audit log, newest first, scoped to the caller's tenancy."""
import json
from typing import Optional

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.audit.models import AuditEntry
from cloud.deps import AUTHED, UTCDateTime, principal, require, session

router = APIRouter(prefix="/api/v1", responses=AUTHED)


class AuditOut(BaseModel):
    id: int
    at: UTCDateTime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: dict


@router.get("/audit", response_model=list[AuditOut], tags=["audit"])
def list_audit(entity: Optional[str] = Query(None, max_length=40, pattern=r"^[a-z_]+$"),
               entity_id: Optional[str] = Query(None, max_length=64),
               before_id: Optional[int] = Query(None, ge=1, le=2**31 - 1),
               limit: int = Query(100, ge=1, le=1000),
               db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "audit:read")
    q = select(AuditEntry).where(AuditEntry.operator_id == who.operator_id)
    if not who.is_operator:
        # a merchant owner sees the rows about its own merchant, stores and accounts
        q = q.where(AuditEntry.merchant_id == who.merchant_id)
    if entity:
        q = q.where(AuditEntry.entity == entity)
    if entity_id:
        q = q.where(AuditEntry.entity_id == entity_id)
    if before_id:
        q = q.where(AuditEntry.id < before_id)
    rows = db.scalars(q.order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditOut(id=r.id, at=r.at, actor=r.actor, action=r.action, entity=r.entity,
                     entity_id=r.entity_id, detail=json.loads(r.detail or "{}")) for r in rows]
