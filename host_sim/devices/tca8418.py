"""TCA8418 keypad scan controller model (TI SCPS215), on I2C at 0x34.

The register file, the 10-event key FIFO with KEY_LCK_EC count, INT_STAT
write-1-to-clear, CFG with auto-increment, and the active-low INT line that
stays asserted while K_INT (or OVR_FLOW_INT) is set and enabled.  Keys are
pressed by name on the POS keypad matrix (the same map as the firmware's
driver, checked by a test).
"""
import threading
import time

from host_sim.devices.base import DeviceError, I2cDevice

CFG, INT_STAT, KEY_LCK_EC, KEY_EVENT_A = 0x01, 0x02, 0x03, 0x04
KP_GPIO1, KP_GPIO2, KP_GPIO3 = 0x1D, 0x1E, 0x1F
K_INT, OVR_FLOW_INT = 0x01, 0x08
KE_IEN, OVR_FLOW_IEN, AI, OVR_FLOW_M = 0x01, 0x08, 0x80, 0x20
FIFO_DEPTH = 10

KEYS = {
    "F1": 1, "F2": 2, "F3": 3, "F4": 4, "MENU": 5,
    "1": 11, "2": 12, "3": 13, "UP": 14, "CANCEL": 15,
    "4": 21, "5": 22, "6": 23, "DOWN": 24, "CLEAR": 25,
    "7": 31, "8": 32, "9": 33, ".": 34, "ENTER": 35,
    "00": 41, "0": 42,
}


class TCA8418(I2cDevice):
    kind = "tca8418"
    address = 0x34
    FAULTS = ("nak", "stuck_key")

    def __init__(self, name="keypad"):
        super().__init__(name)
        self._taken = threading.Condition(self.lock)   # the host serviced the key interrupt
        self.power_on_reset()

    def power_on_reset(self):
        with self.lock:
            self.regs = bytearray(0x2F)
            self.fifo = []
            self.ptr = 0
            self.held = set()
            self.presses = []          # log of key names pressed (for tests)
            self._int_level = None     # driven below: a board that saw INT low before the reset sees it high
            self._queued = 0           # key events put in the FIFO so far
            self._serviced = 0         # ... of which the host had finished reading at its last check
            self._taken.notify_all()
        self._update_int()

    # ------------------------------------------------------------- bus
    def i2c_write(self, data):
        if self.faults.get("nak"):
            return False
        with self.lock:
            if not data:
                return True
            self.ptr = data[0]
            for b in data[1:]:
                self._write_reg(self.ptr, b)
                if self.regs[CFG] & AI:
                    self.ptr += 1
        self._update_int()
        return True

    def i2c_read(self, n):
        if self.faults.get("nak"):
            return None
        out = bytearray()
        with self.lock:
            for _ in range(n):
                out.append(self._read_reg(self.ptr))
                if self.regs[CFG] & AI and self.ptr != KEY_EVENT_A:
                    self.ptr += 1
        self._update_int()
        return bytes(out)

    def _write_reg(self, reg, value):
        if reg == INT_STAT:
            self.regs[INT_STAT] &= ~value & 0xFF      # write 1 to clear
            if self.fifo:                             # events left: K_INT comes back
                self.regs[INT_STAT] |= K_INT
        elif reg == KEY_LCK_EC:
            self.regs[reg] = (self.regs[reg] & 0x0F) | (value & 0x70)
        elif KEY_EVENT_A <= reg <= KEY_EVENT_A + 9:
            pass                                      # read-only
        elif reg < len(self.regs):
            self.regs[reg] = value

    def _read_reg(self, reg):
        if reg == KEY_LCK_EC:
            if not self.fifo and not self.regs[INT_STAT] & K_INT:
                # the end of the service routine: events read, K_INT cleared, count read back 0
                self._serviced = self._queued
                self._taken.notify_all()
            return (self.regs[reg] & 0x70) | len(self.fifo)
        if reg == KEY_EVENT_A:
            return self.fifo.pop(0) if self.fifo else 0
        if KEY_EVENT_A < reg <= KEY_EVENT_A + 9:
            i = reg - KEY_EVENT_A
            return self.fifo[i] if i < len(self.fifo) else 0
        return self.regs[reg] if reg < len(self.regs) else 0

    # ------------------------------------------------------------- keys
    def _scanned(self, code):
        """Is the key's row and column configured as keypad scan lines?"""
        row, col = (code - 1) // 10, (code - 1) % 10
        cols = self.regs[KP_GPIO2] | (self.regs[KP_GPIO3] << 8)
        return bool(self.regs[KP_GPIO1] & (1 << row)) and bool(cols & (1 << col))

    def _event(self, code, pressed):
        with self.lock:
            if not self._scanned(code):
                return False
            if len(self.fifo) >= FIFO_DEPTH:
                self.regs[INT_STAT] |= OVR_FLOW_INT
                if self.regs[CFG] & OVR_FLOW_M:       # overflow mode: newest replaces oldest
                    self.fifo.pop(0)
                else:
                    return False
            self.fifo.append(code | (0x80 if pressed else 0))
            self._queued += 1
            self.regs[INT_STAT] |= K_INT
        self._update_int()
        return True

    def press(self, key):
        code = self._code(key)
        self.held.add(key)
        self.presses.append(key)
        self.emit(event="key", key=key, pressed=True)
        return self._event(code, True)

    def release(self, key):
        code = self._code(key)
        self.held.discard(key)
        return self._event(code, False)

    def tap(self, key, hold=0.0):
        ok = self.press(key)
        if hold:
            time.sleep(hold)
        self.release(key)
        return ok

    def wait_taken(self, timeout=30):
        """Wait until the host has serviced the key interrupt for every event so far: it read
        the FIFO empty, cleared K_INT in INT_STAT and read the event count back as 0 (the
        datasheet's service routine; a key pressed before that last check would be read in
        the same batch).  Returns False if it has not after `timeout` seconds."""
        with self._taken:
            return self._taken.wait_for(lambda: self._serviced == self._queued, timeout)

    def type(self, keys, timeout=30):
        """Tap a sequence of keys (a list, or a string of digits), each once the firmware has
        taken the one before (wait_taken: one key per interrupt, never more keys than the FIFO
        holds).  DeviceError if a key is not taken within `timeout` s."""
        for k in keys:
            self.tap(k)
            if not self.wait_taken(timeout):
                raise DeviceError("keypad: key %r not read by the firmware within %ss (%d events "
                                  "in the FIFO)" % (k, timeout, len(self.fifo)))

    @staticmethod
    def _code(key):
        try:
            return KEYS[str(key).upper()]
        except KeyError:
            raise DeviceError("no key %r on the keypad (keys: %s)" % (key, " ".join(KEYS)))

    def _update_int(self):
        # INT is driven under the model lock so that two threads (bridge and a
        # key press) cannot deliver levels out of order (docs/adding-a-device.md)
        with self.lock:
            stat, cfg = self.regs[INT_STAT], self.regs[CFG]
            asserted = (stat & K_INT and cfg & KE_IEN) or (stat & OVR_FLOW_INT and cfg & OVR_FLOW_IEN)
            level = 0 if asserted else 1
            if level != self._int_level:
                self._int_level = level
                self.set_pin("int", level)

    def service_state(self):
        """The interrupt's bookkeeping, for an error message: events queued and serviced, the
        FIFO, INT_STAT, CFG and the INT line's level."""
        with self.lock:
            return "queued %d, serviced %d, fifo %s, INT_STAT 0x%02x, CFG 0x%02x, INT %s" % (
                self._queued, self._serviced, [hex(e) for e in self.fifo], self.regs[INT_STAT],
                self.regs[CFG], "high" if self._int_level else "low (asserted)")

    def status(self):
        st = super().status()
        st.update(fifo=len(self.fifo), int=self._int_level, held=sorted(self.held))
        return st
