"""Piezo buzzer on a PWM pin: records tones (frequency, duration)."""
import time

from host_sim.devices.base import Device


class Buzzer(Device):
    kind = "buzzer"

    def __init__(self, name="buzzer"):
        super().__init__(name)
        self.power_on_reset()

    def power_on_reset(self):
        with self.lock:
            self.tones = []           # (freq Hz, seconds)
            self._on = None           # (freq, start time)

    @property
    def sounding(self):
        return self._on is not None

    def pwm_changed(self, role, freq, duty_u16):
        super().pwm_changed(role, freq, duty_u16)
        now = time.monotonic()
        with self.lock:
            if self._on is not None and (duty_u16 == 0 or freq != self._on[0]):
                self.tones.append((self._on[0], now - self._on[1]))
                self._on = None
            if duty_u16 and freq and self._on is None:
                self._on = (freq, now)
        self.emit(event="buzzer", sounding=self.sounding)

    def status(self):
        st = super().status()
        st["sounding"] = self.sounding
        return st
