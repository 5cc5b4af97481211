"""Bearer tokens for people (``spt_`` + 43 random URL-safe characters).

Only the SHA-256 of a token is stored; ``issue`` returns the token once.
"""
import datetime
import hashlib
import secrets

from sqlalchemy import select

from cloud.accounts.models import ApiToken
from cloud.db import utcnow

PREFIX = "spt_"


def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session, account, ttl_s):
    token = PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + datetime.timedelta(seconds=ttl_s)
    session.add(ApiToken(account_id=account.id, token_hash=digest(token), expires_at=expires))
    return token, expires


def lookup(session, token):
    """The live token row for `token`, or None (unknown, revoked, expired)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked or row.expires_at <= utcnow():
        return None
    return row
