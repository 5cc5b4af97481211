"""The card simulator's profiles through the EMV kernel on real MicroPython (192 KB heap),
with the terminal's CA keys from firmware/config/capk_test.json; online transactions use
the acquirer simulator's HSM (HsmHost) to verify the ARQC and make the ARPC."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EMV = os.path.join(os.path.dirname(HERE), "emv")
if EMV not in sys.path:
    sys.path.insert(0, EMV)

import bits as B                     # noqa: E402
from cardkit import HsmHost          # noqa: E402
from harness import Harness          # noqa: E402
from host_sim.cards import make_card  # noqa: E402

CAPK = os.path.join(os.path.dirname(os.path.dirname(HERE)), "firmware", "config", "capk_test.json")


def run(card, *tx, **kw):
    kw.setdefault("capk", CAPK)
    return Harness(card, **kw).run(*tx)


@pytest.mark.parametrize("name,cvn", [("visa-credit", 18), ("visa-cvn10", 10), ("mastercard-credit", 16),
                                      ("mastercard-cvn17", 17), ("unionpay-debit", 1)])
def test_online_approve_with_issuer_authentication(name, cvn):
    card = make_card(name)
    host = HsmHost()
    pins = [card.pin] * 2
    r = run(card, {"amount": 150000}, authorizer=host, pins=pins)
    assert r.result == "approved" and r.online, (name, r.message, r.trace[-6:])
    assert r.issuer_auth in ("ok", ""), r.issuer_auth
    assert not B.tvr(r, B.ISSUER_AUTH_FAILED)
    assert r.cryptogram_type == "TC"
    assert B.tsi(r, B.TSI_ODA)
    assert not (B.tvr(r, B.SDA_FAILED) or B.tvr(r, B.DDA_FAILED) or B.tvr(r, B.CDA_FAILED))
    assert card.atc >= 2


def test_bad_arpc_fails_issuer_authentication():
    card = make_card("visa-cvn10")
    host = HsmHost()
    orig = host.hsm.arqc_verify_arpc
    host.hsm = type("H", (), {"arqc_verify_arpc": staticmethod(lambda *a: (True, bytes(8))),
                              "TEST_IMK_AC": host.hsm.TEST_IMK_AC})
    r = run(card, {"amount": 150000}, authorizer=host, pins=["1234"])
    assert B.tvr(r, B.ISSUER_AUTH_FAILED)
    assert r.result == "declined" and r.cryptogram_type == "AAC"
    assert card.cvr[1] & 0x04                      # the card recorded it in its CVR
    host.hsm.arqc_verify_arpc = orig


def test_offline_plaintext_pin_then_offline_approve():
    card = make_card("visa-cvn10")
    r = run(card, {"amount": 500}, pins=["1234"])
    assert r.result == "approved" and not r.online and r.cryptogram_type == "TC"
    assert r.cvm.startswith("offline plaintext PIN")
    verify = [c for c, _ in r.apdus if c[1] == 0x20]
    assert verify and verify[0][3] == 0x80
    assert card.pin_tries == 3


def test_offline_enciphered_pin():
    card = make_card("visa-credit")
    r = run(card, {"amount": 500}, pins=["1234"])
    assert r.cvm.startswith("offline enciphered PIN"), (r.cvm, r.trace[-6:])
    assert [c[:4].hex() for c, _ in r.apdus if c[1] in (0x84, 0x20)] == ["00840000", "00200088"]
    assert r.result == "approved"


def test_wrong_pin_counts_down():
    card = make_card("visa-cvn10")
    r = run(card, {"amount": 500}, pins=["9999", "1234"])
    assert r.result == "approved"
    assert [rs[-2:].hex() for c, rs in r.apdus if c[1] == 0x20] == ["63c2", "9000"]


def test_bad_cert_sets_cda_failed():
    r = run(make_card("bad-cert"), {"amount": 500})
    assert B.tvr(r, B.CDA_FAILED)
    assert r.result == "declined"


def test_expired_card():
    r = run(make_card("expired"), {"amount": 500})
    assert B.tvr(r, B.EXPIRED)


def test_blocked_application_is_skipped():
    r = run(make_card("blocked-app"), {"amount": 500})
    assert r.aid == "A0000000032010" and r.result == "approved"


def test_pin_blocked_card():
    card = make_card("pin-blocked")
    r = run(card, {"amount": 500}, pins=["1234"])
    assert B.tvr(r, B.PIN_LIMIT)
    assert not [c for c, _ in r.apdus if c[1] == 0x20]      # no VERIFY when the counter is 0


def test_malformed_record_terminates():
    r = run(make_card("malformed-tlv"), {"amount": 500})
    assert r.result == "terminated"


def test_mute_card_terminates():
    from harness import CardMute
    card = make_card("mute")

    class Relay:
        def transmit(self, apdu):
            try:
                return card.transmit(apdu)
            except Exception:
                raise CardMute("mute")
    r = run(Relay(), {"amount": 500})
    assert r.result == "terminated" and "not responding" in r.message
