"""The four contactless status LEDs (GPIO, active high), with a timed log.

The log lets tests check EMV Contactless Book A indications (which LEDs, in
which order, for how long)."""
import time

from host_sim.devices.base import Device


class StatusLEDs(Device):
    kind = "leds"
    ROLES = ("led1", "led2", "led3", "led4")

    def __init__(self, name="leds"):
        super().__init__(name)
        self.power_on_reset()

    def power_on_reset(self):
        with self.lock:
            self.state = [0, 0, 0, 0]
            self.log = []             # (monotonic time, (l1, l2, l3, l4))

    def pin_changed(self, role, value):
        super().pin_changed(role, value)
        if role in self.ROLES:
            with self.lock:
                i = self.ROLES.index(role)
                if self.state[i] != (1 if value else 0):
                    self.state[i] = 1 if value else 0
                    self.log.append((time.monotonic(), tuple(self.state)))
            self.emit(event="leds", leds=list(self.state))

    def sequence(self):
        """The distinct LED patterns in order, e.g. [(1,0,0,0), (1,1,0,0), …]."""
        with self.lock:
            return [s for _, s in self.log]

    def status(self):
        st = super().status()
        st["leds"] = list(self.state)
        return st
