# The boot-control record: which ROMFS slot is confirmed, which is on trial, and what happened
# to the last update.  The bootloader reads it on every power-on and reset and picks the slot
# (host_sim/board/bootloader.py on the virtual board, docs/updates.md for the real board); the
# firmware writes it to arm a trial boot, to confirm it, or to revert it.
#
#     ctl = BootControl(BOARD.boot_control())
#     rec = ctl.read()              # Record, or None on a board never programmed
#     rec.state = ARMED; ctl.write(rec)
#
# Two copies, one per block of the region; the copy with the highest sequence number and a good
# CRC-32 is the record.  A write goes to the other copy (erase, then program), so a power cut
# during a write leaves the older copy in charge.  Layout (little endian):
#   "SPBC", seq u32, confirmed u8, trial u8 (0xFF none), state u8, result u8,
#   2 x (length u32, sha256 32 bytes, version 16 bytes NUL padded),
#   result version 16 bytes, result reason 48 bytes, CRC-32 of all the above.
import binascii
import struct
from micropython import const

NO_SLOT = const(0xFF)
NONE = const(0)            # state: no trial
ARMED = const(1)           # the trial slot boots at the next reset
TRYING = const(2)          # the trial slot was booted; not confirmed yet
RESULT_NONE = const(0)
CONFIRMED = const(1)
REVERTED = const(2)
REFUSED = const(3)
RESULT_NAMES = ("none", "confirmed", "reverted", "refused")

_MAGIC = b"SPBC"
_HEAD = "<4sIBBBB"
_SLOT = "<I32s16s"
_TAIL = "<16s48s"
_HEAD_SIZE = const(12)
_SLOT_SIZE = const(52)
_BODY = const(12 + 2 * 52 + 64)
SIZE = const(12 + 2 * 52 + 64 + 4)


class Record:
    def __init__(self):
        self.seq = 0
        self.confirmed = 0
        self.trial = NO_SLOT
        self.state = NONE
        self.result = RESULT_NONE
        self.slots = [(0, bytes(32), ""), (0, bytes(32), "")]     # (length, sha256, version)
        self.result_version = ""
        self.result_reason = ""

    def booted(self):
        """The slot the bootloader started (the trial one while TRYING)."""
        return self.trial if self.state == TRYING else self.confirmed

    def encode(self):
        b = bytearray(SIZE)
        struct.pack_into(_HEAD, b, 0, _MAGIC, self.seq, self.confirmed, self.trial, self.state,
                         self.result)
        for i in range(2):
            length, sha, version = self.slots[i]
            struct.pack_into(_SLOT, b, _HEAD_SIZE + i * _SLOT_SIZE, length, sha, version.encode()[:16])
        struct.pack_into(_TAIL, b, _HEAD_SIZE + 2 * _SLOT_SIZE, self.result_version.encode()[:16],
                         self.result_reason.encode()[:48])
        struct.pack_into("<I", b, _BODY, binascii.crc32(memoryview(b)[:_BODY]) & 0xFFFFFFFF)
        return b


def _text(b):
    i = b.find(b"\0")
    return (b if i < 0 else b[:i]).decode()


def decode(raw):
    """The record in `raw`, or None if that copy is erased, torn or corrupt."""
    if len(raw) < SIZE or raw[:4] != _MAGIC:
        return None
    if binascii.crc32(memoryview(raw)[:_BODY]) & 0xFFFFFFFF != struct.unpack_from("<I", raw, _BODY)[0]:
        return None
    r = Record()
    _, r.seq, r.confirmed, r.trial, r.state, r.result = struct.unpack_from(_HEAD, raw, 0)
    for i in range(2):
        length, sha, version = struct.unpack_from(_SLOT, raw, _HEAD_SIZE + i * _SLOT_SIZE)
        r.slots[i] = (length, sha, _text(version))
    rv, rr = struct.unpack_from(_TAIL, raw, _HEAD_SIZE + 2 * _SLOT_SIZE)
    r.result_version = _text(rv)
    r.result_reason = _text(rr)
    return r


class BootControl:
    """The record on its region (a block device: readblocks/writeblocks/ioctl)."""

    def __init__(self, dev):
        self.dev = dev
        self._buf = bytearray(SIZE)

    def _copy(self, i):
        self.dev.readblocks(i, self._buf)
        return decode(self._buf)

    def _current(self):
        best, where = None, None
        for i in range(2):
            r = self._copy(i)
            if r is not None and (best is None or r.seq > best.seq):
                best, where = r, i
        return best, where

    def read(self):
        return self._current()[0]

    def write(self, rec):
        """Store `rec` as the next record (its seq is set here) in the other copy."""
        cur, where = self._current()
        rec.seq = cur.seq + 1 if cur is not None else 1
        target = 0 if where is None else 1 - where
        self.dev.ioctl(6, target)              # erase that copy's block
        self.dev.writeblocks(target, rec.encode())
        return rec
