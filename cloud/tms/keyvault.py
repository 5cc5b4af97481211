"""Terminal KEKs held by the cloud, and working keys pushed to terminals as TR-31 blocks.

Each terminal's KEK (loaded into the terminal at manufacture with ``smartpos keys load-kek``)
is registered once by an operator administrator and kept sealed with AES-256-GCM under the
service's master key (``DATA/master.key``, mode 0600, made at first use; a fleet keeps it in an
HSM or a secrets manager instead, docs/key-injection.md).  Only its check value is ever shown
or logged.  A push generates fresh working keys per terminal, wraps them under that terminal's
KEK (``cloud.tms.keys``) and deploys them over DDI as a ``keys`` module; the answer gives the
check values for the acquirer's records, never a key.

    PUT  /api/v1/terminals/{id}/kek      {"key": hex, "algorithm": "A"|"T"}   -> {"kcv"}
    POST /api/v1/tms/keys/push           {"terminal_ids", "acquirer", "slots", "key_version"}
"""
import json
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from typing import Literal

from cloud.accounts.models import OPERATOR_ADMIN
from cloud.accounts.principal import Principal
from cloud.db import Base, utcnow
from cloud.deps import AUTHED, commit, IdPath, Input, not_found, principal, require, session
from cloud.tenants.models import Terminal
from cloud.tms import keys as tr31keys
from cloud.tms.manage import assign
from cloud.tms.models import Artifact, SoftwareModule


class TerminalKek(Base):
    __tablename__ = "terminal_keks"
    __audited__ = True
    __audit_secret__ = ("sealed",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    algorithm: Mapped[str] = mapped_column(String(1))
    kcv: Mapped[str] = mapped_column(String(10))
    sealed: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class MasterKey:
    """AES-256-GCM sealing of key material at rest in the database."""

    def __init__(self, data_dir):
        path = os.path.join(data_dir, "master.key")
        if not os.path.exists(path):
            os.makedirs(data_dir, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        with open(path) as f:
            self._aead = AESGCM(bytes.fromhex(f.read().strip()))

    def seal(self, data, context):
        nonce = secrets.token_bytes(12)
        return (nonce + self._aead.encrypt(nonce, data, context.encode())).hex()

    def open(self, sealed, context):
        raw = bytes.fromhex(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode())


router = APIRouter(responses=AUTHED, tags=["terminal management"])


class KekIn(Input):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[0-9A-Fa-f]{32}([0-9A-Fa-f]{16}){0,2}$")
    algorithm: Literal["A", "T"] = "A"


class KekOut(BaseModel):
    terminal_id: int
    algorithm: str
    kcv: str


def _vault(request):
    return MasterKey(request.app.state.settings.data_dir)


@router.put("/api/v1/terminals/{terminal_id}/kek", response_model=KekOut)
def register_kek(terminal_id: IdPath, body: KekIn, request: Request, db: Session = Depends(session),
                 who: Principal = Depends(principal)):
    """Register the KEK loaded into a terminal at manufacture (operator administrators only)."""
    t = db.get(Terminal, terminal_id)
    if not who.sees_terminal(t):
        raise not_found("terminal %d" % terminal_id)
    if who.role != OPERATOR_ADMIN:
        raise HTTPException(status_code=403, detail="only an operator administrator registers terminal KEKs")
    try:
        kek = tr31keys.kek_from_hex(body.key, body.algorithm)
    except tr31keys.KeyInjectionError as e:
        raise HTTPException(status_code=409, detail=str(e))
    row = db.scalar(select(TerminalKek).where(TerminalKek.terminal_id == t.id))
    if row is None:
        row = TerminalKek(terminal_id=t.id, operator_id=t.operator_id)
        db.add(row)
    row.algorithm, row.kcv, row.updated_at = kek.algorithm, kek.kcv(), utcnow()
    row.sealed = _vault(request).seal(kek.key, "kek:%d" % t.id)
    commit(db)
    return KekOut(terminal_id=t.id, algorithm=kek.algorithm, kcv=row.kcv)


class PushIn(Input):
    model_config = ConfigDict(extra="forbid")
    terminal_ids: list[int] = Field(min_length=1, max_length=1000)
    acquirer: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    slots: list[Literal["pin", "mac", "data"]] = Field(min_length=1, max_length=3)
    key_version: int = Field(ge=1, le=99)
    forced: bool = False


class Pushed(BaseModel):
    terminal_id: int
    action_id: int
    kcvs: dict[str, str]


@router.post("/api/v1/tms/keys/push", response_model=list[Pushed], status_code=201)
def push_keys(body: PushIn, request: Request, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "terminal:write")
    vault, out = _vault(request), []
    for tid in body.terminal_ids:
        t = db.get(Terminal, tid) if 0 < tid < 2**31 else None
        if not who.sees_terminal(t):
            raise not_found("terminal %d" % tid)
        row = db.scalar(select(TerminalKek).where(TerminalKek.terminal_id == t.id))
        if row is None:
            raise HTTPException(status_code=409, detail="terminal %d has no registered KEK" % t.id)
        kek = tr31keys.Kek(vault.open(row.sealed, "kek:%d" % t.id), row.algorithm)
        blocks, kcvs = {}, {}
        for slot in sorted(set(body.slots)):
            key = tr31keys.generate_working_key(slot)
            blocks[slot] = tr31keys.wrap_working_key(kek, slot, key, body.key_version)
            kcvs[slot] = tr31keys.kcv(key, "T").hex().upper()
        out.append(Pushed(terminal_id=t.id, action_id=deploy_blocks(db, request.app.state.artifacts, t,
                                                                   body.acquirer, blocks, body.forced).id,
                          kcvs=kcvs))
    commit(db)
    return out


def deploy_blocks(db, store, terminal, acquirer, blocks, forced=False):
    """A keys module for `terminal` carrying `blocks` ({slot: TR-31 block}), deployed over DDI."""
    name = "keys-%s" % terminal.controller_id[:56]
    n = len(db.scalars(select(SoftwareModule.id).where(SoftwareModule.operator_id == terminal.operator_id,
                                                       SoftwareModule.name == name)).all())
    m = SoftwareModule(operator_id=terminal.operator_id, kind="keys", name=name, version=str(n + 1),
                       description="%s: %s" % (acquirer, ", ".join(sorted(blocks))))
    db.add(m)
    db.flush()
    size, sha256, sha1, md5 = store.put(json.dumps({"acquirer": acquirer, "blocks": blocks}).encode())
    db.add(Artifact(module_id=m.id, filename="keys.json", size=size, sha256=sha256, sha1=sha1, md5=md5))
    db.flush()
    return assign(db, terminal, m, forced=forced)
