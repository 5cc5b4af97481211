"""Settlement files: what a simulated acquirer or wallet host paid the merchant for a day.

The format is the one the cloud reconciles (docs/bookkeeping.md, "Reconciliation"): CSV
(RFC 4180) with the header ``date,tid,stan,reference,amount,currency,fee``, one record per
settled payment.  A card payment carries the terminal id (ISO 8583 DE 41) and trace number
(STAN, DE 11) the terminal sent it with, which name every payment, an offline approval's advice
(0220) included, and the retrieval reference number (DE 37) the host gave it; a wallet payment
has no terminal id or STAN, its reference is the wallet's transaction number.  Amounts are
decimal in the currency's major unit, a refund negative; the fee is what the host keeps of that
payment (its merchant discount rate; nothing is kept on a refund, and nothing is given back).
"""
import csv
import io

from cloud.currency import currency, decimal_text

HEADER = ("date", "tid", "stan", "reference", "amount", "currency", "fee")


class SettlementError(ValueError):
    pass


def fee_of(amount, fee_bp):
    """The fee on one payment, rounded half up to the minor unit; none on a refund."""
    if amount <= 0:
        return 0
    return (amount * fee_bp + 5000) // 10000


def settlement_csv(day, currency, exponent, payments, fee_bp=0):
    """The file for `day` (a datetime.date) of `payments`: (reference, signed minor units) of a
    wallet, (reference, signed minor units, terminal id, STAN) of an acquirer; in `currency`
    (ISO 4217 code) with `exponent` decimals, the host keeping `fee_bp` basis points."""
    if not 0 <= fee_bp <= 10000:
        raise SettlementError("fee of %r basis points is out of 0..10000" % (fee_bp,))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEADER)
    seen = set()
    for p in payments:
        ref, amount, tid, stan = (tuple(p) + ("", ""))[:4]
        if (tid or stan) and not (tid.isalnum() and stan.isdigit()):
            raise SettlementError("payment %r: a terminal id (letters, digits) goes with a STAN (digits): "
                                  "%r, %r" % (ref, tid, stan))
        if not (ref or tid) or "," in ref or ref and ref in seen or tid and (tid, stan) in seen:
            raise SettlementError("payment reference %r is empty (and no terminal id and STAN), has a comma "
                                  "or comes twice" % (ref,))
        if ref:
            seen.add(ref)
        if tid:
            seen.add((tid, stan))
        w.writerow((day.isoformat(), tid, stan, ref, decimal_text(amount, exponent), currency,
                    decimal_text(fee_of(amount, fee_bp), exponent)))
    return out.getvalue()


def exponent_of(code):
    """Decimals of ISO 4217 currency `code` ('USD' -> 2, 'JPY' -> 0)."""
    c = currency(code.upper()) if code.isalpha() else None
    if c is None:
        raise SettlementError("%r is not an ISO 4217 currency code" % (code,))
    return c.exponent
