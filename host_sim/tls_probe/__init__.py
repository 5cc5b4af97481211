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
import hashlib
import mmap
import os
import shutil
import struct
import subprocess
import tempfile

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.c")
_PAGE = struct.Struct("<QQQQ")          # live, peak, largest, count


class ProbeError(RuntimeError):
    """The probe cannot be built (no C compiler)."""


def build(cache_dir=None):
    with open(_SRC, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    cache_dir = cache_dir or os.path.join(tempfile.gettempdir(), "smartpos-tlsprobe")
    os.makedirs(cache_dir, exist_ok=True)
    out = os.path.join(cache_dir, "tlsprobe-%s.so" % digest)
    if os.path.exists(out):
        return out
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise ProbeError("no C compiler (cc) to build the TLS heap probe")
    tmp = out + ".%d.tmp" % os.getpid()
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", tmp, _SRC, "-ldl"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ProbeError("building the TLS heap probe failed:\n%s" % r.stderr)
    os.replace(tmp, out)
    return out


class TlsProbe:
    def __init__(self):
        self.lib = build()
        fd, self.path = tempfile.mkstemp(prefix="smartpos-tlsprobe-")
        os.write(fd, bytes(mmap.PAGESIZE))
        self._map = mmap.mmap(fd, mmap.PAGESIZE)
        os.close(fd)

    def env(self):
        pre = os.environ.get("LD_PRELOAD")
        return {"LD_PRELOAD": self.lib + (" " + pre if pre else ""), "SMARTPOS_TLS_PROBE": self.path}

    def reset(self):
        self._map[:_PAGE.size] = _PAGE.pack(0, 0, 0, 0)

    def figures(self):
        live, peak, largest, count = _PAGE.unpack(self._map[:_PAGE.size])
        return {"live": live, "peak": peak, "largest": largest, "count": count}

    def close(self):
        self._map.close()
        try:
            os.remove(self.path)
        except OSError:
            pass
