# The member QR a customer's phone shows (docs/members.md, "Member QR"):
#
#     SPM1.<member number>.<expires, Unix seconds>.<signature, URL-safe base64 unpadded>
#
# signed by the cloud with RSASSA-PKCS1-v1_5 / SHA-256 (RFC 8017 8.2.2) over
# "SPM1.<merchant id>.<member number>.<expires>": the merchant id is in the signed message
# only, so a code of another merchant (or signed by any other key) does not verify here.
#
#     number = qr.member_number(text, programme, now_unix)    # or MemberError
import binascii
import hashlib

from pos import crypto
from pos.members import MemberError

PREFIX = "SPM1."
# DER DigestInfo of SHA-256 (RFC 8017 9.2, note 1)
_SHA256_INFO = b"\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20"


def is_member_qr(text):
    return text.startswith(PREFIX)


def _b64url(s):
    s = s.replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(s + "=" * (-len(s) % 4))


def _signed_by(n, e, digest, sig):
    """EMSA-PKCS1-v1_5 check of `sig` for `digest` under the public key (n, e) (RFC 8017 8.2.2)."""
    k = len(n)
    if len(sig) != k or sig >= n:
        return False
    em = crypto.rsa_public(n, e, sig)
    pad = k - 3 - len(_SHA256_INFO) - len(digest)
    if pad < 8 or em[0] != 0 or em[1] != 1 or em[2 + pad] != 0:
        return False
    for i in range(2, 2 + pad):
        if em[i] != 0xFF:
            return False
    return em[3 + pad:] == _SHA256_INFO + digest


def member_number(text, programme, now):
    """The member number of a member QR that verifies and has not expired at `now` (Unix s)."""
    parts = text.split(".")
    if len(parts) != 4 or parts[0] + "." != PREFIX or not parts[1].isdigit() or not parts[2].isdigit():
        raise MemberError("not a member QR code")
    try:
        sig = _b64url(parts[3])
        n = binascii.unhexlify(_even(programme.qr_key_n))
        e = binascii.unhexlify(_even(programme.qr_key_e))
    except ValueError:
        raise MemberError("member QR code damaged")
    msg = "%s%d.%s.%s" % (PREFIX, programme.merchant_id, parts[1], parts[2])
    if not _signed_by(n, e, hashlib.sha256(msg.encode()).digest(), sig):
        raise MemberError("QR not signed by this shop")
    if int(parts[2]) < now:
        raise MemberError("member QR expired, refresh")
    return parts[1]


def _even(h):
    return "0" + h if len(h) % 2 else h
