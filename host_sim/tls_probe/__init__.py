"""What a TLS connection costs a board's heap, measured on the unix port.

On the MicroPython unix port mbedTLS takes its memory from the C library (calloc/free); on a
board (MICROPY_MBEDTLS_CONFIG_BARE_METAL) the same requests go to the GC heap through
m_tracked_calloc.  This probe (probe.c, a small shared object loaded into the MicroPython
process with LD_PRELOAD) counts the calloc requests made from the port's code and their frees,
in a page shared with the host: live bytes, peak, largest block, number of requests.  The
firmware and the heap are untouched.

    probe = TlsProbe()
    host_sim.mpy.run(code, heap="192K", env=probe.env())
    probe.figures()      # {"live": ..., "peak": ..., "largest": ..., "count": ..., "failed": ...}

With ``TlsProbe(on_heap=True)`` the probe also serves those requests from the GC heap, as a
board's m_tracked_calloc does, so the heap pays for TLS as a board's does.
"""
import os
import struct

from host_sim.preload import PreloadProbe, ProbeError  # noqa: F401 (ProbeError: the probe's error)

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.c")
_PAGE = struct.Struct("<QQQQQ")         # live, peak, largest, count, failed


class TlsProbe(PreloadProbe):
    """`on_heap=True`: mbedTLS's memory comes from the board's GC heap, as on a board."""
    SRC, NAME, LABEL, ENV = _SRC, "tlsprobe", "TLS heap probe", "SMARTPOS_TLS_PROBE"

    def __init__(self, on_heap=False):
        super().__init__()
        self.on_heap = on_heap

    def env(self):
        env = super().env()
        if self.on_heap:
            env["SMARTPOS_TLS_ON_HEAP"] = "1"
        return env

    def reset(self):
        self.page[:_PAGE.size] = _PAGE.pack(0, 0, 0, 0, 0)

    def figures(self):
        live, peak, largest, count, failed = _PAGE.unpack(self.page[:_PAGE.size])
        return {"live": live, "peak": peak, "largest": largest, "count": count, "failed": failed}
