# The gift card tender at the counter (docs/gift-cards.md): the card's number scanned or keyed,
# its balance asked of the cloud, the amount spent there under this sale's invoice (the
# terminal and invoice are the idempotency key: ENTER after no answer sends the same request
# again, and the cloud spends once).  A card holding less than is due: the screen says so and
# offers its balance; the rest is paid by another tender through the split path of the sale
# (pos.app.sale.SaleFlow.paid_by).  A refund of a gift-card sale goes back to the card, which
# is presented again (GiftCardRefund).
#
#   digits ENTER: the number keyed    a scan: the number read    ENTER: take the balance
#   CANCEL: back to the tenders (nothing spent)
import asyncio

from pos import hw, log
from pos.app import batch, counters, money, receipt, status
from pos.drivers import escpos
from pos.giftcard import GiftCardError, masked, read, short
from pos.ui.screen import Screen
from pos.ui.widgets import format_amount

CURRENCY = money.CODE
_READ, _ASKING, _SHORT, _SPENDING, _UNKNOWN = 0, 1, 2, 3, 4


def _cashier():
    return status.operator.name if status.operator else "CASHIER"


class GiftCardTender(Screen):
    """Reads a gift card and spends the amount due (or the card's balance, when less) from it."""
    timeout_ms = 120000

    def __init__(self, flow):
        self.flow = flow            # pos.app.sale.SaleFlow
        self.due = flow.remaining
        self.state = _READ
        self.typed = ""
        self.note = ""
        self.number = ""
        self.balance = 0
        self.amount = 0
        self.invoice = 0            # taken at the first redemption request, kept for its retries
        self.task = None
        self.result = None          # the task's outcome: balance, or a GiftCardError

    def draw(self, c):
        c.title("GIFT CARD", format_amount(self.due, CURRENCY))
        if self.state == _READ:
            c.text("Scan or key gift card", 0)
            c.text("number + ENTER", 1)
            if self.typed:
                c.text("NO. %s_" % self.typed, 3)
        elif self.state == _ASKING:
            c.text("CARD %s" % masked(self.number), 0)
            c.text("Asking the cloud ...", 3)
        elif self.state == _SHORT:
            c.text("CARD %s" % masked(self.number), 0)
            c.text("BALANCE %s" % format_amount(self.balance, CURRENCY), 1)
            c.text("LESS THAN DUE %s" % format_amount(self.due, CURRENCY), 2)
            c.text("ENTER: TAKE %s" % format_amount(self.balance, CURRENCY), 4)
            c.text("rest by another tender", 5)
        elif self.state == _SPENDING:
            c.text("CARD %s" % masked(self.number), 0)
            c.text("Spending %s ..." % format_amount(self.amount, CURRENCY), 3)
        else:
            c.text("CARD %s" % masked(self.number), 0)
            c.text("NO ANSWER: ENTER TO RETRY", 3)
            c.text("INVOICE %06d" % self.invoice, 4)
        if self.note:
            c.text(self.note[:28], 6)
            c.text(self.note[28:56], 7)
        c.footer("ENTER ok  CANCEL back")

    # -- the cloud, in the background ---------------------------------------------------
    async def _ask(self):
        from pos.giftcard import cloud
        try:
            self.result = await cloud.balance(self.number)
        except Exception as e:            # GiftCardError: the message; anything else too, the counter stays up
            self.result = e

    async def _spend(self):
        from pos.giftcard import cloud
        try:
            self.result = await cloud.redeem(self.number, self.invoice, self.amount)
        except Exception as e:
            self.result = e

    def _start(self, state, job):
        self.state = state
        self.note = ""
        self.result = None
        self.task = asyncio.create_task(job())

    def _number(self, text):
        try:
            self.number = read(text)
        except GiftCardError as e:
            self.note = str(e)
            return "redraw"
        self._start(_ASKING, self._ask)
        return "redraw"

    def _spend_now(self, amount):
        if not self.invoice:
            self.invoice = counters.next_invoice()      # the idempotency key from here on
        self.amount = amount
        self._start(_SPENDING, self._spend)
        return "redraw"

    def _answered(self):
        r = self.result
        self.task = None
        if self.state == _ASKING:
            if isinstance(r, Exception):
                self.state = _READ
                self.note = str(r)
                log.info("giftcard", "refused", err=self.note)
                return "redraw"
            self.balance = r
            if r <= 0:
                self.state = _READ
                self.note = "card %s is empty" % short(self.number)
                return "redraw"
            if r < self.due:
                self.state = _SHORT              # the cashier decides: take the balance or not
                return "redraw"
            return self._spend_now(self.due)
        from pos.giftcard import cloud
        if isinstance(r, cloud.Offline):
            self.state = _UNKNOWN                # the same request again, never a new one
            self.note = str(r)
            log.warning("giftcard", "no answer", inv=self.invoice)
            return "redraw"
        if isinstance(r, Exception):
            self.state = _READ
            self.note = str(r)
            log.info("giftcard", "refused", err=self.note, inv=self.invoice)
            return "redraw"
        return self._paid(r)

    def _paid(self, left):
        flow = self.flow
        entry = {"inv": self.invoice, "kind": "sale", "tender": "gift", "amount": self.amount, "ok": True,
                 "gc": masked(self.number), "gcbal": left, "op": _cashier()}
        counters.record_sale("gift", self.amount)
        if flow.basket is not None and self.amount == flow.total and not flow.tenders:
            flow.basket.paid(entry)              # the whole basket on the card: its lines, its member
        batch.record(entry)
        log.info("giftcard", "spent", card=entry["gc"], inv=self.invoice, amount=self.amount, left=left)
        flow.notes.append("GIFT CARD %s LEFT %s" % (entry["gc"][-4:], format_amount(left, CURRENCY)))
        return flow.paid_by("gift", self.amount, self.invoice)

    def tick(self, c):
        if self.task is not None:
            if not self.task.done():
                return False
            return self._answered()
        if self.state != _READ:
            return False
        sc = hw.scanner()
        if sc is None:
            return False
        try:
            code = sc.poll()
        except Exception as e:
            self.note = str(e)
            return "redraw"
        if code is None:
            return False
        return self._number(code)

    def on_key(self, key):
        if self.task is not None:
            return None                       # the request runs to its answer or its timeout
        if key == "CANCEL":
            if self.state == _UNKNOWN:
                log.warning("giftcard", "left without an answer", inv=self.invoice, card=masked(self.number))
            return ("pop",)
        if self.state == _READ:
            if len(key) == 1 and "0" <= key <= "9" and len(self.typed) < 12:
                self.typed += key
                self.note = ""
                return "redraw"
            if key == "CLEAR":
                self.typed = self.typed[:-1]
                return "redraw"
            if key == "ENTER" and self.typed:
                typed, self.typed = self.typed, ""
                return self._number(typed)
            return None
        if key == "ENTER" and self.state == _SHORT:
            return self._spend_now(self.balance)
        if key == "ENTER" and self.state == _UNKNOWN:
            self._start(_SPENDING, self._spend)
            return "redraw"
        return None


class GiftCardRefund(Screen):
    """A refund of gift-card sale `e` back to the card: the card presented again (scanned or
    keyed), the cloud gives back at most what that invoice spent from it."""
    timeout_ms = 120000

    def __init__(self, merchant, e, amount, op):
        self.merchant = merchant
        self.e = e
        self.amount = amount
        self.op = op
        self.typed = ""
        self.note = ""
        self.number = ""
        self.invoice = 0
        self.task = None
        self.result = None
        self.done = None            # the refund's transaction-list entry once given back

    def draw(self, c):
        c.title("GIFT CARD REFUND", format_amount(self.amount, CURRENCY))
        c.text("ORIGINAL %06d %s" % (self.e["inv"], self.e.get("gc", "")), 0)
        if self.done is not None:
            c.text("BACK ON CARD %s" % self.done["gc"], 2)
            c.text("BALANCE %s" % format_amount(self.done["gcbal"], CURRENCY), 3)
        elif self.task is not None:
            c.text("Asking the cloud ...", 3)
        else:
            c.text("Scan or key the same card", 2)
            if self.typed:
                c.text("NO. %s_" % self.typed, 3)
        if self.note:
            c.text(self.note[:28], 6)
            c.text(self.note[28:56], 7)
        c.footer("ENTER ok  CANCEL back")

    async def _refund(self):
        from pos.giftcard import cloud
        try:
            self.result = await cloud.refund(self.number, self.invoice, self.e["inv"], self.amount)
        except Exception as e:
            self.result = e

    def _number(self, text):
        try:
            number = read(text)
        except GiftCardError as e:
            self.note = str(e)
            return "redraw"
        if masked(number) != self.e.get("gc"):
            self.note = "not the card of invoice %06d" % self.e["inv"]
            return "redraw"
        if not self.invoice or number != self.number:
            self.invoice = counters.next_invoice()
        self.number = number
        self.note = ""
        self.task = asyncio.create_task(self._refund())
        return "redraw"

    def _answered(self):
        r = self.result
        self.task = None
        if isinstance(r, Exception):
            self.note = str(r)
            log.info("giftcard", "refund refused", err=self.note, inv=self.invoice)
            return "redraw"
        n = {"inv": self.invoice, "kind": "refund", "tender": "gift", "amount": self.amount, "ok": True,
             "orig": self.e["inv"], "gc": masked(self.number), "gcbal": r, "op": self.op.name}
        batch.record(n)
        counters.record_sale("gift_refund", self.amount)
        self.done = n
        self.note = receipt.printed(self._print, hw.printer())
        return "redraw"

    def _print(self, printer):
        p = receipt.header(printer, self.merchant)
        p.line(receipt.now())
        p.line("GIFT CARD REFUND")
        p.align(escpos.ALIGN_LEFT)
        p.line("-" * escpos.COLUMNS)
        n = self.done
        p.columns("INVOICE %06d" % n["inv"], "ORIG %06d" % n["orig"])
        p.columns("GIFT CARD " + n["gc"], "-" + format_amount(n["amount"], CURRENCY))
        p.columns("BALANCE LEFT", format_amount(n["gcbal"], CURRENCY))
        p.cut()

    def tick(self, c):
        if self.task is not None:
            if not self.task.done():
                return False
            return self._answered()
        if self.done is not None:
            return False
        sc = hw.scanner()
        if sc is None:
            return False
        try:
            code = sc.poll()
        except Exception as e:
            self.note = str(e)
            return "redraw"
        return self._number(code) if code is not None else False

    def on_key(self, key):
        if self.task is not None:
            return None
        if self.done is not None:
            return ("home",) if key in ("ENTER", "CANCEL") else None
        if key == "CANCEL":
            return ("pop",)
        if len(key) == 1 and "0" <= key <= "9" and len(self.typed) < 12:
            self.typed += key
            return "redraw"
        if key == "CLEAR":
            self.typed = self.typed[:-1]
            return "redraw"
        if key == "ENTER" and self.typed:
            typed, self.typed = self.typed, ""
            return self._number(typed)
        return None
