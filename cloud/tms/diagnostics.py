"""Diagnostics on request: a terminal's recent log lines and a screenshot of its display.

The operator asks from the console; the request becomes a DDI action (a ``diag`` software
module whose one artifact, ``request.json``, says what is wanted and where to put it).  The
terminal runs it like any deployment: it loads its diagnostics handler only then, uploads the
answer to the device endpoint below with its TargetToken, and closes the action.

    POST /api/v1/terminals/{id}/diagnostics            {"what": "logs" | "screen"}
    GET  /api/v1/terminals/{id}/diagnostics            newest first, with the log lines
    GET  /api/v1/terminals/{id}/diagnostics/{rid}/screen.png
    PUT  /{tenant}/controller/v1/{controllerId}/diagnostics/{rid}     (device; TargetToken)
         logs:   text/plain, one line per log line (redacted on the terminal)
         screen: the 1-bit framebuffer, rows of bits, most significant bit leftmost, 1 = ink;
                 ?width=W&height=H

The screenshot is answered as a PNG (ISO/IEC 15948: greyscale, bit depth 1).
"""
import json
import struct
import zlib
from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cloud.accounts.principal import Principal
from cloud.db import Base, utcnow
from cloud.deps import AUTHED, IdPath, Input, UTCDateTime, commit, not_found, principal, problems, require, session
from cloud.tenants.models import Operator, Terminal
from cloud.tms.ddi import controller
from cloud.push import wake_after_commit
from cloud.tms.models import Action, Artifact, SoftwareModule

LOG_LINES = 200                      # lines asked of the terminal
MAX_LOG_BYTES = 64 * 1024
MAX_SIDE = 1024


class DiagnosticRequest(Base):
    __tablename__ = "diagnostics"
    __audited__ = True
    __audit_quiet__ = ("data",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(8))                 # logs | screen
    requested_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[object] = mapped_column(LargeBinary, nullable=True)


def png_from_mono(data, width, height):
    """A PNG of a 1-bit framebuffer (rows padded to whole bytes, MSB leftmost, 1 = ink).
    PNG greyscale 1-bit has 0 = black, so ink bits are inverted."""
    stride = (width + 7) // 8
    raw = bytearray()
    for y in range(height):
        raw.append(0)                                     # filter type 0 (None)
        raw.extend(b ^ 0xFF for b in data[y * stride:(y + 1) * stride])

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


router = APIRouter(responses=AUTHED, tags=["diagnostics"])
device = APIRouter(prefix="/{tenant}/controller/v1/{controller_id}", tags=["DDI (device API)"],
                   responses=problems(400, 401, 404, 413))


class DiagIn(Input):
    model_config = ConfigDict(extra="forbid")
    what: Literal["logs", "screen"]


class DiagOut(BaseModel):
    id: int
    what: str
    action_id: int
    state: str
    requested_at: UTCDateTime
    answered_at: Optional[UTCDateTime]
    lines: list[str] = []
    width: int = 0
    height: int = 0


def diag_out(db, d):
    out = DiagOut(id=d.id, what=d.what, action_id=d.action_id, state=db.get(Action, d.action_id).state,
                  requested_at=d.requested_at, answered_at=d.answered_at, width=d.width, height=d.height)
    if d.what == "logs" and d.data:
        out.lines = d.data.decode("utf-8", "replace").splitlines()
    return out


def _terminal(db, who, terminal_id):
    t = db.get(Terminal, terminal_id)
    if not who.sees_terminal(t) or not who.is_operator:
        raise not_found("terminal %d" % terminal_id)
    return t


@router.post("/api/v1/terminals/{terminal_id}/diagnostics", response_model=DiagOut, status_code=201)
def request_diagnostics(terminal_id: IdPath, body: DiagIn, request: Request, db: Session = Depends(session),
                        who: Principal = Depends(principal)):
    """Ask the terminal for its recent log lines or a screenshot; it answers at its next poll."""
    require(who, "terminal:write")
    t = _terminal(db, who, terminal_id)
    if t.state != "enrolled":
        raise HTTPException(status_code=409, detail="terminal %d is %s, not enrolled" % (t.id, t.state))
    n = len(db.scalars(select(DiagnosticRequest.id).where(DiagnosticRequest.terminal_id == t.id)).all()) + 1
    m = SoftwareModule(operator_id=t.operator_id, kind="diag", name="diag-%s" % t.controller_id[:56],
                       version=str(n), description="%s requested by %s" % (body.what, who.label))
    db.add(m)
    db.flush()
    # not manage.assign: a new request must not cancel one still open; the terminal takes them in turn
    a = Action(operator_id=t.operator_id, terminal_id=t.id, module_id=m.id, state="scheduled")
    db.add(a)
    db.flush()
    wake_after_commit(db, db.get(Operator, t.operator_id).slug, t.controller_id)
    d = DiagnosticRequest(operator_id=t.operator_id, terminal_id=t.id, action_id=a.id, what=body.what)
    db.add(d)
    db.flush()          # the request's id names its upload in the artifact
    spec = json.dumps({"request": d.id, "what": body.what, "lines": LOG_LINES,
                       "upload": "diagnostics/%d" % d.id}, sort_keys=True).encode()
    size, sha256, sha1, md5 = request.app.state.artifacts.put(spec)
    db.add(Artifact(module_id=m.id, filename="request.json", size=size, sha256=sha256, sha1=sha1, md5=md5))
    commit(db)
    return diag_out(db, d)


@router.get("/api/v1/terminals/{terminal_id}/diagnostics", response_model=list[DiagOut])
def list_diagnostics(terminal_id: IdPath, limit: int = Query(20, ge=1, le=200), db: Session = Depends(session),
                     who: Principal = Depends(principal)):
    t = _terminal(db, who, terminal_id)
    return [diag_out(db, d) for d in db.scalars(select(DiagnosticRequest).where(
        DiagnosticRequest.terminal_id == t.id).order_by(DiagnosticRequest.id.desc()).limit(limit))]


@router.get("/api/v1/terminals/{terminal_id}/diagnostics/{request_id}/screen.png",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
def screenshot(terminal_id: IdPath, request_id: IdPath, db: Session = Depends(session),
               who: Principal = Depends(principal)):
    t = _terminal(db, who, terminal_id)
    d = db.get(DiagnosticRequest, request_id)
    if d is None or d.terminal_id != t.id or d.what != "screen":
        raise not_found("screenshot %d" % request_id)
    if not d.data:
        raise HTTPException(status_code=409, detail="the terminal has not answered request %d yet" % d.id)
    return Response(png_from_mono(d.data, d.width, d.height), media_type="image/png",
                    headers={"Cache-Control": "no-store"})


@device.put("/diagnostics/{request_id}", status_code=204, summary="A terminal's answer to a diagnostics request",
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "text/plain": {"schema": {"type": "string"}}}}})
async def answer(request_id: int, request: Request, width: int = Query(0, ge=0, le=MAX_SIDE),
                 height: int = Query(0, ge=0, le=MAX_SIDE), db: Session = Depends(session),
                 t: Terminal = Depends(controller)):
    data = await request.body()
    d = db.get(DiagnosticRequest, request_id) if 0 < request_id < 2**31 else None
    if d is None or d.terminal_id != t.id:
        raise HTTPException(status_code=404, detail="diagnostics request %d not found for this controller"
                            % request_id)
    if d.what == "screen":
        if not width or not height or len(data) != (width + 7) // 8 * height:
            raise HTTPException(status_code=422, detail="screen: want ?width=&height= and (width+7)/8*height "
                                "bytes of framebuffer, got %d bytes for %dx%d" % (len(data), width, height))
    elif len(data) > MAX_LOG_BYTES:
        raise HTTPException(status_code=413, detail="log lines over %d bytes" % MAX_LOG_BYTES)
    d.data, d.width, d.height, d.answered_at = data, width, height, utcnow()
    db.commit()
    return Response(status_code=204)
