# Every name of the firmware image interned at boot, while the heap is whole.
#
# Importing a module interns the names it uses, for good, in pools that double as they fill
# (20, 40, ... 1280 entries: 2,540 names in seven parts, then 2,560 in one block: some 28 KB
# on the 64-bit unix port, 18 KB on a Cortex-M4).  A module first loaded in the middle of the
# day (an occasional flow, a management handler, the basket, the Apps menu) whose names cross
# into a new part asks for that block then, and a heap fragmented by transactions has none:
# the import failed with `MemoryError ... allocating 2560 bytes` (the count of entries, not
# bytes).  Here the ROM image's names module (`pos._names`, made when the image is built:
# tools/posbuild/names.py) is loaded once, before the payment services and the UI load: its
# table holds every name the image's modules use, so the pools take the size the whole
# firmware needs, once, while the heap is whole.  From a ROM image names are interned in place
# (their text stays in the image): what stays on the heap is the pools' entries.  The module
# has no code of its own and is let go again (docs/bridge.md, "Interned names").
import gc

from pos import log, modules
from pos.board import WIDE

ROM = "/rom"
NAMES = "pos._names"
# Free heap the step needs: the pools' entries for every name (about 56 KB on the 64-bit unix
# port, 30 KB on a Cortex-M4), the eighth part in one 28 KB block.  Measured here on 2026-11-28
# (when every module was loaded in turn instead): the 64-bit port with 240 KB free (its 192K) did
# not find that block, with 369 KB (320K) it did; the 32-bit board at 192K has 226 KB free here
# and interns every name.  Below it the names intern at first use.
MIN_FREE = 300000 if WIDE else 177000


def intern_image(min_free=None):
    """Load and let go the ROM image's names module.  Returns 0, or 1 when it did not load
    (out of heap, or an image without it: the names then intern at first use), or None when
    skipped: a firmware not run from a ROM image (.mpy files on the filesystem intern each
    module's names as it loads), or a heap with less than `min_free` bytes free (MIN_FREE).
    It never stops the boot."""
    import pos
    if not pos.__file__.startswith(ROM + "/"):
        return None
    gc.collect()
    if gc.mem_free() < (MIN_FREE if min_free is None else min_free):
        return None
    before = modules.loaded()
    try:
        __import__(NAMES)
        failed = 0
    except (MemoryError, ImportError) as exc:
        failed = 1
        try:
            log.warning("app", "names not all interned at boot", err=repr(exc))
        except MemoryError:
            pass
    modules.unload_since(before)
    before = None
    gc.collect()
    return failed
