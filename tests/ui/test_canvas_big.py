"""Canvas.big() on MicroPython: the same pixels as the font drawn glyph by glyph and scaled, and
no name interned for the characters it draws (iterating the string did intern each one; a name
pool filling mid-day asked for 2,560 bytes in one piece and a screen failed to draw)."""
from host_sim import mpy

DISPLAY = r"""
import framebuf, micropython
from pos.ui.canvas import Canvas

class Display:
    width, height = 240, 96
    def __init__(self):
        self.buf = bytearray(self.width * self.height // 8)
        self.fb = framebuf.FrameBuffer(self.buf, self.width, self.height, framebuf.MONO_HLSB)
    def mark_dirty(self, *a):
        pass
"""

CODE = DISPLAY + r"""
def reference(fb, s, x, y, scale):      # the font glyph by glyph, each pixel scaled
    g = bytearray(8)
    gfb = framebuf.FrameBuffer(g, 8, 8, framebuf.MONO_HLSB)
    for i in range(len(s)):
        gfb.fill(0)
        gfb.text(s[i:i + 1], 0, 0, 1)
        for gy in range(8):
            for gx in range(8):
                if g[gy] & (0x80 >> gx):
                    fb.fill_rect(x + (i * 8 + gx) * scale, y + gy * scale, scale, scale, 1)

d, r = Display(), Display()
c = Canvas(d)
text = "USD 1,234.56 #@~"          # characters no firmware name holds
c.big(text, 2, 10, 2)
c.big("XYZ", 5, 40, 3)
reference(r.fb, text, 2, 10, 2)
reference(r.fb, "XYZ", 5, 40, 3)
print("SAME", d.buf == r.buf, sum(1 for b in d.buf if b), sum(1 for b in r.buf if b))
"""

QSTRS = DISPLAY + r"""c = Canvas(Display())
c.big("0", 0, 0, 2)
micropython.qstr_info()
c.big("#@~^`|", 0, 0, 2)
micropython.qstr_info()
"""


def test_big_draws_the_font_scaled():
    out = mpy.run(CODE).split()
    assert out[0] == "SAME" and out[1] == "True"
    assert int(out[2]) > 50                        # it drew something


def test_big_interns_no_name_per_character():
    lines = [ln for ln in mpy.run(QSTRS).splitlines() if ln.startswith("qstr pool")]
    counts = [int(ln.split("n_qstr=")[1].split(",")[0]) for ln in lines]
    assert len(counts) == 2 and counts[1] == counts[0], lines
