"""Tenant hierarchy.

An **operator** (bank, acquirer, service provider) runs a fleet; its slug is the
hawkBit DDI ``tenant`` in device URLs.  A **merchant** belongs to one operator and
has **stores**; a **terminal** belongs to its operator from the day it is
registered and to a store once it is placed in one.  ``Terminal.controller_id``
is the DDI controller id, unique within the operator.
"""
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base, utcnow


class Operator(Base):
    __tablename__ = "operators"
    __audited__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)


class Merchant(Base):
    __tablename__ = "merchants"
    __audited__ = True
    __table_args__ = (UniqueConstraint("operator_id", "name", name="uq_merchant_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    mid: Mapped[str] = mapped_column(String(15), default="")          # ISO 8583 DE 42
    currency: Mapped[str] = mapped_column(String(3), default="978")   # ISO 4217 numeric
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    stores = relationship("Store", back_populates="merchant", passive_deletes=True)


class Store(Base):
    __tablename__ = "stores"
    __audited__ = True
    __table_args__ = (UniqueConstraint("merchant_id", "name", name="uq_store_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(240), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    merchant = relationship("Merchant", back_populates="stores")


TERMINAL_STATES = ("registered", "enrolled", "disabled")


class Terminal(Base):
    __tablename__ = "terminals"
    __audited__ = True
    __audit_secret__ = ("target_token_hash", "activation_code_hash")
    __audit_quiet__ = ("last_seen_at", "attributes")
    __table_args__ = (UniqueConstraint("operator_id", "controller_id", name="uq_terminal_controller"),
                      UniqueConstraint("operator_id", "serial", name="uq_terminal_serial"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    store_id: Mapped[object] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"), nullable=True,
                                             index=True)
    controller_id: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64), default="")
    tid: Mapped[str] = mapped_column(String(8), default="")            # ISO 8583 DE 41
    state: Mapped[str] = mapped_column(String(16), default="registered")
    target_token_hash: Mapped[str] = mapped_column(String(64), default="")
    activation_code_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    activation_expires_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    enrolled_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    last_seen_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    # DDI config data (controller attributes) the terminal last sent, as JSON text
    attributes: Mapped[str] = mapped_column(Text, default="{}")
    attributes_requested: Mapped[bool] = mapped_column(Boolean, default=True)
    store = relationship("Store")
