"""The ST7789 model's text reading (host_sim.devices.st7789._read_text), which every test that
waits for a screen relies on, against a plain reference: the same rules written as one glyph
lookup per pixel position. Frames drawn here mix single- and double-size text, light text on
dark bars and the firmware's CJK glyphs at random places; both readings must agree exactly."""
import random

import pytest

from host_sim.devices import st7789
from host_sim.devices.glyphs import font16, font8x8
from host_sim.devices.st7789 import HEIGHT, WIDTH, _lines

from test_st7789_model import awake, cmd, window


# -- the reference: every window looked up ---------------------------------------------------
def _ref_match(rows, font, scale, width=WIDTH):
    out = []
    h = len(rows)
    for y in range(h - 7):
        r = rows[y:y + 8]
        if not any(r[:7]):
            continue
        above = rows[y - 1] if y > 0 else 0
        below = rows[y + 8] if y + 8 < h else 0
        for x in range(width - 7):
            shift = width - 8 - x
            ch = font.get(tuple((v >> shift) & 0xFF for v in r))
            if ch is not None and not ((above >> shift) & 0xFF) and not ((below >> shift) & 0xFF):
                out.append((y, x, scale, ch))
    return out


def _ref_match_wide(rows, width=WIDTH):
    table, keys = font16()
    out = []
    for y in range(len(rows) - 15):
        for k, firsts in keys.items():
            v = rows[y + k]
            for x in range(width - 15):
                shift = width - 16 - x
                if v and ((v >> shift) & 0xFFFF) in firsts:
                    ch = table.get(tuple((rows[y + i] >> shift) & 0xFFFF for i in range(16)))
                    if ch is not None:
                        out.append((y + 4, x, 1, ch, 16))
    return out


def reference_text(d):
    px = d.image().convert("L").load()
    font = font8x8()
    found, wide = [], []
    for polarity in (0, 1):
        rows = []
        for y in range(HEIGHT):
            v = 0
            for x in range(WIDTH):
                if (px[x, y] < 128) != bool(polarity):
                    v |= 1 << (WIDTH - 1 - x)
            rows.append(v)
        found += _ref_match(rows, font, 1)
        half_all, half_any = [], []
        for y in range(0, HEIGHT, 2):
            a, b = rows[y], rows[y + 1]
            va = vn = 0
            for x in range(0, WIDTH, 2):
                sh = WIDTH - 2 - x
                bit = 1 << (WIDTH // 2 - 1 - x // 2)
                if ((a & b) >> sh) & 3 == 3:
                    va |= bit
                if ((a | b) >> sh) & 3:
                    vn |= bit
            half_all.append(va)
            half_any.append(vn)
        for (y, x, s, c) in _ref_match(half_all, font, 1, WIDTH // 2):
            shift = WIDTH // 2 - 8 - x
            if all(((half_any[y + i] >> shift) & 0xFF) == ((half_all[y + i] >> shift) & 0xFF) for i in range(8)):
                found.append((y * 2, x * 2, 2, c))
        wide += _ref_match_wide(rows)
    if wide:
        boxes = [(y - 4, x) for y, x, _s, _c, _w in wide]
        found = [f for f in found if not any(by < f[0] + 8 * f[2] and f[0] < by + 16 and
                                             bx < f[1] + 8 * f[2] and f[1] < bx + 16 for by, bx in boxes)]
    return _lines(found + wide)


# -- frames -----------------------------------------------------------------------------------
class Frame:
    def __init__(self):
        self.px = bytearray(b"\xff" * (WIDTH * HEIGHT * 2))       # white

    def fill(self, x0, y0, w, h, ink):
        c = b"\x00\x00" if ink else b"\xff\xff"
        for y in range(max(0, y0), min(HEIGHT, y0 + h)):
            for x in range(max(0, x0), min(WIDTH, x0 + w)):
                p = (y * WIDTH + x) * 2
                self.px[p:p + 2] = c

    def glyph(self, rows, bits, x0, y0, scale, ink):
        for gy, row in enumerate(rows):
            for gx in range(bits):
                if row & (1 << (bits - 1 - gx)):
                    self.fill(x0 + gx * scale, y0 + gy * scale, scale, scale, ink)

    def text(self, s, x0, y0, scale=1, ink=True):
        rows_of = {ch: key for key, ch in font8x8().items()}
        for i, ch in enumerate(s):
            if ch in rows_of:
                self.glyph(rows_of[ch], 8, x0 + i * 8 * scale, y0, scale, ink)

    def show(self):
        d = st7789.ST7789()
        awake(d)
        window(d, 0, 0, WIDTH - 1, HEIGHT - 1)
        cmd(d, st7789.RAMWR, bytes(self.px))
        return d


PRINTABLE = [chr(c) for c in range(33, 127)]


def _random_frame(rnd):
    f = Frame()
    cjk = [rows for rows in font16()[0]]
    y = rnd.randrange(0, 12)
    while y < HEIGHT - 20:
        kind = rnd.choice(("text", "text", "big", "bar", "cjk", "noise"))
        x = rnd.randrange(0, 40)
        if kind == "text":
            f.text("".join(rnd.choice(PRINTABLE + [" "]) for _ in range(rnd.randrange(3, 26))), x, y)
            y += 8 + rnd.choice((0, 1, 2, 4, 8))
        elif kind == "big":
            f.text("".join(rnd.choice("0123456789.,USD ") for _ in range(rnd.randrange(2, 12))), x, y, 2)
            y += 16 + rnd.choice((1, 4, 8))
        elif kind == "bar":                     # light text on a dark bar (a highlighted line)
            f.fill(0, y, WIDTH, 12, True)
            f.text("".join(rnd.choice(PRINTABLE) for _ in range(rnd.randrange(3, 20))), x, y + 2, ink=False)
            y += 12 + rnd.choice((1, 4))
        elif kind == "cjk" and cjk:
            for i in range(rnd.randrange(1, 8)):
                f.glyph(rnd.choice(cjk), 16, x + i * 16, y, 1, True)
            y += 16 + rnd.choice((1, 4))
        else:                                   # stray ink: rules, dots, a filled box
            f.fill(x, y, rnd.randrange(1, 200), rnd.randrange(1, 6), True)
            y += 8
    return f


@pytest.mark.parametrize("seed", range(8))
def test_reading_agrees_with_the_reference_on_random_frames(seed):
    d = _random_frame(random.Random(seed)).show()
    fast = d._read_text()
    assert fast, "nothing read"
    assert fast == reference_text(d)


def test_reading_of_known_lines():
    f = Frame()
    f.text("Sale USD 60.00", 0, 10)
    f.text("12.50", 40, 40, scale=2)
    f.fill(0, 70, WIDTH, 16, True)
    f.text("2 Card", 8, 74, ink=False)
    table = font16()[0]
    if table:
        chars = list(table.items())[:3]
        for i, (rows, _ch) in enumerate(chars):
            f.glyph(rows, 16, 16 * i, 100, 1, True)
    d = f.show()
    lines = d._read_text().splitlines()
    assert lines[:3] == ["Sale USD 60.00", "12.50", "2 Card"]
    if table:
        assert lines[3] == "".join(ch for _rows, ch in chars)
    assert d._read_text() == reference_text(d)
