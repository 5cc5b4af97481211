"""ST7789 model against the command set of the Sitronix datasheet (byte level, CPython)."""
from host_sim.devices.st7789 import (CASET, COLMOD, DISPON, INVON, MADCTL, RAMWR, RASET, SLPOUT,
                                     ST7789, SWRESET)


def cmd(d, c, data=b""):
    d.pin_changed("cs", 0)
    d.pin_changed("dc", 0)
    d.spi_write(bytes([c]))
    if data:
        d.pin_changed("dc", 1)
        d.spi_write(data)
    d.pin_changed("cs", 1)


def window(d, x0, y0, x1, y1):
    cmd(d, CASET, bytes([x0 >> 8, x0 & 255, x1 >> 8, x1 & 255]))
    cmd(d, RASET, bytes([y0 >> 8, y0 & 255, y1 >> 8, y1 & 255]))


def awake(d):
    cmd(d, SWRESET)
    cmd(d, SLPOUT)
    cmd(d, COLMOD, b"\x55")
    cmd(d, DISPON)


def test_panel_dark_until_sleep_out_and_display_on():
    d = ST7789()
    window(d, 0, 0, 0, 0)
    cmd(d, COLMOD, b"\x55")
    cmd(d, RAMWR, b"\xff\xff")
    assert d.pixel(0, 0) == 0xFFFF              # frame memory written...
    assert d.image().getpixel((0, 0)) == (0, 0, 0)   # ...but the panel is still off
    cmd(d, SLPOUT)
    cmd(d, DISPON)
    assert d.image().getpixel((0, 0)) == (255, 255, 255)


def test_ramwr_fills_window_row_by_row():
    d = ST7789()
    awake(d)
    window(d, 10, 20, 12, 21)                   # 3 x 2 window
    red, green = b"\xf8\x00", b"\x07\xe0"
    cmd(d, RAMWR, red * 3 + green * 3)
    assert [d.pixel(x, 20) for x in (10, 11, 12)] == [0xF800] * 3
    assert [d.pixel(x, 21) for x in (10, 11, 12)] == [0x07E0] * 3
    assert d.pixel(13, 20) == 0 and d.pixel(9, 21) == 0
    img = d.image()
    assert img.getpixel((10, 20)) == (255, 0, 0)
    assert img.getpixel((12, 21)) == (0, 255, 0)


def test_pixel_split_across_bursts_and_overflow_ignored():
    d = ST7789()
    awake(d)
    window(d, 0, 0, 1, 0)
    d.pin_changed("cs", 0)
    d.pin_changed("dc", 0)
    d.spi_write(bytes([RAMWR]))
    d.pin_changed("dc", 1)
    d.spi_write(b"\x00")                        # half a pixel...
    d.spi_write(b"\x1f\xf8\x00\x12\x34")        # ...then the rest, plus data past the window
    d.pin_changed("cs", 1)
    assert d.pixel(0, 0) == 0x001F
    assert d.pixel(1, 0) == 0xF800
    assert d.pixel(0, 1) == 0                    # nothing written past the window end


def test_madctl_mirror_x():
    d = ST7789()
    awake(d)
    cmd(d, MADCTL, b"\x40")                     # MX
    window(d, 0, 0, 0, 0)
    cmd(d, RAMWR, b"\xff\xff")
    assert d.pixel(239, 0) == 0xFFFF and d.pixel(0, 0) == 0


def test_18_bit_colmod_data_not_taken_as_rgb565():
    d = ST7789()
    cmd(d, SLPOUT)
    cmd(d, DISPON)
    window(d, 0, 0, 0, 0)
    cmd(d, RAMWR, b"\xff\xff\xff")              # power-on COLMOD is 18 bit/pixel
    assert d.pixel(0, 0) == 0


def test_invon_inverts_the_panel_not_memory():
    d = ST7789()
    awake(d)
    cmd(d, INVON)
    assert d.pixel(5, 5) == 0
    assert d.image().getpixel((5, 5)) == (255, 255, 255)


def test_hardware_reset_returns_to_sleep():
    d = ST7789()
    awake(d)
    d.pin_changed("rst", 0)
    assert not d.shown()


def _draw_text(d, text, x0, y0, scale):
    """Ink `text` in the firmware's 8x8 font at (x0, y0), each pixel `scale` x `scale`, black on
    white, as full-width RAMWR rows."""
    from host_sim.devices.glyphs import font8x8
    rows_of = {ch: key for key, ch in font8x8().items()}
    h = 8 * scale
    frame = bytearray(b"\xff" * (240 * h * 2))
    for i, ch in enumerate(text):
        for gy, bits in enumerate(rows_of.get(ch, (0,) * 8)):
            for gx in range(8):
                if bits & (0x80 >> gx):
                    for dy in range(scale):
                        for dx in range(scale):
                            x = x0 + (i * 8 + gx) * scale + dx
                            p = ((gy * scale + dy) * 240 + x) * 2
                            frame[p:p + 2] = b"\x00\x00"
    window(d, 0, y0, 239, y0 + h - 1)
    cmd(d, RAMWR, bytes(frame))


def test_text_read_back_double_size_digit_alone():
    # the foot of a double-size '5' is two single-size '_': alone on its row (an invoice
    # number keyed), the digit must still read as itself
    d = ST7789()
    awake(d)
    window(d, 0, 0, 239, 319)
    cmd(d, RAMWR, b"\xff" * (240 * 320 * 2))
    _draw_text(d, "Original invoice", 0, 24, 1)
    _draw_text(d, "5", 112, 48, 2)
    assert d.text() == "Original invoice\n5"
    _draw_text(d, "57", 104, 48, 2)
    assert d.text() == "Original invoice\n57"
