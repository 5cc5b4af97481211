# The four contactless status indicators (EMV Contactless Book A, 9.2):
# LED 1 = not in use / ready (idle), LEDs 1-4 light in sequence as a card is
# read; all four (with the success tone) = card read successfully.
from micropython import const

COUNT = const(4)


class StatusLEDs:
    def __init__(self, pins):
        self.pins = pins
        for p in pins:
            p.init(p.OUT, value=0)

    def set(self, mask):
        """Light LED i+1 when bit i of mask is set."""
        for i, p in enumerate(self.pins):
            p(1 if mask & (1 << i) else 0)

    def show(self, n):
        """LEDs 1..n on, the rest off (0 = all off)."""
        self.set((1 << n) - 1)

    def idle(self):
        self.set(0x01)

    def off(self):
        self.set(0)


def from_board(board):
    from machine import Pin
    return StatusLEDs([Pin(name) for name in board.LED_PINS])
