# Gift cards as a tender (docs/gift-cards.md): the card's number read at the counter (scanned
# or keyed), checked here by its check digit, then its balance asked of the cloud and the
# amount spent there (pos.giftcard.cloud), never on the terminal: a gift card needs the cloud.
#
#     number = giftcard.read("904718263510")     # the digits, or GiftCardError saying why not
#     giftcard.masked(number)                    # '********3510': what a receipt shows
LENGTH = 12
PREFIX = "9"


class GiftCardError(Exception):
    """A gift card refused at the counter, with the message the cashier sees."""


def read(text):
    """The card's 12 digits from a scanned or keyed `text`: '9' first (the shop's gift-card
    range), the last a Luhn check digit (ISO/IEC 7812-1 annex B) over the eleven before it."""
    text = text.strip()
    if len(text) != LENGTH or not text.isdigit() or text[0] != PREFIX:
        raise GiftCardError("not a gift card number: 12 digits, 9 first")
    from pos.crypto.misc import luhn_valid
    if not luhn_valid(text.encode()):
        raise GiftCardError("card %s check digit wrong" % short(text))
    return text


def short(number):
    """The last four digits: what a message on the 28-column screen names."""
    return "*" + number[-4:]


def masked(number):
    return "*" * (len(number) - 4) + number[-4:]
