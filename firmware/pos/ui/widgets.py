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


def wrap(text, width):
    """`text` as lines of at most `width` characters, broken at spaces where it can be."""
    out = []
    text = text.strip()
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)
        if cut <= 0:
            cut = width
        out.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not out:
        out.append(text)
    return out


def format_amount(minor, currency="USD", exponent=2):
    """1234 -> 'USD 12.34' (ISO 4217 minor units)."""
    if exponent == 0:
        return "%s %d" % (currency, minor)
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    unit = 10 ** exponent
    return "%s %s%d.%0*d" % (currency, sign, minor // unit, exponent, minor % unit)


class AmountEntry(Screen):
    """Amount entry as merchants key it.  Digits shift in from the right (cash-register
    style: 1 2 5 0 is 12.50, 00 adds two zeros) until "." is pressed; after "." the digits
    keyed so far are whole units and the next ones the decimals (1 2 . 5 is 12.50).
    `initial` is shown prefilled (the first digit replaces it).  Over `limit` the entry is
    refused at ENTER with the limit shown and kept for correction; ENTER on nothing says so.
    `quick` [(key, label, minor)]: keys that enter a whole amount at once (quick cash)."""
    timeout_ms = 60000
    MAX_DIGITS = 10

    def __init__(self, title, on_done, currency="USD", exponent=2, limit=99999999, allow_zero=False,
                 initial=0, quick=()):
        self.allow_zero = allow_zero
        self.title = title
        self.on_done = on_done
        self.currency = currency
        self.exponent = exponent
        self.limit = limit
        self.minor = initial
        self.prefilled = initial > 0
        self.decimals = -1               # -1: no "." keyed; else decimals keyed after it
        self.quick = quick
        self.error = ""

    def draw(self, c):
        c.title(self.title)
        c.text(t("enter_amount"), 0)
        c.center(format_amount(self.minor, self.currency, self.exponent), 2, scale=2)
        if self.error:
            c.center(self.error, 5)
        for i, (_key, label, minor) in enumerate(self.quick[:3]):
            c.text("%s %s" % (label, format_amount(minor, self.currency, self.exponent)), 6 + i)
        c.footer("ENTER ok . CLEAR CANCEL")

    def _digit(self, key):
        if self.prefilled:                # the first digit replaces the prefilled amount
            self.minor = 0
            self.prefilled = False
        n = len(key)
        if self.decimals >= 0:
            if self.decimals + n > self.exponent:
                self.error = t("decimals_max", n=self.exponent)
                return
            for ch in key:
                self.decimals += 1
                self.minor += int(ch) * 10 ** (self.exponent - self.decimals)
            return
        value = self.minor * 10 ** n + int(key)
        if len(str(value)) > self.MAX_DIGITS:
            self.error = t("amount_too_large")
            return
        self.minor = value

    def on_key(self, key):
        self.error = ""
        if key in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "00"):
            self._digit(key)
            return "redraw"
        if key == ".":
            if self.exponent and self.decimals < 0:
                if self.prefilled:
                    self.minor = 0
                    self.prefilled = False
                self.minor *= 10 ** self.exponent       # the digits so far are whole units
                self.decimals = 0
            return "redraw"
        if key == "CLEAR":
            self.prefilled = False
            if self.decimals > 0:
                unit = 10 ** (self.exponent - self.decimals)
                self.minor -= (self.minor // unit) % 10 * unit
                self.decimals -= 1
            elif self.decimals == 0:
                self.minor //= 10 ** self.exponent
                self.decimals = -1
            else:
                self.minor //= 10
            return "redraw"
        if key == "CANCEL":
            return ("pop",)
        for qkey, _label, minor in self.quick:
            if key == qkey:
                self.minor = minor
                self.decimals = -1
                key = "ENTER"
                break
        if key == "ENTER":
            if self.minor == 0 and not self.allow_zero:
                self.error = t("amount_needed")
                return "redraw"
            if self.minor > self.limit:
                self.error = t("over_limit", max=format_amount(self.limit, self.currency, self.exponent))
                return "redraw"
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
