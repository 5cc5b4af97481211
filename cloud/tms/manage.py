"""/api/v1/tms: software modules, artifact uploads and deployment actions (operator roles).

    POST /api/v1/tms/modules                          {kind, name, version, description}
    PUT  /api/v1/tms/modules/{id}/artifacts/{file}    raw bytes (application/octet-stream)
    POST /api/v1/tms/actions                          {terminal_id, module_id, forced, maintenance_window}
    POST /api/v1/tms/actions/{id}/cancel
"""
import json
from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.principal import Principal
from cloud.db import utcnow
from cloud.deps import AUTHED, commit, IdPath, Input, not_found, principal, require, session, UTCDateTime
from cloud.push import wake_after_commit
from cloud.tenants.models import Operator, Terminal
from cloud.tms.models import CLOSED_STATES, OPEN_STATES, Action, ActionStatus, Artifact, SoftwareModule

router = APIRouter(prefix="/api/v1/tms", responses=AUTHED, tags=["terminal management"])

VERSION = r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$"
FILENAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class ModuleIn(Input):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["firmware", "params", "app", "keys"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
    version: str = Field(pattern=VERSION)
    description: str = Field("", max_length=240)


class ArtifactOut(BaseModel):
    filename: str
    size: int
    sha256: str


class ModuleOut(BaseModel):
    id: int
    kind: str
    name: str
    version: str
    description: str
    artifacts: list[ArtifactOut]


def module_out(m):
    return ModuleOut(id=m.id, kind=m.kind, name=m.name, version=m.version, description=m.description,
                     artifacts=[ArtifactOut(filename=a.filename, size=a.size, sha256=a.sha256) for a in m.artifacts])


def _module(db, who, module_id):
    m = db.get(SoftwareModule, module_id)
    if m is None or m.operator_id != who.operator_id or not who.is_operator:
        raise not_found("software module %d" % module_id)
    return m


@router.get("/modules", response_model=list[ModuleOut])
def list_modules(kind: Optional[Literal["firmware", "params", "app", "keys"]] = None, db: Session = Depends(session),
                 who: Principal = Depends(principal)):
    if not who.is_operator:
        return []
    q = select(SoftwareModule).where(SoftwareModule.operator_id == who.operator_id)
    if kind:
        q = q.where(SoftwareModule.kind == kind)
    return [module_out(m) for m in db.scalars(q.order_by(SoftwareModule.id))]


@router.post("/modules", response_model=ModuleOut, status_code=201)
def create_module(body: ModuleIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "terminal:write")
    m = SoftwareModule(operator_id=who.operator_id, **body.model_dump())
    db.add(m)
    commit(db, "%s %r version %r exists" % (body.kind, body.name, body.version))
    return module_out(m)


@router.get("/modules/{module_id}", response_model=ModuleOut)
def get_module(module_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return module_out(_module(db, who, module_id))


@router.put("/modules/{module_id}/artifacts/{filename}", response_model=ArtifactOut, status_code=201,
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}}}}})
async def upload_artifact(module_id: IdPath, request: Request, filename: str = Path(pattern=FILENAME),
                          db: Session = Depends(session), who: Principal = Depends(principal)):
    """Upload a file of the module (its bytes as the request body). A module that any action
    uses is frozen: its artifacts cannot change."""

    m = _module(db, who, module_id)
    require(who, "terminal:write")
    if db.scalar(select(Action.id).where(Action.module_id == m.id).limit(1)):
        raise HTTPException(status_code=409, detail="module %d is deployed already: make a new version" % m.id)
    data = await request.body()
    if not data:
        raise HTTPException(status_code=400, detail="empty artifact")
    size, sha256, sha1, md5 = request.app.state.artifacts.put(data)
    old = next((a for a in m.artifacts if a.filename == filename), None)
    if old is not None:
        db.delete(old)
        db.flush()
    db.add(Artifact(module_id=m.id, filename=filename, size=size, sha256=sha256, sha1=sha1, md5=md5))
    commit(db)
    return ArtifactOut(filename=filename, size=size, sha256=sha256)


class ActionIn(Input):
    model_config = ConfigDict(extra="forbid")
    terminal_id: int = Field(ge=1, le=2**31 - 1)
    module_id: int = Field(ge=1, le=2**31 - 1)
    forced: bool = False
    maintenance_window: Literal["", "available", "unavailable"] = ""


class StatusOut(BaseModel):
    at: UTCDateTime
    execution: str
    finished: str
    progress: Optional[list[Optional[int]]]
    code: Optional[int]
    details: list[str]


class ActionOut(BaseModel):
    id: int
    terminal_id: int
    module_id: int
    module: str
    state: str
    forced: bool
    maintenance_window: str
    created_at: UTCDateTime
    updated_at: UTCDateTime
    closed_at: Optional[UTCDateTime]
    history: list[StatusOut] = []


def action_out(db, a, history=False):
    out = ActionOut(id=a.id, terminal_id=a.terminal_id, module_id=a.module_id,
                    module="%s %s %s" % (a.module.kind, a.module.name, a.module.version), state=a.state,
                    forced=a.forced, maintenance_window=a.maintenance_window, created_at=a.created_at,
                    updated_at=a.updated_at, closed_at=a.closed_at)
    if history:
        out.history = [StatusOut(at=s.at, execution=s.execution, finished=s.finished,
                                 progress=None if s.progress_cnt is None else [s.progress_cnt, s.progress_of],
                                 code=s.code, details=json.loads(s.details or "[]"))
                       for s in db.scalars(select(ActionStatus).where(ActionStatus.action_id == a.id)
                                           .order_by(ActionStatus.id))]
    return out


def _terminal(db, who, terminal_id):
    t = db.get(Terminal, terminal_id)
    if not who.sees_terminal(t):
        raise not_found("terminal %d" % terminal_id)
    return t


def assign(db, terminal, module, forced=False, maintenance_window=""):
    """A new action for `terminal`; an open action for the same kind of module is cancelled first."""
    for old in db.scalars(select(Action).join(SoftwareModule).where(
            Action.terminal_id == terminal.id, Action.state.in_(OPEN_STATES), SoftwareModule.kind == module.kind)):
        if old.state in ("scheduled", "deferred"):
            old.state, old.closed_at = "cancelled", utcnow()       # never reached the terminal: no handshake
        else:
            old.state = "cancelling"
    a = Action(operator_id=terminal.operator_id, terminal_id=terminal.id, module_id=module.id, forced=forced,
               maintenance_window=maintenance_window, state="scheduled")
    db.add(a)
    db.flush()
    wake_after_commit(db, db.get(Operator, terminal.operator_id).slug, terminal.controller_id)
    return a


@router.post("/actions", response_model=ActionOut, status_code=201)
def create_action(body: ActionIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "terminal:write")
    t = _terminal(db, who, body.terminal_id)
    m = _module(db, who, body.module_id)
    if t.state != "enrolled":
        raise HTTPException(status_code=409, detail="terminal %d is %s, not enrolled" % (t.id, t.state))
    if not m.artifacts:
        raise HTTPException(status_code=409, detail="module %d has no artifact yet" % m.id)
    a = assign(db, t, m, body.forced, body.maintenance_window)
    commit(db)
    return action_out(db, a)


@router.get("/actions", response_model=list[ActionOut])
def list_actions(terminal_id: Optional[int] = Query(None, ge=1, le=2**31 - 1),
                 state: Optional[Literal["scheduled", "downloading", "downloaded", "installing", "deferred",
                                         "cancelling", "success", "failed", "cancelled"]] = None,
                 limit: int = Query(200, ge=1, le=1000), db: Session = Depends(session),
                 who: Principal = Depends(principal)):
    if not who.is_operator:
        return []
    q = select(Action).where(Action.operator_id == who.operator_id)
    if terminal_id is not None:
        q = q.where(Action.terminal_id == terminal_id)
    if state is not None:
        q = q.where(Action.state == state)
    return [action_out(db, a) for a in db.scalars(q.order_by(Action.id.desc()).limit(limit))]


def _action(db, who, action_id):
    a = db.get(Action, action_id)
    if a is None or a.operator_id != who.operator_id or not who.is_operator:
        raise not_found("action %d" % action_id)
    return a


@router.get("/actions/{action_id}", response_model=ActionOut)
def get_action(action_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return action_out(db, _action(db, who, action_id), history=True)


@router.post("/actions/{action_id}/cancel", response_model=ActionOut)
def cancel(action_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """Not yet fetched: cancelled at once.  Running: the terminal is asked (DDI cancelAction)."""
    a = _action(db, who, action_id)
    require(who, "terminal:write")
    if a.state in CLOSED_STATES:
        raise HTTPException(status_code=409, detail="action %d is already %s" % (a.id, a.state))
    if a.state in ("scheduled", "deferred"):
        a.state, a.closed_at = "cancelled", utcnow()
    else:
        a.state = "cancelling"
        wake_after_commit(db, db.get(Operator, a.operator_id).slug, a.terminal.controller_id)
    a.updated_at = utcnow()
    commit(db)
    return action_out(db, a)
