"""Firmware drivers' receive-side parsers on MicroPython: scanner lines, magstripe reader
frames, PN532 frames, ISO 7816-3 ATRs and T=0 / T=1 exchanges.  The bus is a scripted UART and the clock a virtual
one (a timeout costs nothing), so every byte the chip or card could send is reachable.

Each raises only its documented error family:
  pos.drivers.scanner   ScannerError ("overflow", "garbage")
  pos.drivers.msr       MsrError ("frame", "overflow"; a bad track is reported in Swipe.errors)
  pos.drivers.pn532     NfcError ("timeout", "frame", "removed", "collision", "protocol", "auth")
  pos.drivers.iso7816   CardError ("removed", "mute", "atr", "protocol")
"""
from hypothesis import given
from hypothesis import strategies as st

from fuzzkit import fuzz_settings, mutated, reached
from host_sim.devices import msr as msr_model
from host_sim.devices.pn532 import ACK, frame


# -- scanner --------------------------------------------------------------------------------
_CODE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.encode)
_LINE = st.one_of(_CODE.map(lambda c: c + b"\r"), _CODE.map(lambda c: c + b"\r\n"), _CODE,
                  st.binary(max_size=30), st.just(b"\xc3\x28\r"), st.just(b"A" * 1030 + b"\r"),
                  st.text(max_size=10).map(lambda s: s.encode() + b"\n"))


def test_scanner_lines(mp_fuzz):
    @fuzz_settings(250)
    @given(st.lists(_LINE, max_size=6).map(b"".join).flatmap(
        lambda s: st.lists(st.integers(0, len(s)), max_size=4).map(
            lambda cuts: [s[a:b] for a, b in zip([0] + sorted(cuts), sorted(cuts) + [len(s)])])))
    def prop(chunks):
        mp_fuzz.check("scanner", *chunks, parser="scanner lines")
    prop()
    reached("scanner lines", "ok")


# -- magstripe reader ---------------------------------------------------------------------------
_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=19)


@st.composite
def _swipe_frame(draw):
    """A frame as the reader module sends it (the device model builds it), tracks of TEST data
    sometimes outside their character set; then damaged."""
    t1 = msr_model.track1(draw(_DIGITS), draw(st.text(alphabet="ABCXYZ /^?a", max_size=26)), draw(_DIGITS),
                          draw(_DIGITS)) if draw(st.booleans()) else None
    t2 = msr_model.track2(draw(_DIGITS), draw(_DIGITS), draw(_DIGITS), draw(st.text(alphabet="0123=?A", max_size=8))) \
        if draw(st.integers(0, 3)) else None
    model = msr_model.MagstripeReader()
    for fault in draw(st.lists(st.sampled_from(("bad_lrc", "unreadable", "noise", "half")), max_size=2)):
        model.inject(fault)
    frame = model.swipe(t1, t2)
    return draw(mutated(st.just(frame), max_ops=2))


def test_msr_frames(mp_fuzz):
    @fuzz_settings(250)
    @given(st.lists(_swipe_frame(), min_size=1, max_size=3).map(b"".join).flatmap(
        lambda s: st.lists(st.integers(0, len(s)), max_size=3).map(
            lambda cuts: [s[a:b] for a, b in zip([0] + sorted(cuts), sorted(cuts) + [len(s)])])))
    def prop(chunks):
        mp_fuzz.check("msr", *chunks, parser="magstripe frames")
    prop()
    reached("magstripe frames", "ok", "family")


# -- PN532 --------------------------------------------------------------------------------------
# the commands each operation of the fuzz target sends, in order (see mp/fuzz_targets.t_pn532)
_PN532_CMDS = {0: [0x02], 1: [0x4A], 2: [0x40, 0x40], 3: [0x40, 0x40, 0x40], 4: [0x40, 0x40], 5: [0x14, 0x02]}
_PN532_PAYLOADS = st.one_of(
    st.binary(max_size=24),
    st.just(b"\x01\x01\x00\x04\x20\x04\x01\x02\x03\x04\x05\x75\x77\x81\x02\x80"),     # one type A target
    st.just(b"\x02"), st.just(b"\x00"), st.just(b"\x32\x01\x06\x07"),
    st.just(b"\x00\x03\x0e\xd1\x01\x0aT\x02enabc"), st.just(b"\x40\x90"), st.just(b"\x01"), st.just(b"\x14"))


# a good answer to each command
_PN532_ANSWERS = {0x02: b"\x32\x01\x06\x07", 0x14: b"", 0x4A: b"\x01\x01\x00\x04\x20\x04\x01\x02\x03\x04",
                  0x40: b"\x00\x03\x0e\xd1\x01\x0aT\x02enabcdefg"}


@st.composite
def _pn532_script(draw):
    op = draw(st.integers(0, 5))
    script = b""
    for cmd in _PN532_CMDS[op] * draw(st.integers(1, 2)):
        resp = draw(st.just(_PN532_ANSWERS[cmd]) | _PN532_PAYLOADS
                    | st.binary(min_size=16, max_size=16).map(lambda b: b"\x00" + b)
                    | st.binary(max_size=20).map(lambda b: b"\x00" + b + b"\x90\x00"))
        tfi = draw(st.sampled_from((b"\xd5", b"\xd5", b"\xd5", b"\xd4")))
        code = bytes([(cmd + 1) & 0xFF]) if draw(st.integers(0, 7)) else draw(st.binary(min_size=1, max_size=1))
        script += ACK + frame(tfi + code + resp)
    return bytes([op]), draw(mutated(st.just(script), max_ops=2))


def test_pn532_frames(mp_fuzz):
    @fuzz_settings(300)
    @given(_pn532_script())
    def prop(case):
        op, script = case
        mp_fuzz.check("pn532", op, script, parser="PN532 frames")
    prop()
    reached("PN532 frames", "ok", "family")


# -- ISO 7816-3 ---------------------------------------------------------------------------------
def _lrc(b):
    x = 0
    for c in b:
        x ^= c
    return x


def _t1_atr(ifsc=0xFE, tb3=0x45):
    body = bytes([0x80, 0x81, 0x31, ifsc, tb3])
    return b"\x3b" + body + bytes([_lrc(body)])


@st.composite
def _atr(draw):
    return draw(st.sampled_from((b"\x3b\x00", b"\x3b\x60\x00\x00", b"\x3b\x02\x14\x50", _t1_atr(),
                                 _t1_atr(0x20, 0x00), b"\x3f\x00", b"\x3b\x80\x02\x82")))


def _t0_atr():
    return st.sampled_from((b"\x3b\x00", b"\x3b\x60\x00\x00", b"\x3b\x02\x14\x50"))


# the APDUs the fuzz target sends (mp/fuzz_targets._APDUS): (INS, Lc data length, Le)
_APDUS = ((0xA4, 14, 256), (0xB2, 0, 12), (0x20, 8, None), (0xCA, 0, None))


@st.composite
def _t0_card(draw, k):
    """Card bytes for the T=0 commands of operation k: mostly the answers a card gives
    (procedure bytes, data, 61xx / 6Cxx, status words), some random bytes."""
    parts = []
    for i in range(1 + (k >> 4) % 3):
        ins, lc, le = _APDUS[(k + i) % len(_APDUS)]
        way = draw(st.integers(0, 5))
        data = draw(st.binary(max_size=20))
        if way == 0:
            parts.append(b"\x90\x00")
        elif way == 1:                           # INS: send all / take all, then SW
            parts.append(bytes([ins]) + (bytes(le % 256 or 0) if le and not lc else b"") + b"\x90\x00")
        elif way == 2:                           # response waiting: GET RESPONSE
            parts.append(bytes([ins, 0x61, len(data), 0xC0]) + data + b"\x90\x00")
        elif way == 3:                           # wrong Le: La
            parts.append(bytes([0x6C, len(data), ins]) + data + b"\x90\x00")
        elif way == 4:                           # ~INS: one byte at a time, NULL bytes between
            parts.append(b"".join(bytes([ins ^ 0xFF, 0x60]) for _ in range(lc or 1)) + b"\x6a\x82")
        else:
            parts.append(draw(st.binary(min_size=1, max_size=20)))
    return b"".join(parts)


def _block(pcb, inf, nad=0):
    b = bytes([nad, pcb, len(inf)]) + inf
    return b + bytes([_lrc(b)])


@st.composite
def _t1_card(draw, k):
    """Card bytes for T=1: the IFS answer, then for each command an I-block in sequence
    (sometimes chained, with WTX requests or R-blocks between), some blocks random."""
    blocks = [_block(0xE1, b"\xfe")]
    ns = 0
    for i in range(1 + (k >> 4) % 3):
        if draw(st.integers(0, 5)) == 0:
            blocks.append(_block(0xC3, bytes([draw(st.integers(0, 255))])))        # S(WTX request)
        if draw(st.integers(0, 3)) == 0:                                             # chained answer
            blocks.append(_block((ns << 6) | 0x20, draw(st.binary(max_size=30))))
            ns ^= 1
        if draw(st.integers(0, 4)) == 0:
            pcb = draw(st.sampled_from((0x80, 0x90, 0xC3, 0xE3, 0xC0, 0xE0, 0xC1)) | st.integers(0, 255))
            blocks.append(_block(pcb, draw(st.binary(max_size=40)), draw(st.sampled_from((0, 0, 0x21)))))
        blocks.append(_block(ns << 6, draw(st.binary(max_size=30)) + b"\x90\x00"))
        ns ^= 1
    return b"".join(blocks)


def test_iso7816_atr(mp_fuzz):
    @fuzz_settings(300)
    @given(mutated(_atr(), max_ops=3) | st.binary(max_size=34))
    def prop(raw):
        mp_fuzz.check("atr", raw, parser="ISO 7816-3 ATR")
    prop()
    reached("ISO 7816-3 ATR", "ok", "family")


def test_iso7816_t0(mp_fuzz):
    @fuzz_settings(250)
    @given(st.integers(0, 255).flatmap(lambda k: st.tuples(
        st.just(bytes([k])), mutated(st.tuples(_t0_atr(), _t0_card(k)).map(b"".join), max_ops=2))))
    def prop(case):
        mp_fuzz.check("iso7816", *case, parser="ISO 7816-3 T=0")
    prop()
    reached("ISO 7816-3 T=0", "ok", "family")


def test_iso7816_t1(mp_fuzz):
    @fuzz_settings(250)
    @given(st.integers(0, 255).flatmap(lambda k: st.tuples(
        st.just(bytes([k])), mutated(_t1_card(k).map(lambda c: _t1_atr() + c), max_ops=2))))
    def prop(case):
        mp_fuzz.check("iso7816", *case, parser="ISO 7816-3 T=1")
    prop()
    reached("ISO 7816-3 T=1", "ok", "family")
