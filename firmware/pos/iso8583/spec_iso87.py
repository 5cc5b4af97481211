# ISO 8583:1987 POS profile, ASCII variant ("iso87"): MTI and numeric data
# elements as ASCII digits, binary primary/secondary bitmaps, LL/LLL prefixes
# as ASCII digits, PIN block (52), ICC data (55) and MACs (64/128) binary, a
# 2-byte big-endian length header, no TPDU.  Types and lengths from ISO
# 8583:1987 section 4.4 (data element directory); field 55 from ISO 8583:1993
# as carried in 1987-based EMV profiles (EMV Book 4 Annex).
from pos.iso8583.spec import Field, Spec, register, FIXED, LLVAR, LLLVAR

# number: (kind, len_type, max_len, name); encodings follow from the kind.
TABLE = {
    2: ("n", LLVAR, 19, "primary account number"),
    3: ("n", FIXED, 6, "processing code"),
    4: ("n", FIXED, 12, "amount, transaction"),
    5: ("n", FIXED, 12, "amount, settlement"),
    6: ("n", FIXED, 12, "amount, cardholder billing"),
    7: ("n", FIXED, 10, "transmission date and time"),
    11: ("n", FIXED, 6, "systems trace audit number"),
    12: ("n", FIXED, 6, "time, local transaction"),
    13: ("n", FIXED, 4, "date, local transaction"),
    14: ("n", FIXED, 4, "date, expiration"),
    15: ("n", FIXED, 4, "date, settlement"),
    18: ("n", FIXED, 4, "merchant type"),
    19: ("n", FIXED, 3, "acquiring institution country code"),
    22: ("n", FIXED, 3, "point of service entry mode"),
    23: ("n", FIXED, 3, "card sequence number"),
    24: ("n", FIXED, 3, "network international identifier"),
    25: ("n", FIXED, 2, "point of service condition code"),
    32: ("n", LLVAR, 11, "acquiring institution identification code"),
    35: ("z", LLVAR, 37, "track 2 data"),
    37: ("an", FIXED, 12, "retrieval reference number"),
    38: ("an", FIXED, 6, "authorization identification response"),
    39: ("an", FIXED, 2, "response code"),
    41: ("ans", FIXED, 8, "card acceptor terminal identification"),
    42: ("ans", FIXED, 15, "card acceptor identification code"),
    43: ("ans", FIXED, 40, "card acceptor name/location"),
    44: ("an", LLVAR, 25, "additional response data"),
    45: ("track", LLVAR, 76, "track 1 data"),
    48: ("ans", LLLVAR, 999, "additional data - private"),
    49: ("n", FIXED, 3, "currency code, transaction"),
    52: ("b", FIXED, 8, "personal identification number data"),
    53: ("n", FIXED, 16, "security related control information"),
    54: ("an", LLLVAR, 120, "additional amounts"),
    55: ("b", LLLVAR, 255, "integrated circuit card system related data"),
    60: ("ans", LLLVAR, 999, "reserved national"),
    61: ("ans", LLLVAR, 999, "reserved private"),
    62: ("ans", LLLVAR, 999, "reserved private"),
    63: ("ans", LLLVAR, 999, "reserved private"),
    64: ("b", FIXED, 8, "message authentication code"),
    70: ("n", FIXED, 3, "network management information code"),
    90: ("n", FIXED, 42, "original data elements"),
    95: ("an", FIXED, 42, "replacement amounts"),
    128: ("b", FIXED, 8, "message authentication code"),
}


def fields(numeric_enc="ascii", base=None):
    """Field tuples for TABLE with numeric (n, z) elements in `numeric_enc`
    (the elements that do not change are shared with `base`)."""
    out = {}
    for n in TABLE:
        kind, lt, ml, name = TABLE[n]
        if kind == "b":
            enc = "bin"
        elif kind in ("n", "z"):
            enc = numeric_enc
        else:
            enc = "ascii"
        if base is not None and base[n].enc == enc:
            out[n] = base[n]
        else:
            out[n] = Field(kind, lt, ml, enc, name)
    return out


SPEC = register(Spec("iso87", fields("ascii"), mti_enc="ascii", bitmap="bin", len_enc="ascii",
                     header=2, tpdu=False))
