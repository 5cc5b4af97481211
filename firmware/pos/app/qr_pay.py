# Merchant-presented QR: the terminal shows an EMVCo MPM payload (dynamic, with the amount)
# as a QR code on the display for the customer's wallet app to scan.  The payload's
# merchant account comes from config/wallet.json.  (The wallet host link that confirms the
# payment is not built yet: the screen stays until ENTER/CANCEL.)
import json

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
    """The payload as a QR code, as large as fits under the title."""
    timeout_ms = 120000

    def __init__(self, amount, reference):
        self.amount = amount
        self.error = ""
        try:
            self.payload = merchant_payload(amount, reference)
            self.qr = encoder.encode(self.payload)
        except ValueError as exc:
            self.payload = None
            self.qr = None
            self.error = str(exc)[:56]

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
            return ("pop",)
        return None
