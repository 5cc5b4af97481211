"""Run host-link firmware code on real MicroPython (192 KB heap).

The prelude installs the TEST stand-ins for pos.crypto / pos.emv.tlv only when
the firmware lacks them (see standin/README.md)."""
import json
import os

from host_sim import mpy

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin")

PRELUDE = """
import sys
def _standin(full, modname):
    try:
        __import__(full)
    except ImportError:
        mod = __import__(modname)
        sys.modules[full] = mod
        parts = full.split(".")
        parent = __import__(parts[0])
        for p in parts[1:-1]:
            parent = getattr(parent, p)
        setattr(parent, parts[-1], mod)
_standin("pos.crypto", "hl_standin_crypto")
_standin("pos.emv.tlv", "hl_standin_tlv")
"""


def run(code, heap=mpy.DEFAULT_HEAP, cwd=None, timeout=120, check=True):
    return mpy.run(PRELUDE + code, heap=heap, extra_path=(STANDIN,), cwd=cwd, timeout=timeout,
                   check=check)


def run_json(code, **kw):
    """Run `code` that prints one JSON line prefixed with '@@'; return the parsed object."""
    out = run(code, **kw)
    for line in out.splitlines():
        if line.startswith("@@"):
            return json.loads(line[2:])
    raise AssertionError("no @@ line in MicroPython output:\n" + out)
