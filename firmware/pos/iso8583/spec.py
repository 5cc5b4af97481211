# Message specification as data.
#
# A Spec maps a data element number (2..128) to a Field:
#   kind     'n' numeric, 'an' alphanumeric, 'ans' alphanumeric+special,
#            'b' binary, 'z' track 2/3 code set (digits, '=' or 'D'),
#            'track' track 1 code set (ans)
#   len_type 0 fixed, 2 LLVAR, 3 LLLVAR (ISO 8583:1987 4.3)
#   max_len  fixed length, or the maximum for variable fields; counted in
#            characters/digits for n/an/ans/z/track, in bytes for b
#   enc      'ascii' one character per byte, 'bcd' two digits per byte (n and z
#            only), 'bin' raw bytes (b only)
# Message-level choices are attributes of the Spec (see __init__).
from collections import namedtuple
from micropython import const

FIXED = const(0)
LLVAR = const(2)
LLLVAR = const(3)

KINDS = ("n", "an", "ans", "b", "z", "track")
ENCODINGS = ("ascii", "bcd", "bin")


# A Field is a tuple (namedtuple: kind, len_type, max_len, enc, name); tuples
# keep a 40-element profile small on a 192 KB heap.
_Field = namedtuple("Field", ("kind", "len_type", "max_len", "enc", "name"))


def Field(kind, len_type, max_len, enc, name):
    if kind not in KINDS:
        raise ValueError("field kind %r not one of %s" % (kind, KINDS))
    if len_type not in (FIXED, LLVAR, LLLVAR):
        raise ValueError("len_type %r (want 0, 2 or 3)" % len_type)
    if enc not in ENCODINGS:
        raise ValueError("encoding %r not one of %s" % (enc, ENCODINGS))
    if enc == "bcd" and kind not in ("n", "z"):
        raise ValueError("BCD encoding is for n and z fields only")
    if (kind == "b") != (enc == "bin"):
        raise ValueError("binary fields (and only those) use 'bin' encoding")
    return _Field(kind, len_type, max_len, enc, name)


class Spec:
    """A message profile.

    name      profile name (the acquirer config's `spec` key)
    fields    {number: Field}
    mti_enc   'ascii' (4 bytes) or 'bcd' (2 bytes)
    bitmap    'bin' (8 bytes each) or 'hex' (16 ASCII hex digits each)
    len_enc   encoding of LL/LLL prefixes: 'ascii' (2/3 digits) or 'bcd' (1/2 bytes)
    header    length header bytes in front of each message on TCP (0 or 2)
    tpdu      True when a 5-byte TPDU follows the length header
    tlv       data elements carrying BER-TLV (checked on decode), e.g. (55,)
    """

    def __init__(self, name, fields, mti_enc="ascii", bitmap="bin", len_enc="ascii",
                 header=2, tpdu=False, tlv=(55,), max_message=1024):
        if mti_enc not in ("ascii", "bcd"):
            raise ValueError("mti_enc %r" % mti_enc)
        if bitmap not in ("bin", "hex"):
            raise ValueError("bitmap %r" % bitmap)
        if len_enc not in ("ascii", "bcd"):
            raise ValueError("len_enc %r" % len_enc)
        for n in fields:
            if not 2 <= n <= 128:
                raise ValueError("data element %d outside 2..128" % n)
        self.name = name
        self.fields = fields
        self.mti_enc = mti_enc
        self.bitmap = bitmap
        self.len_enc = len_enc
        self.header = header
        self.tpdu = tpdu
        self.tlv = tlv
        self.max_message = max_message

    def field(self, n):
        return self.fields.get(n)


_registry = {}


def register(spec):
    _registry[spec.name] = spec
    return spec


def get(name):
    """The profile named `name` (importing pos.iso8583.spec_<name> on first use)."""
    s = _registry.get(name)
    if s is None:
        try:
            __import__("pos.iso8583.spec_" + name)
        except ImportError:
            raise ValueError("unknown ISO 8583 spec %r (no module pos.iso8583.spec_%s)" % (name, name))
        s = _registry.get(name)
        if s is None:
            raise ValueError("module pos.iso8583.spec_%s did not register %r" % (name, name))
    return s
