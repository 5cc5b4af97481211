"""Pictures for the idle screen: a PNG or JPEG upload turned into the display's format.

The terminal's display is a 240x320 panel drawn from a 1-bit framebuffer in MicroPython's
MONO_HLSB layout (firmware ``pos.ui.canvas``): rows of 30 bytes, the leftmost pixel in the most
significant bit, 1 for ink.  The Ready screen keeps its text rows; the picture takes the band
between the last text row and the footer, WIDTH x HEIGHT pixels.  An upload is scaled to fit that
band (aspect kept, centred on paper) and dithered to black and white (Floyd-Steinberg)."""
import io

from PIL import Image, ImageOps, UnidentifiedImageError

WIDTH = 240
HEIGHT = 96
ROW_BYTES = WIDTH // 8
SIZE = ROW_BYTES * HEIGHT            # 2,880 bytes on the terminal per picture
MAX_UPLOAD = 512 * 1024             # bytes of the uploaded file (under the service's request limit)
MAX_PIXELS = 4096                    # either side of the uploaded picture
FORMATS = ("PNG", "JPEG")


class ImageRefused(ValueError):
    """An upload that is not a picture the idle screen can show; the message says why."""


def convert(data):
    """The display rows (SIZE bytes) of an uploaded PNG or JPEG."""
    if len(data) > MAX_UPLOAD:
        raise ImageRefused("the file is %d bytes: at most %d" % (len(data), MAX_UPLOAD))
    try:
        img = Image.open(io.BytesIO(data))
        fmt = img.format
        if fmt not in FORMATS:
            raise ImageRefused("a %s picture: send PNG or JPEG" % (fmt or "unknown"))
        if img.width > MAX_PIXELS or img.height > MAX_PIXELS:
            raise ImageRefused("%dx%d pixels: at most %d on either side" % (img.width, img.height, MAX_PIXELS))
        img.load()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRefused("not a PNG or JPEG picture (or a damaged one)")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, img.convert("RGBA"))
    grey = ImageOps.contain(img.convert("L"), (WIDTH, HEIGHT))
    band = Image.new("L", (WIDTH, HEIGHT), 255)
    band.paste(grey, ((WIDTH - grey.width) // 2, (HEIGHT - grey.height) // 2))
    # Pillow's mode "1" packs rows MSB first, 1 for white; the display's 1 is ink: invert
    bits = band.convert("1").tobytes()
    return bytes(b ^ 0xFF for b in bits)


def preview(rows):
    """A PNG of display rows, as the terminal will show them (ink black on white paper)."""
    img = Image.frombytes("1", (WIDTH, HEIGHT), bytes(b ^ 0xFF for b in rows))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()
