# The sale flow: amount, tender, and for cash the amount tendered, change,
# cash drawer and receipt.  Card and QR tenders join here as their flows land.
from pos.app import counters, receipt, status
from pos.drivers import escpos
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import AmountEntry, Info, Menu, format_amount

CURRENCY = "USD"


class SaleFlow:
    def __init__(self, printer, merchant):
        self.printer = printer
        self.merchant = merchant
        self.total = 0

    def start(self, first_key=None):
        entry = AmountEntry(t("sale"), self._amount_done, CURRENCY)
        if first_key:
            entry.on_key(first_key)
        return ("push", entry)

    def _amount_done(self, minor):
        self.total = minor
        return ("replace", Menu("%s %s" % (t("sale"), format_amount(minor, CURRENCY)), [
            (t("cash"), self._cash),
            (t("card"), lambda: ("push", Info(t("card"), [t("not_yet")]))),
            (t("qr"), lambda: ("push", Info(t("qr"), [t("not_yet")]))),
        ]))

    def _cash(self):
        # a tendered amount more than 10,000.00 over the total is a keying error
        return ("push", AmountEntry(t("cash_tendered"), self._tendered, CURRENCY,
                                    limit=self.total + 1000000))

    def _tendered(self, minor):
        if minor < self.total:
            return ("push", Info(t("cash"), [t("not_enough_cash"),
                                             format_amount(self.total, CURRENCY)]))
        invoice = counters.next_invoice()
        done = CashDone(self, invoice, minor)
        done.finish()
        return ("replace", done)


class CashDone(Screen):
    """Change due; drawer kicked; receipt printed (or a prompt to fix the printer)."""
    timeout_ms = 30000

    def __init__(self, flow, invoice, tendered):
        self.flow = flow
        self.invoice = invoice
        self.tendered = tendered
        self.message = ""

    def finish(self):
        counters.record_sale("cash", self.flow.total)
        status.batch_count += 1
        p = self.flow.printer
        if p is None:
            self.message = t("no_printer")
            return
        p.kick_drawer()
        self._print()

    def _print(self):
        try:
            receipt.print_cash_sale(self.flow.printer, self.flow.merchant, self.invoice,
                                    self.flow.total, self.tendered, CURRENCY)
            self.message = t("receipt_printed")
            status.paper = "ok"
        except escpos.PaperOut:
            status.paper = "out"
            self.message = t("paper_out_reprint")
        except escpos.PrinterError as e:
            self.message = str(e)[:28]

    def draw(self, c):
        c.title(t("sale") + " " + t("cash"))
        c.text("%s %s" % (t("total"), format_amount(self.flow.total, CURRENCY)), 0)
        c.text("%s %s" % (t("cash"), format_amount(self.tendered, CURRENCY)), 1)
        c.text(t("change"), 3)
        c.center(format_amount(self.tendered - self.flow.total, CURRENCY), 5, scale=2)
        c.text(self.message, 8)
        c.footer(t("enter_done_f1_reprint"))

    def on_key(self, key):
        if key == "F1":                       # reprint the whole receipt (after loading paper)
            self._print()
            return "redraw"
        if key in ("ENTER", "CANCEL"):
            return ("home",)
        return None
