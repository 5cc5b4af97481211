# TEST stand-in for pos.emv.tlv (docs/crypto-api.md subset), used only when absent.
class TLVError(ValueError):
    pass


def _header(buf, i, end):
    t = buf[i]
    i += 1
    if t & 0x1F == 0x1F:
        while True:
            if i >= end:
                raise TLVError("tag runs past the end")
            b = buf[i]
            t = (t << 8) | b
            i += 1
            if not b & 0x80:
                break
            if t > 0xFFFFFF:
                raise TLVError("tag too long")
    if i >= end:
        raise TLVError("length missing")
    ln = buf[i]
    i += 1
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 3 or i + n > end:
            raise TLVError("bad length")
        ln = 0
        for _ in range(n):
            ln = (ln << 8) | buf[i]
            i += 1
    if i + ln > end:
        raise TLVError("value runs past the end")
    return t, i, i + ln


def _constructed(t):
    while t > 0xFF:
        t >>= 8
    return bool(t & 0x20)


def tlv_iter(buf):
    i = 0
    end = len(buf)
    while i < end:
        if buf[i] in (0x00, 0xFF):
            i += 1
            continue
        t, s, e = _header(buf, i, end)
        yield t, s, e, _constructed(t)
        i = e


def tlv_find(buf, tag, depth=0):
    if depth > 8:
        raise TLVError("nesting too deep")
    for t, s, e, c in tlv_iter(buf):
        if t == tag:
            return bytes(buf[s:e])
        if c:
            v = tlv_find(buf[s:e], tag, depth + 1)
            if v is not None:
                return v
    return None


def tlv_encode(tag, value):
    nb = 1 if tag <= 0xFF else 2 if tag <= 0xFFFF else 3 if tag <= 0xFFFFFF else 4
    tb = tag.to_bytes(nb, "big")
    n = len(value)
    if n < 0x80:
        lb = bytes((n,))
    elif n < 0x100:
        lb = bytes((0x81, n))
    else:
        lb = bytes((0x82, n >> 8, n & 0xFF))
    return bytes(tb) + lb + bytes(value)
