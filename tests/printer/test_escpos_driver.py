"""The firmware ESC/POS driver on real MicroPython, its bytes rendered by the model."""
import binascii

from host_sim import mpy
from host_sim.devices.escpos import EscPosPrinter

# A UART stand-in that records what the driver writes (test code, not firmware).
RECORDER = """
class RecUART:
    def __init__(self):
        self.out = bytearray()
    def write(self, b):
        self.out.extend(b)
        return len(b)
    def any(self):
        return 0
    def readinto(self, buf):
        return 0
"""


def run_driver(body):
    code = RECORDER + """
from pos.drivers.escpos import *
u = RecUART()
p = EscPos(u)
""" + body + """
import binascii
print(binascii.hexlify(u.out).decode())
"""
    out = mpy.run(code).strip().splitlines()[-1]
    return binascii.unhexlify(out)


def test_receipt_bytes_render():
    wire = run_driver("""
p.init()
p.align(ALIGN_CENTER); p.double(); p.line("SMART MART"); p.normal()
p.align(ALIGN_LEFT)
p.columns("Coffee", "3.50")
p.bold(); p.columns("TOTAL", "USD 3.50"); p.bold(False)
p.barcode("INV000123")
p.qr("TXN:000123")
p.kick_drawer()
p.cut()
""")
    assert wire.startswith(b"\x1b@\x1bt\x00")
    pr = EscPosPrinter()
    pr.uart_rx(wire)
    assert pr.unknown == []
    lines = pr.transcript().split("\n")
    assert lines[:3] == ["      SMART MART",
                         "Coffee                      3.50",
                         "TOTAL                   USD 3.50"]
    assert "[BARCODE CODE128 INV000123]" in lines
    assert "[QR TXN:000123]" in lines
    assert lines[-1] == "[CUT]"
    assert pr.drawer_kicks == [(0, 100, 100)]


def test_qr_store_length_and_ec_level():
    wire = run_driver('p.qr("A" * 300, module=5, ec=QR_EC_Q)')
    # fn 180 store: pL pH = len + 3 little-endian
    n = 303
    assert bytes([0x1D, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, 0x50, 0x30]) + b"A" * 300 in wire
    assert b"\x1d(k\x03\x001E2" in wire      # error correction Q (50)
    assert b"\x1d(k\x03\x001C\x05" in wire   # module size 5


def test_raster_size_checked():
    out = mpy.run(RECORDER + """
from pos.drivers.escpos import EscPos
p = EscPos(RecUART())
try:
    p.raster(b"\\x00" * 3, 16, 2)
except ValueError as e:
    print("ValueError:", e)
""")
    assert "ValueError: raster is 3 bytes, expected 4 for 16x2" in out


def test_status_not_answering_is_clear_error():
    out = mpy.run(RECORDER + """
from pos.drivers.escpos import EscPos, PrinterOffline
p = EscPos(RecUART())
try:
    p.status()
except PrinterOffline as e:
    print("offline:", e)
""")
    assert "offline: printer not answering: check its cable and power" in out


def test_status_asks_three_times_before_the_printer_counts_as_not_answering():
    out = mpy.run(RECORDER + """
from pos.drivers.escpos import EscPos, PrinterOffline
u = RecUART()
try:
    EscPos(u).status()
except PrinterOffline:
    pass
print(bytes(u.out).count(b"\\x10\\x04\\x01"))
""")
    assert out.strip().splitlines()[-1] == "3"


def test_a_lost_status_answer_is_asked_again_and_the_receipt_goes_ahead():
    # the first DLE EOT of each kind goes unanswered (a byte lost on the line), the second is
    # answered: the printer is ready, not offline
    out = mpy.run("""
class FlakyUART:
    def __init__(self):
        self.out = bytearray()
        self.asked = {}
        self.reply = None
    def write(self, b):
        self.out.extend(b)
        if len(b) == 3 and b[0] == 0x10 and b[1] == 0x04:
            n = self.asked[b[2]] = self.asked.get(b[2], 0) + 1
            self.reply = 0x12 if n > 1 else None       # the answer of a printer online, paper in
        return len(b)
    def any(self):
        return 0
    def readinto(self, buf):
        if self.reply is None:
            return 0
        buf[0] = self.reply
        self.reply = None
        return 1
from pos.drivers.escpos import EscPos
u = FlakyUART()
st = EscPos(u).check_ready()
print(st.online, st.paper_out, sorted(u.asked.items()))
""")
    assert out.strip().splitlines()[-1] == "True False [(1, 2), (2, 2), (4, 2)]"
