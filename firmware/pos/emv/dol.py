# Data Object Lists (PDOL, CDOL1, CDOL2, DDOL, TDOL): EMV 4.4 Book 3, 5.4.
# A malformed DOL (a truncated tag, a tag without its length byte) raises TLVError,
# the BER-TLV layer's family, and nothing else.
from pos.emv.tags import FORMAT
from pos.emv.tlv import TLVError, _hd, read_tag, tag_end


def dol_parse(dol):
    """[(tag, length)] of a DOL (tags as in BER-TLV, one length byte each)."""
    out = []
    i = 0
    n = len(dol)
    while i < n:
        t, i = read_tag(dol, i, n)
        if i >= n:
            raise TLVError("DOL: tag %X has no length" % t)
        out.append((t, dol[i]))
        i += 1
    return out


def dol_build(dol, source):
    """The concatenated values for `dol`; `source` answers .get(tag) -> bytes or None.

    Book 3 5.4: a value longer than asked is truncated -- numeric (n) keeps the
    rightmost bytes, others the leftmost; shorter is padded -- n with leading
    00, cn with trailing FF, others with trailing 00; an absent tag is zeros.
    The DOL is walked twice (lengths, then values) rather than parsed into a list: no
    object per entry."""
    n = len(dol)
    total = 0
    i = 0
    while i < n:                           # the lengths; a malformed DOL raises as dol_parse does
        i = tag_end(dol, i, n)
        if i >= n:
            raise TLVError("DOL: tag %X has no length" % _hd[0])
        total += dol[i]
        i += 1
    out = bytearray(total)
    o = 0
    i = 0
    while i < n:                           # the values
        i = tag_end(dol, i, n)
        t = _hd[0]
        ln = dol[i]
        i += 1
        v = source.get(t)
        if v is not None and ln:
            f = FORMAT.get(t, "b")
            m = len(v)
            if m == ln:
                out[o:o + ln] = v
            elif f == "n":
                if m > ln:
                    out[o:o + ln] = v[m - ln:]
                else:
                    out[o + ln - m:o + ln] = v
            else:
                if m > ln:
                    out[o:o + ln] = v[:ln]
                else:
                    out[o:o + m] = v
                    if f == "cn":
                        for k in range(o + m, o + ln):
                            out[k] = 0xFF
        o += ln
    return bytes(out)


def bcd(n, size):
    """n as `size` bytes of BCD, right-justified (an n-format DOL value: 9F02, 9F03, 9F41...),
    made without strings; ValueError when n has more than 2 * size digits."""
    out = bytearray(size)
    i = size
    while i:
        i -= 1
        q = n // 10
        out[i] = ((q % 10) << 4) | (n - q * 10)
        n = q // 10
    if n:
        raise ValueError("%d digits do not fit" % (2 * size))
    return bytes(out)
