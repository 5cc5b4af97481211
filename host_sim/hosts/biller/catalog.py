"""What the biller sells and whom it collects for: mobile operators with their denominations
(direct top-up to the number, or a PIN voucher the customer keys into the phone), utility
billers with their customers' accounts and amounts due, and the card issuer whose cards are
repaid through it.  TEST data: every number, account and card here is made up.

    c = Catalog()
    c.public()                      # what POST /v1/catalog answers
    c.lookup("bill", "POWER", "1000200030")   # -> (200, {...amount due...})
"""
import copy

# operator code -> name, kind ("direct": credited to the number; "pin": a voucher PIN to key
# into the phone), denominations in minor units, and the number plan: (prefixes, length)
OPERATORS = {
    "ORBIT": {"name": "Orbit Mobile", "kind": "direct", "denominations": [1000, 2000, 5000, 10000],
              "prefixes": ("138", "139", "150"), "length": 11},
    "LUMEN": {"name": "Lumen Tel", "kind": "pin", "denominations": [500, 1000, 2000],
              "prefixes": ("170", "171"), "length": 11},
}

# biller code -> name and its customers: account -> (holder as shown, amount due)
BILLERS = {
    "POWER": {"name": "City Power", "accounts": {"1000200030": ("J. DOE", 8450),
                                                  "1000200048": ("A. LEE", 12000),
                                                  "1000200055": ("M. CHAN", 0)}},
    "WATER": {"name": "Water Board", "accounts": {"2000300017": ("R. ROE", 2315)}},
}

# the card issuer's cards repaid through the biller: PAN -> (holder, statement balance,
# minimum due).  Luhn-valid TEST numbers.
CARDS = {
    "4761739001010119": ("K. WONG", 152300, 15230),
    "5413330089020011": ("P. SMITH", 48000, 4800),
}
CARD_CODE = "CARD"


def masked(pan):
    """First 6 and last 4 digits, the rest as '*' (PCI DSS 3.4)."""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:] if len(pan) > 10 else "*" * len(pan)


def masked_msisdn(n):
    return n[:3] + "****" + n[-4:] if len(n) > 7 else n


def luhn_ok(digits):
    """ISO/IEC 7812-1 Annex B check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class Catalog:
    """The biller's products and accounts (a private copy: payments change amounts due)."""

    def __init__(self):
        self.operators = copy.deepcopy(OPERATORS)
        self.billers = copy.deepcopy(BILLERS)
        self.cards = copy.deepcopy(CARDS)

    def public(self):
        return {"currency": "USD",
                "operators": [{"code": c, "name": o["name"], "kind": o["kind"],
                               "denominations": list(o["denominations"])}
                              for c, o in sorted(self.operators.items())],
                "billers": [{"code": c, "name": b["name"]} for c, b in sorted(self.billers.items())],
                "card": {"code": CARD_CODE, "name": "Card repayment"}}

    def lookup(self, product, code, account):
        """(status, answer) for an account of `product` ("mobile", "bill", "card")."""
        if not isinstance(account, str) or not account.isdigit() or not account.isascii():
            return 422, {"error": "account must be digits"}
        if product == "mobile":
            o = self.operators.get(code)
            if o is None:
                return 404, {"error": "no operator %s" % str(code)[:16]}
            if len(account) != o["length"] or not account.startswith(o["prefixes"]):
                return 404, {"error": "%s is not a number of %s" % (masked_msisdn(account), o["name"])}
            return 200, {"account": masked_msisdn(account), "holder": "", "due": 0,
                         "kind": o["kind"], "denominations": list(o["denominations"])}
        if product == "bill":
            b = self.billers.get(code)
            if b is None:
                return 404, {"error": "no biller %s" % str(code)[:16]}
            a = b["accounts"].get(account)
            if a is None:
                return 404, {"error": "no account %s at %s" % (account[:20], b["name"])}
            return 200, {"account": account, "holder": a[0], "due": a[1]}
        if product == "card":
            if code != CARD_CODE:
                return 404, {"error": "no card issuer %s" % str(code)[:16]}
            if not 12 <= len(account) <= 19 or not luhn_ok(account):
                return 422, {"error": "card number fails its check digit"}
            c = self.cards.get(account)
            if c is None:
                return 404, {"error": "card %s is not one of ours" % masked(account)}
            return 200, {"account": masked(account), "holder": c[0], "due": c[1], "min_due": c[2]}
        return 422, {"error": "product must be mobile, bill or card"}

    def check_amount(self, product, code, account, amount):
        """None when `amount` may be paid to the account (looked up first), else the reason."""
        if product == "mobile":
            if amount not in self.operators[code]["denominations"]:
                return "%d is not a denomination of %s" % (amount, self.operators[code]["name"])
            return None
        due = self.billers[code]["accounts"][account][1] if product == "bill" else self.cards[account][1]
        if due == 0:
            return "nothing is due on this account"
        if amount > due:
            return "amount %d is more than the %d due" % (amount, due)
        return None

    def apply(self, product, code, account, amount):
        """Credit the payment: the amount due (or card balance) goes down by `amount`."""
        if product == "bill":
            holder, due = self.billers[code]["accounts"][account]
            self.billers[code]["accounts"][account] = (holder, due - amount)
        elif product == "card":     # the statement's minimum due stays as printed
            holder, due, mn = self.cards[account]
            self.cards[account] = (holder, due - amount, mn)

    def undo(self, product, code, account, amount):
        """A reversal puts the amount due back."""
        self.apply(product, code, account, -amount)

    def is_pin(self, product, code):
        return product == "mobile" and self.operators[code]["kind"] == "pin"
