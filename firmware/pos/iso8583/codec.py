# Generic ISO 8583 encoder/decoder driven by a pos.iso8583.spec.Spec.
#
# A message is an MTI ("0200") and a dict {data element number: value}:
# str for n/an/ans/z/track elements (ints accepted for n), bytes for b.
# The body produced here starts at the MTI; length header and TPDU are
# added by pos.iso8583.framing.  Errors name the data element, never its
# contents (PAN, track data).  Whatever bytes it is given, decode() raises
# Iso8583Error (pos.iso8583.errors) and nothing else -- a bad BCD nibble in an
# MTI, a length prefix or a numeric field included.
from micropython import const
from pos.emv.tlv import tlv_check
from pos.iso8583.errors import Iso8583Error

_HEX = b"0123456789ABCDEF"
_MAX_FIELD = const(128)


def _is_digits(b, z=False):
    # bytes.isdigit() runs in C (an empty value has no bad character)
    if not b or b.isdigit():
        return True
    if z:                                    # '=' or 'D' field separator (ISO 7813)
        b = bytes(b).replace(b"=", b"").replace(b"D", b"")
        return not b or b.isdigit()
    return False


def _printable(b):
    # ans and track 1: printable ASCII, 0x20..0x7E (min and max run in C)
    return not b or (min(b) >= 0x20 and max(b) <= 0x7E)


def _check_chars(f, n, b):
    k = f[0]
    if k == "n":
        ok = _is_digits(b)
    elif k == "z":
        ok = _is_digits(b, True)
    elif k == "an":
        ok = _printable(b)
        if ok:
            for c in b:
                if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c == 0x20):
                    ok = False
                    break
    else:   # ans, track: printable ASCII
        ok = _printable(b)
    if not ok:
        raise Iso8583Error("field %d (%s): characters outside type %s" % (n, f[4], k), n)


def _value_bytes(f, n, v):
    # a value given as bytes (or an int for n) rather than str: its bytes, checked whole
    t = type(v)
    if t is bytes or t is bytearray:
        data = v
    elif t is int and f[0] == "n":
        data = str(v).encode()
    else:
        raise Iso8583Error("field %d (%s): needs str" % (n, f[4]), n)
    if f[0] != "n" or (data and not data.isdigit()):
        _check_chars(f, n, data)
    return data


def _bcd_pack(digits, out, pos, left_pad):
    # digits: ASCII bytes of 0-9 and 'D'/'='; odd counts padded with 0 (n, left) or F (z, right)
    nib = [0] if (len(digits) & 1 and left_pad) else []
    for c in digits:
        nib.append(0xD if c in (0x3D, 0x44) else c - 0x30)
    if len(nib) & 1:
        nib.append(0xF)
    for i in range(0, len(nib), 2):
        out[pos] = (nib[i] << 4) | nib[i + 1]
        pos += 1
    return pos


def _bcd_unpack(raw, ndigits, left_pad, n, track=False, what=None):
    # ndigits digits from packed BCD; the pad nibble (0 on the left for n, F on the
    # right for z) is dropped; in track 2 data (z) 'D' becomes '=' (field separator);
    # any other nibble above 9 -- in an MTI, a length prefix or a numeric field -- is
    # refused as Iso8583Error naming where it was (`what`, else the data element)
    s = bytearray()
    for b in raw:
        s.append(b >> 4)
        s.append(b & 0xF)
    if len(s) > ndigits:
        # odd digit count: the pad nibble is 0 on the left (n) or F on the right (z); any
        # other value would be a digit silently dropped
        pad = s[0] if left_pad else s[-1]
        if pad != (0 if left_pad else 0xF):
            raise Iso8583Error("%s: pad nibble %X (want %s)" % (what or "field %d" % n, pad,
                                                                  "0" if left_pad else "F"), n)
        s = s[1:] if left_pad else s[:ndigits]
    for i in range(len(s)):
        nib = s[i]
        if nib <= 9:
            s[i] = 0x30 + nib
        elif nib == 0xD and track:
            s[i] = 0x3D
        else:
            raise Iso8583Error("%s: invalid BCD digit %X" % (what or "field %d" % n, nib), n)
    return s


def _write_len(spec, n, ln, lt, out, pos):
    if spec.len_enc == "ascii":
        out[pos:pos + lt] = (("%0" + str(lt) + "d") % ln).encode()
        return pos + lt
    # BCD: LL in 1 byte, LLL in 2 bytes
    s = ("%0" + str(2 if lt == 2 else 4) + "d") % ln
    return _bcd_pack(s.encode(), out, pos, True)


# A spec's plan: per data element number (0..128), which of the two commonest shapes it has --
# fixed length in ASCII, numeric (n) or printable (ans, track) -- and that fixed length.  Those
# are encoded and decoded in a few steps; every other element, or one of these whose value
# needs more (padding, an int, a wrong character), takes the general path, which makes every
# check and names the field in its errors.  Two 129-byte tables per spec in use.
FIXED_N = const(1)
FIXED_ANS = const(2)


class Plan:
    def __init__(self, spec):
        self.spec = spec
        self.forms = forms = bytearray(_MAX_FIELD + 1)
        self.widths = widths = bytearray(_MAX_FIELD + 1)
        for n in spec.fields:
            kind, len_type, max_len, enc, _name = spec.fields[n]
            if len_type == 0 and enc == "ascii" and 1 <= max_len <= 255:
                if kind == "n":
                    forms[n] = FIXED_N
                elif kind == "ans" or kind == "track":
                    forms[n] = FIXED_ANS
                else:
                    continue
                widths[n] = max_len


_plans = {}


def plan(spec):
    """The spec's Plan, made at its first use (one per spec name)."""
    p = _plans.get(spec.name)
    if p is None or p.spec is not spec:
        p = _plans[spec.name] = Plan(spec)
    return p


# The encoders' message buffer, made by reserve() at boot while the heap is whole.  Made at the
# first encode instead (the first card sale of the day), this one block of 1 KB was what a heap
# fragmented by a day of baskets no longer had: the request failed on the host path and the
# card sale was declined (docs/offline.md, "Memory").  Every encoder shares it: encode() runs
# to its end without yielding and returns a copy.
_buf = None
MESSAGE_BUF = const(1024)


def reserve(size=MESSAGE_BUF):
    global _buf
    if _buf is None:
        _buf = bytearray(size)


class Encoder:
    """Encodes into one preallocated buffer (spec.max_message bytes): the one reserve() made at
    boot when it is large enough, else its own."""

    def __init__(self, spec):
        self.spec = spec
        self.plan = plan(spec)
        b = _buf
        self.buf = b if b is not None and len(b) >= spec.max_message else bytearray(spec.max_message)
        # the fixed-length elements' copies go through a view that ends 4 bytes short of the
        # buffer, as the general path's check does: one that would not fit fails there
        self.view = memoryview(self.buf)[:len(self.buf) - 4]

    def encode(self, mti, fields):
        spec = self.spec
        out = self.buf
        cap = len(out)
        t = type(mti)
        if t is bytes or t is bytearray:
            mti = mti.decode()
        if len(mti) != 4 or not mti.isdigit():
            raise Iso8583Error("MTI %r is not 4 digits" % (mti,))
        if spec.mti_enc == "ascii":
            out[0:4] = mti.encode()
            pos = 4
        else:
            pos = _bcd_pack(mti.encode(), out, 0, True)
        numbers = sorted(fields)
        if numbers and (numbers[0] < 2 or numbers[-1] > _MAX_FIELD):
            n = numbers[0] if numbers[0] < 2 else numbers[-1]
            raise Iso8583Error("data element %r outside 2..128" % (n,), n)
        sfields = spec.fields
        forms = self.plan.forms
        widths = self.plan.widths
        view = self.view
        secondary = numbers and numbers[-1] > 64
        bm = bytearray(16 if secondary else 8)
        if secondary:
            bm[0] = 0x80                     # bit 1: a secondary bitmap follows
        bm_pos = pos                         # the bitmap goes here once its bits are known
        pos += len(bm) if spec.bitmap == "bin" else 2 * len(bm)
        ascii_len = spec.len_enc == "ascii"
        for n in numbers:
            m = n - 1
            bm[m >> 3] |= 0x80 >> (m & 7)
            v = fields[n]
            form = forms[n]
            if form:
                # fixed length in ASCII, a str of that length with the right characters: copied
                # here (the view refuses another length); anything else, the general path
                try:
                    data = v.encode()
                    end = pos + widths[n]
                    if form == FIXED_N:
                        ok = data.isdigit()
                    else:                    # printable ASCII: 0x20..0x7E, one byte a character
                        ok = min(data) >= 0x20 and 0x7F not in data and len(v) == end - pos
                    if ok:
                        view[pos:end] = data
                        pos = end
                        continue
                except (AttributeError, ValueError):
                    pass
            f = sfields.get(n)
            if f is None:
                raise Iso8583Error("field %d not defined in spec %s" % (n, spec.name), n)
            kind, len_type, max_len, enc, name = f
            if kind == "b":
                t = type(v)
                if not (t is bytes or t is bytearray or t is memoryview):
                    raise Iso8583Error("field %d (%s): binary field needs bytes" % (n, name), n)
                data = v
                ln = len(data)
            else:
                try:
                    data = v.encode()            # a str, as nearly every value is
                except AttributeError:
                    data = _value_bytes(f, n, v)         # bytes, or an int for n: checked whole
                    ln = len(data)
                else:
                    ln = len(data)
                    if kind == "n":
                        if not data.isdigit() and ln:
                            _check_chars(f, n, data)     # raises, naming the field
                    elif kind == "ans" or kind == "track":
                        # printable ASCII: no byte under 0x20, no DEL, one byte a character
                        if ln and (min(data) < 0x20 or 0x7F in data or len(v) != ln):
                            _check_chars(f, n, data)     # raises, naming the field
                    else:
                        _check_chars(f, n, data)
            if len_type == 0:
                if ln != max_len:
                    if ln < max_len and kind == "n":
                        data = b"0" * (max_len - ln) + data       # numeric: right-justified
                    elif ln < max_len and (kind == "an" or kind == "ans"):
                        data = bytes(data) + b" " * (max_len - ln)       # alpha: left-justified
                    else:
                        raise Iso8583Error("field %d (%s): length %d, fixed length is %d"
                                           % (n, name, ln, max_len), n)
                    ln = max_len
            elif ln > max_len:
                raise Iso8583Error("field %d (%s): length %d, longer than maximum %d"
                                   % (n, name, ln, max_len), n)
            if pos + ln + 4 > cap:
                raise Iso8583Error("message longer than %d bytes at field %d" % (cap, n), n)
            if len_type:
                if ascii_len:                    # LL or LLL as ASCII digits
                    if len_type == 3:
                        out[pos] = 0x30 + ln // 100
                        pos += 1
                    out[pos] = 0x30 + ln // 10 % 10
                    out[pos + 1] = 0x30 + ln % 10
                    pos += 2
                else:
                    pos = _write_len(spec, n, ln, len_type, out, pos)
            if enc == "bcd":
                if kind == "z":
                    data = bytes(data).replace(b"D", b"=")
                pos = _bcd_pack(data, out, pos, kind == "n")
            else:
                out[pos:pos + ln] = data
                pos += ln
        if spec.bitmap == "bin":
            out[bm_pos:bm_pos + len(bm)] = bm
        else:
            for b in bm:
                out[bm_pos] = _HEX[b >> 4]
                out[bm_pos + 1] = _HEX[b & 0xF]
                bm_pos += 2
        return bytes(memoryview(out)[:pos])


_encoders = {}


def encode(spec, mti, fields):
    """Body bytes (MTI, bitmap(s), data elements) for `mti` and `fields`."""
    e = _encoders.get(spec.name)
    if e is None or e.spec is not spec:
        e = _encoders[spec.name] = Encoder(spec)
    return e.encode(mti, fields)


def _read_len(spec, raw, pos, lt, n):
    if spec.len_enc == "ascii":
        s = bytes(raw[pos:pos + lt])
        if len(s) < lt or not s.isdigit():
            raise Iso8583Error("field %d: bad or truncated length prefix" % n, n)
        return int(s), pos + lt
    nb = 1 if lt == 2 else 2
    s = raw[pos:pos + nb]
    if len(s) < nb:
        raise Iso8583Error("field %d: truncated length prefix" % n, n)
    d = _bcd_unpack(s, nb * 2, True, n, what="field %d length prefix" % n)
    return int(bytes(d)), pos + nb


def _truncated(n, name, need, left):
    raise Iso8583Error("field %d (%s): %d bytes needed, %d left (bitmap/field mismatch?)"
                       % (n, name, need, left), n)


def _hex_bitmap(h):
    # 16 ASCII hex digits -> 8 bitmap bytes
    try:
        return bytes(bytearray(int(h[i:i + 2], 16) for i in range(0, 16, 2)))
    except ValueError:
        raise Iso8583Error("bitmap is not hexadecimal")


# _TOP[b]: how many bits from the left b's highest set bit is (0 for 0x80..0xFF, 7 for 0x01);
# a bitmap byte's fields are found one look-up each, high bit (lowest number) first
_TOP = (
    b"\x00\x07\x06\x06\x05\x05\x05\x05\x04\x04\x04\x04\x04\x04\x04\x04\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03"
    b"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02"
    b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
    b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")


# decode's list of the data elements a bitmap names (one byte each, 2..128), kept for good
_present = bytearray(_MAX_FIELD)


def decode(spec, data):
    """(mti, {number: value}) from body bytes; Iso8583Error on any mismatch."""
    if type(data) is not bytes:
        data = bytes(data)                   # one copy; fields are sliced from it below
    total = len(data)
    if spec.mti_enc == "ascii":
        if total < 4:
            raise Iso8583Error("message shorter than the MTI (%d bytes)" % total)
        m = data[0:4]
        if not m.isdigit():
            raise Iso8583Error("MTI is not 4 ASCII digits")
        mti = m.decode()
        pos = 4
    else:
        if total < 2:
            raise Iso8583Error("message shorter than the MTI (%d bytes)" % total)
        mti = bytes(_bcd_unpack(data[0:2], 4, True, None, what="MTI")).decode()
        pos = 2
    # the bitmap(s): read in place when binary (no copy), through 8 bytes made from the hex
    # digits otherwise; bit 1 says a secondary bitmap follows
    hexmap = spec.bitmap != "bin"
    bml = 16 if hexmap else 8
    if pos + bml > total:
        raise Iso8583Error("message ends inside the bitmap")
    bm = _hex_bitmap(data[pos:pos + 16]) if hexmap else data
    first = 0 if hexmap else pos             # the primary bitmap's first byte in bm
    pos += bml
    if bm[first] & 0x80:
        if pos + bml > total:
            raise Iso8583Error("message ends inside the bitmap")
        if hexmap:
            bm += _hex_bitmap(data[pos:pos + 16])
        pos += bml
        if bm[first + 8] & 0x80:
            raise Iso8583Error("bit 65 set (a tertiary bitmap is not supported)", 65)
        last = first + 16
    else:
        last = first + 8
    # the data elements the bitmap names, in order, into _present; the result dict is then
    # made at its full size at once (grown one element at a time, it was rebuilt six times for
    # a 0200)
    present = _present
    k = 0
    top = _TOP
    n = 1                                    # the data element of the byte's first bit
    for i in range(first, last):
        byte = bm[i]
        if n == 1:
            byte &= 0x7F                     # bit 1: the secondary bitmap, not a field
        while byte:                          # the set bits of this byte, high to low
            h = top[byte]
            byte ^= 0x80 >> h
            present[k] = n + h
            k += 1
        n += 8
    present = memoryview(present)[:k]
    fields = dict.fromkeys(present)
    sfields = spec.fields
    ascii_len = spec.len_enc == "ascii"
    p = _plans.get(spec.name)
    if p is None or p.spec is not spec:
        p = plan(spec)
    forms = p.forms
    widths = p.widths
    try:
        for n in present:
            form = forms[n]
            if form:
                # fixed length in ASCII, the right characters: sliced here; anything else, the
                # general path (which names what is wrong)
                end = pos + widths[n]
                if end <= total:
                    b = data[pos:end]
                    if form == FIXED_N:
                        if b.isdigit():
                            fields[n] = b.decode()
                            pos = end
                            continue
                    elif min(b) >= 0x20 and 0x7F not in b:
                        v = b.decode()       # bytes above 0x7F: UnicodeError (below), or
                        if len(v) == end - pos:  # fewer characters than bytes
                            fields[n] = v
                            pos = end
                            continue
            kind, len_type, max_len, enc, name = sfields[n]
            if len_type:
                if ascii_len and pos + len_type <= total:
                    # LL or LLL as ASCII digits (ISO 8583:1987 4.3)
                    c = data[pos] - 0x30
                    d = data[pos + 1] - 0x30
                    if len_type == 3:
                        e = data[pos + 2] - 0x30
                        ok = 0 <= c <= 9 and 0 <= d <= 9 and 0 <= e <= 9
                        ln = c * 100 + d * 10 + e
                    else:
                        ok = 0 <= c <= 9 and 0 <= d <= 9
                        ln = c * 10 + d
                    if not ok:
                        raise Iso8583Error("field %d: bad or truncated length prefix" % n, n)
                    pos += len_type
                else:
                    ln, pos = _read_len(spec, data, pos, len_type, n)
                if ln > max_len:
                    raise Iso8583Error("field %d (%s): length %d, longer than maximum %d"
                                       % (n, name, ln, max_len), n)
            else:
                ln = max_len
            end = pos + ln
            if enc == "ascii":
                if end > total:
                    _truncated(n, name, ln, total - pos)
                b = data[pos:end]
                pos = end
                if kind == "n":
                    if not b.isdigit() and ln:
                        _check_chars(sfields[n], n, b)       # raises, naming the field
                elif kind == "ans" or kind == "track":
                    # printable ASCII: no byte under 0x20, no DEL (and, below, one byte a character)
                    if ln and (min(b) < 0x20 or 0x7F in b):
                        _check_chars(sfields[n], n, b)       # raises, naming the field
                    v = b.decode()
                    if len(v) != ln:
                        _check_chars(sfields[n], n, b)       # raises, naming the field
                    fields[n] = v
                    continue
                else:
                    _check_chars(sfields[n], n, b)
                fields[n] = b.decode()
            elif enc == "bin":
                if end > total:
                    _truncated(n, name, ln, total - pos)
                fields[n] = data[pos:end]
                pos = end
            else:                            # BCD: two digits a byte, odd counts padded
                end = pos + ((ln + 1) >> 1)
                if end > total:
                    _truncated(n, name, end - pos, total - pos)
                # digits only (and '=' for z): any other nibble is refused as it is unpacked
                fields[n] = bytes(_bcd_unpack(data[pos:end], ln, kind == "n", n, kind == "z")).decode()
                pos = end
    except KeyError:
        raise Iso8583Error("field %d present in bitmap but not defined in spec %s" % (n, spec.name), n)
    except UnicodeError:                     # an ans value with bytes above 0x7F
        _check_chars(sfields[n], n, b)       # raises, naming the field
    if pos != total:
        raise Iso8583Error("%d bytes left after the last field in the bitmap (bitmap/field mismatch)"
                           % (total - pos))
    if spec.tlv:
        _check_tlv(spec, fields)
    return mti, fields


def _check_tlv(spec, fields):
    for n in spec.tlv:
        v = fields.get(n)
        if v is None:
            continue
        try:
            tlv_check(v)
        except ValueError as e:
            raise Iso8583Error("field %d: malformed BER-TLV (%s)" % (n, e), n)
