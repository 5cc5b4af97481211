"""Build-time CJK font subset for the display: the characters the firmware's message
catalogs use, rendered 16x16 1-bit from a freely licensed font package
(WenQuanYi Micro Hei, Debian `fonts-wqy-microhei`, Apache-2.0 / GPLv3).

File format (`pos/ui/font_zh.bin`, read by firmware/pos/ui/cjk.py without loading it
whole):
    b"PF16"  u8 version=1  u8 width=16  u8 height=16  u8 reserved  u16 count (LE)
    count x u16 code point (LE, sorted, BMP only)
    count x 32 bytes glyph: 16 rows of 2 bytes, MSB = leftmost pixel (framebuf MONO_HLSB)

Nothing of the font is committed: `smartpos flash` and the ROM image build run this.
"""
import os
import re
import struct

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
MAGIC = b"PF16"
SIZE = 16
TARGET = "pos/ui/font_zh.bin"


class FontError(Exception):
    pass


def font_path():
    for p in FONT_CANDIDATES:
        if os.path.exists(p):
            return p
    return None


def catalog_chars(messages_py):
    """The non-ASCII characters of the string literals in firmware/pos/ui/messages.py and its
    language catalogs beside it (messages_zh.py)."""
    with open(messages_py, encoding="utf-8") as f:
        src = f.read()
    zh = os.path.join(os.path.dirname(messages_py), "messages_zh.py")
    if os.path.exists(zh):
        with open(zh, encoding="utf-8") as f:
            src += f.read()
    chars = set()
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', src):
        for ch in lit:
            if ord(ch) > 126:
                chars.add(ch)
    return sorted(chars)


def render(chars, path=None):
    """The font file (bytes) for `chars`."""
    from PIL import Image, ImageDraw, ImageFont
    path = path or font_path()
    if path is None:
        raise FontError("no CJK font found (install fonts-wqy-microhei): looked in %s"
                        % ", ".join(FONT_CANDIDATES))
    font = ImageFont.truetype(path, 15)
    cps = sorted(ord(c) for c in chars)
    if any(cp > 0xFFFF for cp in cps):
        raise FontError("only BMP characters are supported")
    out = bytearray(MAGIC + struct.pack("<BBBBH", 1, SIZE, SIZE, 0, len(cps)))
    for cp in cps:
        out += struct.pack("<H", cp)
    for cp in cps:
        img = Image.new("1", (SIZE, SIZE), 0)
        d = ImageDraw.Draw(img)
        ch = chr(cp)
        box = d.textbbox((0, 0), ch, font=font)
        w, h = box[2] - box[0], box[3] - box[1]
        d.text(((SIZE - w) // 2 - box[0], (SIZE - h) // 2 - box[1]), ch, font=font, fill=1)
        px = img.load()
        for y in range(SIZE):
            v = 0
            for x in range(SIZE):
                if px[x, y]:
                    v |= 0x8000 >> x
            out += struct.pack(">H", v)
    return bytes(out)


def parse(data):
    """{char: 32-byte glyph} of a font file (host side: tests, the display model)."""
    if data[:4] != MAGIC:
        raise FontError("not a PF16 font file")
    n = struct.unpack_from("<H", data, 8)[0]
    cps = struct.unpack_from("<%dH" % n, data, 10)
    base = 10 + 2 * n
    return {chr(cp): data[base + 32 * i: base + 32 * (i + 1)] for i, cp in enumerate(cps)}


def build_into(firmware_dir, out_dir):
    """Write the subset for firmware_dir's catalogs to out_dir/TARGET; return that path."""
    chars = catalog_chars(os.path.join(firmware_dir, "pos", "ui", "messages.py"))
    data = render(chars)
    dst = os.path.join(out_dir, TARGET)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "wb") as f:
        f.write(data)
    return dst
