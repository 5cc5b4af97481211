"""Reconciliation of what an acquirer or a wallet host settled against what the terminals
recorded (docs/bookkeeping.md, "Reconciliation").

A settlement file is CSV (RFC 4180) with the header ``date,reference,amount,currency,fee``: one
record per settled payment, the reference being the card payment's retrieval reference number
(ISO 8583 DE 37) or the wallet's order reference; amounts in decimal (a refund negative).  It is
compared, by reference, with the card tenders of that acquirer (or the wallet tenders of that
wallet) of the sales booked on the day:

    matched                 the same reference and amount on both sides
    missing_in_settlement   recorded by a terminal, not in the file
    extra_in_settlement     in the file, not recorded
    amount_differs          both sides, other amounts
    unreadable              a record of the file that cannot be read (kept, never dropped)

The settlement is then posted: the receivable is credited with what was settled, the fees go to
Expenses:Fees and the rest to Assets:Bank:Settlements, so what stays on the receivable is
exactly the difference.
"""
import csv
import datetime
import io
import json
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from cloud.sales import books
from cloud.currency import currency, decimal_text
from cloud.sales.models import JournalEntry, Posting, Sale

HEADER = ("date", "reference", "amount", "currency", "fee")
BANK = "Assets:Bank:Settlements"


def receivable(source, name):
    return "Assets:Receivables:%s:%s" % ("Acquirer" if source == "acquirer" else "Wallet", books.component(name))


def fee_account(source, name):
    return "Expenses:Fees:%s:%s" % ("Acquirer" if source == "acquirer" else "Wallet", books.component(name))


def recorded(db, store, source, name, day):
    """{reference: (amount, sale id)} of the tenders of `source` `name` in the sales booked on `day`."""
    want = books.component(name)
    out = {}
    for s in db.scalars(select(Sale).where(Sale.store_id == store.id, Sale.booked_day == day).order_by(Sale.id)):
        body = json.loads(s.body)
        sign = -1 if s.kind == "refund" else 1
        for t in body["tenders"]:
            if source == "acquirer" and t["type"] == "card" and books.component(t["card"]["acquirer"]) == want:
                ref = t["card"]["rrn"]
            elif source == "wallet" and t["type"] == "wallet" and books.component(t["wallet"]["name"]) == want:
                ref = t["wallet"]["order_ref"]
            else:
                continue
            amount, first = out.get(ref, (0, s.id))
            out[ref] = (amount + sign * t["amount"], first)
    return out


def _minor(text, exponent):
    value = Decimal(text.strip()) * (10 ** exponent)
    if value != value.to_integral_value() or abs(value) > 10**13:
        raise InvalidOperation
    return int(value)


def read_file(text, home):
    """({reference: (amount, fee)}, [unreadable notes]) of a settlement file in currency `home`."""
    rows, bad = {}, []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        return rows, ["line 1: the header is not %s" % ",".join(HEADER)]
    for n, rec in enumerate(reader, start=2):
        if not rec or not any(f.strip() for f in rec):
            continue
        if len(rec) != len(HEADER):
            bad.append("line %d: %d fields, want %d" % (n, len(rec), len(HEADER)))
            continue
        day, ref, amount, cur, fee = (f.strip() for f in rec)
        ref = ref[:64]
        if cur != home.code and cur != home.number:
            bad.append("line %d: currency %r is not the store's (%s)" % (n, cur[:8], home.code))
            continue
        try:
            datetime.date.fromisoformat(day)
            a, f = _minor(amount, home.exponent), _minor(fee or "0", home.exponent)
        except (ValueError, InvalidOperation):
            bad.append("line %d: the date or an amount is not readable" % n)
            continue
        if ref in rows:
            a, f = a + rows[ref][0], f + rows[ref][1]
        rows[ref] = (a, f)
    return rows, bad


class ReconcileError(ValueError):
    pass


def reconcile(db, store, merchant, source, name, day, text):
    """(report dict, journal entry or None): the comparison, and the settlement posted."""
    home = currency(merchant.currency)
    if home is None:        # stored before merchants' currencies were checked
        raise ReconcileError("the merchant's currency %r is not an ISO 4217 code: set it (PATCH "
                             "/api/v1/merchants/%d) before reconciling" % (merchant.currency, merchant.id))
    settled, unreadable = read_file(text, home)
    mine = recorded(db, store, source, name, day)
    items = []
    matched = 0
    for ref in sorted(set(mine) | set(settled)):
        rec, got = mine.get(ref), settled.get(ref)
        if rec is not None and got is not None and rec[0] == got[0]:
            matched += 1
            continue
        kind = ("missing_in_settlement" if got is None else "extra_in_settlement" if rec is None
                else "amount_differs")
        items.append({"kind": kind, "reference": ref, "sale_id": rec[1] if rec else None,
                      "recorded": decimal_text(rec[0], home.exponent) if rec else None,
                      "settled": decimal_text(got[0], home.exponent) if got else None})
    items += [{"kind": "unreadable", "reference": "", "sale_id": None, "recorded": None, "settled": None,
               "note": note} for note in unreadable[:200]]
    gross = sum(a for a, _ in settled.values())
    fees = sum(f for _, f in settled.values())
    report = {"source": source, "name": name, "day": day.isoformat(), "currency": home.code, "matched": matched,
              "differences": items, "recorded_total": decimal_text(sum(a for a, _ in mine.values()), home.exponent),
              "settled_total": decimal_text(gross, home.exponent), "fees": decimal_text(fees, home.exponent)}
    entry = None
    if gross or fees:
        booked, _ = books.booking_day(db, store, day)
        entry = JournalEntry(merchant_id=merchant.id, store_id=store.id, sale_id=None, day=booked,
                             currency=home.code, narration=("Settlement %s %s of %s" % (source, name, day))[:200])
        db.add(entry)
        db.flush()
        lines = [(receivable(source, name), -gross), (fee_account(source, name), fees), (BANK, gross - fees)]
        db.add_all([Posting(entry_id=entry.id, account=a, amount=v, tax_rate_bp=None) for a, v in lines if v])
    return report, entry
