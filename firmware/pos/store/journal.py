# Append-only transaction journal on flash, safe against a power cut at any write.
#
# Record layout (one write call each, flushed before the caller goes on):
#   0xA5 | len (2 bytes, big endian) | payload (len bytes, JSON) | CRC-32 (4 bytes,
#   big endian, over len and payload)
# A record is only ever appended; earlier bytes are never rewritten.  On open,
# the file is scanned: a torn last record (short, or a bad CRC: the power went
# while it was being written) is discarded by copying the good prefix to a
# new file and renaming it over the journal (rename is atomic on littlefs and
# POSIX), so earlier records are never at risk.
#
# The payment engine writes ahead: a record before every send and after every
# reply (pos.payments.engine), so recovery knows which requests may have
# reached the host.
import json
import os
from binascii import crc32
from micropython import const
from pos import log

MAGIC = const(0xA5)
_HDR = const(3)
_TRAILER = const(4)
MAX_RECORD = const(4096)


class JournalError(OSError):
    """The journal cannot be written (flash full, read-only)."""


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class Journal:
    """Open (and recover) the journal at `path`.

    Records are not kept in RAM: `replay()` streams them from flash (one
    record's buffer at a time), so the journal may be larger than the heap.
    `on_write(n, record)` is called after the n-th record of this session is on
    flash (power-fail test points hook in there; None in production).
    """

    def __init__(self, path="journal.bin", on_write=None):
        self.path = path
        self.on_write = on_write
        self.writes = 0
        self.count = 0             # records in the journal
        self.discarded = 0         # bytes of a torn last record dropped at open
        self._hdr = bytearray(_HDR)
        self._recover()
        self._f = open(path, "ab")

    # ------------------------------------------------------------ reading
    def _scan(self, f, parse):
        """Yield (end offset, record or None) for each good record from `f`."""
        hdr = self._hdr
        pos = 0
        while True:
            if f.readinto(hdr) != _HDR or hdr[0] != MAGIC:
                return
            ln = (hdr[1] << 8) | hdr[2]
            payload = f.read(ln)
            trailer = f.read(_TRAILER)
            if len(payload) != ln or len(trailer) != _TRAILER:
                return
            crc = crc32(payload, crc32(memoryview(hdr)[1:])) & 0xFFFFFFFF
            if crc != int.from_bytes(trailer, "big"):
                return
            rec = None
            if parse:
                try:
                    rec = json.loads(payload)
                except ValueError:
                    return
            pos += _HDR + ln + _TRAILER
            yield pos, rec

    def replay(self):
        """The journal's records, oldest first (streamed from flash)."""
        if self._f is not None:
            self._f.flush()
        try:
            f = open(self.path, "rb")
        except OSError:
            return
        try:
            for _end, rec in self._scan(f, True):
                yield rec
        finally:
            f.close()

    @property
    def records(self):
        """All records as a list (tests and tools; the engine uses replay())."""
        return list(self.replay())

    # ------------------------------------------------------------ recovery
    def _recover(self):
        try:
            size = os.stat(self.path)[6]
        except OSError:
            return
        good = 0
        with open(self.path, "rb") as f:
            for end, _r in self._scan(f, True):
                good = end
                self.count += 1
        if good < size:
            self.discarded = size - good
            log.warning("journal", "torn record discarded", bytes=size - good, kept=self.count)
            tmp = self.path + ".tmp"
            buf = bytearray(512)
            left = good
            with open(self.path, "rb") as src, open(tmp, "wb") as dst:
                while left:
                    n = src.readinto(memoryview(buf)[:min(left, len(buf))])
                    if not n:
                        break
                    dst.write(memoryview(buf)[:n])
                    left -= n
            os.rename(tmp, self.path)

    # ------------------------------------------------------------ writing
    def append(self, record):
        """Write one record (a JSON-able dict) and flush it; returns it."""
        payload = json.dumps(record).encode()
        ln = len(payload)
        if ln > MAX_RECORD:
            raise JournalError("journal record of %d bytes too long" % ln)
        buf = bytearray(_HDR + ln + _TRAILER)
        buf[0] = MAGIC
        buf[1] = ln >> 8
        buf[2] = ln & 0xFF
        buf[_HDR:_HDR + ln] = payload
        crc = crc32(memoryview(buf)[1:_HDR + ln]) & 0xFFFFFFFF
        buf[_HDR + ln:] = crc.to_bytes(4, "big")
        try:
            self._f.write(buf)
            self._f.flush()
        except OSError as e:
            raise JournalError("journal write failed: %s" % e)
        self.count += 1
        self.writes += 1
        if self.on_write is not None:
            self.on_write(self.writes, record)
        return record

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None

    def rotate(self, first_records):
        """Start a new journal holding only `first_records` (after a batch closes); they may
        be a generator over this journal's replay() (the new file is written beside the old).

        The new file is written completely and renamed over the old one: a power
        cut leaves either the old or the new journal, both consistent."""
        self.close()
        tmp = self.path + ".new"
        try:
            os.remove(tmp)
        except OSError:
            pass
        j = Journal(tmp)
        n = 0
        for r in first_records:          # a list, or a generator reading the old journal
            j.append(r)
            n += 1
        j.close()
        os.rename(tmp, self.path)
        self.count = n
        self._f = open(self.path, "ab")
