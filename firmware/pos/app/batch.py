# The terminal's transaction list for the open batch: one JSON line per finished
# transaction with what its receipt, the reports and a void need (masked PAN
# only, never track data, PIN or keys).  Appended with a flush per line; a torn
# last line (power cut) is skipped on reading.  Cleared by the Z report.
import json

PATH = "batch.jsonl"


def record(entry):
    """Append `entry` (dict: inv, kind, tender, amount, result...)."""
    line = json.dumps(entry)
    with open(PATH, "a") as f:
        f.write(line)
        f.write("\n")


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
