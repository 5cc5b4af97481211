"""The largest single allocation the firmware makes, measured on the virtual board.

MicroPython has no allocation hook a program can see, and a heap map only shows what is
alive at one moment.  This probe is a small shared object (probe.c) loaded into the unix
port's process with LD_PRELOAD: it stands in front of the GC allocator (gc_alloc,
gc_realloc, which the port calls through its procedure linkage table) and records the
largest block asked for in a page shared with the host.  Nothing on the board changes.

    probe = AllocProbe()                  # builds the object with the C compiler (cached)
    with Rig(cpu_env=probe.env()) as rig:
        probe.reset(); ...one transaction...; probe.largest()   # bytes
"""
import os
import struct

from host_sim.preload import PreloadProbe, ProbeError  # noqa: F401 (ProbeError: the probe's error)

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.c")
_PAGE = struct.Struct("<QQ")           # largest, count


class AllocProbe(PreloadProbe):
    SRC, NAME, LABEL, ENV = _SRC, "allocprobe", "allocation probe", "SMARTPOS_ALLOC_PROBE"

    def reset(self):
        self.page[:_PAGE.size] = _PAGE.pack(0, 0)

    def largest(self):
        """Bytes of the largest block asked of the GC since reset()."""
        return _PAGE.unpack(self.page[:_PAGE.size])[0]

    def count(self):
        """Allocations since reset() (0 means the probe is not attached)."""
        return _PAGE.unpack(self.page[:_PAGE.size])[1]
