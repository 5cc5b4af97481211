"""Accounts and their bearer tokens.

Every account belongs to an operator; merchant roles also name their merchant.
Passwords are stored as salted scrypt hashes (``cloud.accounts.passwords``);
tokens only as their SHA-256, so a copy of the database lets no one in.
"""
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cloud.db import Base, utcnow

OPERATOR_ADMIN = "operator_admin"
OPERATOR_STAFF = "operator_staff"
MERCHANT_OWNER = "merchant_owner"
MERCHANT_STAFF = "merchant_staff"
ROLES = (OPERATOR_ADMIN, OPERATOR_STAFF, MERCHANT_OWNER, MERCHANT_STAFF)
OPERATOR_ROLES = (OPERATOR_ADMIN, OPERATOR_STAFF)
MERCHANT_ROLES = (MERCHANT_OWNER, MERCHANT_STAFF)


class Account(Base):
    __tablename__ = "accounts"
    __audited__ = True
    __audit_secret__ = ("password_hash",)
    __audit_quiet__ = ("failed_logins", "last_login_at")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="RESTRICT"), index=True)
    merchant_id: Mapped[object] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"),
                                                nullable=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[object] = mapped_column(DateTime, nullable=True)
    last_login_at: Mapped[object] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    operator = relationship("Operator")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[object] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[object] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    account = relationship("Account")
