# The payment engine's transaction table: what totals, recovery and the store-and-forward
# queue need of each transaction of the open batches, in ONE bytearray of fixed-size
# records made once when the engine starts.  A terminal keeps hundreds of transactions a
# day; as one object each (and a dict of them) they were several small long-lived blocks
# per transaction scattered among each transaction's garbage, and after some 150 of them
# the heap had 40 KB free in pieces too small for a 600-byte block.  Here a transaction
# costs no heap at all: its record is written in place, and the table never grows.
#
#     t = TxnTable(("alpha", "beta"), capacity=320)
#     t.add(stan, "alpha", "sale", 1250, batch=1, card=True)   # state "sent"
#     x = t.get(stan); x.state = "approved"                     # a view that writes through
#     for stan in t: ...                                        # STANs of the table
#
# Records (12 bytes, little-endian): STAN u32 (0: free slot), amount u32 (minor units),
# batch number u16 (modulo 65536), then one byte of acquirer index (bits 0-3) and card flag
# (bit 7: the card still has to confirm, EMV 2nd GENERATE AC), one byte of kind index
# (bits 0-3) and state index (bits 4-7).  Slots are found by STAN
# (open addressing, linear probing from STAN mod size; backward-shift deletion keeps no
# tombstones), so a lookup reads one or two records however full the batch is.
import struct

from micropython import const

_REC = const(12)
# the merchant's message, and the reason BatchFull gives
BATCH_FULL = "BATCH FULL - SETTLE"
# transactions the open batches hold (a trading day's card transactions and more)
BATCH_CAPACITY = const(320)
_SIZE = const(360)                    # records allocated: the spare keeps the probes short
_reserved = None

# kind -> sign of its amount in the totals (refunds out; voids, pre-authorizations and
# balance inquiries move nothing).  Index = the kind's code in a record.
# (Few module-level names on purpose: every name is interned in RAM for ever.)
KINDS = ("sale", "completion", "refund", "void", "preauth", "balance")
# the transaction's life: index = the state's code in a record
STATES = ("sent", "approved", "await_card", "declined", "voided", "failed", "done",
          "reversing", "reversed", "advice", "advised", "dropped")


def reserve():
    """At boot, beside the display's buffers (main.py): the table's records in one block
    while the heap is whole; the engine's table takes it when it starts.  Made later, amid
    the boot's modules and garbage, the block took the place of the holes a transaction's
    modules later needed (MemoryError for a 752-byte block with 40 KB free)."""
    global _reserved
    if _reserved is None:
        _reserved = bytearray(_SIZE * _REC)


class BatchFull(Exception):
    """The open batch holds as many transactions as the terminal can keep: settle first."""


class Txn:
    """A transient view of one record (what the engine's callers read and change); it
    writes through to the table.  Made on each lookup: keep it no longer than the call."""

    def __init__(self, table, i):
        self.table = table
        self.offset = i * _REC

    @property
    def stan(self):
        return struct.unpack_from("<I", self.table.buf, self.offset)[0]

    @property
    def acq(self):
        return self.table.acquirers[self.table.buf[self.offset + 10] & 0x0F]

    @property
    def kind(self):
        return KINDS[self.table.buf[self.offset + 11] & 0x0F]

    @property
    def state(self):
        return STATES[self.table.buf[self.offset + 11] >> 4]

    @state.setter
    def state(self, name):
        b = self.table.buf
        b[self.offset + 11] = (b[self.offset + 11] & 0x0F) | (STATES.index(name) << 4)

    @property
    def card(self):
        return bool(self.table.buf[self.offset + 10] & 0x80)

    @property
    def amount(self):
        return struct.unpack_from("<I", self.table.buf, self.offset + 4)[0]

    @amount.setter
    def amount(self, minor):
        struct.pack_into("<I", self.table.buf, self.offset + 4, _in_range(minor))

    @property
    def batch(self):
        return struct.unpack_from("<H", self.table.buf, self.offset + 8)[0]

    def charged(self):
        """Amount this transaction moves (minor units, refunds negative)."""
        b = self.table.buf
        o = self.offset
        if b[o + 11] >> 4 in (1, 6, 9, 10):      # approved, done, advice, advised
            return (1, 1, -1, 0, 0, 0)[b[o + 11] & 0x0F] * struct.unpack_from("<I", b, o + 4)[0]
        return 0


class TxnTable:
    def __init__(self, acquirers, capacity=BATCH_CAPACITY, size=_SIZE):
        """`acquirers`: the names a record's acquirer index stands for; `capacity`: the
        transactions the table holds (the open batches' limit); `size`: the records
        allocated (some spare beside the capacity keeps the probes short).  The block
        reserve() made at boot is taken when it fits."""
        global _reserved
        self.acquirers = tuple(acquirers)[:16]          # four bits of a record
        if _reserved is not None and len(_reserved) == size * _REC:
            self.buf = _reserved
            _reserved = None
        else:
            # no block reserved at boot (an engine started on its own): on a heap with no
            # room for the whole table in one block, a smaller batch rather than no engine
            self.buf = None
            while self.buf is None:
                try:
                    self.buf = bytearray(size * _REC)
                except MemoryError:
                    if size < 90:
                        raise
                    import gc
                    gc.collect()
                    capacity = capacity * (size // 2) // size
                    size //= 2
        self.capacity = capacity
        self.size = size
        self.count = 0

    def __len__(self):
        return self.count

    def _find(self, stan):
        """The slot holding `stan`, or -1."""
        if not stan:
            return -1
        b = self.buf
        n = self.size
        i = stan % n
        for _ in range(n):
            s = struct.unpack_from("<I", b, i * _REC)[0]
            if s == stan:
                return i
            if s == 0:
                return -1
            i = (i + 1) % n
        return -1

    def __contains__(self, stan):
        return self._find(stan) >= 0

    def get(self, stan, default=None):
        i = self._find(stan) if isinstance(stan, int) else -1
        return Txn(self, i) if i >= 0 else default

    def __getitem__(self, stan):
        i = self._find(stan)
        if i < 0:
            raise KeyError(stan)
        return Txn(self, i)

    def __iter__(self):
        """The STANs of the table (slot order).  Do not add or remove while iterating."""
        b = self.buf
        for i in range(self.size):
            s = struct.unpack_from("<I", b, i * _REC)[0]
            if s:
                yield s

    def values(self):
        """A view of each transaction of the table (slot order)."""
        b = self.buf
        for i in range(self.size):
            if struct.unpack_from("<I", b, i * _REC)[0]:
                yield Txn(self, i)

    def add(self, stan, acq, kind, amount, batch, card=False, state="sent"):
        """Record transaction `stan` (replacing a record of the same STAN); BatchFull when
        the table already holds `capacity` transactions."""
        if not 0 < stan <= 0xFFFFFFFF:
            raise ValueError("STAN or amount out of range: %d" % stan)
        i = self._find(stan)
        if i < 0:
            if self.count >= self.capacity:
                raise BatchFull(BATCH_FULL)
            n = self.size
            i = stan % n
            while struct.unpack_from("<I", self.buf, i * _REC)[0]:
                i = (i + 1) % n
            self.count += 1
        struct.pack_into("<IIHBB", self.buf, i * _REC, stan, _in_range(amount), batch & 0xFFFF,
                         self.acquirers.index(acq) | (0x80 if card else 0),
                         KINDS.index(kind) | (STATES.index(state) << 4))
        return Txn(self, i)

    def remove(self, stan):
        """Drop `stan`'s record (False if there was none).  Linear-probing deletion by
        backward shift: records after the hole that would no longer be found move up."""
        i = self._find(stan)
        if i < 0:
            return False
        b = self.buf
        n = self.size
        j = i
        while True:
            b[i * _REC:i * _REC + _REC] = bytes(_REC)
            while True:
                j = (j + 1) % n
                s = struct.unpack_from("<I", b, j * _REC)[0]
                if s == 0:
                    self.count -= 1
                    return True
                k = s % n                      # the record's home slot
                # stays when its home lies cyclically in (i, j]
                if (i <= j and i < k <= j) or (i > j and (k > i or k <= j)):
                    continue
                break
            b[i * _REC:i * _REC + _REC] = b[j * _REC:j * _REC + _REC]
            i = j


def _in_range(minor):
    if not 0 <= minor <= 0xFFFFFFFF:
        raise ValueError("STAN or amount out of range: %d" % minor)
    return minor
