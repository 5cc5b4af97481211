"""Terminal parameters as versioned templates with overrides.

A parameter set holds some of the terminal's parameter files (``emv.json``, ``capk.json``,
``contactless.json``, ``acquirers.json``, ``terminal.json``, ``offers.json``: the card-linked
offers of issuing banks, docs/bank-offers.md) as JSON merge patches (RFC 7386: objects merged key by key, null removes a key) at one scope: the whole operator,
a merchant, a store or one terminal.  A terminal's parameters are the sets that apply to it
merged in that order, objects key by key, the narrower scope winning (lists are replaced
whole).  Pushing renders that bundle per terminal as a ``params`` software module (artifact
``params.swu``, version one above the terminal's last) and deploys it over DDI; the terminal
validates the whole bundle before it applies any of it (firmware ``pos.tms.params``) and
reports a refusal with its reason.

Every bundle is signed through the TUF roles of the firmware releases (``cloud/tms/release.py``):
``targets.json``, ``snapshot.json`` and ``timestamp.json`` name ``params.json`` (length,
SHA-256, ``custom`` ``{"kind": "params", "terminal": <controller id>, "version": N}``), every
metadata version N, so the terminal refuses a tampered, expired, older or unsigned bundle
before it looks inside.  The four files travel as one SWUpdate image, ``params.swu``
(``cloud/tms/swu.py``): one artifact, one resumable download, and the form any DDI server
made for SWUpdate devices (goosebit) accepts.

    PUT  /api/v1/tms/parameters/{scope}/{scope_id}     {"files": {...}}   (scope_id 0 for operator)
    GET  /api/v1/tms/parameters
    GET  /api/v1/terminals/{id}/parameters              the merged bundle it would get
    POST /api/v1/tms/parameters/push                    {"terminal_ids": [...], "forced": false}
"""
import json
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cloud.accounts.principal import Principal
from cloud.db import Base, utcnow
from cloud.deps import AUTHED, commit, IdPath, Input, not_found, principal, require, session, UTCDateTime
from cloud.tenants.models import Merchant, Store, Terminal
from cloud.tms import release, swu
from cloud.tms.manage import assign
from cloud.tms.models import Artifact, SoftwareModule

FILES = ("emv.json", "capk.json", "contactless.json", "acquirers.json", "terminal.json", "offers.json")
SCOPES = ("operator", "merchant", "store", "terminal")


class ParameterSet(Base):
    __tablename__ = "parameter_sets"
    __audited__ = True
    __table_args__ = (UniqueConstraint("operator_id", "scope", "scope_id", name="uq_parameter_scope"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[str] = mapped_column(Text, default="{}")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


def merge(base, over):
    """Objects merged key by key (`over` wins); anything else replaced whole."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return over


def render(db, terminal):
    """The merged parameter files for `terminal`, with the sets that made them."""
    store = db.get(Store, terminal.store_id) if terminal.store_id else None
    chain = [("operator", 0)]
    if store is not None:
        chain += [("merchant", store.merchant_id), ("store", store.id)]
    chain.append(("terminal", terminal.id))
    files, used = {}, []
    for scope, sid in chain:
        ps = db.scalar(select(ParameterSet).where(ParameterSet.operator_id == terminal.operator_id,
                                                  ParameterSet.scope == scope, ParameterSet.scope_id == sid))
        if ps is None:
            continue
        used.append("%s:%d v%d" % (scope, sid, ps.version))
        for name, content in json.loads(ps.files).items():
            files[name] = merge(files.get(name, {}), content)
    return files, used


router = APIRouter(responses=AUTHED, tags=["terminal management"])


class SetIn(Input):
    model_config = ConfigDict(extra="forbid")
    files: dict[Literal["emv.json", "capk.json", "contactless.json", "acquirers.json", "terminal.json",
                       "offers.json"], dict] = \
        Field(max_length=6)


class SetOut(BaseModel):
    id: int
    scope: str
    scope_id: int
    version: int
    files: dict
    updated_at: UTCDateTime


def set_out(ps):
    return SetOut(id=ps.id, scope=ps.scope, scope_id=ps.scope_id, version=ps.version, files=json.loads(ps.files),
                  updated_at=ps.updated_at)


def _check_scope(db, who, scope, scope_id):
    if scope == "operator":
        if scope_id != 0:
            raise HTTPException(status_code=409, detail="the operator scope has id 0")
        return
    obj = {"merchant": Merchant, "store": Store, "terminal": Terminal}[scope]
    found = db.get(obj, scope_id)
    ok = {"merchant": who.sees_merchant, "store": who.sees_store, "terminal": who.sees_terminal}[scope](found)
    if not ok:
        raise not_found("%s %d" % (scope, scope_id))


@router.put("/api/v1/tms/parameters/{scope}/{scope_id}", response_model=SetOut)
def put_set(scope: Literal["operator", "merchant", "store", "terminal"], scope_id: int, body: SetIn,
            db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "terminal:write")
    if not 0 <= scope_id < 2**31:
        raise not_found("%s %d" % (scope, scope_id))
    _check_scope(db, who, scope, scope_id)
    if len(json.dumps(body.files)) > 32000:
        raise HTTPException(status_code=409, detail="parameter set over 32,000 bytes: a terminal would refuse it")
    ps = db.scalar(select(ParameterSet).where(ParameterSet.operator_id == who.operator_id,
                                              ParameterSet.scope == scope, ParameterSet.scope_id == scope_id))
    if ps is None:
        ps = ParameterSet(operator_id=who.operator_id, scope=scope, scope_id=scope_id, version=1)
        db.add(ps)
    else:
        ps.version += 1
    ps.files = json.dumps(body.files, sort_keys=True)
    ps.updated_at = utcnow()
    commit(db)
    return set_out(ps)


@router.get("/api/v1/tms/parameters", response_model=list[SetOut])
def list_sets(db: Session = Depends(session), who: Principal = Depends(principal)):
    if not who.is_operator:
        return []
    return [set_out(p) for p in db.scalars(select(ParameterSet).where(ParameterSet.operator_id == who.operator_id)
                                           .order_by(ParameterSet.id))]


class Rendered(BaseModel):
    terminal_id: int
    sets: list[str]
    files: dict


@router.get("/api/v1/terminals/{terminal_id}/parameters", response_model=Rendered)
def terminal_parameters(terminal_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    t = db.get(Terminal, terminal_id)
    if not who.sees_terminal(t) or not who.is_operator:
        raise not_found("terminal %d" % terminal_id)
    files, used = render(db, t)
    return Rendered(terminal_id=t.id, sets=used, files=files)


class PushIn(Input):
    model_config = ConfigDict(extra="forbid")
    terminal_ids: list[int] = Field(min_length=1, max_length=1000)
    forced: bool = False


class Pushed(BaseModel):
    terminal_id: int
    action_id: int
    version: int


def signers(settings):
    """The TUF role signers of this service (the TEST keys unless a key folder is set)."""
    return release.load_keys(settings.signing_keys or release.TEST_KEY_DIR)


def signed_bundle(data, controller_id, version, role_signers, expires=None):
    """{file name: bytes}: params.json and the TUF metadata that signs it for one terminal."""
    files = release.sign_target(data, "params.json", {"kind": "params", "terminal": controller_id,
                                                      "version": version}, version, role_signers, expires)
    files["params.json"] = data
    return files


def bundle_swu(files, controller_id, version):
    """The signed bundle as one SWUpdate image (params.swu): the metadata, then params.json."""
    return swu.pack(swu.sw_description(version, "smartpos parameters %d for %s" % (version, controller_id)),
                    [(n, files[n]) for n in ("timestamp.json", "snapshot.json", "targets.json", "params.json")])


def push_to(db, store, terminal, role_signers, forced=False):
    """Render `terminal`'s bundle into a new signed params module and deploy it; returns the action."""
    files, used = render(db, terminal)
    if not files:
        raise HTTPException(status_code=409, detail="no parameter set applies to terminal %d" % terminal.id)
    name = "params-%s" % terminal.controller_id[:56]
    last = db.scalars(select(SoftwareModule.version).where(SoftwareModule.operator_id == terminal.operator_id,
                                                           SoftwareModule.kind == "params",
                                                           SoftwareModule.name == name)).all()
    version = max([int(v) for v in last if v.isdigit()] + [0]) + 1
    data = json.dumps({"version": version, "sets": used, "files": files}, sort_keys=True).encode()
    m = SoftwareModule(operator_id=terminal.operator_id, kind="params", name=name, version=str(version),
                       description="; ".join(used)[:240])
    db.add(m)
    db.flush()
    raw = bundle_swu(signed_bundle(data, terminal.controller_id, version, role_signers), terminal.controller_id,
                     version)
    size, sha256, sha1, md5 = store.put(raw)
    db.add(Artifact(module_id=m.id, filename="params.swu", size=size, sha256=sha256, sha1=sha1, md5=md5))
    db.flush()
    return assign(db, terminal, m, forced=forced), version


@router.post("/api/v1/tms/parameters/push", response_model=list[Pushed], status_code=201)
def push(body: PushIn, request: Request, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "terminal:write")
    out = []
    role_signers = signers(request.app.state.settings)
    for tid in body.terminal_ids:
        t = db.get(Terminal, tid) if 0 < tid < 2**31 else None
        if not who.sees_terminal(t):
            raise not_found("terminal %d" % tid)
        if t.state != "enrolled":
            raise HTTPException(status_code=409, detail="terminal %d is %s, not enrolled" % (t.id, t.state))
        a, version = push_to(db, request.app.state.artifacts, t, role_signers, body.forced)
        out.append(Pushed(terminal_id=t.id, action_id=a.id, version=version))
    commit(db)
    return out
