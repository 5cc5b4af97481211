# The firmware's cryptography (docs/crypto-api.md).
#
# Each function comes from the _posnative C module when the board firmware has
# it built in, else from the pure-MicroPython module that implements it --
# per function, so a C module that lacks one still works.  DES and the
# ISO 9797-1 MACs (every host message) load with this module; the rest load on
# first use, so a firmware that never verifies a certificate spends no heap
# on RSA.  Callers import only pos.crypto.
from pos.crypto.args import CryptoError  # noqa: F401
from pos.crypto.des import (des_encrypt, des_decrypt, des_cbc_encrypt,  # noqa: F401
                            des_cbc_decrypt, mac_iso9797_1)

try:
    import _posnative as _native
except ImportError:
    _native = None

# pure module (pos.crypto.<suffix>) : the functions it provides
_LAZY = (("aes", "aes_encrypt aes_decrypt aes_cbc_encrypt aes_cbc_decrypt aes_cmac "
                 "pinblock4_encipher pinblock4_decipher"),
         ("pin", "pinblock_build pinblock_parse"),
         ("emv", "emv_derive_icc_mk emv_session_key emv_mac emv_arpc1 emv_arpc2"),
         ("misc", "rsa_public sha1 sha1_of sha256 crc16_ccitt_false luhn_valid luhn_digit"),
         ("kdf", "hmac_sha256 hkdf_sha256 pbkdf2_hmac_sha256"))


def backend(name):
    """'native' or 'pure': where `name` comes from on this firmware."""
    return "native" if _native is not None and hasattr(_native, name) else "pure"


def __getattr__(name):
    fn = getattr(_native, name, None) if _native is not None else None
    if fn is None:
        for suffix, names in _LAZY:
            if name in names.split():
                fn = getattr(__import__("pos.crypto." + suffix, None, None, (name,)), name)
                break
        else:
            raise AttributeError(name)
    globals()[name] = fn
    return fn


if _native is not None:
    for _n in ("des_encrypt", "des_decrypt", "des_cbc_encrypt", "des_cbc_decrypt", "mac_iso9797_1"):
        if hasattr(_native, _n):
            globals()[_n] = getattr(_native, _n)
