"""What the voucher platform sells: group-buy deals of merchants, each valid at some of the
merchant's stores until a date, and the vouchers customers bought (one code each, redeemed
once).  TEST data: every deal, store and code here is made up.

Codes are 12 digits, the last a Luhn check digit (ISO/IEC 7812-1 Annex B) over the first
11, so a mistyped code is caught before it leaves the terminal.
"""
import copy

# store id -> name (the merchant's branches; a terminal belongs to one store)
STORES = {"SH001": "Nanjing Rd", "SH002": "Xujiahui"}

# deal id -> title, price the customer paid, face value at the counter, stores, last day
DEALS = {
    "D1001": {"title": "Latte for two", "price": 2990, "value": 4600, "stores": ["SH001", "SH002"],
              "until": "2099-12-31"},
    "D1002": {"title": "Hotpot set for 4", "price": 19800, "value": 32800, "stores": ["SH002"],
              "until": "2099-12-31"},
    "D1003": {"title": "Autumn cake voucher", "price": 5000, "value": 8800, "stores": ["SH001", "SH002"],
              "until": "2020-10-31"},
}


def check_digit(body):
    """The Luhn digit that makes body + digit pass (ISO/IEC 7812-1 Annex B)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(code):
    return len(code) > 1 and code[-1] == check_digit(code[:-1])


def code_for(n):
    body = "%011d" % (80000000000 + n)
    return body + check_digit(body)


# voucher code -> deal (customers' purchases)
VOUCHERS = {code_for(n): deal for n, deal in
            ((1, "D1001"), (2, "D1001"), (3, "D1001"), (4, "D1002"), (5, "D1002"), (6, "D1003"))}


class Deals:
    """The platform's deals and vouchers (a private copy: redemptions change vouchers)."""

    def __init__(self):
        self.stores = dict(STORES)
        self.deals = copy.deepcopy(DEALS)
        self.vouchers = {c: {"deal": d, "redeemed": None} for c, d in VOUCHERS.items()}

    def add_voucher(self, deal, n):
        """A further voucher of `deal` (tests); its code."""
        c = code_for(n)
        self.vouchers[c] = {"deal": deal, "redeemed": None}
        return c
