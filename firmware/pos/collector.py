# When the garbage collector runs.
#
# A collection after every THRESHOLD bytes allocated from Ready (every BOOT bytes while main.py
# loads the firmware: at 16 KB the boot's collections were half its time), not only when an allocation
# fails.  MicroPython allocates first-fit from the lowest free block it knows; left to collect
# only when the heap is exhausted, a flow's allocations climb to the top of the heap and what it
# keeps (a module loaded at first use, a cache, the next sale's objects) is scattered over the
# whole heap once its garbage is freed: at Ready on a counter with a catalog and members the
# largest free block was 4.5 KB of 66 KB free, and card-paid baskets ran out of heap.
# Collected often, garbage is freed near the bottom and reused there, and the free heap stays
# in large pieces (docs/offline.md, "Memory").  The payment kernels and the QR encoder allocate
# megabytes of short-lived numbers and bytes and keep almost nothing: there the threshold is off
# (hundreds of collections cost a contact sale 70-90 ms terminal-side on the virtual board) and
# one collection follows.
import gc

from micropython import const

THRESHOLD = const(16384)
BOOT = const(65536)          # while main.py loads the firmware (its own collections place the big blocks)


def often(on=True, every=THRESHOLD):
    """The allocation threshold on (True: a collection after every `every` bytes) or off (False,
    while a kernel or encoder computes)."""
    if not on:
        gc.threshold(-1)
        return
    gc.collect()
    gc.threshold(every)


class HeldOff:
    """`with collector.HeldOff():` around a kernel or an encoder: the threshold off while it
    computes, back on (with one collection) however it ends."""

    def __enter__(self):
        often(False)

    def __exit__(self, *exc):
        often(True)
