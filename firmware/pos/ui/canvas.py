# Drawing on the display's 1-bit framebuffer: text lines on an 8x8 grid,
# double-size text for amounts, the title bar, inverted selection rows.
from micropython import const
import framebuf

CHAR = const(8)
TITLE_H = const(24)
LINE_H = const(16)
BODY_Y = const(32)

INK = const(1)
PAPER = const(0)


def _ascii(s):
    # as many UTF-8 bytes as characters: all ASCII.  (Iterating the str instead interns each
    # character as a name for ever, and a name pool that fills mid-day asks for a block the
    # day's heap may not have.)
    return len(s) == len(s.encode())


class Canvas:
    owner = None        # who holds the display alone ("PIN entry"): installed apps may not draw

    def __init__(self, display):
        self.d = display
        self.fb = display.fb
        self.width = display.width
        self.height = display.height
        self._glyph = bytearray(8)
        self._gfb = framebuf.FrameBuffer(self._glyph, 8, 8, framebuf.MONO_HLSB)

    def clear(self):
        self.fb.fill(PAPER)
        self.d.mark_dirty()

    def title(self, left, right=""):
        """The top bar: inverted, `left` text, `right` text flush right."""
        fb = self.fb
        fb.fill_rect(0, 0, self.width, TITLE_H, INK)
        self._put(left[: (self.width // CHAR) - 1], 4, 8, PAPER)
        if right:
            self._put(right, self.width - 4 - self._width(right), 8, PAPER)
        self.d.mark_dirty(0, TITLE_H)

    def text(self, s, row, col=0, inverted=False):
        """Text on body row `row` (16 px rows under the title), column `col` (8 px)."""
        y = BODY_Y + row * LINE_H
        x = 4 + col * CHAR
        if inverted:
            self.fb.fill_rect(0, y - 4, self.width, LINE_H, INK)
        self._put(s, x, y, PAPER if inverted else INK)
        self.d.mark_dirty(y - 4, y + LINE_H)

    def center(self, s, row, scale=1):
        if not _ascii(s):
            scale = 1                     # wide glyphs come in one size
        w = self._width(s) * scale
        x = max(0, (self.width - w) // 2)
        y = BODY_Y + row * LINE_H
        if scale == 1:
            self._put(s, x, y, INK)
        else:
            self.big(s, x, y, scale)
        self.d.mark_dirty(y, y + CHAR * scale)

    def big(self, s, x, y, scale=2):
        """Text at `scale` times the 8x8 font (for amounts; ASCII).  Each character is taken as
        a slice, a plain string: iterating the str made each one an interned name for ever, and
        the name pool that fills then asks for 2,560 bytes in one piece (a screen once failed
        to draw there with 85 KB free)."""
        g = self._gfb
        glyph = self._glyph
        fb = self.fb
        for i in range(len(s)):
            g.fill(0)
            g.text(s[i:i + 1], 0, 0, 1)
            for gy in range(8):
                row = glyph[gy]
                if not row:
                    continue
                for gx in range(8):
                    if row & (0x80 >> gx):
                        fb.fill_rect(x + gx * scale, y + gy * scale, scale, scale, INK)
            x += 8 * scale
        self.d.mark_dirty(y, y + 8 * scale)

    def clear_rows(self, row0, rows=1):
        y = BODY_Y + row0 * LINE_H - 4
        self.fb.fill_rect(0, y, self.width, rows * LINE_H, PAPER)
        self.d.mark_dirty(y, y + rows * LINE_H)

    def footer(self, s):
        y = self.height - 16
        self.fb.fill_rect(0, y - 4, self.width, 20, PAPER)
        self.fb.hline(0, y - 5, self.width, INK)
        self._put(s, 4, y, INK)
        self.d.mark_dirty(y - 5, self.height)

    def _put(self, s, x, y, color):
        if _ascii(s):
            self.fb.text(s, x, y, color)
        else:
            from pos.ui import cjk          # only when a catalog needs it
            try:
                cjk.draw(self.fb, s, x, y, color)
            except OSError:                 # font subset missing: say so in ASCII
                self.fb.text("?" * len(s), x, y, color)

    def _width(self, s):
        if _ascii(s):
            return len(s) * CHAR
        from pos.ui import cjk
        return cjk.width(s)

    def show(self):
        return self.d.show()
