"""The receipt of a stored sale as text (40 columns, as the terminal's printer prints it), from
what the terminal uploaded: lines, discounts, tax per rate, tenders with masked card data and
their host and EMV references."""
import json

from cloud.sales import books
from cloud.currency import currency, decimal_text
from cloud.sales.contract import SaleIn, total_of

WIDTH = 40


def _row(left, right):
    room = WIDTH - len(right) - 1
    return left[:room].ljust(room) + " " + right


def render(sale, store, merchant):
    s = SaleIn.model_validate(json.loads(sale.body))
    cur = currency(s.currency)
    exp = cur.exponent
    when = s.terminal_time.astimezone(books.store_zone(store))
    out = [merchant.name[:WIDTH].center(WIDTH), store.name[:WIDTH].center(WIDTH)]
    if store.address:
        out.append(store.address[:WIDTH].center(WIDTH))
    out.append("")
    out.append(_row("%s %d" % ({"refund": "REFUND", "void": "VOID"}.get(s.kind, "INVOICE"), s.invoice),
                    when.strftime("%Y-%m-%d %H:%M")))
    out.append(_row("TERMINAL " + sale.terminal.controller_id, s.cashier and "CASHIER " + s.cashier[:12] or ""))
    if s.original_invoice:
        out.append("%s OF INVOICE %d" % (s.kind.upper(), s.original_invoice))
    out.append("-" * WIDTH)
    for ln in s.lines:
        label = ln.name or ln.sku
        if ln.qty != 1:
            out.append(label[:WIDTH])
            out.append(_row("  %d x %s" % (ln.qty, decimal_text(ln.unit_price, exp)), decimal_text(ln.amount, exp)))
        else:
            out.append(_row(label, decimal_text(ln.amount, exp)))
    for d in s.discounts:
        who = "" if d.funder == "shop" else " (%s)" % d.campaign
        out.append(_row((d.label or "Discount") + who, decimal_text(-d.amount, exp)))
    out.append("-" * WIDTH)
    out.append(_row("TOTAL " + cur.code, decimal_text(total_of(s), exp)))
    if s.tip:
        out.append(_row("TIP", decimal_text(s.tip, exp)))
        out.append(_row("TOTAL WITH TIP", decimal_text(total_of(s) + s.tip, exp)))
    for bp, charged, tax in books.tax_by_rate(s):
        out.append(_row("  incl. tax %s%% on %s" % (books.rate_text(bp).replace("-", "."), decimal_text(charged, exp)),
                        decimal_text(tax, exp)))
    out.append("")
    for t in s.tenders:
        if t.type == "card":
            c = t.card
            out.append(_row("%s %s" % ((c.scheme or "CARD").upper(), c.masked_pan), decimal_text(t.amount, exp)))
            out.append("  %s  AUTH %s  RRN %s" % (c.entry_mode.upper(), c.auth_code or "-", c.rrn or "-"))
            if c.emv is not None and c.emv.aid:
                out.append("  AID %s  TVR %s" % (c.emv.aid, c.emv.tvr or "-"))
                if c.emv.cryptogram:
                    out.append("  AC %s  TSI %s" % (c.emv.cryptogram, c.emv.tsi or "-"))
        elif t.type == "wallet":
            out.append(_row("WALLET " + t.wallet.name, decimal_text(t.amount, exp)))
            if t.wallet.order_ref:
                out.append("  ORDER " + t.wallet.order_ref[:WIDTH - 8])
        else:
            out.append(_row({"cash": "CASH", "stored_value": "E-WALLET"}.get(t.type, "GIFT CARD"), decimal_text(t.amount, exp)))
    if s.member_id:
        out.append("")
        out.append("MEMBER " + s.member_id[:WIDTH - 7])
    out.append("")
    out.append(("RECEIPT %d" % sale.id).center(WIDTH))
    return "\n".join(out) + "\n"
