"""The board this firmware runs on: ``from pos.board import BOARD``.

BOARD is the module of constants from firmware/boards/ (bus ids, baud rates,
pin names).  The virtual board's MicroPython (the unix port) reports
sys.platform == 'linux'; every other platform is the reference board.

WIDE is true on a 64-bit build (8-byte object words: the virtual board's unix port), false on
a 32-bit one (the board's Cortex-M4).  The same firmware takes 1.69-1.78 times the heap on the
first (docs/performance.md, "The board's heap on a 32-bit build"), so a heap threshold in
bytes is set per word size.
"""
import sys

if sys.platform == "linux":
    from boards import sim as BOARD  # noqa: F401
else:
    from boards import nucleo_f429zi as BOARD  # noqa: F401

WIDE = sys.maxsize > 0x7FFFFFFF


# A garbage collection after every GC_THRESHOLD bytes allocated (main.py), not only when an
# allocation fails.  MicroPython allocates first-fit from the lowest free block it knows; left to
# collect only when the heap is exhausted, a flow's allocations climb to the top of the heap and
# what it keeps (a module loaded at first use, a cache, the next sale's objects) is scattered
# over the whole heap once its garbage is freed.  Collected often, garbage is freed near the
# bottom and reused there, and the free heap stays in large pieces (docs/offline.md, "Memory").
# The payment kernels and the QR encoder allocate megabytes of short-lived numbers and bytes
# and keep almost nothing: there the threshold is off (hundreds of collections: +70-90 ms
# terminal-side on a contact sale on the virtual board) and one collection follows.
GC_THRESHOLD = 16384


def collect_often(on=True):
    """The allocation threshold on (True) or off (False, while a kernel or encoder computes)."""
    import gc
    if not on:
        gc.threshold(-1)
        return
    gc.collect()
    gc.threshold(GC_THRESHOLD)
