"""The engine's transaction table (pos.payments.txntable) on MicroPython: records found by
STAN through collisions and removals, views that write through, the capacity refused."""
import json

from host_sim import mpy

CODE = r"""
import json
from pos.payments.txntable import TxnTable, BatchFull
t = TxnTable(("alpha", "beta"), capacity=8, size=10)
out = {}
# 3, 13, 23 share home slot 3 (mod 10); 9 and 19 wrap round the end
for s in (3, 13, 23, 9, 19, 4):
    t.add(s, "beta" if s % 2 else "alpha", "sale", s * 100, 1, card=(s == 13))
x = t.get(13)
x.state = "approved"
x.amount = 4321
out["13"] = [x.stan, x.acq, x.kind, x.amount, x.batch, x.card, x.state, x.charged()]
t.add(5, "alpha", "refund", 250, 2)
t[5].state = "done"
out["5"] = [t[5].kind, t[5].charged(), t[5].batch]
out["removed"] = [t.remove(3), t.remove(3), t.remove(9)]
out["left"] = sorted(t)
out["found"] = [s for s in (3, 13, 23, 9, 19, 4, 5) if s in t]
out["states"] = sorted([v.stan, v.state, v.amount] for v in t.values())
out["len"] = [len(t), t.capacity - len(t)]
for s in (31, 41, 51, 61):
    try:
        t.add(s, "alpha", "void", 0, 1)
    except BatchFull as e:
        out["full"] = [s, str(e)]
        break
out["len2"] = [len(t), t.capacity - len(t), t.get(None), t.get(999)]
for s in list(t):
    t.remove(s)
out["empty"] = [len(t), list(t), bytes(t.buf) == bytes(len(t.buf))]
print(json.dumps(out))
"""


def test_records_are_found_by_stan_through_collisions_and_removals():
    got = json.loads(mpy.run(CODE).strip().splitlines()[-1])
    assert got["13"] == [13, "beta", "sale", 4321, 1, True, "approved", 4321]
    assert got["5"] == ["refund", -250, 2]
    assert got["removed"] == [True, False, True]
    assert got["left"] == [4, 5, 13, 19, 23]
    assert got["found"] == [13, 23, 19, 4, 5]
    assert got["states"] == [[4, "sent", 400], [5, "done", 250], [13, "approved", 4321],
                             [19, "sent", 1900], [23, "sent", 2300]]
    assert got["len"] == [5, 3]
    assert got["full"] == [61, "BATCH FULL - SETTLE"]
    assert got["len2"] == [8, 0, None, None]
    assert got["empty"] == [0, [], True]
