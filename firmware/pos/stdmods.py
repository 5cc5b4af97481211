# The interpreter's built-in modules the firmware imports, bound in sys.modules once at boot.
#
#     from pos import stdmods
#     stdmods.bind()                  # first thing main.py does
#
# MicroPython lets a file on sys.path stand in for most of its built-in modules (`time`,
# `json`, `struct`...: the "extensible" ones), so an `import time` searches the path before it
# takes the built-in: "time" as a package, "time.py" and "time.mpy" in each of '', /rom,
# /rom/lib, /flash and /flash/lib, and again at every import, because a built-in module is not
# kept in sys.modules.  The firmware imports `time` in some forty places and `json` in fifty,
# and loads and unloads a flow's modules all day (pos.modules): counted on the virtual board,
# 75 such searches and 664 file look-ups in one power-on to Ready.  Bound here, every later
# import is one look-up in sys.modules, and no file on the flash can stand in for one of them.
import sys

# every built-in the firmware imports that a file on sys.path could stand in for ("os" too:
# the board support of the virtual board puts its own there, which bind() keeps; `ssl` is
# a frozen module over the built-in `tls`, found in .frozen as before)
NAMES = ("time", "json", "os", "binascii", "hashlib", "struct", "io", "array", "socket",
         "select", "errno", "random", "collections", "cryptolib", "framebuf")


def bind(names=NAMES):
    """Import each of `names` from the interpreter itself and keep it in sys.modules; a module
    this build lacks is skipped (its importer then meets the ImportError it handles today).
    sys.path is empty meanwhile, so these imports search nothing either (MicroPython's way
    to ask for the built-in)."""
    mods = sys.modules
    path = sys.path
    keep = path[:]
    path[:] = ()
    try:
        for name in names:
            if name not in mods:
                try:
                    mods[name] = __import__(name)
                except ImportError:
                    pass
    finally:
        path[:] = keep
