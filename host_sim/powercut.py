"""Whole-board power-cut sweep: a sale of each tender is run on the counter (host_sim.rig)
again and again, the board's power cut at flash operation 1, 2, 3 ... of the sale (the
board-support flash layer numbers every write, rename and remove) and at timed points
after a host's reply; after each reboot the terminal is left to reconcile and send what
it owes, then the three records are compared per transaction:

  the host's (acquirer database, wallet orders)  ==  the terminal's journal (what it told
  the host and heard back)  ==  the terminal's batch (what it recorded, receipts, Z report)

    with Rig(power_cuts=True) as rig:
        sweep = Sweep(rig)
        report = sweep.run("tap", points=None)      # every flash operation of a tap sale
        report.mismatches                            # [] when every point agreed

Used by tests/hostlink/test_board_powercut.py (a subset) and `smartpos demo --scenario
power-cut-sweep` (every point).
"""
import json
import os
import struct
import time
import zlib

TENDERS = {
    # name: what the cashier and the customer do
    "chip": {"amount": 6000, "profile": "visa-credit", "pin": "1234"},    # over the floor limit: online
    "tap": {"amount": 3500, "profile": "visa-cvn10"},                      # over the cl floor: online
    "qr": {"amount": 1250},                                                # merchant-presented
    # magstripe fallback: the chip is mute, the stripe is swiped (DE 22 80)
    "swipe": {"amount": 2500, "stripe": {"pan": "4761739001010119", "expiry": "2812",
                                         "service_code": "201", "name": "TEST/CARDHOLDER"}},
    # split tender: a tapped card part, then the rest in cash
    "split": {"amount": 6000, "card": 3500, "profile": "visa-cvn10"},
    "cqr": {"amount": 875},                                                # customer-presented
}
CHARGED_STATES = ("approved", "done", "advice", "advised")
SIGN = {"sale": 1, "completion": 1, "refund": -1}
KEY_CEILING_S = 120         # a key the firmware has not read by then: the board has stopped


class PowerCut(Exception):
    """The board lost power while the cashier was waiting for something."""


# ------------------------------------------------------------------ the terminal's records
def read_journal(path):
    """The journal's good records (pos.store.journal format: A5, len, JSON, CRC-32)."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return []
    out, pos = [], 0
    while pos + 3 <= len(data) and data[pos] == 0xA5:
        ln = struct.unpack(">H", data[pos + 1:pos + 3])[0]
        end = pos + 3 + ln + 4
        if end > len(data):
            break
        if zlib.crc32(data[pos + 1:pos + 3 + ln]) != struct.unpack(">I", data[end - 4:end])[0]:
            break
        out.append(json.loads(data[pos + 3:pos + 3 + ln]))
        pos = end
    return out


def journal_state(records):
    """{stan: {acq, kind, amount, state}} as the engine derives it (pos.payments.engine)."""
    return journal_batches(records)[0]


def journal_batches(records):
    """(journal_state(records), {acq: open batch number}) as the engine derives them."""
    txns = {}
    batches = {}
    for r in records:
        t, s = r["t"], r.get("stan")
        if t in ("req", "adv"):
            txns[s] = {"acq": r["acq"], "kind": r["kind"], "amount": r["amt"],
                       "state": "advice" if t == "adv" else "sent", "card": r.get("card", False),
                       "batch": r.get("batch", 1)}
            continue
        if t == "ctr":
            batches.update(r.get("batches", {}))
            continue
        if t == "stl":
            batches[r["acq"]] = r["batch"] + 1
            continue
        x = txns.get(s)
        if x is None:
            continue
        if t == "adj":
            x["amount"] = r["amt"]
        elif t == "resp":
            ok = r.get("rc") in ("00", "08", "10", "11")
            x["state"] = ("await_card" if x["card"] else "approved") if ok else "declined"
        elif t == "fail":
            x["state"] = "failed"
        elif t == "done" and r.get("ok"):
            x["state"] = "done"
        elif t == "rev":
            x["state"] = "reversing"
        elif t == "rev_ok":
            x["state"] = "reversed"
        elif t == "adv_ok":
            x["state"] = "advised"
        elif t == "adv_void":
            x["state"] = "dropped"
    return txns, batches


def charged(x):
    return SIGN.get(x["kind"], 0) * x["amount"] if x["state"] in CHARGED_STATES else 0


# ------------------------------------------------------------------ the sweep
class Report:
    def __init__(self, tender):
        self.tender = tender
        self.ops = []              # the uncut sale's flash operations [(n, kind, path, bytes)]
        self.points = []           # (label, outcome) per cut point tried
        self.mismatches = []       # (label, what disagreed)

    def line(self):
        return "%s: %d points, %d mismatches" % (self.tender, len(self.points), len(self.mismatches))


class Sweep:
    def __init__(self, rig, log=print):
        self.rig = rig
        self.log = log
        self._hooked = []
        self._wallet_route = None
        self.codes = 0
        self.at_stage = None       # fn(stage) at "swipe", "cash", "scan": the sale's second half
        with open(os.path.join(rig.flash_dir, "config", "acquirers.json")) as f:
            cfg = json.load(f)
        self.tids = {n: a["tid"] for n, a in cfg["acquirers"].items()}

    # -- waiting, aware of the power ------------------------------------------
    def _wait(self, needles, timeout=30):
        rig = self.rig
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            if rig.board.wait_power_cut(0):
                raise PowerCut()
            text = rig.display.text()
            for n in needles:
                if n in text:
                    return n, text
            time.sleep(0.05)
        raise TimeoutError("display never showed any of %r; it shows:\n%s" % (needles, text))

    def _keys(self, keys):
        kp = self.rig.board.devices["keypad"]
        for k in keys:
            if self.rig.board.wait_power_cut(0):
                raise PowerCut()
            kp.tap(k)
            # each key once the firmware has read the one before (a busy board loses none);
            # a board whose power went reads nothing: the cut is checked again; a board that
            # reads nothing for two minutes has stopped, and says why
            until = time.monotonic() + KEY_CEILING_S
            while not kp.wait_taken(0.5):
                if self.rig.board.wait_power_cut(0):
                    raise PowerCut()
                if time.monotonic() > until:
                    raise TimeoutError("key %r not read by the firmware within %d s; keypad %s; "
                                       "console:\n%s\nCPU:\n%s"
                                       % (k, KEY_CEILING_S, kp.service_state(), self.rig.board.console()[-3000:],
                                          self.rig.board.cpu.diagnose()))

    def owed(self):
        """What the terminal's flash says it still owes the hosts: requests with no outcome yet,
        reversals not acknowledged, wallet orders and payments not closed (the Ready screen's
        count can lag a second)."""
        d = self.rig.flash_dir
        txns, batches = journal_batches(read_journal(os.path.join(d, "journal.bin")))
        out = ["STAN %06d %s" % (s, x["state"]) for s, x in txns.items()
               if x["state"] in ("reversing", "advice", "sent", "await_card")]
        # an approval of the open batch with no batch entry (the power went between the host's
        # reply and the batch write): the boot reconciliation queues its reversal, possibly a
        # moment after Ready is drawn
        unrecorded = [s for s, x in txns.items()
                      if x["state"] in ("approved", "done") and SIGN.get(x["kind"])
                      and x["batch"] == batches.get(x["acq"], 1)]
        if unrecorded:
            recorded = set(int(e["stan"]) for e in self.rig.batch()
                           if e.get("tender") == "card" and e.get("ok") and e.get("stan"))
            out += ["STAN %06d approved, no batch entry" % s for s in unrecorded if s not in recorded]
        opened = {}
        for r in read_journal(os.path.join(d, "orders.bin")):
            if r["t"] == "opening":
                opened["?" + r["att"]] = 1
            elif r["t"] == "open":
                opened.pop("?" + r.get("att", ""), None)
                opened[r["order"]] = 1
            elif r["t"] == "closed":
                opened.pop(r["order"], None)
        return out + ["wallet %s open" % o for o in sorted(opened)]

    def idle(self, timeout=60):
        """Ready on the display and nothing left to send (no TO SEND line, nothing owed on
        flash)."""
        rig = self.rig
        end = time.monotonic() + timeout
        text = ""
        back = 0.0
        while time.monotonic() < end:
            text = rig.display.text()
            if "READY" in text and "TO SEND" not in text and not self.owed():
                return text
            if "READY" not in text and time.monotonic() > back:
                rig.keys(["CANCEL", "CANCEL", "CANCEL"])       # back to Ready from any screen
                back = time.monotonic() + 2.0
            time.sleep(0.1)
        raise TimeoutError("terminal not idle (still owes the host?):\n%s" % text)

    # -- one sale of each tender, as the cashier and the customer ---------------
    def sale(self, tender, after_reply=None, **override):
        """Run one sale; raises PowerCut when the power went.  after_reply(): called right
        after the host answered (timed cut points).  override: amount, profile, pin."""
        t = dict(TENDERS[tender], **override)
        self._keys(["CANCEL", "CANCEL"])
        self._wait(["READY"])
        self._keys(list(str(t["amount"])) + ["ENTER"])
        self._wait(["2 Card"])
        if tender == "qr":
            return self._qr(t, after_reply)
        if tender == "cqr":
            return self._cqr(t)
        if tender == "split":
            return self._split(t)
        self._keys(["2"])
        self._wait(["TAP, INSERT OR SWIPE"])
        if tender == "swipe":
            return self._swipe(t)
        if tender == "chip":
            from host_sim.cards import make_card
            self.rig.slot.insert(make_card(t["profile"]))
        else:
            from host_sim.cards.contactless import make_card
            self.rig.board.devices["pn532"].tap(make_card(t["profile"]))
        try:
            while True:
                which, text = self._wait(["ENTER PIN", "CHOOSE APPLICATION", "APPROVED", "DECLINED",
                                          "NOT COMPLETED", "try again"], 60)
                if which == "CHOOSE APPLICATION":
                    self._keys(["1"])
                    end = time.monotonic() + 5
                    while "CHOOSE APPLICATION" in self.rig.display.text() and time.monotonic() < end:
                        time.sleep(0.05)
                    continue
                if which != "ENTER PIN":
                    break
                self._keys(list(t["pin"]) + ["ENTER"])
                end = time.monotonic() + 5
                while "ENTER PIN" in self.rig.display.text() and time.monotonic() < end:
                    time.sleep(0.05)
        finally:
            if tender == "chip":
                self.rig.slot.remove()
            else:
                self.rig.board.devices["pn532"].remove()
        self._keys(["ENTER"])
        return which

    def _stage(self, name):
        if self.at_stage is not None:
            self.at_stage(name)

    def _outcome(self, needles, timeout=60, refused=None):
        """The first of `needles` shown, or "ERROR" (the terminal's error page over Ready);
        `refused`: the screen's text before, and "REFUSED" when the same screen comes back
        with another line (a swipe it could not read says why and waits for the next)."""
        rig = self.rig
        end = time.monotonic() + timeout
        text = ""
        title = refused.split("\n")[0] if refused else None
        while time.monotonic() < end:
            if rig.board.wait_power_cut(0):
                raise PowerCut()
            text = rig.display.text()
            if text.startswith("ERROR"):               # its title: a handler raised
                return "ERROR"
            for n in needles:
                if n in text:
                    return n
            if title and text != refused and text.split("\n")[0] == title:
                time.sleep(0.3)                        # the whole screen, not a band of it
                if rig.display.text() == text:
                    return "REFUSED"
            time.sleep(0.05)
        raise TimeoutError("display never showed any of %r; it shows:\n%s" % (needles, text))

    def _swipe(self, t):
        from host_sim.cards import make_card
        self.rig.slot.insert(make_card("mute"))       # the chip does not answer
        try:
            which = self._outcome(["SWIPE CARD"], 30)
        finally:
            self.rig.slot.remove()
        if which != "SWIPE CARD":
            self._keys(["ENTER"])
            return which
        self._stage("swipe")
        before = self.rig.display.text()
        self.rig.board.devices["msr"].swipe(card=t["stripe"])
        which = self._outcome(["APPROVED", "DECLINED", "NOT COMPLETED"], refused=before)
        self._keys(["ENTER"] if which != "REFUSED" else ["CANCEL"])
        return which

    def _split(self, t):
        """Split tender: the card part tapped, then the rest in cash; APPROVED when the
        whole sale was paid."""
        from host_sim.cards.contactless import make_card
        self._keys(["4"])
        self._wait(["Split tender"])
        self._keys(list(str(t["card"])) + ["ENTER"])
        self._wait(["2 Card"])
        self._keys(["2"])
        self._wait(["TAP, INSERT OR SWIPE"])
        self.rig.board.devices["pn532"].tap(make_card(t["profile"]))
        try:
            which = self._outcome(["1 Cash", "Remaining", "try again"])
        finally:
            self.rig.board.devices["pn532"].remove()
        if which != "1 Cash":                          # the card part did not go through
            self._keys(["ENTER"])
            return "DECLINED" if which == "Remaining" else which
        self._stage("cash")
        self._keys(["1"])
        self._wait(["Cash tendered"])
        self._keys(list(str(t["amount"] - t["card"])) + ["ENTER"])
        which = self._outcome(["Paid"])
        self._keys(["ENTER"])
        return "APPROVED" if which == "Paid" else which

    def _cqr(self, t):
        """The customer's wallet code scanned: PAID BY WALLET, DECLINED or the error the
        scan screen shows."""
        self._keys(["3"])
        self._wait(["2 Scan customer code"])
        self._keys(["2"])
        _w, before = self._wait(["SCAN CUSTOMER CODE"])
        self.codes += 1
        self._stage("scan")
        self.rig.board.devices["scanner"].scan("WALLET-SWEEP-%04d" % self.codes)
        end = time.monotonic() + 60
        while True:
            which = self._outcome(["PAID BY WALLET", "SCAN CUSTOMER CODE"])
            text = self.rig.display.text()
            if which != "SCAN CUSTOMER CODE":
                break
            if text != before:                        # the scan screen shows why it failed
                which = "FAILED"
                break
            if time.monotonic() > end:
                raise TimeoutError("the scanned code got no answer on the display:\n%s" % text)
            time.sleep(0.05)
        self._keys(["ENTER"] if which != "FAILED" else ["CANCEL"])
        return which

    def _qr(self, t, after_reply):
        self._keys(["3"])
        self._wait(["1 Show QR"])
        self._keys(["1"])
        self._wait(["Scan with your wallet app"])
        w = self.rig.wallet
        with w.lock:
            pending = [o for o in w.orders.values() if o["status"] == "pending"]
        if not pending:
            if self.rig.board.wait_power_cut(1.0):
                raise PowerCut()
            raise TimeoutError("the QR code is shown but no order is pending on the wallet host")
        order = pending[-1]["order"]
        w.customer_pays(order)                        # the customer's app pays the order
        if after_reply:
            after_reply()
        self._wait(["PAID BY WALLET"], 30)
        self._keys(["ENTER"])
        return "APPROVED"

    # -- the three records, per transaction ---------------------------------------
    def agreement(self):
        """[what disagreed] over every transaction the terminal and the hosts know of."""
        rig = self.rig
        bad = []
        txns = journal_state(read_journal(os.path.join(rig.flash_dir, "journal.bin")))
        entries = rig.batch()
        by_stan = {}
        for e in entries:
            if e.get("tender") == "card" and e.get("ok") and e.get("stan"):
                by_stan.setdefault(int(e["stan"]), []).append(e)
        for s, x in sorted(txns.items()):
            if x["state"] in ("reversing", "sent", "await_card"):
                bad.append("STAN %06d still %s after reboot" % (s, x["state"]))
                continue
            h = rig.hosts[x["acq"]].db.txn(self.tids[x["acq"]], "%06d" % s)
            host = 0 if h is None or h["reversed"] else -h["effect"]
            term = charged(x)
            es = by_stan.get(s, [])
            rec = sum(SIGN.get(e["kind"], 0) * (e["amount"] + e.get("tip", 0)) for e in es)
            if len(es) > 1:
                bad.append("STAN %06d recorded %d times in the batch" % (s, len(es)))
            if not (host == term == rec):
                bad.append("STAN %06d %s: host %d journal %d (%s) batch %d"
                           % (s, x["kind"], host, term, x["state"], rec))
        known = set(txns)
        for s in by_stan:
            if s not in known:
                bad.append("STAN %06d in the batch, not in the journal" % s)
        # wallet orders of this terminal: paid <=> exactly one approved batch entry
        w = rig.wallet
        with w.lock:
            orders = [dict(o) for o in w.orders.values()]
        qr = {}
        for e in entries:
            if e.get("tender") == "qr" and e.get("ok") and e.get("order"):
                qr[e["order"]] = qr.get(e["order"], 0) + 1
        for o in orders:
            n = qr.get(o["order"], 0)
            if o["status"] == "paid" and n != 1:
                bad.append("order %s paid, %d batch entries" % (o["order"], n))
            if o["status"] != "paid" and n:
                bad.append("order %s %s, yet in the batch" % (o["order"], o["status"]))
            if o["status"] == "pending":
                bad.append("order %s left pending on the wallet host" % o["order"])
        # customer-presented payments of this terminal: charged <=> exactly one approved entry
        with w.lock:
            charged_txns = set(w.payments)
            paid_orders = set(o.get("txn") for o in w.orders.values())
        cqr = {}
        for e in entries:
            if e.get("tender") == "qr" and e.get("ok") and not e.get("order"):
                cqr[e.get("wallet", "")] = cqr.get(e.get("wallet", ""), 0) + 1
        for txn in sorted(charged_txns - paid_orders):
            if cqr.get(txn, 0) != 1:
                bad.append("wallet payment %s charged, %d batch entries" % (txn, cqr.get(txn, 0)))
        for txn in sorted(cqr):
            if txn not in charged_txns:
                bad.append("wallet payment %s in the batch, not charged on the wallet" % (txn or "?"))
        return bad

    # -- the Z report against the settlement, a reprint ----------------------------
    def z_report(self):
        """Z report (supervisor 2222): (card net printed on the Z report, {acq: settlement
        result shown}, net the acquirer hosts held open for this terminal before it)."""
        rig = self.rig
        host_net = 0
        for name, h in rig.hosts.items():
            sc, sa, rc, ra = h.db.open_totals(self.tids[name])
            host_net += sa - ra
        n = len(rig.receipts())
        self.idle()
        rig.keys(["MENU"])
        rig.wait_text("Reports")
        rig.keys(["7"])
        rig.wait_text("Z report")
        rig.keys(["2"])
        rig.wait_text("PIN")
        rig.keys(list("2222") + ["ENTER"])
        text = rig.wait_text("NET", 60)
        results = {}
        for name in rig.hosts:
            for line in text.splitlines():
                if line.strip().startswith(name):
                    results[name] = line.strip()[len(name):].strip()
        end = time.monotonic() + 10
        while len(rig.receipts()) == n and time.monotonic() < end:
            time.sleep(0.1)
        z = rig.receipts()[-1] if len(rig.receipts()) > n else ""
        z = z if isinstance(z, str) else str(z)
        printed = 0                      # the TENDER section's card line (QR is the wallet's)
        section = ""
        for line in z.splitlines():
            if line and not line.startswith(" "):
                section = line.strip()
            elif section == "TENDER" and line.split()[:1] == ["card"]:
                printed = _minor(line.split()[-1])
        self.idle()
        return printed, results, host_net

    def reprint_last(self):
        """Reports > Transaction list > the newest entry: its receipt printed again (text)."""
        rig = self.rig
        n = len(rig.receipts())
        k = min(len(rig.batch()), 8)
        self.idle()
        rig.keys(["MENU"])
        rig.wait_text("Reports")
        rig.keys(["7"])
        rig.wait_text("Z report")
        rig.keys(["3"])
        time.sleep(0.5)
        rig.keys([str(k)])
        end = time.monotonic() + 15
        while len(rig.receipts()) < n + 1 and time.monotonic() < end:
            time.sleep(0.1)
        out = rig.receipts()[n:]
        self.idle()
        return out

    # -- the sweep --------------------------------------------------------------
    def reference(self, tender):
        """The uncut sale's flash operations (after a warm-up sale: signed on, keys stored)."""
        self.idle()
        b = len(self.rig.board.flash_ops())
        self.sale(tender)
        self.idle()
        return self.rig.board.flash_ops()[b:]

    def run(self, tender, points=None, hows=("torn",), delays=(), report=None, select=None):
        """Cut at the given flash operations of the sale (None: every one; `select`:
        those operations (n, kind, path, bytes) it accepts) and `delays` seconds after
        the host's reply; returns a Report."""
        rep = report or Report(tender)
        self.rig.power_cycle()                 # each tender from a fresh boot (heap)
        self.reference(tender)                 # warm-up: sign-on, working keys stored
        rep.ops = self.reference(tender)
        n = len(rep.ops)
        todo = range(1, n + 1) if points is None else [p for p in points if 1 <= p <= n]
        if select is not None:
            todo = [k for k in todo if select(rep.ops[k - 1])]
        for k in todo:
            for how in hows:
                op = rep.ops[k - 1]
                label = "%s op %d/%d %s %s %s" % (tender, k, n, op[1], op[2], how)
                self._point(rep, label, lambda b, k=k, how=how: self.rig.board.arm_power_cut(b + k, how))
        for d in delays:
            label = "%s %.2f s after the host's reply" % (tender, d)
            self._point(rep, label, None, delay=d)
        return rep

    def _point(self, rep, label, arm, delay=None, retry=True):
        rig = self.rig
        self.idle()
        base = len(rig.board.flash_ops())
        after = None
        if delay is not None:
            after = self.cut_after_reply(delay)
        if arm is not None:
            arm(base)
        outcome = "completed"
        try:
            self.sale(rep.tender, after_reply=after if rep.tender == "qr" else None)
            if rig.board.wait_power_cut(1.0 if delay is not None else 0.2):
                outcome = "cut after the result"
        except PowerCut:
            outcome = "cut"
        except TimeoutError as exc:
            outcome = "stuck: %s" % str(exc).splitlines()[0]
            cpu = str(exc).partition("\nCPU:\n")[2]
            if cpu:
                self.log("    CPU: " + "\n    CPU: ".join(cpu.splitlines()))
        finally:
            rig.board.disarm_power_cut()
            self.unhook()
        if outcome.startswith("stuck"):
            tail = [ln for ln in rig.board.console().splitlines()[-12:] if ln.strip()]
            self.log("  %s: %s\n    board: %s" % (label, outcome, "\n    board: ".join(tail)))
            if rig.board.powered:
                rig.board.power_cut()
            if retry:                     # the sale never got there: try the point once more
                rig.power_cycle()
                return self._point(rep, label + " (again)", arm, delay, retry=False)
        rig.power_cycle()
        try:
            self.idle(90)
            bad = self.agreement()
        except TimeoutError as exc:
            bad = ["not idle after reboot: %s" % str(exc).splitlines()[-1]]
        for b in bad:
            rep.mismatches.append((label, b))
        if outcome == "completed" and delay is not None and retry and not bad:
            # the records agreed, but the power never went during this sale (its reply hook
            # saw no approval in time): the point is tried once more
            self.log("  %-58s %-22s AGREE, tried again" % (label[:58], outcome[:22]))
            return self._point(rep, label + " (again)", arm, delay, retry=False)
        rep.points.append((label, outcome))
        self.log("  %-58s %-22s %s" % (label[:58], outcome[:22], "AGREE" if not bad else "MISMATCH: " + "; ".join(bad)))

    # -- timed cuts after a host's reply -------------------------------------------
    def cut_after_reply(self, delay):
        """Cut the power `delay` seconds after the next 0110/0210 an acquirer sends (until
        unhook()); returns a function that starts the same countdown by hand (QR)."""
        import threading
        board = self.rig.board

        def cut():
            time.sleep(delay)
            if board.powered:
                board.power_cut()

        def on_message(direction, summary, raw, peer):
            if direction == "in" and summary[:4] in ("0110", "0210"):
                self.unhook()
                threading.Thread(target=cut, daemon=True).start()
        self._hooked = []
        for h in self.rig.hosts.values():
            self._hooked.append((h, h.on_message))
            h.on_message = on_message
        # the wallet's answer to a customer-presented charge (the countdown starts as the
        # wallet has charged, while its answer goes out)
        w = self.rig.wallet
        route = w.route

        def wallet_route(method, path, term, data):
            answer = route(method, path, term, data)
            if path == "/v1/pay":
                self.unhook()
                threading.Thread(target=cut, daemon=True).start()
            return answer
        self._wallet_route = route
        w.route = wallet_route
        return lambda: threading.Thread(target=cut, daemon=True).start()

    def unhook(self):
        for h, prev in self._hooked:
            h.on_message = prev
        self._hooked = []
        route = self._wallet_route
        if route is not None:
            self.rig.wallet.route = route
            self._wallet_route = None


def _minor(text):
    """'USD 1,234.50' / '1234.50' -> 123450."""
    digits = "".join(c for c in text if c.isdigit() or c in ".-")
    try:
        return int(round(float(digits) * 100))
    except ValueError:
        return None
