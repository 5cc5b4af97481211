"""The kernel's tag tables on MicroPython: made once by the kernel at TABLE entries and emptied
for each transaction, they take a transaction's 30-odd ICC and terminal data objects without
growing (a dict that grew from 29 to 37 entries at the first GENERATE AC needed one 592-byte
block, which a card sale late in a day did not find)."""
from host_sim import mpy

CODE = r"""
import gc
from pos.emv import kernel as K
vals = [bytes([i]) * 4 for i in range(K.TABLE)]
tags = [0x9F00 + i for i in range(K.TABLE)]

def fill(d, n):
    gc.collect()
    a = gc.mem_alloc()
    for i in range(n):
        d[tags[i]] = vals[i]
    return gc.mem_alloc() - a

t = K._table()
print("table", fill(t, 40))
K._emptied(t)
print("again", fill(t, K.TABLE), len(t))
K._emptied(t)
print("emptied", len(t), t.get(tags[3]))
print("fresh", fill({}, 40))
"""


def test_a_transaction_fills_the_kernels_tables_without_allocating():
    out = dict(ln.split(" ", 1) for ln in mpy.run(CODE).strip().splitlines())
    assert out["table"] == "0"                     # 40 tags: no growth
    assert out["again"] == "0 47"                  # emptied and filled to the brim: still none
    assert out["emptied"] == "0 None"
    assert int(out["fresh"]) >= 592                # a plain dict grows through 29 -> 37 -> 47
