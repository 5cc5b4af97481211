"""ESC/POS thermal receipt printer model (58 mm, 384 dots, 203 dpi).

The printer as the board's UART sees it: it interprets the ESC/POS command
stream byte for byte (Epson ESC/POS command reference, TM-T20/TM-T88 class)
into a paper roll, kept as

* a text transcript (one line per printed line, alignment applied on a
  32-column grid for font A, barcodes/QR codes/images as bracketed markers),
* pixels: a 384-dot wide 1-bit image of the roll, saved as PNG.

Real-time status (DLE EOT n) answers as the real printer does, and paper out,
paper near end and cover open can be injected: with paper out or the cover
open the printer goes offline and discards print data (as a real printer with
no buffer space would), which the firmware must notice through DLE EOT and
reprint.  The cash drawer kick (ESC p) is recorded.

It is tested against bytes produced by python-escpos (other ESC/POS software
for this printer class), not only against our firmware driver.

Like the printer, it takes any byte stream without raising: an unknown command is
recorded in `unknown`, a parameter outside its range is ignored, an empty image
prints nothing, QR data beyond a symbol's capacity prints no symbol.
"""
import os
import threading

from host_sim.devices.base import UartDevice

try:
    from PIL import Image, ImageDraw, ImageFont
except ImportError:  # pragma: no cover - Pillow is a pinned dependency
    Image = None

# Every receipt any printer model cut in this process (the test session checks that
# none of them carries a full card number: tests/conftest.py)
PRINTED = []

DOTS = 384                 # print width in dots (58 mm paper, 48 mm print area)
FONT_A = (12, 24)          # cell width, height in dots
FONT_B = (9, 17)
DEFAULT_LINE_SPACING = 30  # dots (1/6 inch at 180 dpi; Epson default)

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C

_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
)
_BARCODE_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR"}
_BARCODE_B = {65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF",
              71: "CODABAR", 72: "CODE93", 73: "CODE128"}
# Code pages (ESC t n) that we decode; others fall back to cp437 with a note.
_CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252",
              17: "cp866", 18: "cp852", 19: "cp858"}


class _Incomplete(Exception):
    """The command in the buffer needs more bytes."""


class EscPosPrinter(UartDevice):
    kind = "escpos"
    FAULTS = ("paper_out", "paper_near_end", "cover_open")

    def __init__(self, name="printer"):
        super().__init__(name)
        self._buf = bytearray()
        self._font_cache = {}
        self.drawer_kicks = []       # (pin, on_ms, off_ms)
        self.cuts = 0
        self.discarded = 0           # bytes of print data lost while offline
        self.unknown = []            # unsupported commands seen, as hex
        self.lines = []              # transcript lines of the whole roll
        self._rows = []              # PIL images (1-bit) of printed rows, top to bottom
        self._lock_render = threading.Lock()
        self._cut = threading.Condition(self.lock)    # notified on every cut
        self._reset_modes()
        self._line = []              # current line: list of (char, style tuple)

    # ------------------------------------------------------------------ state
    def _reset_modes(self):
        self.font_b = False
        self.bold = False
        self.underline = 0
        self.width_mul = 1
        self.height_mul = 1
        self.align = 0               # 0 left, 1 center, 2 right
        self.reverse = False
        self.upside_down = False
        self.line_spacing = DEFAULT_LINE_SPACING
        self.codepage = 0
        self.barcode_height = 162
        self.barcode_width = 3
        self.hri_position = 0
        self.left_margin = 0
        self.qr = {"model": 50, "size": 3, "ec": 48, "data": b""}
        self._line = []

    def power_on_reset(self):
        with self.lock:
            self._buf.clear()
            self._reset_modes()

    @property
    def online(self):
        return not (self.faults.get("paper_out") or self.faults.get("cover_open"))

    def load_paper(self):
        """The merchant loads a new roll (clears paper out / near end)."""
        self.clear("paper_out")
        self.clear("paper_near_end")

    def close_cover(self):
        self.clear("cover_open")

    # ---------------------------------------------------------------- UART in
    def uart_rx(self, data):
        with self.lock:
            self._buf.extend(data)
            self._run()

    def _run(self):
        while self._buf:
            try:
                used = self._step(self._buf)
            except _Incomplete:
                return
            del self._buf[:used]

    def _need(self, buf, n):
        if len(buf) < n:
            raise _Incomplete()

    # One command (or one printable byte) at the start of buf; returns bytes used.
    def _step(self, buf):
        b = buf[0]
        if b == DLE:
            return self._dle(buf)
        if b == ESC:
            return self._esc(buf)
        if b == GS:
            return self._gs(buf)
        if b == FS:
            self._need(buf, 2)
            if buf[1] in (0x2E, 0x26):   # FS . / FS &: Kanji mode off/on
                return 2
            self._unknown(buf[:2])
            return 2
        if not self.online:
            if b >= 0x20 or b in (0x0A, 0x0D, 0x09):
                self.discarded += 1
            return 1
        if b == 0x0A:                    # LF: print and feed one line
            self._print_line()
            return 1
        if b == 0x0D:                    # CR: ignored (auto line feed disabled)
            return 1
        if b == 0x09:                    # HT: next 8-column tab stop
            col = self._column()
            self._add_text(" " * (8 - col % 8))
            return 1
        if b == 0x0C:                    # FF in standard mode: print and feed
            self._print_line()
            return 1
        if b < 0x20:
            return 1
        # A printable run: take it whole (decoding needs multi-byte context).
        end = 1
        while end < len(buf) and buf[end] >= 0x20:
            end += 1
        self._add_text(bytes(buf[:end]).decode(_CODEPAGES.get(self.codepage, "cp437"), "replace"))
        return end

    def _dle(self, buf):
        self._need(buf, 3)
        if buf[1] == 0x04:               # DLE EOT n: transmit real-time status
            n = buf[2]
            self.uart_tx(bytes([self.realtime_status(n)]))
            self.emit(event="status", n=n)
            return 3
        if buf[1] == 0x14:               # DLE DC4 fn m t: real-time pulse
            self._need(buf, 5)
            if buf[2] == 1:
                self.drawer_kicks.append((buf[3], buf[4] * 100, buf[4] * 100))
                self.emit(event="drawer", pin=buf[3])
            return 5
        if buf[1] == 0x05:               # DLE ENQ n: real-time request
            return 3
        self._unknown(buf[:3])
        return 3

    def realtime_status(self, n):
        """The status byte DLE EOT n returns (fixed bits 1 and 4 set)."""
        s = 0x12
        paper_out = bool(self.faults.get("paper_out"))
        cover = bool(self.faults.get("cover_open"))
        if n == 1:                       # printer status
            if not self.online:
                s |= 0x08                # offline
        elif n == 2:                     # off-line cause
            if cover:
                s |= 0x04                # cover open
            if paper_out:
                s |= 0x20                # printing stopped: paper end
        elif n == 3:                     # error cause
            pass
        elif n == 4:                     # roll paper sensor
            if self.faults.get("paper_near_end") or paper_out:
                s |= 0x0C                # near end
            if paper_out:
                s |= 0x60                # paper end
        return s

    def _esc(self, buf):
        self._need(buf, 2)
        c = buf[1]
        one_arg = {0x21, 0x45, 0x47, 0x2D, 0x61, 0x74, 0x52, 0x4D, 0x33, 0x64, 0x4A, 0x20,
                   0x7B, 0x56, 0x72, 0x55, 0x63, 0x4B, 0x65}
        if c == 0x40:                    # ESC @: initialize
            if self._line:
                self._print_line()
            self._reset_modes()
            return 2
        if c == 0x32:                    # ESC 2: default line spacing
            self.line_spacing = DEFAULT_LINE_SPACING
            return 2
        if c == 0x70:                    # ESC p m t1 t2: generate pulse (drawer kick)
            self._need(buf, 5)
            self.drawer_kicks.append((buf[2] & 1, buf[3] * 2, buf[4] * 2))
            self.emit(event="drawer", pin=buf[2] & 1)
            return 5
        if c == 0x2A:                    # ESC * m nL nH d...: bit image (columns)
            self._need(buf, 5)
            m, n = buf[2], buf[3] | (buf[4] << 8)
            per_col = 3 if m in (32, 33) else 1
            total = 5 + n * per_col
            self._need(buf, total)
            if self.online:
                self._bit_image_columns(bytes(buf[5:total]), n, per_col, m)
            return total
        if c == 0x24:                    # ESC $ nL nH: absolute position
            self._need(buf, 4)
            return 4
        if c == 0x44:                    # ESC D n1..nk NUL: tab stops
            end = buf.find(b"\x00", 2)
            if end < 0:
                self._need(buf, len(buf) + 1)
            return end + 1
        if c == 0x63:                    # ESC c 3/4/5 n: panel / sensor selection
            self._need(buf, 4)
            return 4
        if c in one_arg:
            self._need(buf, 3)
            n = buf[2]
            if c == 0x21:                # ESC ! n: print mode
                self.font_b = bool(n & 0x01)
                self.bold = bool(n & 0x08)
                self.height_mul = 2 if n & 0x10 else 1
                self.width_mul = 2 if n & 0x20 else 1
                self.underline = 1 if n & 0x80 else 0
            elif c in (0x45, 0x47):      # ESC E / ESC G: emphasized / double-strike
                self.bold = bool(n & 1)
            elif c == 0x2D:              # ESC - n: underline
                self.underline = n & 3 if n < 0x30 else n - 0x30
            elif c == 0x61:              # ESC a n: justification
                self.align = (n - 0x30 if n >= 0x30 else n) if (n % 0x30) <= 2 else 0
            elif c == 0x74:              # ESC t n: character code table
                self.codepage = n
            elif c == 0x4D:              # ESC M n: character font
                self.font_b = (n & 1) == 1
            elif c == 0x33:              # ESC 3 n: line spacing n dots
                self.line_spacing = n
            elif c == 0x64:              # ESC d n: print and feed n lines
                if self.online:
                    self._print_line(force=False)
                    self._feed(n * self.line_spacing)
            elif c == 0x4A:              # ESC J n: print and feed n dots
                if self.online:
                    self._print_line(force=False)
                    self._feed(n)
            elif c == 0x7B:              # ESC { n: upside-down
                self.upside_down = bool(n & 1)
            return 3
        self._unknown(buf[:2])
        return 2

    def _gs(self, buf):
        self._need(buf, 2)
        c = buf[1]
        if c == 0x56:                    # GS V m [n]: cut
            self._need(buf, 3)
            m = buf[2]
            used = 4 if m in (65, 66, 97, 98, 103, 104) else 3
            self._need(buf, used)
            if self.online:
                if self._line:
                    self._print_line()
                if m in (65, 66):
                    self._feed(buf[3])
                self.cuts += 1
                self.lines.append("[CUT]")
                PRINTED.append(self.receipts()[-1] if self.receipts() else "")
                self._cut.notify_all()
                self.emit(event="cut")
            return used
        if c == 0x21:                    # GS ! n: character size
            self._need(buf, 3)
            n = buf[2]
            self.width_mul = ((n >> 4) & 7) + 1
            self.height_mul = (n & 7) + 1
            return 3
        if c in (0x42, 0x48, 0x66, 0x68, 0x77, 0x61, 0x62, 0x49):
            self._need(buf, 3)
            n = buf[2]
            if c == 0x42:                # GS B n: reverse
                self.reverse = bool(n & 1)
            elif c == 0x48:              # GS H n: HRI position
                self.hri_position = n % 0x30 if n >= 0x30 else n
            elif c == 0x68:              # GS h n: barcode height
                self.barcode_height = n
            elif c == 0x77:              # GS w n: barcode module width
                self.barcode_width = n
            elif c == 0x49:              # GS I n: printer ID
                ids = {1: 0x20, 2: 0x00, 3: 0x00, 65: None, 66: None, 67: None}
                if n in (1, 2, 3):
                    self.uart_tx(bytes([ids[n]]))
                elif n in (65, 66, 67):
                    text = {65: b"1.00", 66: b"SMARTPOS", 67: b"SIM-58"}[n]
                    self.uart_tx(b"_" + text + b"\x00")
            return 3
        if c == 0x4C:                    # GS L nL nH: left margin
            self._need(buf, 4)
            self.left_margin = buf[2] | (buf[3] << 8)
            return 4
        if c == 0x57:                    # GS W nL nH: print area width
            self._need(buf, 4)
            return 4
        if c == 0x6B:                    # GS k: barcode
            return self._barcode(buf)
        if c == 0x28:                    # GS ( fn pL pH ...
            self._need(buf, 5)
            fn = buf[2]
            plen = buf[3] | (buf[4] << 8)
            total = 5 + plen
            self._need(buf, total)
            body = bytes(buf[5:total])
            if fn == 0x6B:
                self._qr_function(body)
            elif fn == 0x4C:             # GS ( L: graphics (print as unknown image)
                self._unknown(buf[:5])
            return total
        if c == 0x76:                    # GS v 0 m xL xH yL yH d...: raster bit image
            self._need(buf, 8)
            xbytes = buf[4] | (buf[5] << 8)
            ydots = buf[6] | (buf[7] << 8)
            total = 8 + xbytes * ydots
            self._need(buf, total)
            if self.online:
                self._raster(bytes(buf[8:total]), xbytes, ydots, buf[3])
            return total
        if c == 0x72:                    # GS r n: transmit status
            self._need(buf, 3)
            n = buf[2]
            if n in (1, 49):             # paper sensor status
                s = 0
                if self.faults.get("paper_near_end") or self.faults.get("paper_out"):
                    s |= 0x03
                if self.faults.get("paper_out"):
                    s |= 0x0C
                self.uart_tx(bytes([s]))
            else:
                self.uart_tx(b"\x00")
            return 3
        if c == 0x61:
            self._need(buf, 3)
            return 3
        self._unknown(buf[:2])
        return 2

    # --------------------------------------------------------------- barcodes
    def _barcode(self, buf):
        self._need(buf, 3)
        m = buf[2]
        if m <= 6:                       # function A: NUL terminated
            end = buf.find(b"\x00", 3)
            if end < 0:
                if len(buf) > 300:
                    self._unknown(buf[:3])
                    return 3
                raise _Incomplete()
            data, used, kind = bytes(buf[3:end]), end + 1, _BARCODE_A[m]
        else:                            # function B: length byte
            self._need(buf, 4)
            n = buf[3]
            self._need(buf, 4 + n)
            data, used, kind = bytes(buf[4:4 + n]), 4 + n, _BARCODE_B.get(m, "UNKNOWN%d" % m)
        if self.online:
            if self._line:
                self._print_line()
            text = data.decode("latin-1")
            if kind == "CODE128" and text[:1] == "{":   # code set selector
                text = text[2:]
            self.lines.append("[BARCODE %s %s]" % (kind, text))
            self._render_barcode(kind, text)
            if self.hri_position in (2, 3):
                self._add_text(text)
                self.align, saved = 1, self.align
                self._print_line()
                self.align = saved
        else:
            self.discarded += len(data)
        return used

    def _qr_function(self, body):
        # GS ( k <cn=49> <fn> ...  (QR Code, Epson function numbers 165..181)
        if len(body) < 2 or body[0] != 0x31:
            self._unknown(b"\x1d(k" + body[:2])
            return
        fn = body[1]
        # parameters outside the ranges Epson gives are ignored, as the printer does
        if fn == 0x41 and len(body) >= 3:      # 165: select model (49, 50, 51)
            if 49 <= body[2] <= 51:
                self.qr["model"] = body[2]
        elif fn == 0x43 and len(body) >= 3:    # 167: module size 1..16 dots
            if 1 <= body[2] <= 16:
                self.qr["size"] = body[2]
        elif fn == 0x45 and len(body) >= 3:    # 169: error correction level (48..51: L, M, Q, H)
            if 48 <= body[2] <= 51:
                self.qr["ec"] = body[2]
        elif fn == 0x50:                       # 180: store data (m = 0x30)
            self.qr["data"] = body[3:]
        elif fn == 0x51:                       # 181: print stored symbol
            if not self.online:
                self.discarded += len(self.qr["data"])
                return
            if self._line:
                self._print_line()
            text = self.qr["data"].decode("utf-8", "replace")
            fits, img = self._render_qr(self.qr["data"])
            if not fits:
                # more data than a QR Code symbol holds: the printer prints no symbol
                self.lines.append("[QR NOT PRINTED: %d bytes]" % len(self.qr["data"]))
                return
            self.lines.append("[QR %s]" % text)
            if img is not None:
                self._place(img)

    # -------------------------------------------------------------- text lines
    def _cell(self):
        w, h = FONT_B if self.font_b else FONT_A
        return w * self.width_mul, h * self.height_mul

    def _column(self):
        dots = sum(self._cell_of(st)[0] for _, st in self._line)
        return dots // FONT_A[0]

    def _style(self):
        return (self.font_b, self.bold, self.underline, self.width_mul, self.height_mul, self.reverse)

    @staticmethod
    def _cell_of(style):
        w, h = FONT_B if style[0] else FONT_A
        return w * style[3], h * style[4]

    def _add_text(self, text):
        st = self._style()
        cw = self._cell_of(st)[0]
        for ch in text:
            used = sum(self._cell_of(s)[0] for _, s in self._line)
            if used + cw > DOTS - self.left_margin:
                self._print_line()       # automatic wrap at the end of the print area
            self._line.append((ch, st))

    def _print_line(self, force=True):
        if not self._line and not force:
            return
        chars = self._line
        self._line = []
        text = "".join(c for c, _ in chars).rstrip()
        # columns on the 12-dot (font A) grid that the visible text takes
        cols_used = sum(self._cell_of(s)[0] for _, s in chars[:len(text)]) // FONT_A[0]
        width_cols = DOTS // FONT_A[0]
        pad = 0
        if self.align == 1:
            pad = max(0, (width_cols - cols_used) // 2)
        elif self.align == 2:
            pad = max(0, width_cols - cols_used)
        self.lines.append((" " * pad + text) if text else "")
        self._render_text_row(chars, pad * FONT_A[0] if text else 0)

    # --------------------------------------------------------------- rendering
    def _font(self, size):
        f = self._font_cache.get(size)
        if f is None:
            f = None
            for path in _FONT_FILES:
                if os.path.exists(path):
                    f = ImageFont.truetype(path, size)
                    break
            if f is None:
                f = ImageFont.load_default()
            self._font_cache[size] = f
        return f

    def _append_row(self, img):
        with self._lock_render:
            self._rows.append(img)

    def _feed(self, dots):
        if dots > 0 and Image is not None:
            self._append_row(Image.new("1", (DOTS, dots), 1))

    def _render_text_row(self, chars, x0):
        if Image is None:
            return
        height = max([self._cell_of(s)[1] for _, s in chars] or [FONT_A[1]])
        row_h = max(height, self.line_spacing if height <= FONT_A[1] else height + 6)
        img = Image.new("1", (DOTS, row_h), 1)
        x = x0 + self.left_margin
        for ch, st in chars:
            cw, chh = self._cell_of(st)
            # draw in the base cell, then scale by the width/height multipliers
            base_w, base_h = cw // st[3], chh // st[4]
            font = self._font(int(base_h * 0.8))
            cell = Image.new("1", (base_w, base_h), 1)
            d = ImageDraw.Draw(cell)
            d.text((0, 1), ch, font=font, fill=0)
            if st[1]:
                d.text((1, 1), ch, font=font, fill=0)
            if st[2]:
                d.line([0, base_h - 2, base_w, base_h - 2], fill=0, width=st[2])
            if (cw, chh) != (base_w, base_h):
                cell = cell.resize((cw, chh))
            if st[5]:
                cell = Image.eval(cell.convert("L"), lambda v: 255 - v).convert("1")
            img.paste(cell, (x, height - chh))
            x += cw
        self._append_row(img)

    def _place(self, img):
        """Place a 1-bit image on a full-width row honouring justification."""
        w = min(img.width, DOTS)
        x = 0
        if self.align == 1:
            x = (DOTS - w) // 2
        elif self.align == 2:
            x = DOTS - w
        row = Image.new("1", (DOTS, img.height), 1)
        row.paste(img.crop((0, 0, w, img.height)), (x, 0))
        self._append_row(row)

    def _raster(self, data, xbytes, ydots, mode):
        self.lines.append("[IMAGE %dx%d]" % (xbytes * 8, ydots))
        if Image is None or not xbytes or not ydots:
            return                                  # an empty image prints nothing
        img = Image.frombytes("1", (xbytes * 8, ydots), bytes(b ^ 0xFF for b in data))
        if mode & 1:
            img = img.resize((img.width * 2, img.height))
        if mode & 2:
            img = img.resize((img.width, img.height * 2))
        self._place(img)

    def _bit_image_columns(self, data, ncols, per_col, m):
        self.lines.append("[IMAGE %dx%d]" % (ncols, per_col * 8))
        if Image is None or not ncols:
            return
        img = Image.new("1", (ncols, per_col * 8), 1)
        px = img.load()
        for col in range(ncols):
            for k in range(per_col):
                byte = data[col * per_col + k]
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        px[col, k * 8 + bit] = 0
        self._place(img)

    def _render_barcode(self, kind, text):
        if Image is None:
            return
        h = max(1, self.barcode_height)
        img = None
        try:
            import barcode as pybarcode
            name = {"CODE128": "code128", "EAN13": "ean13", "EAN8": "ean8", "CODE39": "code39",
                    "UPC-A": "upca", "ITF": "itf"}.get(kind)
            if name:
                code = pybarcode.get(name, text, writer=None)
                modules = "".join(code.build())
                mw = max(1, self.barcode_width)
                img = Image.new("1", (len(modules) * mw, h), 1)
                d = ImageDraw.Draw(img)
                for i, bit in enumerate(modules):
                    if bit == "1":
                        d.rectangle([i * mw, 0, i * mw + mw - 1, h - 1], fill=0)
        except Exception:  # data the symbology rejects: print a placeholder box
            img = None
        if img is None:
            img = Image.new("1", (min(DOTS, 8 * len(text) + 16), h), 1)
            ImageDraw.Draw(img).rectangle([0, 0, img.width - 1, h - 1], outline=0)
        self._place(img)

    def _render_qr(self, data):
        """(fits, image of the symbol or None without Pillow); fits is False when the data
        does not fit any QR Code version (40-L holds 2953 bytes)."""
        if Image is None:
            return True, None
        import qrcode
        import qrcode.exceptions
        ec = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M,
              50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}
        qr = qrcode.QRCode(error_correction=ec.get(self.qr["ec"], qrcode.constants.ERROR_CORRECT_L),
                           box_size=max(1, self.qr["size"]), border=0)
        qr.add_data(data)
        try:
            qr.make(fit=True)
        except (ValueError, qrcode.exceptions.DataOverflowError):
            return False, None
        mat = qr.get_matrix()
        size = max(1, self.qr["size"])
        n = len(mat)
        img = Image.new("1", (n * size + 8 * size, n * size + 8 * size), 1)
        d = ImageDraw.Draw(img)
        for y, row in enumerate(mat):
            for x, dark in enumerate(row):
                if dark:
                    d.rectangle([(x + 4) * size, (y + 4) * size, (x + 5) * size - 1, (y + 5) * size - 1],
                                fill=0)
        return True, img

    def _unknown(self, head):
        self.unknown.append(bytes(head).hex())

    # ------------------------------------------------------------ observation
    def transcript(self):
        """The roll as text, one line per printed line."""
        with self.lock:
            return "\n".join(self.lines)

    def receipts(self):
        """Transcript split at cuts: a list of receipt texts."""
        out, cur = [], []
        for line in self.transcript().split("\n"):
            if line == "[CUT]":
                out.append("\n".join(cur).strip("\n"))
                cur = []
            else:
                cur.append(line)
        if any(cur):
            out.append("\n".join(cur).strip("\n"))
        return out

    def image(self):
        with self._lock_render:
            rows = list(self._rows)
        total = sum(r.height for r in rows) or 1
        img = Image.new("1", (DOTS, total), 1)
        y = 0
        for r in rows:
            img.paste(r, (0, y))
            y += r.height
        return img

    def save_png(self, path):
        self.image().save(path)
        return path

    def wait_for_cuts(self, n, timeout=30.0):
        """Wait until the roll has been cut n times (bytes arrive asynchronously); False if
        it has not after `timeout` seconds."""
        with self._cut:
            return self._cut.wait_for(lambda: self.cuts >= n, timeout)

    def tear_off(self):
        """Remove the printed roll (after a test reads it)."""
        with self.lock:
            self.lines = []
            self.cuts = 0
            with self._lock_render:
                self._rows = []

    def status(self):
        st = super().status()
        st.update(online=self.online, cuts=self.cuts, lines=len(self.lines),
                  drawer_kicks=len(self.drawer_kicks))
        return st
