# Merchant-presented QR: the terminal opens an order on the wallet host, shows an EMVCo MPM
# payload (dynamic, the amount, the order as reference label) as a QR code for the
# customer's wallet app, and polls the order until it is paid, expired or cancelled.  The
# merchant account comes from config/wallet.json; the host's key from the key store.
import json
import time

from pos import log
from pos.app import batch, counters, status

from pos.qr import emvco, encoder
from pos.ui.messages import t
from pos.ui.screen import Screen
from pos.ui.widgets import format_amount

CURRENCY = "USD"
_CONFIG = "config/wallet.json"


def merchant_payload(amount, reference, terminal_id="TERM0001"):
    try:
        with open(_CONFIG) as f:
            c = json.load(f)
    except (OSError, ValueError) as exc:
        raise emvco.MpmError("wallet config %s: %s" % (_CONFIG, exc))
    try:
        return emvco.build_mpm({c["account_id"]: {"00": c["guid"], "01": c["merchant_account"]}},
                               c["mcc"], c["currency"], c["country"], c["merchant_name"], c["city"],
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
            o = self.client.create_order(amount, "840", reference, att)
            self.order = o["order"]
            self.ledger.opened(self.order, amount, reference, att)   # before the code is shown
        except Exception as exc:      # no wallet host/key: say so, nothing charged
            self.error = str(exc)[:56]
            log.warning("qr", "order not created", err=repr(exc))
            return
        try:
            self.payload = merchant_payload(amount, self.order)
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
        from pos.app import reconcile
        e = reconcile.record_order_paid(self.amount, self.order, st.get("txn", ""))
        self.ledger.closed(self.order, "recorded")
        log.info("qr", "paid", order=self.order, inv=e["inv"])
        if self.on_result is not None:
            return self.on_result(e)
        from pos.ui.widgets import Info
        return ("replace", Info(t("qr"), [t("paid") + " " + format_amount(self.amount, CURRENCY),
                                           "%s %06d" % (t("invoice"), e["inv"]), st.get("txn", "")]))

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
        if key in ("CANCEL", "ENTER"):
            if self.order is not None:
                try:
                    st = self.client.cancel_order(self.order)    # an unpaid order must not stay open
                except Exception as exc:      # left open in the ledger: settled in the background
                    log.warning("qr", "cancel failed", err=str(exc))
                    return ("pop",)
                s = st.get("status")
                if s == "paid":               # the customer paid before the cancel: a sale
                    log.warning("qr", "cancelled order was paid", order=self.order)
                    return self._paid(st)
                if s in ("cancelled", "expired"):
                    self.ledger.closed(self.order, s)
            return ("pop",)
        return None


class CustomerQR(Screen):
    """SCAN CUSTOMER CODE: the scanner reads the wallet code shown on the customer's phone;
    the wallet host charges it (signed request, idempotency key)."""
    timeout_ms = 60000

    def __init__(self, amount, reference, on_result=None):
        self.amount = amount
        self.reference = reference
        self.on_result = on_result
        self.error = ""

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
        try:
            from pos.payments import wallet
            r = wallet.from_config().pay(code, self.amount, "840", self.reference)
        except Exception as exc:
            self.error = str(exc)[:28]
            return "redraw"
        code = None
        if r.get("status") != "success":
            self.error = (t("declined") + " " + r.get("reason", ""))[:28]
            return "redraw"
        e = {"inv": counters.next_invoice(), "kind": "sale", "tender": "qr", "amount": self.amount,
             "ok": True, "result": t("approved"), "wallet": r.get("txn", ""), "scheme": "wallet",
             "op": status.operator.name if status.operator else "CASHIER"}
        batch.record(e)
        counters.record_sale("qr", self.amount)
        status.batch_count += 1
        if self.on_result is not None:
            return self.on_result(e)
        from pos.ui.widgets import Info
        return ("replace", Info(t("qr"), [t("paid") + " " + format_amount(self.amount, CURRENCY),
                                           "%s %06d" % (t("invoice"), e["inv"]), r.get("txn", "")]))

    def on_key(self, key):
        if key in ("CANCEL",):
            return ("pop",)
        return None
