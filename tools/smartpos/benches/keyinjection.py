"""Key injection benches, measured in the run that prints them.

tr31-unwrap   time to authenticate and open one TR-31 block on MicroPython (unix port,
              192 KB heap, pos.crypto pure unless the binary has _posnative): version B
              under a 2-key TDES KBPK, version D under an AES-256 KBPK (blocks made by
              cloud.tms.keys with psec); heap the firmware keeps afterwards (modules from
              source, tables, caches; after a collection)
"""
import warnings

MP_BENCH = """
import gc, time
gc.collect()
base = gc.mem_alloc()
from pos.tms import tr31
N = %(n)d
out = []
for kbpk, alg, block in %(cases)r:
    kbpk = bytes.fromhex(kbpk)
    tr31.unwrap(kbpk, block, alg)
    t0 = time.ticks_us()
    for i in range(N):
        tr31.unwrap(kbpk, block, alg)
    out.append(time.ticks_diff(time.ticks_us(), t0) / N)
gc.collect()
print("@@", out[0], out[1], gc.mem_alloc() - base)
"""


def tr31_unwrap(n=50):
    from cloud.tms import keys
    from host_sim import mpy
    warnings.filterwarnings("ignore", module="psec")
    t = keys.kek_from_hex("0123456789ABCDEFFEDCBA9876543210", "T")
    a = keys.generate_kek("A")
    cases = [(t.key.hex(), "T", keys.wrap_working_key(t, "pin", keys.generate_working_key("pin"), 1)),
             (a.key.hex(), "A", keys.wrap_working_key(a, "pin", keys.generate_working_key("pin", "A", 16), 1,
                                                      algorithm="A"))]
    out = mpy.run(MP_BENCH % {"n": n, "cases": cases})
    b_us, d_us, kept = [l for l in out.splitlines() if l.startswith("@@")][0].split()[1:]
    return [("unwrap version B (2-key TDES KBPK), per block", round(float(b_us) / 1000, 2), "ms"),
            ("unwrap version D (AES-256 KBPK), per block", round(float(d_us) / 1000, 2), "ms"),
            ("heap kept after import and unwraps", int(kept), "bytes")]


BENCHES = {"tr31-unwrap": tr31_unwrap}
