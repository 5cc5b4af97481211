"""Coupons signed by the cloud for the merchant's terminals (docs/promotions.md, "Coupons"):
``CPN1:<program>:<serial>:<expiry>:<kcv>:<mac>``, the MAC being the first 16 bytes of
HMAC-SHA256 under the merchant's coupon key (the key the terminals hold in their key store as
service key "coupon").  The terminal's reader is pos.promo.coupon; tests hold the two equal.

    text = coupons.sign(key, "WELCOME5", "100001", expiry=t)
    c = coupons.read(text, key, now)        # CouponError
"""
import hashlib
import hmac
import re

PREFIX = "CPN1:"
TOKEN = re.compile(r"^[0-9A-Z]{1,20}$")


class CouponError(ValueError):
    """A coupon refused: another key, forged, expired, malformed or already redeemed."""


def kcv(key):
    return hashlib.sha256(bytes(key)).digest()[:3].hex().upper()


def _mac(key, body):
    return hmac.new(bytes(key), body.encode(), hashlib.sha256).digest()[:16].hex().upper()


def sign(key, program, serial, expiry=0):
    if len(key) != 16:
        raise CouponError("a coupon key is 16 bytes")
    for what, v in (("program", program), ("serial", serial)):
        if not TOKEN.match(v):
            raise CouponError("coupon %s %r: 1-20 upper-case letters or digits" % (what, v))
    body = "%s%s:%s:%d:%s" % (PREFIX, program, serial, int(expiry), kcv(key))
    return body + ":" + _mac(key, body)


def read(text, key, now):
    """(program, serial, expiry) of a coupon valid at `now`; CouponError says why not."""
    parts = text.strip().split(":")
    if len(parts) != 6 or parts[0] + ":" != PREFIX or not parts[3].isdigit():
        raise CouponError("not a coupon")
    if parts[4] != kcv(key):
        raise CouponError("coupon signed by another key")
    if not hmac.compare_digest(parts[5], _mac(key, ":".join(parts[:5]))):
        raise CouponError("coupon forged or damaged")
    expiry = int(parts[3])
    if expiry and now >= expiry:
        raise CouponError("coupon expired")
    return parts[1], parts[2], expiry
