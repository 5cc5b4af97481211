"""Double-entry bookkeeping of sales (docs/bookkeeping.md): the chart of accounts, the postings of
one sale, the day a sale is booked to, and the daily close.

Amounts are minor units; a debit is positive, a credit negative; the postings of an entry add up
to zero.  Line amounts are tax included, so the tax of a rate is taken out of what was charged at
that rate (less the shop's own discounts at that rate, which lower the price; a campaign discount
does not: its funder pays that part of the price):

    tax(rate) = round_half_up(charged(rate) x rate / (10000 + rate))     rate in basis points

A sale of lines L, shop discounts Ds, campaign discounts Dc, tip T, paid by tenders P = L - Ds - Dc + T:

    debit   each tender's account                    P (per tender)
    debit   Assets:Receivables:Campaign:<funder>     Dc
    debit   Expenses:Discounts:Shop                  Ds
    credit  Income:Sales:Rate-<r>                    L(r) - tax(r)
    credit  Liabilities:TaxPayable:Rate-<r>          tax(r)
    credit  Liabilities:TipsPayable                  T

A refund posts the same with every sign turned and Income:Refunds in place of Income:Sales.

A void takes back a transaction whose batch was not settled yet (the acquirer settles neither):
it posts the entry of the transaction it voids with every sign turned, so the two net to zero
on every account and nothing stays receivable.  A void whose original is not in the cloud (yet)
posts its own content as a sale with every sign turned.
"""
import datetime
import json
import re
import zoneinfo

from sqlalchemy import func, select

from cloud.sales.models import DayClose, JournalEntry, Posting, Sale

CASH = "Assets:Cash:Drawer"
GIFT_CARDS = "Liabilities:GiftCards"
STORED_VALUE = "Liabilities:StoredValue"          # members' e-wallets (docs/gift-cards.md)
TIPS = "Liabilities:TipsPayable"
SHOP_DISCOUNTS = "Expenses:Discounts:Shop"
SKEW_LIMIT_S = 300          # a terminal clock further off than this is flagged


class BooksError(ValueError):
    """A bookkeeping request that cannot be done (a day already closed, a day in the future)."""


def component(name):
    """An account name component from a free name: Beancount wants a capital or digit first,
    then letters, digits and dashes."""
    c = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "Unknown"
    return c[0].upper() + c[1:]


def rate_text(bp):
    return "%d-%02d" % divmod(bp, 100)


def sales_account(bp, refund=False):
    return "Income:%s:Rate-%s" % ("Refunds" if refund else "Sales", rate_text(bp))


def tax_account(bp):
    return "Liabilities:TaxPayable:Rate-%s" % rate_text(bp)


def tender_account(tender):
    if tender.type == "cash":
        return CASH
    if tender.type == "card":
        return "Assets:Receivables:Acquirer:" + component(tender.card.acquirer)
    if tender.type == "wallet":
        return "Assets:Receivables:Wallet:" + component(tender.wallet.name)
    if tender.type == "stored_value":
        return STORED_VALUE
    return GIFT_CARDS


def tax_in(charged, bp):
    """The tax contained in a tax-included amount, rounded half up."""
    return (2 * charged * bp + 10_000 + bp) // (2 * (10_000 + bp))


def tax_by_rate(sale):
    """[(rate bp, charged at that rate less the shop's discounts, the tax in it)], by rate."""
    lines = {}
    for ln in sale.lines:
        lines[ln.tax_rate_bp] = lines.get(ln.tax_rate_bp, 0) + ln.amount
    out = []
    for bp in sorted(lines):
        charged = lines[bp] - sum(d.amount for d in sale.discounts if d.funder == "shop" and d.tax_rate_bp == bp)
        out.append((bp, charged, tax_in(charged, bp)))
    return out


def postings(sale):
    """[(account, amount, tax_rate_bp or None)] of a validated SaleIn; they add up to zero."""
    refund = sale.kind == "refund"
    sign = 1 if sale.kind == "sale" else -1
    lines = {}
    for ln in sale.lines:
        lines[ln.tax_rate_bp] = lines.get(ln.tax_rate_bp, 0) + ln.amount
    out = []
    for t in sale.tenders:
        out.append((tender_account(t), t.amount, None))
    shop = 0
    for d in sale.discounts:
        if d.funder == "campaign":
            out.append(("Assets:Receivables:Campaign:" + component(d.campaign), d.amount, None))
        else:
            shop += d.amount
    if shop:
        out.append((SHOP_DISCOUNTS, shop, None))
    for bp, _, tax in tax_by_rate(sale):
        out.append((sales_account(bp, refund), -(lines[bp] - tax), bp))
        if tax:
            out.append((tax_account(bp), -tax, bp))
    if sale.tip:
        out.append((TIPS, -sale.tip, None))
    merged = {}
    for account, amount, bp in out:
        key = (account, bp)
        merged[key] = merged.get(key, 0) + amount
    return [(a, sign * v, bp) for (a, bp), v in merged.items() if v]


def voided(db, terminal_id, invoice):
    """The stored transaction of `terminal_id` with `invoice` that a void refers to, or None."""
    return db.scalar(select(Sale).where(Sale.terminal_id == terminal_id, Sale.invoice == invoice,
                                        Sale.kind != "void"))


def void_postings(db, sale_row, sale_in):
    """The postings of a void: those of the transaction it voids, every sign turned."""
    orig = voided(db, sale_row.terminal_id, sale_in.original_invoice)
    entry = None if orig is None else db.scalar(select(JournalEntry).where(JournalEntry.sale_id == orig.id))
    if entry is None:
        return postings(sale_in)
    return [(p.account, -p.amount, p.tax_rate_bp) for p in entry.postings]


def store_zone(store):
    try:
        return zoneinfo.ZoneInfo(store.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.timezone.utc


def local_day(store, naive_utc):
    return naive_utc.replace(tzinfo=datetime.timezone.utc).astimezone(store_zone(store)).date()


def closed_days(db, store_id, since):
    return set(db.scalars(select(DayClose.day).where(DayClose.store_id == store_id, DayClose.day >= since)))


def booking_day(db, store, day):
    """The day a transaction of `day` is booked to: that day if it is open, else the next open day
    after it; and the note that says so ("" when booked on its own day)."""
    return next_open_day(day, closed_days(db, store.id, day))


def next_open_day(day, closed):
    """booking_day, given the store's closed days from `day` on."""
    booked = day
    while booked in closed:
        booked += datetime.timedelta(days=1)
    if booked == day:
        return day, ""
    return booked, "arrived after %s was closed: booked on %s" % (day.isoformat(), booked.isoformat())


def narration(kind, controller_id, invoice, original_invoice=None):
    """The journal entry's text: 'Sale T1/12', 'Refund T1/13', 'Void T1/14 of 12'."""
    text = "%s %s/%d" % (kind.capitalize(), controller_id, invoice)
    if kind == "void":
        text += " of %d" % original_invoice
    return text[:200]


def post(db, sale_row, sale_in, store):
    """The journal entry of a stored sale (flushed with the session)."""
    entry = JournalEntry(merchant_id=sale_row.merchant_id, store_id=store.id, sale_id=sale_row.id,
                         day=sale_row.booked_day, currency=sale_row.currency,
                         narration=narration(sale_in.kind, sale_row.terminal.controller_id, sale_in.invoice,
                                                   sale_in.original_invoice))
    db.add(entry)
    db.flush()
    rows = void_postings(db, sale_row, sale_in) if sale_in.kind == "void" else postings(sale_in)
    if sum(v for _, v, _ in rows) != 0:
        raise BooksError("the postings of invoice %d do not balance" % sale_in.invoice)
    db.add_all([Posting(entry_id=entry.id, account=a, amount=v, tax_rate_bp=bp) for a, v, bp in rows])
    return entry


def close_day(db, store, day, closed_by, today):
    """Lock `day` of `store`: later arrivals of that day go to the next open day.  Raises
    BooksError for a day already closed, or one that has not begun (after `today`)."""
    if day > today:
        raise BooksError("%s has not begun in the store's time zone (today is %s): it cannot be closed"
                         % (day.isoformat(), today.isoformat()))
    if db.scalar(select(DayClose.id).where(DayClose.store_id == store.id, DayClose.day == day)) is not None:
        raise BooksError("%s is already closed for store %d" % (day.isoformat(), store.id))
    counts = dict(db.execute(select(Sale.kind, func.count(Sale.id)).where(
        Sale.store_id == store.id, Sale.booked_day == day).group_by(Sale.kind)).all())
    sums = dict(db.execute(select(Sale.kind, func.coalesce(func.sum(Sale.total), 0)).where(
        Sale.store_id == store.id, Sale.booked_day == day).group_by(Sale.kind)).all())
    net = int(sums.get("sale", 0)) - int(sums.get("refund", 0))
    for v in db.scalars(select(Sale).where(Sale.store_id == store.id, Sale.booked_day == day, Sale.kind == "void")):
        # a void takes back what its original counted (its own total may hold the original's tip)
        orig = voided(db, v.terminal_id, json.loads(v.body)["original_invoice"])
        net += (orig.total if orig is not None else v.total) * (1 if orig is not None and orig.kind == "refund" else -1)
    close = DayClose(merchant_id=store.merchant_id, store_id=store.id, day=day, closed_by=closed_by[:120],
                     sales=counts.get("sale", 0), refunds=counts.get("refund", 0), net=net)
    db.add(close)
    return close


def voids_on(db, store_id, day):
    """How many voids are booked on `day` of the store."""
    return db.scalar(select(func.count(Sale.id)).where(Sale.store_id == store_id, Sale.booked_day == day,
                                                       Sale.kind == "void"))
