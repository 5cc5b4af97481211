"""cloud.tms.keys: per-terminal KEKs and TR-31 wrapping, checked with psec's unwrap and by hand."""
import json
import warnings

import psec
import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cloud.tms import keys

warnings.filterwarnings("ignore", module="psec")


def test_generated_keks_are_fresh_and_of_the_asked_kind():
    a, b = keys.generate_kek(), keys.generate_kek()
    assert a.algorithm == "A" and len(a.key) == 32 and a.key != b.key
    t = keys.generate_kek("T")
    assert t.algorithm == "T" and len(t.key) == 24
    assert all(bin(x).count("1") % 2 == 1 for x in t.key)          # DES odd parity
    assert keys.generate_kek("A", 16).describe() == "AES-128" and t.describe() == "TDES 3-key"


def test_kek_never_in_repr_and_terminal_file_carries_kcv():
    k = keys.kek_from_hex("00112233445566778899AABBCCDDEEFF", "A")
    assert "0011" not in repr(k) and k.kcv() in repr(k)
    f = json.loads(k.terminal_file())
    assert f == {"kbpk": "00112233445566778899AABBCCDDEEFF", "algorithm": "A", "kcv": k.kcv()}


def test_check_values_match_the_standard_definitions():
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    e = Cipher(TripleDES(key), modes.ECB()).encryptor()
    assert keys.kcv(key, "T") == (e.update(bytes(8)) + e.finalize())[:3] == bytes.fromhex("08D7B4")
    # AES-CMAC KCV, RFC 4493 example key: CMAC of the empty string is bb1d6929...; of 16 zero bytes:
    aes = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    from cryptography.hazmat.primitives.cmac import CMAC
    c = CMAC(algorithms.AES(aes))
    c.update(bytes(16))
    assert keys.kcv(aes, "A") == c.finalize()[:5] and len(keys.kcv(aes, "A")) == 5


@pytest.mark.parametrize("kek_alg,version", [("A", "D"), ("T", "B")])
@pytest.mark.parametrize("slot", sorted(keys.SLOTS))
def test_wrap_for_each_slot_opens_with_psec_to_the_key_and_header(kek_alg, version, slot):
    kek = keys.generate_kek(kek_alg)
    key = keys.generate_working_key(slot)
    block = keys.wrap_working_key(kek, slot, key, 12)
    header, opened = psec.tr31.unwrap(kek.key, block)
    usage, mode = keys.SLOTS[slot]
    assert opened == key
    assert (header.version_id, header.key_usage, header.algorithm, header.mode_of_use, header.version_num,
            header.exportability) == (version, usage, "T", mode, "12", "N")
    assert header.blocks["KC"] == "00" + keys.kcv(key, "T").hex().upper()
    assert header.blocks["KP"] == ("01" if kek_alg == "A" else "00") + kek.kcv()
    assert key.hex().upper() not in block.upper()


def test_wrap_refuses_what_the_terminal_would_refuse():
    kek = keys.generate_kek()
    key = keys.generate_working_key("pin")
    for bad in (dict(key_version=0), dict(key_version=100), dict(key_version=1, algorithm="A", key=key[:8]),
                dict(key_version=1, slot="cash")):
        args = dict(kek=kek, slot="pin", key=key)
        args.update(bad)
        with pytest.raises(keys.KeyInjectionError):
            keys.wrap_working_key(**args)
    with pytest.raises(keys.KeyInjectionError, match="hexadecimal"):
        keys.kek_from_hex("not hex")
    with pytest.raises(keys.KeyInjectionError, match="20 bytes"):
        keys.kek_from_hex("00" * 20)
    with pytest.raises(keys.KeyInjectionError, match="algorithm"):
        keys.generate_kek("X")
