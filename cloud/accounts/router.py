"""/api/v1/auth and /api/v1/accounts."""
import datetime
from typing import Annotated, Literal, Optional, Union

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts import passwords, tokens
from cloud.accounts.models import Account
from cloud.accounts.principal import Principal, role_needs_merchant
from cloud.audit.recorder import act_as, record
from cloud.db import utcnow
from cloud.deps import (AUTHED, commit, IdPath, Input, not_found, principal, problems, require, session,
                        settings, unauthorized, UTCDateTime)
from cloud.tenants.models import Merchant

router = APIRouter(prefix="/api/v1", responses=AUTHED)

Username = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._@-]*$")
Role = Literal["operator_admin", "operator_staff", "merchant_owner", "merchant_staff"]


class Login(Input):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class AccountOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    operator_id: int
    merchant_id: Optional[int]
    disabled: bool


class LoginOut(BaseModel):
    token: str
    expires_at: UTCDateTime
    account: AccountOut


NewPassword = Field(min_length=passwords.MIN_LENGTH, max_length=256)


class OperatorAccountIn(Input):
    """An account of the operator's own people."""
    model_config = ConfigDict(extra="forbid")
    username: str = Username
    display_name: str = Field("", max_length=120)
    role: Literal["operator_admin", "operator_staff"]
    password: str = NewPassword


class MerchantAccountIn(Input):
    """An account of a merchant's people: names its merchant."""
    model_config = ConfigDict(extra="forbid")
    username: str = Username
    display_name: str = Field("", max_length=120)
    role: Literal["merchant_owner", "merchant_staff"]
    merchant_id: int = Field(ge=1, le=2**31 - 1)
    password: str = NewPassword


AccountIn = Annotated[Union[OperatorAccountIn, MerchantAccountIn], Field(discriminator="role")]


class AccountPatch(Input):
    """Role changes stay on the same side (operator or merchant): a new account crosses over."""
    model_config = ConfigDict(extra="forbid")
    display_name: Optional[str] = Field(None, max_length=120)
    role: Optional[Role] = None
    disabled: Optional[bool] = None
    password: Optional[str] = Field(None, min_length=passwords.MIN_LENGTH, max_length=256)


class PasswordChange(Input):
    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = NewPassword


def account_out(a):
    return AccountOut(id=a.id, username=a.username, display_name=a.display_name, role=a.role,
                      operator_id=a.operator_id, merchant_id=a.merchant_id, disabled=a.disabled)


@router.post("/auth/login", response_model=LoginOut, tags=["auth"], responses=problems(423))
def login(body: Login, db: Session = Depends(session), cfg=Depends(settings)):
    """Sign in; the bearer token in the answer authorizes every other call."""
    name = body.username.strip().lower()
    account = db.scalar(select(Account).where(Account.username == name))
    now = utcnow()
    if account is None:
        passwords.burn_time(body.password)
        raise unauthorized("wrong username or password")
    act_as(db, "login:%s" % account.username, account.operator_id)
    if account.locked_until is not None and account.locked_until > now:
        raise HTTPException(status_code=423, detail="account locked after %d failed sign-ins; try again after %s UTC"
                            % (cfg.login_max_failures, account.locked_until.strftime("%H:%M")))
    if account.disabled or not passwords.verify_password(body.password, account.password_hash):
        account.failed_logins += 1
        detail = {"failures": account.failed_logins}
        if account.failed_logins >= cfg.login_max_failures:
            account.locked_until = now + datetime.timedelta(seconds=cfg.login_lockout_s)
            account.failed_logins = 0
            detail["locked_until"] = account.locked_until.isoformat()
        record(db, "login_failed", "accounts", account.id, detail)
        db.commit()
        raise unauthorized("wrong username or password")
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    token, expires = tokens.issue(db, account, cfg.token_ttl_s)
    record(db, "login", "accounts", account.id)
    db.commit()
    return LoginOut(token=token, expires_at=expires, account=account_out(account))


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(db: Session = Depends(session), who: Principal = Depends(principal)):
    """Revoke the token this request was made with."""
    who.token_row.revoked = True
    db.commit()


@router.get("/auth/me", response_model=AccountOut, tags=["auth"])
def me(who: Principal = Depends(principal)):
    return account_out(who.account)


@router.post("/auth/password", status_code=204, tags=["auth"])
def change_password(body: PasswordChange, db: Session = Depends(session), who: Principal = Depends(principal)):
    """Change one's own password; every other token of the account is revoked."""
    if not passwords.verify_password(body.old_password, who.account.password_hash):
        raise HTTPException(status_code=403, detail="the old password is wrong")
    _set_password(who.account, body.new_password)
    from cloud.accounts.models import ApiToken
    for t in db.scalars(select(ApiToken).where(ApiToken.account_id == who.account.id,
                                               ApiToken.id != who.token_row.id)):
        t.revoked = True
    db.commit()


def _set_password(account, password):
    account.password_hash = passwords.hash_password(passwords.check_policy(password))


def _check_grant(db, who, role, merchant_id):
    if role_needs_merchant(role) != (merchant_id is not None):
        raise HTTPException(status_code=409, detail="role %s is on the %s side: create a new account instead"
                            % (role, "merchant" if role_needs_merchant(role) else "operator"))
    if merchant_id is not None and not who.sees_merchant(db.get(Merchant, merchant_id)):
        raise not_found("merchant %d" % merchant_id)
    if not who.may_grant(role, merchant_id):
        raise HTTPException(status_code=403, detail="the role %s may not grant %s" % (who.role, role))


@router.get("/accounts", response_model=list[AccountOut], tags=["accounts"])
def list_accounts(db: Session = Depends(session), who: Principal = Depends(principal)):
    q = select(Account).where(Account.operator_id == who.operator_id)
    if not who.is_operator:
        q = q.where(Account.merchant_id == who.merchant_id)
    return [account_out(a) for a in db.scalars(q.order_by(Account.id))]


@router.post("/accounts", response_model=AccountOut, status_code=201, tags=["accounts"])
def create_account(body: AccountIn, db: Session = Depends(session), who: Principal = Depends(principal)):
    require(who, "account:write")
    merchant_id = body.merchant_id if isinstance(body, MerchantAccountIn) else None
    _check_grant(db, who, body.role, merchant_id)
    account = Account(username=body.username, display_name=body.display_name, role=body.role,
                      operator_id=who.operator_id, merchant_id=merchant_id, password_hash="")
    _set_password(account, body.password)
    db.add(account)
    commit(db, "username %r is taken" % body.username)
    return account_out(account)


def _visible_account(db, who, account_id):
    a = db.get(Account, account_id)
    if not who.sees_account(a):
        raise not_found("account %d" % account_id)
    return a


@router.get("/accounts/{account_id}", response_model=AccountOut, tags=["accounts"])
def get_account(account_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    return account_out(_visible_account(db, who, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountOut, tags=["accounts"])
def update_account(account_id: IdPath, body: AccountPatch, db: Session = Depends(session),
                   who: Principal = Depends(principal)):
    a = _visible_account(db, who, account_id)
    require(who, "account:write")
    _check_grant(db, who, a.role, a.merchant_id)
    if body.role is not None and body.role != a.role:
        _check_grant(db, who, body.role, a.merchant_id)
        a.role = body.role
    if body.display_name is not None:
        a.display_name = body.display_name
    if body.disabled is not None:
        if a.id == who.account.id and body.disabled:
            raise HTTPException(status_code=409, detail="you cannot disable your own account")
        a.disabled = body.disabled
    if body.password is not None:
        _set_password(a, body.password)
        a.locked_until = None
    db.commit()
    return account_out(a)


@router.delete("/accounts/{account_id}", status_code=204, tags=["accounts"])
def delete_account(account_id: IdPath, db: Session = Depends(session), who: Principal = Depends(principal)):
    """Accounts are disabled, never deleted: the audit log keeps naming them."""
    a = _visible_account(db, who, account_id)
    require(who, "account:write")
    _check_grant(db, who, a.role, a.merchant_id)
    if a.id == who.account.id:
        raise HTTPException(status_code=409, detail="you cannot remove your own account")
    a.disabled = True
    db.commit()
