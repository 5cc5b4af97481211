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

