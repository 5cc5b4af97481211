# Fuzz targets that run on MicroPython (the unix port with the board's heap).
#
# The CPython side (tests/fuzz/fuzzkit.py) starts one MicroPython process with
# `serve()` and sends one case at a time: a target name and its byte-string
# arguments.  Each target feeds the arguments to one firmware parser and answers
# one line:
#   ok <summary>                 the parser accepted the input (or rejected part of it)
#   family <Type> <message>      the parser refused it with its documented error
#   crash <Type> <traceback>     anything else escaped (the defect the fuzzing hunts)
# Properties beyond "only the family" (round trips, bounds) fail with AssertionError,
# which is reported as a crash.
import gc
import io
import sys

from pos.emv import dol, tlv
from pos.iso8583 import codec, framing, icc, mac, spec as specs
from pos.iso8583.errors import Iso8583Error
from pos.qr import emvco
from pos.payments import wallet
from pos.drivers import iso7816, msr, pn532, scanner


class Refused(Exception):
    """Internal: the parser raised its documented family (carries the original)."""

    def __init__(self, exc):
        super().__init__()
        self.exc = exc


def expect(family, fn, *args):
    """fn(*args); a `family` exception becomes Refused, anything else propagates."""
    try:
        return fn(*args)
    except family as e:
        raise Refused(e)


# -- test doubles for the bus and the clock ------------------------------------------------
class FakeClock:
    """time.ticks_ms & co. on a virtual clock: waiting advances it, so a timeout costs nothing.
    A wait of n ms advances at least STEP ms (a T=1 waiting-time extension of 255 x 1.6 s
    then costs some thousand polls, not 400 000)."""
    STEP = 100

    def __init__(self):
        self.ms = 0

    def ticks_ms(self):
        return self.ms

    def ticks_us(self):
        return self.ms * 1000

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, n):
        self.ms += max(n, self.STEP)

    def sleep(self, s):
        self.ms += int(s * 1000)


class ScriptedUart:
    """A UART whose receive side replays `data` in `chunk`-sized arrivals."""

    def __init__(self, data, chunk=0):
        self.data = data
        self.pos = 0
        self.chunk = chunk
        self.sent = 0

    live = True

    def any(self):
        if not self.live:
            return 0
        left = len(self.data) - self.pos
        return min(left, self.chunk) if self.chunk else left

    def read(self, n=-1):
        k = self.any()
        if n is not None and n >= 0:
            k = min(k, n)
        if not k:
            return None
        b = self.data[self.pos:self.pos + k]
        self.pos += k
        return b

    def readinto(self, buf):
        b = self.read(len(buf))
        if not b:
            return None
        buf[:len(b)] = b
        return len(b)

    def write(self, b):
        self.sent += len(b)
        return len(b)


class CardResetPin:
    """The card's RST line: the card starts talking (its ATR, then its answers) when RST rises."""

    def __init__(self, uart):
        self.uart = uart
        self.v = 0

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v
        if v:
            self.uart.live = True


class FakePin:
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, v=1):
        self.v = v

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v


# -- BER-TLV and DOL (EMV Book 3 Annex B, 5.4) ----------------------------------------------
def t_tlv(data, tag):
    tg = 0
    for b in tag[:4]:
        tg = (tg << 8) | b
    # the allocation-free check (ISO 8583 DE 55) refuses exactly what the walk refuses, alike
    walked = checked = None
    try:
        list(tlv.tlv_iter(data))
    except tlv.TLVError as e:
        walked = str(e)
    try:
        tlv.tlv_check(data)
    except tlv.TLVError as e:
        checked = str(e)
    assert walked == checked, (walked, checked)
    n = 0
    for t, s, e, c in expect(tlv.TLVError, list, tlv.tlv_iter(data)):
        assert 0 <= s <= e <= len(data), (s, e)
        again = tlv.tlv_encode(t, data[s:e])
        assert tlv.tlv_find(again, t) == bytes(data[s:e]), "re-encoded object not found"
        n += 1
    expect(tlv.TLVError, tlv.tlv_parse, data)
    expect(tlv.TLVError, tlv.tlv_find, data, tg)
    expect(tlv.TLVError, tlv.tlv_find_path, data, (0x6F, 0xA5, tg))
    return n


def t_dol(d, values):
    entries = expect(tlv.TLVError, dol.dol_parse, d)
    src = {}
    try:
        for t, s, e, c in tlv.tlv_iter(values):
            src[t] = values[s:e]
    except tlv.TLVError:
        pass
    out = expect(tlv.TLVError, dol.dol_build, d, src)
    assert len(out) == sum(ln for _t, ln in entries), "DOL data length"
    return len(entries)


# -- ISO 8583 (firmware codec, both profiles) -------------------------------------------------
def _decode(name, data):
    s = specs.get(name)
    mti, f = expect(Iso8583Error, codec.decode, s, data)
    for v in f.values():
        assert isinstance(v, (str, bytes)), "field value type"
    # what decode accepts, encode takes back unchanged (same bytes)
    again = expect(Iso8583Error, codec.encode, s, mti, f)
    assert again == bytes(data), "decode/encode round trip differs"
    if 55 in f:
        expect(tlv.TLVError, icc.parse, f[55])
    if 64 in f or 128 in f:
        expect(Iso8583Error, mac.verify, s, data, f, b"\x11" * 16)
    return mti


def t_iso87(data):
    return _decode("iso87", data)


def t_iso87bcd(payload):
    s = specs.get("iso87bcd")
    _tp, body = expect(Iso8583Error, framing.split, s, payload)
    return _decode("iso87bcd", body)


# -- EMVCo QR (MPM, CPM) -------------------------------------------------------------------
def t_mpm(payload):
    d = expect(emvco.MpmError, emvco.parse_mpm, payload)
    a = emvco.amount_minor(d)
    assert a is None or a >= 0
    return len(d)


def t_cpm(text):
    try:
        s = bytes(text).decode()
    except UnicodeError:
        return "not text"
    out = expect(emvco.MpmError, emvco.decode_cpm, s)
    return len(out)


# -- drivers ---------------------------------------------------------------------------------
def t_scanner(*chunks):
    """Chunks arrive one after the other on the scanner's UART, polled after each arrival."""
    codes = 0
    refused = 0
    sc = scanner.Scanner(None)
    for c in chunks:
        u = ScriptedUart(c)
        sc.uart = u
        while u.any():
            try:
                r = sc.poll()
            except scanner.ScannerError:
                refused += 1
                continue
            if r is not None:
                assert 0 < len(r) and all(32 <= ord(ch) for ch in r), "bad code returned"
                codes += 1
    return "%d %d" % (codes, refused)


def t_msr(*chunks):
    """Chunks arrive one after the other on the magstripe reader's UART, polled after each."""
    rd = msr.MagstripeReader(None)
    swipes = 0
    for c in chunks:
        u = ScriptedUart(c)
        rd.uart = u
        while u.any():
            s = expect(msr.MsrError, rd.poll)
            if s is not None:
                for n, t in s.tracks.items():
                    assert n in (1, 2, 3) and t[0] in "%;" and t[-1] == "?", "track not checked"
                swipes += 1
    return swipes


def t_pn532(op, script):
    clock = FakeClock()
    pn532.time = clock
    u = ScriptedUart(script, chunk=7)
    nfc = pn532.Pn532Hsu(u)
    k = op[0] % 6 if op else 0
    if k == 0:
        r = expect(pn532.NfcError, nfc.firmware_version)
    elif k == 1:
        r = expect(pn532.NfcError, nfc.list_target)
        r = None if r is None else (r.uid, r.ats, r.iso14443_4)
    elif k == 2:
        nfc.target = pn532.Target(1, b"\x01\x02\x03\x04", b"\x00\x04", 0x20, b"")
        r = expect(pn532.NfcError, nfc.transmit, b"\x00\xa4\x04\x00\x0e2PAY.SYS.DDF01\x00")
        assert len(r) >= 2
    elif k == 3:
        nfc.target = pn532.Target(1, b"\x04\x01\x02\x03\x04\x05\x06", b"\x00\x44", 0x00, b"")
        r = expect(pn532.NfcError, nfc.ntag_ndef_text)
    elif k == 4:
        nfc.target = pn532.Target(1, b"\x01\x02\x03\x04", b"\x00\x04", 0x08, b"")
        expect(pn532.NfcError, nfc.mifare_auth, 4, b"\xff" * 6)
        r = expect(pn532.NfcError, nfc.mifare_read, 4)
    else:
        r = expect(pn532.NfcError, nfc.begin)
    return "ok"


_APDUS = (
    b"\x00\xa4\x04\x00\x0e1PAY.SYS.DDF01\x00",    # case 4
    b"\x00\xb2\x01\x0c\x00",                        # case 2
    b"\x00\x20\x00\x80\x08\x24\x12\x34\xff\xff\xff\xff\xff",   # case 3
    b"\x80\xca\x9f\x17",                            # case 1
)


def t_atr(raw):
    a = expect(iso7816.CardError, iso7816.parse_atr, raw)
    n = iso7816.atr_length(raw, len(raw))
    assert n == -1 or n >= 2
    return a.protocol


def t_iso7816(op, stream):
    clock = FakeClock()
    iso7816.time = clock
    u = ScriptedUart(stream, chunk=5)
    u.live = False
    r = iso7816.Iso7816Reader(u, CardResetPin(u), FakePin(1), None)
    expect(iso7816.CardError, r.power_on)
    k = op[0] if op else 0
    for i in range(1 + (k >> 4) % 3):
        rsp = expect(iso7816.CardError, r.transmit, _APDUS[(k + i) % len(_APDUS)])
        assert len(rsp) >= 2, "response without SW"
    return r.protocol


# -- wallet host answers (the firmware's wallet client) ---------------------------------------
class ScriptedNet:
    """Stands for the socket module: every connection receives `reply` in `chunk`-byte pieces."""

    def __init__(self, reply, chunk):
        self.reply = reply
        self.chunk = chunk

    def getaddrinfo(self, host, port):
        return [(0, 0, 0, "", (host, port))]

    def socket(self):
        return ScriptedSocket(self.reply, self.chunk)


class ScriptedSocket:
    def __init__(self, reply, chunk):
        self.reply = reply
        self.pos = 0
        self.chunk = chunk

    def settimeout(self, t):
        pass

    def connect(self, addr):
        pass

    def send(self, b):
        return len(b)

    def recv(self, n):
        k = min(n, self.chunk, len(self.reply) - self.pos)
        b = self.reply[self.pos:self.pos + k]
        self.pos += k
        return b

    def readinto(self, buf):
        """As a MicroPython socket: up to len(buf) bytes (at most one chunk), 0 at the end."""
        b = self.recv(len(buf))
        buf[:len(b)] = b
        return len(b)

    def close(self):
        pass


def t_wallet(reply, chunk):
    wallet.socket = ScriptedNet(reply, 1 + (chunk[0] if chunk else 2047))
    c = wallet.WalletClient("127.0.0.1", 8600, "TERM0001", b"K" * 16)
    r = expect(wallet.WalletError, c.order_status, "W000001")
    assert isinstance(r, dict), "answer handed on is not an object"
    return len(r)


TARGETS = {
    "tlv": t_tlv, "dol": t_dol, "iso87": t_iso87, "iso87bcd": t_iso87bcd, "mpm": t_mpm, "cpm": t_cpm,
    "wallet": t_wallet, "scanner": t_scanner, "msr": t_msr, "pn532": t_pn532, "atr": t_atr, "iso7816": t_iso7816,
}


def serve():
    """Read cases from stdin until EOF; one answer line each.

    A case is a header line "target len1 len2 ..." followed by the arguments' raw bytes
    (read at their exact size: no text decoding, no doubling, so a long input costs the
    heap only its own length)."""
    inp = sys.stdin.buffer
    while True:
        gc.collect()                       # each case starts on a collected heap, as a fresh call would
        line = inp.readline()
        if not line:
            break
        parts = line.split()
        if not parts:
            continue
        args = [inp.read(int(n)) if int(n) else b"" for n in parts[1:]]
        try:
            r = TARGETS[parts[0].decode()](*args)
            out = "ok %s" % (r,)
        except Refused as e:
            out = "family %s %s" % (type(e.exc).__name__, e.exc)
        except BaseException as e:         # noqa: B902 -- the defect being hunted, MemoryError included
            s = io.StringIO()
            sys.print_exception(e, s)
            out = "crash %s %s" % (type(e).__name__, s.getvalue())
        args = None
        print(out.replace("\\", "\\\\").replace("\n", "\\n"))
