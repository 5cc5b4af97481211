# Magnetic stripe reader module on a UART (frame documented in host_sim/devices/msr.py):
# STX, per track: number, status ('0' good / 'E' unreadable), characters with sentinels
# and LRC, then ETX and BCC.  Every frame, track, character set and LRC is checked; track
# data is never logged (it is card data: PCI DSS).
from micropython import const

_STX = const(2)
_ETX = const(3)
_MAX = const(256)


class MsrError(Exception):
    def __init__(self, reason, text):
        super().__init__(text)
        self.reason = reason            # "frame", "overflow", "lrc", "charset", "unreadable"


class Swipe:
    __slots__ = ("tracks", "errors")

    def __init__(self):
        self.tracks = {}                # number -> str (sentinels included, LRC removed)
        self.errors = {}                # number -> reason

    def __repr__(self):                 # never the data itself
        return "Swipe(tracks=%s, errors=%s)" % (sorted(self.tracks), self.errors)


def _check_track(n, t):
    base, mask = (0x20, 0x3F) if n == 1 else (0x30, 0x0F)
    start, lo, hi = (0x25, 0x20, 0x5F) if n == 1 else (0x3B, 0x30, 0x3F)      # '%', ';'
    # read as bytes: each character of a str iterated or indexed is interned as a name
    b = t.encode()
    if len(b) < 3 or b[0] != start or b[-2] != 0x3F:                          # '?'
        raise MsrError("charset", "track %d: sentinels missing" % n)
    x = 0
    for i in range(len(b) - 1):
        o = b[i]
        if not lo <= o <= hi:
            raise MsrError("charset", "track %d: character outside its set" % n)
        x ^= (o - base) & mask
    if b[-1] - base != x:
        raise MsrError("lrc", "track %d: LRC check failed (swipe again)" % n)
    return t[:-1]


def parse_frame(frame):
    """Swipe from one complete frame (bytes from STX through BCC)."""
    if len(frame) < 4 or frame[0] != _STX or frame[-2] != _ETX:
        raise MsrError("frame", "not a reader frame")
    body = frame[1:-2]
    bcc = 0
    for b in body:
        bcc ^= b
    if bcc != frame[-1]:
        raise MsrError("frame", "frame check (BCC) failed")
    s = Swipe()
    i = 0
    n = len(body)
    while i < n:
        num = body[i] - 48
        if num not in (1, 2, 3) or i + 1 >= n:
            raise MsrError("frame", "bad track header")
        st = body[i + 1]
        i += 2
        if st == 0x45:                  # 'E'
            s.errors[num] = "unreadable"
            continue
        if st != 0x30:
            raise MsrError("frame", "bad track status")
        end = body.find(b"?", i)
        if end < 0 or end + 1 >= n:
            raise MsrError("frame", "track %d: no end sentinel" % num)
        raw = body[i:end + 2]           # data, '?', LRC
        i = end + 2
        try:
            s.tracks[num] = _check_track(num, raw.decode())
        except MsrError as e:
            s.errors[num] = e.reason
        except UnicodeError:
            s.errors[num] = "charset"
    if not s.tracks and not s.errors:
        raise MsrError("frame", "empty swipe")
    return s


class MagstripeReader:
    def __init__(self, uart):
        self.uart = uart
        self.buf = bytearray(_MAX)
        self.n = 0

    def poll(self):
        """A Swipe when a whole frame has arrived, else None; garbage before STX is dropped,
        an unfinished frame (half swipe) is dropped when the next STX comes (STX can only be
        a frame start: track bytes are printable and the BCC directly follows ETX), a frame
        longer than the buffer raises MsrError("overflow")."""
        u = self.uart
        while u.any():
            b = u.read(1)
            if not b:
                break
            c = b[0]
            if self.n == 0 and c != _STX:
                continue                        # noise between frames
            if c == _STX and self.n and self.buf[self.n - 1] != _ETX:
                self.n = 0                      # a half swipe, then a new frame: start over
            if self.n >= _MAX:
                self.n = 0
                raise MsrError("overflow", "swipe data longer than %d bytes" % _MAX)
            self.buf[self.n] = c
            self.n += 1
            if self.n >= 4 and self.buf[self.n - 2] == _ETX:     # ETX then BCC: complete
                frame = bytes(self.buf[:self.n])
                self.n = 0
                return parse_frame(frame)
        return None


def from_board(board):
    from machine import UART
    return MagstripeReader(UART(board.MSR_UART, 9600, bits=8, parity=None, stop=1, timeout=0))
