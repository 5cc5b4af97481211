# The sale flow: amount, tender, and for cash the amount tendered, change,
# cash drawer and receipt.  Card and QR tenders join here as their flows land.
from pos.app import batch, counters, money, receipt, status
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import AmountEntry, Info, Menu, format_amount

CURRENCY = money.CODE
# round notes offered as quick-cash keys (F2-F4) above the amount due, in whole units
NOTES = (5, 10, 20, 50, 100, 200, 500, 1000)


def quick_cash(due):
    """[(key, label, minor)]: F1 the exact amount, then the next round notes above it."""
    out = [("F1", t("exact"), due)]
    unit = 10 ** money.EXPONENT
    for note in NOTES:
        minor = note * unit
        if minor > due and len(out) < 4:
            out.append(("F%d" % (len(out) + 1), "F%d" % (len(out) + 1), minor))
    return out


class SaleFlow:
    def __init__(self, printer, merchant, tips=False, basket=None, on_paid=None):
        self.basket = basket       # pos.app.basket.Basket: its lines and tax on the receipt
        self.on_paid = on_paid     # fn(tender, entry) -> stack action: an installed app's payment
        self.printer = printer
        self.merchant = merchant
        self.tips = tips           # the merchant's setting: ask for a tip after the amount
        self.total = 0
        self.paid = 0
        self.tenders = []
        self.change = 0
        self.tip = 0
        self.tip_asked = False
        self.notes = []            # receipt lines under the tenders (a gift card's balance left)

    def start(self, first_key=None):
        entry = AmountEntry(t("sale"), self._amount_done, CURRENCY, money.EXPONENT)
        if first_key:
            entry.on_key(first_key)
        return ("push", entry)

    def tender(self, minor):
        """A total decided elsewhere (an installed app's request_payment): the tender menu."""
        return self._amount_done(minor)

    def _amount_done(self, minor):
        if self.tips and not self.tip_asked:
            self.tip_asked = True
            return ("replace", AmountEntry(t("tip"), lambda tip: self._with_tip(minor, tip), CURRENCY,
                                           money.EXPONENT, limit=max(minor // 2, 1), allow_zero=True))
        self.total = minor
        self.paid = 0
        self.tenders = []          # split tender: [(tender, amount, invoice)]
        self.change = 0
        return ("replace", self._tender_menu())

    def pay(self, minor):
        """A basket's total as the amount due: the tenders over the basket (CANCEL: back to it)."""
        self.total = minor
        return ("push", self._tender_menu())

    def ended(self):
        """The sale is over; the basket's closing screen (a member's points), if any."""
        if self.basket is not None:
            return self.basket.end()
        return None

    @property
    def remaining(self):
        return self.total - self.paid

    def _tender_menu(self):
        title = "%s %s" % (t("sale"), format_amount(self.remaining, CURRENCY))
        items = [
            (t("cash"), self._cash),
            (t("card"), lambda: self._card(self.remaining)),
            (t("qr"), self._qr),
        ]
        if self.on_paid is not None:
            del items[2:]          # an app's payment: one cash or card tender
        elif not self.tenders:
            items.append((t("split"), self._split))
        if self.on_paid is None:
            items.append((t("gift"), self._gift))
        if self.basket is not None and self.basket.member is not None:
            items.append((t("ewallet"), self._ewallet))
        return Menu(title, items)

    def _ewallet(self):
        from pos.app.ewallet import EWalletTender
        return ("push", EWalletTender(self))

    def _gift(self):
        from pos.app.giftcard import GiftCardTender
        return ("push", GiftCardTender(self))

    def paid_by(self, tender, amount, inv):
        """A tender of another module paid `amount` under invoice `inv` (pos.app.giftcard): the
        sale goes on with the rest (split) or ends."""
        return self._paid(tender, amount, inv)

    def _qr(self):
        return ("push", Menu(t("qr"), [(t("show_qr"), self._qr_show), (t("scan_code"), self._qr_scan)]))

    def _qr_scan(self):
        from pos.app.qr_pay import CustomerQR
        return ("replace", CustomerQR(self.remaining, "%06d" % counters.peek_invoice(), on_result=self._qr_done))

    def _qr_show(self):
        from pos.app.qr_pay import MerchantQR
        return ("replace", MerchantQR(self.remaining, "%06d" % counters.peek_invoice(), on_result=self._qr_done))

    def _qr_done(self, e):
        """A wallet paid: its receipt, then the sale goes on (split) or ends -- never back to
        a tender menu for an amount already paid."""
        from pos.app.qr_pay import QRResult
        if self.basket is not None or self.tenders or e["amount"] != self.total:
            return self._paid("qr", e["amount"], e["inv"])
        self.paid = self.total
        self.tenders.append(("qr", e["amount"], e["inv"]))
        return ("replace", QRResult(self.printer, self.merchant, e))

    def _split(self):
        """Split tender: an amount for this tender, then the tender; repeat until paid."""
        return ("push", AmountEntry(t("split"), self._split_amount, CURRENCY, money.EXPONENT,
                                    limit=self.remaining))

    def _split_amount(self, part):
        self.part = part
        return ("replace", Menu("%s %s" % (t("split"), format_amount(part, CURRENCY)), [
            (t("cash"), lambda: self._cash_part(part)),
            (t("card"), lambda: self._card(part)),
        ]))

    def _with_tip(self, base, tip):
        self.tip = tip
        return self._amount_done(base + tip)

    def _card(self, amount):
        from pos.app.card import CardTender
        if self.on_paid is not None:
            return ("push", CardTender(self.merchant, amount, on_result=lambda e: self.on_paid("card", e)))
        if amount == self.total and not self.tenders and self.basket is None:
            # the card pays the whole sale: a bank's card-linked offer may lower it
            return ("push", CardTender(self.merchant, amount, tip=self.tip, offers=True))
        return ("push", CardTender(self.merchant, amount, on_result=self._card_part_done))

    def _card_part_done(self, e):
        from pos.app.card import print_both
        if not e["ok"]:
            return ("replace", Info(t("card"), [e["result"], e.get("text", "")[:28],
                                                "%s %s" % (t("remaining"), format_amount(self.remaining, CURRENCY))]))
        print_both(self.printer, self.merchant, e)
        return self._paid("card", e["amount"], e["inv"])

    def _cash_part(self, part):
        inv = counters.next_invoice()
        counters.record_sale("cash", part)
        batch.record({"inv": inv, "kind": "sale", "tender": "cash", "amount": part, "ok": True,
                      "op": status.operator.name if status.operator else "CASHIER"})
        if self.printer is not None:
            self.printer.kick_drawer()
        return self._paid("cash", part, inv)

    def _paid(self, tender, amount, inv):
        self.paid += amount
        self.tenders.append((tender, amount, inv))
        if self.remaining > 0:
            return ("replace", self._tender_menu())
        done = SplitDone(self)
        done.finish()
        return ("replace", done)

    def _cash(self):
        # a tendered amount more than 10,000.00 over what is due is a keying error
        due = self.remaining
        return ("push", AmountEntry(t("cash_tendered"), self._tendered, CURRENCY, money.EXPONENT,
                                    limit=due + 10000 * 10 ** money.EXPONENT, quick=quick_cash(due)))

    def _tendered(self, minor):
        due = self.remaining
        if minor < due:
            return ("push", Info(t("cash"), [t("not_enough_cash"),
                                             format_amount(due, CURRENCY)]))
        if self.tenders:                       # the last part of a split tender
            self.change = minor - due
            return self._cash_part(due)
        invoice = counters.next_invoice()
        done = CashDone(self, invoice, minor)
        done.finish()
        return ("replace", done)


class CashDone(Screen):
    """Change due; drawer kicked; receipt printed (or a prompt to fix the printer)."""
    timeout_ms = 30000

    def __init__(self, flow, invoice, tendered):
        self.entry = None
        self.flow = flow
        self.invoice = invoice
        self.tendered = tendered
        self.message = ""

    def finish(self):
        counters.record_sale("cash", self.flow.total)
        self.entry = {"inv": self.invoice, "kind": "sale", "tender": "cash", "amount": self.flow.total,
                      "tendered": self.tendered, "ok": True,
                      "op": status.operator.name if status.operator else "CASHIER"}
        batch.record(self.entry)                    # a basket's lines and member: Basket.paid
        if self.flow.basket is not None:
            self.flow.basket.redeem(self.invoice)    # its coupons redeemed, next-order ones signed
        p = self.flow.printer
        if p is None:
            self.message = t("no_printer")
            return
        p.kick_drawer()
        self._print()

    def _print(self):
        from pos.app import services
        mid, tid = services.terminal_ids()
        self.message = receipt.printed(lambda p: receipt.print_cash_sale(
            p, self.flow.merchant, self.invoice, self.flow.total, self.tendered, CURRENCY, mid=mid, tid=tid,
            basket=self.flow.basket),
            self.flow.printer)

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
            after = self.flow.ended()
            if self.flow.on_paid is not None:
                return self.flow.on_paid("cash", self.entry)
            return after or ("home",)
        return None


class SplitDone(Screen):
    """The sale is paid across tenders: a summary receipt (each card part had its own)."""
    timeout_ms = 30000

    def __init__(self, flow):
        self.flow = flow
        self.message = ""

    def finish(self):
        if self.flow.basket is not None:
            self.flow.basket.redeem(self.flow.tenders[-1][2])
        p = self.flow.printer
        if p is None:
            self.message = t("no_printer")
            return
        self._print()

    def _print(self):
        self.message = receipt.printed(lambda p: receipt.print_split(
            p, self.flow.merchant, self.flow.total, self.flow.tenders, CURRENCY, self.flow.basket, self.flow.notes),
            self.flow.printer)

    def draw(self, c):
        c.title(t("split"), format_amount(self.flow.total, CURRENCY))
        for i, (tender, amount, inv) in enumerate(self.flow.tenders[:6]):
            c.text("%06d %-5s %s" % (inv, t(tender)[:5], format_amount(amount, CURRENCY)), i)
        c.center(t("paid"), 7)
        if self.flow.change:
            c.text("%s %s" % (t("change"), format_amount(self.flow.change, CURRENCY)), 8)
        c.text(self.message, 9)
        c.footer(t("enter_done_f1_reprint"))

    def on_key(self, key):
        if key == "F1":
            self._print()
            return "redraw"
        if key in ("ENTER", "CANCEL"):
            return self.flow.ended() or ("home",)     # a member's points on the customer's screen
        return None
