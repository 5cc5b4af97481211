"""The collection threshold (pos.collector.often) on MicroPython: on at boot and between
kernels (a collection after every THRESHOLD bytes allocated, so the free heap stays in large
pieces: docs/offline.md, "Memory"), off while a payment kernel or the QR encoder computes, and
a collection when it comes back on."""
from host_sim import mpy

CODE = r"""
import gc
from pos import collector
collector.often(True)
print("on", gc.threshold())
junk = [bytearray(100) for _ in range(50)]
junk = None
before = gc.mem_free()
collector.often(False)
print("off", gc.threshold())
junk = [bytearray(100) for _ in range(50)]
junk = None
collector.often(True)
print("back", gc.threshold(), gc.mem_free() >= before, collector.THRESHOLD)
try:
    with collector.HeldOff():
        print("held", gc.threshold())
        raise ValueError("kernel failed")
except ValueError:
    pass
print("after", gc.threshold())
"""


def test_the_threshold_is_on_off_while_computing_and_back_with_a_collection():
    out = dict(ln.split(" ", 1) for ln in mpy.run(CODE).strip().splitlines())
    assert out["on"] == "16384"
    assert out["off"] == "-1"
    assert out["back"] == "16384 True 16384"
    assert out["held"] == "-1" and out["after"] == "16384"      # back on when the kernel raised
