# TCA8418 I2C keypad scan controller (TI datasheet SCPS215, 8.6 register map).
#
# The controller scans the key matrix itself and queues up to 10 key events
# in a FIFO; it pulls INT low while events are pending.  The driver reads
# the FIFO when INT falls (or when polled), then clears K_INT.  Key numbers
# are row * 10 + column + 1 (datasheet 8.3.1.3); bit 7 of an event is 1 for
# a press and 0 for a release.
from micropython import const

_CFG = const(0x01)
_INT_STAT = const(0x02)
_KEY_LCK_EC = const(0x03)
_KEY_EVENT_A = const(0x04)
_KP_GPIO1 = const(0x1D)
_KP_GPIO2 = const(0x1E)
_KP_GPIO3 = const(0x1F)

# CFG bits
_CFG_AI = const(0x80)
_CFG_OVR_FLOW_IEN = const(0x08)
_CFG_KE_IEN = const(0x01)
# INT_STAT bits
_K_INT = const(0x01)
_OVR_FLOW_INT = const(0x08)

ROWS = const(5)
COLS = const(5)

# The POS keypad's matrix: (row, column) -> key name.
KEYMAP = {
    1: "F1", 2: "F2", 3: "F3", 4: "F4", 5: "MENU",
    11: "1", 12: "2", 13: "3", 14: "UP", 15: "CANCEL",
    21: "4", 22: "5", 23: "6", 24: "DOWN", 25: "CLEAR",
    31: "7", 32: "8", 33: "9", 34: ".", 35: "ENTER",
    41: "00", 42: "0",
}


class KeypadError(Exception):
    pass


class TCA8418:
    def __init__(self, i2c, address=0x34, int_pin=None, keymap=KEYMAP, rows=ROWS, cols=COLS):
        self.i2c = i2c
        self.address = address
        self.int_pin = int_pin
        self.keymap = keymap
        self.rows = rows
        self.cols = cols
        self._one = bytearray(1)
        self.overflows = 0

    def _write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.address, reg, self._one)

    def _read(self, reg):
        self.i2c.readfrom_mem_into(self.address, reg, self._one)
        return self._one[0]

    def init(self):
        try:
            # matrix rows and columns as keypad scan lines, the rest GPIO
            self._write(_KP_GPIO1, (1 << self.rows) - 1)
            self._write(_KP_GPIO2, ((1 << self.cols) - 1) & 0xFF)
            self._write(_KP_GPIO3, ((1 << self.cols) - 1) >> 8)
            self._write(_CFG, _CFG_AI | _CFG_OVR_FLOW_IEN | _CFG_KE_IEN)
        except OSError:
            raise KeypadError("keypad controller not answering at I2C 0x%02x: check the ribbon cable"
                              % self.address)
        self.flush()

    def pending(self):
        """Number of events waiting in the FIFO."""
        return self._read(_KEY_LCK_EC) & 0x0F

    def read_events(self):
        """Drain the FIFO: a list of (key name or None, pressed) in arrival order."""
        out = []
        n = self.pending()
        while n:
            for _ in range(n):
                ev = self._read(_KEY_EVENT_A)
                if ev == 0:
                    break
                code = ev & 0x7F
                out.append((self.keymap.get(code), bool(ev & 0x80), code))
            n = self.pending()
        stat = self._read(_INT_STAT)
        if stat & _OVR_FLOW_INT:
            self.overflows += 1
        if stat:
            self._write(_INT_STAT, stat)        # write 1 to clear (datasheet 8.6.2.2)
        # a key event that arrived between the last FIFO read and the clear keeps
        # K_INT set: take it now rather than wait for an edge that will not come
        if self.pending():
            out.extend(self.read_events())
        return out

    def flush(self):
        self.read_events()

    def irq(self, handler):
        """Call handler(pin) when INT falls (events pending)."""
        if self.int_pin is None:
            raise KeypadError("no INT pin wired: poll read_events() instead")
        self.int_pin.irq(handler, trigger=self.int_pin.IRQ_FALLING)

    def int_asserted(self):
        return self.int_pin is not None and self.int_pin.value() == 0


def from_board(board):
    from machine import I2C, Pin
    i2c = I2C(board.KEYPAD_I2C, freq=board.KEYPAD_I2C_FREQ)
    return TCA8418(i2c, board.KEYPAD_ADDR, Pin(board.KEYPAD_INT, Pin.IN, Pin.PULL_UP))
