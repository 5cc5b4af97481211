"""Offline data authentication (Book 2 sections 5, 6) with TEST certificates."""
import bits as B
from cardkit import MiniCard, TestPki

GEN_AC = 0xAE
INT_AUTH = 0x88


def gen_ac_p1(r, n=0):
    return [c[2] for c, _ in r.apdus if c[1] == GEN_AC][n]


def test_sda_verified(pki, run):
    r = run(MiniCard(pki, oda="SDA"), 1000, pins=["1234"])
    assert r.result == "approved" and r.oda == "SDA"
    assert B.tvr(r, B.SDA_SELECTED) and not B.tvr(r, B.SDA_FAILED)
    assert B.tsi(r, B.TSI_ODA)
    assert gen_ac_p1(r) == 0x40            # TC, no CDA bit


def test_sda_bad_signature(pki, run):
    card = MiniCard(pki, oda="SDA")
    card.records[(1, 1)] = card.records[(1, 1)].replace(b"\x5f\x34\x01\x01", b"\x5f\x34\x01\x02")
    r = run(card, 1000, pins=["1234"])
    assert B.tvr(r, B.SDA_FAILED) and B.tvr(r, B.SDA_SELECTED)
    # Visa TAC-denial has no SDA bit, TAC-online has it -> ARQC requested
    assert gen_ac_p1(r) == 0x80


def test_dda_internal_authenticate_with_ddol(pki, run):
    r = run(MiniCard(pki, oda="DDA"), 1000, pins=["1234"])
    ia = [c for c, _ in r.apdus if c[1] == INT_AUTH]
    assert len(ia) == 1 and ia[0][4] == 4           # DDOL 9F3704: 4-byte unpredictable number
    f55 = bytes.fromhex(r.field55)
    un = f55[f55.index(b"\x9f\x37\x04") + 3:][:4]
    assert ia[0][5:9] == un
    assert r.oda == "DDA" and not B.tvr(r, B.DDA_FAILED) and B.tsi(r, B.TSI_ODA)
    assert r.result == "approved"


def test_dda_wrong_signature(pki, run):
    card = MiniCard(pki, oda="DDA")
    good = card._ins_88
    card._ins_88 = lambda c: good(c[:5] + bytes(4) + c[9:])   # card signs another number
    r = run(card, 1000, pins=["1234"])
    assert B.tvr(r, B.DDA_FAILED) and not B.tvr(r, B.ICC_DATA_MISSING)


def test_cda_requested_and_verified(pki, run):
    r = run(MiniCard(pki, oda="CDA"), 1000, pins=["1234"])
    assert gen_ac_p1(r) == 0x50                    # TC + CDA signature requested
    assert r.result == "approved" and r.cryptogram_type == "TC" and len(r.cryptogram) == 16
    assert not B.tvr(r, B.CDA_FAILED)
    assert any("CDA: signature verified" in t for t in r.trace)


def test_cda_bad_signature_declines(pki, run):
    card = MiniCard(pki, oda="CDA")
    card.bad_cda = True
    r = run(card, 1000, pins=["1234"])
    assert B.tvr(r, B.CDA_FAILED)
    assert r.result == "declined" and "CDA" in r.message


def test_bad_issuer_certificate_hash(pki, run):
    card = MiniCard(pki, oda="CDA", issuer_cert_kw={"tamper": True})
    r = run(card, 1000, pins=["1234"])
    assert B.tvr(r, B.CDA_FAILED)
    assert gen_ac_p1(r) & 0x10 == 0               # no CDA requested without a recovered key
    assert any("hash" in t for t in r.trace)


def test_bad_issuer_certificate_header(pki, run):
    card = MiniCard(pki, oda="DDA", issuer_cert_kw={"header": 0x6B})
    r = run(card, 1000, pins=["1234"])
    assert B.tvr(r, B.DDA_FAILED)
    assert INT_AUTH not in r.ins()
    assert any("header" in t for t in r.trace)


def test_expired_issuer_certificate(pki, run):
    r = run(MiniCard(pki, oda="SDA", issuer_cert_kw={"expiry_mmyy": "1025"}), 1000, pins=["1234"])
    assert B.tvr(r, B.SDA_FAILED)
    assert any("expired" in t for t in r.trace)


def test_expired_icc_certificate(pki, run):
    r = run(MiniCard(pki, oda="DDA", icc_expiry="0126"), 1000, pins=["1234"])
    assert B.tvr(r, B.DDA_FAILED)
    assert any("ICC certificate" in t and "expired" in t for t in r.trace)


def test_revoked_issuer_certificate(pki, run, tmp_path):
    capk = pki.capk_json(str(tmp_path / "capk.json"), revoked=[b"\x00\x00\x01"])
    r = run(MiniCard(pki, oda="CDA"), 1000, pins=["1234"], capk=capk)
    assert B.tvr(r, B.CDA_FAILED)
    assert any("revoked" in t for t in r.trace)


def test_unknown_ca_key(pki, run, tmp_path):
    other = TestPki()
    capk = other.capk_json(str(tmp_path / "capk.json"))
    other_index = MiniCard(pki, oda="SDA")
    r = run(other_index, 1000, pins=["1234"], capk=capk)
    assert B.tvr(r, B.SDA_FAILED)          # other modulus: recovery gives garbage


def test_pan_mismatch_in_icc_certificate(pki, run):
    card = MiniCard(pki, oda="DDA")
    # replace the PAN in the record: certificate's PAN no longer matches (and static data hash)
    card.records[(1, 1)] = card.records[(1, 1)].replace(bytes.fromhex("4761739001010010"),
                                                        bytes.fromhex("4761739001010028"))
    r = run(card, 1000, pins=["1234"])
    assert B.tvr(r, B.DDA_FAILED)


def test_missing_certificate_sets_icc_data_missing(pki, run):
    card = MiniCard(pki, oda="DDA")
    del card.records[(2, 2)]
    card.afl = card.afl[:4] + bytes([2 << 3, 1, 1, 0])
    r = run(card, 1000, pins=["1234"])
    assert B.tvr(r, B.DDA_FAILED) and B.tvr(r, B.ICC_DATA_MISSING)


def test_no_oda_when_card_supports_none(pki, run):
    r = run(MiniCard(pki, oda=None), 1000, pins=["1234"])
    assert B.tvr(r, B.ODA_NOT_PERFORMED) and not B.tsi(r, B.TSI_ODA)
    assert r.oda == ""


def test_sda_with_aip_in_static_data(pki, run):
    r = run(MiniCard(pki, oda="SDA", tag_list=True), 1000, pins=["1234"])
    assert not B.tvr(r, B.SDA_FAILED) and B.tvr(r, B.SDA_SELECTED)


def test_dda_default_ddol(pki, run):
    r = run(MiniCard(pki, oda="DDA", ddol=False), 1000, pins=["1234"])
    ia = [c for c, _ in r.apdus if c[1] == INT_AUTH]
    assert len(ia) == 1 and ia[0][4] == 4           # emv.json default_ddol 9F3704
    assert not B.tvr(r, B.DDA_FAILED)
