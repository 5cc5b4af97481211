# 16x16 CJK glyphs from the build-time font subset (tools/posbuild/fonts.py):
# only the code point index (2 bytes per glyph) is kept in RAM; each glyph's 32
# bytes are read from the file into one preallocated buffer when drawn.
import framebuf
from micropython import const

PATH = "/rom/pos/ui/font_zh.bin"
_FALLBACK = ("pos/ui/font_zh.bin", "/flash/pos/ui/font_zh.bin")
_HDR = const(10)
_GLYPH = const(32)


class FontMissing(OSError):
    pass


class Font16:
    def __init__(self, path=None):
        f = None
        for p in ((path,) if path else (PATH,) + _FALLBACK):
            try:
                f = open(p, "rb")
                break
            except OSError:
                pass
        if f is None:
            raise FontMissing("CJK font subset not installed (flash the firmware again)")
        hdr = f.read(_HDR)
        if hdr[:4] != b"PF16":
            f.close()
            raise FontMissing("font_zh.bin is not a PF16 font")
        n = hdr[8] | (hdr[9] << 8)
        self.n = n
        self.index = f.read(2 * n)          # sorted little-endian u16 code points
        self.f = f
        self.buf = bytearray(_GLYPH)
        self.fb = framebuf.FrameBuffer(self.buf, 16, 16, framebuf.MONO_HLSB)

    def find(self, cp):
        idx = self.index
        lo, hi = 0, self.n - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            v = idx[2 * mid] | (idx[2 * mid + 1] << 8)
            if v == cp:
                return mid
            if v < cp:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def glyph(self, ch):
        """A 16x16 FrameBuffer of `ch`, or None if the subset lacks it."""
        i = self.find(ord(ch))
        if i < 0:
            return None
        self.f.seek(_HDR + 2 * self.n + _GLYPH * i)
        self.f.readinto(self.buf)
        return self.fb


_font = None


def font():
    global _font
    if _font is None:
        _font = Font16()
    return _font


def width(s):
    """Pixel width of `s`: 8 per ASCII character, 16 per wide one."""
    w = 0
    for ch in s:
        w += 8 if ord(ch) < 128 else 16
    return w


def draw(fb, s, x, y, color):
    """Mixed ASCII/CJK text on `fb`; wide glyphs are 16 px tall, starting 4 px above y."""
    f = None
    for ch in s:
        if ord(ch) < 128:
            fb.text(ch, x, y, color)
            x += 8
            continue
        if f is None:
            f = font()
        g = f.glyph(ch)
        if g is not None:
            # blit with a 2-colour palette so ink takes `color` and paper stays transparent
            pal = _palette(color)
            fb.blit(g, x, y - 4, 1 - color if color in (0, 1) else -1, pal)
        x += 16
    return x


_pals = {}


def _palette(color):
    p = _pals.get(color)
    if p is None:
        b = bytearray(1)
        p = framebuf.FrameBuffer(b, 2, 1, framebuf.MONO_HLSB)
        p.pixel(0, 0, 1 - color)
        p.pixel(1, 0, color)
        _pals[color] = p
    return p
