# Payer: the SDK tutorial's app (docs/sdk.md).  Key an amount, ENTER: the counter takes the
# payment (cash or card) and the app shows and prints the outcome; it counts its payments in
# its own storage.  F1 refunds the last card payment (the counter refuses a second refund).
import json

from pos import sdk


class Payer(sdk.Screen):
    def __init__(self):
        self.digits = ""
        self.last = None
        self.card = None                # reference of the last card payment
        self.note = ""

    def draw(self, d):
        d.title("PAYER", "#" + str(int(sdk.store_get("count", b"0"))))
        d.text("Amount " + (self.digits or "0"), 1)
        o = self.last
        if o is not None:
            d.center("PAID" if o["approved"] else "NOT PAID", 3)
            d.text("%s %d" % (o["tender"], o["amount"]), 4)
            d.text(o["pan"] or "-", 5)
            d.text(o["reference"], 6)
        if self.note:
            d.text(self.note[:30], 7)
        d.text("ENTER pay  CANCEL quit", 8)

    def on_key(self, key):
        if len(key) == 1 and key in "0123456789" and len(self.digits) < 7:
            self.digits += key
            return sdk.REDRAW
        if key == "CLEAR":
            self.digits = self.digits[:-1]
            return sdk.REDRAW
        if key == "ENTER" and self.digits:
            n = int(sdk.store_get("count", b"0")) + 1
            sdk.request_payment(int(self.digits), "PAYER-%d" % n, self.paid)
            return None
        if key == "F1" and self.card is not None:
            try:
                sdk.refund(self.card, self.refunded)    # the supervisor's PIN is asked
            except sdk.Error as e:                      # refunded already
                self.note = str(e)
                return sdk.REDRAW
            self.note = ""
            return None
        if key == "CANCEL":
            return sdk.EXIT
        return None

    def refunded(self, outcome):
        self.last = dict(outcome, tender="refund")
        sdk.store_put("refund", json.dumps(outcome))

    def paid(self, outcome):
        self.last = outcome
        self.digits = ""
        if outcome["approved"] and outcome["tender"] == "card":
            self.card = outcome["reference"]
        sdk.store_put("last", json.dumps(outcome))
        if outcome["approved"]:
            sdk.store_put("count", str(int(sdk.store_get("count", b"0")) + 1))
            sdk.print_text(["PAYER", "PAID %d" % outcome["amount"], outcome["reference"]])
            sdk.print_qr(outcome["reference"])


def start():
    return Payer()
