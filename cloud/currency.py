"""ISO 4217 currencies: the codes a merchant trades in and their minor units."""
import iso4217
from pydantic import BaseModel


class CurrencyOut(BaseModel):
    code: str
    number: str
    exponent: int


def currency(code):
    """The ISO 4217 entry of an alphabetic or numeric code, or None."""
    try:
        c = iso4217.Currency(code) if code.isalpha() else next(
            (x for x in iso4217.Currency if x.number == int(code)), None)
    except ValueError:
        return None
    if c is None or c.number is None:
        return None
    return CurrencyOut(code=c.code, number="%03d" % c.number, exponent=c.exponent or 0)


def decimal_text(minor, exponent):
    """Minor units as the decimal amount: 1234, 2 -> '12.34'; 1234, 0 -> '1234'."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    if exponent == 0:
        return "%s%d" % (sign, minor)
    unit = 10 ** exponent
    return "%s%d.%0*d" % (sign, minor // unit, exponent, minor % unit)


# the numeric codes of currencies money is kept in (the OpenAPI description lists them)
TRADED = sorted({"%03d" % c.number for c in iso4217.Currency if c.number is not None and c.exponent is not None})


def check_numeric(code):
    """A pydantic validator's body: `code` if it is the ISO 4217 numeric code of a currency money
    is kept in, else ValueError (gold, the test code and 'no currency' have no minor unit)."""
    if code is None:
        return code
    if currency(code) is None:
        raise ValueError("%s is not an ISO 4217 numeric currency code (978 is EUR, 840 USD)" % code)
    if next(c for c in iso4217.Currency if c.number == int(code)).exponent is None:
        raise ValueError("%s is an ISO 4217 code without minor units (a metal, the test code or "
                         "'no currency'): not a currency a merchant trades in" % code)
    return code
