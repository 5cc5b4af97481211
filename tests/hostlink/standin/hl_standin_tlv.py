# TEST stand-in for pos.emv.tlv (docs/crypto-api.md subset: tlv_iter,
# tlv_find, tlv_encode), used only while the firmware lacks it.


class TLVError(ValueError):
    pass


def tlv_iter(buf):
    buf = bytes(buf)
    i, n = 0, len(buf)
    while i < n:
        if buf[i] in (0x00, 0xFF):
            i += 1
            continue
        tag = buf[i]
        first = tag
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                if i >= n:
                    raise TLVError("tag runs past the end")
                tag = (tag << 8) | buf[i]
                i += 1
                if not buf[i - 1] & 0x80:
                    break
                if tag > 0xFFFFFF:
                    raise TLVError("tag longer than 4 bytes")
        if i >= n:
            raise TLVError("length missing after tag %X" % tag)
        ln = buf[i]
        i += 1
        if ln & 0x80:
            k = ln & 0x7F
            if k == 0 or k > 3 or i + k > n:
                raise TLVError("bad length for tag %X" % tag)
            ln = int.from_bytes(buf[i:i + k], "big")
            i += k
        if i + ln > n:
            raise TLVError("value of tag %X runs past the end" % tag)
        yield tag, i, i + ln, bool(first & 0x20)
        i += ln


def tlv_find(buf, tag):
    buf = bytes(buf)
    for t, s, e, c in tlv_iter(buf):
        if t == tag:
            return buf[s:e]
        if c:
            v = tlv_find(buf[s:e], tag)
            if v is not None:
                return v
    return None


def tlv_encode(tag, value):
    value = bytes(value)
    tb = bytearray()
    t = tag
    while True:
        tb.insert(0, t & 0xFF)
        t >>= 8
        if not t:
            break
    n = len(value)
    if n < 0x80:
        lb = bytes([n])
    elif n < 0x100:
        lb = bytes([0x81, n])
    elif n < 0x10000:
        lb = bytes([0x82, n >> 8, n & 0xFF])
    else:
        raise TLVError("value too long")
    return bytes(tb) + lb + value
