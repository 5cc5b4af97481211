"""The transaction list's line on MicroPython (the board's heap): written from the buffer made
at boot, one write for an ordinary entry, in pieces of the buffer's size for a basket's long
entry, read back whole; a torn last line (power cut) is ended before the next; a MemoryError
while writing is collected and the entry written once, whole, nothing of the failed try on
flash."""
import json

from host_sim import mpy

CODE = r"""
import json
from pos.app import batch
batch.reserve()
writes = []

class Spy:
    def __init__(self, f): self.f = f
    def write(self, b):
        writes.append(len(b)); return self.f.write(b)
    def close(self): self.f.close()
    def __enter__(self): return self
    def __exit__(self, *a): self.f.close()

real_open = open
def spy_open(p, m="r"):
    f = real_open(p, m)
    return Spy(f) if p == batch.PATH and "a" in m else f
batch.open = spy_open
small = {"inv": 1, "kind": "sale", "tender": "cash", "amount": 1250, "ok": True}
big = {"inv": 2, "kind": "sale", "tender": "card", "amount": 99999, "ok": True,
       "lines": [{"sku": "SKU%04d" % i, "qty": 1, "price": 100 + i, "name": "ITEM NAME %d" % i} for i in range(60)]}
batch.record(small)
print("small", writes); writes.clear()
batch.record(big)
print("big", writes); writes.clear()
with real_open(batch.PATH, "a") as f:           # a power cut in the middle of a third line
    f.write('{"inv": 3, "kind": "sa')
batch.record({"inv": 4, "kind": "refund", "tender": "cash", "amount": 5, "ok": True})
class Flaky:                                    # the heap runs out once, mid-line
    fail = True
    loads = json.loads
    def dump(self, obj, w):
        if self.fail:
            self.fail = False
            w.write(b'{"inv": 5, "par')
            raise MemoryError("memory allocation failed, allocating 692 bytes")
        return json.dump(obj, w)
batch.json = Flaky()
batch.record({"inv": 5, "kind": "sale", "tender": "card", "amount": 700, "ok": True})
batch.json = json
print("entries", json.dumps([e for e in batch.each()]))
print("count", batch.count())
"""


def test_lines_written_from_the_buffer_and_read_back_whole(tmp_path):
    out = dict(ln.split(" ", 1) for ln in mpy.run(CODE, cwd=str(tmp_path)).strip().splitlines())
    small = json.loads(out["small"])
    big = json.loads(out["big"])
    assert len(small) == 1                               # one write for an ordinary entry
    assert len(big) >= 2 and max(big) <= 2048 and sum(big) > 2048   # the long one in pieces
    entries = json.loads(out["entries"])
    assert [e["inv"] for e in entries] == [1, 2, 4, 5]   # the torn third line skipped, 5 once
    assert len(entries[1]["lines"]) == 60 and entries[1]["lines"][59]["sku"] == "SKU0059"
    assert entries[3]["amount"] == 700
    # lines on flash: the 4 entries and the torn one (ended); the failed try's piece stayed in
    # the buffer and never reached flash
    assert int(out["count"]) == 5


FIND = r"""
import json
from pos.app import batch
loads = []
real = json.loads
class Spy:
    def loads(self, s):
        loads.append(1); return real(s)
    dump = staticmethod(json.dump)
for inv in (3, 30, 13, 130):
    batch.record({"inv": inv, "kind": "sale", "tender": "card", "amount": inv * 100, "ok": True,
                  "orig": 3, "ref": "T-%06d" % inv})
with open(batch.PATH, "a") as f:                 # a power cut in the middle of the last line
    f.write('{"inv": 7, "kind": "sa')
with open(batch.PATH, "a") as f:                 # a line written by another JSON writer
    f.write('\n{"inv":8,"kind":"sale","amount":800}\n')
batch.json = Spy()
for inv in (3, 30, 13, 130, 7, 8, 4):
    del loads[:]
    e = batch.find(inv)
    print(inv, e["amount"] if e else None, len(loads))
"""


def test_find_parses_only_the_lines_that_name_the_invoice(tmp_path):
    got = {}
    for ln in mpy.run(FIND, cwd=str(tmp_path)).strip().splitlines():
        inv, amount, parsed = ln.split()
        got[int(inv)] = (None if amount == "None" else int(amount), int(parsed))
    assert got[3] == (300, 1)            # "orig": 3 on every line is not "inv": 3
    assert got[30][0] == 3000 and got[13][0] == 1300 and got[130][0] == 13000
    assert got[13][1] == 1 and got[130][1] == 1
    assert got[30][1] <= 2               # "inv": 3 is a prefix of "inv": 30: that one parsed too
    assert got[7] == (None, 1)           # the torn line names it, and does not parse
    assert got[8] == (800, 1)            # no space after the colon: found all the same
    assert got[4] == (None, 0)           # no line names it: nothing parsed
