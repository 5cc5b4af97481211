# 2D scanner module on a UART: codes arrive as bytes terminated by CR (or LF).  Lines longer
# than the buffer, or with control characters, are dropped with ScannerError; a code is
# never logged (a wallet code is a payment credential).
from micropython import const

_MAX = const(1024)


class ScannerError(Exception):
    def __init__(self, reason, text):
        super().__init__(text)
        self.reason = reason            # "overflow", "garbage"


class Scanner:
    def __init__(self, uart):
        self.uart = uart
        self.buf = bytearray(_MAX)
        self.n = 0
        self.overflow = False

    def poll(self):
        """The next complete code (str) or None."""
        u = self.uart
        while u.any():
            b = u.read(1)
            if not b:
                break
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
                if any(ord(ch) < 32 for ch in text):
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
