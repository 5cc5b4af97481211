# 2D scanner module on a UART: codes arrive as bytes terminated by CR (or LF).  Lines longer
# than the buffer, or with control characters, are dropped with ScannerError; a code is
# never logged (a wallet code is a payment credential).
#
# A scanner sends each decoded code in one burst (at 9600 baud a byte every ~1 ms).  A code
# whose terminator never came (noise, a code cut short) is dropped once the line has been
# quiet for GAP_MS: it is never joined to the next code, which would pay with a code the
# customer never showed.  The gap is measured from the last byte the driver read, so it is
# longer than the UI's tick (250 ms): a poll loop stalled for longer than GAP_MS in the
# middle of a burst makes the customer scan again (safe), never a joined code.
#
#     sc = Scanner(uart)
#     sc.flush()              # the terminal asks for a code now: older input is not this payment
#     code = sc.poll()        # None, a code, or ScannerError (scan again)
import time

from micropython import const

_MAX = const(1024)
GAP_MS = const(500)            # silence that ends a burst (2 UI ticks; 480 bytes at 9600 baud)


class ScannerError(Exception):
    def __init__(self, reason, text):
        super().__init__(text)
        self.reason = reason            # "overflow", "garbage", "incomplete"


class Scanner:
    def __init__(self, uart, gap_ms=GAP_MS):
        self.uart = uart
        self.gap_ms = gap_ms
        self.buf = bytearray(_MAX)
        self.n = 0
        self.overflow = False
        self.last_byte = time.ticks_ms()

    def _stale(self):
        return time.ticks_diff(time.ticks_ms(), self.last_byte) > self.gap_ms

    def _drop_unterminated(self):
        """A held partial code whose burst ended without CR/LF: drop it, say so."""
        self.n = 0
        self.overflow = False
        raise ScannerError("incomplete", "code cut short: scan again")

    def flush(self):
        """Drop what arrived while nobody asked for a code (called when a scan is asked for)."""
        u = self.uart
        while u.any():
            if not u.read(u.any()):
                break
        self.n = 0
        self.overflow = False

    def poll(self):
        """The next complete code (str) or None."""
        u = self.uart
        if (self.n or self.overflow) and self._stale():
            self._drop_unterminated()
        while u.any():
            b = u.read(1)
            if not b:
                break
            self.last_byte = time.ticks_ms()
            c = b[0]
            if c in (13, 10):
                if self.overflow:
                    self.overflow = False
                    self.n = 0
                    raise ScannerError("overflow", "code longer than %d bytes: scan again" % _MAX)
                if self.n == 0:
                    continue
                line = bytes(self.buf[:self.n])
                self.n = 0
                try:
                    text = line.decode()
                except UnicodeError:
                    raise ScannerError("garbage", "unreadable code: scan again")
                if any(c < 32 for c in line):        # bytes: a str's characters would be interned
                    raise ScannerError("garbage", "unreadable code: scan again")
                return text
            if self.n >= _MAX:
                self.overflow = True
                continue
            self.buf[self.n] = c
            self.n += 1
        return None


def from_board(board):
    from machine import UART
    return Scanner(UART(board.SCANNER_UART, 9600, bits=8, parity=None, stop=1, timeout=0))
