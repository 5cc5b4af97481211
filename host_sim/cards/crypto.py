"""Card-side cryptography of the TEST cards: RSA keys and EMV Book 2 certificates, and the
application cryptograms (EMV Book 2 8.1, common session key derivation A1.3, ARPC
methods 1 and 2, secure messaging MAC 9.2) on pyemv's primitives.

Written from the card's point of view, independently of the acquirer simulator's HSM
(host_sim/hosts/acquirer/hsm.py), so that a transaction proves the two agree.
"""
import hashlib

from cryptography.hazmat.primitives.asymmetric import rsa
from pyemv import ac as pac
from pyemv import kd as pkd
from pyemv import mac as pmac


def sha1(b):
    return hashlib.sha1(b).digest()


class RsaKey:
    """An RSA key pair (public exponent 3 unless said otherwise)."""

    def __init__(self, bits=None, e=3, n=None, d=None):
        if n is None:
            k = rsa.generate_private_key(public_exponent=e, key_size=bits)
            pn = k.private_numbers()
            n, d = pn.public_numbers.n, pn.d
        self.n, self.e, self.d = n, e, d
        self.size = (n.bit_length() + 7) // 8

    @property
    def modulus(self):
        return self.n.to_bytes(self.size, "big")

    @property
    def exponent(self):
        return b"\x03" if self.e == 3 else self.e.to_bytes(3, "big")

    def private(self, m):
        """The private operation (signing / decipherment); the terminal does the public one."""
        if len(m) != self.size:
            raise ValueError("RSA input must be %d bytes" % self.size)
        return pow(int.from_bytes(m, "big"), self.d, self.n).to_bytes(self.size, "big")


def _digits(s, nbytes):
    return bytes.fromhex(s + "F" * (nbytes * 2 - len(s)))


def issuer_certificate(ca, issuer, issuer_id, expiry_mmyy, serial, tamper=False):
    """Issuer Public Key Certificate (90) and remainder (92): EMV Book 2 Table 6."""
    n = ca.size
    lead, rem = issuer.modulus[:n - 36], issuer.modulus[n - 36:]
    lead += b"\xbb" * (n - 36 - len(lead))
    body = (b"\x02" + _digits(issuer_id, 4) + bytes.fromhex(expiry_mmyy) + serial + b"\x01\x01"
            + bytes([issuer.size, len(issuer.exponent)]) + lead)
    h = sha1(body + rem + issuer.exponent)
    if tamper:
        h = bytes(a ^ 0xFF for a in h)
    return ca.private(b"\x6a" + body + h + b"\xbc"), rem


def icc_certificate(issuer, icc, pan, expiry_mmyy, static_data, serial=b"\x00\x00\x01"):
    """ICC (or ICC PIN encipherment) Public Key Certificate and remainder: Book 2 Table 14."""
    n = issuer.size
    lead, rem = icc.modulus[:n - 42], icc.modulus[n - 42:]
    lead += b"\xbb" * (n - 42 - len(lead))
    body = (b"\x04" + _digits(pan, 10) + bytes.fromhex(expiry_mmyy) + serial + b"\x01\x01"
            + bytes([icc.size, len(icc.exponent)]) + lead)
    h = sha1(body + rem + icc.exponent + (static_data or b""))
    return issuer.private(b"\x6a" + body + h + b"\xbc"), rem


def signed_static_data(issuer, static_data, dac=b"\xda\xc1"):
    """Signed Static Application Data (93): Book 2 Table 7."""
    n = issuer.size
    body = b"\x03\x01" + dac + b"\xbb" * (n - 26)
    return issuer.private(b"\x6a" + body + sha1(body + static_data) + b"\xbc")


def signed_dynamic_data(icc, dynamic, terminal_data):
    """Signed Dynamic Application Data (9F4B): Book 2 Table 17 / 22 (format 05)."""
    n = icc.size
    body = b"\x05\x01" + bytes([len(dynamic)]) + dynamic
    body += b"\xbb" * (n - 22 - len(body))
    return icc.private(b"\x6a" + body + sha1(body + terminal_data) + b"\xbc")


# ---------------------------------------------------------------- application cryptograms
AC_TAGS = (0x9F02, 0x9F03, 0x9F1A, 0x95, 0x5F2A, 0x9A, 0x9C, 0x9F37, 0x82, 0x9F36)
AC_LEN = {0x9F02: 6, 0x9F03: 6, 0x9F1A: 2, 0x95: 5, 0x5F2A: 2, 0x9A: 3, 0x9C: 1, 0x9F37: 4, 0x82: 2, 0x9F36: 2}


class Cryptograms:
    """One card's cryptogram keys and rules for its CVN (see the profile's "cvn")."""

    def __init__(self, cvn, imk_ac, pan, psn, imk_smi=None, imk_smc=None):
        self.cvn = cvn
        self.mk = pkd.derive_icc_mk_a(imk_ac, pan, psn)
        self.mk_smi = pkd.derive_icc_mk_a(imk_smi, pan, psn) if imk_smi else None
        self.mk_smc = pkd.derive_icc_mk_a(imk_smc, pan, psn) if imk_smc else None

    def iad(self, cvr, counters=b"\x00" * 8):
        """Issuer Application Data (9F10) in the scheme family's layout."""
        if self.cvn in (16, 17):
            return b"\x01" + bytes([0x10 if self.cvn == 16 else 0x11]) + bytes(cvr[:6]).ljust(6, b"\0") + b"\x5a\x5a" + counters
        v = {10: 0x0A, 18: 0x12, 1: 0x01}[self.cvn]
        return bytes([0x06, 0x01, v]) + cvr[:4]

    def _key(self, atc):
        if self.cvn == 10:
            return self.mk, pac.PaddingType.VISA
        return pkd.derive_common_sk(self.mk, atc + b"\x00" * 6), pac.PaddingType.EMV

    def ac_data(self, values, iad):
        out = b"".join(values.get(t, bytes(AC_LEN[t])) for t in AC_TAGS)
        if self.cvn in (16, 17):
            out += iad[2:8] + (iad[10:18] if self.cvn == 16 else b"")
        elif self.cvn in (10, 1):
            out += iad[3:7]
        else:
            out += iad
        return out

    def generate(self, values, iad):
        key, pad = self._key(values[0x9F36])
        return pac.generate_ac(key, self.ac_data(values, iad), pad)

    def check_arpc(self, arqc, atc, issuer_auth_data):
        """Issuer authentication (EXTERNAL AUTHENTICATE or 2nd GENERATE AC): True if 91 is right."""
        key, _ = self._key(atc)
        if self.cvn == 18:                          # method 2: ARPC(4) CSU(4) [prop. data]
            if len(issuer_auth_data) < 8:
                return False
            arpc, csu, prop = issuer_auth_data[:4], issuer_auth_data[4:8], issuer_auth_data[8:]
            return arpc == pac.generate_arpc_2(key, arqc, csu, prop or None)
        if len(issuer_auth_data) != 10:             # method 1: ARPC(8) ARC(2)
            return False
        return issuer_auth_data[:8] == pac.generate_arpc_1(key, arqc, issuer_auth_data[8:])

    def script_mac_ok(self, header, data, mac, atc, arqc):
        """Secure messaging for issuer scripts (Book 2 9.2): MAC over the command header,
        ATC, ARQC and the command data, session key from MK-SMI, ISO 9797-1 algorithm 3."""
        if self.mk_smi is None:
            return True
        sk = pkd.derive_common_sk(self.mk_smi, arqc[:8] if arqc else bytes(8))
        want = pmac.mac_iso9797_3(sk[:8], sk[8:], header + atc + (arqc or bytes(8)) + data,
                                  2)         # padding method 2
        return want[:len(mac)] == mac
