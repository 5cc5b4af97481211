# The upload queue on flash: completed transactions waiting for the cloud, kept apart from the
# payment journal (docs/sales-sync.md, "The terminal side").
#
#     q = UploadQueue()                 # opens, drops a torn last record
#     q.append(body)                    # the upload's JSON; False when the queue is full
#     inv, body = q.head()              # the oldest not yet acknowledged, or (0, None)
#     q.settle(inv)                     # 200/201: acknowledged (the pointer moves past it)
#     q.settle(inv, "409 ...")          # 409/422: refused, kept and shown to the merchant
#
# upload.q: records appended and never rewritten in place, each
#   0x5A | length (2 bytes, big endian) | upload JSON | CRC-32 (4 bytes, big endian, over
#   length and JSON)
# flushed one at a time.  A record torn by a power cut is the last one, and only the last one
# can be torn: it is dropped at open (the good prefix copied and renamed over the file), and
# the counter's transaction list (pos.app.batch, written at completion, before the queue)
# gives it again (pos.sync.uploader fills the queue from there).
# upload.ack: {"done": invoice, "refused": {invoice: why}}, rewritten whole through a
# temporary name (rename is atomic on littlefs): every record up to invoice `done` has been
# acknowledged or refused.  Invoices grow with each transaction (pos.app.counters), so the
# pointer is an invoice, not an offset, and compaction (the acknowledged prefix left out of a
# new file renamed over the old) never has to move it.
import json
import os
from binascii import crc32

from micropython import const

QUEUE = "upload.q"
ACK = "upload.ack"
_MAGIC = const(0x5A)
_FRAME = const(7)             # magic, length, CRC
CAPACITY = const(65536)       # bytes of flash for the queue (config/cloud.json queue_bytes)
NEAR_FULL = const(80)         # percent: the Ready screen warns


def _invoice(body):
    """The invoice of an upload's JSON: its first field, {"invoice":N,..."""
    return int(body[11:body.find(b",")])


class UploadQueue:
    def __init__(self, capacity=CAPACITY):
        self.capacity = capacity
        self.done = 0              # acknowledged or refused up to this invoice
        self.refused = {}          # invoice (text) -> the cloud's answer
        self.last = 0              # the newest invoice in the queue
        self.size = 0              # bytes of upload.q
        self.waiting = 0           # records after `done`
        self._head = 0             # offset of the first record after `done`
        self._hdr = bytearray(3)
        try:
            with open(ACK) as f:
                a = json.load(f)
            self.done, self.refused = a["done"], a["refused"]
        except (OSError, ValueError, KeyError):
            pass
        try:
            os.remove(QUEUE + ".new")         # a compaction the power cut short: the old file stands
        except OSError:
            pass
        self._open()

    # ------------------------------------------------------------ reading
    def _records(self, f):
        """(offset, invoice, body) of each good record of `f`; stops at a torn one."""
        hdr = self._hdr
        pos = 0
        while True:
            if f.readinto(hdr) != 3 or hdr[0] != _MAGIC:
                return
            n = (hdr[1] << 8) | hdr[2]
            body = f.read(n)
            crc = f.read(4)
            if len(body) != n or len(crc) != 4 or crc32(body, crc32(memoryview(hdr)[1:])) & 0xFFFFFFFF \
                    != int.from_bytes(crc, "big"):
                return
            yield pos, _invoice(body), body
            pos += _FRAME + n

    def _open(self):
        try:
            size = os.stat(QUEUE)[6]
        except OSError:
            size = 0
        good = 0
        self.waiting = 0
        self._head = None
        if size:
            with open(QUEUE, "rb") as f:
                for pos, inv, body in self._records(f):
                    good = pos + _FRAME + len(body)
                    self.last = inv
                    if inv > self.done:
                        self.waiting += 1
                        if self._head is None:
                            self._head = pos
        if good < size:                       # torn at a power cut: the good prefix stays
            self._copy(good, QUEUE + ".new")
            os.rename(QUEUE + ".new", QUEUE)
        self.size = good
        if self._head is None:
            self._head = good

    def _copy(self, n, dst, skip=None):
        """The first `n` bytes of the queue into `dst` (records for which skip(inv) is true left out)."""
        with open(QUEUE, "rb") as f, open(dst, "wb") as out:
            for pos, inv, body in self._records(f):
                if pos >= n:
                    break
                if skip is None or not skip(inv):
                    out.write(self._frame(body))

    def head(self):
        """(invoice, JSON bytes) of the oldest upload not yet settled, or (0, None)."""
        if not self.waiting:
            return 0, None
        with open(QUEUE, "rb") as f:
            f.seek(self._head)
            for pos, inv, body in self._records(f):
                return inv, body
        return 0, None

    def high_water(self):
        """The newest invoice the queue has taken (a transaction after it is not in yet)."""
        return max(self.last, self.done)

    def percent_full(self):
        return self.size * 100 // self.capacity

    # ------------------------------------------------------------ writing
    def _frame(self, body):
        n = len(body)
        buf = bytearray(_FRAME + n)
        buf[0] = _MAGIC
        buf[1] = n >> 8
        buf[2] = n & 0xFF
        buf[3:3 + n] = body
        buf[3 + n:] = (crc32(memoryview(buf)[1:3 + n]) & 0xFFFFFFFF).to_bytes(4, "big")
        return buf

    def append(self, body):
        """Add one upload (its invoice after every invoice in the queue); False when it does
        not fit (the transaction stays in the transaction list until it does)."""
        buf = self._frame(body)
        if self.size + len(buf) > self.capacity:
            self.compact()
            if self.size + len(buf) > self.capacity:
                return False
        with open(QUEUE, "ab") as f:
            f.write(buf)
        if not self.waiting:
            self._head = self.size
        self.size += len(buf)
        self.last = _invoice(body)
        self.waiting += 1
        return True

    def settle(self, inv, refused=None):
        """The cloud has answered for `inv`, the head: acknowledged (refused=None) or refused
        with the cloud's answer (kept, shown)."""
        if refused is not None:
            self.refused[str(inv)] = refused
        tmp = ACK + ".tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps({"done": inv, "refused": self.refused}))
        os.rename(tmp, ACK)
        self.done = inv
        self.waiting -= 1
        with open(QUEUE, "rb") as f:              # the next head: right after this record
            f.seek(self._head)
            for pos, _inv, body in self._records(f):
                self._head += _FRAME + len(body)
                break
        if self._head * 2 > self.capacity:
            self.compact()

    def compact(self):
        """Leave the acknowledged records out: the refused ones and those waiting are copied
        into a new file renamed over the queue (a cut before the rename keeps the old one)."""
        if not self._head:
            return
        refused = self.refused
        self._copy(self.size, QUEUE + ".new",
                   lambda inv: inv <= self.done and str(inv) not in refused)
        os.rename(QUEUE + ".new", QUEUE)
        self.last = 0
        self._open()
