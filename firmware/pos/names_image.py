# Every name of the firmware image interned at boot, while the heap is whole.
#
# Importing a module interns the names it uses, for good, in pools that double as they fill
# (20, 40, ... 1280 entries: 2,540 names in seven parts, then 2,560 in one block: some 28 KB
# on the 64-bit unix port, 18 KB on a Cortex-M4).  A module first loaded in the middle of the
# day (an occasional flow, a management handler, the basket, the Apps menu) whose names cross
# into a new part asks for that block then, and a heap fragmented by transactions has none:
# the import failed with `MemoryError ... allocating 2560 bytes` (the count of entries, not
# bytes).  Here each module of the image is loaded once and let go again, one at a time, before
# the payment services and the UI load: the pools take the size the whole firmware needs, once,
# while the heap is whole.  From a ROM image a module's bytecode stays in flash and its names
# are interned in place (their text stays in the image): what stays on the heap is the pools'
# entries.  Reading the names out of each file instead would copy their text into RAM, 22 KB
# more on the virtual board.  The modules let go are reclaimed by the collector as it needs
# room, and once at the end (docs/bridge.md, "Interned names").
import gc
import os

from pos import log, modules
from pos.board import WIDE

ROM = "/rom"
# Free heap the step needs: the pools' entries for every name (about 56 KB on the 64-bit unix
# port, 30 KB on a Cortex-M4), the eighth part in one 28 KB block found among the let-go
# modules' garbage, and the largest module.  Measured here on 2026-11-28: the 64-bit port with
# 240 KB free (its 192K) did not find that block, with 369 KB (320K) it did; the 32-bit board at
# 192K has 226 KB free here and interns every name.  Below it the names intern at first use.
MIN_FREE = 300000 if WIDE else 177000


def _modules(path, package):
    for entry in os.ilistdir(path):
        name, kind = entry[0], entry[1]
        if kind == 0x4000:                      # a package
            yield from _modules(path + "/" + name, package + "." + name)
        elif name.endswith(".mpy"):
            yield package if name == "__init__.mpy" else package + "." + name[:-4]


def intern_image(min_free=None):
    """Load and let go every module of the ROM image's `pos` package, one at a time.  Returns
    how many did not load (their names intern at first use), or None when skipped: a firmware
    not run from a ROM image (.mpy files on the filesystem: each load copies its bytecode into
    RAM), or a heap with less than `min_free` bytes free (MIN_FREE: the pools and the largest
    module with room to spare).  Running out of heap stops it there; it never stops the boot."""
    import pos
    if not pos.__file__.startswith(ROM + "/"):
        return None
    gc.collect()
    if gc.mem_free() < (MIN_FREE if min_free is None else min_free):
        return None
    failed = 0
    short = None
    for name in _modules(ROM + "/pos", "pos"):
        before = modules.loaded()
        try:
            __import__(name)
        except MemoryError as exc:
            short = (name, exc)
        except Exception:                       # a module that needs the running counter
            failed += 1
        modules.unload_since(before)
        before = None
        if short is not None:
            break
    gc.collect()
    if short is not None:
        try:
            log.warning("app", "names not all interned at boot", module=short[0], err=repr(short[1]))
        except MemoryError:
            pass
        return failed + 1
    return failed
