# The terminal's one currency (ISO 4217), taken from the EMV terminal configuration
# (config/emv.json: currency_code = tag 5F2A, currency_exponent = tag 5F36, EMV 4.4 Book 4
# Annex A) so that chip, contactless, swipe, QR, manual entry, the screens and the receipts
# all speak of the same money.  The acquirer requests carry it too (DE 49 from 5F2A).
#
#   from pos.app import money
#   money.CODE, money.NUMERIC, money.EXPONENT      # 'USD', '840', 2
import json

# ISO 4217: numeric code then alphabetic code, for the codes a terminal configuration may name
_ISO4217 = "036AUD124CAD156CNY344HKD392JPY410KRW458MYR554NZD702SGD756CHF764THB826GBP840USD901TWD978EUR"

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
    i = _ISO4217.find(num)
    CODE = _ISO4217[i + 3:i + 6] if i >= 0 and i % 6 == 0 else num


load()
