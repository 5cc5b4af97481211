"""Groups of terminals and staged rollouts (as operators run them in PAX MAXSTORE, Verifone
VHQ and Eclipse hawkBit).

A **group** is static (members listed) or dynamic (a filter on model, firmware version,
merchant or store, resolved when used).  A **rollout** deploys one software module to a group
in stages (percentages of the group, e.g. 10, 50, 100, or groups: the group's terminals that
are also in a pilot group first, then those in a second group, then the rest): each stage's
terminals get an action;
when every action of the stage has closed, the next stage starts, unless the failure rate of
the closed actions has passed the error threshold, which stops the rollout (actions not yet
started are cancelled; running ones finish).  Per terminal the state is its action's:
scheduled, downloading, downloaded, installing, deferred (busy), success, failed, cancelled.

    POST /api/v1/tms/groups                 {"name", "kind": "static"|"dynamic", "filter": {...}}
    PUT  /api/v1/tms/groups/{id}/members    {"terminal_ids": [...]}
    GET  /api/v1/tms/groups/{id}/terminals
    POST /api/v1/tms/rollouts               {"name", "module_id", "group_id", "stages" | "stage_groups",
                                             "error_threshold", "forced"}
    GET  /api/v1/tms/rollouts/{id}          counters per state, per-terminal states, stage
    POST /api/v1/tms/rollouts/{id}/pause | resume | stop | retry | force
"""
import json
import math
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cloud.accounts.principal import Principal
from cloud.db import Base, utcnow
from cloud.deps import AUTHED, commit, IdPath, Input, not_found, principal, require, session, UTCDateTime
from cloud.tenants.models import Store, Terminal
from cloud.tms.manage import assign
from cloud.tms.models import CLOSED_STATES, Action, SoftwareModule


class TerminalGroup(Base):
    __tablename__ = "terminal_groups"
    __audited__ = True
    __table_args__ = (UniqueConstraint("operator_id", "name", name="uq_group_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(8))
    filter: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "terminal_id", name="uq_group_member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("terminal_groups.id", ondelete="CASCADE"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"), index=True)


class Rollout(Base):
    __tablename__ = "rollouts"
    __audited__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    module_id: Mapped[int] = mapped_column(ForeignKey("software_modules.id", ondelete="RESTRICT"))
    group_id: Mapped[int] = mapped_column(ForeignKey("terminal_groups.id", ondelete="RESTRICT"))
    stages: Mapped[str] = mapped_column(String(200))          # JSON: [percentages] or {"groups": [ids]}
    error_threshold: Mapped[int] = mapped_column(Integer)     # percent of closed actions
    forced: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(12), default="running")   # running paused stopped finished
    stage: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(240), default="")
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class RolloutTarget(Base):
    """Which action deploys the rollout to which terminal, in which stage."""
    __tablename__ = "rollout_targets"
    __table_args__ = (UniqueConstraint("rollout_id", "terminal_id", name="uq_rollout_terminal"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"))
    stage: Mapped[int] = mapped_column(Integer)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)


def members(db, group):
    """The group's terminals now (enrolled ones only), ordered by id."""
    q = select(Terminal).where(Terminal.operator_id == group.operator_id, Terminal.state == "enrolled")
    if group.kind == "static":
        q = q.join(GroupMember, GroupMember.terminal_id == Terminal.id).where(GroupMember.group_id == group.id)
        return list(db.scalars(q.order_by(Terminal.id)))
    f = json.loads(group.filter or "{}")
    if "store_id" in f:
        q = q.where(Terminal.store_id == f["store_id"])
    if "merchant_id" in f:
        q = q.join(Store, Terminal.store_id == Store.id).where(Store.merchant_id == f["merchant_id"])
    if "model" in f:
        q = q.where(Terminal.model == f["model"])
    out = list(db.scalars(q.order_by(Terminal.id)))
    if "firmware" in f:           # a reported attribute (DDI config data)
        out = [t for t in out if json.loads(t.attributes or "{}").get("firmware") == f["firmware"]]
    return out


def stage_plan(r):
    """(percentages, stage group ids): one of the two is empty."""
    plan = json.loads(r.stages)
    if isinstance(plan, dict):
        return [], plan["groups"]
    return plan, []


def stage_count(r):
    pct, groups = stage_plan(r)
    return len(pct) or len(groups) + 1          # by groups: a last stage for the rest


def _start_stage(db, r, module):
    group = db.get(TerminalGroup, r.group_id)
    terms = members(db, group)
    pct, groups = stage_plan(r)
    have = {t.terminal_id for t in db.scalars(select(RolloutTarget).where(RolloutTarget.rollout_id == r.id))}
    if pct:
        want = math.ceil(len(terms) * pct[r.stage] / 100.0)
    else:
        want = len(terms)
        if r.stage < len(groups):
            pilot = {t.id for t in members(db, db.get(TerminalGroup, groups[r.stage]))}
            terms = [t for t in terms if t.id in pilot]
    for t in terms:
        if len(have) >= want:
            break
        if t.id in have:
            continue
        a = assign(db, t, module, forced=r.forced)
        db.add(RolloutTarget(rollout_id=r.id, terminal_id=t.id, stage=r.stage, action_id=a.id))
        have.add(t.id)


def counters(db, r):
    rows = db.execute(select(RolloutTarget.stage, Action.state).join(Action, RolloutTarget.action_id == Action.id)
                      .where(RolloutTarget.rollout_id == r.id)).all()
    total, by_state, stage_open = len(rows), {}, 0
    for stage, state in rows:
        by_state[state] = by_state.get(state, 0) + 1
        if stage == r.stage and state not in CLOSED_STATES:
            stage_open += 1
    return total, by_state, stage_open


def advance(db, r):
    """Move a running rollout on: stop past the threshold, next stage when this one has closed."""
    if r.state != "running":
        return r.state
    total, by, stage_open = counters(db, r)
    closed = by.get("success", 0) + by.get("failed", 0)
    if closed and 100 * by.get("failed", 0) > r.error_threshold * closed:
        stop(db, r, "error threshold passed: %d of %d closed actions failed (threshold %d%%)"
             % (by.get("failed", 0), closed, r.error_threshold))
        return r.state
    if stage_open:
        return r.state
    if r.stage + 1 >= stage_count(r):
        r.state, r.reason = "finished", "%d succeeded, %d failed" % (by.get("success", 0), by.get("failed", 0))
        return r.state
    r.stage += 1
    _start_stage(db, r, db.get(SoftwareModule, r.module_id))
    db.flush()
    return advance(db, r)             # a stage that added no terminal (all already in) moves on at once


def stop(db, r, reason):
    r.state, r.reason = "stopped", reason[:240]
    for a in db.scalars(select(Action).join(RolloutTarget, RolloutTarget.action_id == Action.id)
                        .where(RolloutTarget.rollout_id == r.id, Action.state.in_(("scheduled", "deferred")))):
        a.state, a.closed_at = "cancelled", utcnow()


def _reissue(db, r, states):
    m = db.get(SoftwareModule, r.module_id)
    for rt in db.scalars(select(RolloutTarget).where(RolloutTarget.rollout_id == r.id)):
        if db.get(Action, rt.action_id).state in states:
            rt.action_id = assign(db, db.get(Terminal, rt.terminal_id), m, forced=r.forced).id


def advance_for_action(db, action_id):
    """After feedback on `action_id`: advance its rollout, if it belongs to one."""
    rt = db.scalar(select(RolloutTarget).where(RolloutTarget.action_id == action_id))
    if rt is not None:
        advance(db, db.get(Rollout, rt.rollout_id))


router = APIRouter(responses=AUTHED, tags=["rollouts"])


class GroupFilter(Input):
    """Terminals of a dynamic group: every given field must match."""
    model_config = ConfigDict(extra="forbid")
    model: Optional[str] = Field(None, max_length=64)
    firmware: Optional[str] = Field(None, max_length=32)
    merchant_id: Optional[int] = Field(None, ge=1, le=2**31 - 1)
    store_id: Optional[int] = Field(None, ge=1, le=2**31 - 1)


class GroupIn(Input):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    kind: Literal["static", "dynamic"] = "static"
    filter: GroupFilter = Field(default_factory=GroupFilter)


class GroupOut(BaseModel):
    id: int
    name: str
    kind: str
    filter: dict
    size: int


def group_out(db, g):
    return GroupOut(id=g.id, name=g.name, kind=g.kind, filter=json.loads(g.filter or "{}"), size=len(members(db, g)))


def _group(db, who, gid):
    g = db.get(TerminalGroup, gid)
    if g is None or g.operator_id != who.operator_id or not who.is_operator:
        raise not_found("group %d" % gid)
    return g


@router.post("/api/v1/tms/groups", response_model=GroupOut, status_code=201)
def create_group(body: GroupIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "terminal:write")
    f = body.filter.model_dump(exclude_none=True)
    if body.kind == "static" and f:
        raise HTTPException(status_code=409, detail="a static group lists members; filters are for dynamic groups")
    g = TerminalGroup(operator_id=who.operator_id, name=body.name, kind=body.kind, filter=json.dumps(f, sort_keys=True))
    db.add(g)
    commit(db, "a group named %r exists" % body.name)
    return group_out(db, g)


@router.get("/api/v1/tms/groups", response_model=list[GroupOut])
def list_groups(db: Session = Depends(session), who: Principal = Depends(principal)):
    if not who.is_operator:
        return []
    return [group_out(db, g) for g in db.scalars(select(TerminalGroup).where(
        TerminalGroup.operator_id == who.operator_id).order_by(TerminalGroup.id))]


class MembersIn(Input):
    model_config = ConfigDict(extra="forbid")
    terminal_ids: list[int] = Field(max_length=10000)


@router.put("/api/v1/tms/groups/{group_id}/members", response_model=GroupOut)
def set_members(group_id: IdPath, body: MembersIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    g = _group(db, who, group_id)
    require(who, "terminal:write")
    if g.kind != "static":
        raise HTTPException(status_code=409, detail="group %d is dynamic: its filter decides" % g.id)
    for m in db.scalars(select(GroupMember).where(GroupMember.group_id == g.id)):
        db.delete(m)
    db.flush()
    for tid in sorted(set(body.terminal_ids)):
        t = db.get(Terminal, tid) if 0 < tid < 2**31 else None
        if not who.sees_terminal(t):
            raise not_found("terminal %d" % tid)
        db.add(GroupMember(group_id=g.id, terminal_id=t.id))
    commit(db)
    return group_out(db, g)


@router.get("/api/v1/tms/groups/{group_id}/terminals", response_model=list[int])
def group_terminals(group_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return [t.id for t in members(db, _group(db, who, group_id))]


class RolloutIn(Input):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    module_id: int = Field(ge=1, le=2**31 - 1)
    group_id: int = Field(ge=1, le=2**31 - 1)
    stages: list[int] = Field(default_factory=lambda: [100], min_length=1, max_length=10,
                              description="rising percentages of the group ending at 100")
    stage_groups: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=9,
                                    description="instead of percentages: the group's terminals in each of these "
                                                "groups in turn, then the rest")
    error_threshold: int = Field(20, ge=0, le=100)
    forced: bool = False


class TargetOut(BaseModel):
    terminal_id: int
    stage: int
    action_id: int
    state: str


class RolloutOut(BaseModel):
    id: int
    name: str
    module_id: int
    group_id: int
    stages: list[int]
    stage_groups: list[int] = []
    error_threshold: int
    state: str
    stage: int
    reason: str
    total: int
    counts: dict[str, int]
    created_at: UTCDateTime
    targets: list[TargetOut] = []


def rollout_out(db, r, targets=False):
    total, by, _ = counters(db, r)
    pct, groups = stage_plan(r)
    out = RolloutOut(id=r.id, name=r.name, module_id=r.module_id, group_id=r.group_id, stages=pct, stage_groups=groups,
                     error_threshold=r.error_threshold, state=r.state, stage=r.stage, reason=r.reason, total=total,
                     counts=by, created_at=r.created_at)
    if targets:
        out.targets = [TargetOut(terminal_id=rt.terminal_id, stage=rt.stage, action_id=rt.action_id,
                                 state=state) for rt, state in db.execute(
            select(RolloutTarget, Action.state).join(Action, RolloutTarget.action_id == Action.id)
            .where(RolloutTarget.rollout_id == r.id).order_by(RolloutTarget.terminal_id)).all()]
    return out


def _rollout(db, who, rid):
    r = db.get(Rollout, rid)
    if r is None or r.operator_id != who.operator_id or not who.is_operator:
        raise not_found("rollout %d" % rid)
    return r


@router.post("/api/v1/tms/rollouts", response_model=RolloutOut, status_code=201)
def create_rollout(body: RolloutIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "terminal:write")
    if any(not 0 < p <= 100 for p in body.stages) or body.stages != sorted(body.stages) or body.stages[-1] != 100:
        raise HTTPException(status_code=409, detail="stages: rising percentages ending at 100, e.g. [10, 50, 100]")
    g = _group(db, who, body.group_id)
    for sg in body.stage_groups:
        _group(db, who, sg)
    if len(set(body.stage_groups)) != len(body.stage_groups) or g.id in body.stage_groups:
        raise HTTPException(status_code=409, detail="stage_groups: each group once, not the target group itself")
    m = db.get(SoftwareModule, body.module_id)
    if m is None or m.operator_id != who.operator_id:
        raise not_found("software module %d" % body.module_id)
    if not m.artifacts:
        raise HTTPException(status_code=409, detail="module %d has no artifact yet" % m.id)
    if not members(db, g):
        raise HTTPException(status_code=409, detail="group %d has no enrolled terminal" % g.id)
    r = Rollout(operator_id=who.operator_id, name=body.name, module_id=m.id, group_id=g.id,
                stages=json.dumps({"groups": body.stage_groups} if body.stage_groups else body.stages),
                error_threshold=body.error_threshold, forced=body.forced)
    db.add(r)
    db.flush()
    _start_stage(db, r, m)
    db.flush()
    advance(db, r)                    # a first stage with no terminal of the group moves on
    commit(db)
    return rollout_out(db, r, targets=True)


@router.get("/api/v1/tms/rollouts", response_model=list[RolloutOut])
def list_rollouts(db: Session = Depends(session), who: Principal = Depends(principal)):
    if not who.is_operator:
        return []
    return [rollout_out(db, r) for r in db.scalars(select(Rollout).where(Rollout.operator_id == who.operator_id)
                                                    .order_by(Rollout.id.desc()))]


@router.get("/api/v1/tms/rollouts/{rollout_id}", response_model=RolloutOut)
def get_rollout(rollout_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return rollout_out(db, _rollout(db, who, rollout_id), targets=True)


@router.post("/api/v1/tms/rollouts/{rollout_id}/{command}", response_model=RolloutOut)
def control(rollout_id: IdPath, command: Literal["pause", "resume", "stop", "retry", "force"],
            db: Session = Depends(session), who: Principal = Depends(principal)):
    r = _rollout(db, who, rollout_id)
    require(who, "terminal:write")
    if command == "pause" and r.state == "running":
        r.state = "paused"
    elif command == "resume" and r.state in ("paused", "stopped"):
        _reissue(db, r, ("cancelled",))          # what the stop cancelled before it started
        r.state, r.reason = "running", ""
        advance(db, r)
    elif command == "stop" and r.state in ("running", "paused"):
        stop(db, r, "stopped by %s" % who.label)
    elif command == "retry":
        # failed terminals (and those a stop cancelled) get a new action in their stage
        _reissue(db, r, ("failed", "cancelled"))
        r.state, r.reason = "running", ""
    elif command == "force" and r.state in ("running", "paused"):
        # terminals that deferred (busy) get the same module as a forced action: it waits for
        # the counter to be free instead of being put off again
        r.forced = True
        _reissue(db, r, ("deferred", "scheduled"))
    else:
        raise HTTPException(status_code=409, detail="rollout %d is %s: cannot %s" % (r.id, r.state, command))
    commit(db)
    return rollout_out(db, r, targets=True)
