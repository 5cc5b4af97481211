"""Run host-link firmware code on real MicroPython (192 KB heap), firmware as .mpy."""
import json

from host_sim import mpy
from host_sim.hosts.acquirer.terminal import PRELUDE, module_path  # noqa: F401


def run(code, heap=mpy.DEFAULT_HEAP, cwd=None, timeout=120, check=True):
    """Firmware as .mpy (as flashed)."""
    return mpy.run(PRELUDE + code, heap=heap, cwd=cwd, timeout=timeout, check=check,
                   env={"MICROPYPATH": module_path()})


def run_json(code, **kw):
    """Run `code` that prints one JSON line prefixed with '@@'; return the parsed object."""
    out = run(code, **kw)
    for line in out.splitlines():
        if line.startswith("@@"):
            return json.loads(line[2:])
    raise AssertionError("no @@ line in MicroPython output:\n" + out)
