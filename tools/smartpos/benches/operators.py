"""Operator PIN hashing (pos.app.operators) on the unix port with the board's heap.

PBKDF2-HMAC-SHA256 at the firmware's iteration count: one operator record, and a wrong PIN
checked against every operator of the shipped config/operators.json (the worst case at the
PIN prompt).  The per-iteration split into hashing (hashlib's C SHA-256, four compressions)
and the interpreter's share is what a Cortex-M4 estimate scales (docs/keys-at-rest.md).
"""
import json
import os
import shutil
import tempfile

_MP = r"""
import time, json, hashlib
from pos import crypto
from pos.app import operators
N = operators.ITERATIONS
def t(f, n):
    f()
    t0 = time.ticks_us()
    for _ in range(n):
        f()
    return time.ticks_diff(time.ticks_us(), t0) / n
rec = t(lambda: crypto.pbkdf2_hmac_sha256(b"x" * 64, b"s" * 16, N, 32), 5)
ipad = bytes(64); u = bytes(32)
def half():                    # one SHA-256 object over ipad || U: two compressions
    h = hashlib.sha256(ipad)
    h.update(u)
    h.digest()
sha = 2 * t(half, 2000)
print(json.dumps({"iterations": N, "record_us": rec, "sha_us": sha, "ops": len(operators.load())}))
"""


def _run():
    from host_sim import mpy
    flash = tempfile.mkdtemp(prefix="smartpos-bench-op-")
    try:
        os.makedirs(os.path.join(flash, "config"))
        shutil.copy(os.path.join(mpy.FIRMWARE_DIR, "config", "operators.json"), os.path.join(flash, "config"))
        out = mpy.run(_MP, cwd=flash)
    finally:
        shutil.rmtree(flash, ignore_errors=True)
    d = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
    per_it = d["record_us"] / d["iterations"]
    hash_share = d["sha_us"] / per_it
    return [("pbkdf2 iterations", d["iterations"], ""),
            ("one operator record (unix port)", round(d["record_us"] / 1000, 2), "ms"),
            ("wrong PIN, %d operators (unix port)" % d["ops"], round(d["record_us"] * d["ops"] / 1000, 2), "ms"),
            ("per iteration (unix port)", round(per_it, 2), "us"),
            ("  of which the two SHA-256 objects (4 compressions)", round(100 * min(hash_share, 1)), "%")]


BENCHES = {"operator-pin": _run}
