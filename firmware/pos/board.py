"""The board this firmware runs on: ``from pos.board import BOARD``.

BOARD is the module of constants from firmware/boards/ (bus ids, baud rates,
pin names).  The virtual board's MicroPython (the unix port) reports
sys.platform == 'linux'; every other platform is the reference board.
"""
import sys

if sys.platform == "linux":
    from boards import sim as BOARD  # noqa: F401
else:
    from boards import nucleo_f429zi as BOARD  # noqa: F401
