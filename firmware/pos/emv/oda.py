# Offline data authentication, EMV 4.4 Book 2: public key certificate recovery
# (section 5 / 6.1-6.4), SDA (5.4), DDA (6.5) and CDA (6.6).  RSA and SHA-1 come
# from pos.crypto (the C module when built in, pure MicroPython otherwise).
from pos import crypto
from pos.emv import tlv


class OdaFailure(Exception):
    """ODA failed; `missing` is True when ICC data needed for it was absent (TVR b6)."""

    def __init__(self, message, missing=False):
        super().__init__(message)
        self.missing = missing


def _ndigits(b, i, end):
    """How many BCD digits b[i:end] holds before its first F pad nibble."""
    n = 0
    while i < end:
        x = b[i]
        if x >= 0xF0:
            return n
        if x & 0x0F == 0x0F:
            return n + 1
        n += 2
        i += 1
    return n


def _same_digits(a, i, b, n):
    """The first n BCD digits of a[i:] and of b are the same (compared as bytes, no strings:
    every string made is a search of the interned-name pool)."""
    k = n >> 1
    for j in range(k):
        if a[i + j] != b[j]:
            return False
    return not n & 1 or (a[i + k] >> 4) == (b[k] >> 4)


def _expired(mmyy, today):
    """Certificate expiry MMYY (valid through the month) before today's YYMMDD."""
    mm = (mmyy[0] >> 4) * 10 + (mmyy[0] & 15)
    yy = (mmyy[1] >> 4) * 10 + (mmyy[1] & 15)
    ty = (today[0] >> 4) * 10 + (today[0] & 15)
    tm = (today[1] >> 4) * 10 + (today[1] & 15)
    if not 1 <= mm <= 12:
        return True
    # two-digit years: 50..99 are 19xx (Book 4 6.7.3)
    yy += 1900 if yy >= 50 else 2000
    ty += 1900 if ty >= 50 else 2000
    return (yy, mm) < (ty, tm)


def _recover(modulus, exponent, cert, what):
    if cert is None:
        raise OdaFailure("%s missing" % what, True)
    if len(cert) != len(modulus):
        raise OdaFailure("%s length %d does not match key length %d" % (what, len(cert), len(modulus)))
    try:
        r = crypto.rsa_public(modulus, exponent, cert)
    except ValueError as exc:
        raise OdaFailure("%s does not recover: %s" % (what, exc))
    # Book 2 5.3 / 6.3 step 2 and 4: header 6A, trailer BC
    if r[0] != 0x6A or r[-1] != 0xBC:
        raise OdaFailure("%s: recovered data header/trailer wrong (%02X..%02X)" % (what, r[0], r[-1]))
    return r


def _check_hash(r, extra, what):
    # hash over the recovered fields between header and hash, then `extra` parts
    n = len(r)
    h = crypto.sha1_of((memoryview(r)[1:n - 21],) + tuple(extra))
    if h != bytes(r[n - 21:n - 1]):
        raise OdaFailure("%s: hash result does not match" % what)


def issuer_key(cfg, rid, card, today):
    """Recover the Issuer Public Key (Book 2 6.3 / 5.3): (modulus, exponent)."""
    idx = card.get(0x8F)
    if idx is None or len(idx) != 1:
        raise OdaFailure("CA public key index (8F) missing", True)
    ca = cfg.ca_key(rid, idx[0])
    if ca is None:
        raise OdaFailure("no CA public key %s/%02X in the terminal" % (bytes(rid).hex().upper(), idx[0]))
    exp = card.get(0x9F32)
    if exp is None:
        raise OdaFailure("issuer public key exponent (9F32) missing", True)
    r = _recover(ca.modulus, ca.exponent, card.get(0x90), "issuer certificate (90)")
    n_ca = len(ca.modulus)
    if r[1] != 0x02:
        raise OdaFailure("issuer certificate format %02X (want 02)" % r[1])
    n_i = r[13]
    rem = card.get(0x92)
    if n_i > n_ca - 36 and rem is None:
        raise OdaFailure("issuer public key remainder (92) missing", True)
    _check_hash(r, (rem or b"", exp), "issuer certificate")
    # issuer identifier = leftmost 3-8 PAN digits (Book 2 6.3 step 8)
    pan = card.get(0x5A) or b""
    nd = _ndigits(r, 2, 6)
    if nd < 3 or nd > _ndigits(pan, 0, len(pan)) or not _same_digits(r, 2, pan, nd):
        raise OdaFailure("issuer identifier does not match the PAN")
    if _expired(r[6:8], today):
        raise OdaFailure("issuer certificate expired (%s)" % bytes(r[6:8]).hex())
    if (bytes(rid), idx[0], bytes(r[8:11])) in cfg.revoked:
        raise OdaFailure("issuer certificate serial %s is revoked" % bytes(r[8:11]).hex().upper())
    if r[12] != 0x01:
        raise OdaFailure("issuer public key algorithm %02X not supported" % r[12])
    if n_i <= n_ca - 36:
        mod = bytes(r[15:15 + n_i])
    else:
        mod = bytes(r[15:n_ca - 21]) + rem
    if len(mod) != n_i:
        raise OdaFailure("issuer public key length inconsistent")
    return mod, exp


def icc_key(issuer, card, static_data, today, cert_tag=0x9F46, exp_tag=0x9F47, rem_tag=0x9F48):
    """Recover the ICC (or ICC PIN encipherment, 9F2D) public key (Book 2 6.4, 7.1)."""
    mod_i, exp_i = issuer
    exp = card.get(exp_tag)
    what = "ICC certificate (9F46)" if cert_tag == 0x9F46 else "ICC certificate (%X)" % cert_tag
    if exp is None:
        raise OdaFailure("ICC public key exponent (%X) missing" % exp_tag, True)
    r = _recover(mod_i, exp_i, card.get(cert_tag), what)
    n = len(mod_i)
    if r[1] != 0x04:
        raise OdaFailure("%s format %02X (want 04)" % (what, r[1]))
    n_icc = r[19]
    rem = card.get(rem_tag)
    if n_icc > n - 42 and rem is None:
        raise OdaFailure("ICC public key remainder (%X) missing" % rem_tag, True)
    extra = [rem or b"", exp]
    if static_data is not None:
        extra.append(static_data)
    _check_hash(r, extra, what)
    pan = card.get(0x5A) or b""
    nd = _ndigits(r, 2, 12)
    if nd != _ndigits(pan, 0, len(pan)) or not _same_digits(r, 2, pan, nd):
        raise OdaFailure("%s: PAN does not match the card's PAN" % what)
    if _expired(r[12:14], today):
        raise OdaFailure("%s expired (%s)" % (what, bytes(r[12:14]).hex()))
    if r[18] != 0x01:
        raise OdaFailure("ICC public key algorithm %02X not supported" % r[18])
    if n_icc <= n - 42:
        mod = bytes(r[21:21 + n_icc])
    else:
        mod = bytes(r[21:n - 21]) + rem
    if len(mod) != n_icc:
        raise OdaFailure("ICC public key length inconsistent")
    return mod, exp


def verify_sda(issuer, card, static_data):
    """Verify Signed Static Application Data (93); returns the Data Authentication Code."""
    mod_i, exp_i = issuer
    r = _recover(mod_i, exp_i, card.get(0x93), "signed static application data (93)")
    if r[1] != 0x03:
        raise OdaFailure("signed static data format %02X (want 03)" % r[1])
    _check_hash(r, (static_data,), "signed static application data")
    return bytes(r[3:5])


def verify_dynamic(icc, sdad, extra, what="signed dynamic application data"):
    """Recover Signed Dynamic Application Data (9F4B) and check its hash; returns ICC Dynamic Data."""
    mod, exp = icc
    r = _recover(mod, exp, sdad, what)
    if r[1] != 0x05:
        raise OdaFailure("%s format %02X (want 05)" % (what, r[1]))
    ldd = r[3]
    if ldd > len(r) - 25:
        raise OdaFailure("%s: dynamic data length %d too long" % (what, ldd))
    _check_hash(r, extra, what)
    return bytes(r[4:4 + ldd])


def dda_response(data):
    """9F4B from an INTERNAL AUTHENTICATE response, format 1 (80) or 2 (77) (Book 3 6.5.9)."""
    try:
        for tag, s, e, cons in tlv.tlv_iter(data):
            if tag == 0x80:
                return bytes(data[s:e])
            if tag == 0x77:
                return tlv.tlv_find(data, 0x9F4B)
    except ValueError:
        pass
    return None


def cda_check(icc, sdad, un, cid, hash_input):
    """Book 2 6.6.2: verify the GENERATE AC signature; return (ICC dynamic number, AC)."""
    if sdad is None:
        raise OdaFailure("GENERATE AC response without signature (9F4B)", True)
    dd = verify_dynamic(icc, sdad, (un,), "CDA signature")
    n = dd[0] if dd else 0
    if len(dd) < n + 30:
        raise OdaFailure("CDA dynamic data too short")
    if dd[1 + n] != cid:
        raise OdaFailure("CDA: signed CID %02X differs from the response's %02X" % (dd[1 + n], cid))
    if crypto.sha1(hash_input) != dd[10 + n:30 + n]:
        raise OdaFailure("CDA: transaction data hash code does not match")
    return dd[1:1 + n], dd[2 + n:10 + n]
