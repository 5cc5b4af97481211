# Modal screens for the middle of a card transaction.
#
# The EMV kernel is synchronous: it calls ui.enter_pin() / choose_application()
# / message() while it owns the card, so these screens draw directly and poll
# the keypad themselves until the cardholder answers (the asyncio loop waits,
# as a real terminal's PIN pad owns the keys during PIN entry).
#
# PIN entry (PCI PTS habits): digits go into a preallocated buffer, only
# asterisks are drawn, nothing is logged, the buffer is wiped when the PIN has
# been handed on; CANCEL and the entry timeout abort the transaction, and so does the
# card leaving the slot (checked while waiting for every key: CARD REMOVED at once).
import time

from micropython import const

from pos.ui.messages import t
from pos.ui.widgets import format_amount

PIN_MIN = const(4)
PIN_MAX = const(12)
PIN_TIMEOUT_MS = const(30000)
CHOICE_TIMEOUT_MS = const(30000)
_DIGITS = "0123456789"


class Cancelled(Exception):
    """The cardholder or merchant cancelled (or entry timed out): `.reason`."""

    def __init__(self, reason="cancelled"):
        super().__init__(reason)
        self.reason = reason


class ModalUI:
    """The kernel's `ui`: draws on `canvas`, reads `keypad` (TCA8418 driver)."""

    def __init__(self, canvas, keypad, amount=0, currency="USD", title="", exponent=2,
                 card_present=None, before_online_pin=None):
        self.c = canvas
        self.keypad = keypad
        self.amount = amount
        self.currency = currency
        self.exponent = exponent
        self.title = title or t("card")
        self.card_present = card_present            # fn() -> bool (contact slot), None: not watched
        self.before_online_pin = before_online_pin  # fn(notify): PIN key ready (sign-on) before asking
        self.pin_tries = None        # the card's PIN try counter as last seen (wrong-PIN notice)
        self.cancelled = None
        self.messages = []           # what the cardholder was shown (for the receipt/tests)
        self.wait_us = 0             # time waiting for the cardholder's keys (for figures)
        self._pin = bytearray(PIN_MAX)
        self._keys = []              # keys read from the keypad's FIFO and not yet taken

    # -- keys ------------------------------------------------------------
    def _key(self, timeout_ms):
        """The next key pressed, or None at the timeout.  Every key of a FIFO read is kept: a
        cardholder typing fast presses several keys between two reads."""
        if self._keys:
            return self._keys.pop(0)
        kp = self.keypad
        t0 = time.ticks_ms()
        u0 = time.ticks_us()
        present = self.card_present
        try:
            while time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
                if present is not None and not present():
                    self._wipe()
                    self.cancelled = "card_removed"
                    raise Cancelled("card_removed")
                if kp is not None and kp.int_asserted():
                    for name, pressed, _code in kp.read_events():
                        if pressed and name:
                            self._keys.append(name)
                    if self._keys:
                        return self._keys.pop(0)
                time.sleep_ms(10)
            return None
        finally:
            self.wait_us += time.ticks_diff(time.ticks_us(), u0)

    def _page(self, lines, footer=""):
        c = self.c
        c.clear()
        c.title(self.title, format_amount(self.amount, self.currency, self.exponent) if self.amount else "")
        for i, line in enumerate(lines):
            if line:
                c.center(line, i * 2 + 1)
        if footer:
            c.footer(footer)
        c.show()

    # -- what the kernel calls --------------------------------------------
    def message(self, text):
        self.messages.append(text)
        self._page([text])

    def notice(self, lines):
        """A few lines for the cardholder while the card is processed (a bank's offer)."""
        for ln in lines:
            self.messages.append(ln)
        self._page(lines)

    def enter_pin(self, online, tries_left=None):
        """The PIN as a string of digits, None for bypass (ENTER with no digits)."""
        note = ""
        if online and self.before_online_pin is not None:
            # no PIN is asked for that could not be enciphered under a working key
            self.before_online_pin(lambda: self._page([t("signing_on")]))
        if tries_left is not None and self.pin_tries is not None and tries_left < self.pin_tries:
            # the card counted a wrong PIN (VERIFY 63Cx, Book 3 6.5.12)
            note = t("wrong_pin_tries", n=tries_left) if tries_left > 1 else t("wrong_pin_last")
        elif tries_left == 1:
            note = t("last_pin_try")
        if tries_left is not None:
            self.pin_tries = tries_left
        self.c.owner = "PIN entry"           # no installed app draws over it (pos.platform)
        try:
            return self._pin_keys(online, note)
        finally:
            self.c.owner = None

    def _pin_keys(self, online, note):
        buf = self._pin
        n = 0
        while True:
            self._page([t("online_pin") if online else t("enter_pin"), "*" * n, note],
                       t("pin_footer"))
            key = self._key(PIN_TIMEOUT_MS)
            if key is None:
                self._wipe()
                self.cancelled = "timeout"
                raise Cancelled("timeout")
            if key == "CANCEL":
                self._wipe()
                self.cancelled = "cancelled"
                raise Cancelled("cancelled")
            if key == "CLEAR":
                if n:
                    n -= 1
                    buf[n] = 0
                continue
            if key == "ENTER":
                if n == 0:
                    return None                  # bypass: the kernel applies the CVM rules
                if n < PIN_MIN:
                    note = t("pin_too_short")
                    continue
                pin = bytes(buf[:n]).decode()
                self._wipe()
                return pin
            if len(key) == 1 and key in _DIGITS and n < PIN_MAX:
                buf[n] = ord(key)
                n += 1
                note = ""

    def _wipe(self):
        buf = self._pin
        for i in range(len(buf)):
            buf[i] = 0
        del self._keys[:]            # digits typed ahead are PIN digits too

    def choose_application(self, labels):
        sel = 0
        while True:
            c = self.c
            c.clear()
            c.title(t("choose_app"))
            for i, label in enumerate(labels[:8]):
                c.text("%d %s" % (i + 1, label[:24]), i, inverted=(i == sel))
            c.footer(t("press_cancel"))
            c.show()
            key = self._key(CHOICE_TIMEOUT_MS)
            if key is None or key == "CANCEL":
                return None
            if key == "UP":
                sel = (sel - 1) % len(labels)
            elif key == "DOWN":
                sel = (sel + 1) % len(labels)
            elif key == "ENTER":
                return sel
            elif len(key) == 1 and key in "123456789" and int(key) <= len(labels):
                return int(key) - 1

    def confirm_application(self, label):
        self._page([label, t("use_this_app")], t("confirm"))
        while True:
            key = self._key(CHOICE_TIMEOUT_MS)
            if key == "ENTER":
                return True
            if key is None or key == "CANCEL":
                return False
