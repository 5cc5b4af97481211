"""A 32-bit MicroPython for the bench's heap figures: MicroPython's WebAssembly port (npm
``@micropython/micropython-webassembly-pyscript``), run by Node.js.  Its objects are 4-byte words
and its small integers 31 bits, those of the board's Cortex-M4, where the unix port on the PC is
64-bit; it has no ``socket`` or ``ssl``, so it measures what a workload allocates and what its
modules cost to import, not anything that talks to a device or host.

``make bench`` installs the package into ``build/mp-wasm`` when npm is there
(``SMARTPOS_MP_WASM`` names another ``micropython.mjs``); without it the 32-bit rows say so.
"""
import os
import re
import shutil
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PACKAGE = "@micropython/micropython-webassembly-pyscript"
VERSION = "1.29.0-6"          # the MicroPython the unix port wheel is (v1.29), .mpy v6.3
INSTALL_DIR = os.path.join(REPO, "build", "mp-wasm")
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "port32.mjs")


class Port32Error(Exception):
    """The 32-bit port ran the script and it failed."""


def entry():
    """micropython.mjs of the WebAssembly port, or None when it (or Node.js) is not installed."""
    if shutil.which("node") is None:
        return None
    path = os.environ.get("SMARTPOS_MP_WASM") or os.path.join(
        INSTALL_DIR, "node_modules", *PACKAGE.split("/"), "micropython.mjs")
    return path if os.path.exists(path) else None


def missing_reason():
    if shutil.which("node") is None:
        return "Node.js not installed (apt install nodejs npm)"
    return "%s not installed (make bench installs it with npm into build/mp-wasm)" % PACKAGE


def run(code, module_dir, heap=16 * 1024 * 1024, timeout=300):
    """Run `code` on the 32-bit port with `module_dir` first on its module path; its stdout."""
    mjs = entry()
    if mjs is None:
        raise Port32Error(missing_reason())
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    try:
        r = subprocess.run(["node", DRIVER, mjs, module_dir, f.name, str(heap)],
                           capture_output=True, text=True, timeout=timeout)
    finally:
        os.unlink(f.name)
    if r.returncode:
        raise Port32Error("the 32-bit port failed: %s" % (r.stderr or r.stdout)[-600:])
    return r.stdout


def figure(code, module_dir, heap=16 * 1024 * 1024):
    """The integer a probe script printed after '@@ ' on the 32-bit port."""
    out = run(code, module_dir, heap)
    m = re.search(r"@@ (-?\d+)", out)
    if not m:
        raise Port32Error("the 32-bit probe printed no figure: %s" % out[-300:])
    return int(m.group(1))


def install(quiet=True):
    """npm install the port into build/mp-wasm; the path of its micropython.mjs, or None with
    the reason printed when npm is missing or the registry cannot be reached."""
    if entry() is not None:
        return entry()
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("32-bit port: %s" % missing_reason())
        return None
    os.makedirs(INSTALL_DIR, exist_ok=True)
    cmd = ["npm", "install", "--prefix", INSTALL_DIR, "--no-audit", "--no-fund", "--no-save",
           "%s@%s" % (PACKAGE, VERSION)]
    if quiet:
        cmd.insert(2, "--silent")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode or entry() is None:
        print("32-bit port: npm install %s@%s failed: %s" % (PACKAGE, VERSION, (r.stderr or r.stdout)[-400:]))
        return None
    return entry()


if __name__ == "__main__":
    import sys
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m smartpos.benches.port32 install")
    print("32-bit port: %s" % (install() or "not installed"))
