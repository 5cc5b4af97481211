# The device key: what the key store on flash is sealed under (docs/keys-at-rest.md).
#
# Derived with HKDF-SHA256 (RFC 5869) from the key-encryption key (KEK) written into OTP at
# manufacture and the MCU's 96-bit unique id (salt): a key store copied to another board, or
# read off a board whose OTP differs, does not open.  Sealing is encrypt-then-MAC: AES-128-CBC
# under one derived key, HMAC-SHA256 over header, IV and ciphertext under another.
#
#     dk = devicekey.from_board()
#     blob = dk.seal(b"...")           # bytes for flash
#     dk.open(blob)                    # the plaintext, or KeyStoreError
import os

from micropython import const

from pos import crypto

MAGIC = b"SPKS\x01"            # smartpos key store, format 1
_IV = const(16)
_TAG = const(32)
KEK_LEN = const(32)


class DeviceKeyError(ValueError):
    """The device key cannot be made, or a sealed blob does not open under it."""


class DeviceKey:
    def __init__(self, uid, kek):
        uid = bytes(uid)
        kek = bytes(kek)
        if len(uid) < 8:
            raise DeviceKeyError("board unique id too short (%d bytes)" % len(uid))
        if len(kek) != KEK_LEN or kek == b"\xff" * KEK_LEN or kek == bytes(KEK_LEN):
            raise DeviceKeyError("no key-encryption key in OTP: the board missed that manufacturing step")
        okm = crypto.hkdf_sha256(kek, uid, b"smartpos key store v1", 48)
        self._enc = okm[:16]
        self._mac = okm[16:]

    def seal(self, data):
        iv = os.urandom(_IV)
        n = 16 - len(data) % 16                              # PKCS#7 padding (RFC 5652 6.3)
        ct = crypto.aes_cbc_encrypt(self._enc, iv, bytes(data) + bytes((n,)) * n)
        body = MAGIC + iv + ct
        return body + crypto.hmac_sha256(self._mac, body)

    def open(self, blob):
        blob = bytes(blob)
        if blob[:len(MAGIC)] != MAGIC:
            raise DeviceKeyError("not a sealed key store (unknown format)")
        if len(blob) < len(MAGIC) + _IV + 16 + _TAG or (len(blob) - len(MAGIC) - _IV - _TAG) % 16:
            raise DeviceKeyError("sealed key store is truncated")
        body = blob[:-_TAG]
        if not _same(crypto.hmac_sha256(self._mac, body), blob[-_TAG:]):
            raise DeviceKeyError("sealed key store does not authenticate: altered, or sealed on another board")
        iv = body[len(MAGIC):len(MAGIC) + _IV]
        pt = crypto.aes_cbc_decrypt(self._enc, iv, body[len(MAGIC) + _IV:])
        n = pt[-1]
        if not 1 <= n <= 16 or pt[-n:] != bytes((n,)) * n:
            raise DeviceKeyError("sealed key store padding is wrong")
        return pt[:-n]


def _same(a, b):
    """Compare two MACs in time that does not depend on where they differ."""
    d = len(a) ^ len(b)
    for x, y in zip(a, b):
        d |= x ^ y
    return d == 0


def from_board():
    """The device key of this board: its unique id and the KEK in OTP (BOARD.KEK_OTP)."""
    import machine
    from pos.board import BOARD
    try:
        uid = machine.unique_id()
    except AttributeError:
        raise DeviceKeyError("this port gives no machine.unique_id(): run on the board or the virtual board")
    mem = machine.mem8
    kek = bytes(mem[BOARD.KEK_OTP + i] for i in range(KEK_LEN))
    return DeviceKey(uid, kek)
