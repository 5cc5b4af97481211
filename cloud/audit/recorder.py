"""Writes the audit log.

Every model with ``__audited__ = True`` is logged on each flush that creates,
changes or deletes one of its rows, inside the same transaction (a change that
rolls back leaves no entry; an entry never exists without its change).  Columns
named in ``__audit_secret__`` appear only as ``"(changed)"``; columns in
``__audit_quiet__`` (counters of routine events) are left out.

The actor is the one the request's authentication put on the session
(``act_as(session, "account:7 alice", operator_id)``), else the one of an
``acting_as(...)`` block, else ``"system"``.

    with acting_as("account:1 admin", operator_id=1):
        session.add(Merchant(...)); session.commit()
"""
import contextlib
import contextvars
import datetime
import json

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from cloud.audit.models import AuditEntry
from cloud.db import utcnow

_actor = contextvars.ContextVar("cloud_audit_actor", default=("system", None))


@contextlib.contextmanager
def acting_as(actor, operator_id=None):
    token = _actor.set((actor, operator_id))
    try:
        yield
    finally:
        _actor.reset(token)


def act_as(session, actor, operator_id=None):
    """Every change made through `session` from now on is logged as `actor`'s."""
    session.info["audit_actor"] = (actor, operator_id)


def actor_of(session):
    return session.info.get("audit_actor") or _actor.get()


def _jsonable(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def _operator_of(obj, fallback):
    if type(obj).__tablename__ == "operators":
        return obj.id
    return getattr(obj, "operator_id", None) or fallback


def _merchant_of(obj):
    if type(obj).__tablename__ == "merchants":
        return obj.id
    return getattr(obj, "merchant_id", None)


def _row(session, obj, action, fields):
    actor, op = actor_of(session)
    return {"at": utcnow(), "operator_id": _operator_of(obj, op),
            "merchant_id": _merchant_of(obj), "actor": actor[:120],
            "action": action, "entity": type(obj).__tablename__,
            "entity_id": "/".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj)),
            "detail": json.dumps(fields, sort_keys=True)}


def _fields(obj, changed_only):
    cls = type(obj)
    secret = getattr(cls, "__audit_secret__", ())
    quiet = getattr(cls, "__audit_quiet__", ())
    out = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in quiet:
            continue
        hist = state.attrs[key].history
        if changed_only and not hist.has_changes():
            continue
        if key in secret:
            out[key] = "(changed)" if changed_only else "(set)"
        elif changed_only:
            old = hist.deleted[0] if hist.deleted else None
            out[key] = [_jsonable(old), _jsonable(hist.added[0] if hist.added else None)]
        else:
            out[key] = _jsonable(getattr(obj, key))
    return out


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context):
    rows = []
    for obj in session.new:
        if getattr(type(obj), "__audited__", False):
            rows.append(_row(session, obj, "create", _fields(obj, False)))
    for obj in session.dirty:
        if getattr(type(obj), "__audited__", False) and session.is_modified(obj, include_collections=False):
            fields = _fields(obj, True)
            if fields:
                rows.append(_row(session, obj, "update", fields))
    for obj in session.deleted:
        if getattr(type(obj), "__audited__", False):
            rows.append(_row(session, obj, "delete", {}))
    if rows:
        session.connection().execute(AuditEntry.__table__.insert(), rows)


def record(session, action, entity, entity_id="", detail=None, operator_id=None):
    """A security event that changes no audited row (login, failed login, enrollment refused)."""
    actor, op = actor_of(session)
    session.add(AuditEntry(at=utcnow(), operator_id=operator_id if operator_id is not None else op,
                           actor=actor[:120], action=action, entity=entity, entity_id=str(entity_id)[:64],
                           detail=json.dumps(detail or {}, sort_keys=True)))
