"""The gift card number: 12 digits, '9' first (the shop's gift card range), ten random digits,
and a check digit by the Luhn formula (ISO/IEC 7812-1 annex B) over the eleven before it.

Twelve digits are keyed on the terminal's digit keypad and read from a barcode alike; they are
fewer than a card number's 13 to 19, so a gift card number is never taken for a PAN (the
upload's PAN check, the log's redaction), and the check digit catches a mistyped digit and
most swapped pairs before the cloud is asked.  The number is no secret of its own: the balance
is in the cloud, which answers for numbers it issued only.
"""
import secrets

LENGTH = 12
PREFIX = "9"
PATTERN = r"^9[0-9]{11}$"


def luhn_digit(body):
    """The Luhn check digit of the digit string `body`."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def valid(number):
    return (len(number) == LENGTH and number.isdigit() and number[0] == PREFIX
            and luhn_digit(number[:-1]) == number[-1])


def new_number():
    body = PREFIX + "%010d" % secrets.randbelow(10**10)
    return body + luhn_digit(body)


def masked(number):
    """What a receipt, a log or a list shows: the last four digits."""
    return "*" * (len(number) - 4) + number[-4:]
