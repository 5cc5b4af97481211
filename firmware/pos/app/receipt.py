# Receipts on the ESC/POS printer (58 mm, 32 columns of font A).  Nothing on a receipt
# is cut short: a merchant name longer than a line wraps at a space (or is split), and
# fields that can be long (application label, host text) wrap the same way.
import time

from pos.app import status
from pos.drivers import escpos
from pos.ui.widgets import format_amount, wrap

WIDE_COLUMNS = escpos.COLUMNS // 2          # double-width characters per line


def printed(job, printer):
    """Run `job(printer)` (one whole receipt or report); the message for the screen.  The
    printer's status is read before anything prints (escpos.check_ready in each job) and
    the status bar learns the paper state either way."""
    from pos.ui.messages import t
    if printer is None:
        return t("no_printer")
    try:
        job(printer)
        status.paper = "ok"
        return t("receipt_printed")
    except escpos.PaperOut:
        status.paper = "out"
        return t("paper_out_reprint")
    except escpos.PrinterError as exc:
        return str(exc)[:28]


def now():
    y, mo, d, h, mi, s = time.localtime()[:6]
    return "%04d-%02d-%02d %02d:%02d:%02d" % (y, mo, d, h, mi, s)


def header(printer, merchant):
    """Check the printer, then the merchant's name (double size), centred; returns the printer."""
    printer.check_ready()
    p = printer
    p.init()
    p.align(escpos.ALIGN_CENTER)
    p.double()
    for ln in wrap(merchant, WIDE_COLUMNS):
        p.line(ln)
    p.normal()
    return p


def ids(p, mid, tid):
    if mid:
        p.line("MID %s" % mid)
    if tid:
        p.line("TID %s" % tid)


def print_cash_sale(printer, merchant, invoice, total, tendered, currency="USD", copy="CUSTOMER COPY",
                    mid="", tid="", basket=None):
    """One cash-sale receipt; raises escpos.PrinterError (nothing half-printed is
    counted as printed: the caller reprints the whole receipt after the fix)."""
    p = header(printer, merchant)
    ids(p, mid, tid)
    p.line(now())
    p.line("INVOICE %06d" % invoice)
    p.align(escpos.ALIGN_LEFT)
    p.line("-" * escpos.COLUMNS)
    if basket is not None:
        basket.print_lines(p)               # the items and the tax per rate (pos.app.basket)
    p.bold()
    p.columns("SALE", "")
    p.columns("TOTAL", format_amount(total, currency))
    p.bold(False)
    p.columns("CASH", format_amount(tendered, currency))
    p.columns("CHANGE", format_amount(tendered - total, currency))
    if basket is not None:
        basket.print_member(p)              # a member's points and next reward (pos.app.basket)
    p.line("-" * escpos.COLUMNS)
    p.align(escpos.ALIGN_CENTER)
    p.line(copy)
    p.line("THANK YOU")
    if basket is not None:
        basket.print_coupons(p)             # next-order coupons end the receipt (pos.app.basket)
    p.cut()


_KIND_TITLE = {"sale": "SALE", "refund": "REFUND", "void": "VOID", "preauth": "PRE-AUTH",
               "completion": "COMPLETION", "balance": "BALANCE"}


def cvm_text(cvm, signature_required=False, approved=True):
    """The receipt's verification line from the kernel's CVM name (pos.emv.cvm.NAMES).
    A declined transaction has nothing to sign, and an online PIN was verified only if the
    issuer approved: both print no line ("")."""
    if signature_required or cvm == "signature":
        return "SIGNATURE" if approved else ""
    if cvm == "online PIN":
        return "PIN VERIFIED ONLINE" if approved else ""
    if cvm.startswith("offline"):
        return "PIN VERIFIED"
    if cvm == "consumer device CVM":
        return "VERIFIED ON DEVICE"
    return "NO CVM REQUIRED" if cvm in ("no CVM required", "none", "") else cvm.upper()


def print_card(printer, merchant, e, currency="USD", copy="CUSTOMER COPY"):
    """A card receipt from a batch entry `e` (pos.app.batch): the fields EMV and the
    schemes ask for; the PAN is the masked one the entry holds.  Raises
    escpos.PrinterError like print_cash_sale (the caller reprints in full)."""
    p = header(printer, merchant)
    ids(p, e.get("mid", ""), e.get("tid", ""))
    p.line(e.get("dt") or now())
    p.align(escpos.ALIGN_LEFT)
    p.columns("INVOICE %06d" % e["inv"], "STAN %s" % e.get("stan", ""))
    p.line("-" * escpos.COLUMNS)
    p.bold()
    p.line(_KIND_TITLE.get(e["kind"], e["kind"].upper()))
    p.bold(False)
    label = e.get("label") or "CARD"
    entry = e.get("entry", "CHIP")
    if len(label) + len(entry) < escpos.COLUMNS:
        p.columns(label, entry)
    else:
        for ln in wrap(label, escpos.COLUMNS):
            p.line(ln)
        p.columns("", entry)
    p.line(e.get("pan", ""))
    if e.get("aid"):
        p.columns("AID", e["aid"])
    if e.get("tvr"):
        p.columns("TVR", e["tvr"])
        p.columns("TSI", e.get("tsi", ""))
    if e.get("cryptogram"):
        p.columns(e.get("ctype", "AC"), e["cryptogram"])
    p.line("-" * escpos.COLUMNS)
    p.bold()
    amount = e["amount"]
    if e.get("disc"):
        # a bank's card-linked offer (docs/bank-offers.md): the bank pays the discount
        p.bold(False)
        p.columns("PRICE", format_amount(e.get("price", amount + e["disc"]), currency))
        for ln in wrap("%s OFFER %s" % (e.get("bank", ""), e.get("offer", "")), escpos.COLUMNS):
            p.line(ln)
        p.columns("PAID BY BANK", format_amount(-e["disc"], currency))
        p.bold()
    if e.get("tip"):
        p.columns("BASE", format_amount(amount, currency))
        p.columns("TIP", format_amount(e["tip"], currency))
        amount += e["tip"]
    p.columns("TOTAL", format_amount(-amount if e["kind"] == "refund" else amount, currency))
    p.bold(False)
    p.line("-" * escpos.COLUMNS)
    p.align(escpos.ALIGN_CENTER)
    p.double(False, True)
    p.line(e.get("result", ""))
    p.normal()
    if e.get("auth"):
        p.line("APPROVAL CODE %s" % e["auth"])
    if e.get("rc"):
        for ln in wrap("RESPONSE %s %s" % (e["rc"], e.get("text", "")), escpos.COLUMNS):
            p.line(ln)
    elif e.get("text"):
        for ln in wrap(e["text"], escpos.COLUMNS):
            p.line(ln)
    cvm = cvm_text(e.get("cvm", ""), e.get("sig", False), bool(e.get("ok")))
    if cvm == "SIGNATURE" and copy == "MERCHANT COPY":
        p.feed(2)
        p.line("X" + "_" * (escpos.COLUMNS - 2))
        p.line("CARDHOLDER SIGNATURE")
    elif cvm:
        p.line(cvm)
    if e.get("ref"):
        p.qr(e["ref"], module=4)
    p.line(copy)
    p.cut()


def print_split(printer, merchant, total, tenders, currency="USD", basket=None, notes=()):
    """The summary of a sale paid with several tenders [(tender, amount, invoice)] (or by one
    that is not cash or card: a gift card), `notes` under the tenders (a gift card's balance)."""
    p = header(printer, merchant)
    p.line(now())
    p.line("SPLIT TENDER" if basket is None and len(tenders) > 1 else "SALE")
    p.align(escpos.ALIGN_LEFT)
    p.line("-" * escpos.COLUMNS)
    if basket is not None:
        basket.print_lines(p)
        p.line("-" * escpos.COLUMNS)
    for tender, amount, inv in tenders:
        p.columns("%06d %s" % (inv, {"gift": "GIFT CARD", "ewallet": "E-WALLET"}.get(tender) or tender.upper()), format_amount(amount, currency))
    for n in notes:
        p.line(n[:escpos.COLUMNS])
    p.line("-" * escpos.COLUMNS)
    p.bold()
    p.columns("TOTAL", format_amount(total, currency))
    p.bold(False)
    if basket is not None:
        basket.print_member(p)              # a member's points and next reward (pos.app.basket)
    p.align(escpos.ALIGN_CENTER)
    p.line("THANK YOU")
    if basket is not None:
        basket.print_coupons(p)
    p.cut()


def print_qr_sale(printer, merchant, e, currency="USD", mid="", tid="", copy="CUSTOMER COPY"):
    """A wallet (QR) payment's receipt from its batch entry `e`."""
    p = header(printer, merchant)
    ids(p, mid, tid)
    p.line(now())
    p.line("INVOICE %06d" % e["inv"])
    p.align(escpos.ALIGN_LEFT)
    p.line("-" * escpos.COLUMNS)
    p.bold()
    p.columns("SALE", "QR WALLET")
    p.columns("TOTAL", format_amount(e["amount"], currency))
    p.bold(False)
    if e.get("order"):
        p.columns("ORDER", e["order"])
    if e.get("wallet"):
        p.columns("WALLET TXN", e["wallet"])
    p.line("-" * escpos.COLUMNS)
    p.align(escpos.ALIGN_CENTER)
    p.double(False, True)
    p.line(e.get("result", "APPROVED"))
    p.normal()
    p.line(copy)
    p.line("THANK YOU")
    p.cut()
