"""2D barcode/QR scanner module on a UART (serial/keyboard-wedge style): each decoded code
is sent as its bytes followed by CR.  scan(text) is the customer holding a code under the
window.  Faults: "noise" (garbage before the next code), "truncated" (the next code cut
short, no CR), "no_cr" (terminator missing)."""
from host_sim.devices.base import UartDevice


class Scanner2D(UartDevice):
    kind = "scanner"
    FAULTS = ("noise", "truncated", "no_cr")

    def __init__(self, name=None):
        super().__init__(name)
        self.scans = []

    def uart_rx(self, data):
        pass                                   # no host commands modelled (trigger mode: continuous)

    def scan(self, code):
        data = code.encode() if isinstance(code, str) else bytes(code)
        with self.lock:
            faults = dict(self.faults)
            for f in ("noise", "truncated", "no_cr"):
                self.faults.pop(f, None)
        out = data
        if "truncated" in faults:
            out = data[:max(1, len(data) // 2)]
        if "no_cr" not in faults and "truncated" not in faults:
            out += b"\r"
        if "noise" in faults:
            out = b"\x00\xff~\r" + out
        self.scans.append(out)
        self.emit(event="scan", length=len(data))
        self.uart_tx(out)
        return out
