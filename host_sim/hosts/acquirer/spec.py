"""pyiso8583 specifications for the acquirer host simulator.

Built from pyiso8583's own ISO 8583:1987 `default` spec (ASCII MTI and data,
binary bitmaps, binary 52/55/64/128), independently of the terminal's
firmware tables, so the host also checks the terminal's codec.

`iso87`     pyiso8583 `default` as is, plus a 2-byte length header.
`iso87bcd`  the packed variant: BCD MTI, BCD numeric and track-2 elements
            (n: left-padded with 0, z: right-padded with F), BCD LL/LLL
            prefixes counted in digits, and a 5-byte TPDU.
"""
import copy

import iso8583.specs

# ISO 8583:1987 numeric (n) and track-2 (z) data elements used by the profile.
NUMERIC = (2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 18, 19, 22, 23, 24, 25, 32, 49, 53, 70, 90)
TRACK2 = (35,)

HEADER_LEN = 2
TPDU = {"iso87": False, "iso87bcd": True}


def _iso87():
    return copy.deepcopy(iso8583.specs.default)


def _iso87bcd():
    s = copy.deepcopy(iso8583.specs.default)
    s["t"].update(data_enc="b", max_len=2)
    for n in NUMERIC + TRACK2:
        f = s[str(n)]
        f["data_enc"] = "b"
        f["len_count"] = "nibbles"
        if f["len_type"]:
            f["len_enc"] = "bcd"
            f["len_type"] = 1 if f["len_type"] == 2 else 2
        if n in TRACK2:
            f["right_pad"] = "F"
        else:
            f["left_pad"] = "0"
    for n in range(2, 129):
        f = s[str(n)]
        if n in NUMERIC or n in TRACK2:
            continue
        if f["len_type"] and f["len_enc"] == "ascii":
            f["len_enc"] = "bcd"
            f["len_type"] = 1 if f["len_type"] == 2 else 2
    return s


SPECS = {"iso87": _iso87(), "iso87bcd": _iso87bcd()}


def get(name):
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError("unknown spec %r (known: %s)" % (name, ", ".join(sorted(SPECS)))) from None


def to_host(name, fields):
    """pyiso8583 doc values from firmware-style values (BCD fields as digit strings)."""
    doc = {}
    for n, v in fields.items():
        k = str(n)
        if isinstance(v, (bytes, bytearray)):
            v = bytes(v).hex().upper()          # pyiso8583 carries binary as hex text
        elif name == "iso87bcd" and n in TRACK2:
            v = v.replace("=", "D")
        doc[k] = v
    return doc


def from_host(name, doc):
    """Firmware-style values from a decoded pyiso8583 doc."""
    out = {}
    for k, v in doc.items():
        if not k.isdigit() or k == "1":
            continue
        n = int(k)
        if SPECS[name][k]["data_enc"] == "b" and n not in NUMERIC + TRACK2:
            v = bytes.fromhex(v)
        elif name == "iso87bcd" and n in TRACK2:
            v = v.replace("D", "=")
        out[n] = v
    return out
