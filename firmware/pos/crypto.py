# The firmware's cryptography (docs/crypto-api.md).
#
# Each function comes from the _posnative C module when the board firmware has
# it built in, else from the pure-MicroPython implementation -- per function,
# so a C module that lacks one still works.  Callers import only pos.crypto.
from pos import crypto_pure as _pure

CryptoError = _pure.CryptoError

try:
    import _posnative as _native
except ImportError:
    _native = None

NAMES = ("des_encrypt", "des_decrypt", "des_cbc_encrypt", "des_cbc_decrypt",
         "aes_encrypt", "aes_decrypt", "aes_cbc_encrypt", "aes_cbc_decrypt",
         "mac_iso9797_1", "aes_cmac", "pinblock_build", "pinblock_parse",
         "pinblock4_encipher", "pinblock4_decipher", "emv_derive_icc_mk",
         "emv_session_key", "emv_mac", "emv_arpc1", "emv_arpc2", "rsa_public",
         "sha1", "sha256", "crc16_ccitt_false", "luhn_valid", "luhn_digit")

BACKEND = {}
_g = globals()
for _name in NAMES:
    _fn = getattr(_native, _name, None) if _native else None
    BACKEND[_name] = "native" if _fn else "pure"
    _g[_name] = _fn or getattr(_pure, _name)
del _g, _name, _fn
