# A bank's card-linked offer at the counter (docs/bank-offers.md): the check the EMV kernels
# ask once the card is read, what the screen and the receipt say about it, and what the
# transaction list keeps (campaign, bank, the discount the bank funds, the price before it).
#
#     offer = CardOffer(price, ui)               # one card tender
#     k.process(price, offer=offer)              # contact: the kernel lowers 9F02 before GENERATE AC
#     o = ep.process(amount, offer=offer)        # contactless: o.tap_again is the amount to tap for
#
# The PAN handed to the check is compared against the campaign table in memory and dropped;
# only the campaign's name, the bank and the amounts are kept.
import time

from pos import log, tms
from pos.app import money
from pos.ui import messages
from pos.ui.widgets import format_amount

# the offer's texts live here, not in the message catalog: a terminal without a campaign
# interns none of them (the counter's name pool, docs/bank-offers.md "Memory")
_TEXTS = {"en": ("{pct} OFF WITH {bank}", "NEW AMOUNT {amount}", "TAP SAME CARD AGAIN", "NO OFFER: TAP AGAIN"),
          "zh": ("{bank} 优惠 {pct}", "优惠后金额 {amount}", "请再次挥同一张卡", "此卡无优惠: 请再次挥卡")}


def _text(i, **fields):
    text = _TEXTS.get(messages.language, _TEXTS["en"])[i]
    for k in fields:
        text = text.replace("{" + k + "}", str(fields[k]))
    return text


def today():
    y, mo, d = time.localtime()[:3]
    return y * 10000 + mo * 100 + d


class CardOffer:
    """fn(pan, amount) -> the amount to authorise for the sale priced `price`."""

    def __init__(self, price, ui=None):
        self.price = price          # what the sale costs before any offer
        self.ui = ui                # pos.app.modal.ModalUI while a chip card is processed
        self.match = None           # pos.offers.table.Match of the card last checked
        self.lift = False           # contactless: the first tap's card must leave the field
        self.note = ()              # the offer's lines while the cardholder taps again
        self.table = None
        try:
            from pos.offers import current_table
            self.table = current_table(tms.installed_params_version())
        except (OSError, MemoryError) as exc:    # no offer is better than no sale
            log.warning("offer", "campaign table not loaded", err=repr(exc))

    @property
    def amount(self):
        """What the card pays: the price less the bank's discount when the card has one."""
        return self.price - (self.match.discount if self.match is not None else 0)

    def __call__(self, pan, amount):
        self.match = None
        if self.table is not None:
            try:
                self.match = self.table.match(pan, self.price, today())
            except (OSError, ValueError, MemoryError) as exc:
                log.warning("offer", "campaign table not read", err=repr(exc))
        pan = None
        if self.match is not None:
            log.info("offer", "card in campaign", campaign=self.match.campaign, discount=self.match.discount)
            if self.ui is not None:
                self.ui.amount = self.amount
                self.ui.notice(self.lines())
        return self.amount

    def lines(self):
        """The offer as the cardholder sees it: the bank, the rate, the saving, the new amount."""
        m = self.match
        return [_text(0, pct=m.percent_text(), bank=m.bank)[:28],
                "-" + format_amount(m.discount, money.CODE, money.EXPONENT),
                _text(1, amount=format_amount(self.amount, money.CODE, money.EXPONENT))[:28]]

    def tapped(self):
        """After a tap whose amount the offer changed: what the screen says until the card has
        left the field (`lift`), and the lines it keeps showing."""
        self.lift = True
        self.note = self.lines() if self.match is not None else ()

    def lifted(self):
        """The card left the field: the prompt for the second tap."""
        self.lift = False
        return _text(2) if self.match is not None else _text(3)

    def record(self, e):
        """Into transaction-list entry `e`: campaign, bank, the bank's discount and the price."""
        m = self.match
        if m is None:
            return e
        e["offer"] = m.campaign
        e["bank"] = m.bank
        e["disc"] = m.discount
        e["price"] = self.price
        return e
