"""The hawkBit DDI device API (version 1), as the hawkBit documentation describes it:

    GET  /{tenant}/controller/v1/{controllerId}                                  poll
    GET  .../{controllerId}/deploymentBase/{actionId}                            what to install
    POST .../{controllerId}/deploymentBase/{actionId}/feedback                   progress, result
    GET  .../{controllerId}/installedBase/{actionId}                             the last installed
    GET  .../{controllerId}/cancelAction/{actionId}                              a cancel request
    POST .../{controllerId}/cancelAction/{actionId}/feedback                     its confirmation
    PUT  .../{controllerId}/configData                                           controller attributes
    GET  .../{controllerId}/softwaremodules/{moduleId}/artifacts                 artifact list
    GET  .../{controllerId}/softwaremodules/{moduleId}/artifacts/{filename}      download (RFC 7233 ranges)
    GET  .../artifacts/{filename}.MD5SUM                                          md5sum file

Every call carries ``Authorization: TargetToken <token>`` (from enrollment).  A wrong or
missing token, an unknown tenant or controller: 401, the same answer for each, so nothing
about which terminals exist leaks.
"""
import hashlib
import hmac
import json
import re
from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.audit.recorder import act_as
from cloud.db import utcnow
from cloud.deps import Input, problems, session, settings
from cloud.tenants.activation import digest
from cloud.tenants.models import Operator, Terminal
from cloud.tms import actions as act
from cloud.tms.rollouts import advance_for_action
from cloud.tms.models import CLOSED_STATES, DDI_PART, OPEN_STATES, Action, ActionStatus, SoftwareModule

router = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}", tags=["DDI (device API)"],
                   responses=problems(401, 404))

SEGMENT = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def controller(request: Request, tenant: str, controller_id: str, db: Session = Depends(session)):
    """The terminal whose TargetToken came with the request, or 401."""
    refused = HTTPException(status_code=401, detail="TargetToken missing or not valid for this controller",
                            headers={"WWW-Authenticate": "TargetToken"})
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "TargetToken" or not token or len(token) > 128:
        raise refused
    if not re.match(SEGMENT, tenant) or not re.match(SEGMENT, controller_id):
        raise refused
    t = db.scalar(select(Terminal).join(Operator, Terminal.operator_id == Operator.id)
                  .where(Operator.slug == tenant, Terminal.controller_id == controller_id))
    if t is None or t.state != "enrolled" or not t.target_token_hash \
            or not hmac.compare_digest(t.target_token_hash, digest(token.strip())):
        raise refused
    act_as(db, "terminal:%s/%s" % (tenant, controller_id), t.operator_id)
    return t


def _base(request, tenant, controller_id):
    return "%s%s/controller/v1/%s" % (str(request.base_url), tenant, controller_id)


def _open_action(db, terminal):
    return db.scalar(select(Action).where(Action.terminal_id == terminal.id, Action.state.in_(OPEN_STATES))
                     .order_by(Action.id).limit(1))


def _own_action(db, terminal, action_id):
    a = db.get(Action, action_id) if 0 < action_id < 2**31 else None
    if a is None or a.terminal_id != terminal.id:
        raise HTTPException(status_code=404, detail="action %d not found for this controller" % action_id)
    return a


@router.get("", summary="Poll: the links to what the controller should do now")
def poll(request: Request, tenant: str, controller_id: str, db: Session = Depends(session),
         t: Terminal = Depends(controller), cfg=Depends(settings)):
    t.last_seen_at = utcnow()
    base = _base(request, tenant, controller_id)
    links = {}
    a = _open_action(db, t)
    if a is not None:
        if a.state == "cancelling":
            links["cancelAction"] = {"href": "%s/cancelAction/%d" % (base, a.id)}
        else:
            c = hashlib.sha256(("%d:%s:%s" % (a.id, a.forced, a.maintenance_window)).encode()).hexdigest()[:8]
            links["deploymentBase"] = {"href": "%s/deploymentBase/%d?c=%d" % (base, a.id, int(c, 16) - 2**31)}
    last = db.scalar(select(Action).where(Action.terminal_id == t.id, Action.state == "success")
                     .order_by(Action.id.desc()).limit(1))
    if last is not None:
        links["installedBase"] = {"href": "%s/installedBase/%d" % (base, last.id)}
    if t.attributes_requested:
        links["configData"] = {"href": "%s/configData" % base}
    db.commit()
    body = {"config": {"polling": {"sleep": act.sleep_text(cfg.ddi_poll_s)}}}
    if links:
        body["_links"] = links
    return JSONResponse(body, media_type="application/hal+json")


def _chunks(request, tenant, controller_id, module):
    base = _base(request, tenant, controller_id)
    arts = []
    for art in module.artifacts:
        href = "%s/softwaremodules/%d/artifacts/%s" % (base, module.id, art.filename)
        arts.append({"filename": art.filename, "hashes": {"sha1": art.sha1, "md5": art.md5, "sha256": art.sha256},
                     "size": art.size,
                     "_links": {"download": {"href": href}, "download-http": {"href": href},
                                "md5sum": {"href": href + ".MD5SUM"}, "md5sum-http": {"href": href + ".MD5SUM"}}})
    return [{"part": DDI_PART[module.kind], "version": module.version, "name": module.name, "artifacts": arts}]


def _history(db, action, count):
    rows = db.scalars(select(ActionStatus).where(ActionStatus.action_id == action.id)
                      .order_by(ActionStatus.id.desc()).limit(max(0, min(count, 50)))).all()
    messages = []
    for r in rows:
        messages.extend(json.loads(r.details or "[]"))
    return {"status": "FINISHED" if action.state == "success" else
            ("ERROR" if action.state == "failed" else ("CANCELED" if action.state == "cancelled" else "RUNNING")),
            "messages": messages}


def _deployment(request, db, tenant, controller_id, a, history):
    mode = "forced" if a.forced else "attempt"
    dep = {"download": mode, "update": mode, "chunks": _chunks(request, tenant, controller_id, a.module)}
    if a.maintenance_window:
        dep["maintenanceWindow"] = a.maintenance_window
    body = {"id": str(a.id), "deployment": dep}
    if history:
        body["actionHistory"] = _history(db, a, history)
    return JSONResponse(body, media_type="application/hal+json")


@router.get("/deploymentBase/{action_id}", summary="The deployment the controller should run")
def deployment_base(request: Request, tenant: str, controller_id: str, action_id: int,
                    actionHistory: int = 0, c: Optional[int] = None,
                    db: Session = Depends(session), t: Terminal = Depends(controller)):
    a = _own_action(db, t, action_id)
    return _deployment(request, db, tenant, controller_id, a, actionHistory)


@router.get("/installedBase/{action_id}", summary="A deployment the controller finished successfully")
def installed_base(request: Request, tenant: str, controller_id: str, action_id: int,
                   actionHistory: int = 0, db: Session = Depends(session), t: Terminal = Depends(controller)):
    a = _own_action(db, t, action_id)
    if a.state != "success":
        raise HTTPException(status_code=404, detail="action %d is not installed" % action_id)
    return _deployment(request, db, tenant, controller_id, a, actionHistory)


class Progress(Input):
    cnt: int = Field(ge=0, le=2**31 - 1)
    of: Optional[int] = Field(None, ge=0, le=2**31 - 1)


class Result(Input):
    finished: Literal["success", "failure", "none"]
    progress: Optional[Progress] = None


class Status(Input):
    execution: Literal["closed", "proceeding", "canceled", "scheduled", "rejected", "resumed", "downloaded",
                       "download"]
    result: Result
    code: Optional[int] = Field(None, ge=-2**31, le=2**31 - 1)
    details: list[str] = Field(default_factory=list, max_length=50)


class Feedback(Input):
    """DDI action feedback; `id` and `time` are accepted as older clients send them."""
    model_config = ConfigDict(extra="ignore")
    id: Optional[str] = Field(None, max_length=32)
    time: Optional[str] = Field(None, max_length=40)
    status: Status


@router.post("/deploymentBase/{action_id}/feedback", summary="Progress and result of a deployment",
             responses=problems(410))
def deployment_feedback(action_id: int, body: Feedback, db: Session = Depends(session),
                        t: Terminal = Depends(controller)):
    a = _own_action(db, t, action_id)
    try:
        act.apply_feedback(db, a, body.status.execution, body.status.result.finished,
                           body.status.result.progress.model_dump() if body.status.result.progress else None,
                           body.status.code, [d[:512] for d in body.status.details])
    except act.ActionClosed as exc:
        raise HTTPException(status_code=410, detail=str(exc))
    if a.state == "success":
        t.attributes_requested = True        # hawkBit asks for config data again after an update
    if a.state in CLOSED_STATES:
        advance_for_action(db, a.id)         # a staged rollout may start its next stage, or stop
    db.commit()
    return Response(status_code=200)


@router.get("/cancelAction/{action_id}", summary="A cancel request for a running action")
def cancel_action(action_id: int, db: Session = Depends(session), t: Terminal = Depends(controller)):
    a = _own_action(db, t, action_id)
    if a.state != "cancelling":
        raise HTTPException(status_code=404, detail="no cancel request for action %d" % action_id)
    return JSONResponse({"id": str(a.id), "cancelAction": {"stopId": str(a.id)}}, media_type="application/hal+json")


@router.post("/cancelAction/{action_id}/feedback", summary="The controller confirms or rejects a cancel",
             responses=problems(410))
def cancel_feedback(action_id: int, body: Feedback, db: Session = Depends(session),
                    t: Terminal = Depends(controller)):
    a = _own_action(db, t, action_id)
    if a.state in CLOSED_STATES:
        raise HTTPException(status_code=410, detail="action %d is closed (%s)" % (a.id, a.state))
    ex, fin = body.status.execution, body.status.result.finished
    db.add(ActionStatus(action_id=a.id, at=utcnow(), execution=ex, finished=fin, code=body.status.code,
                        details=json.dumps(body.status.details[:50])))
    if ex in ("closed", "canceled") and fin != "failure":
        a.state, a.closed_at = "cancelled", utcnow()
    elif ex == "rejected" or fin == "failure":
        a.state = "installing"           # the controller could not stop: the update goes on
    a.updated_at = utcnow()
    db.commit()
    return Response(status_code=200)


class ConfigData(Input):
    model_config = ConfigDict(extra="ignore")
    mode: Literal["merge", "replace", "remove"] = "merge"
    data: dict[str, str] = Field(max_length=64)


@router.put("/configData", summary="Controller attributes (model, serial, versions, free heap ...)")
def config_data(body: ConfigData, db: Session = Depends(session), t: Terminal = Depends(controller)):
    for k, v in body.data.items():
        if len(k) > 128 or len(v) > 512:
            raise HTTPException(status_code=400, detail="attribute %r: keys up to 128 and values up to 512 "
                                                        "characters" % k[:40])
    current = json.loads(t.attributes or "{}")
    if body.mode == "replace":
        current = dict(body.data)
    elif body.mode == "remove":
        for k in body.data:
            current.pop(k, None)
    else:
        current.update(body.data)
    t.attributes = json.dumps(current, sort_keys=True)
    t.attributes_requested = False
    t.last_seen_at = utcnow()
    db.commit()
    return Response(status_code=200)


def _assigned_module(db, t, module_id):
    """A controller may read only modules of actions assigned to it."""
    m = db.get(SoftwareModule, module_id) if 0 < module_id < 2**31 else None
    assigned = m is not None and db.scalar(select(Action.id).where(Action.terminal_id == t.id,
                                                                   Action.module_id == m.id).limit(1))
    if not assigned:
        raise HTTPException(status_code=404, detail="software module %d is not assigned to this controller"
                            % module_id)
    return m


@router.get("/softwaremodules/{module_id}/artifacts", summary="The artifacts of an assigned software module")
def artifacts(request: Request, tenant: str, controller_id: str, module_id: int, db: Session = Depends(session),
              t: Terminal = Depends(controller)):
    m = _assigned_module(db, t, module_id)
    return JSONResponse(_chunks(request, tenant, controller_id, m)[0]["artifacts"], media_type="application/hal+json")


RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@router.get("/softwaremodules/{module_id}/artifacts/{filename}", summary="Artifact download (RFC 7233 ranges)",
            responses=problems(416))
def download(request: Request, module_id: int, filename: str, db: Session = Depends(session),
             t: Terminal = Depends(controller)):
    m = _assigned_module(db, t, module_id)
    md5sum = filename.endswith(".MD5SUM")
    name = filename[:-7] if md5sum else filename
    art = next((a for a in m.artifacts if a.filename == name), None)
    if art is None:
        raise HTTPException(status_code=404, detail="artifact %r not found" % name[:64])
    if md5sum:
        return Response(("%s  %s\n" % (art.md5, art.filename)).encode(), media_type="text/plain")
    store = request.app.state.artifacts
    size = art.size
    start, end, status = 0, size - 1, 200
    rng = request.headers.get("range")
    if rng:
        mm = RANGE.match(rng.strip())
        if not mm or (mm.group(1) == "" and mm.group(2) == ""):
            raise HTTPException(status_code=416, detail="only one 'bytes=first-last' range is served",
                                headers={"Content-Range": "bytes */%d" % size})
        if mm.group(1) == "":
            start = max(0, size - int(mm.group(2)))
        else:
            start = int(mm.group(1))
            end = min(size - 1, int(mm.group(2))) if mm.group(2) else size - 1
        if start >= size or start > end:
            raise HTTPException(status_code=416, detail="range outside the artifact's %d bytes" % size,
                                headers={"Content-Range": "bytes */%d" % size})
        status = 206
    headers = {"Accept-Ranges": "bytes", "ETag": '"%s"' % art.sha256, "Content-Length": str(end - start + 1),
               "Content-Disposition": "attachment; filename=%s" % art.filename}
    if status == 206:
        headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
    f = store.open(art.sha256)
    f.seek(start)
    db.close()               # its connection back to the pool before the body streams (cloud.overload)

    def body(remaining=end - start + 1):
        try:
            while remaining > 0:
                block = f.read(min(65536, remaining))
                if not block:
                    break
                remaining -= len(block)
                yield block
        finally:
            f.close()
    return StreamingResponse(body(), status_code=status, headers=headers, media_type="application/octet-stream")
