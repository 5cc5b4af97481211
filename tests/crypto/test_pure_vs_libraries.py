"""The pure-MicroPython crypto (run on real MicroPython) against independent
host libraries (cryptography, psec, pyemv) on random inputs, plus known-answer
vectors from the standards and bad-input checks."""
import hashlib
import random
import warnings

import psec
import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pyemv import ac, kd
from pyemv import mac as emac

from tests.crypto.mpcrypto import call_many

warnings.filterwarnings("ignore", category=Warning, module="psec")
rnd = random.Random(20261122)


def rbytes(n):
    return bytes(rnd.getrandbits(8) for _ in range(n))


def digits(n):
    return "".join(rnd.choice("0123456789") for _ in range(n))


def tdes(key):
    return TripleDES(key * 3 if len(key) == 8 else key)


def ecb(alg, data, decrypt=False):
    c = Cipher(alg, modes.ECB())
    x = c.decryptor() if decrypt else c.encryptor()
    return x.update(data) + x.finalize()


def cbc(alg, iv, data, decrypt=False):
    c = Cipher(alg, modes.CBC(iv))
    x = c.decryptor() if decrypt else c.encryptor()
    return x.update(data) + x.finalize()


def check(cases):
    """cases: [(name, args, expected)]; run all on MicroPython, compare."""
    got = call_many([(n, a) for n, a, _ in cases])
    bad = [(n, a, e, g) for (n, a, e), g in zip(cases, got) if g != e]
    assert not bad, "first mismatches: %r" % bad[:3]


def test_des_tdes_ecb_cbc_random():
    cases = []
    for _ in range(40):
        key = rbytes(rnd.choice((8, 16, 24)))
        data = rbytes(8 * rnd.randint(1, 6))
        iv = rbytes(8)
        cases.append(("des_encrypt", [key, data], ecb(tdes(key), data)))
        cases.append(("des_decrypt", [key, data], ecb(tdes(key), data, True)))
        cases.append(("des_cbc_encrypt", [key, iv, data], cbc(tdes(key), iv, data)))
        cases.append(("des_cbc_decrypt", [key, iv, data], cbc(tdes(key), iv, data, True)))
    check(cases)


def test_des_known_answer_fips():
    # FIPS 81 / SP 800-17 style single-DES vector: key 0123456789ABCDEF
    check([("des_encrypt", [bytes.fromhex("0123456789ABCDEF"), b"Now is t"],
            bytes.fromhex("3FA40E8A984D4815"))])


def test_aes_random_and_fips197():
    cases = [("aes_encrypt", [bytes.fromhex("000102030405060708090a0b0c0d0e0f"),
                              bytes.fromhex("00112233445566778899aabbccddeeff")],
              bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a"))]          # FIPS 197 C.1
    for _ in range(20):
        key = rbytes(rnd.choice((16, 32)))      # cryptolib: no AES-192 (see the error test)
        data = rbytes(16 * rnd.randint(1, 4))
        iv = rbytes(16)
        cases.append(("aes_encrypt", [key, data], ecb(algorithms.AES(key), data)))
        cases.append(("aes_cbc_encrypt", [key, iv, data], cbc(algorithms.AES(key), iv, data)))
        cases.append(("aes_cbc_decrypt", [key, iv, data], cbc(algorithms.AES(key), iv, data, True)))
    check(cases)


def test_aes_cmac_random_and_sp800_38b():
    k = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    cases = [("aes_cmac", [k, b""], bytes.fromhex("bb1d6929e95937287fa37d129b756746")),   # SP 800-38B D.1
             ("aes_cmac", [k, bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")],
              bytes.fromhex("070a16b46b4d4144f79bdd9dd04a287c"))]
    for _ in range(20):
        key = rbytes(16)
        data = rbytes(rnd.randint(0, 70))
        c = cmac.CMAC(algorithms.AES(key))
        c.update(data)
        cases.append(("aes_cmac", [key, data], c.finalize()))
    check(cases)


def test_iso9797_macs_against_psec_and_pyemv():
    cases = []
    for _ in range(30):
        key = rbytes(16)
        data = rbytes(rnd.randint(1, 60))
        cases.append(("mac_iso9797_1", [key, data, 3, 1],
                      emac.mac_iso9797_3(key[:8], key[8:], data, 1)))
        cases.append(("mac_iso9797_1", [key, data, 3, 2],
                      emac.mac_iso9797_3(key[:8], key[8:], data, 2)))
        cases.append(("mac_iso9797_1", [key, data, 1, 2],
                      psec.mac.generate_cbc_mac(key, data, 2)))
    check(cases)


def test_pin_blocks_against_psec():
    cases = []
    for _ in range(20):
        pin = digits(rnd.randint(4, 12))
        pan = digits(rnd.randint(13, 19))
        b0 = psec.pinblock.encode_pinblock_iso_0(pin, pan)
        cases.append(("pinblock_build", [0, pin.encode(), pan.encode(), b""], b0))
        cases.append(("pinblock_parse", [0, b0, pan.encode()], pin.encode()))
        b3 = psec.pinblock.encode_pinblock_iso_3(pin, pan)     # random fill
        cases.append(("pinblock_parse", [3, b3, pan.encode()], pin.encode()))
        key = rbytes(16)
        b4 = psec.pinblock.encipher_pinblock_iso_4(key, pin, pan)
        cases.append(("pinblock4_decipher", [key, b4, pan.encode()], pin.encode()))
    check(cases)


def test_format4_enciphered_by_us_deciphers_with_psec():
    key, pin, pan, fill = rbytes(16), "12345", "4761739001010119", rbytes(8)
    (block,) = call_many([("pinblock4_encipher", [key, pin.encode(), pan.encode(), fill])])
    assert psec.pinblock.decipher_pinblock_iso_4(key, block, pan) == pin


def test_pin_block_format1_structure():
    (b,) = call_many([("pinblock_build", [1, b"1234", b"", bytes(8)])])
    assert b == bytes.fromhex("1412340000000000")
    (b3,) = call_many([("pinblock_build", [3, b"1234", b"4111111111111111", b""])])
    assert b3[0] >> 4 == 3


def test_emv_keys_and_cryptograms_against_pyemv():
    cases = []
    for _ in range(15):
        imk = rbytes(16)
        pan = digits(rnd.choice((16, 19)))
        psn = digits(2)
        mk = kd.derive_icc_mk_a(imk, pan, psn)
        cases.append(("emv_derive_icc_mk", [imk, pan.encode(), psn.encode()], mk))
        atc = rbytes(2)
        sk = kd.derive_common_sk(mk, atc + bytes(6))
        cases.append(("emv_session_key", [mk, atc], sk))
        data = rbytes(rnd.randint(20, 60))
        cases.append(("emv_mac", [sk, data], ac.generate_ac(sk, data, ac.PaddingType.EMV)))
        arqc, arc, csu = rbytes(8), b"00", rbytes(4)
        cases.append(("emv_arpc1", [sk, arqc, arc], ac.generate_arpc_1(sk, arqc, arc)))
        cases.append(("emv_arpc2", [sk, arqc, csu], ac.generate_arpc_2(sk, arqc, csu)))
    check(cases)


def test_rsa_sha_crc_luhn():
    from cryptography.hazmat.primitives.asymmetric import rsa
    cases = []
    for bits, e in ((1024, 3), (1984, 3), (2048, 65537)):
        k = rsa.generate_private_key(public_exponent=e, key_size=bits)
        n = k.public_key().public_numbers().n
        size = (n.bit_length() + 7) // 8
        x = int.from_bytes(rbytes(size), "big") % n
        cases.append(("rsa_public", [n.to_bytes(size, "big"), e.to_bytes(3 if e > 3 else 1, "big"),
                                     x.to_bytes(size, "big")], pow(x, e, n).to_bytes(size, "big")))
    for _ in range(5):
        d = rbytes(rnd.randint(0, 300))
        cases.append(("sha1", [d], hashlib.sha1(d).digest()))
        cases.append(("sha256", [d], hashlib.sha256(d).digest()))
    cases.append(("crc16_ccitt_false", [b"123456789"], 0x29B1))
    cases.append(("luhn_valid", [b"4761739001010119"], True))
    cases.append(("luhn_valid", [b"4761739001010118"], False))
    cases.append(("luhn_digit", [b"476173900101011"], 9))
    check(cases)


@pytest.mark.parametrize("name,args,err", [
    ("des_encrypt", [bytes(12), bytes(8)], "bad key length 12 (want 8, 16 or 24)"),
    ("des_encrypt", [bytes(16), bytes(7)], "data length 7 is not a multiple of 8"),
    ("aes_encrypt", [bytes(15), bytes(16)], "bad AES key length 15"),
    ("aes_encrypt", [bytes(24), bytes(16)], "AES-192 needs the _posnative module"),
    ("mac_iso9797_1", [bytes(8), b"x", 3, 1], "MAC algorithm 3 needs a 16-byte key"),
    ("mac_iso9797_1", [bytes(16), b"x", 3, 4], "bad padding method 4"),
    ("pinblock_build", [0, b"12", b"4111111111111111", b""], "PIN length 2 out of range"),
    ("pinblock_build", [0, b"12a4", b"4111111111111111", b""], "PIN must be ASCII digits"),
    ("pinblock_parse", [0, b"\xff" * 8, b"4111111111111111"], "control field F is not format 0"),
    ("rsa_public", [b"\x0b", b"\x03", b"\x0c"], "not smaller than the modulus"),
    ("rsa_public", [bytes(300), b"\x03", bytes(300)], "modulus of 300 bytes unsupported"),
    ("luhn_valid", [b"12x4"], "digits must be ASCII digits"),
])
def test_bad_input_is_a_clear_crypto_error(name, args, err):
    (r,) = call_many([(name, args)])
    assert isinstance(r, dict) and r["err"].startswith("CryptoError: "), r
    assert err in r["err"]


def test_hmac_hkdf_pbkdf2_against_cpython_and_rfc5869():
    import hmac
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    cases = []
    for _ in range(20):
        key = rbytes(rnd.choice((0, 1, 16, 32, 64, 65, 100)))
        data = rbytes(rnd.randint(0, 200))
        cases.append(("hmac_sha256", [key, data], hmac.new(key, data, "sha256").digest()))
        salt = rbytes(rnd.choice((0, 13, 16, 32)))
        info = rbytes(rnd.randint(0, 20))
        n = rnd.randint(1, 100)
        want = HKDF(hashes.SHA256(), n, salt or None, info).derive(key or b"\0")
        cases.append(("hkdf_sha256", [key or b"\0", salt, info, n], want))
        it = rnd.randint(1, 300)
        dklen = rnd.choice((16, 32, 48, 64))
        cases.append(("pbkdf2_hmac_sha256", [key, salt, it, dklen], hashlib.pbkdf2_hmac("sha256", key, salt, it, dklen)))
    # RFC 5869 A.1
    cases.append(("hkdf_sha256", [bytes([0x0B] * 22), bytes(range(13)), bytes(range(0xF0, 0xFA)), 42],
                  bytes.fromhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                "34007208d5b887185865")))
    check(cases)
    bad = call_many([("pbkdf2_hmac_sha256", [b"k", b"s", 0, 32]), ("hkdf_sha256", [b"k", b"", b"", 0])])
    assert bad[0] == {"err": "CryptoError: PBKDF2 needs at least 1 iteration"}
    assert bad[1] == {"err": "CryptoError: HKDF length 0 out of range (1 to 8160)"}
