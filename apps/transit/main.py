# Transit-card recharge: load a contactless stored-value transit card (electronic purse,
# PBOC / JR/T 0025 style load) after the counter took the payment; written only against
# pos.sdk (apps/transit/README.md).
#
# Tap: SELECT the purse, GET BALANCE; choose an amount; pay (sdk.request_payment); tap again:
# INITIALIZE FOR LOAD (balance, online counter, random, MAC1) -> the operator's host checks
# MAC1 and answers MAC2 -> CREDIT FOR LOAD -> TAC -> the host checks the TAC.  The terminal
# holds no key: the card and the host prove themselves to each other through it.  The load in
# progress is kept in the app's storage ("txn") from the payment on; a card lifted between
# INITIALIZE and CREDIT is asked on the next tap with GET TRANSACTION PROVE for that online
# counter: its MAC2 and TAC (the load went through: confirmed, never sent again) or 9406 (it
# did not: loaded again, the host refusing a second MAC2 once the card's counter moved).
import json
import time

from pos import sdk

AID = b"\xa0\x00\x00\x06\x32\x01\x01\x05"
AMOUNTS = (1000, 2000, 5000)
LIMIT = 100000                  # the purse's ceiling (1,000.00)
KEY_INDEX = 1


def money(m):
    return "%d.%02d" % (m // 100, m % 100)


def hexs(b):
    return "".join("%02x" % x for x in b)


def unhex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


def masked(serial):
    """The card's number as printed on it (no leading zeros), its middle hidden."""
    serial = serial.lstrip("0")
    return serial[:6] + "*" * (len(serial) - 10) + serial[-4:]


def sw(r):
    return (r[-2] << 8) | r[-1]


def answer(st, body):
    if st == 0:
        return {}
    try:
        a = json.loads(body)
    except ValueError:
        return {}
    return a if type(a) is dict else {}


class Transit(sdk.Screen):
    def __init__(self):
        p = json.loads(sdk.store_get("transit.json", b"{}"))
        self.url = p.get("url") if "terminal" in p else None     # the key is in the key store
        if self.url:
            self.term_id = p["terminal"]
        self.term = p.get("terminal_no", "000000000001")
        self.cur = p.get("currency", "USD")
        self.timeout = p.get("timeout_ms", 8000)
        self.t = None
        self.card = None                # (serial, balance) of the card read before payment
        self.pump = None
        self.busy = False               # a host request is out: the reader is left alone
        self.seq = 0
        if not self.url:
            self.step, self.lines = "result", ["No operator parameters", "(storage key transit.json)"]
            return
        t = sdk.store_get("txn")
        t = json.loads(t) if t else None
        if t and t["state"] in ("paid", "credit"):  # a load the last session did not finish
            self.t = t
            self.step = "lifted"
            self.lines = ["Unfinished load " + self.cur + " " + money(t["amount"]),
                          "card " + masked(t["serial"]), "Tap that card"]
        else:
            self.step, self.lines = "tap", ["Tap the transit card"]
        self.poll()

    # -- the reader ------------------------------------------------------------------------
    def poll(self):
        if self.pump is None:
            self.pump = sdk.timer(150, self.tick, True)

    def stop_poll(self):
        if self.pump is not None:
            sdk.cancel_timer(self.pump)
            self.pump = None

    def tick(self):
        if self.busy or self.step not in ("tap", "load", "lifted"):
            return None
        try:
            if sdk.nfc_card() is None:
                return None
            serial = self.select()
        except sdk.Error as e:
            self.lines = [str(e)[:28], "Tap the card again"]
            return sdk.REDRAW
        if serial is None:
            self.lines = ["Not a transit card", "Tap the transit card"]
            return sdk.REDRAW
        if self.step == "tap":
            return self.read(serial)
        if serial != self.t["serial"]:
            self.lines = ["Another card: " + masked(serial), "Tap card " + masked(self.t["serial"])]
            return sdk.REDRAW
        self.stop_poll()
        return self.load()

    def apdu(self, a):
        return sdk.nfc_apdu(a)

    def select(self):
        """SELECT the purse (ISO 7816-4 by name); its serial number from 9F0C, None if absent."""
        r = self.apdu(b"\x00\xa4\x04\x00" + bytes([len(AID)]) + AID + b"\x00")
        if sw(r) != 0x9000:
            return None
        i = r.find(b"\x9f\x0c")
        if i < 0 or len(r) < i + 3 + 20:
            return None
        return hexs(r[i + 13:i + 23])   # application serial number: bytes 10..19 of 0015

    def balance(self):
        r = self.apdu(b"\x80\x5c\x00\x02\x04")       # GET BALANCE (purse)
        if sw(r) != 0x9000 or len(r) != 6:
            raise sdk.Error("GET BALANCE refused %04X" % sw(r))
        return int.from_bytes(r[:4], "big")

    def read(self, serial):
        self.card = (serial, self.balance())
        self.stop_poll()
        sdk.nfc_release()
        self.step = "card"
        self.lines = ["Card " + masked(serial), "Balance " + self.cur + " " + money(self.card[1])]
        for i, a in enumerate(AMOUNTS):
            self.lines.append("%d Load %s" % (i + 1, money(a)))
        return sdk.REDRAW

    # -- payment ---------------------------------------------------------------------------
    def pay(self, amount):
        serial, bal = self.card
        if bal + amount > LIMIT:
            self.lines = ["Over the card's limit", "at most " + money(LIMIT - bal)]
            return sdk.REDRAW
        n = int(sdk.store_get("seq", b"0")) + 1
        sdk.store_put("seq", str(n))            # a reference is never used for two payments
        self.t = {"ref": "TR%06d" % n, "serial": serial, "amount": amount, "state": "paying", "before": bal}
        self.save()
        self.step, self.lines = "paying", ["Payment " + self.cur + " " + money(amount)]
        sdk.request_payment(amount, self.t["ref"], self.paid)
        return sdk.REDRAW

    def save(self):
        sdk.store_put("txn", json.dumps(self.t))

    def paid(self, o):
        t = self.t
        if not o["approved"]:
            t["state"] = "void"
            self.save()
            self.step, self.lines = "result", ["NOT PAID", "nothing was loaded", "ENTER new"]
            return
        t["state"], t["tender"], t["invoice"] = "paid", o["tender"], o["invoice"]
        self.save()                             # paid: from now on loaded or refunded, once
        self.step, self.lines = "load", ["Paid " + o["tender"], "Hold the card on the reader"]
        self.poll()

    # -- the load ----------------------------------------------------------------------------
    def load(self):
        t = self.t
        try:
            if t["state"] == "credit":
                done = self.prove()
                if done:
                    return done
            a4 = t["amount"].to_bytes(4, "big")
            r = self.apdu(b"\x80\x50\x00\x02\x0b" + bytes([KEY_INDEX]) + a4 + unhex(self.term) + b"\x10")
        except sdk.Error as e:
            return self.lifted(str(e))
        if sw(r) != 0x9000 or len(r) != 18:
            return self.fail("card refused the load %04X" % sw(r))
        t["counter"] = int.from_bytes(r[4:6], "big")
        if "counter0" not in t:
            t["counter0"] = t["counter"]        # the counter of the first INITIALIZE of this load
        self.lines = ["Card counter %d" % t["counter"], "Asking the operator"]
        self.ask("/v1/load", {"reference": t["ref"], "serial": t["serial"], "amount": t["amount"],
                              "terminal_no": self.term, "balance": int.from_bytes(r[:4], "big"),
                              "counter": t["counter"], "key_version": r[6], "random": hexs(r[8:12]),
                              "mac1": hexs(r[12:16])}, self.got_mac2)
        return sdk.REDRAW

    def got_mac2(self, st, body):
        t = self.t
        a = answer(st, body)
        if a.get("status") == "applied":        # the card counted this load already
            t["state"], t["counter"] = "credit", t["counter0"]
            return self.after_prove()
        if "mac2" not in a:
            if st == 0:
                self.step, self.lines = "lifted", ["Operator host: no answer", "Tap the card to retry"]
                return self.poll()
            return self.fail(a.get("error", "operator refused %d" % st))
        t["state"] = "credit"                   # from here the card may have loaded: prove first
        self.save()
        try:
            r = self.apdu(b"\x80\x52\x00\x00\x0b" + unhex(a["date"] + a["time"] + a["mac2"]) + b"\x04")
        except sdk.Error as e:
            return self.lifted(str(e))
        if sw(r) != 0x9000 or len(r) != 6:
            t["state"] = "paid"                 # CREDIT refused: nothing loaded
            return self.fail("card refused CREDIT %04X" % sw(r))
        self.confirm(hexs(r[:4]))

    def prove(self):
        """GET TRANSACTION PROVE for the load's online counter: its TAC when the card loaded it."""
        t = self.t
        r = self.apdu(b"\x80\x5a\x00\x02\x02" + t["counter"].to_bytes(2, "big") + b"\x08")
        if sw(r) == 0x9406:                     # not loaded: INITIALIZE again
            t["state"] = "paid"
            self.save()
            return None
        if sw(r) != 0x9000 or len(r) != 10:
            return self.fail("GET TRANSACTION PROVE %04X" % sw(r))
        self.lines = ["Card loaded before it was lifted", "Confirming with the operator"]
        self.confirm(hexs(r[4:8]))
        return sdk.REDRAW

    def after_prove(self):
        try:
            return self.prove() or self.load()
        except sdk.Error as e:
            return self.lifted(str(e))

    def confirm(self, tac):
        self.t["tac"] = tac
        self.save()
        self.ask("/v1/confirm", {"reference": self.t["ref"], "tac": tac}, self.confirmed)

    def confirmed(self, st, body):
        a = answer(st, body)
        if a.get("status") != "done":           # the card loaded; the host did not hear of it
            self.t["state"] = "done"
            return self.finish("LOADED", ["LOADED " + self.cur + " " + money(self.t["amount"]),
                                          "operator not told: " + str(a.get("error", "no answer"))[:10]])
        self.t["state"] = "done"
        self.t["after"] = a["balance"]
        self.finish("LOADED", ["LOADED " + self.cur + " " + money(self.t["amount"]),
                               "Balance " + self.cur + " " + money(a["balance"])])

    def lifted(self, why):
        self.step = "lifted"
        self.lines = ["Card lifted", "Tap the same card again"]
        if not why.startswith("card removed"):
            self.lines.append(why[:28])
        self.poll()
        return sdk.REDRAW

    def fail(self, why):
        """Not loaded after payment: a card payment refunded, cash stated for return."""
        t = self.t
        t["state"], t["why"] = "failed", why[:40]
        self.save()
        if t.get("tender") == "card":
            try:
                sdk.refund(t["ref"], self.refunded)
                self.step, self.lines = "result", ["NOT LOADED: " + why[:16], "Refunding the card"]
                return sdk.REDRAW
            except sdk.Error:
                pass
        self.finish("NOT LOADED", ["NOT LOADED", why[:28], "RETURN " + self.cur + " " + money(t["amount"]) + " CASH"])
        return sdk.REDRAW

    def refunded(self, o):
        self.finish("NOT LOADED", ["NOT LOADED", "REFUNDED" if o["approved"] else "REFUND OWED"])

    def finish(self, head, lines):
        t = self.t
        self.save()
        self.stop_poll()
        try:
            sdk.nfc_release()
        except sdk.Error:
            pass
        self.step, self.lines = "result", lines + ["ENTER new"]
        r = ["TRANSIT CARD LOAD", "Card " + masked(t["serial"]), "Amount %s %s" % (self.cur, money(t["amount"])),
             "Paid %s  Invoice %d" % (t.get("tender", "-"), t.get("invoice", 0)), "Ref " + t["ref"], head]
        if "after" in t:
            r.append("Balance %s %s" % (self.cur, money(t["after"])))
        if "tac" in t:
            r.append("TAC " + t["tac"].upper())
        if "why" in t:
            r.append(t["why"])
        try:
            sdk.print_text(r)
        except sdk.Error as e:
            self.lines = ["Not printed: " + str(e)[:15]] + lines

    # -- the operator's host, one request at a time ------------------------------------------
    def ask(self, path, obj, then):
        self.seq += 1
        s = self.seq
        self.reply = None
        self.then = then
        self.busy = True
        self.due = time.ticks_add(time.ticks_ms(), self.timeout)

        def done(st, body):
            if s == self.seq:
                self.reply = (st, body)
        # signed by the SDK with the terminal's key from the operator's parameters
        sdk.http_post_signed(self.url + path, json.dumps(obj), done, "transit.json")
        self.wait = sdk.timer(100, self.wake, True)

    def wake(self):
        r = self.reply
        if r is None:
            if time.ticks_diff(time.ticks_ms(), self.due) < 0:
                return None
            r = (0, "no answer in %d ms" % self.timeout)
        self.seq += 1
        sdk.cancel_timer(self.wait)
        self.busy = False
        self.then(r[0], r[1])
        return sdk.REDRAW

    # -- screen ------------------------------------------------------------------------------
    def draw(self, d):
        d.title("Transit card")
        for i, ln in enumerate(self.lines[:8]):
            d.text(ln, i + 2)

    def on_key(self, key):
        if key == "CANCEL":
            if self.step in ("paying",):
                return None
            self.stop_poll()
            return sdk.EXIT                     # an unfinished load stays in storage for the next start
        if self.step == "card" and key in ("1", "2", "3"):
            return self.pay(AMOUNTS[int(key) - 1])
        if self.step == "result" and key == "ENTER" and self.url:
            self.t, self.card = None, None
            self.step, self.lines = "tap", ["Tap the transit card"]
            self.poll()
            return sdk.REDRAW
        return None


def start():
    return Transit()
