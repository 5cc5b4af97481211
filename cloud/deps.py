"""Request dependencies shared by every router: the database session and the principal.

    @router.get("/things")
    def things(db: Session = Depends(session), who: Principal = Depends(principal)): ...

A session is one transaction: a router commits when its change is complete; an
exception rolls everything back (the audit rows of the change with it).
"""
import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from pydantic import AfterValidator, BaseModel, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloud.accounts import tokens
from cloud.accounts.principal import Principal
from cloud.audit.recorder import act_as


def _as_utc(d):
    return d if d.tzinfo is not None else d.replace(tzinfo=datetime.timezone.utc)


# Timestamps are kept naive UTC in the database; the API states the zone (RFC 3339).
UTCDateTime = Annotated[datetime.datetime, AfterValidator(_as_utc)]


# Row ids in paths: refused with 422 outside what the databases' INTEGER holds.
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Input(BaseModel):
    """Base of every request body: its text fields (and lists of text) may not hold NUL."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, v):
        if _has_nul(v if not isinstance(v, dict) else None):
            raise ValueError("text may not contain the NUL character (0x00)")
        return v


class Problem(BaseModel):
    """Every refusal other than a field validation error (422): one sentence that says why."""
    detail: str


def problems(*codes):
    """`responses=` for a router or route: the refusals it may answer with."""
    text = {400: "malformed request", 401: "not signed in, or the token is no longer valid",
            403: "the caller's role may not do this", 404: "not found (or outside the caller's tenancy)",
            409: "conflicts with the current state", 413: "request body too large",
            410: "the action is closed", 416: "range not satisfiable", 423: "account locked",
            429: "too many attempts"}
    return {c: {"model": Problem, "description": text[c]} for c in codes}


AUTHED = problems(400, 401, 403, 404, 409, 413)


def session(request: Request):
    db = request.app.state.sessionmaker()
    db.info["waker"] = request.app.state.waker      # wake messages after commits (cloud.push)
    try:
        yield db
    finally:
        db.close()


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _nul_refused(where):
    # the shape of FastAPI's own validation errors (HTTPValidationError), so 422 reads the same
    return HTTPException(status_code=422, detail=[{"loc": where, "type": "value_error",
                                                  "msg": "text may not contain the NUL character (0x00)"}])


async def no_nul_text(request: Request):
    """Every route: a path or query value with a NUL character is refused (422) before it
    reaches the database (PostgreSQL cannot store NUL in text, SQLite would keep it: one answer
    on both).  Request bodies are checked by their models (Input)."""
    for k, v in request.path_params.items():
        if _has_nul(v):
            raise _nul_refused(["path", k])
    for k, v in request.query_params.multi_items():
        if _has_nul(k) or _has_nul(v):
            raise _nul_refused(["query", k])



NUL_FREE = "^[^\\x00]*$"


def describe_nul_free(node):
    """Say in the OpenAPI description what no_nul_text enforces: every text without a pattern
    of its own (and without a format, enum or constant) gets the pattern "no NUL"."""
    if isinstance(node, dict):
        if (node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys()):
            node["pattern"] = NUL_FREE
        for v in node.values():
            describe_nul_free(v)
    elif isinstance(node, list):
        for v in node:
            describe_nul_free(v)


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
