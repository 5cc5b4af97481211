"""Barcodes as the terminal reads them (docs/catalog.md, "Barcodes"): the code an item is sold
under becomes the 14-digit key the terminal's catalog is sorted by.

    key("4006381333931")      -> "04006381333931"
    key("2012345012509")      -> "02012345000000"   (in-store code: the value digits zeroed)

EAN-13, EAN-8 and UPC-A with a right GS1 check digit (GS1 General Specifications 7.9.1);
EAN-13 prefixes 20-29 are in-store codes laid out as the terminal's default layouts say.
"""
LAYOUTS = {**{p: "IIIIIPPPPP" for p in ("20", "21", "22")},
           **{p: "IIIIIWWWWW" for p in ("23", "24", "25")},
           **{p: "IIIIIIIIII" for p in ("26", "27", "28", "29")}}


class BarcodeError(ValueError):
    pass


def check_digit(digits):
    """GS1 modulo-10: weights 3 and 1 from the right, the digit that makes a multiple of 10."""
    s = sum((ord(d) - 48) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - s % 10) % 10


def parse(code):
    """(key, value letter or '', value) of a scanned or typed code: value is the price (P) or
    grams (W) an in-store label carries; BarcodeError with the reason otherwise."""
    code = str(code).strip()
    if not code.isdigit() or len(code) not in (8, 12, 13):
        raise BarcodeError("%r is not an EAN-13, EAN-8 or UPC-A code" % code[:20])
    if check_digit(code[:-1]) != ord(code[-1]) - 48:
        raise BarcodeError("%s: check digit wrong" % code)
    lay = LAYOUTS.get(code[:2]) if len(code) == 13 and code[0] == "2" else None
    if lay is None:
        return code.zfill(14), "", 0
    body = "".join(d if c == "I" else "0" for c, d in zip(lay, code[2:12]))
    letter = "W" if "W" in lay else "P" if "P" in lay else ""
    value = int("".join(d for c, d in zip(lay, code[2:12]) if c == letter) or 0)
    return "0" + code[:2] + body + "0", letter, value


def key(code):
    return parse(code)[0]
