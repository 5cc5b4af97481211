"""Probes loaded into the board's MicroPython process with LD_PRELOAD: a small shared object
built from its C source with the machine's compiler (cached by the source's hash), which
writes its figures into a page shared with the host.  Nothing on the board changes.
host_sim.alloc_probe (the GC's largest block) and host_sim.tls_probe (mbedTLS's memory) are two.
"""
import hashlib
import mmap
import os
import shutil
import subprocess
import tempfile


class ProbeError(RuntimeError):
    """The probe cannot be built (no C compiler, or its source does not compile)."""


def build(src, name, label, cache_dir=None):
    """Path of the compiled probe `name` (rebuilt when `src` changes); `label` names it in errors."""
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    cache_dir = cache_dir or os.path.join(tempfile.gettempdir(), "smartpos-" + name)
    os.makedirs(cache_dir, exist_ok=True)
    out = os.path.join(cache_dir, "%s-%s.so" % (name, digest))
    if os.path.exists(out):
        return out
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise ProbeError("no C compiler (cc) to build the %s" % label)
    tmp = out + ".%d.tmp" % os.getpid()
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", tmp, src, "-ldl"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ProbeError("building the %s failed:\n%s" % (label, r.stderr))
    os.replace(tmp, out)
    return out


class PreloadProbe:
    """One probe's shared object and its page.  Subclasses name their source, cache name,
    label and the environment variable that tells the probe where the page is."""
    SRC = NAME = LABEL = ENV = None

    def __init__(self):
        self.lib = build(self.SRC, self.NAME, self.LABEL)
        fd, self.path = tempfile.mkstemp(prefix="smartpos-%s-" % self.NAME)
        os.write(fd, bytes(mmap.PAGESIZE))
        self.page = mmap.mmap(fd, mmap.PAGESIZE)
        os.close(fd)

    def env(self):
        """Environment for the board's CPU process."""
        pre = os.environ.get("LD_PRELOAD")
        return {"LD_PRELOAD": self.lib + (" " + pre if pre else ""), self.ENV: self.path}

    def close(self):
        self.page.close()
        try:
            os.remove(self.path)
        except OSError:
            pass
