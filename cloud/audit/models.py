"""One row per change (create, update, delete) or security event (login, enrollment)."""
from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[object] = mapped_column(DateTime, default=utcnow, index=True)
    operator_id: Mapped[object] = mapped_column(Integer, nullable=True, index=True)
    merchant_id: Mapped[object] = mapped_column(Integer, nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
