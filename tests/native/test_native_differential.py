"""The C core through cffi (posnative) against known answers from the standards, against
the firmware's pure-MicroPython crypto run on real MicroPython (192 KB), and against
independent host libraries (cryptography, pyemv), on random inputs; bad input raises
NativeError naming the C status."""
import hashlib
import random

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pyemv import ac, kd
from pyemv import mac as emac

from tests.crypto.mpcrypto import call_many

posnative = pytest.importorskip("posnative")
rnd = random.Random(3)


def rb(n):
    return bytes(rnd.getrandbits(8) for _ in range(n))


def digits(n):
    return "".join(rnd.choice("0123456789") for _ in range(n)).encode()


def ecb(alg, data, decrypt=False):
    c = Cipher(alg, modes.ECB())
    x = c.decryptor() if decrypt else c.encryptor()
    return x.update(data) + x.finalize()


# ------------------------------------------------------------------ known answers
def test_known_answers():
    n = posnative
    # FIPS 46 worked example (key 133457799BBCDFF1)
    assert n.des_encrypt(bytes.fromhex("133457799BBCDFF1"), bytes.fromhex("0123456789ABCDEF")).hex() == "85e813540f0ab405"
    # FIPS-197 Appendix C.1/C.2/C.3
    pt = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert n.aes_encrypt(bytes(range(16)), pt).hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"
    assert n.aes_encrypt(bytes(range(24)), pt).hex() == "dda97ca4864cdfe06eaf70a0ec0d7191"
    assert n.aes_encrypt(bytes(range(32)), pt).hex() == "8ea2b7ca516745bfeafc49904b496089"
    assert n.aes_decrypt(bytes(range(32)), bytes.fromhex("8ea2b7ca516745bfeafc49904b496089")) == pt
    # NIST SP 800-38B / RFC 4493 examples 1 and 2
    k = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    assert n.aes_cmac(k, b"").hex() == "bb1d6929e95937287fa37d129b756746"
    assert n.aes_cmac(k, bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")).hex() == "070a16b46b4d4144f79bdd9dd04a287c"
    # FIPS 180 "abc"
    assert n.sha1(b"abc").hex() == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert n.sha256(b"abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert n.crc16_ccitt_false(b"123456789") == 0x29B1
    assert n.luhn_valid(b"79927398713") and not n.luhn_valid(b"79927398710")
    # ISO 9564-1 format 0: PIN 1234 -> 04 12 34 FF..; PAN 4111111111111111 -> 0000 111111111111
    assert n.pinblock_build(0, b"1234", b"4111111111111111").hex() == "041225eeeeeeeeee"
    assert n.pinblock_parse(0, bytes.fromhex("041225eeeeeeeeee"), b"4111111111111111") == b"1234"


# ------------------------------------------------------------------ differential
def test_des_aes_macs_against_cryptography_and_pure():
    calls, want = [], []
    for _ in range(20):
        for klen in (8, 16, 24):
            key, data, iv = rb(klen), rb(8 * rnd.randint(1, 6)), rb(8)
            c = posnative.des_encrypt(key, data)
            assert c == ecb(TripleDES(key * 3 if klen == 8 else key), data)
            assert posnative.des_decrypt(key, c) == data
            cc = posnative.des_cbc_encrypt(key, iv, data)
            assert posnative.des_cbc_decrypt(key, iv, cc) == data
            calls += [("des_encrypt", [key, data]), ("des_cbc_encrypt", [key, iv, data])]
            want += [c, cc]
        key, data = rb(16), rb(rnd.randint(0, 40))
        for pad in (1, 2):
            m3 = posnative.mac_iso9797_1(key, data, 3, pad)
            assert m3 == emac.mac_iso9797_3(key[:8], key[8:], data, pad)
            m1 = posnative.mac_iso9797_1(key, data, 1, pad)
            calls += [("mac_iso9797_1", [key, data, 3, pad]), ("mac_iso9797_1", [key, data, 1, pad])]
            want += [m3, m1]
        for klen in (16, 32):                        # the pure fallback's cryptolib lacks AES-192
            key, data, iv = rb(klen), rb(16 * rnd.randint(1, 4)), rb(16)
            c = posnative.aes_encrypt(key, data)
            assert c == ecb(algorithms.AES(key), data)
            cc = posnative.aes_cbc_encrypt(key, iv, data)
            assert posnative.aes_cbc_decrypt(key, iv, cc) == data
            m = posnative.aes_cmac(key, data[:rnd.randint(0, len(data))])
            calls += [("aes_encrypt", [key, data]), ("aes_cbc_encrypt", [key, iv, data])]
            want += [c, cc]
        k24 = rb(24)
        d = rb(32)
        assert posnative.aes_encrypt(k24, d) == ecb(algorithms.AES(k24), d)
        c = cmac.CMAC(algorithms.AES(k24))
        c.update(d[:20])
        assert posnative.aes_cmac(k24, d[:20]) == c.finalize()
    assert call_many(calls) == want


def test_pinblocks_emv_rsa_hashes_against_pure_and_pyemv():
    from cryptography.hazmat.primitives.asymmetric import rsa
    calls, want = [], []
    for _ in range(15):
        pin, pan, fill = digits(rnd.randint(4, 12)), digits(16), rb(8)
        for fmt in (0, 1, 3):
            b = posnative.pinblock_build(fmt, pin, pan, fill)
            assert posnative.pinblock_parse(fmt, b, pan) == pin
            calls.append(("pinblock_build", [fmt, pin, pan, fill]))
            want.append(b)
        imk, psn, atc = rb(16), digits(2), rb(2)
        mk = posnative.emv_derive_icc_mk(imk, pan, psn)
        assert mk == kd.derive_icc_mk_a(imk, pan.decode(), psn.decode())
        sk = posnative.emv_session_key(mk, atc)
        assert sk == kd.derive_common_sk(mk, atc + bytes(6))
        arqc, arc, csu = rb(8), b"00", rb(4)
        assert posnative.emv_arpc1(sk, arqc, arc) == ac.generate_arpc_1(sk, arqc, arc)
        assert posnative.emv_arpc2(sk, arqc, csu, b"00") == ac.generate_arpc_2(sk, arqc, csu, b"00")
        calls += [("emv_derive_icc_mk", [imk, pan, psn]), ("emv_session_key", [mk, atc])]
        want += [mk, sk]
        data = rb(rnd.randint(0, 200))
        assert posnative.sha1(data) == hashlib.sha1(data).digest()
        assert posnative.sha256(data) == hashlib.sha256(data).digest()
    for bits, e in ((1024, 3), (1408, 3), (1984, 3), (2048, 65537)):
        k = rsa.generate_private_key(public_exponent=e, key_size=bits)
        nn = k.public_key().public_numbers().n
        m = nn.to_bytes(bits // 8, "big")
        x = rnd.randrange(nn).to_bytes(bits // 8, "big")
        ex = e.to_bytes(1 if e == 3 else 3, "big")
        got = posnative.rsa_public(m, ex, x)
        assert int.from_bytes(got, "big") == pow(int.from_bytes(x, "big"), e, nn)
        calls.append(("rsa_public", [m, ex, x]))
        want.append(got)
    assert call_many(calls) == want


def test_pinblock4_and_tlv_path_against_pure():
    calls, want = [], []
    for _ in range(10):
        key, pin, pan, fill = rb(rnd.choice((16, 32))), digits(rnd.randint(4, 12)), digits(rnd.randint(12, 19)), rb(8)
        b = posnative.pinblock4_encipher(key, pin, pan, fill)
        assert posnative.pinblock4_decipher(key, b, pan) == pin
        # independent check of the format 4 construction with cryptography's AES
        inner = ecb(algorithms.AES(key), b, decrypt=True)
        calls += [("pinblock4_encipher", [key, pin, pan, fill]), ("pinblock4_decipher", [key, b, pan])]
        want += [b, pin]
        assert len(inner) == 16
    fci = bytes.fromhex("6F1A8407A0000000031010A50F500B56495341204352454449548701")
    fci = fci[:1] + bytes([len(fci) - 2]) + fci[2:]
    calls.append(("tlv_find_path", [fci, [0x6F, 0xA5, 0x50]]))
    want.append(posnative.tlv_find_path(fci, (0x6F, 0xA5, 0x50)))
    assert want[-1] == b"VISA CREDIT"
    assert call_many(calls) == want


def test_tlv_and_dol_against_pure():
    rec = bytes.fromhex("70205A0847617390010100109F02060000000012505F24032812319F3704AABBCCDD")
    assert posnative.tlv_find(rec, 0x5F24) == bytes.fromhex("281231")
    assert posnative.tlv_find(rec, 0x9F99) is None
    dol = bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F3704")
    src = {0x9F02: bytes.fromhex("000000001250"), 0x9F1A: b"\x08\x40", 0x9A: b"\x26\x11\x22",
           0x9F37: b"\x01\x02\x03\x04\x05"}
    out = posnative.dol_build(dol, src)
    assert len(out) == 6 + 6 + 2 + 5 + 2 + 3 + 1 + 4
    r = call_many([("tlv_find", [rec, 0x5F24]), ("dol_parse", [dol]), ("tlv_encode", [0x9F02, b"\x00\x01"])])
    assert r[0] == posnative.tlv_find(rec, 0x5F24)
    assert [tuple(x) for x in r[1]] == posnative.dol_parse(dol)
    assert r[2] == posnative.tlv_encode(0x9F02, b"\x00\x01")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call,status", [
    (lambda n: n.des_encrypt(bytes(12), bytes(8)), "PN_ERR_KEY_LENGTH"),
    (lambda n: n.des_encrypt(bytes(16), bytes(7)), "PN_ERR_DATA_LENGTH"),
    (lambda n: n.aes_encrypt(bytes(20), bytes(16)), "PN_ERR_KEY_LENGTH"),
    (lambda n: n.mac_iso9797_1(bytes(8), b"x", 3, 2), "PN_ERR_KEY_LENGTH"),
    (lambda n: n.pinblock_build(0, b"12", b"4111111111111111"), "PN_ERR_FORMAT"),
    (lambda n: n.pinblock_parse(0, bytes(8), b"4111111111111111"), "PN_ERR_FORMAT"),
    (lambda n: n.pinblock_parse(3, bytes.fromhex("3412251111111111"), b"4111111111111111"), "PN_ERR_PADDING"),
    (lambda n: n.rsa_public(b"\x03" * 64, b"\x03", b"\xff" * 64), "PN_ERR_RANGE"),
    (lambda n: n.rsa_public(b"\x03" * 300, b"\x03", b"\x01" * 300), "PN_ERR_KEY_LENGTH"),
    (lambda n: n.tlv_find(bytes.fromhex("9F0205000000"), 0x9F02), "PN_ERR_TRUNCATED"),
    (lambda n: n.tlv_iter(bytes.fromhex("5A84000000010000")), "PN_ERR_LENGTH_FORM"),
    (lambda n: n.dol_parse(bytes.fromhex("9F02")), "PN_ERR_TRUNCATED"),
])
def test_bad_input_names_the_error(call, status):
    with pytest.raises(posnative.NativeError) as e:
        call(posnative)
    assert str(e.value).startswith(status) and isinstance(e.value, ValueError)
