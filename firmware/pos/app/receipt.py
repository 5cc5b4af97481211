# Receipts on the ESC/POS printer (58 mm, 32 columns of font A).
import time

from pos.drivers import escpos
from pos.ui.widgets import format_amount


def _now():
    y, mo, d, h, mi, s = time.localtime()[:6]
    return "%04d-%02d-%02d %02d:%02d:%02d" % (y, mo, d, h, mi, s)


def print_cash_sale(printer, merchant, invoice, total, tendered, currency="USD", copy="CUSTOMER COPY"):
    """One cash-sale receipt; raises escpos.PrinterError (nothing half-printed is
    counted as printed: the caller reprints the whole receipt after the fix)."""
    printer.check_ready()
    p = printer
    p.init()
    p.align(escpos.ALIGN_CENTER)
    p.double()
    p.line(merchant[:16])
    p.normal()
    p.line(_now())
    p.line("INVOICE %06d" % invoice)
    p.align(escpos.ALIGN_LEFT)
    p.line("-" * escpos.COLUMNS)
    p.bold()
    p.columns("SALE", "")
    p.columns("TOTAL", format_amount(total, currency))
    p.bold(False)
    p.columns("CASH", format_amount(tendered, currency))
    p.columns("CHANGE", format_amount(tendered - total, currency))
    p.line("-" * escpos.COLUMNS)
    p.align(escpos.ALIGN_CENTER)
    p.line(copy)
    p.line("THANK YOU")
    p.cut()
