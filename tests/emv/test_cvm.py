"""Cardholder verification (Book 3 10.5) on real MicroPython."""
import os

import pytest

import bits as B
from cardkit import MiniCard

VERIFY = 0x20
GET_DATA = 0xCA


def cvm_list(*rules, x=0, y=0):
    return x.to_bytes(4, "big") + y.to_bytes(4, "big") + bytes.fromhex("".join(rules))


def verifies(r):
    return [c for c, _ in r.apdus if c[1] == VERIFY]


def test_plaintext_pin_ok(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("0100")), 1000, pins=["1234"])
    v = verifies(r)
    assert v == [bytes.fromhex("0020008008241234FFFFFFFFFF")]     # format 2 PIN block, P2 80
    assert bytes.fromhex("80CA9F1700") in [c for c, _ in r.apdus]  # PIN try counter read first
    assert r.cvm_results == "010002" and r.cvm == "offline plaintext PIN"
    assert B.tsi(r, B.TSI_CVM) and not B.tvr(r, B.CV_FAILED)
    assert "PIN OK" in r.messages
    assert r.pin_prompts[0]["tries"] == 3 and r.pin_prompts[0]["online"] is False


def test_wrong_then_right_pin(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("0100")), 1000, pins=["9999", "1234"])
    assert len(verifies(r)) == 2
    assert "INCORRECT PIN" in r.messages
    assert r.cvm_results == "010002" and r.result == "approved"


def test_last_try_message_then_blocked(pki, run):
    card = MiniCard(pki, cvm_list=cvm_list("4100", "1E00"), pin_tries=2)
    r = run(card, 1000, pins=["0000", "0000"])
    assert "LAST PIN TRY" in r.messages
    assert B.tvr(r, B.PIN_LIMIT)
    # failed PIN with 'apply next' -> signature
    assert r.cvm_results == "1E0000" and r.signature_required


def test_pin_blocked_card_not_prompted(pki, run):
    card = MiniCard(pki, cvm_list=cvm_list("0100"), pin_tries=0)
    r = run(card, 1000, pins=["1234"])
    assert r.pin_prompts == [] and verifies(r) == []
    assert B.tvr(r, B.PIN_LIMIT) and B.tvr(r, B.CV_FAILED)
    assert r.cvm_results == "010001"


def test_pin_bypass(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("4103", "1F03")), 1000, pins=[])
    assert B.tvr(r, B.PIN_NOT_ENTERED)
    assert r.cvm_results == "1F0302"            # next rule: no CVM required
    assert not B.tvr(r, B.CV_FAILED)


def test_enciphered_pin_with_icc_key(pki, run):
    card = MiniCard(pki, oda="DDA", cvm_list=cvm_list("0400"))
    r = run(card, 1000, pins=["1234"])
    v = verifies(r)
    assert len(v) == 1 and v[0][3] == 0x88 and v[0][4] == 128   # RSA block with the 1024-bit ICC key
    assert 0x84 in r.ins()                                       # GET CHALLENGE before VERIFY
    assert card.pin_verified and r.cvm_results == "040002"


def test_enciphered_pin_and_signature(pki, run):
    card = MiniCard(pki, oda="CDA", cvm_list=cvm_list("0500"))
    r = run(card, 1000, pins=["1234"])
    assert card.pin_verified and r.cvm_results == "050000" and r.signature_required


def test_signature(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("1E00")), 1000)
    assert r.cvm_results == "1E0000" and r.signature_required and r.pin_prompts == []


def test_no_cvm_required(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("1F00")), 1000)
    assert r.cvm_results == "1F0002" and not r.signature_required


def test_fail_cvm(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("0000")), 1000)
    assert r.cvm_results == "000001" and B.tvr(r, B.CV_FAILED)


def test_no_cvm_list_is_icc_data_missing(pki, run):
    card = MiniCard(pki, cvm_list=b"")
    card.records[(1, 1)] = card.records[(1, 1)]
    r = run(card, 1000)
    assert B.tvr(r, B.ICC_DATA_MISSING) and not B.tsi(r, B.TSI_CVM)
    assert r.cvm_results == "3F0000"


def test_unrecognised_cvm_then_next(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("4A00", "1F00")), 1000)
    assert B.tvr(r, B.UNRECOGNISED_CVM) and r.cvm_results == "1F0002"


def test_amount_conditions(pki, run):
    # PIN only over X = 50.00; under it no CVM (condition 06/07 need app currency 9F42)
    rules = cvm_list("0107", "1F06", x=5000)
    card = MiniCard(pki, cvm_list=rules, extra_record=bytes.fromhex("9F42020840"))
    small = run(card, 1000)
    assert small.cvm_results == "1F0602" and small.pin_prompts == []
    card = MiniCard(pki, cvm_list=rules, extra_record=bytes.fromhex("9F42020840"))
    big = run(card, 9000, pins=["1234"])
    assert big.cvm_results == "010702"


def test_no_rule_applies(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("0104")), 1000)    # manual cash only
    assert r.cvm_results == "3F0001" and B.tvr(r, B.CV_FAILED)


def test_cvm_not_supported_by_card_aip(pki, run):
    card = MiniCard(pki, aip=bytes([0x01 | 0x20 | 0x08 | 0x04, 0]))
    r = run(card, 1000)
    assert r.cvm_results == "3F0000" and not B.tsi(r, B.TSI_CVM) and verifies(r) == []


def test_online_pin_needs_key_store(pki, run):
    r = run(MiniCard(pki, cvm_list=cvm_list("4200", "1E00")), 1000, pins=["1234"])
    assert B.tvr(r, B.PIN_PAD_MISSING) and r.cvm_results == "1E0000"


_ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
HAVE_DES = os.path.exists(os.path.join(_ROOT, "firmware", "pos", "crypto", "__init__.py")) or \
    os.path.exists(os.path.join(_ROOT, "tests", "hostlink", "standin", "hl_standin_crypto.py"))


@pytest.mark.skipif(not HAVE_DES, reason="online PIN needs DES (pos.crypto)")
def test_online_pin_block_for_the_acquirer(pki, run):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cardkit import HostStub
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")       # TEST PIN key
    r = run(MiniCard(pki, cvm_list=cvm_list("0200")), 6000, pins=["1234"], authorizer=HostStub(),
            keys={"pin": key.hex()})
    assert B.tvr(r, B.ONLINE_PIN) and r.cvm_results == "020000"
    assert r.pin_prompts[0]["online"] is True and verifies(r) == []
    pb = bytes.fromhex(r.auth_requests[0]["pin_block"])
    dec = Cipher(algorithms.TripleDES(key + key[:8]), modes.ECB()).decryptor()
    clear = dec.update(pb) + dec.finalize()
    pan_part = bytes.fromhex("0000" + "4761739001010010"[-13:-1])
    assert bytes(a ^ b for a, b in zip(clear, pan_part)) == bytes.fromhex("041234FFFFFFFFFF")


def test_enciphered_pin_with_pin_encipherment_key(pki, run):
    from cardkit import RsaKey
    key = RsaKey(1024)
    card = MiniCard(pki, oda="SDA", cvm_list=cvm_list("0400"), pin_key=key)
    r = run(card, 1000, pins=["1234"])
    assert card.pin_verified and r.cvm_results == "040002"
    v = verifies(r)
    assert v[0][3] == 0x88 and v[0][4] == 128
    # the block was enciphered with the 9F2D key, not the ICC key (the card decrypted it with 9F2D's)
    assert (pow(int.from_bytes(v[0][5:5 + 128], "big"), key.d, key.n) >> (127 * 8)) == 0x7F


def test_enciphered_pin_key_unrecoverable_fails_cvm(pki, run):
    card = MiniCard(pki, oda="DDA", cvm_list=cvm_list("4400", "1E00"), issuer_cert_kw={"tamper": True})
    r = run(card, 1000, pins=["1234"])
    assert verifies(r) == [] and r.cvm_results == "1E0000"
    assert any("PIN encipherment key" in t for t in r.trace)
