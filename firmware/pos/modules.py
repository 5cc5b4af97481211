# Modules loaded for a while and let go: a flow's modules load from ROM when it starts and are
# unloaded when it ends, so what their functions and globals take goes back to the heap.
#
#     before = modules.loaded()
#     ... import what the job needs, run it ...
#     modules.unload_since(before)          # or modules.unload(("pos.app.flows", ...))
#
# A module stays alive while anything refers to it: sys.modules, and the package it belongs
# to, which keeps each imported submodule as an attribute.  Both references are dropped here;
# objects the caller still holds (a handler, a function) keep their module's globals alive
# until they are dropped too.
import sys

from micropython import const

# Entries sys.modules is made to hold at boot (reserve): the counter at Ready holds some 125
# modules (an enrolled counter with a catalog, a member programme and the sync running), a
# basket adds 7, the Apps menu and the management handlers more.  MicroPython's dict grows
# by steps of its own (127, 167, 223 entries: 16 bytes each on the 64-bit port, 8 on the
# board) and never shrinks; a module let go leaves its entry for the next one.
ROOM = const(200)


def reserve(room=ROOM):
    """Grow sys.modules' table to hold `room` modules, once, while the heap is whole.  Without
    it the table grew when the first basket's modules took it past 127 entries, into one
    block of 167 x 16 = 2,672 B that a heap fragmented by the boot and the day's sales did not
    always have (`MemoryError ... allocating 2672 bytes` opening a basket)."""
    m = sys.modules
    keys = ["~%d" % i for i in range(room - len(m))]
    for k in keys:
        m[k] = None
    for k in keys:
        del m[k]


def loaded():
    """The names of the modules loaded now (to pass to unload_since later)."""
    return set(sys.modules)


def unload(names):
    """Unload each module of `names` that is loaded; names not loaded are skipped."""
    for name in names:
        if sys.modules.pop(name, None) is None:
            continue
        parent, _, child = name.rpartition(".")
        pkg = sys.modules.get(parent)
        if pkg is not None:
            try:
                delattr(pkg, child)         # the package's reference, or the module stays
            except (AttributeError, KeyError):
                # not there: the package was loaded again since (MicroPython's delattr on a
                # module raises KeyError for a name it lacks)
                pass


def unload_since(before):
    """Unload every module loaded since `before` (a set from loaded())."""
    unload([m for m in sys.modules if m not in before])

