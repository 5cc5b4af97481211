"""Member QR codes: what a member's phone shows at the counter, signed by the cloud, expiring.

    text = qr.issue(member, programme, now)          # "SPM1.<number>.<expires>.<signature>"
    n, e = qr.public_numbers(programme)              # what the terminal verifies with

The signed message is "SPM1.<merchant id>.<member number>.<expires, Unix seconds>" (ASCII);
the signature RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 8.2) under the merchant's programme key,
in URL-safe base64 without padding.  The merchant id is signed but not written in the code: a
code of one merchant does not verify at another's terminals.  The terminal holds the public key
in its member programme parameters (pos.members.qr), never a key in code.
"""
import base64
import calendar

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PREFIX = "SPM1"


def new_key_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _key(programme):
    return serialization.load_pem_private_key(programme.qr_key_pem.encode(), password=None)


def message(merchant_id, number, expires):
    return ("%s.%d.%s.%d" % (PREFIX, merchant_id, number, expires)).encode()


def issue(member, programme, now):
    """The QR text for `member`, valid until now + the programme's QR lifetime."""
    expires = calendar.timegm(now.utctimetuple()) + programme.qr_ttl_s
    sig = _key(programme).sign(message(member.merchant_id, member.number, expires), padding.PKCS1v15(),
                               hashes.SHA256())
    return "%s.%s.%d.%s" % (PREFIX, member.number, expires, base64.urlsafe_b64encode(sig).rstrip(b"=").decode())


def public_numbers(programme):
    """(modulus, exponent) of the programme's QR key as upper-case hex."""
    pub = _key(programme).public_key().public_numbers()
    return "%X" % pub.n, "%X" % pub.e
