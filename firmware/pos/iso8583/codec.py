# Generic ISO 8583 encoder/decoder driven by a pos.iso8583.spec.Spec.
#
# A message is an MTI ("0200") and a dict {data element number: value}:
# str for n/an/ans/z/track elements (ints accepted for n), bytes for b.
# The body produced here starts at the MTI; length header and TPDU are
# added by pos.iso8583.framing.  Errors name the data element, never its
# contents (PAN, track data).
from micropython import const
from pos.iso8583.errors import Iso8583Error

_HEX = b"0123456789ABCDEF"
_MAX_FIELD = const(128)


def _is_digits(b, z=False):
    for c in b:
        if not (0x30 <= c <= 0x39):
            if z and c in (0x3D, 0x44):      # '=' or 'D' field separator (ISO 7813)
                continue
            return False
    return True


def _check_chars(f, n, b):
    k = f.kind
    if k == "n":
        ok = _is_digits(b)
    elif k == "z":
        ok = _is_digits(b, True)
    elif k == "an":
        ok = True
        for c in b:
            if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or c == 0x20):
                ok = False
                break
    else:   # ans, track: printable ASCII
        ok = True
        for c in b:
            if not 0x20 <= c <= 0x7E:
                ok = False
                break
    if not ok:
        raise Iso8583Error("field %d (%s): characters outside type %s" % (n, f.name, k), n)


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


def _bcd_unpack(raw, ndigits, left_pad, n):
    # ndigits digits from packed BCD; the pad nibble (0 on the left for n, F on the
    # right for z) is dropped; 'D' becomes '=' (track 2 field separator)
    s = bytearray()
    for b in raw:
        s.append(b >> 4)
        s.append(b & 0xF)
    if len(s) > ndigits:
        s = s[1:] if left_pad else s[:ndigits]
    for i in range(len(s)):
        nib = s[i]
        if nib <= 9:
            s[i] = 0x30 + nib
        elif nib == 0xD:
            s[i] = 0x3D
        else:
            raise Iso8583Error("field %d: invalid BCD digit" % n, n)
    return s


def _write_len(spec, n, ln, lt, out, pos):
    if spec.len_enc == "ascii":
        out[pos:pos + lt] = (("%0" + str(lt) + "d") % ln).encode()
        return pos + lt
    # BCD: LL in 1 byte, LLL in 2 bytes
    s = ("%0" + str(2 if lt == 2 else 4) + "d") % ln
    return _bcd_pack(s.encode(), out, pos, True)


class Encoder:
    """Encodes into one preallocated buffer (spec.max_message bytes)."""

    def __init__(self, spec):
        self.spec = spec
        self.buf = bytearray(spec.max_message)

    def encode(self, mti, fields):
        spec = self.spec
        out = self.buf
        cap = len(out)
        if isinstance(mti, (bytes, bytearray)):
            mti = mti.decode()
        if len(mti) != 4 or not _is_digits(mti.encode()):
            raise Iso8583Error("MTI %r is not 4 digits" % (mti,))
        if spec.mti_enc == "ascii":
            out[0:4] = mti.encode()
            pos = 4
        else:
            pos = _bcd_pack(mti.encode(), out, 0, True)
        numbers = sorted(fields)
        for n in numbers:
            if not 2 <= n <= _MAX_FIELD:
                raise Iso8583Error("data element %r outside 2..128" % (n,), n)
            if spec.fields.get(n) is None:
                raise Iso8583Error("field %d not defined in spec %s" % (n, spec.name), n)
        secondary = numbers and numbers[-1] > 64
        bm = bytearray(16 if secondary else 8)
        if secondary:
            bm[0] |= 0x80
        for n in numbers:
            bm[(n - 1) >> 3] |= 0x80 >> ((n - 1) & 7)
        if spec.bitmap == "bin":
            out[pos:pos + len(bm)] = bm
            pos += len(bm)
        else:
            for b in bm:
                out[pos] = _HEX[b >> 4]
                out[pos + 1] = _HEX[b & 0xF]
                pos += 2
        for n in numbers:
            f = spec.fields[n]
            v = fields[n]
            if f.kind == "b":
                if not isinstance(v, (bytes, bytearray, memoryview)):
                    raise Iso8583Error("field %d (%s): binary field needs bytes" % (n, f.name), n)
                data = bytes(v)
            else:
                if isinstance(v, int) and f.kind == "n":
                    v = str(v)
                if isinstance(v, (bytes, bytearray)):
                    data = bytes(v)
                elif isinstance(v, str):
                    data = v.encode()
                else:
                    raise Iso8583Error("field %d (%s): needs str" % (n, f.name), n)
                _check_chars(f, n, data)
            ln = len(data)
            if f.len_type == 0:
                if ln < f.max_len and f.kind == "n":
                    data = b"0" * (f.max_len - ln) + data       # numeric: right-justified
                    ln = f.max_len
                elif ln < f.max_len and f.kind in ("an", "ans"):
                    data = data + b" " * (f.max_len - ln)       # alpha: left-justified
                    ln = f.max_len
                elif ln != f.max_len:
                    raise Iso8583Error("field %d (%s): length %d, fixed length is %d"
                                       % (n, f.name, ln, f.max_len), n)
            elif ln > f.max_len:
                raise Iso8583Error("field %d (%s): length %d, longer than maximum %d"
                                   % (n, f.name, ln, f.max_len), n)
            need = ln + 4
            if pos + need > cap:
                raise Iso8583Error("message longer than %d bytes at field %d" % (cap, n), n)
            if f.len_type:
                pos = _write_len(spec, n, ln, f.len_type, out, pos)
            if f.enc == "bcd":
                if f.kind == "z":
                    data = data.replace(b"D", b"=")
                pos = _bcd_pack(data, out, pos, f.kind == "n")
            else:
                out[pos:pos + ln] = data
                pos += ln
        return bytes(memoryview(out)[:pos])


_encoders = {}


def encode(spec, mti, fields):
    """Body bytes (MTI, bitmap(s), data elements) for `mti` and `fields`."""
    e = _encoders.get(spec.name)
    if e is None:
        e = _encoders[spec.name] = Encoder(spec)
    return e.encode(mti, fields)


def _read_len(spec, raw, pos, lt, n):
    if spec.len_enc == "ascii":
        s = raw[pos:pos + lt]
        if len(s) < lt or not _is_digits(s):
            raise Iso8583Error("field %d: bad or truncated length prefix" % n, n)
        return int(bytes(s)), pos + lt
    nb = 1 if lt == 2 else 2
    s = raw[pos:pos + nb]
    if len(s) < nb:
        raise Iso8583Error("field %d: truncated length prefix" % n, n)
    d = _bcd_unpack(s, nb * 2, True, n)
    if not _is_digits(d):            # a D nibble unpacks as '=': not a length
        raise Iso8583Error("field %d: length prefix is not BCD digits" % n, n)
    return int(bytes(d)), pos + nb


def decode(spec, data):
    """(mti, {number: value}) from body bytes; Iso8583Error on any mismatch."""
    raw = memoryview(data)
    total = len(raw)
    if spec.mti_enc == "ascii":
        if total < 4:
            raise Iso8583Error("message shorter than the MTI (%d bytes)" % total)
        m = bytes(raw[0:4])
        if not _is_digits(m):
            raise Iso8583Error("MTI is not 4 ASCII digits")
        mti = m.decode()
        pos = 4
    else:
        if total < 2:
            raise Iso8583Error("message shorter than the MTI (%d bytes)" % total)
        m = _bcd_unpack(raw[0:2], 4, True, 0)
        if not _is_digits(m):
            raise Iso8583Error("MTI is not 4 BCD digits")
        mti = bytes(m).decode()
        pos = 2
    bml = 8 if spec.bitmap == "bin" else 16

    def bitmap_at(p):
        if p + bml > total:
            raise Iso8583Error("message ends inside the bitmap")
        if spec.bitmap == "bin":
            return bytes(raw[p:p + 8])
        h = bytes(raw[p:p + 16])
        try:
            return bytes(bytearray(int(h[i:i + 2], 16) for i in range(0, 16, 2)))
        except ValueError:
            raise Iso8583Error("bitmap is not hexadecimal")

    bm = bitmap_at(pos)
    pos += bml
    if bm[0] & 0x80:
        bm = bm + bitmap_at(pos)
        pos += bml
    fields = {}
    nbits = len(bm) * 8
    for n in range(2, nbits + 1):
        if not bm[(n - 1) >> 3] & (0x80 >> ((n - 1) & 7)):
            continue
        if n == 65:
            raise Iso8583Error("bit 65 set (a tertiary bitmap is not supported)", n)
        f = spec.fields.get(n)
        if f is None:
            raise Iso8583Error("field %d present in bitmap but not defined in spec %s" % (n, spec.name), n)
        if f.len_type:
            ln, pos = _read_len(spec, raw, pos, f.len_type, n)
            if ln > f.max_len:
                raise Iso8583Error("field %d (%s): length %d, longer than maximum %d"
                                   % (n, f.name, ln, f.max_len), n)
        else:
            ln = f.max_len
        nbytes = (ln + 1) >> 1 if f.enc == "bcd" else ln
        if pos + nbytes > total:
            raise Iso8583Error("field %d (%s): %d bytes needed, %d left (bitmap/field mismatch?)"
                               % (n, f.name, nbytes, total - pos), n)
        chunk = raw[pos:pos + nbytes]
        pos += nbytes
        if f.kind == "b":
            fields[n] = bytes(chunk)
            continue
        if f.enc == "bcd":
            b = _bcd_unpack(chunk, ln, f.kind == "n", n)
        else:
            b = bytes(chunk)
        _check_chars(f, n, b)
        fields[n] = bytes(b).decode()
    if pos != total:
        raise Iso8583Error("%d bytes left after the last field in the bitmap (bitmap/field mismatch)"
                           % (total - pos))
    if spec.tlv:
        _check_tlv(spec, fields)
    return mti, fields


def _check_tlv(spec, fields):
    from pos.emv import tlv
    for n in spec.tlv:
        v = fields.get(n)
        if v is None:
            continue
        try:
            for _ in tlv.tlv_iter(v):
                pass
        except ValueError as e:
            raise Iso8583Error("field %d: malformed BER-TLV (%s)" % (n, e), n)
