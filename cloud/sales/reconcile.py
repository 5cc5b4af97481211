"""Reconciliation of what an acquirer or a wallet host settled against what the terminals
recorded (docs/bookkeeping.md, "Reconciliation").

A settlement file is CSV (RFC 4180) with the header ``date,tid,stan,reference,amount,currency,fee``
(the older ``date,reference,amount,currency,fee`` is read too): one record per settled payment.
A card payment is named by the terminal id (ISO 8583 DE 41) and trace number (STAN, DE 11) the
terminal sent it with, which both sides know for every payment, offline approvals included,
and by the acquirer's retrieval reference number (DE 37) where it has one; a wallet payment by
the wallet's transaction number.  Amounts in decimal, a refund negative.  It is compared with
the card tenders of that acquirer (or the wallet tenders of that wallet) of the sales booked on
the day: first by terminal id, STAN and date (a STAN is unique per terminal within a day: it
wraps at 999999), then what is left by reference:

    matched                 the same payment and amount on both sides
    missing_in_settlement   recorded by a terminal, not in the file
    extra_in_settlement     in the file, not recorded
    amount_differs          both sides, other amounts
    unreadable              a record of the file that cannot be read (kept, never dropped)

A sale voided before its batch was settled, and its void, are expected absent from the file:
the acquirer settles neither (a void is a reversal), so neither is compared.

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

HEADER = ("date", "tid", "stan", "reference", "amount", "currency", "fee")
HEADER_REFERENCE_ONLY = ("date", "reference", "amount", "currency", "fee")
BANK = "Assets:Bank:Settlements"


def receivable(source, name):
    return "Assets:Receivables:%s:%s" % ("Acquirer" if source == "acquirer" else "Wallet", books.component(name))


def fee_account(source, name):
    return "Expenses:Fees:%s:%s" % ("Acquirer" if source == "acquirer" else "Wallet", books.component(name))


class Payment:
    """One payment on one side: its names (terminal id, STAN, date, reference) and its amount;
    records of one side with the same names are added up."""

    def __init__(self, day, tid, stan, reference, amount, fee=0, sale_id=None):
        self.day, self.tid, self.stan, self.reference = day, tid, stan, reference
        self.amount, self.fee, self.sale_id = amount, fee, sale_id

    @property
    def key(self):
        """(date, terminal id, STAN) when both are known, else ("", "", reference)."""
        if self.tid and self.stan:
            return self.day, self.tid, self.stan
        return "", "", self.reference


def _add(by_key, p):
    had = by_key.get(p.key)
    if had is None:
        by_key[p.key] = p
    else:
        had.amount += p.amount
        had.fee += p.fee
        had.reference = had.reference or p.reference


def _voided_pairs(db, store, day):
    """{(terminal id, invoice)} of the voids booked on `day` or later and of what they void."""
    out = set()
    for v in db.scalars(select(Sale).where(Sale.store_id == store.id, Sale.booked_day >= day, Sale.kind == "void")):
        out.add((v.terminal_id, v.invoice))
        out.add((v.terminal_id, json.loads(v.body)["original_invoice"]))
    return out


def recorded(db, store, source, name, day):
    """{key: Payment} of the tenders of `source` `name` in the sales booked on `day`, voided
    sales and their voids left out."""
    want = books.component(name)
    voided = _voided_pairs(db, store, day)
    out = {}
    for s in db.scalars(select(Sale).where(Sale.store_id == store.id, Sale.booked_day == day).order_by(Sale.id)):
        if (s.terminal_id, s.invoice) in voided:
            continue
        body = json.loads(s.body)
        sign = -1 if s.kind == "refund" else 1
        for t in body["tenders"]:
            if source == "acquirer" and t["type"] == "card" and books.component(t["card"]["acquirer"]) == want:
                c = t["card"]
                stan = c["stan"] and c["stan"].zfill(6)
                p = Payment(day, c.get("tid", ""), stan, c["rrn"], sign * t["amount"], sale_id=s.id)
            elif source == "wallet" and t["type"] == "wallet" and books.component(t["wallet"]["name"]) == want:
                p = Payment(day, "", "", t["wallet"]["order_ref"], sign * t["amount"], sale_id=s.id)
            else:
                continue
            _add(out, p)
    return out


def _minor(text, exponent):
    value = Decimal(text.strip()) * (10 ** exponent)
    if value != value.to_integral_value() or abs(value) > 10**13:
        raise InvalidOperation
    return int(value)


def read_file(text, home):
    """({key: Payment}, [unreadable notes]) of a settlement file in currency `home`."""
    rows, bad = {}, []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    header = None if header is None else tuple(h.strip().lower() for h in header)
    if header not in (HEADER, HEADER_REFERENCE_ONLY):
        return rows, ["line 1: the header is not %s" % ",".join(HEADER)]
    for n, rec in enumerate(reader, start=2):
        if not rec or not any(f.strip() for f in rec):
            continue
        if len(rec) != len(header):
            bad.append("line %d: %d fields, want %d" % (n, len(rec), len(header)))
            continue
        f = dict(zip(header, (v.strip() for v in rec)))
        tid, stan, ref = f.get("tid", "")[:8], f.get("stan", "")[:6], f["reference"][:64]
        if f["currency"] != home.code and f["currency"] != home.number:
            bad.append("line %d: currency %r is not the store's (%s)" % (n, f["currency"][:8], home.code))
            continue
        if not (ref or tid and stan) or stan and not (stan.isascii() and stan.isdigit()):
            bad.append("line %d: no reference, or no terminal id and STAN (digits)" % n)
            continue
        try:
            day = datetime.date.fromisoformat(f["date"])
            a, fee = _minor(f["amount"], home.exponent), _minor(f["fee"] or "0", home.exponent)
        except (ValueError, InvalidOperation):
            bad.append("line %d: the date or an amount is not readable" % n)
            continue
        _add(rows, Payment(day, tid, stan and stan.zfill(6), ref, a, fee))
    return rows, bad


def pair(mine, settled):
    """[(recorded Payment or None, settled Payment or None)]: first by terminal id, STAN and
    date, then what is left by reference (an RRN or a wallet's number) where both sides have one."""
    pairs, left = [], []
    rest = dict(settled)
    for key, p in mine.items():
        q = rest.pop(key, None)
        if q is None:
            left.append(p)
        else:
            pairs.append((p, q))
    by_reference = {}
    for q in rest.values():
        if q.reference:
            by_reference.setdefault(q.reference, []).append(q)
    used = set()
    for p in left:
        same = by_reference.get(p.reference) if p.reference else None
        q = same.pop(0) if same else None
        if q is not None:
            used.add(id(q))
        pairs.append((p, q))
    return pairs + [(None, q) for q in rest.values() if id(q) not in used]


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
    for rec, got in pair(mine, settled):
        if rec is not None and got is not None and rec.amount == got.amount:
            matched += 1
            continue
        kind = ("missing_in_settlement" if got is None else "extra_in_settlement" if rec is None
                else "amount_differs")
        both = [x for x in (got, rec) if x is not None]
        items.append({"kind": kind, "reference": next((x.reference for x in both if x.reference), ""),
                      "tid": next((x.tid for x in both if x.tid), ""),
                      "stan": next((x.stan for x in both if x.tid and x.stan), ""),
                      "sale_id": rec.sale_id if rec else None,
                      "recorded": decimal_text(rec.amount, home.exponent) if rec else None,
                      "settled": decimal_text(got.amount, home.exponent) if got else None})
    items.sort(key=lambda d: (d["tid"], d["stan"], d["reference"]))
    items += [{"kind": "unreadable", "reference": "", "tid": "", "stan": "", "sale_id": None, "recorded": None,
               "settled": None, "note": note} for note in unreadable[:200]]
    gross = sum(p.amount for p in settled.values())
    fees = sum(p.fee for p in settled.values())
    report = {"source": source, "name": name, "day": day.isoformat(), "currency": home.code, "matched": matched,
              "differences": items, "recorded_total": decimal_text(sum(p.amount for p in mine.values()), home.exponent),
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
