# Coupons as signed QR codes (docs/promotions.md, "Coupons"): the text a QR code carries,
#
#     CPN1:<program>:<serial>:<expiry>:<kcv>:<mac>
#
# program: the coupons program it unlocks; serial: its number, unique for the merchant;
# expiry: seconds since 1970-01-01 store time (0: none); kcv: the first 3 bytes of SHA-256 of
# the signing key (hex), so a coupon from another key is told apart from a forged one; mac:
# the first 16 bytes of HMAC-SHA256 (RFC 2104) under the merchant's coupon key of everything
# before ":<mac>", hex.  Upper-case letters, digits and ":" only: QR alphanumeric mode.
# The key is the key store's service key "coupon" (injected like every key, never in code).
# A redeemed serial is written to flash when the sale is paid (Redeemed), so the same coupon
# is refused at the next scan; the cloud refuses a second redemption at upload.
#
#     c = read(text, key, now)              # PromoError: not a coupon, other key, forged, expired
#     used = Redeemed(); used.check(c.serial); ...; used.record(c.serial)
import hashlib

from pos import crypto
from pos.promo import COUPON_PREFIX as PREFIX
from pos.promo.engine import PromoError

USED = "coupons.used"
SERIAL = 20                  # a used-coupon record: the serial, space padded


class Coupon:
    __slots__ = ("program", "serial", "expiry", "text")

    def __init__(self, program, serial, expiry, text):
        self.program = program
        self.serial = serial
        self.expiry = expiry
        self.text = text


def _hex(b):
    return "".join("%02X" % x for x in b)


def kcv(key):
    return _hex(hashlib.sha256(bytes(key)).digest()[:3])


def _mac(key, body):
    return _hex(crypto.hmac_sha256(key, body.encode())[:16])


def date(t):
    """YYYY-MM-DD of t seconds since 1970-01-01 (civil calendar from a day count)."""
    z = t // 86400 + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return "%04d-%02d-%02d" % (yoe + era * 400 + (m <= 2), m, d)


def _token(s, what):
    if not s or len(s) > SERIAL:
        raise PromoError("coupon damaged (%s): scan again or key the sale without it" % what)
    for ch in s:
        if not ("0" <= ch <= "9" or "A" <= ch <= "Z"):
            raise PromoError("coupon damaged (%s): scan again or key the sale without it" % what)
    return s


def sign(key, program, serial, expiry):
    """The coupon's text (the terminal prints next-order coupons with it)."""
    body = "%s%s:%s:%d:%s" % (PREFIX, _token(program, "program"), _token(serial, "serial"), expiry, kcv(key))
    return body + ":" + _mac(key, body)


def read(text, key, now):
    """The Coupon in `text` once its signature, key and date hold; PromoError says why not."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise PromoError("not a coupon of this store")
    parts = text.split(":")
    if len(parts) != 6 or len(parts[4]) != 6 or len(parts[5]) != 32:
        raise PromoError("coupon damaged: scan again or key the sale without it")
    program = _token(parts[1], "program")
    serial = _token(parts[2], "serial")
    if not parts[3].isdigit():
        raise PromoError("coupon damaged (expiry): scan again or key the sale without it")
    expiry = int(parts[3])
    if parts[4] != kcv(key):
        raise PromoError("coupon of another store's key: not accepted")
    want = _mac(key, text[:len(text) - 33])
    diff = 0
    for i in range(32):                           # every byte compared, whatever the first differs
        diff |= ord(want[i]) ^ ord(parts[5][i])
    if diff:
        raise PromoError("coupon forged or damaged: not accepted")
    if expiry and now >= expiry:
        raise PromoError("coupon expired on %s" % date(expiry - 1))
    return Coupon(program, serial, expiry, text)


class Redeemed:
    """The serials of the coupons redeemed on this terminal: fixed records in a file on flash,
    searched with one record buffer."""

    def __init__(self, path=USED):
        self.path = path
        self.buf = bytearray(SERIAL)

    def _key(self, serial):
        k = bytearray(SERIAL)
        for i in range(SERIAL):
            k[i] = 32
        k[:len(serial)] = serial.encode()
        return k

    def used(self, serial):
        k = self._key(serial)
        try:
            f = open(self.path, "rb")
        except OSError:
            return False
        try:
            while f.readinto(self.buf) == SERIAL:
                if self.buf == k:
                    return True
            return False
        finally:
            f.close()

    def check(self, serial):
        if self.used(serial):
            raise PromoError("coupon %s already used: not accepted" % serial)

    def record(self, serial):
        with open(self.path, "ab") as f:
            f.write(self._key(serial))
