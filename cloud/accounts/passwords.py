"""Salted, slow password hashes (scrypt, RFC 7914) and their checking.

Stored form: ``scrypt$N$r$p$salt$hash`` (salt and hash in URL-safe base64), so
the cost can be raised later and old hashes still verify.
"""
import base64
import hashlib
import hmac
import secrets

N, R, P, DKLEN = 1 << 14, 8, 1, 32
MIN_LENGTH = 10


class PasswordPolicyError(ValueError):
    """A new password that the policy refuses; the message says why."""


def _b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hash_password(password, n=N):
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, dklen=DKLEN)
    return "scrypt$%d$%d$%d$%s$%s" % (n, R, P, _b64(salt), _b64(dk))


def verify_password(password, stored):
    try:
        scheme, n, r, p, salt, dk = stored.split("$")
        if scheme != "scrypt":
            return False
        want = _unb64(dk)
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


# spent on unknown usernames too, so that timing tells nothing about which exist
_DUMMY = hash_password("not a password")


def burn_time(password):
    verify_password(password, _DUMMY)


def check_policy(password):
    """The API's schema already says so (422); this guards the other callers (bootstrap, CLI)."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError("a password needs at least %d characters" % MIN_LENGTH)
    return password
