# Reusable screens: a menu list, an information page, amount entry.
from pos.ui.messages import t
from pos.ui.screen import Screen


class Menu(Screen):
    """A vertical list; UP/DOWN move, ENTER or a digit chooses, CANCEL goes back."""
    timeout_ms = 60000

    def __init__(self, title, items):
        # items: list of (label, callable returning a stack action or None)
        self.title = title
        self.items = items
        self.sel = 0

    def draw(self, c):
        c.title(self.title)
        for i, (label, _) in enumerate(self.items):
            c.text("%d %s" % (i + 1, label), i, inverted=(i == self.sel))
        c.footer(t("press_cancel"))

    def on_key(self, key):
        n = len(self.items)
        if key == "UP":
            self.sel = (self.sel - 1) % n
            return "redraw"
        if key == "DOWN":
            self.sel = (self.sel + 1) % n
            return "redraw"
        if key == "CANCEL":
            return ("pop",)
        if key in "123456789" and len(key) == 1 and int(key) <= n:
            self.sel = int(key) - 1
            key = "ENTER"
        if key == "ENTER":
            return self.items[self.sel][1]()
        return None


class Info(Screen):
    """A page of text lines; any of ENTER/CANCEL goes back."""
    timeout_ms = 30000

    def __init__(self, title, lines):
        self.title = title
        self.lines = lines

    def draw(self, c):
        c.title(self.title)
        for i, line in enumerate(self.lines):
            c.text(line, i)
        c.footer(t("press_cancel"))

    def on_key(self, key):
        if key in ("CANCEL", "ENTER", "CLEAR"):
            return ("pop",)
        return None


def format_amount(minor, currency="USD", exponent=2):
    """1234 -> 'USD 12.34' (ISO 4217 minor units)."""
    if exponent == 0:
        return "%s %d" % (currency, minor)
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    unit = 10 ** exponent
    return "%s %s%d.%0*d" % (currency, sign, minor // unit, exponent, minor % unit)


class AmountEntry(Screen):
    """Digits shift in from the right (cash-register style); 00 adds two zeros."""
    timeout_ms = 60000

    def __init__(self, title, on_done, currency="USD", exponent=2, limit=99999999, allow_zero=False):
        self.allow_zero = allow_zero
        self.title = title
        self.on_done = on_done
        self.currency = currency
        self.exponent = exponent
        self.limit = limit
        self.minor = 0
        self.error = ""

    def draw(self, c):
        c.title(self.title)
        c.text(t("enter_amount"), 0)
        c.center(format_amount(self.minor, self.currency, self.exponent), 2, scale=2)
        if self.error:
            c.text(self.error, 5)
        c.footer("ENTER ok  CLEAR  CANCEL")

    def on_key(self, key):
        self.error = ""
        if key in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "00"):
            value = self.minor * (100 if key == "00" else 10) + (0 if key == "00" else int(key))
            if value > self.limit:
                self.error = t("amount_too_large")
            else:
                self.minor = value
            return "redraw"
        if key == "CLEAR":
            self.minor //= 10
            return "redraw"
        if key == "CANCEL":
            return ("pop",)
        if key == "ENTER" and (self.minor > 0 or self.allow_zero):
            return self.on_done(self.minor)
        return None


_TAPS = {"1": " 1.-", "2": "ABC2", "3": "DEF3", "4": "GHI4", "5": "JKL5", "6": "MNO6", "7": "PQRS7",
         "8": "TUV8", "9": "WXYZ9", "0": "0", "00": "&"}


class TextEntry(Screen):
    """Letters and digits on the numeric keypad, phone style: a key pressed again within a
    second cycles its letters (2: A B C 2); CLEAR deletes; ENTER gives the text."""
    timeout_ms = 60000

    def __init__(self, title, on_done, initial="", maxlen=24):
        self.title = title
        self.on_done = on_done
        self.s = initial[:maxlen]
        self.maxlen = maxlen
        self._last = None
        self._t = 0

    def draw(self, c):
        c.title(self.title)
        c.text(self.s + "_", 1)
        c.footer("ENTER ok  CLEAR  CANCEL")

    def on_key(self, key):
        import time
        if key == "CANCEL":
            return ("pop",)
        if key == "CLEAR":
            self.s = self.s[:-1]
            self._last = None
            return "redraw"
        if key == "ENTER":
            return self.on_done(self.s.strip())
        letters = _TAPS.get(key)
        if letters is None:
            return None
        now = time.ticks_ms()
        if key == self._last and time.ticks_diff(now, self._t) < 1000 and self.s:
            i = (letters.find(self.s[-1]) + 1) % len(letters)
            self.s = self.s[:-1] + letters[i]
        elif len(self.s) < self.maxlen:
            self.s += letters[0]
        self._last = key
        self._t = now
        return "redraw"
