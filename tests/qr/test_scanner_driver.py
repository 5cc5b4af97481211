"""The scanner driver on real MicroPython, fed the scanner model's bytes: a code whose
terminator never came is dropped, never joined to the next code (1 s of quiet line
is more than the driver's gap, GAP_MS)."""
from host_sim import mpy
from host_sim.devices.scanner import Scanner2D

# A UART whose bytes arrive in bursts: feed() is the next burst reaching the RX buffer.
_UART = """
import time
from pos.drivers import scanner
class U:
    def __init__(self): self.d = b""; self.i = 0
    def feed(self, b): self.d = self.d[self.i:] + b; self.i = 0
    def any(self): return len(self.d) - self.i
    def read(self, n):
        b = self.d[self.i:self.i + n]; self.i += n; return b
u = U()
s = scanner.Scanner(u)
def poll():
    try:
        return repr(s.poll())
    except scanner.ScannerError as e:
        return 'ScannerError ' + e.reason
"""


def _bursts(*scans):
    """The bytes the scanner model sends for each (fault, code)."""
    out = []
    for fault, code in scans:
        got = []
        m = Scanner2D()
        m.connect_uart(got.append)
        if fault:
            m.inject(fault)
        m.scan(code)
        out.append(b"".join(got))
    return out


def test_code_cut_short_is_not_joined_to_the_next_scan():
    cut, whole = _bursts(("truncated", "WALLET-OK-11"), (None, "WALLET-OK-22"))
    assert cut == b"WALLET" and whole == b"WALLET-OK-22\r"
    out = mpy.run(_UART + """
u.feed(%r)
print(poll())                       # the cut code: held, nothing yet
time.sleep_ms(1000)                # the burst is over: the line stays quiet
print(poll())
u.feed(%r)
print(poll())
""" % (cut, whole), heap="192K")
    assert out.split("\n")[:3] == ["None", "ScannerError incomplete", "'WALLET-OK-22'"]


def test_missing_terminator_then_next_code_in_a_later_burst():
    """The partial is still held when the next burst arrives (no poll in between saw the
    quiet line): the gap since its last byte still ends it."""
    first, second = _bursts(("no_cr", "WALLET-OK-33"), (None, "WALLET-OK-44"))
    out = mpy.run(_UART + """
u.feed(%r)
print(poll())
time.sleep_ms(1000)
u.feed(%r)
print(poll())
print(poll())
""" % (first, second), heap="192K")
    assert out.split("\n")[:3] == ["None", "ScannerError incomplete", "'WALLET-OK-44'"]


def test_a_code_split_across_polls_within_its_burst_is_kept():
    whole, = _bursts((None, "WALLET-OK-55"))
    out = mpy.run(_UART + """
u.feed(%r)
print(poll())
u.feed(%r)
print(poll())
""" % (whole[:5], whole[5:]), heap="192K")
    assert out.split("\n")[:2] == ["None", "'WALLET-OK-55'"]


def test_flush_drops_input_nobody_asked_for():
    stale, fresh = _bursts(("truncated", "WALLET-OK-66"), (None, "WALLET-OK-77"))
    out = mpy.run(_UART + """
u.feed(%r + b"WALLET-OK-65\\r")
s.flush()
u.feed(%r)
print(poll())
""" % (stale, fresh), heap="192K")
    assert out.split("\n")[0] == "'WALLET-OK-77'"


def test_a_code_scanned_before_the_terminal_asked_is_not_charged():
    """On the whole terminal: a code scanned at the Ready screen (nobody polls the scanner
    there) is not paid when the cashier opens SCAN CUSTOMER CODE; the next scan is."""
    from host_sim.rig import Rig
    with Rig() as rig:
        rig.home()
        rig.board.devices["scanner"].scan("WALLET-NOFUNDS-STALE")
        rig.keys(list("450") + ["ENTER"])
        rig.wait_text("3 QR")
        rig.keys(["3"])
        rig.wait_text("2 Scan customer code")
        rig.keys(["2"])
        rig.wait_text("SCAN CUSTOMER CODE")
        rig.board.devices["scanner"].scan("WALLET-OK-FRESH1")
        text = rig.wait_text("PAID BY WALLET", 20)
        assert "4.50" in text
        pays = [r for r in rig.wallet.requests if r == ("POST", "/v1/pay")]
        assert len(pays) == 1 and len(rig.wallet.payments) == 1
