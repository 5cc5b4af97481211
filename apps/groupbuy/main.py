# Group-buy vouchers: scan a voucher's code (or key it), look it up at the voucher platform, show the deal,
# redeem it once, print a slip; reconcile the day's redemptions with the platform's file
# (apps/groupbuy/README.md).  Written only against pos.sdk.
#
# Every request is signed by the SDK (sdk.http_post_signed) with the terminal's key from the
# app's parameters (storage key "platform.json").  A redemption's idempotency key is written to storage before it is sent
# and sent again, unchanged, when no answer came: the platform answers a repeated key with its
# first answer, so a voucher is never redeemed twice for one customer's visit.
import json
import time

from pos import sdk

DIGITS = "0123456789"
CODE_LEN = 12
TRIES = 3


def money(m):
    return "%d.%02d" % (m // 100, m % 100)


def luhn_ok(d):
    """ISO/IEC 7812-1 Annex B check digit (the platform's codes carry one)."""
    s = 0
    for i in range(len(d)):
        n = ord(d[-1 - i]) - 48
        if i & 1:
            n = n * 2 - 9 if n > 4 else n * 2
        s += n
    return s % 10 == 0


def grouped(code):
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def answer(st, body):
    """The platform's JSON answer as a dict ({} when there is none)."""
    if st == 0:
        return {}
    try:
        a = json.loads(body)
    except ValueError:
        return {}
    return a if type(a) is dict else {}


class GroupBuy(sdk.Screen):
    def __init__(self):
        p = json.loads(sdk.store_get("platform.json", b"{}"))
        self.ready = "url" in p and "terminal" in p     # the key is in the key store, not here
        if self.ready:
            self.url, self.term = p["url"], p["terminal"]
        self.timeout = p.get("timeout_ms", 8000)
        self.step = "home"
        self.entry = ""
        self.v = None           # the voucher looked up (the platform's answer)
        self.lines = [] if self.ready else ["No platform parameters", "(storage key platform.json)"]
        self.pump = None
        self.seq = 0
        self.reply = None
        self.then = None
        self.tries = 0
        self.pending = None
        t = sdk.store_get("pending")
        if t and self.ready:    # stopped before the platform answered: asked again first
            self.pending = json.loads(t)
            self.redeem_send()

    # -- the platform, one request at a time; answers and deadlines handled in a timer -------
    def ask(self, path, obj, then):
        self.seq += 1
        s = self.seq
        self.reply = None
        self.then = then
        self.due = time.ticks_add(time.ticks_ms(), self.timeout)

        def done(st, body):
            if s == self.seq:           # an answer after its deadline is not this step's
                self.reply = (st, body)
        # signed by the SDK with the terminal's key from the platform's parameters
        sdk.http_post_signed(self.url + path, json.dumps(obj), done, "platform.json")
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

    # -- screens ------------------------------------------------------------------------------
    def draw(self, d):
        s = self.step
        d.title("GROUP-BUY", self.term if self.ready else "")
        if s == "home":
            d.text("1 Redeem voucher", 2)
            d.text("2 Reconcile today", 3)
        elif s == "code":
            d.text("Voucher code: scan or key", 2)
            d.text(grouped(self.entry) or "_", 3)
        elif s == "deal":
            v = self.v
            d.text(v["title"][:28], 1)
            d.text("Value %s" % money(v["value"]), 2)
            d.text(grouped(v["code"]) + "  to " + v["until"][2:], 3)
        top = 1 if s in ("work", "result") else 4
        for i, ln in enumerate(self.lines):
            d.text(ln[:28], top + i)
        if s != "work":
            d.text("CANCEL back" if s != "home" else "CANCEL quit", 9)

    def on_key(self, key):
        s = self.step
        if s == "work":                 # waiting for the platform
            return None
        if key == "CANCEL":
            if s == "home":
                return sdk.EXIT
            sdk.cancel_scan()
            self.step, self.lines, self.entry, self.v = "home", [], "", None
            return sdk.REDRAW
        if not self.ready:
            return None
        digit = len(key) == 1 and key in DIGITS
        if s == "home":
            if key == "1":
                return self.ask_code()
            if key == "2":
                return self.reconcile()
        elif s == "code":
            if digit and len(self.entry) < CODE_LEN:
                self.entry += key
                return sdk.REDRAW
            if key == "CLEAR":
                self.entry = self.entry[:-1]
                return sdk.REDRAW
            if key == "ENTER":
                return self.lookup()
        elif s == "result" and key == "ENTER":
            self.step, self.lines = "home", []
            return sdk.REDRAW
        elif s == "deal":
            if key == "ENTER" and self.v["status"] == "valid":
                return self.redeem()
            if key == "ENTER":
                self.v = None
                return self.ask_code()
        return None

    # -- the code: scanned (sdk.scan), keyed when there is no scanner or the cashier prefers ----
    def ask_code(self):
        self.step, self.entry, self.lines = "code", "", []
        try:
            sdk.scan(self.scanned)
        except sdk.Error as e:
            self.lines = ["Key the code (" + str(e)[:14] + ")"]
        return sdk.REDRAW

    def scanned(self, code):
        if self.step != "code" or self.entry:
            return None                 # the cashier is keying: the keys win
        self.entry = code[:CODE_LEN + 1]
        return self.lookup()

    # -- look up -------------------------------------------------------------------------------
    def lookup(self):
        code = self.entry
        if len(code) != CODE_LEN or not code.isdigit() or not luhn_ok(code):
            self.ask_code()
            self.lines = ["Invalid code: try again"]
            return sdk.REDRAW
        self.step, self.lines = "work", ["Looking up " + grouped(code)]
        self.ask("/v1/lookup", {"code": code}, self.looked_up)
        return sdk.REDRAW

    def looked_up(self, st, body):
        a = answer(st, body)
        if st != 200:
            self.ask_code()
            self.lines = [str(a.get("error") or "Platform unreachable")[:28], "nothing was redeemed"]
            return
        self.v, self.step = a, "deal"
        s = a["status"]
        if s == "valid":
            self.lines = ["VALID", "ENTER redeem"]
        else:
            self.lines = self.refusal(s, a) + ["ENTER next"]

    def refusal(self, s, a):
        if s == "redeemed":
            return ["ALREADY REDEEMED", "on " + a["redeemed_at"], "at " + a["redeemed_store"]]
        if s == "expired":
            return ["EXPIRED on " + a["until"]]
        if s == "other_store":
            return ["NOT FOR THIS STORE", "valid at " + ", ".join(a["stores"])]
        return ["REFUSED: " + a.get("reason", s)]

    # -- redeem once ---------------------------------------------------------------------------
    def redeem(self):
        n = int(sdk.store_get("seq", b"0")) + 1
        sdk.store_put("seq", str(n))            # a key is never used for two redemptions
        self.pending = {"key": "%s-GB%06d" % (self.term, n), "code": self.v["code"]}
        sdk.store_put("pending", json.dumps(self.pending))
        self.tries = 0
        self.redeem_send()
        return sdk.REDRAW

    def redeem_send(self):
        self.tries += 1
        self.step, self.lines = "work", ["Redeeming " + grouped(self.pending["code"])]
        self.ask("/v1/redeem", {"code": self.pending["code"], "idempotency_key": self.pending["key"]}, self.redeemed)

    def redeemed(self, st, body):
        a = answer(st, body)
        status = a.get("status")
        if status is None and st in (0, 503) and self.tries < TRIES:
            return self.redeem_send()           # the same key again: the platform's first answer
        self.step = "deal" if self.v else "code"
        if status is None and st not in (0, 503):  # the platform turned the request down
            status, a = "refused", {"reason": str(a.get("error") or st)}
        if status == "redeemed":
            sdk.store_delete("pending")
            self.pending = None
            return self.done(a)
        if status == "refused":
            sdk.store_delete("pending")
            self.pending = None
            self.lines = ["REFUSED: " + a["reason"][:19]] + (
                ["on " + a["redeemed_at"], "at " + a["redeemed_store"]] if "redeemed_at" in a else []) + ["ENTER next"]
            if self.v:
                self.v["status"] = "refused"
            return
        # no answer after TRIES: the key stays pending, asked again at the next start
        self.step = "home"
        self.lines = ["Platform unreachable", "not known if redeemed", "asked again at next start"]

    def done(self, a):
        day = a["day"].replace("-", "")
        rows = sdk.store_get("day-" + day, b"").decode()
        rows += "%s,%s,%s,%d,%s\n" % (a["redemption"], a["code"], a["deal"], a["value"], a["at"][11:])
        sdk.store_put("day-" + day, rows)       # the terminal's record, reconciled with the file
        if self.v is None:
            self.v = {"code": a["code"], "title": a["title"], "value": a["value"], "until": "", "status": "done"}
        self.v["status"] = "done"
        self.step = "deal"
        self.lines = ["REDEEMED", "Ref " + a["redemption"], a["at"], "ENTER next"]
        try:
            sdk.print_text(["GROUP-BUY VOUCHER", a["store"] + " " + self.term, a["title"],
                            "Code " + grouped(a["code"]), "Value " + money(a["value"]),
                            "Redemption " + a["redemption"], a["at"] + " UTC", "REDEEMED"])
        except sdk.Error as e:
            self.lines[3] = "Not printed: " + str(e)[:14]

    # -- the day's redemptions against the platform's file -------------------------------------
    def reconcile(self):
        self.step, self.lines = "work", ["Fetching the day's file"]
        self.ask("/v1/reconciliation", {}, self.reconciled)
        return sdk.REDRAW

    def reconciled(self, st, body):
        a = answer(st, body)
        self.step = "result"
        if "file" not in a:
            self.lines = ["Platform unreachable", str(a.get("error", body))[:28]]
            return
        theirs = {}
        rows = a["file"].split("\n")
        for ln in rows[1:]:
            f = ln.split(",")
            if len(f) == 8 and f[4] == self.term:   # redemption,day,time,store,terminal,code,deal,value
                theirs[f[0]] = (f[5], int(f[7]))
        ours = {}
        for ln in sdk.store_get("day-" + a["day"].replace("-", ""), b"").decode().split("\n"):
            f = ln.split(",")
            if len(f) == 5:
                ours[f[0]] = (f[1], int(f[3]))
        same = [r for r in ours if theirs.get(r) == ours[r]]
        only_p = sorted(r for r in theirs if r not in ours)
        only_t = sorted(r for r in ours if r not in theirs)
        diff = sorted(r for r in ours if r in theirs and theirs[r] != ours[r])
        ok = not (only_p or only_t or diff)
        self.lines = ["Day " + a["day"], "Platform %d  Terminal %d" % (len(theirs), len(ours)),
                      "Matched %d" % len(same), "Value P %s  T %s" % (money(sum(v[1] for v in theirs.values())),
                                                                   money(sum(v[1] for v in ours.values())))]
        if only_p:
            self.lines.append("Platform only " + " ".join(only_p)[:14])
        if only_t:
            self.lines.append("Terminal only " + " ".join(only_t)[:14])
        if diff:
            self.lines.append("Differ " + " ".join(diff)[:21])
        self.lines.append("RECONCILED" if ok else "DIFFERENCES")
        slip = ["GROUP-BUY RECONCILIATION", "%s %s %s" % (a["store"], self.term, a["day"])] + self.lines[1:4]
        slip += ["Platform only " + r for r in only_p] + ["Terminal only " + r for r in only_t]
        slip += ["Differ " + r for r in diff] + [self.lines[-1]]
        try:
            sdk.print_text(slip)
        except sdk.Error as e:
            self.lines.append("Not printed: " + str(e)[:14])


def start():
    return GroupBuy()
