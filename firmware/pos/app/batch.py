# The terminal's transaction list for the open batch: one JSON line per finished
# transaction with what its receipt, the reports and a void need (masked PAN
# only, never track data, PIN or keys).  Appended with a flush per line; a torn
# last line (power cut) is skipped on reading.  Cleared by the Z report.
import io
import json

from micropython import const

from pos.app import status

PATH = "batch.jsonl"
# The basket being paid (pos.app.basket.Basket), set by the sale flow while its tenders run:
# whichever tender writes the sale's entry (cash, card, wallet, ...), record() lets the basket
# complete it first with its lines, discounts, coupons and member (Basket.paid), so every
# tender's upload carries them the same way (docs/sales-sync.md).  None: no basket.
paying = None
# The line's buffer: a sale's entry (a card sale with its basket's lines and member is 1-2 KB of
# JSON) gathered here and written in one piece.  json.dumps made the whole line as one string
# that grew by doubling, and on the product heap late in a day, with a basket, a member and the
# EMV kernel loaded, a card sale the card had approved offline was not recorded (MemoryError
# ... allocating 692 bytes).  Made once at boot while the heap is whole (main.py, reserve());
# a longer entry goes to flash in pieces of its size (a torn piece reads as a torn line).
LINE_BUF = const(2048)
_buf = None


def reserve():
    global _buf
    if _buf is None:
        _buf = bytearray(LINE_BUF)


class _Line(io.IOBase):
    """json.dump's stream: the pieces of the line into the buffer, the buffer to `f` when full."""

    def __init__(self, f, buf):
        self.f = f
        self.buf = buf
        self.mv = memoryview(buf)
        self.n = 0

    def write(self, b):
        k = len(b)
        if self.n + k > len(self.buf):
            self.flush()
            if k > len(self.buf):
                self.f.write(b)
                return k
        self.buf[self.n:self.n + k] = b
        self.n += k
        return k

    def flush(self):
        if self.n:
            self.f.write(self.mv[:self.n])
            self.n = 0


def _torn_tail():
    """True when the file's last line was cut short by a power cut (no newline)."""
    import os
    try:
        size = os.stat(PATH)[6]
    except OSError:
        return False
    if not size:
        return False
    with open(PATH, "rb") as f:
        f.seek(size - 1)
        return f.read(1) != b"\n"


def record(entry):
    """Append `entry` (dict: inv, kind, tender, amount, result...) in one write; a line
    torn by a power cut is ended first, so it never swallows this one."""
    if paying is not None:
        paying.paid(entry)          # a basket's sale: its lines and member (one entry only)
    if not entry.get("at"):         # (a card entry's literal holds the key: its table does not grow)
        import time
        entry["at"] = time.time()   # completion, by the terminal's clock (the cloud upload's time)
    try:
        _append(entry)
    except MemoryError:             # a moment without heap: collect and write it once more
        import gc                   # (a piece already on flash is a torn line, ended first)
        gc.collect()
        _append(entry)
    status.batch_count += 1


def _append(entry):
    torn = _torn_tail()
    with open(PATH, "a") as f:
        w = _Line(f, _buf if _buf is not None else bytearray(256))
        if torn:
            w.write(b"\n")
        json.dump(entry, w)
        w.write(b"\n")
        w.flush()


def count():
    """Transactions in the open batch (lines of the file; read at boot for the Ready screen)."""
    n = 0
    buf = bytearray(256)
    try:
        f = open(PATH, "rb")
    except OSError:
        return 0
    with f:
        while True:
            got = f.readinto(buf)
            if not got:
                return n
            for i in range(got):
                if buf[i] == 10:
                    n += 1


def each(having=()):
    """The entries one at a time, oldest first.  Never the whole batch at once: a day's batch
    of hundreds of entries is larger than the heap (one entry is a dict of some thirty
    fields), so reports, look-ups and rewrites stream the file.  having: texts of which a line
    must hold one to be parsed at all (a look-up parses only the lines that may match)."""
    try:
        f = open(PATH)
    except OSError:
        return
    with f:
        for line in f:
            if having:
                for h in having:        # (no generator: nothing allocated per line)
                    if h in line:
                        break
                else:
                    continue
            try:
                e = json.loads(line)
            except ValueError:
                continue        # torn write at a power cut: that receipt was never finished
            yield e


def last(n):
    """The newest `n` entries, oldest first, holding at most n in RAM."""
    out = []
    for e in each():
        out.append(e)
        if len(out) > n:
            out.pop(0)
    return out


def entries():
    """Every entry in a list: only for a batch known to be small (boot reconciliation of a
    handful of open transactions); reports and look-ups use each()."""
    return list(each())


def find(inv):
    """The entry of invoice `inv`, or None.  Only a line that names the invoice is parsed (a
    look-up late in a day allocates one line at a time, not an entry per line)."""
    for e in each(('"inv": %d' % inv, '"inv":%d' % inv)):
        if e.get("inv") == inv:
            return e
    return None


def mark(inv, **changes):
    """Rewrite the entry `inv` with `changes` (void, tip adjust), whole file via a temp name,
    one line in RAM at a time."""
    import os
    hit = None
    tmp = PATH + ".tmp"
    try:
        src = open(PATH)
    except OSError:
        return None
    with src:
        with open(tmp, "w") as f:
            for line in src:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("inv") == inv:
                    e.update(changes)
                    hit = e
                    line = json.dumps(e) + "\n"
                e = None
                f.write(line)
    if hit is None:
        os.remove(tmp)
        return None
    os.rename(tmp, PATH)
    return hit


def clear():
    import os
    try:
        os.remove(PATH)
    except OSError:
        pass
