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
