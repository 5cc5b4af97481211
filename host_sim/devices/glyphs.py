"""The firmware's text font as the display model sees it: MicroPython framebuf's
built-in 8x8 font, rendered once by the real MicroPython (the virtual board's
CPU) so that the model reads text with the exact glyphs the firmware draws.
Nothing of the font is stored in this repository; it is taken from the
MicroPython binary at first use and cached for the process.
"""
import functools

from host_sim import mpy

_RENDER = """
import framebuf
b = bytearray(8)
f = framebuf.FrameBuffer(b, 8, 8, framebuf.MONO_HLSB)
out = []
for c in range(32, 127):
    f.fill(0)
    f.text(chr(c), 0, 0, 1)
    out.append(bytes(b).hex())
print(",".join(out))
"""


@functools.lru_cache(maxsize=1)
def font8x8():
    """{8-tuple of row bytes (MSB = leftmost pixel): character} for ASCII 33..126."""
    rows = mpy.run(_RENDER, heap="64K").strip().split(",")
    table = {}
    for i, hexrows in enumerate(rows):
        ch = chr(32 + i)
        key = tuple(bytes.fromhex(hexrows))
        if ch != " " and any(key):
            table.setdefault(key, ch)
    return table


@functools.lru_cache(maxsize=1)
def font16():
    """The firmware's CJK subset as the display model reads it: ({16-tuple of row words:
    char}, {first inked row index: set of that row's values}); empty without the font."""
    import os
    from posbuild import fonts
    try:
        chars = fonts.catalog_chars(os.path.join(mpy.FIRMWARE_DIR, "pos", "ui", "messages.py"))
        glyphs = fonts.parse(fonts.render(chars))
    except (fonts.FontError, OSError, ImportError):
        return {}, {}
    table, keys = {}, {}
    for ch, g in glyphs.items():
        rows = tuple((g[2 * i] << 8) | g[2 * i + 1] for i in range(16))
        if not any(rows):
            continue
        table.setdefault(rows, ch)
        k = next(i for i, r in enumerate(rows) if r)
        keys.setdefault(k, set()).add(rows[k])
    return table, keys
