# TR-31 / ANSI X9.143 key blocks: parse, authenticate and open one.
#
#   kb = unwrap(kbpk, "D0144P0AE01N0000...", "A")   # KeyBlockError unless every check passes
#   kb.usage, kb.mode, kb.key_version, kb.key       # the clear key only on success
#
# Versions B (TDES key derivation binding method) and D (AES key derivation
# binding method); the key variant binding versions A and C are deprecated by
# X9.143 and refused.  Checks, in order: the block is
# ASCII and its header well formed (X9.143 key block header: fixed fields, optional blocks with
# their lengths, printable data, header a whole number of cipher blocks), the
# length field equals the length received, the KBPK suits the version, the MAC
# over header + clear payload (compared in time that does not depend on where it
# differs; a KP check value of another KBPK names that as the cause), the key
# length inside the payload, then the KC check value of the key.  Policy for a terminal slot (which usage may
# go where, replay) is pos.tms.keyinject's.
#
# The key never passes to a message, a log line or repr().
from micropython import const
from pos import crypto
from pos.store.keystore import kcv as kcv_tdes, kcv_aes

_HEADER = const(16)


class KeyBlockError(ValueError):
    """A key block was refused; `reason` names the check that refused it."""
    reason = "refused"


class KeyBlockHeaderError(KeyBlockError):
    reason = "malformed header"


class KeyBlockLengthError(KeyBlockError):
    reason = "length mismatch"


class KeyBlockVersionError(KeyBlockError):
    reason = "unsupported version"


class KeyBlockMacError(KeyBlockError):
    reason = "bad MAC"


class KeyBlockKbpkError(KeyBlockError):
    reason = "wrong KBPK"


class KeyBlockAlgorithmError(KeyBlockError):
    reason = "unsupported algorithm"


class KeyBlockUsageError(KeyBlockError):
    reason = "wrong usage"


class KeyBlockReplayError(KeyBlockError):
    reason = "replayed block"


# version id : (cipher block size, MAC length in bytes, KBPK algorithm)
_VERSIONS = {"B": (8, 8, "T"), "D": (16, 16, "A")}

# X9.143 key usage values with the modes of use allowed for each ("usage:modes", space-separated).
# Symmetric usages only: a terminal receives no asymmetric keys in TR-31.  One string, not a
# dict: each usage as a dict key would be one more name interned for good (pos.modules).
_USAGE_MODES = (" B0:X B1:X B2:X C0:CGV D0:BDE D2:BDE E0:X E1:X E2:X E3:X E4:X E5:X E6:X I0:N K0:BDE"
                " K1:BDE M0:CGV M1:CGV M2:CGV M3:CGV M4:CGV M5:CGV M6:CGV M7:CGV M8:CGV P0:BDE V0:CGV"
                " V1:CGV V2:CGV V3:CGV V4:CGV ")


def modes_for_usage(usage):
    """The modes of use X9.143 allows for key usage `usage` (a string of mode letters), or None
    for a usage a terminal cannot hold."""
    if len(usage) != 2 or not _alnum(usage):
        return None
    i = _USAGE_MODES.find(" " + usage + ":")
    if i < 0:
        return None
    return _USAGE_MODES[i + 4:_USAGE_MODES.index(" ", i + 4)]


# X9.143 key algorithm : key lengths in bytes accepted
KEY_LENGTHS = {"T": (16, 24), "A": (16, 24, 32)}
EXPORTABILITY = "ENS"       # X9.143 exportability: trusted key / not exportable / sensitive


def kcv(key, algorithm):
    """Key check value: TDES 3 bytes of TDES(key, 0) (X9.24 legacy), AES 5 bytes of CMAC."""
    return kcv_aes(key) if algorithm == "A" else kcv_tdes(key)


def _printable(s):
    for c in s:
        if not " " <= c <= "~":
            return False
    return True


def _alnum(s):
    for c in s:
        if not ("0" <= c <= "9" or "A" <= c <= "Z" or "a" <= c <= "z"):
            return False
    return True


def _hex_int(s, what):
    try:
        return int(s, 16)
    except ValueError:
        raise KeyBlockHeaderError("%s %r is not hexadecimal" % (what, s))


class KeyBlock:
    """A key block that passed every check: header fields, optional blocks, the key."""

    def __init__(self, header, optional, key, check_value):
        self.version = header[0]
        self.usage = header[5:7]
        self.algorithm = header[7]
        self.mode = header[8]
        self.key_version = header[9:11]
        self.exportability = header[11]
        self.context = header[14]
        self.optional = optional        # {"KS": "...", ...} without the pad block
        self.key = key
        self._kcv = check_value

    def kcv(self):
        """Check value of the key (bytes): 3 bytes for TDES, 5 for AES."""
        return self._kcv

    def __repr__(self):
        return "<KeyBlock %s %s%s%s v%s %s KCV %s>" % (
            self.version, self.usage, self.algorithm, self.mode, self.key_version,
            self.exportability, self.kcv().hex().upper())


def parse_header(block):
    """Check the fixed header and the optional blocks (X9.143 key block header).

    Returns (header length in characters, {block id: data}).  Raises
    KeyBlockVersionError / KeyBlockHeaderError / KeyBlockLengthError."""
    n = len(block)
    if n < _HEADER:
        raise KeyBlockLengthError("key block is %d characters, shorter than the 16-character header" % n)
    version = block[0]
    if version not in _VERSIONS:
        if version in "AC":
            raise KeyBlockVersionError("version %s (key variant binding) is deprecated by X9.143: "
                                       "send version B (TDES) or D (AES)" % version)
        raise KeyBlockVersionError("version %r is not supported: send version B (TDES) or D (AES)" % version)
    if not _alnum(block[1:_HEADER]):
        raise KeyBlockHeaderError("header %r is not alphanumeric" % block[:_HEADER])
    if not block[1:5].isdigit():
        raise KeyBlockHeaderError("length field %r is not 4 digits" % block[1:5])
    declared = int(block[1:5])
    if declared != n:
        raise KeyBlockLengthError("length field says %d characters, %d received (truncated or extended)"
                                  % (declared, n))
    usage, mode = block[5:7], block[8]
    modes = modes_for_usage(usage)
    if modes is None:
        raise KeyBlockHeaderError("key usage %s is not one a terminal can hold" % usage)
    if mode not in modes:
        raise KeyBlockHeaderError("mode of use %s is not allowed for key usage %s (allowed: %s)"
                                  % (mode, usage, ", ".join(modes)))
    if block[7] not in KEY_LENGTHS:
        raise KeyBlockHeaderError("key algorithm %s is not supported (T: TDES, A: AES)" % block[7])
    if block[11] not in EXPORTABILITY:
        raise KeyBlockHeaderError("exportability %s is not E, N or S" % block[11])
    if not block[12:14].isdigit():
        raise KeyBlockHeaderError("number of optional blocks %r is not 2 digits" % block[12:14])
    if block[14] not in "012" or block[15] != "0":
        raise KeyBlockHeaderError("key context / reserved field %r is not 00, 10 or 20" % block[14:16])
    count = int(block[12:14])
    optional = {}
    i = _HEADER
    for _ in range(count):
        if n < i + 4:
            raise KeyBlockLengthError("optional block %d runs past the end of the key block" % (len(optional) + 1))
        bid = block[i:i + 2]
        if not _alnum(bid):
            raise KeyBlockHeaderError("optional block id %r is not alphanumeric" % bid)
        ln = _hex_int(block[i + 2:i + 4], "optional block %s length" % bid)
        start = i + 4
        if ln == 0:     # extended length: length of length, then the length (X9.143 optional blocks)
            lol = _hex_int(block[start:start + 2], "optional block %s length of length" % bid) * 2
            if lol == 0 or n < start + 2 + lol:
                raise KeyBlockHeaderError("optional block %s has a bad extended length" % bid)
            ln = _hex_int(block[start + 2:start + 2 + lol], "optional block %s length" % bid)
            start += 2 + lol
        if ln < start - i:
            raise KeyBlockHeaderError("optional block %s length %d is shorter than its own id and length"
                                      % (bid, ln))
        end = i + ln
        if end > n:
            raise KeyBlockLengthError("optional block %s (%d characters) runs past the end of the key block"
                                      % (bid, ln))
        data = block[start:end]
        if not _printable(data):
            raise KeyBlockHeaderError("optional block %s data is not printable ASCII" % bid)
        if bid in optional or (bid == "PB" and count != len(optional) + 1):
            raise KeyBlockHeaderError("optional block %s repeated or out of place" % bid)
        if bid != "PB":
            optional[bid] = data
        i = end
    size = _VERSIONS[version][0]
    if count and i % size:
        raise KeyBlockHeaderError("header is %d characters, not a multiple of %d (pad block missing)"
                                  % (i, size))
    return i, optional


def _check_value(opt, name, key, algorithm):
    """Optional block KP / KC: '00' + legacy KCV or '01' + CMAC KCV (X9.143 optional blocks KC, KP)."""
    v = opt.get(name)
    if v is None:
        return True
    if len(v) < 4 or v[:2] not in ("00", "01"):
        raise KeyBlockHeaderError("optional block %s %r is not a check value" % (name, v))
    if v[:2] == "01":
        want = kcv_aes(key) if algorithm == "A" else _tdes_cmac_whole(key, bytearray(8))[:5]
    else:
        want = crypto.des_encrypt(key, bytes(8))[:3] if algorithm == "T" else crypto.aes_encrypt(key, bytes(16))[:3]
    return v[2:].upper() == want.hex().upper()[:len(v) - 2]


def _equal(a, b):
    """Compare MACs in time independent of where they differ."""
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0


def _tdes_cmac_k1(key):
    """CMAC subkey K1 for the 64-bit block cipher (NIST SP 800-38B 6.1, Rb = 0x1B)."""
    s = crypto.des_encrypt(key, bytes(8))
    k1 = bytearray(8)
    carry = 0
    for i in range(7, -1, -1):
        k1[i] = ((s[i] << 1) | carry) & 0xFF
        carry = s[i] >> 7
    if carry:
        k1[7] ^= 0x1B
    return k1


def _tdes_cmac_whole(key, buf):
    """TDES-CMAC of `buf` (a whole number of 8-byte blocks, altered in place): CBC-MAC
    after the last block is XORed with K1 (SP 800-38B 6.2)."""
    k1 = _tdes_cmac_k1(key)
    o = len(buf) - 8
    for i in range(8):
        buf[o + i] ^= k1[i]
    return crypto.mac_iso9797_1(key, buf, 1, 1)


def _derive(kbpk, version):
    """KBEK, KBAK from the KBPK (X9.143 key derivation binding: CMAC over counter | usage | 00 | algorithm | length)."""
    n = len(kbpk)
    dd = bytearray(8)
    if version == "B":
        dd[5] = 0 if n == 16 else 1                     # 0000 2-key TDES, 0001 3-key TDES
        dd[7] = 0x80 if n == 16 else 0xC0
        parts = n // 8
    else:
        dd[5] = {16: 2, 24: 3, 32: 4}[n]                # 0002/0003/0004 AES-128/192/256
        dd[6], dd[7] = (n * 8) >> 8, (n * 8) & 0xFF
        parts = 1 if n == 16 else 2
    kbek = bytearray()
    kbak = bytearray()
    for counter in range(1, parts + 1):
        dd[0] = counter
        for usage, out in ((0, kbek), (1, kbak)):
            dd[2] = usage
            if version == "B":
                out.extend(_tdes_cmac_whole(kbpk, bytearray(dd)))
            else:
                out.extend(crypto.aes_cmac(kbpk, dd))
    return bytes(kbek[:n]), bytes(kbak[:n])


def unwrap(kbpk, block, kbpk_algorithm):
    """Authenticate and open a TR-31 key block under `kbpk` ('T' TDES or 'A' AES).

    `block` is the key block as text (str or ASCII bytes).  Returns a KeyBlock
    whose `key` is the clear key; raises a KeyBlockError subclass otherwise."""
    if not isinstance(block, str):
        try:
            block = bytes(block).decode()
        except (UnicodeError, TypeError):
            raise KeyBlockHeaderError("key block is not ASCII text")
    hlen, optional = parse_header(block)
    version = block[0]
    size, maclen, kalg = _VERSIONS[version]
    n = len(block)
    if n % size:
        raise KeyBlockLengthError("key block is %d characters, not a multiple of %d for version %s"
                                  % (n, size, version))
    body = n - hlen - 2 * maclen
    if body < 2 * size or body % (2 * size):
        raise KeyBlockLengthError("encrypted key data is %d characters (want a non-zero multiple of %d)"
                                  % (max(body, 0), 2 * size))
    if kbpk_algorithm != kalg:
        raise KeyBlockKbpkError("version %s needs a %s KBPK; this terminal's KEK is %s"
                                % (version, "TDES" if kalg == "T" else "AES",
                                   "TDES" if kbpk_algorithm == "T" else "AES"))
    if len(kbpk) not in ((16, 24) if kalg == "T" else (16, 24, 32)):
        raise KeyBlockKbpkError("KBPK of %d bytes does not suit version %s" % (len(kbpk), version))
    try:
        enc = bytes.fromhex(block[hlen:hlen + body])
        mac = bytes.fromhex(block[hlen + body:])
    except ValueError:
        raise KeyBlockHeaderError("encrypted key data or MAC is not hexadecimal")
    try:
        kbek, kbak = _derive(kbpk, version)
        if version == "B":
            clear = crypto.des_cbc_decrypt(kbek, mac, enc)
        else:
            clear = crypto.aes_cbc_decrypt(kbek, mac, enc)
    except crypto.CryptoError as e:     # AES-192 without _posnative (docs/crypto-api.md)
        raise KeyBlockKbpkError("this firmware cannot use a %d-byte KBPK: %s" % (len(kbpk), e))
    buf = bytearray(hlen + len(clear))
    for i in range(hlen):
        buf[i] = ord(block[i])
    buf[hlen:] = clear
    if version == "B":
        want = _tdes_cmac_whole(kbak, buf)
    else:
        want = crypto.aes_cmac(kbak, buf)
    same_kbpk = _check_value(optional, "KP", kbpk, kalg)
    if not _equal(want, mac):
        # KP is not authenticated until the MAC is: it only names the likelier cause
        if not same_kbpk:
            raise KeyBlockKbpkError("block was made under another KBPK (KP check value differs): "
                                    "load this terminal's KEK or wrap under it")
        raise KeyBlockMacError("key block MAC does not verify: altered in transit or wrapped under another KEK")
    if not same_kbpk:
        raise KeyBlockHeaderError("KP check value does not match the KBPK the block verifies under")
    bits = (clear[0] << 8) | clear[1]
    klen = bits >> 3
    alg = block[7]
    if bits & 7 or klen not in KEY_LENGTHS[alg] or klen > len(clear) - 2:
        raise KeyBlockLengthError("key length field says %d bits, not a %s key length that fits the block"
                                  % (bits, "TDES" if alg == "T" else "AES"))
    key = bytes(clear[2:2 + klen])
    try:
        cv = kcv(key, alg)
    except crypto.CryptoError as e:     # an AES-192 key without _posnative
        raise KeyBlockAlgorithmError("this firmware cannot use a %d-byte %s key: %s"
                                     % (klen, "AES" if alg == "A" else "TDES", e))
    if not _check_value(optional, "KC", key, alg):
        raise KeyBlockMacError("key check value (KC) does not match the key in the block")
    return KeyBlock(block[:_HEADER], optional, key, cv)
