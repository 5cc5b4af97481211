# BER-TLV as EMV uses it (EMV 4.4 Book 3, Annex B).
#
# Iteration yields offsets into the caller's buffer, so walking a record
# allocates nothing per object but the tuple.  Limits: tags of up to 4
# bytes, length fields of up to 3 bytes (0x83), nesting depth 8.  Anything
# else -- a truncated tag or length, a value running past the end, an
# over-long length field -- raises TLVError naming the offset.
from array import array

from micropython import const

MAX_DEPTH = const(8)
_hd = array("i", (0, 0, 0))  # _head's tag, value start and constructed flag (it returns the value end)


class TLVError(ValueError):
    pass


def read_tag(buf, i, end):
    """(tag, offset after it) of the tag at offset i (B1: 1F in the first byte
    means more tag bytes follow, each with b8 set but the last)."""
    i = tag_end(buf, i, end)
    return _hd[0], i


def tag_end(buf, i, end):
    """read_tag without the pair: the offset after the tag at offset i, the tag in _hd[0]."""
    start = i
    t = buf[i]
    i += 1
    if t & 0x1F == 0x1F:
        n = 1
        while True:
            if i >= end:
                raise TLVError("truncated tag at offset %d" % start)
            b = buf[i]
            t = (t << 8) | b
            i += 1
            n += 1
            if not b & 0x80:
                break
            if n >= 4:
                raise TLVError("tag longer than 4 bytes at offset %d" % start)
    _hd[0] = t
    return i


def _header(buf, i, end):
    """(tag, value_start, value_end) of the object at offset i."""
    start = i
    t, i = read_tag(buf, i, end)
    if i >= end:
        raise TLVError("missing length for tag %X at offset %d" % (t, start))
    ln = buf[i]
    i += 1
    if ln & 0x80:                          # B2: long form, ln & 0x7F length bytes
        nb = ln & 0x7F
        if nb == 0 or nb > 3:
            raise TLVError("bad length field 0x%02X for tag %X at offset %d" % (ln, t, start))
        if i + nb > end:
            raise TLVError("truncated length for tag %X at offset %d" % (t, start))
        ln = 0
        for _ in range(nb):
            ln = (ln << 8) | buf[i]
            i += 1
    if i + ln > end:
        raise TLVError("tag %X at offset %d: length %d runs past the end (%d bytes left)"
                       % (t, start, ln, end - i))
    return t, i, i + ln


def _head(buf, i, end):
    """The next object from offset i (00 and FF bytes between objects are padding and skipped,
    Book 3 Annex B): its value end, its tag in _hd[0], value start in _hd[1] and, in _hd[2],
    non-zero when it is constructed (b6 of the first tag byte, B1); -1 when only padding is
    left.  Read _hd before the next call.  One- and two-byte tags with a length of up to two
    bytes (81 xx, 82 xx xx) are read here, allocating nothing; any other header goes through
    _header, errors included."""
    hd = _hd
    while i < end:
        b = buf[i]
        if b and b != 0xFF:
            break
        i += 1
    else:
        return -1
    hd[2] = b & 0x20
    j = i + 1
    if b & 0x1F == 0x1F:
        if j >= end or buf[j] & 0x80:
            b, j, e = _header(buf, i, end)
            hd[0] = b
            hd[1] = j
            return e
        b = (b << 8) | buf[j]              # the tag, from here on
        j += 1
    if j >= end:
        _header(buf, i, end)               # raises: no length
    e = buf[j]                             # the length (e until the end is known)
    if e & 0x80:
        if e == 0x81 and j + 1 < end:      # B2: long form, one or two length bytes
            j += 1
            e = buf[j]
        elif e == 0x82 and j + 2 < end:
            e = (buf[j + 1] << 8) | buf[j + 2]
            j += 2
        else:
            b, j, e = _header(buf, i, end)
            hd[0] = b
            hd[1] = j
            return e
    e += j + 1
    if e > end:
        _header(buf, i, end)               # raises: the value runs past the end
    hd[0] = b
    hd[1] = j + 1
    return e


def tlv_iter(buf, start=0, end=None):
    """Yield (tag, value_start, value_end, constructed) for each object in buf[start:end]."""
    if end is None:
        end = len(buf)
    i = start
    while True:
        e = _head(buf, i, end)
        if e < 0:
            return
        yield _hd[0], _hd[1], e, _hd[2] != 0
        i = e


def tlv_check(buf, start=0, end=None):
    """Raise TLVError where walking buf[start:end] with tlv_iter would; return None.  The top
    level only, through the same header reader, allocating nothing for the one- and two-byte
    tags with short-form lengths nearly everything a host sends in DE 55 has."""
    if end is None:
        end = len(buf)
    i = start
    while i >= 0:
        i = _head(buf, i, end)


_ends = array("i", bytes(4 * (MAX_DEPTH + 1)))   # _find's way back: each level's end


def _find(buf, tag, i, end):
    """The value end of the first object with `tag` in buf[i:end], depth first into
    constructed ones (its value start in _hd[1]), or -1.  A loop rather than recursion, with
    few names, so the interpreter keeps its frame off the heap."""
    d = 0
    while True:
        e = _head(buf, i, end)
        if e < 0:
            if d == 0:
                return -1
            d -= 1                         # the constructed object is done: its parent goes on
            i = end
            end = _ends[d]
            continue
        if _hd[0] == tag:
            return e
        if _hd[2]:
            if d >= MAX_DEPTH:
                raise TLVError("nesting deeper than %d" % MAX_DEPTH)
            _ends[d] = end
            d += 1
            end = e
            i = _hd[1]
        else:
            i = e


def tlv_find(buf, tag):
    """Value of the first object with `tag`, depth first into constructed ones; None if absent."""
    e = _find(buf, tag, 0, len(buf))
    return None if e < 0 else bytes(buf[_hd[1]:e])


def tlv_collect(buf, tags, out):
    """out[tag] = the value tlv_find(buf, tag) would give, for each of `tags` present (depth
    first into constructed ones, the first object with the tag): one walk for all of them."""
    i = 0
    end = len(buf)
    d = 0
    while True:
        e = _head(buf, i, end)
        if e < 0:
            if d == 0:
                return out
            d -= 1
            i = end
            end = _ends[d]
            continue
        if _hd[0] in tags and _hd[0] not in out:       # (few names: the frame stays off the heap)
            out[_hd[0]] = bytes(buf[_hd[1]:e])
        if _hd[2]:
            if d >= MAX_DEPTH:
                raise TLVError("nesting deeper than %d" % MAX_DEPTH)
            _ends[d] = end
            d += 1
            end = e
            i = _hd[1]
        else:
            i = e


def tlv_store(buf, out, tags=None):
    """out[tag] = the value of each top-level object of buf (of those with `tags`, when given;
    a later object with the same tag replacing an earlier one), walked as tlv_iter walks it;
    returns out."""
    i = 0
    end = len(buf)
    while True:
        e = _head(buf, i, end)
        if e < 0:
            return out
        if tags is None or _hd[0] in tags:
            out[_hd[0]] = bytes(buf[_hd[1]:e])
        i = e


def tlv_find_path(buf, path):
    """Value at a path of tags, e.g. (0x6F, 0xA5, 0x88); None if any step is absent."""
    s, e = 0, len(buf)
    for depth, tag in enumerate(path):
        if depth > MAX_DEPTH:
            raise TLVError("path deeper than %d" % MAX_DEPTH)
        i = s
        while True:
            ve = _head(buf, i, e)
            if ve < 0:
                return None
            if _hd[0] == tag:
                s = _hd[1]
                e = ve
                break
            i = ve
    return bytes(buf[s:e])


def tlv_parse(buf, _depth=0):
    """Nested list [(tag, value or children)] (for tools and tests, not the hot path)."""
    if _depth > MAX_DEPTH:
        raise TLVError("nesting deeper than %d" % MAX_DEPTH)
    out = []
    for t, s, e, c in tlv_iter(buf):
        v = bytes(buf[s:e])
        out.append((t, tlv_parse(v, _depth + 1) if c else v))
    return out


def tlv_size(tag, n):
    """Bytes of one object with `tag` and an n-byte value (tlv_encode's length)."""
    if tag < 0 or tag > 0xFFFFFFFF:
        raise TLVError("tag %r out of range" % tag)
    if n > 0xFFFFFF:
        raise TLVError("value too long (%d bytes)" % n)
    return ((1 if tag <= 0xFF else 2 if tag <= 0xFFFF else 3 if tag <= 0xFFFFFF else 4)
            + (1 if n < 0x80 else 2 if n <= 0xFF else 3 if n <= 0xFFFF else 4) + n)


def tlv_encode_into(out, pos, tag, value):
    """One object (tag bytes, minimal length field, value) written into `out` at `pos`, which
    has room for tlv_size(tag, len(value)) bytes; returns the offset after it.  Few names, so
    the interpreter keeps its frame off the heap."""
    end = pos + tlv_size(tag, len(value))
    if tag > 0xFFFFFF:
        out[pos] = tag >> 24
        pos += 1
    if tag > 0xFFFF:
        out[pos] = (tag >> 16) & 0xFF
        pos += 1
    if tag > 0xFF:
        out[pos] = (tag >> 8) & 0xFF
        pos += 1
    out[pos] = tag & 0xFF
    tag = len(value)                       # from here on, the length
    if tag > 0xFFFF:
        out[pos + 1] = 0x83
        out[pos + 2] = tag >> 16
        out[pos + 3] = (tag >> 8) & 0xFF
        pos += 4
    elif tag > 0xFF:
        out[pos + 1] = 0x82
        out[pos + 2] = tag >> 8
        pos += 3
    elif tag > 0x7F:
        out[pos + 1] = 0x81
        pos += 2
    else:
        pos += 1
    out[pos] = tag & 0xFF
    out[pos + 1:end] = value
    return end


def tlv_encode(tag, value):
    """One object: tag bytes, minimal length field, value."""
    out = bytearray(tlv_size(tag, len(value)))
    tlv_encode_into(out, 0, tag, value)
    return bytes(out)


# The C core's search when the firmware has it built in (board builds with _posnative): same
# results, errors raised as ValueError naming the C status.
try:
    import _posnative as _native
    if hasattr(_native, "tlv_find"):
        tlv_find = _native.tlv_find          # noqa: F811

        def tlv_collect(buf, tags, out):     # noqa: F811 -- a search in C per tag is cheaper
            for t in tags:
                if t not in out:
                    v = tlv_find(buf, t)
                    if v is not None:
                        out[t] = v
            return out
    if hasattr(_native, "tlv_find_path"):
        tlv_find_path = _native.tlv_find_path  # noqa: F811
except ImportError:
    _native = None
