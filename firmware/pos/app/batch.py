# The terminal's transaction list for the open batch: one JSON line per finished
# transaction with what its receipt, the reports and a void need (masked PAN
# only, never track data, PIN or keys).  Appended with a flush per line; a torn
# last line (power cut) is skipped on reading.  Cleared by the Z report.
import json

from pos.app import status

PATH = "batch.jsonl"


def record(entry):
    """Append `entry` (dict: inv, kind, tender, amount, result...); the Ready screen's count
    of transactions in the open batch goes up by one."""
    line = json.dumps(entry)
    with open(PATH, "a") as f:
        f.write(line)
        f.write("\n")
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
    """The entries one at a time (reports add them up without the whole batch in RAM)."""
    try:
        f = open(PATH)
    except OSError:
        return
    with f:
        for line in f:
            try:
                yield json.loads(line)
            except ValueError:
                pass            # torn write at a power cut: that receipt was never finished


def entries():
    return list(each())


def find(inv):
    for e in entries():
        if e.get("inv") == inv:
            return e
    return None


def mark(inv, **changes):
    """Rewrite the entry `inv` with `changes` (void, tip adjust), whole file via a temp name."""
    import os
    es = entries()
    hit = None
    for e in es:
        if e.get("inv") == inv:
            e.update(changes)
            hit = e
    if hit is None:
        return None
    tmp = PATH + ".tmp"
    with open(tmp, "w") as f:
        for e in es:
            f.write(json.dumps(e))
            f.write("\n")
    os.rename(tmp, PATH)
    return hit


def clear():
    import os
    try:
        os.remove(PATH)
    except OSError:
        pass
