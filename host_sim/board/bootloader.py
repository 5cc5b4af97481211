"""The virtual board's bootloader: two ROMFS slots, a boot-control record, and the choice of
the image the CPU maps at /rom on every power-on and system reset (as MCUboot runs before the
application on a real board).

    bl = Bootloader(SlotStore.beside(flash_dir))
    bl.factory_program(image_bytes, "1.0.0")       # an empty board: slot 0, confirmed
    choice = bl.boot()                             # -> BootChoice(slot, path, length, version)

Flash layout (files beside the flash directory, as a board keeps its ROMFS partitions and its
boot-control sectors in their own flash regions, outside the filesystem):

    <flash>-rom/slot0.bin, slot1.bin   ROMFS partitions, SLOT_SIZE bytes each, erased = 0xFF
    <flash>-rom/bootctl.bin            two boot-control copies, one per BOOTCTL_BLOCK

Boot-control record (little endian, RECORD.size bytes, the same codec as
firmware/pos/tms/bootctl.py; a test keeps the two equal):

    magic "SPBC", seq u32, confirmed u8, trial u8 (NO_SLOT), state u8, result u8,
    per slot: length u32, sha256 32 bytes, version 16 bytes (NUL padded),
    result version 16 bytes, result reason 48 bytes, CRC-32 of everything before it.

The copy with the highest seq whose magic and CRC are good is the record; a writer puts the new
record in the other copy (erase, then program), so a cut during a write leaves the older copy.

Rules, checked on every power-on and system reset:
* state ARMED (the firmware installed and verified slot `trial`): if the slot's bytes match the
  record's length and SHA-256, the state becomes TRYING and the trial slot boots, once;
  otherwise the trial is dropped with result REFUSED;
* state TRYING at boot: the trial booted and was not confirmed: the state is cleared with
  result REVERTED and the confirmed slot boots (the firmware confirms by writing a record
  with confirmed = trial, state NONE);
* a slot whose bytes do not match its record is never booted; if the confirmed slot is damaged
  the other slot boots if its record entry matches, else the board does not start.
"""
import binascii
import hashlib
import os
import struct

SLOT_COUNT = 2
SLOT_SIZE = 512 * 1024          # bytes per ROMFS partition
ERASE_BLOCK = 16 * 1024         # erase granularity of a partition (vfs.rom_ioctl(6, id))
BOOTCTL_BLOCK = 512             # one boot-control copy per block
NO_SLOT = 0xFF

STATE_NONE, STATE_ARMED, STATE_TRYING = 0, 1, 2
RESULT_NONE, RESULT_CONFIRMED, RESULT_REVERTED, RESULT_REFUSED = 0, 1, 2, 3
RESULT_NAMES = {RESULT_NONE: "none", RESULT_CONFIRMED: "confirmed", RESULT_REVERTED: "reverted",
                RESULT_REFUSED: "refused"}

MAGIC = b"SPBC"
HEAD = struct.Struct("<4sIBBBB")
SLOT = struct.Struct("<I32s16s")
TAIL = struct.Struct("<16s48s")
BODY_SIZE = HEAD.size + SLOT_COUNT * SLOT.size + TAIL.size
RECORD_SIZE = BODY_SIZE + 4


class BootError(Exception):
    """No slot holds an image the bootloader may boot."""


class BootRecord:
    def __init__(self, seq=0, confirmed=0, trial=NO_SLOT, state=STATE_NONE, result=RESULT_NONE,
                 slots=None, result_version="", result_reason=""):
        self.seq = seq
        self.confirmed = confirmed
        self.trial = trial
        self.state = state
        self.result = result
        self.slots = slots or [(0, bytes(32), "") for _ in range(SLOT_COUNT)]   # (length, sha256, version)
        self.result_version = result_version
        self.result_reason = result_reason

    def encode(self):
        b = bytearray(HEAD.pack(MAGIC, self.seq, self.confirmed, self.trial, self.state, self.result))
        for length, sha, version in self.slots:
            b += SLOT.pack(length, sha, version.encode()[:16])
        b += TAIL.pack(self.result_version.encode()[:16], self.result_reason.encode()[:48])
        b += struct.pack("<I", binascii.crc32(b) & 0xFFFFFFFF)
        return bytes(b)

    @classmethod
    def decode(cls, raw):
        """The record in `raw`, or None if the copy is erased, torn or corrupt."""
        if len(raw) < RECORD_SIZE or raw[:4] != MAGIC:
            return None
        (crc,) = struct.unpack_from("<I", raw, BODY_SIZE)
        if binascii.crc32(raw[:BODY_SIZE]) & 0xFFFFFFFF != crc:
            return None
        magic, seq, confirmed, trial, state, result = HEAD.unpack_from(raw, 0)
        slots = []
        for i in range(SLOT_COUNT):
            length, sha, version = SLOT.unpack_from(raw, HEAD.size + i * SLOT.size)
            slots.append((length, sha, version.rstrip(b"\0").decode()))
        rv, rr = TAIL.unpack_from(raw, HEAD.size + SLOT_COUNT * SLOT.size)
        return cls(seq, confirmed, trial, state, result, slots, rv.rstrip(b"\0").decode(),
                   rr.rstrip(b"\0").decode())

    def copy(self):
        return BootRecord.decode(self.encode())

    def as_dict(self):
        return {"seq": self.seq, "confirmed": self.confirmed,
                "trial": None if self.trial == NO_SLOT else self.trial, "state": self.state,
                "result": RESULT_NAMES.get(self.result, str(self.result)),
                "result_version": self.result_version, "result_reason": self.result_reason,
                "versions": [s[2] for s in self.slots]}


class SlotStore:
    """The slot partitions and the boot-control region of one board, as host files."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.on_write = None            # fn(what): tests cut power at a write of the bootloader

    @classmethod
    def beside(cls, flash_dir):
        return cls(os.path.abspath(flash_dir).rstrip("/") + "-rom")

    def slot_path(self, i):
        return os.path.join(self.dir, "slot%d.bin" % i)

    @property
    def bootctl_path(self):
        return os.path.join(self.dir, "bootctl.bin")

    def create(self):
        """Erased partitions and an erased boot-control region (a new board)."""
        os.makedirs(self.dir, exist_ok=True)
        for i in range(SLOT_COUNT):
            if not os.path.exists(self.slot_path(i)):
                with open(self.slot_path(i), "wb") as f:
                    f.write(b"\xff" * SLOT_SIZE)
        if not os.path.exists(self.bootctl_path):
            with open(self.bootctl_path, "wb") as f:
                f.write(b"\xff" * (2 * BOOTCTL_BLOCK))

    def exists(self):
        return os.path.exists(self.bootctl_path)

    def read_slot(self, i, length):
        with open(self.slot_path(i), "rb") as f:
            return f.read(length)

    def program_slot(self, i, image):
        if len(image) > SLOT_SIZE:
            raise BootError("image of %d bytes does not fit a %d-byte slot" % (len(image), SLOT_SIZE))
        with open(self.slot_path(i), "r+b") as f:
            f.write(image + b"\xff" * (SLOT_SIZE - len(image)))

    def slot_matches(self, rec, i):
        length, sha, _ = rec.slots[i]
        if length == 0 or length > SLOT_SIZE:
            return False
        h = hashlib.sha256()
        with open(self.slot_path(i), "rb") as f:
            left = length
            while left:
                chunk = f.read(min(left, 65536))
                if not chunk:
                    return False
                h.update(chunk)
                left -= len(chunk)
        return h.digest() == sha

    def copies(self):
        with open(self.bootctl_path, "rb") as f:
            raw = f.read()
        return [BootRecord.decode(raw[i * BOOTCTL_BLOCK:(i + 1) * BOOTCTL_BLOCK]) for i in range(2)]

    def record(self):
        """(record, index of its copy) or (None, None) when neither copy is valid."""
        best, where = None, None
        for i, rec in enumerate(self.copies()):
            if rec is not None and (best is None or rec.seq > best.seq):
                best, where = rec, i
        return best, where

    def write_record(self, rec):
        """Write `rec` (seq = current + 1) into the copy not holding the current record."""
        cur, where = self.record()
        rec.seq = (cur.seq + 1) if cur else 1
        target = 0 if where is None else 1 - where
        data = rec.encode()
        with open(self.bootctl_path, "r+b") as f:
            f.seek(target * BOOTCTL_BLOCK)
            f.write(b"\xff" * BOOTCTL_BLOCK)          # erase
            f.flush()
            if self.on_write:
                self.on_write("erase")
            f.seek(target * BOOTCTL_BLOCK)
            if self.on_write:
                half = len(data) // 2
                f.write(data[:half])
                f.flush()
                self.on_write("program-half")
                f.write(data[half:])
            else:
                f.write(data)
        if self.on_write:
            self.on_write("program")
        return rec


class BootChoice:
    def __init__(self, slot, path, length, version, trial):
        self.slot = slot
        self.path = path
        self.length = length
        self.version = version
        self.trial = trial

    def __repr__(self):
        return "BootChoice(slot=%d, version=%r, trial=%r)" % (self.slot, self.version, self.trial)


class Bootloader:
    def __init__(self, store):
        self.store = store

    def factory_program(self, image, version, again=False):
        """What the factory (or a programmer on the debug port) does: the image in slot 0,
        confirmed, slot 1 empty.  Only on an empty board unless `again`."""
        self.store.create()
        rec, _ = self.store.record()
        if rec is not None and not again:
            return rec
        self.store.program_slot(0, image)
        rec = BootRecord(confirmed=0)
        rec.slots[0] = (len(image), hashlib.sha256(image).digest(), version)
        return self.store.write_record(rec)

    def boot(self):
        """Choose the slot to boot; updates the record as the rules say.  Raises BootError."""
        rec, _ = self.store.record()
        if rec is None:
            raise BootError("no valid boot-control record: the board was never programmed")
        rec = rec.copy()
        if rec.state == STATE_ARMED and rec.trial != NO_SLOT:
            t = rec.trial
            if self.store.slot_matches(rec, t):
                rec.state = STATE_TRYING
                self.store.write_record(rec)
                return self._choice(rec, t, True)
            self._drop_trial(rec, RESULT_REFUSED, "image does not match its record")
        elif rec.state == STATE_TRYING and rec.trial != NO_SLOT:
            self._drop_trial(rec, RESULT_REVERTED, "trial boot not confirmed")
        elif rec.state != STATE_NONE or rec.trial != NO_SLOT:
            self._drop_trial(rec, RESULT_REFUSED, "inconsistent boot-control record")
        c = rec.confirmed
        if c < SLOT_COUNT and self.store.slot_matches(rec, c):
            return self._choice(rec, c, False)
        for other in range(SLOT_COUNT):
            if other != c and self.store.slot_matches(rec, other):
                rec.confirmed = other
                self.store.write_record(rec)
                return self._choice(rec, other, False)
        raise BootError("no slot holds an image matching the boot-control record")

    def _drop_trial(self, rec, result, reason):
        t = rec.trial
        rec.result = result
        rec.result_version = rec.slots[t][2] if t < SLOT_COUNT else ""
        rec.result_reason = reason
        rec.trial = NO_SLOT
        rec.state = STATE_NONE
        self.store.write_record(rec)

    def _choice(self, rec, slot, trial):
        length, _, version = rec.slots[slot]
        return BootChoice(slot, self.store.slot_path(slot), length, version, trial)
