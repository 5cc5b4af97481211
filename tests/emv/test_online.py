"""Online processing, issuer authentication, scripts, completion (Book 3 10.9-10.11, Book 4 6.3)."""
import bits as B
from cardkit import MiniCard, HostStub, tlvs, enc_tlv, AID

EXT_AUTH = 0x82
GEN_AC = 0xAE


def gen_acs(r):
    return [c for c, _ in r.apdus if c[1] == GEN_AC]


def test_online_approve_good_arpc(pki, run):
    host = HostStub()
    r = run(MiniCard(pki), 6000, pins=["1234"], authorizer=host)
    assert r.result == "approved" and r.online
    assert r.first_cryptogram_type == "ARQC" and r.cryptogram_type == "TC"
    ext = [c for c, _ in r.apdus if c[1] == EXT_AUTH]
    assert len(ext) == 1 and ext[0][4] == 10          # ARPC || ARC
    assert r.issuer_auth == "ok" and B.tsi(r, B.TSI_ISSUER_AUTH) and not B.tvr(r, B.ISSUER_AUTH_FAILED)
    g = gen_acs(r)
    assert [c[2] for c in g] == [0x90, 0x50]          # ARQC+CDA, then TC+CDA
    assert g[1][5:7] == b"00"                         # CDOL2 starts with ARC 8A = "00"
    req = r.auth_requests[0]
    assert req["pan"] == "4761739001010010" and req["entry_mode"] == "chip" and req["amount"] == 6000
    assert req["aid"] == AID.hex().upper() and req["pan_seq"] == "01" and req["expiry"] == "3012"
    f55 = bytes.fromhex(req["icc_data"])
    for tag in ("9F2608", "9F2701", "9F3602", "9505", "9A03", "9C01", "9F0206", "5F2A02", "8202", "9F1A02",
                "9F3403", "9F3303", "9F3501", "8407", "9F0902", "5F3401"):
        assert bytes.fromhex(tag) in f55, tag
    assert f55[f55.index(b"\x9f\x27\x01") + 3] == 0x80
    assert r.completions[0]["card_approved"] is True
    assert "PLEASE WAIT" in r.messages
    # the outcome's field 55 carries the final TC
    assert bytes.fromhex(r.field55)[bytes.fromhex(r.field55).index(b"\x9f\x27\x01") + 3] == 0x40


def test_online_bad_arpc(pki, run):
    card = MiniCard(pki)
    card.answer2 = 0x00                                # the card declines after failed issuer auth
    host = HostStub(bad_arpc=True)
    r = run(card, 6000, pins=["1234"], authorizer=host)
    assert B.tvr(r, B.ISSUER_AUTH_FAILED) and r.issuer_auth == "failed"
    assert r.result == "declined" and r.cryptogram_type == "AAC"
    assert "card declined after issuer approval" in r.message
    assert r.completions[0]["card_approved"] is False     # -> reversal by the host link
    # TVR sent in CDOL2 (8A 2, 91 10, 95 5, 9F37 4) carries the issuer authentication failure
    g = gen_acs(r)[1]
    assert g[5 + 12 + 4] & 0x40


def test_online_declined_by_issuer(pki, run):
    r = run(MiniCard(pki), 6000, pins=["1234"], authorizer=HostStub(approve=False, arc=b"05"))
    assert r.result == "declined" and r.online and r.arc == "05"
    assert [c[2] for c in gen_acs(r)] == [0x90, 0x00]     # second GENERATE AC asks for an AAC
    assert r.cryptogram_type == "AAC"


def test_arpc_in_second_generate_ac_when_no_external_authenticate(pki, run):
    card = MiniCard(pki, aip=bytes([0x01 | 0x20 | 0x10 | 0x08, 0]))   # no issuer authentication bit
    r = run(card, 6000, pins=["1234"], authorizer=HostStub())
    assert EXT_AUTH not in r.ins()
    g = gen_acs(r)[1]
    cdol2 = g[5:5 + g[4]]
    assert cdol2[0:2] == b"00" and len(cdol2) == 2 + 10 + 5 + 4    # 8A, 91 (ARPC||ARC), 95, 9F37
    assert cdol2[10:12] == b"00" and cdol2[2:10] != bytes(8)        # 91 = ARPC || ARC
    assert r.result == "approved" and not B.tsi(r, B.TSI_ISSUER_AUTH)


def test_unable_to_go_online_default_action_decline(pki, run):
    # floor limit exceeded is in Visa TAC-default -> AAC with ARC Z3
    r = run(MiniCard(pki), 6000, pins=["1234"], authorizer=HostStub(unable=True))
    assert r.unable_to_go_online and r.result == "declined" and r.arc == "Z3"
    assert gen_acs(r)[1][2] == 0x00 and gen_acs(r)[1][5:7] == b"Z3"


def test_unable_to_go_online_default_action_approve(pki, run):
    # randomly selected online: not in Visa TAC-default (DC4000A800) nor this IAC-default -> TC, Y3
    card = MiniCard(pki, iac={"default": bytes(5)})
    r = run(card, 100, pins=["1234"], draws=[1], authorizer=HostStub(unable=True))
    assert B.tvr(r, B.RANDOM_ONLINE) and r.first_cryptogram_type == "ARQC"
    assert r.result == "approved" and r.arc == "Y3" and r.cryptogram_type == "TC"


def test_authorizer_exception_is_unable_to_go_online(pki, run):
    r = run(MiniCard(pki), 6000, pins=["1234"], authorizer=HostStub(raise_="link down"))
    assert r.unable_to_go_online and r.result == "declined"


def test_issuer_scripts_before_and_after(pki, run):
    s71 = enc_tlv(0x71, tlvs((0x9F18, b"\x00\x00\x00\x01"), (0x86, bytes.fromhex("8424000008AABBCCDDEEFF0011"))))
    s72 = enc_tlv(0x72, tlvs((0x9F18, b"\x00\x00\x00\x02"), (0x86, bytes.fromhex("04DA9F580901020304050607080900"[:30]))))
    r = run(MiniCard(pki), 6000, pins=["1234"], authorizer=HostStub(scripts=s71 + s72))
    ins = r.ins()
    i71 = ins.index(0x24)
    gens = [i for i, x in enumerate(ins) if x == GEN_AC]
    i72 = ins.index(0xDA)
    assert gens[0] < i71 < gens[1] < i72                 # 71 before, 72 after the final GENERATE AC
    assert r.script_results == "2000000001" "2000000002"
    assert B.tsi(r, B.TSI_SCRIPT) and not B.tvr(r, B.SCRIPT_FAILED_BEFORE)


def test_failing_scripts(pki, run):
    s71 = enc_tlv(0x71, tlvs((0x9F18, b"\x00\x00\x00\x07"), (0x86, bytes.fromhex("8424000000")),
                             (0x86, bytes.fromhex("841E000000")), (0x86, bytes.fromhex("8424000000"))))
    s72 = enc_tlv(0x72, tlvs((0x86, bytes.fromhex("04DA9F5800"))))
    card = MiniCard(pki)
    card.script_fail_ins = 0x1E
    r = run(card, 6000, pins=["1234"], authorizer=HostStub(scripts=s71 + s72))
    assert B.tvr(r, B.SCRIPT_FAILED_BEFORE) and not B.tvr(r, B.SCRIPT_FAILED_AFTER)
    assert r.script_results == "1200000007" "2000000000"     # failed at command 2; the third not sent
    assert r.ins().count(0x24) == 1
    card = MiniCard(pki)
    card.script_fail_ins = 0xDA
    r = run(card, 6000, pins=["1234"], authorizer=HostStub(scripts=s72))
    assert B.tvr(r, B.SCRIPT_FAILED_AFTER) and r.script_results == "1100000000"


def test_offline_decline_by_card(pki, run):
    card = MiniCard(pki)
    card.answer = 0x00
    r = run(card, 1000, pins=["1234"])
    assert r.result == "declined" and not r.online and r.cryptogram_type == "AAC" and r.arc == "Z1"
    assert len(gen_acs(r)) == 1


def test_terminal_denial_action(pki, run):
    # expired application: Visa TAC-denial has no expiry bit, but IAC-denial can: card says decline
    card = MiniCard(pki, expiry="251031", iac={"denial": bytes.fromhex("0040000000")})
    r = run(card, 1000, pins=["1234"], authorizer=HostStub())
    assert gen_acs(r)[0][2] == 0x00 and r.result == "declined" and not r.auth_requests


def test_card_answers_higher_than_requested(pki, run):
    card = MiniCard(pki, iac={"denial": bytes.fromhex("0040000000")}, expiry="251031")
    card.answer = 0x40                                   # TC to an AAC request
    r = run(card, 1000, pins=["1234"])
    assert r.result == "terminated" and "TC to a AAC request" in r.message


def test_online_approve_with_issuer_cryptography(pki, run):
    from cardkit import HsmHost
    card = MiniCard(pki, issuer="hsm")
    r = run(card, 6000, pins=["1234"], authorizer=HsmHost())
    assert r.result == "approved" and r.online and r.issuer_auth == "ok" and r.response_code == "00"


def test_arqc_from_wrong_key_declined_by_local_issuer(pki, run):
    from cardkit import HsmHost
    card = MiniCard(pki, issuer="hsm")

    class OtherKey:
        TEST_IMK_AC = bytes(16)
        arqc_generate = staticmethod(card.hsm.arqc_generate)
    card.hsm = OtherKey
    r = run(card, 6000, pins=["1234"], authorizer=HsmHost())
    assert r.result == "declined" and r.response_code == "05" and EXT_AUTH not in r.ins()
