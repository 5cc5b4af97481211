# Field 55: ICC system-related data as BER-TLV (EMV Book 4 Annex; ISO 8583:1993
# DE 55 carried in the 1987 profile).
from pos.emv import tlv


def build(items):
    """Field 55 bytes from [(tag, value), ...] in the given order."""
    out = bytearray()
    for tag, value in items:
        out.extend(tlv.tlv_encode(tag, value))
    return bytes(out)


def parse(data):
    """{tag: value} of the top-level objects (raises pos.emv.tlv.TLVError on bad TLV)."""
    d = {}
    mv = bytes(data)
    for tag, s, e, _c in tlv.tlv_iter(mv):
        d[tag] = mv[s:e]
    return d
