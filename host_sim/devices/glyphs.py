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
