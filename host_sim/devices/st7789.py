"""ST7789V display controller model (240x320, 4-line serial interface).

Decodes the command stream as the chip does (Sitronix ST7789V datasheet,
section 9): with CSX low, a byte sent while D/CX is low is a command, bytes
while D/CX is high are its parameters or, after RAMWR/RAMWRC, pixel data
written into the CASET/RASET window left to right, top to bottom.  COLMOD
0x55 (16 bit/pixel, RGB565) is the pixel format we accept for RAMWR; MADCTL
MY/MX/MV mirror and swap as the chip does.  The panel shows frame memory only
after SLPOUT and DISPON; INVON inverts what the panel shows.

Observation for tests and the web face: ``image()`` (Pillow RGB image of what
the panel shows), ``save_png(path)``, ``pixel(x, y)`` (RGB565) and ``text()``
(text read back from the pixels by matching the firmware's font, at scale 1
and 2; see glyphs.py).
"""
import threading
import time

from host_sim.devices.base import SpiDevice

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is a pinned dependency
    Image = None

WIDTH, HEIGHT = 240, 320

SWRESET, SLPIN, SLPOUT, NORON = 0x01, 0x10, 0x11, 0x13
INVOFF, INVON, DISPOFF, DISPON = 0x20, 0x21, 0x28, 0x29
CASET, RASET, RAMWR, RAMWRC = 0x2A, 0x2B, 0x2C, 0x3C
MADCTL, COLMOD, RDDID = 0x36, 0x3A, 0x04
NOP = 0x00

_PARAMS = {CASET: 4, RASET: 4, MADCTL: 1, COLMOD: 1}


class ST7789(SpiDevice):
    kind = "st7789"
    FAULTS = ("dead_pixels", "no_backlight")

    def __init__(self, name="display"):
        super().__init__(name)
        self.ram = bytearray(WIDTH * HEIGHT * 2)
        self.version = 0              # bumped on every frame-memory write burst
        self.commands = []            # (cmd, params) log of non-pixel commands, bounded
        self._render_lock = threading.Lock()
        self.changes = 0              # bumped on everything that can change what is shown
        self._changed = threading.Condition(self.lock)
        self._text = (-1, "")         # (changes, text) of the last read
        self._reset_state()

    def _reset_state(self):
        self.sleeping = True
        self.display_on = False
        self.inverted = False
        self.colmod = 0x66            # power-on default: 18 bit/pixel
        self.madctl = 0
        self.xs, self.xe = 0, WIDTH - 1
        self.ys, self.ye = 0, HEIGHT - 1
        self._cmd = None
        self._params = bytearray()
        self._writing = False
        self._x = self._y = 0
        self._half = None             # first byte of a pixel split across bursts
        self.backlight = 0

    def power_on_reset(self):
        with self.lock:
            self._reset_state()
            self.pins.clear()         # the board's GPIOs restart as inputs: forget D/CX, CSX
            self.commands = []
            self._shown_changed()

    def _shown_changed(self):
        # under self.lock
        self.changes += 1
        self._changed.notify_all()

    # ------------------------------------------------------------ pins
    def pin_changed(self, role, value):
        super().pin_changed(role, value)
        if role == "rst" and value == 0:
            with self.lock:           # hardware reset: registers to defaults, RAM kept
                self._reset_state()
                self._shown_changed()
        elif role == "bl":
            self.backlight = value
        elif role == "cs" and value == 1:
            with self.lock:
                self._half = None

    # ------------------------------------------------------------- bus
    def spi_transfer(self, tx):
        self.spi_write(tx)
        return bytes(len(tx))

    def spi_write(self, data):
        with self.lock:
            if self.pins.get("dc", 0) == 0:
                for b in data:
                    self._command(b)
            else:
                self._data(memoryview(bytes(data)))
            self._shown_changed()

    def _command(self, cmd):
        self._writing = False
        self._half = None
        self._cmd = cmd
        self._params = bytearray()
        if len(self.commands) < 4096:
            self.commands.append((cmd, b""))
        if cmd == SWRESET:
            self._reset_state()
        elif cmd == SLPOUT:
            self.sleeping = False
        elif cmd == SLPIN:
            self.sleeping = True
        elif cmd == DISPON:
            self.display_on = True
        elif cmd == DISPOFF:
            self.display_on = False
        elif cmd == INVON:
            self.inverted = True
        elif cmd == INVOFF:
            self.inverted = False
        elif cmd == RAMWR:
            self._writing = True
            self._x, self._y = self.xs, self.ys
        elif cmd == RAMWRC:
            self._writing = True

    def _data(self, data):
        if self._writing:
            self._pixels(data)
            return
        need = _PARAMS.get(self._cmd)
        if need is None:
            return                    # parameters of commands we do not model
        self._params.extend(data)
        if len(self._params) >= need:
            p = self._params
            if self._cmd == CASET:
                self.xs, self.xe = (p[0] << 8) | p[1], (p[2] << 8) | p[3]
            elif self._cmd == RASET:
                self.ys, self.ye = (p[0] << 8) | p[1], (p[2] << 8) | p[3]
            elif self._cmd == MADCTL:
                self.madctl = p[0]
            elif self._cmd == COLMOD:
                self.colmod = p[0]
            self.commands[-1] = (self._cmd, bytes(p[:need]))
            self._cmd = None

    def _pixels(self, data):
        if (self.colmod & 0x07) != 0x05:
            return                    # only 16 bit/pixel is modelled; 18-bit data is ignored
        ram = self.ram
        i = 0
        n = len(data)
        if self._half is not None and n:
            self._put(self._half, data[0])
            self._half = None
            i = 1
        xs, xe, ye = self.xs, self.xe, self.ye
        x, y = self._x, self._y
        mv = (self.madctl >> 5) & 1
        mx = (self.madctl >> 6) & 1
        my = (self.madctl >> 7) & 1
        fast = not (mv or mx or my)
        while i + 1 < n:
            if y > ye:
                break
            if fast:
                # copy the rest of this window row in one slice
                count = min(xe - x + 1, (n - i) // 2)
                if 0 <= y < HEIGHT and 0 <= x and x + count <= WIDTH:
                    o = (y * WIDTH + x) * 2
                    ram[o:o + count * 2] = data[i:i + count * 2]
                x += count
                i += count * 2
            else:
                self._x, self._y = x, y
                self._store(x, y, data[i], data[i + 1])
                x += 1
                i += 2
            if x > xe:
                x = xs
                y += 1
        if i < n and y <= ye:
            self._half = data[i]
        self._x, self._y = x, y
        self.version += 1

    def _put(self, hi, lo):
        self._store(self._x, self._y, hi, lo)
        self._x += 1
        if self._x > self.xe:
            self._x = self.xs
            self._y += 1

    def _store(self, x, y, hi, lo):
        # MADCTL MV swaps rows/columns, MX/MY mirror (datasheet 8.12).
        if (self.madctl >> 5) & 1:
            x, y = y, x
        if (self.madctl >> 6) & 1:
            x = WIDTH - 1 - x
        if (self.madctl >> 7) & 1:
            y = HEIGHT - 1 - y
        if 0 <= x < WIDTH and 0 <= y < HEIGHT:
            o = (y * WIDTH + x) * 2
            self.ram[o] = hi
            self.ram[o + 1] = lo

    # ------------------------------------------------------- observation
    def pixel(self, x, y):
        o = (y * WIDTH + x) * 2
        return (self.ram[o] << 8) | self.ram[o + 1]

    def shown(self):
        """True when the panel shows frame memory (awake, display on)."""
        return self.display_on and not self.sleeping

    def image(self):
        """What the panel shows, as a Pillow RGB image (black when off)."""
        with self.lock:
            raw = bytes(self.ram)
            shown, inverted = self.shown(), self.inverted
        if not shown:
            return Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))
        # Pillow's BGR;16 reads little-endian RGB565 words; frame memory is big-endian.
        img = Image.frombytes("RGB", (WIDTH, HEIGHT), _swap16(raw), "raw", "BGR;16")
        if inverted:
            from PIL import ImageOps
            img = ImageOps.invert(img)
        return img

    def save_png(self, path):
        self.image().save(path, "PNG")
        return path

    def text(self):
        """The text on the screen, read from the pixels, one line per text row."""
        with self.lock:
            changes = self.changes
        if self._text[0] == changes:
            return self._text[1]      # nothing written since the last read
        text = self._read_text()
        self._text = (changes, text)
        return text

    def wait_until(self, test, timeout=30, read=None):
        """Read the screen each time the firmware changed it until test(what was read) holds;
        return that, or None if it did not within `timeout` seconds (display.text() then says
        what is shown).  read: self.text (default) or self.image for pixels."""
        read = read or self.text
        end = time.monotonic() + timeout
        while True:
            with self.lock:
                seen = self.changes
            text = read()
            if test(text):
                return text
            with self._changed:
                left = end - time.monotonic()
                if left <= 0 or not self._changed.wait_for(lambda: self.changes != seen, left):
                    return None

    def wait_text(self, needle, timeout=30):
        """The screen's text once it contains `needle`, or None after `timeout` seconds."""
        return self.wait_until(lambda text: needle in text, timeout)

    def _read_text(self):
        from host_sim.devices.glyphs import font8x8
        img = self.image().convert("L")
        px = img.load()
        font = font8x8()
        found = []                    # (y, x, scale, char)
        wide = []                     # (text row y, x, 1, char, 16): 16x16 CJK glyphs
        for polarity in (0, 1):
            rows = []
            for y in range(HEIGHT):
                v = 0
                for x in range(WIDTH):
                    ink = px[x, y] < 128
                    if ink != bool(polarity):
                        v |= 1 << (WIDTH - 1 - x)
                rows.append(v)
            found += _match(rows, font, 1)
            # scale 2: a half-resolution matrix where a cell is ink only if all four
            # pixels are, kept only where no cell is partly inked (exact 2x glyphs)
            half_all, half_any = [], []
            for y in range(0, HEIGHT, 2):
                a, b = rows[y], rows[y + 1]
                both, either = a & b, a | b
                va = vn = 0
                for x in range(0, WIDTH, 2):
                    sh = WIDTH - 2 - x
                    bit = 1 << (WIDTH // 2 - 1 - x // 2)
                    if (both >> sh) & 3 == 3:
                        va |= bit
                    if (either >> sh) & 3:
                        vn |= bit
                half_all.append(va)
                half_any.append(vn)
            for (y, x, s, c) in _match(half_all, font, 1, WIDTH // 2):
                shift = WIDTH // 2 - 8 - x
                if all(((half_any[y + i] >> shift) & 0xFF) == ((half_all[y + i] >> shift) & 0xFF)
                       for i in range(8)):
                    found.append((y * 2, x * 2, 2, c))
            wide += _match_wide(rows)
        if wide:
            # wide (CJK) glyphs first: an 8x8 window inside one can look like an ASCII glyph
            boxes = [(y - 4, x) for y, x, _s, _c, _w in wide]
            found = [f for f in found if not any(by < f[0] + 8 * f[2] and f[0] < by + 16 and
                                                 bx < f[1] + 8 * f[2] and f[1] < bx + 16 for by, bx in boxes)]
        return _lines(found + wide)

    def status(self):
        st = super().status()
        st.update(on=self.shown(), backlight=self.backlight, version=self.version)
        return st


def _swap16(raw):
    b = bytearray(raw)
    b[0::2], b[1::2] = raw[1::2], raw[0::2]
    return bytes(b)


def _match(rows, font, scale, width=WIDTH):
    """Exact 8x8 glyph matches in a bit-row matrix: [(y, x, scale, char)].

    A match counts only with a blank pixel row just above and just below it
    (text sits between blank lines; the edge of a filled bar does not)."""
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
            key = tuple((v >> shift) & 0xFF for v in r)
            ch = font.get(key)
            if ch is not None and not ((above >> shift) & 0xFF) and not ((below >> shift) & 0xFF):
                out.append((y, x, scale, ch))
    return out


def _match_wide(rows, width=WIDTH):
    """16x16 glyphs of the firmware's CJK subset: [(text row y, x, 1, char, 16)] (the glyph
    is drawn from 4 px above the text row, see firmware/pos/ui/cjk.py)."""
    from host_sim.devices.glyphs import font16
    table, keys = font16()
    if not table:
        return []
    out = []
    h = len(rows)
    for y in range(h - 15):
        for k, firsts in keys.items():
            v = rows[y + k]
            if not v:
                continue
            for x in range(width - 15):
                shift = width - 16 - x
                if ((v >> shift) & 0xFFFF) not in firsts:
                    continue
                key = tuple((rows[y + i] >> shift) & 0xFFFF for i in range(16))
                ch = table.get(key)
                if ch is not None:
                    out.append((y + 4, x, 1, ch, 16))
    return out


def _lines(found):
    """Group glyph matches into text lines (top to bottom, left to right)."""
    # A glyph's lower rows can look like another glyph (the foot of 'A' is '"', the foot of
    # a double-size '5' is two '_'): double-size matches (exact 2x2 pixel cells, which no
    # single-size stroke makes) are taken first, then matches on rows with many matches
    # (real text lines), and a match whose box overlaps one already taken is dropped.
    found = [f if len(f) == 5 else (f[0], f[1], f[2], f[3], 8 * f[2]) for f in found]
    per_row = {}
    for y, x, scale, ch, w in found:
        per_row[(y, scale)] = per_row.get((y, scale), 0) + 1
    found.sort(key=lambda f: (-(f[4] > 8 * f[2]), -f[2], -per_row[(f[0], f[2])], f[0], f[1]))
    accepted = []
    for y, x, scale, ch, w in found:
        size = 8 * scale
        top = y - 4 if w > size else y
        hgt = 16 if w > size else size
        if any(top < at + ah and at < top + hgt and x < ax + aw and ax < x + w
               for at, ax, ah, aw, _y, _s, _c in accepted):
            continue
        accepted.append((top, x, hgt, w, y, scale, ch))
    lines = []                        # [y, scale, [(x, ch, w)]]
    for top, x, hgt, w, y, scale, ch in accepted:
        for line in lines:
            if line[0] == y and line[1] == scale:
                line[2].append((x, ch, w))
                break
        else:
            lines.append([y, scale, [(x, ch, w)]])
    out = []
    for y, scale, chars in sorted(lines, key=lambda l: (l[0], min(c[0] for c in l[2]))):
        chars.sort()
        step = 8 * scale
        text = ""
        end = None
        for x, ch, w in chars:
            if end is not None and x < end:
                continue              # overlapping match: keep the leftmost
            if end is not None:
                text += " " * ((x - end) // step)
            text += ch
            end = x + w
        if len(set(text.replace(" ", ""))) == 1 and not text.strip()[0].isalnum() and len(text) > 3:
            continue                  # a run of one punctuation mark is a drawn rule, not text
        out.append(text)
    return "\n".join(out)
