# The terminal's transaction list for the open batch: one JSON line per finished
# transaction with what its receipt, the reports and a void need (masked PAN
# only, never track data, PIN or keys).  Appended with a flush per line; a torn
# last line (power cut) is skipped on reading.  Cleared by the Z report.
import json

from pos.app import status

PATH = "batch.jsonl"
# The basket being paid (pos.app.basket.Basket), set by the sale flow while its tenders run:
# whichever tender writes the sale's entry (cash, card, wallet, ...), record() lets the basket
# complete it first with its lines, discounts, coupons and member (Basket.paid), so every
# tender's upload carries them the same way (docs/sales-sync.md).  None: no basket.
paying = None


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
    if "at" not in entry:
        import time
        entry["at"] = time.time()   # completion, by the terminal's clock (the cloud upload's time)
    line = json.dumps(entry) + "\n"
    if _torn_tail():
        line = "\n" + line
    with open(PATH, "a") as f:
        f.write(line)
    status.batch_count += 1


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


def each():
    """The entries one at a time, oldest first.  Never the whole batch at once: a day's batch
    of hundreds of entries is larger than the heap (one entry is a dict of some thirty
    fields), so reports, look-ups and rewrites stream the file."""
    try:
        f = open(PATH)
    except OSError:
        return
    with f:
        for line in f:
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
    for e in each():
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
