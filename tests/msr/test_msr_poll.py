"""Driver poll() on real MicroPython with a fake UART: oversize input -> MsrError('overflow')
and the next frame still read; garbage without STX ignored; a half swipe followed by a full
one: the half frame is dropped and the full one read."""
from host_sim import mpy
from host_sim.devices import msr as model

CODE = r"""
from pos.drivers import msr
class U:
    def __init__(self, d): self.d = bytearray(d)
    def any(self): return len(self.d)
    def read(self, n):
        b = bytes(self.d[:n]); self.d = self.d[n:]; return b
def run(hx):
    r = msr.MagstripeReader(U(bytes.fromhex(hx)))
    out = []
    for _ in range(4):
        try:
            s = r.poll()
            out.append(repr(s))
        except msr.MsrError as e:
            out.append("%%s:%%s" %% (e.reason, e))
    print(" | ".join(out))
for hx in %r:
    run(hx)
"""


def _good():
    m = model.MagstripeReader()
    m.connect_uart(lambda b: None)
    return m.swipe(card={"pan": "4761739001010119", "expiry": "2812", "service_code": "101"})


def _half():
    m = model.MagstripeReader()
    m.inject("half")
    m.connect_uart(lambda b: None)
    return m.swipe(card={"pan": "4761739001010119", "expiry": "2812", "service_code": "101"})


def test_poll_oversize_garbage_half():
    oversize = b"\x02" + b"1" * 300
    cases = [(oversize + _good()).hex(), (b"\xff\x00garbage" + _good()).hex(), (_half() + _good()).hex()]
    out = mpy.run(CODE % cases, heap="192K").strip().splitlines()
    ok = "Swipe(tracks=[1, 2], errors={})"
    assert out[0].split(" | ")[:2] == ["overflow:swipe data longer than 256 bytes", ok], out[0]
    assert out[1].split(" | ")[0] == ok
    assert out[2].split(" | ") == [ok, "None", "None", "None"], out[2]   # half swipe dropped
    assert "4761739001010119" not in "\n".join(out)
