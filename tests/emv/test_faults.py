"""Bad input: mute/removed cards, malformed data, wrong status words (issue 4, 'Bad input')."""
import bits as B
from cardkit import MiniCard, HostStub, PAN


def test_mute_card_at_gpo(pki, run):
    card = MiniCard(pki)
    card.mute_at = 0xA8
    r = run(card, 1000)
    assert r.result == "terminated" and "not responding" in r.message
    assert r.apdus[-1][1] is None and r.apdus[-1][0][1] == 0xA8
    assert r.messages[-1] == "CARD ERROR"
    assert r.cryptogram == ""


def test_mute_from_power_on(pki, run):
    card = MiniCard(pki)
    card.transmit = lambda c: None
    r = run(card, 1000)
    assert r.result == "terminated" and "not responding" in r.message and len(r.apdus) == 1


def test_card_removed_during_pin(pki, run):
    card = MiniCard(pki)
    card.remove_at = 0x20
    r = run(card, 1000, pins=["1234"])
    assert r.result == "terminated" and "removed" in r.message


def test_card_removed_before_second_generate_ac_reverses(pki, run):
    card = MiniCard(pki)
    host = HostStub()
    calls = {"n": 0}
    real = card.transmit

    def transmit(c):
        if c[1] == 0xAE:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("card removed")
        return real(c)
    card.transmit = transmit
    r = run(card, 6000, pins=["1234"], authorizer=host)
    assert r.result == "declined" and "removed" in r.message
    assert r.completions and r.completions[0]["card_approved"] is False


def test_malformed_record_terminates(pki, run):
    card = MiniCard(pki)
    rec = card.records[(1, 1)]
    card.records[(1, 1)] = rec[:3] + b"\x5a\x82\x7f" + rec[5:]      # PAN length runs past the end
    r = run(card, 1000)
    assert r.result == "terminated" and "malformed" in r.message
    assert r.messages[-1] == "PROCESSING ERROR"


def test_record_not_a_template(pki, run):
    card = MiniCard(pki)
    card.records[(1, 1)] = b"\x71\x02\x9f\x01"
    r = run(card, 1000)
    assert r.result == "terminated" and "SFI 1/1" in r.message


def test_malformed_gpo(pki, run):
    card = MiniCard(pki)
    card._ins_a8 = lambda c: b"\x77\x05\x82\x02\x19\x80\x94" + b"\x90\x00"
    r = run(card, 1000)
    assert r.result == "terminated" and "GPO" in r.message


def test_gpo_format_1(pki, run):
    r = run(MiniCard(pki, gpo_format=1), 1000, pins=["1234"])
    assert r.result == "approved"


def test_bad_afl(pki, run):
    card = MiniCard(pki)
    card.afl = bytes([1 << 3, 2, 1, 0])       # last < first
    r = run(card, 1000)
    assert r.result == "terminated" and "AFL" in r.message


def test_read_record_error(pki, run):
    card = MiniCard(pki)
    del card.records[(2, 1)]
    r = run(card, 1000)
    assert r.result == "terminated" and "6A83" in r.message


def test_mandatory_data_missing(pki, run):
    card = MiniCard(pki)
    card.records[(1, 1)] = card.records[(1, 1)].replace(b"\x5f\x24\x03\x30\x12\x31", b"\x5f\x20\x03ABC")
    card.records[(1, 1)] = bytes([0x70, 0x81, len(card.records[(1, 1)]) - 3]) + card.records[(1, 1)][3:]
    r = run(card, 1000)
    assert r.result == "terminated" and "5F24" in r.message


def test_duplicate_data_object(pki, run):
    card = MiniCard(pki)
    body = card.records[(2, 1)][3:] + b"\x5f\x24\x03\x30\x12\x31"
    card.records[(2, 1)] = bytes([0x70, 0x81, len(body)]) + body
    r = run(card, 1000)
    assert r.result == "terminated" and "twice" in r.message


def test_malformed_generate_ac(pki, run):
    card = MiniCard(pki, oda=None)
    card._ins_ae = lambda c: b"\x77\x03\x9f\x27\x05" + b"\x90\x00"
    r = run(card, 1000, pins=["1234"])
    assert r.result == "terminated" and "GENERATE AC" in r.message


def test_generate_ac_error_status(pki, run):
    card = MiniCard(pki, oda=None)
    card._ins_ae = lambda c: b"\x69\x85"
    r = run(card, 1000, pins=["1234"])
    assert r.result == "terminated" and "6985" in r.message


def test_oversized_response_does_not_crash(pki, run):
    card = MiniCard(pki)
    card._ins_b2 = lambda c: b"\x70\x82\x40\x00" + b"\x00" * 3000 + b"\x90\x00"
    r = run(card, 1000)
    assert r.result == "terminated"


def test_get_response_and_resend_handled(pki, run):
    card = MiniCard(pki)
    real = card.transmit
    pending = {}

    def transmit(c):
        if c[1] == 0xC0:                      # GET RESPONSE
            return pending.pop("r")
        r = real(c)
        if c[1] == 0xB2 and len(r) > 2:       # T=0 style: 61xx first
            pending["r"] = r
            return bytes([0x61, len(r) - 2])
        return r
    card.transmit = transmit
    r = run(card, 1000, pins=["1234"])
    assert r.result == "approved" and 0xC0 in r.ins()


def test_pan_never_in_logs(pki, run):
    r = run(MiniCard(pki), 6000, pins=["1234"], authorizer=HostStub())
    text = "\n".join(r.lines) + repr(r.outcome)
    assert PAN not in text and "1234" not in "".join(r.lines)
    assert r.masked_pan == "476173******0010"


def test_data_object_with_bad_length(pki, run):
    card = MiniCard(pki)
    rec = card.records[(1, 1)]
    body = rec[3:].replace(b"\x5f\x24\x03\x30\x12\x31", b"\x5f\x24\x01\x30")
    card.records[(1, 1)] = bytes([0x70, 0x81, len(body)]) + body
    r = run(card, 1000)
    assert r.result == "terminated" and "5F24 has a bad length" in r.message
