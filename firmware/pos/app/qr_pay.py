# Merchant-presented QR: the terminal opens an order on the wallet host, shows an EMVCo MPM
# payload (dynamic, the amount, the order as reference label) as a QR code for the
# customer's wallet app, and polls the order until it is paid, expired or cancelled.  The
# merchant account comes from config/wallet.json; the host's key from the key store.
import json
import time

from pos import log
from pos import collector
from pos.app import batch, counters, money, receipt, status
from pos.drivers import escpos

from pos.qr import emvco, encoder
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import format_amount

CURRENCY = money.CODE
_CONFIG = "config/wallet.json"


def merchant_payload(amount, reference, terminal_id="TERM0001"):
    try:
        with open(_CONFIG) as f:
            c = json.load(f)
    except (OSError, ValueError) as exc:
        raise emvco.MpmError("wallet config %s: %s" % (_CONFIG, exc))
    try:
        return emvco.build_mpm({c["account_id"]: {"00": c["guid"], "01": c["merchant_account"]}},
                               c["mcc"], money.NUMERIC, c["country"], c["merchant_name"], c["city"],
                               amount=amount, bill=reference, terminal=terminal_id)
    except KeyError as exc:
        raise emvco.MpmError("wallet config %s: missing %s" % (_CONFIG, exc))


class MerchantQR(Screen):
    """The payload as a QR code, as large as fits under the title; polls the wallet host."""
    timeout_ms = 120000
    POLL_MS = 1000

    def __init__(self, amount, reference, on_result=None):
        self.amount = amount
        self.on_result = on_result
        self.error = ""
        self.order = None
        self.client = None
        self.ledger = None
        self.qr = None
        self._t = time.ticks_ms()
        try:
            from pos.payments import wallet
            self.client = wallet.from_config()
            from pos.app import services
            self.ledger = services.orders()
            att = self.ledger.opening(amount, reference)         # before the order exists
            o = self.client.create_order(amount, money.NUMERIC, reference, att)
            self.order = o["order"]
            self.ledger.opened(self.order, amount, reference, att)   # before the code is shown
        except Exception as exc:      # no wallet host/key: say so, nothing charged
            self.error = str(exc)[:56]
            log.warning("qr", "order not created", err=repr(exc))
            return
        try:
            self.payload = merchant_payload(amount, self.order)
            with collector.HeldOff():
                self.qr = encoder.encode(self.payload)
        except ValueError as exc:
            self.error = str(exc)[:56]

    def tick(self, c):
        if self.order is None or time.ticks_diff(time.ticks_ms(), self._t) < self.POLL_MS:
            return False
        self._t = time.ticks_ms()
        try:
            st = self.client.order_status(self.order)
        except Exception as exc:
            log.warning("qr", "status query failed", err=str(exc))
            return False                          # asked again on the next tick
        return self._answer(st)

    def _answer(self, st):
        """Act on the order's status from the wallet host: paid -> the result (or the next
        tender); expired/cancelled -> say so; pending -> nothing."""
        s = st.get("status")
        if s == "paid":
            return self._paid(st)
        if s in ("expired", "cancelled"):
            self.ledger.closed(self.order, s)
            self.error = s.upper()
            self.qr = None
            self.order = None
            return "redraw"
        return False

    def _paid(self, st):
        """A paid order: recorded once in the batch, its ledger entry closed, the result shown
        (with its receipt) or the next tender; nothing left to poll or cancel."""
        from pos.app import reconcile
        e = reconcile.record_order_paid(self.amount, self.order, st.get("txn", ""))
        self.ledger.closed(self.order, "recorded")
        log.info("qr", "paid", order=self.order, inv=e["inv"])
        self.order = None
        if self.on_result is not None:
            return self.on_result(e)
        return ("replace", QRResult(_printer(), "", e))

    def draw(self, c):
        c.title(t("qr"), format_amount(self.amount, CURRENCY))
        if self.qr is None:
            c.text(self.error[:28], 1)
            c.text(self.error[28:], 2)
            c.footer(t("press_cancel"))
            return
        modules = self.qr.size + 8
        scale = max(1, min((c.width - 8) // modules, (c.height - 80) // modules))
        side = modules * scale
        encoder.draw(self.qr, c.fb, (c.width - side) // 2, 28, scale, ink=1, paper=0)
        c.d.mark_dirty(28, 28 + side)
        c.footer(t("scan_to_pay"))

    def on_key(self, key):
        """ENTER asks the wallet host now; CANCEL cancels the order -- but an order the
        customer has paid in the meantime ends as paid, never back at the tender menu."""
        if key not in ("CANCEL", "ENTER"):
            return None
        if self.order is None:
            return ("pop",) if key == "CANCEL" else None
        try:
            st = self.client.order_status(self.order)
        except Exception as exc:
            log.warning("qr", "status query failed", err=str(exc))
            st = {}
        r = self._answer(st)
        if isinstance(r, tuple) or key == "ENTER":
            return r
        if self.order is None:                        # expired or cancelled on the host
            return ("pop",)
        try:
            st = self.client.cancel_order(self.order)     # an unpaid order must not stay open
        except Exception as exc:
            log.warning("qr", "cancel failed", err=str(exc))
            return "redraw"          # not known to be cancelled: stay, ask again
        s = st.get("status")
        if s == "paid":                               # paid between the two questions
            return self._answer(st)
        if s in ("cancelled", "expired"):
            self.ledger.closed(self.order, s)
        return ("pop",)


class CustomerQR(Screen):
    """SCAN CUSTOMER CODE: the scanner reads the wallet code shown on the customer's phone;
    the wallet host charges it (signed request, idempotency key)."""
    timeout_ms = 60000

    def __init__(self, amount, reference, on_result=None):
        self.amount = amount
        self.reference = reference
        self.on_result = on_result
        self.error = ""
        from pos import hw
        sc = hw.scanner()
        if sc is not None:
            sc.flush()          # a code scanned before the terminal asked is not this payment

    def draw(self, c):
        c.title(t("qr"), format_amount(self.amount, CURRENCY))
        c.center(format_amount(self.amount, CURRENCY), 1, scale=2)
        c.center(t("scan_customer_code"), 4)
        if self.error:
            c.center(self.error[:28], 6)
        c.footer(t("press_cancel"))

    def tick(self, c):
        from pos import hw
        sc = hw.scanner()
        if sc is None:
            return False
        try:
            code = sc.poll()
        except ValueError as exc:
            self.error = str(exc)[:28]
            return "redraw"
        except Exception as exc:
            self.error = str(exc)[:28]
            return "redraw"
        if code is None:
            return False
        if not code.startswith("WALLET-") and not code.startswith("hQ"):     # wallet code or EMVCo CPM
            self.error = t("not_a_wallet_code")
            return "redraw"
        from pos.app import services
        from pos.payments import wallet
        ledger = services.orders()
        try:
            client = wallet.from_config()
            # write-ahead: open until its batch entry exists; a payment left open (a fault
            # below, a power cut) is looked up by the background sender and reversed
            # if the wallet charged it (pos.app.reconcile)
            name = ledger.paying(client.idempotency_key(self.reference, code), self.amount, self.reference)
            r = client.pay(code, self.amount, money.NUMERIC, self.reference)
        except Exception as exc:
            self.error = str(exc)[:28]
            return "redraw"
        code = None
        if r.get("status") != "success":
            ledger.closed(name, "declined")
            self.error = (t("declined") + " " + r.get("reason", ""))[:28]
            return "redraw"
        e = {"inv": counters.next_invoice(), "kind": "sale", "tender": "qr", "amount": self.amount,
             "ok": True, "result": t("approved"), "wallet": r.get("txn", ""), "scheme": "wallet",
             "op": status.operator.name if status.operator else "CASHIER"}
        batch.record(e)
        ledger.closed(name, "recorded")
        counters.record_sale("qr", self.amount)
        if self.on_result is not None:
            return self.on_result(e)
        return ("replace", QRResult(_printer(), "", e))

    def on_key(self, key):
        if key in ("CANCEL",):
            return ("pop",)
        return None


# the receipt of a wallet payment (kept with the other receipts: a reprint prints it without
# loading this flow and the QR encoder)
print_receipt = receipt.print_qr_sale


def _printer():
    from pos import hw
    return hw.printer()


class QRResult(Screen):
    """A wallet payment went through: PAID, the invoice, the receipt printed; ENTER ends the
    sale (back to Ready).  There is no way from here back to taking payment."""
    timeout_ms = 30000

    def __init__(self, printer, merchant, e):
        self.printer = printer
        self.merchant = merchant
        self.e = e
        self.message = ""
        self._print()

    def _print(self):
        from pos.app import services
        mid, tid = services.terminal_ids()
        self.message = receipt.printed(lambda p: print_receipt(p, self.merchant, self.e, CURRENCY, mid, tid),
                                       self.printer)

    def draw(self, c):
        e = self.e
        c.title(t("qr"), format_amount(e["amount"], CURRENCY))
        c.center(t("qr_paid"), 1, scale=2 if len(t("qr_paid")) <= 14 else 1)
        c.center(format_amount(e["amount"], CURRENCY), 3)
        c.center("%s %06d" % (t("invoice"), e["inv"]), 5)
        if e.get("wallet"):
            c.center(e["wallet"], 6)
        c.text(self.message[:28], 8)
        c.footer(t("enter_done_f1_reprint"))

    def on_key(self, key):
        if key == "F1":
            self._print()
            return "redraw"
        if key in ("ENTER", "CANCEL"):
            return ("home",)
        return None
