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
import hashlib
import mmap
import os
import shutil
import struct
import subprocess
import tempfile

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.c")
_PAGE = struct.Struct("<QQ")           # largest, count


class ProbeError(RuntimeError):
    """The probe cannot be built (no C compiler) or did not attach to the board process."""


def build(cache_dir=None):
    """Path of the compiled probe (rebuilt when probe.c changes)."""
    with open(_SRC, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    cache_dir = cache_dir or os.path.join(tempfile.gettempdir(), "smartpos-allocprobe")
    os.makedirs(cache_dir, exist_ok=True)
    out = os.path.join(cache_dir, "allocprobe-%s.so" % digest)
    if os.path.exists(out):
        return out
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise ProbeError("no C compiler (cc) to build the allocation probe")
    tmp = out + ".%d.tmp" % os.getpid()
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", tmp, _SRC, "-ldl"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ProbeError("building the allocation probe failed:\n%s" % r.stderr)
    os.replace(tmp, out)
    return out


class AllocProbe:
    def __init__(self):
        self.lib = build()
        fd, self.path = tempfile.mkstemp(prefix="smartpos-allocprobe-")
        os.write(fd, bytes(mmap.PAGESIZE))
        self._map = mmap.mmap(fd, mmap.PAGESIZE)
        os.close(fd)

    def env(self):
        """Environment for the board's CPU process."""
        pre = os.environ.get("LD_PRELOAD")
        return {"LD_PRELOAD": self.lib + (" " + pre if pre else ""), "SMARTPOS_ALLOC_PROBE": self.path}

    def reset(self):
        self._map[:_PAGE.size] = _PAGE.pack(0, 0)

    def largest(self):
        """Bytes of the largest block asked of the GC since reset()."""
        return _PAGE.unpack(self._map[:_PAGE.size])[0]

    def count(self):
        """Allocations since reset() (0 means the probe is not attached)."""
        return _PAGE.unpack(self._map[:_PAGE.size])[1]

    def close(self):
        self._map.close()
        try:
            os.remove(self.path)
        except OSError:
            pass
