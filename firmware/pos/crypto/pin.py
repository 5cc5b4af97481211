# ISO 9564-1 PIN blocks, formats 0, 1 and 3 (clear blocks).
from pos.crypto.args import CryptoError, as_bytes, ascii_digits


# ---------------------------------------------------------------------------
# PIN blocks (ISO 9564-1)
# ---------------------------------------------------------------------------
def pin_digits(pin):
    pin = ascii_digits(pin, "PIN")
    if not 4 <= len(pin) <= 12:
        raise CryptoError("PIN length %d out of range (4 to 12)" % len(pin))
    return pin


def _pan_field(pan):
    # 0000 then the 12 rightmost PAN digits excluding the check digit
    pan = ascii_digits(pan, "PAN")
    if len(pan) < 2:
        raise CryptoError("PAN too short for a PIN block")
    d = pan[:-1][-12:]
    d = b"0" * (12 - len(d)) + d
    out = bytearray(8)
    for i in range(6):
        out[2 + i] = ((d[2 * i] - 48) << 4) | (d[2 * i + 1] - 48)
    return out


def _fill_nibble(fmt, fill, k):
    if not fill:
        return 0xA if fmt == 3 else (0xF if fmt == 0 else 0)
    b = fill[k // 2]
    n = (b >> 4) if k % 2 == 0 else (b & 15)
    if fmt == 3:
        return 0xA + n % 6
    return n


def pinblock_build(fmt, pin, pan=b"", fill=b""):
    """Clear ISO 9564-1 PIN block, format 0, 1 or 3 (8 bytes)."""
    if fmt not in (0, 1, 3):
        raise CryptoError("PIN block format %r not built here (0, 1, 3; 4 is pinblock4_encipher)" % (fmt,))
    pin = pin_digits(pin)
    fill = as_bytes(fill, "fill")
    if fill and len(fill) < 8:
        raise CryptoError("fill must be 8 bytes")
    nib = bytearray(16)
    nib[0] = fmt
    nib[1] = len(pin)
    for i, c in enumerate(pin):
        nib[2 + i] = c - 48
    for k in range(2 + len(pin), 16):
        nib[k] = 0xF if fmt == 0 else _fill_nibble(fmt, fill, k)
    out = bytearray(8)
    for i in range(8):
        out[i] = (nib[2 * i] << 4) | nib[2 * i + 1]
    if fmt in (0, 3):
        pf = _pan_field(pan)
        for i in range(8):
            out[i] ^= pf[i]
    return bytes(out)


def pinblock_parse(fmt, block, pan=b""):
    """The PIN (ASCII digits) from a clear format 0, 1 or 3 block."""
    block = as_bytes(block, "block")
    if len(block) != 8:
        raise CryptoError("PIN block must be 8 bytes, not %d" % len(block))
    if fmt not in (0, 1, 3):
        raise CryptoError("PIN block format %r not parsed here" % (fmt,))
    b = bytearray(block)
    if fmt in (0, 3):
        pf = _pan_field(pan)
        for i in range(8):
            b[i] ^= pf[i]
    nib = bytearray(16)
    for i in range(8):
        nib[2 * i] = b[i] >> 4
        nib[2 * i + 1] = b[i] & 15
    if nib[0] != fmt:
        raise CryptoError("control field %X is not format %d (wrong PAN or key?)" % (nib[0], fmt))
    n = nib[1]
    if not 4 <= n <= 12:
        raise CryptoError("PIN length %d out of range (wrong PAN or key?)" % n)
    pin = bytearray(n)
    for i in range(n):
        d = nib[2 + i]
        if d > 9:
            raise CryptoError("PIN digit is not decimal (wrong PAN or key?)")
        pin[i] = 48 + d
    for k in range(2 + n, 16):
        f = nib[k]
        if (fmt == 0 and f != 0xF) or (fmt == 3 and f < 0xA):
            raise CryptoError("bad fill in format %d PIN block (wrong PAN or key?)" % fmt)
    return bytes(pin)


