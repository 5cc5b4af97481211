"""Developers, the packages they upload (with the store's review) and crash reports."""
from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, utcnow

PACKAGE_STATES = ("submitted", "published", "rejected")


class Developer(Base):
    __tablename__ = "app_developers"
    __audited__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)      # the TUF role is dev-<name>
    email: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(Text)                   # PEM, RSA 2048+
    token_hash: Mapped[str] = mapped_column(String(64))             # SHA-256 of its upload token
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class AppPackage(Base):
    __tablename__ = "app_packages"
    __audited__ = True
    __table_args__ = (UniqueConstraint("app_id", "version", name="uq_app_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    developer_id: Mapped[int] = mapped_column(ForeignKey("app_developers.id", ondelete="RESTRICT"), index=True)
    app_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(64), default="")
    manifest: Mapped[str] = mapped_column(Text)                     # app.json as packaged
    package: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    developer_metadata: Mapped[bytes] = mapped_column(LargeBinary)  # the developer's delegated role
    state: Mapped[str] = mapped_column(String(12), default="submitted", index=True)
    granted: Mapped[str] = mapped_column(Text, default="[]")        # permissions the review granted
    reason: Mapped[str] = mapped_column(String(240), default="")
    operator_id: Mapped[object] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), nullable=True)
    module_id: Mapped[object] = mapped_column(ForeignKey("software_modules.id", ondelete="RESTRICT"), nullable=True)
    meta_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[object] = mapped_column(DateTime, nullable=True)


class AppCrash(Base):
    __tablename__ = "app_crashes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[str] = mapped_column(String(32))
    why: Mapped[str] = mapped_column(String(80))
    at: Mapped[int] = mapped_column(Integer)                        # the terminal's clock (epoch s)
    received_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
