"""Run code on the real MicroPython unix port (the virtual board's CPU).

Used by tests and benches that exercise firmware modules directly, without a
whole virtual board: the firmware tree is on the module path and the heap is
limited to the reference board's (192 KB) unless told otherwise.
"""
import os
import subprocess

from posbuild.toolchain import FIRMWARE_DIR, REPO_ROOT, micropython_binary  # noqa: F401 (mpy.REPO_ROOT, mpy.micropython_binary)

DEFAULT_HEAP = "192K"   # NUCLEO-F429ZI


class MicroPythonError(RuntimeError):
    """The code raised on MicroPython (message carries its traceback)."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        tail = (stderr or stdout).strip().splitlines()[-12:]
        super().__init__("micropython exited %d:\n%s" % (returncode, "\n".join(tail)))


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
