# All of the pure-MicroPython crypto in one namespace (tests, benches, tools).
# Firmware imports pos.crypto, which loads only the parts a caller uses.
from pos.crypto.args import CryptoError  # noqa: F401
from pos.crypto.des import (des_encrypt, des_decrypt, des_cbc_encrypt,  # noqa: F401
                            des_cbc_decrypt, mac_iso9797_1)
from pos.crypto.aes import (aes_encrypt, aes_decrypt, aes_cbc_encrypt,  # noqa: F401
                            aes_cbc_decrypt, aes_cmac, pinblock4_encipher, pinblock4_decipher)
from pos.crypto.pin import pinblock_build, pinblock_parse  # noqa: F401
from pos.crypto.emv import (emv_derive_icc_mk, emv_session_key, emv_mac,  # noqa: F401
                            emv_arpc1, emv_arpc2)
from pos.crypto.misc import (rsa_public, sha1, sha256, crc16_ccitt_false,  # noqa: F401
                             luhn_valid, luhn_digit)
