"""Terminal activation codes and enrollment.

An operator registers a terminal by its serial and gets a 12-digit activation
code (digits only, so it can be typed on the keypad; shown as ``1234-5678-9012``,
also as a QR in the console).  The terminal sends the code with its serial to
``POST /api/v1/enroll`` and receives its DDI identity: tenant, controller id
and ``TargetToken``.  Codes are single-use, expire (24 h by default) and are
stored only as their SHA-256; the token is returned once and stored only as its
SHA-256.  Failed attempts are throttled per client address.
"""
import datetime
import hashlib
import secrets
import threading
import time

from cloud.db import utcnow

CODE_DIGITS = 12


def new_code():
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def display(code):
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise(text):
    """Digits of a typed or scanned code; None when it cannot be one."""
    digits = "".join(ch for ch in text if ch not in " -")
    if len(digits) != CODE_DIGITS or not digits.isdigit():
        return None
    return digits


def qr_data_uri(code):
    """The code's digits as a QR code (numeric mode, level M), a data: URI of a PNG for the
    console; the terminal's scanner reads the digits."""
    import segno
    return segno.make_qr(code, error="m").png_data_uri(scale=6, border=4)


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def arm(terminal, ttl_s):
    """Give `terminal` a fresh activation code; returns the code (shown once)."""
    code = new_code()
    terminal.activation_code_hash = digest(code)
    terminal.activation_expires_at = utcnow() + datetime.timedelta(seconds=ttl_s)
    return code


def new_target_token():
    return secrets.token_hex(16)


class Throttle:
    """At most `limit` failures per `window_s` per key; then refuse until the window passes."""

    def __init__(self, limit=10, window_s=60.0, clock=time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._fails = {}
        self._lock = threading.Lock()

    def blocked(self, key):
        with self._lock:
            now = self.clock()
            recent = [t for t in self._fails.get(key, ()) if now - t < self.window_s]
            self._fails[key] = recent
            return len(recent) >= self.limit

    def failed(self, key):
        with self._lock:
            self._fails.setdefault(key, []).append(self.clock())
