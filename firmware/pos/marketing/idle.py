# The idle-screen campaigns file on flash (docs/marketing.md): checked whole before it replaces
# the one in use, read a record at a time, its pictures streamed from flash straight into the
# display's framebuffer (no second frame on the heap).
#
#     idle.install("marketing.part")          # MarketingError: refused, the old file stays
#     lines, picture = idle.showing(time.localtime())
#     idle.draw_picture(canvas, picture)
import binascii
import os
import struct

from micropython import const

from pos.marketing import MarketingError

PATH = "marketing.bin"
MAGIC = b"SPMK"
FORMAT = const(1)
HEADER = const(16)
RECORD = const(128)
LINE = const(28)
LINES = const(3)
MAX_CAMPAIGNS = const(16)
PICTURE_W = const(240)
PICTURE_H = const(96)
PICTURE_ROW = const(30)                 # bytes of one MONO_HLSB row of the picture
PICTURE = const(2880)
PICTURE_Y = const(200)                  # below the Ready screen's last text row, above its footer


def _refuse(why):
    raise MarketingError("campaigns refused (%s): the ones in use stay" % why)


def _header(f):
    head = f.read(HEADER)
    if len(head) != HEADER or head[:4] != MAGIC:
        _refuse("not a campaigns file")
    fmt, count, crc, length = struct.unpack_from(">HHII", head, 4)
    return fmt, count, crc, length


def _digits(b):
    for c in b:
        if not 0x30 <= c <= 0x39:
            return False
    return True


def check(path):
    """The digest (CRC-32 of the body) of a whole, consistent campaigns file, or MarketingError."""
    try:
        size = os.stat(path)[6]
        f = open(path, "rb")
    except OSError:
        _refuse("no file")
    try:
        fmt, count, crc, length = _header(f)
        if fmt != FORMAT:
            _refuse("format %d, this terminal reads %d" % (fmt, FORMAT))
        if count > MAX_CAMPAIGNS:
            _refuse("%d campaigns, at most %d" % (count, MAX_CAMPAIGNS))
        if size != HEADER + length:
            _refuse("%d bytes, the header says %d: cut short or padded" % (size, HEADER + length))
        rec = bytearray(RECORD)
        pictures = 0
        c = 0
        for i in range(count):
            if f.readinto(rec) != RECORD:
                _refuse("campaign %d cut short" % i)
            c = binascii.crc32(rec, c)
            if not _digits(rec[:24]) or rec[24] > 23 or not rec[24] < rec[25] <= 24 or rec[26] > LINES \
                    or rec[27] > 1:
                _refuse("campaign %d malformed" % i)
            if rec[27]:
                if struct.unpack_from(">H", rec, 112)[0] != pictures:
                    _refuse("campaign %d names picture %d" % (i, struct.unpack_from(">H", rec, 112)[0]))
                pictures += 1
        if length != count * RECORD + pictures * PICTURE:
            _refuse("%d bytes of body for %d campaigns and %d pictures" % (length, count, pictures))
        buf = bytearray(256)
        mv = memoryview(buf)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            c = binascii.crc32(buf if n == 256 else mv[:n], c)   # a view only for the last piece
        if c != crc:
            _refuse("CRC %08x, the header says %08x: damaged" % (c, crc))
        return crc
    finally:
        f.close()


def install(part, path=PATH):
    """Check the file `part` whole and put it in place of `path`; `part` is removed either way."""
    try:
        digest = check(part)
        os.rename(part, path)
        return digest
    finally:
        try:
            os.remove(part)
        except OSError:
            pass


def digest(path=PATH):
    """The digest of the file in use (0 without one: the digest of no campaigns)."""
    try:
        with open(path, "rb") as f:
            return _header(f)[2]
    except (OSError, MarketingError):
        return 0


def _text(mv):
    n = 0
    while n < len(mv) and mv[n]:
        n += 1
    try:
        return str(bytes(mv[:n]), "utf-8")
    except UnicodeError:
        return ""


def showing(now, path=PATH):
    """(lines, picture) of the campaigns whose schedule holds at `now` (a time.localtime()
    tuple): every line of each, in the file's order, and the file offset of the first one's
    picture (None without).  Nothing when there is no file."""
    key = b"%04d%02d%02d%02d%02d" % now[:5]
    hour = now[3]
    lines = []
    picture = None
    try:
        f = open(path, "rb")
    except OSError:
        return lines, picture
    try:
        count = _header(f)[1]
        rec = bytearray(RECORD)
        mv = memoryview(rec)
        for _ in range(count):
            if f.readinto(rec) != RECORD:
                break
            if not (bytes(mv[:12]) <= key < bytes(mv[12:24]) and rec[24] <= hour < rec[25]):
                continue
            for j in range(rec[26]):
                s = _text(mv[28 + j * LINE:28 + (j + 1) * LINE])
                if s:
                    lines.append(s)
            if rec[27] and picture is None:
                picture = HEADER + count * RECORD + struct.unpack_from(">H", rec, 112)[0] * PICTURE
    except MarketingError:
        pass
    finally:
        f.close()
    return lines, picture


def draw_picture(canvas, offset, path=PATH):
    """The picture at `offset` of the file read from flash into the display's framebuffer rows
    (MONO_HLSB: the file's rows are the framebuffer's)."""
    buf = canvas.d.buf
    start = PICTURE_Y * PICTURE_ROW
    with open(path, "rb") as f:
        f.seek(offset)
        f.readinto(memoryview(buf)[start:start + PICTURE])
    canvas.d.mark_dirty(PICTURE_Y, PICTURE_Y + PICTURE_H)


def clear_picture(canvas):
    canvas.fb.fill_rect(0, PICTURE_Y, PICTURE_W, PICTURE_H, 0)
    canvas.d.mark_dirty(PICTURE_Y, PICTURE_Y + PICTURE_H)
