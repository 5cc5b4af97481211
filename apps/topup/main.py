# Top-up and bill pay: mobile top-up, utility bill pay and card repayment through the biller
# (apps/topup/README.md), written only against pos.sdk.
#
# Choose, look up at the biller, take the payment (sdk.request_payment), fulfil at the biller
# with the payment's reference as the idempotency key; when the biller refuses or does not
# answer after the money was taken: query, reverse, then refund (sdk.refund).  Every request
# is signed by the SDK (sdk.http_post_signed) with the terminal's key from the app's parameters
# (storage key "biller.json"): no signing code in the app.
import json
import time

from pos import sdk

PRODUCTS = (("mobile", "Mobile top-up"), ("bill", "Bill pay"), ("card", "Card repayment"))
DIGITS = "0123456789"


def money(m):
    return "%d.%02d" % (m // 100, m % 100)


def masked(pan):
    """First 6 and last 4 (PCI DSS 3.4): all the app ever shows, keeps or prints of a card."""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def luhn_ok(d):
    """ISO/IEC 7812-1 Annex B check digit."""
    s = 0
    for i in range(len(d)):
        n = ord(d[-1 - i]) - 48
        if i & 1:
            n = n * 2 - 9 if n > 4 else n * 2
        s += n
    return s % 10 == 0


def answer(st, body):
    """The biller's JSON answer as a dict ({} when there is none)."""
    if st == 0:
        return {}
    try:
        a = json.loads(body)
    except ValueError:
        return {}
    return a if type(a) is dict else {}


class TopUp(sdk.Screen):
    def __init__(self):
        p = json.loads(sdk.store_get("biller.json", b"{}"))
        self.biller = "url" in p and "terminal" in p    # the key is in the key store, not here
        if self.biller:
            self.url, self.term = p["url"], p["terminal"]
        self.timeout = p.get("timeout_ms", 8000)
        self.cat = None
        self.step = "home"
        self.lines = ["Connecting to the biller"]
        self.entry = ""
        self.t = None           # the transaction (what is kept on flash, card masked)
        self.pan = None         # a keyed card number: in RAM until the biller has it, never kept
        self.pump = None
        self.seq = 0
        self.reply = None
        self.then = None
        self.tries = 0
        if not self.biller:
            self.lines = ["No biller parameters", "(storage key biller.json)"]
            return
        t = sdk.store_get("txn")
        if t:
            t = json.loads(t)
            if t["state"] in ("paid", "refund"):    # stopped before it was settled: settled first
                self.t = t
        self.ask("/v1/catalog", {}, self.got_catalog)

    # -- the biller, one request at a time; answers and deadlines handled in a timer --------
    def ask(self, path, obj, then):
        self.seq += 1
        s = self.seq
        self.reply = None
        self.then = then
        self.due = time.ticks_add(time.ticks_ms(), self.timeout)

        def done(st, body):
            if s == self.seq:           # an answer after its deadline is not this step's
                self.reply = (st, body)
        # signed by the SDK with the terminal's key from the biller's parameters (sdk 2)
        sdk.http_post_signed(self.url + path, json.dumps(obj), done, "biller.json")
        if self.pump is None:
            self.pump = sdk.timer(100, self.tick, True)

    def tick(self):
        r = self.reply
        if r is None:
            if time.ticks_diff(time.ticks_ms(), self.due) < 0:
                return None
            r = (0, "no answer in %d ms" % self.timeout)
        self.seq += 1
        self.reply = None
        sdk.cancel_timer(self.pump)
        self.pump = None
        self.then(r[0], r[1])
        return sdk.REDRAW

    def got_catalog(self, st, body):
        a = answer(st, body)
        if "operators" not in a:
            self.lines = ["Biller unreachable", str(a.get("error", body))[:28], "ENTER retry"]
            return
        self.cat, self.cur = a, a["currency"]
        self.lines = []
        if self.t is not None:          # unsettled from before (only such a one is loaded)
            self.settle()

    # -- screens ------------------------------------------------------------------------------
    def draw(self, d):
        s = self.step
        d.title("TOP-UP & BILLS", self.t["ref"] if self.t else "")
        if s == "home" and self.cat:
            for i in range(3):
                d.text("%d %s" % (i + 1, PRODUCTS[i][1]), 2 + i)
        elif s == "pick":
            for i, x in enumerate(self.choices()):
                d.text("%d %s" % (i + 1, x["name"]), 2 + i)
        elif s == "account":
            d.text(("Card number" if self.kind == "card" else "Phone number" if self.kind == "mobile"
                    else "Account number") + ":", 2)
            d.text(self.entry or "_", 3)
        elif s == "amount":
            t = self.t
            d.text(t["name"], 1)
            d.text(t["account"] + " " + t["holder"], 2)
            if self.kind == "mobile":
                for i, m in enumerate(self.look["denominations"]):
                    d.text("%d %s %s" % (i + 1, self.cur, money(m)), 4 + i)
            else:
                d.text("Due %s %s" % (self.cur, money(self.look["due"])), 3)
                if self.kind == "card":
                    d.text("Minimum %s" % money(self.look["min_due"]), 4)
                    d.text("Pay " + money(int(self.entry or "0")), 6)
                d.text("ENTER pay", 8)
        elif self.t is not None and self.t["ref"] and s in ("work", "result"):
            t = self.t
            d.text(t["name"], 1)
            d.text(t["account"], 2)
            d.text(self.cur_amount(), 3)
        for i, ln in enumerate(self.lines):
            d.text(ln, 5 + i)
        if s in ("home", "result", "pick", "account"):
            d.text("CANCEL back" if s != "home" else "CANCEL quit", 9)

    def choices(self):
        return self.cat["operators"] if self.kind == "mobile" else self.cat["billers"]

    def on_key(self, key):
        s = self.step
        t = self.t
        if s == "work":                 # the biller or the counter is busy with this payment,
            if self.pump is None and t is not None:     # unless the cashier left the counter's
                if t["state"] == "paying" and key == "CANCEL":      # tender menu
                    t["state"] = "void"
                    self.save()
                    self.step, self.lines, self.pan = "home", [], None
                    return sdk.REDRAW
                if t["state"] == "refund":      # or the supervisor's PIN prompt
                    if key == "ENTER":
                        self.refund_now()
                    elif key == "CANCEL":
                        self.owed("refund not done")
                    return sdk.REDRAW
            return None
        if key == "CANCEL":
            if s == "home":
                return sdk.EXIT
            self.step, self.lines, self.entry, self.pan = "home", [], "", None
            return sdk.REDRAW
        digit = len(key) == 1 and key in DIGITS
        if t is not None and t["state"] == "paid":  # the biller was unreachable: settled first
            self.settle()
            return sdk.REDRAW
        if s == "home":
            if self.cat is None:
                if key == "ENTER" and self.biller:
                    self.lines = ["Connecting to the biller"]
                    self.ask("/v1/catalog", {}, self.got_catalog)
                return sdk.REDRAW
            if digit and "1" <= key <= "3":
                self.kind = PRODUCTS[int(key) - 1][0]
                self.entry, self.lines = "", []
                if self.kind == "card":
                    self.code, self.name, self.step = self.cat["card"]["code"], self.cat["card"]["name"], "account"
                else:
                    self.step = "pick"
                return sdk.REDRAW
        elif s == "pick":
            c = self.choices()
            if digit and 0 < int(key) <= len(c):
                self.code, self.name = c[int(key) - 1]["code"], c[int(key) - 1]["name"]
                self.step = "account"
                return sdk.REDRAW
        elif s in ("account", "amount"):
            if s == "amount" and self.kind == "mobile":
                ds = self.look["denominations"]
                if digit and 0 < int(key) <= len(ds):
                    return self.pay(ds[int(key) - 1])
                return None
            if digit and len(self.entry) < (19 if s == "account" else 9):
                self.entry += key
                return sdk.REDRAW
            if key == "CLEAR":
                self.entry = self.entry[:-1]
                return sdk.REDRAW
            if key == "ENTER" and s == "account":
                return self.lookup()
            if key == "ENTER" and s == "amount":
                due = self.look["due"]
                return self.pay(due if self.kind == "bill" else int(self.entry or "0"))
        elif s == "result" and key == "ENTER":
            self.step, self.lines = "home", []
            return sdk.REDRAW
        return None

    # -- look up, pay, fulfil -----------------------------------------------------------------
    def lookup(self):
        acct = self.entry
        if self.kind == "card":
            if not (12 <= len(acct) <= 19 and luhn_ok(acct)):
                self.entry, self.lines = "", ["Card number invalid", "key it again"]
                return sdk.REDRAW
            self.pan = acct
            self.entry = masked(acct)           # from here on only the masked number is shown
        elif len(acct) < 6:
            self.lines = ["Too short"]
            return sdk.REDRAW
        self.acct = None if self.pan else acct     # a card number only ever in self.pan
        self.step, self.lines = "work", ["Looking up " + (masked(acct) if self.pan else acct)]
        self.ask("/v1/lookup", {"product": self.kind, "code": self.code, "account": acct}, self.looked_up)
        return sdk.REDRAW

    def looked_up(self, st, body):
        a = answer(st, body)
        if st != 200:
            self.step, self.entry, self.pan = "account", "", None
            self.lines = [str(a.get("error") or "Biller unreachable")[:28], "nothing was charged"]
            return
        self.look = a
        self.entry = ""
        self.t = {"ref": "", "kind": self.kind, "code": self.code, "name": self.name,
                  "account": a["account"], "holder": a.get("holder", ""), "amount": 0, "state": "new"}
        if self.kind == "bill" and a["due"] == 0:
            self.step, self.lines, self.t = "result", ["Nothing due on " + a["account"], "nothing was charged"], None
            return
        self.step, self.lines = "amount", []

    def pay(self, amount):
        t = self.t
        if not 0 < amount <= (self.look["due"] if self.kind != "mobile" else amount):
            self.lines = ["Amount 0.01 to " + money(self.look["due"])]
            self.entry = ""
            return sdk.REDRAW
        n = int(sdk.store_get("seq", b"0")) + 1
        sdk.store_put("seq", str(n))            # a reference is never used for two payments
        t["ref"], t["amount"], t["state"] = "TU%06d" % n, amount, "paying"
        self.save()
        self.step, self.lines = "work", ["Payment " + self.cur + " " + money(amount), "CANCEL if not paid"]
        sdk.request_payment(amount, t["ref"], self.paid)
        return sdk.REDRAW

    def save(self):
        sdk.store_put("txn", json.dumps(self.t))

    def paid(self, o):
        t = self.t
        if not o["approved"]:
            t["state"] = "void"
            self.save()
            self.pan = None
            self.step, self.lines = "result", ["NOT PAID", "nothing was charged"]
            return
        t["state"], t["tender"], t["pan"], t["invoice"] = "paid", o["tender"], o["pan"], o["invoice"]
        self.save()                             # paid: from now on settled, never paid again
        self.lines = ["Paid " + o["tender"], "Sending to " + t["name"]]
        self.ask("/v1/pay", {"idempotency_key": self.key(), "product": t["kind"], "code": t["code"],
                             "account": self.pan or self.acct, "amount": t["amount"], "reference": t["ref"]},
                 self.fulfilled)

    def key(self):
        return self.term + "-" + self.t["ref"]

    def fulfilled(self, st, body):
        a = answer(st, body)
        if a.get("status") == "done":
            return self.done(a)
        self.t["why"] = str(a.get("reason") or a.get("error") or body)[:40]
        self.settle()

    # -- after the money was taken and the biller did not fulfil: query, reverse, refund ------
    def settle(self):
        self.step, self.lines = "work", ["Biller: " + self.t.get("why", "checking")[:20], "Checking with the biller"]
        self.ask("/v1/query", {"idempotency_key": self.key()}, self.queried)

    def queried(self, st, body):
        a = answer(st, body)
        if a.get("status") == "done":           # it went through; only the answer was lost
            return self.done(a)
        self.lines = ["Not done at the biller", "Reversing"]
        self.ask("/v1/reverse", {"idempotency_key": self.key()}, self.reversed)

    def reversed(self, st, body):
        a = answer(st, body)
        if a.get("status") not in ("reversed", "refused"):
            self.tries += 1
            if self.tries < 3:
                return self.settle()
            self.tries = 0                      # the money stays taken until the biller confirms
            self.step, self.lines = "result", ["Biller unreachable", "payment kept: " + self.t["ref"], "ENTER retry"]
            return
        self.pan = None
        self.t["state"] = "refund"
        self.save()
        self.refund_now()

    def refund_now(self):
        t = self.t
        try:
            sdk.refund(t["ref"], self.refunded)     # the counter asks for the supervisor's PIN
            self.lines = ["Not done: " + t.get("why", "")[:18], "Refunding the card", "ENTER if PIN cancelled"]
        except sdk.Error as e:                  # cash, or a payment of an earlier session
            self.owed(str(e))

    def refunded(self, o):
        if o["approved"]:
            self.t["state"] = "refunded"
            self.finish("REFUNDED", ["Not done by the biller", "REFUNDED " + self.cur_amount()])
        else:
            self.owed("refund declined")

    def owed(self, why):
        t = self.t
        t["state"] = "owed"
        self.finish("REFUND OWED", ["Not done by the biller", "REFUND OWED " + self.cur_amount(),
                                    "cash back" if t["tender"] == "cash" else why[:28]])

    def cur_amount(self):
        return self.cat["currency"] + " " + money(self.t["amount"])

    def done(self, a):
        t = self.t
        t["state"], t["biller_ref"] = "done", a["biller_ref"]
        self.pan = None
        lines = ["DONE", "Biller ref " + a["biller_ref"]]
        pin = a.get("voucher_pin")
        extra = []
        if pin:                                 # printed once, never kept
            extra = ["Voucher serial " + a["voucher_serial"],
                     "Voucher PIN " + " ".join(pin[i:i + 4] for i in range(0, len(pin), 4))]
            lines.append("PIN on the receipt")
        self.finish("DONE", lines, extra)

    def finish(self, head, lines, extra=()):
        t = self.t
        self.save()
        self.step, self.lines = "result", lines + ["ENTER new"]
        r = ["TOP-UP & BILL PAY", t["name"], "%s %s" % (t["account"], t["holder"]),
             "Amount " + self.cur_amount(), "Paid %s %s" % (t["tender"], t["pan"]),
             "Invoice %d  Ref %s" % (t["invoice"], t["ref"]), head]
        if "biller_ref" in t:
            r.append("Biller ref " + t["biller_ref"])
        else:
            r.append("Biller: " + t.get("why", ""))
        try:
            sdk.print_text(r + list(extra))
        except sdk.Error as e:                  # no paper, no printer: the screen says so, and a
            self.lines = ["Not printed: " + str(e)[:15]] + [x[:28] for x in extra] + ["ENTER new"]  # voucher shows


def start():
    return TopUp()
