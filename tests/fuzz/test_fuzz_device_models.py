"""Device models' receive-side parsers (CPython): the PN532 model's HSU frame parser and the
ESC/POS printer model's command interpreter.

A chip takes whatever arrives on its wire: these parsers raise nothing at all.  The PN532
answers a frame it cannot take with an error frame (UM0701 6.2.1.5); the printer records an
unknown command and goes on.
"""
from hypothesis import given
from hypothesis import strategies as st

from fuzzkit import fuzz_settings, mutated, record, reached
from host_sim.devices import escpos
from host_sim.devices.escpos import EscPosPrinter
from host_sim.devices.pn532 import ACK, NACK, PN532, frame


def _chunked(data_strategy):
    """(data split at random points): bytes arrive in pieces on a UART."""
    return data_strategy.flatmap(lambda s: st.lists(st.integers(0, len(s)), max_size=4).map(
        lambda cuts: [s[a:b] for a, b in zip([0] + sorted(cuts), sorted(cuts) + [len(s)])]))


class TestCard:
    """A contactless card as the model's field holds it (uid, atqa, sak, ats, transmit)."""
    uid = bytes.fromhex("04A1B2C3D4E5F6")
    atqa = b"\x00\x44"
    sak = 0x20
    ats = bytes.fromhex("0578807002")

    def transmit(self, apdu):
        return b"\x6f\x00" if len(apdu) < 4 else b"\x90\x00"


_PN532_CMD = st.sampled_from((0x02, 0x14, 0x32, 0x4A, 0x40, 0x52, 0x44, 0x60, 0xFF, 0x00)) | st.integers(0, 255)
_PN532_PARAMS = st.sampled_from((b"", b"\x01\x14\x01", b"\x01\x00", b"\x01\x01", b"\x02\x00", b"\x01\x03",
                                 b"\x01", b"\x41", b"\x01\x00\xa4\x04\x00\x00", b"\x00")) | st.binary(max_size=40)


@st.composite
def _pn532_host_bytes(draw):
    parts = [b"\x55\x55\x00\x00\x00"]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            parts.append(draw(st.sampled_from((ACK, NACK))))
        elif kind == 1:
            parts.append(draw(st.binary(max_size=12)))
        else:
            tfi = b"\xd4" if draw(st.integers(0, 7)) else draw(st.binary(max_size=1))
            body = tfi + (bytes([draw(_PN532_CMD)]) if draw(st.integers(0, 9)) else b"") + draw(_PN532_PARAMS)
            if draw(st.integers(0, 5)) == 0:
                body = body + bytes(300)                  # an extended frame
            parts.append(frame(body))
    return draw(mutated(st.just(b"".join(parts)), max_ops=2))


def test_pn532_model_frames():
    @fuzz_settings(300)
    @given(_chunked(_pn532_host_bytes()))
    def prop(chunks):
        chip = PN532()
        chip.tap(TestCard())
        out = []
        chip.connect_uart(out.append)
        for c in chunks:
            chip.uart_rx(c)
        for f in out:
            assert f[:3] == b"\x00\x00\xff", f.hex()          # only frames come back
        record("PN532 model frames", "answered" if out else "silent")
    prop()
    reached("PN532 model frames", "answered")


_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.encode)
_ESCPOS = st.one_of(
    _TEXT, st.just(b"\n"), st.just(b"\x1b@"), st.just(b"\x1dV\x00"), st.just(b"\x1dVA\x10"),
    st.tuples(st.sampled_from((b"\x1b!", b"\x1bE", b"\x1b-", b"\x1ba", b"\x1bt", b"\x1bM", b"\x1b3", b"\x1bd",
                               b"\x1bJ", b"\x1b{", b"\x1d!", b"\x1dB", b"\x1dH", b"\x1dh", b"\x1dw", b"\x1dI",
                               b"\x1dr", b"\x10\x04", b"\x10\x05", b"\x1cx")),
              st.integers(0, 255).map(lambda n: bytes([n]))).map(b"".join),
    st.tuples(st.sampled_from((b"\x1dk\x04", b"\x1dk\x02", b"\x1dkI", b"\x1dkH")), _TEXT).map(
        lambda t: t[0] + (bytes([len(t[1])]) + t[1] if t[0][-1] > 6 else t[1] + b"\x00")),
    _TEXT.map(lambda d: b"\x1d(k" + (len(d) + 3).to_bytes(2, "little") + b"\x31\x50\x30" + d
              + b"\x1d(k\x03\x001Q0"),
    # level H holds at most 1273 bytes (version 40)
    st.sampled_from((1274, 2000)).map(lambda n: b"\x1d(k" + (n + 3).to_bytes(2, "little") + b"\x31\x50\x30" + b"a" * n
                                + b"\x1d(k\x03\x00\x31\x45\x33\x1d(k\x03\x001Q0"),
    st.tuples(st.integers(0, 255), st.integers(0, 255)).map(
        lambda t: b"\x1d(k\x03\x00\x31" + bytes(t)),
    st.tuples(st.integers(0, 3), st.integers(0, 6), st.integers(0, 6)).map(
        lambda t: b"\x1dv0" + bytes([t[0], t[1], 0, t[2], 0]) + b"\xaa" * (t[1] * t[2])),
    st.tuples(st.sampled_from((0, 1, 32, 33)), st.integers(0, 8)).map(
        lambda t: b"\x1b*" + bytes([t[0], t[1], 0]) + b"\x55" * (t[1] * (3 if t[0] >= 32 else 1))),
    st.tuples(st.integers(0, 255), st.integers(0, 3)).map(lambda t: b"\x1dL" + bytes([t[0], t[1]])),
    st.binary(max_size=12))


def test_escpos_model_commands():
    printed = len(escpos.PRINTED)

    @fuzz_settings(200)
    @given(_chunked(mutated(st.lists(_ESCPOS, max_size=8).map(b"".join), max_ops=2)))
    def prop(chunks):
        p = EscPosPrinter()
        p.connect_uart(lambda b: None)
        for c in chunks:
            p.uart_rx(c)
        p.receipts()
        record("ESC/POS printer model", "printed" if p.lines else "nothing printed")
    try:
        prop()
    finally:
        del escpos.PRINTED[printed:]              # fuzz rolls are not receipts
    reached("ESC/POS printer model", "printed")
