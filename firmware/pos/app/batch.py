# The terminal's transaction list for the open batch: one JSON line per finished
# transaction with what its receipt, the reports and a void need (masked PAN
# only, never track data, PIN or keys).  Appended with a flush per line; a torn
# last line (power cut) is skipped on reading.  Cleared by the Z report.
import json

from pos.app import status

PATH = "batch.jsonl"


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
