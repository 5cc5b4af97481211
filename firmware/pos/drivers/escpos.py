# ESC/POS thermal receipt printer driver (58 mm, 384 dots) over a UART.
#
# Commands from the Epson ESC/POS command reference (TM series); the driver
# takes a machine.UART like micropython-lib drivers take their bus.  Output
# is written in small preallocated command buffers; text is encoded once per
# call.  Real-time status (DLE EOT n) is read back over the same UART to see
# paper out, paper near end and cover open before and after a receipt.
from micropython import const

_ESC = const(0x1B)
_GS = const(0x1D)
_DLE = const(0x10)
# DLE EOT asked this many times before the printer counts as not answering: one answer lost
# (a byte on a noisy line, a printer busy for a moment) is not a printer gone; a receipt not
# printed for it is a sale without its slip (the merchant reprints by hand)
_STATUS_TRIES = const(3)

ALIGN_LEFT = const(0)
ALIGN_CENTER = const(1)
ALIGN_RIGHT = const(2)

# ESC ! n print mode bits
_MODE_FONT_B = const(0x01)
_MODE_BOLD = const(0x08)
_MODE_DOUBLE_H = const(0x10)
_MODE_DOUBLE_W = const(0x20)
_MODE_UNDERLINE = const(0x80)

# GS k function B symbologies
BARCODE_UPCA = const(65)
BARCODE_EAN13 = const(67)
BARCODE_EAN8 = const(68)
BARCODE_CODE39 = const(69)
BARCODE_ITF = const(70)
BARCODE_CODE128 = const(73)

# QR error correction levels (GS ( k fn 169)
QR_EC_L = const(48)
QR_EC_M = const(49)
QR_EC_Q = const(50)
QR_EC_H = const(51)

COLUMNS = const(32)        # font A characters per line on 384 dots


class PrinterError(Exception):
    """The printer cannot print now; the message says what the merchant should do."""


class PaperOut(PrinterError):
    pass


class CoverOpen(PrinterError):
    pass


class PrinterOffline(PrinterError):
    pass


class Status:
    """Decoded real-time status (DLE EOT 1, 2 and 4)."""

    def __init__(self, printer, offline, roll):
        self.online = not (printer & 0x08)
        self.cover_open = bool(offline & 0x04)
        self.paper_out = bool(roll & 0x60) or bool(offline & 0x20)
        self.paper_near_end = bool(roll & 0x0C)

    def __repr__(self):
        return "<Status online=%s paper_out=%s near_end=%s cover_open=%s>" % (
            self.online, self.paper_out, self.paper_near_end, self.cover_open)


class EscPos:
    def __init__(self, uart, codepage=0, timeout_ms=500):
        self.uart = uart
        self.codepage = codepage
        self.timeout_ms = timeout_ms
        self._cmd = bytearray(10)
        self._mv = memoryview(self._cmd)
        self._mode = 0
        self._one = bytearray(1)

    # -- raw output ------------------------------------------------------
    def _send(self, *parts):
        c = self._cmd
        for i, b in enumerate(parts):
            c[i] = b
        self.uart.write(self._mv[:len(parts)])

    def write(self, data):
        self.uart.write(data)

    # -- setup -------------------------------------------------------------
    def init(self):
        """ESC @ then select the code page (ESC t n)."""
        self._send(_ESC, 0x40)
        self._send(_ESC, 0x74, self.codepage)
        self._mode = 0

    # -- text modes ----------------------------------------------------------
    def _set_mode(self, bit, on):
        self._mode = (self._mode | bit) if on else (self._mode & ~bit)
        self._send(_ESC, 0x21, self._mode)

    def bold(self, on=True):
        self._set_mode(_MODE_BOLD, on)

    def underline(self, on=True):
        self._set_mode(_MODE_UNDERLINE, on)

    def font_b(self, on=True):
        self._set_mode(_MODE_FONT_B, on)

    def double(self, width=True, height=True):
        self._mode &= ~(_MODE_DOUBLE_H | _MODE_DOUBLE_W)
        if width:
            self._mode |= _MODE_DOUBLE_W
        if height:
            self._mode |= _MODE_DOUBLE_H
        self._send(_ESC, 0x21, self._mode)

    def normal(self):
        self._mode = 0
        self._send(_ESC, 0x21, 0)

    def align(self, where):
        self._send(_ESC, 0x61, where)

    def line_spacing(self, dots=None):
        if dots is None:
            self._send(_ESC, 0x32)
        else:
            self._send(_ESC, 0x33, dots)

    # -- text --------------------------------------------------------------
    def text(self, s):
        """Print text; '\\n' prints the line.  Non-ASCII becomes '?' (code page 437)."""
        if isinstance(s, str):
            try:
                s = s.encode("ascii")
            except UnicodeError:
                s = bytes((ord(ch) if ord(ch) < 0x80 else 0x3F) for ch in s)
        self.uart.write(s)

    def line(self, s=""):
        self.text(s)
        self._send(0x0A)

    def columns(self, left, right, width=COLUMNS):
        """One line with `left` flush left and `right` flush right."""
        gap = width - len(left) - len(right)
        if gap < 1:
            left = left[:max(0, width - len(right) - 1)]
            gap = width - len(left) - len(right)
        self.line(left + " " * gap + right)

    def feed(self, lines=1):
        self._send(_ESC, 0x64, lines)

    def cut(self, partial=False, feed_dots=48):
        """Feed to the cutter and cut (GS V 66 n: feed n dots then partial cut)."""
        self._send(_GS, 0x56, 66 if partial else 65, feed_dots)

    # -- codes ---------------------------------------------------------------
    def barcode(self, data, kind=BARCODE_CODE128, height=80, width=2, hri_below=True):
        if isinstance(data, str):
            data = data.encode()
        if kind == BARCODE_CODE128 and not data.startswith(b"{"):
            data = b"{B" + data
        if len(data) > 255:
            raise ValueError("barcode data too long (%d bytes, max 255)" % len(data))
        self._send(_GS, 0x68, height)
        self._send(_GS, 0x77, width)
        self._send(_GS, 0x48, 2 if hri_below else 0)
        self._send(_GS, 0x6B, kind, len(data))
        self.uart.write(data)

    def qr(self, data, module=4, ec=QR_EC_M):
        """Print a QR code with the printer's own encoder (GS ( k, cn 49)."""
        if isinstance(data, str):
            data = data.encode()
        n = len(data) + 3
        if n > 7092:
            raise ValueError("QR data too long (%d bytes)" % len(data))
        self._send(_GS, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0x00)       # fn 165: model 2
        self._send(_GS, 0x28, 0x6B, 3, 0, 0x31, 0x43, module)           # fn 167: module size
        self._send(_GS, 0x28, 0x6B, 3, 0, 0x31, 0x45, ec)               # fn 169: error correction
        self._send(_GS, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, 0x50, 0x30)  # fn 180: store
        self.uart.write(data)
        self._send(_GS, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30)             # fn 181: print

    def raster(self, bitmap, width, height):
        """Print a 1-bit raster image (GS v 0); bitmap rows are (width+7)//8 bytes, MSB left."""
        xb = (width + 7) // 8
        if len(bitmap) != xb * height:
            raise ValueError("raster is %d bytes, expected %d for %dx%d" % (len(bitmap), xb * height, width, height))
        self._send(_GS, 0x76, 0x30, 0, xb & 0xFF, xb >> 8, height & 0xFF, height >> 8)
        self.uart.write(bitmap)

    def kick_drawer(self, pin=0, on_ms=100, off_ms=100):
        """ESC p m t1 t2: pulse the cash drawer connector (units of 2 ms)."""
        self._send(_ESC, 0x70, pin, min(255, on_ms // 2), min(255, off_ms // 2))

    # -- status ----------------------------------------------------------------
    def _realtime(self, n, tries):
        uart = self.uart
        for _ in range(tries):
            while uart.any():               # a late answer to the last try, or noise
                uart.read()
            self._send(_DLE, 0x04, n)
            if uart.readinto(self._one):    # waits the UART's timeout (500 ms from the board)
                break
        else:
            raise PrinterOffline("printer not answering: check its cable and power")
        b = self._one[0]
        if b & 0x93 != 0x12:
            raise PrinterOffline("printer status byte 0x%02x is not ESC/POS: check the printer model" % b)
        return b

    def status(self, tries=_STATUS_TRIES):
        """The printer's real-time status; `tries`: DLE EOT asked that many times before
        PrinterOffline (1 for a poll that comes again anyway: each unanswered try waits the
        UART's timeout, and an idle screen's poll must not hold the keypad that long)."""
        return Status(self._realtime(1, tries), self._realtime(2, tries), self._realtime(4, tries))

    def check_ready(self):
        """Raise the PrinterError the merchant must act on, or return the Status."""
        st = self.status()
        if st.cover_open:
            raise CoverOpen("printer cover open: close it")
        if st.paper_out:
            raise PaperOut("printer out of paper: load a new roll")
        if not st.online:
            raise PrinterOffline("printer offline: check it")
        return st


def from_board(board):
    from machine import UART
    uart = UART(board.PRINTER_UART, board.PRINTER_BAUD, timeout=500)
    return EscPos(uart)
