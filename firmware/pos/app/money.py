# The terminal's one currency (ISO 4217), taken from the EMV terminal configuration
# (config/emv.json: currency_code = tag 5F2A, currency_exponent = tag 5F36, EMV 4.4 Book 4
# Annex A) so that chip, contactless, swipe, QR, manual entry, the screens and the receipts
# all speak of the same money.  The acquirer requests carry it too (DE 49 from 5F2A).
#
#   from pos.app import money
#   money.CODE, money.NUMERIC, money.EXPONENT      # 'USD', '840', 2
import json

# ISO 4217 alphabetic codes of the numeric codes a terminal configuration may name
_ALPHA = {"036": "AUD", "124": "CAD", "156": "CNY", "344": "HKD", "392": "JPY", "410": "KRW",
          "458": "MYR", "554": "NZD", "702": "SGD", "756": "CHF", "764": "THB", "826": "GBP",
          "840": "USD", "901": "TWD", "978": "EUR"}

CODE = "USD"
NUMERIC = "840"
EXPONENT = 2


def load(path="config/emv.json"):
    """Read the terminal's currency from `path`; a missing or unreadable file keeps USD,
    an unknown code shows as its number (nothing is converted, nothing is lost)."""
    global CODE, NUMERIC, EXPONENT
    try:
        with open(path) as f:
            d = json.load(f)
        term = d["terminal"]
        num = "%03d" % int(str(term["currency_code"]))
        exp = int(term.get("currency_exponent", 2))
    except (OSError, ValueError, KeyError, TypeError):
        return
    NUMERIC = num
    EXPONENT = exp
    CODE = _ALPHA.get(num, num)


load()
