"""Magnetic stripe reader module on a UART (model of a typical serial MSR head).

The stripe is encoded per ISO/IEC 7811 / 7813: track 1 IATA 6-bit alphanumeric (start
sentinel '%', format code 'B', PAN, '^', name, '^', YYMM expiry, 3-digit service code,
discretionary data, end sentinel '?'), track 2 ABA 4-bit numeric (';' PAN '=' YYMM service
code discretionary '?'); each track ends with its LRC character: the XOR of the character
codes (track 1: char - 0x20, 6 bits; track 2: char - 0x30, 4 bits) of every character from
the start sentinel to the end sentinel.

What the module sends after a swipe (documented frame of this model, the shape of common
serial MSR modules): STX, then per track read: the track number ('1'..'3'), a status
('0' read and LRC good, 'E' unreadable), for status '0' the track characters with sentinels
and the LRC character; then ETX and a BCC (XOR of every byte between STX and ETX).

On the stripe itself (`stripe_bits`) every character is its data bits, least significant
first, followed by an odd-parity bit (track 1: 6 + 1 bits, track 2: 4 + 1 bits); the LRC
character carries its own odd parity (ISO/IEC 7811-2/-6). A swipe may go either way
(`direction="reverse"` reads the bits backwards); the module decodes both directions, so
the frame sent is the same.

Faults: "bad_lrc" (the next swipe's track 2 LRC is wrong), "unreadable" (track 2 reported
'E'), "noise" (garbage bytes before the frame), "half" (the frame stops after track 1).
"""
from host_sim.devices.base import UartDevice

STX, ETX = 0x02, 0x03


def lrc(track, base):
    x = 0
    for c in track:
        x ^= (ord(c) - base) & (0x3F if base == 0x20 else 0x0F)
    return chr(base + x)


def track1(pan, name, expiry_yymm, service_code, discretionary="0000000000"):
    return "%%B%s^%s^%s%s%s?" % (pan, name[:26], expiry_yymm, service_code, discretionary)


def track2(pan, expiry_yymm, service_code, discretionary="00000000000"):
    return ";%s=%s%s%s?" % (pan, expiry_yymm, service_code, discretionary)


def stripe_bits(track, n):
    """The bit string recorded on track `n` (1 or 2) for `track` (sentinels included) and
    its LRC: per character the data bits LSB first, then the odd-parity bit."""
    base, width = (0x20, 6) if n == 1 else (0x30, 4)
    out = []
    for c in track + lrc(track, base):
        v = ord(c) - base
        bits = [(v >> i) & 1 for i in range(width)]
        out.extend(bits + [1 - (sum(bits) & 1)])
    return "".join(str(b) for b in out)


class MagstripeReader(UartDevice):
    kind = "msr"
    FAULTS = ("bad_lrc", "unreadable", "noise", "half")

    def __init__(self, name=None):
        super().__init__(name)
        self.swipes = 0
        self.sent = []
        self.last_bits = {}

    def uart_rx(self, data):
        pass                                     # the module takes no commands in this mode

    def swipe(self, track1=None, track2=None, card=None, direction="forward"):
        """Swipe a stripe: explicit track strings, or `card` = dict(pan, name, expiry (YYMM),
        service_code). `direction` "forward" or "reverse": the bits the head saw are kept in
        `self.last_bits` (reversed for a reverse swipe); the frame is the same either way."""
        if direction not in ("forward", "reverse"):
            raise ValueError("direction must be 'forward' or 'reverse'")
        if card is not None:
            track1 = globals()["track1"](card["pan"], card.get("name", "TEST/CARDHOLDER"), card["expiry"],
                                         card.get("service_code", "201"))
            track2 = globals()["track2"](card["pan"], card["expiry"], card.get("service_code", "201"))
        self.last_bits = {}
        for n, t in ((1, track1), (2, track2)):
            if t is not None:
                b = stripe_bits(t, n)
                self.last_bits[n] = b[::-1] if direction == "reverse" else b
        body = bytearray()
        with self.lock:
            faults = dict(self.faults)
            self.faults.pop("bad_lrc", None)
        for n, t, base in ((1, track1, 0x20), (2, track2, 0x30)):
            if t is None:
                continue
            if n == 2 and "unreadable" in faults:
                body += b"2E"
                continue
            l = lrc(t, base)
            if n == 2 and "bad_lrc" in faults:
                l = chr(base + ((ord(l) - base + 1) & (0x3F if base == 0x20 else 0x0F)))
            body += ("%d0%s%s" % (n, t, l)).encode("ascii")
            if "half" in faults:
                break
        bcc = 0
        for b in body:
            bcc ^= b
        frame = bytes([STX]) + bytes(body) + bytes([ETX, bcc])
        if "half" in faults:
            frame = bytes([STX]) + bytes(body)
        if "noise" in faults:
            frame = b"\xff\x13\x37" + frame
        self.swipes += 1
        self.sent.append(frame)
        self.emit(event="swipe", direction=direction, tracks=[n for n, t in ((1, track1), (2, track2)) if t])
        self.uart_tx(frame)
        return frame
