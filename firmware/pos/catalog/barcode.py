# Barcodes as the scanner reads them: EAN-13, EAN-8 and UPC-A, with the GS1 check digit
# (GS1 General Specifications 7.9.1, modulo 10 with weights 3 and 1 from the right), and
# in-store codes: EAN-13 prefixes 20-29 are restricted-circulation numbers (GS1 GenSpecs
# 1.4.6, 2.1.11) whose remaining ten digits hold an item code and, per the store's layout,
# a price or a weight.  Every code becomes a 14-digit key (GTIN-14 form, zeros on the left)
# that the catalog is sorted by; for an in-store code the value digits are zeroed in the key.
#
#     key, kind, value = barcode.parse("2012345012503", layouts)
#     # kind: "item", "price" (value: minor units) or "weight" (value: grams)
from pos.catalog import CatalogError

# Default layout of the ten digits after an in-store prefix (docs/catalog.md):
# I item digit, P price digit (minor units), W weight digit (grams), anything else ignored.
LAYOUTS = {"20": "IIIIIPPPPP", "21": "IIIIIPPPPP", "22": "IIIIIPPPPP",
           "23": "IIIIIWWWWW", "24": "IIIIIWWWWW", "25": "IIIIIWWWWW",
           "26": "IIIIIIIIII", "27": "IIIIIIIIII", "28": "IIIIIIIIII", "29": "IIIIIIIIII"}


def check_digit(digits):
    """The GS1 check digit of `digits` (the code without its last digit)."""
    s = 0
    w = 3
    for i in range(len(digits) - 1, -1, -1):
        s += (ord(digits[i]) - 48) * w
        w = 4 - w
    return (10 - s % 10) % 10


def parse(code, layouts=None):
    """(key, kind, value) for a scanned code; CatalogError for a malformed code or a wrong
    check digit (the message is for the cashier: scan again or key the item)."""
    n = len(code)
    if n not in (8, 12, 13):
        raise CatalogError("not a product barcode (%d digits): key the item" % n)
    for ch in code:
        if ch < "0" or ch > "9":
            raise CatalogError("not a product barcode: key the item")
    if check_digit(code[:-1]) != ord(code[-1]) - 48:
        raise CatalogError("barcode check digit wrong: scan again")
    if n == 13 and code[0] == "2":
        lay = (layouts or LAYOUTS).get(code[:2])
        if lay is not None:
            return in_store_key(code, lay)
    return "0" * (14 - n) + code, "item", 0


def in_store_key(code, layout):
    """The key and embedded value of a 13-digit in-store code under `layout`."""
    key = bytearray(b"0" + code[:2].encode() + b"0" * 11)
    value = 0
    kind = "item"
    for i in range(10):
        ch = layout[i]
        d = code[2 + i]
        if ch == "I":
            key[3 + i] = ord(d)
        elif ch == "P" or ch == "W":
            value = value * 10 + ord(d) - 48
            kind = "price" if ch == "P" else "weight"
    return key.decode(), kind, value
