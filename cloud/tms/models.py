"""Software modules, artifacts, actions and the status history of each action.

A **software module** is one deliverable of a kind (``firmware``: the terminal's Python
firmware image; ``params``: a signed parameter set; ``app``: an installed app), in a version,
with one or more **artifacts** (files; stored by SHA-256 in the data folder).  An **action**
deploys one module to one terminal; its state follows the DDI feedback the terminal sends,
every message kept in **action_status**.
"""
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base, utcnow

MODULE_KINDS = ("firmware", "params", "app", "keys", "diag")   # diag: diagnostics requests (diagnostics.py)
# DDI chunk "part" of each kind (hawkBit names the firmware part "os" and apps "bApp")
DDI_PART = {"firmware": "os", "params": "params", "app": "bApp", "keys": "keys", "diag": "diag"}

OPEN_STATES = ("scheduled", "downloading", "downloaded", "installing", "deferred", "cancelling")
CLOSED_STATES = ("success", "failed", "cancelled")
ACTION_STATES = OPEN_STATES + CLOSED_STATES


class SoftwareModule(Base):
    __tablename__ = "software_modules"
    __audited__ = True
    __table_args__ = (UniqueConstraint("operator_id", "kind", "name", "version", name="uq_module_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(240), default="")
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    artifacts = relationship("Artifact", back_populates="module", order_by="Artifact.id")


class Artifact(Base):
    __tablename__ = "artifacts"
    __audited__ = True
    __table_args__ = (UniqueConstraint("module_id", "filename", name="uq_artifact_filename"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("software_modules.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sha1: Mapped[str] = mapped_column(String(40))
    md5: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    module = relationship("SoftwareModule", back_populates="artifacts")


class Action(Base):
    __tablename__ = "actions"
    __audited__ = True
    __audit_quiet__ = ("updated_at",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="RESTRICT"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("software_modules.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    maintenance_window: Mapped[str] = mapped_column(String(16), default="")   # "", available, unavailable
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    module = relationship("SoftwareModule")
    terminal = relationship("Terminal")


class ActionStatus(Base):
    __tablename__ = "action_status"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    execution: Mapped[str] = mapped_column(String(16))
    finished: Mapped[str] = mapped_column(String(8), default="none")
    progress_cnt: Mapped[object] = mapped_column(Integer, nullable=True)
    progress_of: Mapped[object] = mapped_column(Integer, nullable=True)
    code: Mapped[object] = mapped_column(Integer, nullable=True)
    details: Mapped[str] = mapped_column(Text, default="[]")
