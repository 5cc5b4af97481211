# Message authentication in field 64 (or 128 when a secondary bitmap is
# present, ISO 8583:1987 4.4): ANSI X9.19 / ISO 9797-1 MAC algorithm 3 with
# padding method 1 over the body from the MTI up to (not including) the MAC
# data element, keyed with the session MAC key (TAK) from the key store.
from pos.iso8583 import codec
from pos.iso8583.errors import Iso8583Error, MacError


def mac_field(fields):
    for n in fields:
        if n > 64 and n != 128:
            return 128
    return 64


def compute(key, data):
    from pos import crypto
    return crypto.mac_iso9797_1(key, data, 3, 1)


def encode(spec, mti, fields, key):
    """Body bytes with the MAC placed in field 64/128 (the last data element)."""
    f = dict(fields)
    f.pop(64, None)
    f.pop(128, None)
    no = mac_field(f)
    f[no] = bytes(8)
    body = bytearray(codec.encode(spec, mti, f))
    body[-8:] = compute(key, memoryview(body)[:-8])
    return bytes(body)


def verify(spec, body, fields, key):
    """Raise MacError unless the body's MAC matches `key`."""
    no = 128 if 128 in fields else 64
    if no not in fields:
        raise MacError("message has no MAC (field 64/128)", no)
    if max(fields) != no:
        raise MacError("MAC field %d is not the last data element" % no, no)
    if len(body) < 8:
        raise Iso8583Error("message too short for a MAC")
    if compute(key, memoryview(body)[:-8]) != bytes(body[-8:]):
        raise MacError("MAC in field %d does not match (wrong key or altered message)" % no, no)
