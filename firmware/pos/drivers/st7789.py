# ST7789V TFT controller, 240x320, 4-line SPI (Sitronix ST7789V datasheet v1.6).
#
# Memory: a full RGB565 frame is 153,600 bytes, more than most of the 192 KB
# heap.  The screen is drawn instead into a 1-bit framebuf (9,600 bytes) and
# pushed in horizontal bands through one small preallocated RGB565 line
# buffer, two colours per band (a palette of foreground/background pairs can
# be set per row range, e.g. an inverted title bar).  Only rows marked dirty
# since the last show() are sent.
import framebuf
import time
from micropython import const

# Commands (datasheet 9.1)
_SWRESET = const(0x01)
_SLPOUT = const(0x11)
_NORON = const(0x13)
_INVOFF = const(0x20)
_DISPOFF = const(0x28)
_DISPON = const(0x29)
_CASET = const(0x2A)
_RASET = const(0x2B)
_RAMWR = const(0x2C)
_MADCTL = const(0x36)
_COLMOD = const(0x3A)

WIDTH = const(240)
HEIGHT = const(320)
_BAND = const(16)                 # rows per SPI burst
_ROW_BYTES = const(30)            # 240 / 8

WHITE = const(0xFFFF)
BLACK = const(0x0000)
NAVY = const(0x10A6)


def _swap(c):
    return ((c & 0xFF) << 8) | (c >> 8)


def rgb565(r, g, b):
    return ((r & 0xF8) << 8) | ((g & 0xFC) << 3) | (b >> 3)


class ST7789:
    def __init__(self, spi, cs, dc, rst=None, bl=None, width=WIDTH, height=HEIGHT):
        self.spi = spi
        self.cs = cs
        self.dc = dc
        self.rst = rst
        self.bl = bl
        self.width = width
        self.height = height
        self.buf = bytearray(width * height // 8)
        self.fb = framebuf.FrameBuffer(self.buf, width, height, framebuf.MONO_HLSB)
        self._line = bytearray(width * 2 * _BAND)
        # framebuf does the 1-bit -> RGB565 expansion in C: blit a band of the
        # mono frame onto an RGB565 band through a 2-entry palette.
        self._band = framebuf.FrameBuffer(self._line, width, _BAND, framebuf.RGB565)
        self._pal = framebuf.FrameBuffer(bytearray(4), 2, 1, framebuf.RGB565)
        self._cmd = bytearray(1)
        self._arg = bytearray(4)
        self._dirty_lo = 0
        self._dirty_hi = height
        # colour pairs per row range: list of (y0, y1, fg, bg), later wins
        self.fg = NAVY
        self.bg = WHITE
        self._bands = []
        cs.init(cs.OUT, value=1)
        dc.init(dc.OUT, value=0)
        if rst is not None:
            rst.init(rst.OUT, value=1)
        if bl is not None:
            bl.init(bl.OUT, value=0)

    # -- bus -----------------------------------------------------------
    def _write_cmd(self, cmd, data=None):
        self.cs(0)
        self.dc(0)
        self._cmd[0] = cmd
        self.spi.write(self._cmd)
        if data is not None:
            self.dc(1)
            self.spi.write(data)
        self.cs(1)

    def _window(self, x0, y0, x1, y1):
        a = self._arg
        a[0] = x0 >> 8
        a[1] = x0 & 0xFF
        a[2] = x1 >> 8
        a[3] = x1 & 0xFF
        self._write_cmd(_CASET, a)
        a[0] = y0 >> 8
        a[1] = y0 & 0xFF
        a[2] = y1 >> 8
        a[3] = y1 & 0xFF
        self._write_cmd(_RASET, a)

    # -- power-up (datasheet 8.x power flow, 9.1 command timings) ---------
    def init(self):
        if self.rst is not None:
            self.rst(0)
            time.sleep_ms(1)          # TRW >= 10 us
            self.rst(1)
            time.sleep_ms(120)        # TRT: reset cancel to ready
        self._write_cmd(_SWRESET)
        time.sleep_ms(150)
        self._write_cmd(_SLPOUT)
        time.sleep_ms(120)            # sleep out: wait 120 ms before next command
        self._write_cmd(_COLMOD, b"\x55")        # 16 bit/pixel (RGB565)
        self._write_cmd(_MADCTL, b"\x00")        # top-left origin, RGB order
        self._write_cmd(_INVOFF)
        self._write_cmd(_NORON)
        self.fb.fill(0)
        self.mark_dirty()
        self.show()
        self._write_cmd(_DISPON)
        if self.bl is not None:
            self.bl(1)

    def power(self, on):
        self._write_cmd(_DISPON if on else _DISPOFF)
        if self.bl is not None:
            self.bl(1 if on else 0)

    # -- drawing helpers (the UI draws on self.fb) -------------------------
    def set_colors(self, fg, bg):
        self.fg = fg
        self.bg = bg
        self.mark_dirty()

    def set_band_colors(self, y0, y1, fg, bg):
        """Rows y0..y1-1 use these colours (e.g. an inverted title bar)."""
        self._bands.append((y0, y1, fg, bg))
        self.mark_dirty(y0, y1)

    def clear_band_colors(self):
        self._bands = []
        self.mark_dirty()

    def mark_dirty(self, y0=0, y1=HEIGHT):
        if self._dirty_hi <= self._dirty_lo:
            self._dirty_lo, self._dirty_hi = y0, y1
        else:
            self._dirty_lo = min(self._dirty_lo, y0)
            self._dirty_hi = max(self._dirty_hi, y1)

    def _colors_for(self, y):
        fg, bg = self.fg, self.bg
        for (b0, b1, f, b) in self._bands:
            if b0 <= y < b1:
                fg, bg = f, b
        return fg, bg

    def show(self):
        """Send the dirty rows to the panel; returns the number of rows sent."""
        y = self._dirty_lo
        end = min(self._dirty_hi, self.height)
        if end <= y:
            return 0
        sent = end - y
        mv = memoryview(self.buf)
        line = memoryview(self._line)
        while y < end:
            fg, bg = self._colors_for(y)
            n = 1
            # a burst: up to _BAND rows sharing the same colours
            while n < _BAND and y + n < end and self._colors_for(y + n) == (fg, bg):
                n += 1
            src = framebuf.FrameBuffer(mv[y * _ROW_BYTES:(y + n) * _ROW_BYTES], self.width, n,
                                       framebuf.MONO_HLSB)
            # the panel takes RGB565 big-endian; framebuf stores native (little-endian)
            self._pal.pixel(0, 0, _swap(bg))
            self._pal.pixel(1, 0, _swap(fg))
            self._band.blit(src, 0, 0, -1, self._pal)
            self._window(0, y, self.width - 1, y + n - 1)
            self.cs(0)
            self.dc(0)
            self._cmd[0] = _RAMWR
            self.spi.write(self._cmd)
            self.dc(1)
            self.spi.write(line[:n * self.width * 2])
            self.cs(1)
            y += n
        self._dirty_lo = self._dirty_hi = 0
        return sent


def from_board(board):
    from machine import SPI, Pin
    spi = SPI(board.DISPLAY_SPI, baudrate=board.DISPLAY_BAUD, polarity=0, phase=0)
    return ST7789(spi, Pin(board.DISPLAY_CS), Pin(board.DISPLAY_DC),
                  Pin(board.DISPLAY_RST), Pin(board.DISPLAY_BL),
                  board.DISPLAY_WIDTH, board.DISPLAY_HEIGHT)
