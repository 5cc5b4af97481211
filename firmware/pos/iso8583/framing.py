# Message framing on TCP: 2-byte big-endian length header (when spec.header
# is 2), then the optional TPDU (5 bytes: ID 0x60, destination address,
# originator address), then the body from pos.iso8583.codec.
from pos.iso8583.errors import Iso8583Error

TPDU_ID = 0x60


def tpdu(dest_nii, src_nii=0):
    """5-byte TPDU for a request to NII `dest_nii` (ints 0..0xFFFF)."""
    return bytes((TPDU_ID, dest_nii >> 8, dest_nii & 0xFF, src_nii >> 8, src_nii & 0xFF))


def reply_tpdu(t):
    """A reply swaps destination and originator addresses."""
    return bytes((t[0], t[3], t[4], t[1], t[2]))


def frame(spec, body, tpdu_bytes=None):
    """Bytes to send for `body`."""
    parts_len = len(body) + (5 if spec.tpdu else 0)
    out = bytearray(spec.header + parts_len)
    p = 0
    if spec.header == 2:
        if parts_len > 0xFFFF:
            raise Iso8583Error("message of %d bytes too long for a 2-byte header" % parts_len)
        out[0] = parts_len >> 8
        out[1] = parts_len & 0xFF
        p = 2
    if spec.tpdu:
        if tpdu_bytes is None or len(tpdu_bytes) != 5:
            raise Iso8583Error("spec %s needs a 5-byte TPDU" % spec.name)
        out[p:p + 5] = tpdu_bytes
        p += 5
    out[p:] = body
    return bytes(out)


def split(spec, payload):
    """(tpdu or None, body) from a payload read after the length header."""
    if spec.tpdu:
        if len(payload) < 5:
            raise Iso8583Error("message shorter than the TPDU")
        if payload[0] != TPDU_ID:
            raise Iso8583Error("TPDU ID 0x%02X (want 0x60)" % payload[0])
        return bytes(payload[:5]), payload[5:]
    return None, payload
