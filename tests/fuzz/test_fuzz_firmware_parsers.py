"""Firmware parsers on MicroPython: BER-TLV, DOL, ISO 8583 (both profiles), EMVCo QR (MPM, CPM).

Each raises only its documented error family:
  pos.emv.tlv / pos.emv.dol   TLVError
  pos.iso8583                 Iso8583Error (MacError for field 64/128)
  pos.qr.emvco                MpmError
Accepted ISO 8583 messages re-encode to the same bytes; accepted TLV objects re-encode and
are found again.
"""
import iso8583
from hypothesis import given
from hypothesis import strategies as st

from fuzzkit import ber_tlv, cpm_payload, dol_bytes, fuzz_settings, mpm_payload, mutated, reached
from host_sim.hosts.acquirer import spec as hspec
from hostlink.messages import SAMPLES


def test_ber_tlv(mp_fuzz):
    @fuzz_settings(400)
    @given(data=st.binary(max_size=64) | mutated(ber_tlv()), tag=st.sampled_from((b"\x9f\x26", b"\x5a", b"\x88")) | st.binary(max_size=4))
    def prop(data, tag):
        mp_fuzz.check("tlv", data, tag, parser="BER-TLV")
    prop()
    reached("BER-TLV", "ok", "family")


def test_dol(mp_fuzz):
    @fuzz_settings(250)
    @given(d=st.binary(max_size=24) | mutated(dol_bytes(), max_ops=2), values=mutated(ber_tlv(), max_ops=1))
    def prop(d, values):
        mp_fuzz.check("dol", d, values, parser="DOL")
    prop()
    reached("DOL", "ok", "family")


def _messages(name):
    out = []
    for mti, f in SAMPLES:
        doc = hspec.to_host(name, f)
        doc["t"] = mti
        raw, _ = iso8583.encode(doc, hspec.SPECS[name])
        out.append(bytes(raw))
    return out


@st.composite
def _iso8583(draw, name):
    body = draw(st.sampled_from(_messages(name)))
    if draw(st.integers(0, 9)) == 0:
        body = body[:draw(st.integers(0, 40))] + draw(st.binary(max_size=40))
    return body


TPDU = bytes.fromhex("6000010000")


def test_iso8583_ascii_profile(mp_fuzz):
    @fuzz_settings(400)
    @given(body=mutated(_iso8583("iso87")))
    def prop(body):
        mp_fuzz.check("iso87", body, parser="ISO 8583 iso87")
    prop()
    reached("ISO 8583 iso87", "ok", "family")


def test_iso8583_bcd_profile(mp_fuzz):
    @fuzz_settings(400)
    @given(payload=mutated(_iso8583("iso87bcd").map(lambda b: TPDU + b)))
    def prop(payload):
        mp_fuzz.check("iso87bcd", payload, parser="ISO 8583 iso87bcd")
    prop()
    reached("ISO 8583 iso87bcd", "ok", "family")


def test_iso8583_bcd_length_prefix_with_a_bad_nibble(mp_fuzz):
    # the defect of issue 12: an LL prefix 0x1A (nibble A) raised a bare ValueError
    body = bytearray(_messages("iso87bcd")[0])
    # 0100 with field 2 first: MTI (2) + bitmap (8), then the LL prefix of the PAN
    assert body[10] == 0x16
    for bad in (0x1A, 0xA1, 0x1D, 0xFF):
        body[10] = bad
        kind, detail = mp_fuzz.check("iso87bcd", TPDU + bytes(body), parser="ISO 8583 iso87bcd")
        assert kind == "family" and detail.startswith("Iso8583Error field 2 length prefix"), detail


def test_mpm(mp_fuzz):
    @fuzz_settings(400)
    @given(payload=mpm_payload() | st.binary(max_size=80) | st.text(max_size=60).map(lambda s: s.encode()))
    def prop(payload):
        mp_fuzz.check("mpm", payload, parser="EMVCo MPM")
    prop()
    reached("EMVCo MPM", "ok", "family")


def test_cpm(mp_fuzz):
    @fuzz_settings(300)
    @given(text=cpm_payload() | st.binary(max_size=60))
    def prop(text):
        mp_fuzz.check("cpm", text, parser="EMVCo CPM")
    prop()
    reached("EMVCo CPM", "ok", "family")


_HTTP_STATUS = st.sampled_from((b"HTTP/1.0 200 OK", b"HTTP/1.1 201 Created", b"HTTP/1.0 400 Bad Request",
                                b"HTTP/1.0 401 Unauthorized", b"HTTP/1.0 503 Busy", b"HTTP/1.1 2x0 OK", b"HTTP/1.1",
                                b"", b"garbage"))
_JSON_BODY = st.one_of(
    st.fixed_dictionaries({}, optional={"status": st.sampled_from(("pending", "paid", "success", "failed")),
                                        "order": st.text(max_size=8), "error": st.text(max_size=10) | st.integers()}),
    st.lists(st.integers(), max_size=3), st.text(max_size=10), st.integers(), st.none()).map(
        lambda o: __import__("json").dumps(o).encode())


def test_wallet_client_answers(mp_fuzz):
    # the firmware's wallet client reading the wallet host's HTTP answer: WalletError or a JSON object
    @fuzz_settings(250)
    @given(reply=mutated(st.tuples(_HTTP_STATUS, st.sampled_from((b"\r\nContent-Type: application/json", b"")),
                                   _JSON_BODY | st.binary(max_size=20)).map(lambda t: t[0] + t[1] + b"\r\n\r\n" + t[2]),
                         max_ops=1),
           chunk=st.binary(min_size=1, max_size=1))
    def prop(reply, chunk):
        mp_fuzz.check("wallet", reply, chunk, parser="wallet client answers")
    prop()
    reached("wallet client answers", "ok", "family")
