"""The C core against the pure-MicroPython firmware crypto, measured in one run.

For each operation: microseconds per call of the C core through cffi (CPython), of the pure
MicroPython fallback on the unix port (the virtual board's CPU, 192K heap), and of the C
core inside MicroPython (`_posnative`) when a unix port built with it is found
($SMARTPOS_MICROPYTHON_NATIVE or native/build/micropython-smartpos: the unix port built
with the user C module as docs/native.md describes).  The ratio is pure / C: how much the
board gains by building the module in.
Instruction counts on an emulated Cortex-M4 come from `make native-arm`.
"""
import json
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

_RECORD = bytes.fromhex("7081F7") + b"".join(bytes([0x9F, 0x10 + (i % 0x20), 10]) + bytes([i]) * 10
                                            for i in range(19)) + bytes(4)
_KEY16 = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
_MSG = bytes(range(256))


def _rsa_case():
    from cryptography.hazmat.primitives.asymmetric import rsa
    k = rsa.generate_private_key(public_exponent=3, key_size=1984)
    n = k.public_key().public_numbers().n
    return n.to_bytes(248, "big"), (n // 3).to_bytes(248, "big")


_MP = r"""
import time, json
from pos import crypto
from pos.emv import tlv
R = bytes.fromhex(%(rec)r); K = bytes.fromhex(%(key)r); M = bytes.fromhex(%(msg)r)
N = bytes.fromhex(%(mod)r); X = bytes.fromhex(%(x)r)
def t(f, n):
    f()
    t0 = time.ticks_us()
    for _ in range(n):
        f()
    return time.ticks_diff(time.ticks_us(), t0) / n
def parse():
    for _ in tlv.tlv_iter(R[3:]):
        pass
    tlv.tlv_find(R, 0x9F2F)
out = {"tlv": t(parse, 200), "3des": t(lambda: crypto.des_encrypt(K, M[:8]), 200),
       "mac": t(lambda: crypto.mac_iso9797_1(K, M, 3, 2), 50),
       "rsa": t(lambda: crypto.rsa_public(N, b"\x03", X), 10)}
print(json.dumps(out))
"""


def _cffi_times(mod, x):
    import posnative as n

    def t(f, k):
        f()
        t0 = time.perf_counter()
        for _ in range(k):
            f()
        return (time.perf_counter() - t0) / k * 1e6

    def parse():
        n.tlv_iter(_RECORD[3:])
        n.tlv_find(_RECORD, 0x9F2F)
    return {"tlv": t(parse, 2000), "3des": t(lambda: n.des_encrypt(_KEY16, _MSG[:8]), 2000),
            "mac": t(lambda: n.mac_iso9797_1(_KEY16, _MSG, 3, 2), 500),
            "rsa": t(lambda: n.rsa_public(mod, b"\x03", x), 100)}


def _mp_times(binary, mod, x, extra_env=None):
    from host_sim import mpy
    code = _MP % {"rec": _RECORD.hex(), "key": _KEY16.hex(), "msg": _MSG.hex(), "mod": mod.hex(), "x": x.hex()}
    if binary is None:
        out = mpy.run(code, heap="192K", timeout=300)
    else:
        env = dict(os.environ, MICROPYPATH=".frozen:" + os.path.join(REPO, "firmware"))
        out = subprocess.run([binary, "-X", "heapsize=192K", "-c", code], capture_output=True, text=True,
                             timeout=300, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def run():
    mod, x = _rsa_case()
    rows = []
    try:
        c = _cffi_times(mod, x)
    except ImportError:
        return [("posnative (cffi)", "not built: pip install -e . builds it", "")]
    p = _mp_times(None, mod, x)
    names = {"tlv": "TLV: iterate + find in a 250-byte READ RECORD response",
             "3des": "3DES: one block (2-key)", "mac": "retail MAC (alg 3, pad 2) over 256 bytes",
             "rsa": "RSA public op, 1984-bit modulus, e=3"}
    native_mp = os.environ.get("SMARTPOS_MICROPYTHON_NATIVE") or os.path.join(REPO, "native", "build",
                                                                               "micropython-smartpos")
    nm = _mp_times(native_mp, mod, x) if os.path.exists(native_mp) else None
    for k, label in names.items():
        rows.append(("%s: C via cffi" % label, round(c[k], 2), "us"))
        rows.append(("%s: pure MicroPython (unix port)" % label, round(p[k], 1), "us"))
        rows.append(("%s: ratio pure / C" % label, round(p[k] / c[k], 1), "x"))
        if nm:
            rows.append(("%s: _posnative in MicroPython" % label, round(nm[k], 2), "us"))
    return rows


BENCHES = {"native": run}
