"""Request dependencies shared by every router: the database session and the principal.

    @router.get("/things")
    def things(db: Session = Depends(session), who: Principal = Depends(principal)): ...

A session is one transaction: a router commits when its change is complete; an
exception rolls everything back (the audit rows of the change with it).
"""
from fastapi import Depends, HTTPException, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloud.accounts import tokens
from cloud.accounts.principal import Principal
from cloud.audit.recorder import act_as


def session(request: Request):
    db = request.app.state.sessionmaker()
    try:
        yield db
    finally:
        db.close()


def settings(request: Request):
    return request.app.state.settings


def _bearer(request):
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def unauthorized(message="sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/login"):
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def principal(request: Request, db: Session = Depends(session)):
    token = _bearer(request)
    if token is None:
        raise unauthorized()
    row = tokens.lookup(db, token)
    if row is None:
        raise unauthorized("the token is unknown, revoked or expired: sign in again")
    account = row.account
    if account.disabled:
        raise unauthorized("the account is disabled")
    who = Principal(account, row)
    act_as(db, who.label, who.operator_id)
    return who


def require(who, capability):
    if not who.can(capability):
        raise HTTPException(status_code=403, detail="the role %s may not do this (%s)" % (who.role, capability))


def not_found(what):
    return HTTPException(status_code=404, detail="%s not found" % what)


def commit(db, conflict="a record with these values already exists"):
    """Commit, turning a unique/foreign-key violation into 409 with `conflict` as the reason."""
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(status_code=409, detail=conflict)
