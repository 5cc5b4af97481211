# Magnetic stripe card data (ISO/IEC 7813 tracks 1 and 2) and the chip-first rules.
#
# Service code (ISO/IEC 7813 / 7811-6), first digit: 2 or 6 = the card has a chip ("IC
# card"): a swipe must be refused with INSERT CHIP unless the chip was tried and failed on
# this transaction, in which case it is a fallback (DE 22 POS entry mode 80).  Second digit:
# 0 normal authorization, 2 by the issuer (online) only, 4 by the issuer except under
# bilateral agreement.  Third digit: 0, 3, 5 = PIN required; 6, 7 = prompt for PIN if a
# PIN pad is present.
from pos.payments.authorizer import AuthRequest


class MagstripeError(ValueError):
    pass


class StripeCard:
    __slots__ = ("pan", "expiry", "service_code", "name", "track2")

    def __init__(self, pan, expiry, service_code, name="", track2=None):
        self.pan = pan
        self.expiry = expiry            # YYMM
        self.service_code = service_code
        self.name = name
        self.track2 = track2            # "PAN=YYMMSSS..." for DE 35

    @property
    def chip(self):
        return self.service_code[0] in "26"

    @property
    def online_only(self):
        return self.service_code[1] in "24"

    @property
    def pin_required(self):
        return self.service_code[2] in "035"


def _luhn(pan):
    total = 0
    for i, c in enumerate(reversed(pan)):
        d = ord(c) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def parse_track2(t):
    if not (t.startswith(";") and t.endswith("?")) or "=" not in t:
        raise MagstripeError("track 2: not ';PAN=YYMMSSS...?'")
    pan, _, rest = t[1:-1].partition("=")
    if not (12 <= len(pan) <= 19 and pan.isdigit()) or len(rest) < 7 or not rest[:7].isdigit():
        raise MagstripeError("track 2: PAN, expiry or service code malformed")
    return StripeCard(pan, rest[:4], rest[4:7], "", t[1:-1])


def parse_track1(t):
    if not t.startswith("%B") or not t.endswith("?") or t.count("^") != 2:
        raise MagstripeError("track 1: not '%B PAN ^ NAME ^ YYMMSSS ... ?'")
    pan, name, rest = t[2:-1].split("^")
    if not (12 <= len(pan) <= 19 and pan.isdigit()) or len(rest) < 7 or not rest[:7].isdigit():
        raise MagstripeError("track 1: PAN, expiry or service code malformed")
    return StripeCard(pan, rest[:4], rest[4:7], name.strip(), "%s=%s" % (pan, rest))


def read_card(swipe):
    """The StripeCard of a Swipe (pos.drivers.msr): track 2 preferred, track 1 otherwise."""
    if 2 in swipe.tracks:
        c = parse_track2(swipe.tracks[2])
        if 1 in swipe.tracks:
            try:
                c.name = parse_track1(swipe.tracks[1]).name
            except MagstripeError:
                pass
    elif 1 in swipe.tracks:
        c = parse_track1(swipe.tracks[1])
    else:
        raise MagstripeError("no readable track (%s): swipe again" % ", ".join(
            "track %d %s" % (n, r) for n, r in sorted(swipe.errors.items())))
    if not _luhn(c.pan):
        raise MagstripeError("card number fails its check digit: swipe again")
    return c


INSERT_CHIP = "insert_chip"


def evaluate(card, chip_failed, today_yymm):
    """INSERT_CHIP, or the entry mode to send ('swipe' or 'fallback'); MagstripeError for an
    expired card."""
    if card.expiry < today_yymm:
        raise MagstripeError("card expired")
    if card.chip:
        return "fallback" if chip_failed else INSERT_CHIP
    return "swipe"


def auth_request(card, amount, currency, entry_mode, kind="sale", pin_block=None):
    return AuthRequest(kind, amount, currency, card.pan, card.expiry, track2=card.track2,
                       entry_mode=entry_mode, pin_block=pin_block)


class InsertChip:
    """A chip card swiped before its chip was tried: the terminal shows INSERT CHIP."""
    __slots__ = ("card",)

    def __init__(self, card):
        self.card = card

    def __repr__(self):
        return "InsertChip()"


class MagstripeCard:
    """A swipe ready for the host: `card` (StripeCard), `entry_mode` ('swipe' -> DE 22 90,
    'fallback' -> DE 22 80); `request(amount, currency)` gives the AuthRequest."""
    __slots__ = ("card", "entry_mode")

    def __init__(self, card, entry_mode):
        self.card = card
        self.entry_mode = entry_mode

    def request(self, amount, currency, kind="sale", pin_block=None):
        return auth_request(self.card, amount, currency, self.entry_mode, kind, pin_block)

    def __repr__(self):                 # masked: first 6, last 4
        p = self.card.pan
        return "MagstripeCard(%s%s%s, %s)" % (p[:6], "*" * (len(p) - 10), p[-4:], self.entry_mode)


def read_swipe(reader, chip_failed, today):
    """One swipe from `reader` (pos.drivers.msr.MagstripeReader, polled until a frame, or a
    Swipe already read) -> InsertChip or MagstripeCard; `today` = 'YYMM' or (year, month).
    Driver errors (MsrError) and card errors (MagstripeError) propagate; None if no frame."""
    s = reader.poll() if hasattr(reader, "poll") else reader
    if s is None:
        return None
    if not isinstance(today, str):
        today = "%02d%02d" % (today[0] % 100, today[1])
    c = read_card(s)
    mode = evaluate(c, chip_failed, today)
    if mode == INSERT_CHIP:
        return InsertChip(c)
    return MagstripeCard(c, mode)
