# TEST stand-in for pos.emv.dol, used only when absent.
NUMERIC = (0x9F02, 0x9F03, 0x9A, 0x9F21, 0x9C, 0x5F2A, 0x9F1A, 0x9F15, 0x5F36, 0x9F41, 0x9F39, 0x5F25, 0x5F24)
CN = (0x5A,)


def dol_parse(dol):
    out = []
    i = 0
    while i < len(dol):
        t = dol[i]
        i += 1
        if t & 0x1F == 0x1F:
            while True:
                b = dol[i]
                t = (t << 8) | b
                i += 1
                if not b & 0x80:
                    break
        out.append((t, dol[i]))
        i += 1
    return out


def dol_build(dol, source):
    out = bytearray()
    for t, n in dol_parse(dol):
        v = source.get(t)
        if v is None:
            out.extend(bytes(n))
            continue
        v = bytes(v)
        if len(v) == n:
            out.extend(v)
        elif t in NUMERIC:
            out.extend(bytes(n - len(v)) + v if len(v) < n else v[len(v) - n:])
        elif len(v) < n:
            out.extend(v + (b"\xff" if t in CN else b"\x00") * (n - len(v)))
        else:
            out.extend(v[:n])
    return bytes(out)
