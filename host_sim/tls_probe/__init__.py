"""What a TLS connection costs a board's heap, measured on the unix port.

On the MicroPython unix port mbedTLS takes its memory from the C library (calloc/free); on a
board (MICROPY_MBEDTLS_CONFIG_BARE_METAL) the same requests go to the GC heap through
m_tracked_calloc.  This probe (probe.c, a small shared object loaded into the MicroPython
process with LD_PRELOAD) counts the calloc requests made from the port's code and their frees,
in a page shared with the host: live bytes, peak, largest block, number of requests.  The
firmware and the heap are untouched.

    probe = TlsProbe()
    host_sim.mpy.run(code, heap="192K", env=probe.env())
    probe.figures()      # {"live": ..., "peak": ..., "largest": ..., "count": ...}
"""
import os
import struct

from host_sim.preload import PreloadProbe, ProbeError  # noqa: F401 (ProbeError: the probe's error)

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.c")
_PAGE = struct.Struct("<QQQQ")          # live, peak, largest, count


class TlsProbe(PreloadProbe):
    SRC, NAME, LABEL, ENV = _SRC, "tlsprobe", "TLS heap probe", "SMARTPOS_TLS_PROBE"

    def reset(self):
        self.page[:_PAGE.size] = _PAGE.pack(0, 0, 0, 0)

    def figures(self):
        live, peak, largest, count = _PAGE.unpack(self.page[:_PAGE.size])
        return {"live": live, "peak": peak, "largest": largest, "count": count}
