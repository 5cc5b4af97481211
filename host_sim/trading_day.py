"""A trading day at the counter: hundreds of mixed transactions on the whole terminal (the
rig: frozen firmware on the virtual board with the product heap, acquirer and wallet hosts),
in an order drawn from a seed, then the Z report.  What a day is judged by:

- no MemoryError and no unhandled exception on the board (its console says);
- the heap free at Ready (the firmware logs it each time it is back at Ready, after
  collecting) at the end of the day within 10 % of what it was after the first ten;
- the Z report's totals equal to the hosts' records: card net to the acquirer hosts'
  transaction records after the settlement, QR to the wallet host's payments, cash to what
  the cashier took in.

    with Rig() as rig:
        day = TradingDay(rig, seed=11, transactions=300)
        report = day.run()          # DayReport: figures, per-kind counts, problems

The largest single allocation of a transaction is measured, when asked for, by
host_sim.alloc_probe (a probe on the board process's GC allocator).
"""
import random
import re
import time
import urllib.request

SUPERVISOR = "2222"                      # TEST supervisor PIN (firmware/config/operators.json)
KINDS = (                                 # kind, weight in the mix
    ("cash", 16), ("chip_offline_pin", 12), ("chip_online_pin", 8), ("tap", 12),
    ("swipe_fallback", 4), ("merchant_qr", 8), ("customer_qr", 8), ("split", 5),
    ("refund", 4), ("void", 4), ("preauth_completion", 4), ("tip_adjust", 4),
    ("x_report", 3), ("reprint", 3),
)
_IDLE = re.compile(r"\[(\d+)\] INFO app idle heap_free=(\d+)")
_FAULTS = ("MemoryError", "Traceback (most recent call last)", "memory allocation failed")
STRIPE = {"pan": "4761739001010119", "expiry": "2812", "service_code": "201", "name": "TEST/CARDHOLDER"}


class DayError(AssertionError):
    """The day went wrong: what was being done and what the terminal showed."""


class DayReport:
    def __init__(self):
        self.done = 0                    # transactions completed
        self.kinds = {}                  # kind -> count
        self.heap_after = {}             # transactions done -> heap free at Ready (bytes)
        self.heap_after_z = None
        self.largest_free_after_z = None  # bytes: the largest free heap block after the day
        self.largest_alloc = None        # bytes, with the probe
        self.largest_alloc_kind = ""
        self.faults = []                 # console lines with MemoryError / tracebacks
        self.stopped = ""                # why the day stopped before its end (the cashier was stuck)
        self.z_tenders = {}              # tender -> (count, minor) from the printed Z report
        self.host_card_net = 0
        self.wallet_total = 0
        self.cash_total = 0
        self.z_settlement = ""
        self.seconds = 0.0

    def heap_at(self, n):
        """Heap free at Ready after the n-th transaction (or the nearest before it)."""
        ks = [k for k in self.heap_after if k <= n]
        return self.heap_after[max(ks)] if ks else None

    @property
    def z_card_net(self):
        return sum(self.z_tenders.get(t, (0, 0))[1] for t in ("card", "refund"))

    def problems(self, first=10):
        """What fails the day's criteria (empty list: a good day)."""
        out = list("board: %s" % f for f in self.faults)
        if self.stopped:
            out.append("stopped at %s" % self.stopped)
        h10, hend = self.heap_at(first), self.heap_after_z
        if h10 is None or hend is None:
            out.append("heap figures missing (after %d: %s, after the Z report: %s)" % (first, h10, hend))
        elif abs(hend - h10) > h10 // 10:
            out.append("heap free at Ready after the day %d is not within 10%% of %d (after %d)"
                       % (hend, h10, first))
        if self.z_card_net != self.host_card_net:
            out.append("Z report card net %d != acquirer hosts' open batches %d" % (self.z_card_net,
                                                                                   self.host_card_net))
        if self.z_tenders.get("qr", (0, 0))[1] != self.wallet_total:
            out.append("Z report QR %d != wallet host payments %d" % (self.z_tenders.get("qr", (0, 0))[1],
                                                                     self.wallet_total))
        if self.z_tenders.get("cash", (0, 0))[1] != self.cash_total:
            out.append("Z report cash %d != cash taken in %d" % (self.z_tenders.get("cash", (0, 0))[1],
                                                                self.cash_total))
        if "FAILED" in self.z_settlement:
            out.append("settlement: %s" % self.z_settlement)
        return out


def _money(minor):
    return "USD %d.%02d" % (minor // 100, minor % 100)


def z_tenders(receipt):
    """{tender: (count, minor)} from the TENDER block of a printed X/Z report."""
    out = {}
    block = receipt.split("TENDER", 1)[-1].split("SCHEME", 1)[0]
    for m in re.finditer(r"^ (\S+)\s+(\d+)\s+USD (-?)(\d+)\.(\d\d)\s*$", block, re.M):
        minor = int(m.group(4)) * 100 + int(m.group(5))
        out[m.group(1)] = (int(m.group(2)), -minor if m.group(3) else minor)
    return out


class TradingDay:
    def __init__(self, rig, seed=11, transactions=300, probe=None, log=None, mix=KINDS, free_block=False,
                 before_z=None):
        self.rig = rig
        self.before_z = before_z         # fn(): called just before the Z report (which clears the list)
        self.mix = mix                   # ((kind, weight), ...)
        self.rng = random.Random(seed)
        self.n = transactions
        self.probe = probe               # host_sim.alloc_probe.AllocProbe or None
        self.free_block = free_block     # read the largest free block at the end (stops main.py)
        self.log = log or (lambda line: None)
        self.report = DayReport()
        self.card_sales = []             # [{"inv", "amount", "tip", "voided", "refunded"}] approved, same batch
        self.preauths = []
        self._idle_ts = 0
        self._qr_code = 0

    # -- the plan ---------------------------------------------------------------------
    def plan(self):
        """Every kind once, the rest drawn by weight, in a seeded order."""
        kinds = [k for k, _ in self.mix]
        seq = list(kinds) if self.n >= len(kinds) else []
        pool = [k for k, w in self.mix for _ in range(w)]
        while len(seq) < self.n:
            seq.append(self.rng.choice(pool))
        self.rng.shuffle(seq)
        return seq

    def run(self):
        t0 = time.monotonic()
        rig = self.rig
        self._wait_idle(first=True)
        for i, kind in enumerate(self.plan()):
            if self.probe is not None:
                self.probe.reset()
            rig.printer.tear_off()           # the roll read so far (receipts() stays short)
            try:
                getattr(self, "_" + kind)()
                rig.home()
            except (TimeoutError, DayError) as exc:
                # the figures so far still tell: the day stops here, without its Z report
                self.report.stopped = "transaction %d (%s): %s" % (i + 1, kind, exc)
                self._check_console()
                break
            heap = self._wait_idle()
            if self.probe is not None:
                big = self.probe.largest()
                if self.report.largest_alloc is None or big > self.report.largest_alloc:
                    self.report.largest_alloc, self.report.largest_alloc_kind = big, kind
            self.report.done = i + 1
            self.report.kinds[kind] = self.report.kinds.get(kind, 0) + 1
            self.report.heap_after[i + 1] = heap
            self.log("%4d %-20s heap free at Ready %d" % (i + 1, kind, heap))
            self._check_console()
            if self.report.faults:
                break
        if not self.report.faults and not self.report.stopped:
            if self.before_z is not None:
                self.before_z()
            self._z_report()
        self._check_console()
        if self.free_block and self.report.heap_after_z is not None:
            self.report.largest_free_after_z = self._largest_free_block()
        self.report.seconds = time.monotonic() - t0
        return self.report

    # -- observation ------------------------------------------------------------------
    def _wait_idle(self, first=False, timeout=30):
        """The heap free the firmware logged on its latest return to Ready (newer than the
        last one read)."""
        end = time.monotonic() + timeout
        while True:
            found = _IDLE.findall(self.rig.board.console()[-65536:])
            if found:
                ts, free = int(found[-1][0]), int(found[-1][1])
                if ts > self._idle_ts or (first and not self._idle_ts):
                    self._idle_ts = ts
                    return free
            if first and not found:
                # power-on: Ready has not been left yet; one round trip through a menu logs it
                self.rig.keys(["MENU", "CANCEL"])
            if time.monotonic() > end:
                raise DayError("no 'app idle heap_free' log line after the transaction")
            time.sleep(0.1)

    def _largest_free_block(self):
        """The largest free block of the board's heap (micropython.mem_info: "max free sz", in
        GC blocks of four machine words), read through the raw REPL once the day is over:
        this stops the firmware's main loop (its KeyboardInterrupt traceback is printed), whose
        garbage is then collected, so the figure is the heap the day left behind.  None when
        the board does not answer."""
        try:
            out = self.rig.board.exec("import gc, sys, micropython\ngc.collect()\nmicropython.mem_info()\n"
                                      "print('word', 8 if sys.maxsize > 2**32 else 4)", 60)
        except Exception:
            return None
        m, w = re.search(r"max free sz: (\d+)", out), re.search(r"word (\d+)", out)
        return int(m.group(1)) * 4 * int(w.group(1)) if m and w else None

    def _check_console(self):
        text = self.rig.board.console()
        for line in text.splitlines():
            if any(f in line for f in _FAULTS) and line not in self.report.faults:
                self.report.faults.append(line)

    # -- the cashier's work -------------------------------------------------------------
    # The keypad model hands each key to the firmware and waits until its controller has
    # read it (Rig.keys): keys are not lost, so each is pressed once and the cashier then
    # waits for the screen it leads to.
    def _amount(self, lo=100, hi=6000):
        return self.rng.randrange(lo // 5, hi // 5) * 5

    def _key_amount(self, minor, next_screen=None):
        """Key an amount on the amount entry shown (or at Ready, where the first digit opens
        the sale's); a prefilled entry (refund, completion) is replaced by the first digit.
        ENTER once the display shows the amount; then wait for `next_screen` if given."""
        rig = self.rig
        rig.keys(list(str(minor)))
        rig.wait_text(_money(minor), 10)
        rig.keys(["ENTER"])
        if next_screen:
            rig.wait_text(next_screen)

    def _key_invoice(self, inv):
        rig = self.rig
        rig.keys(list(str(inv)))
        end = time.monotonic() + 10
        while str(inv) not in [line.strip() for line in rig.display.text().splitlines()]:
            if time.monotonic() > end:
                raise DayError("invoice %d keyed, the display shows:\n%s" % (inv, rig.display.text()))
            time.sleep(0.05)
        rig.keys(["ENTER"])

    def _sale_start(self, minor, tender_key, wait):
        rig = self.rig
        rig.home()
        self._key_amount(minor, "1 Cash")
        rig.keys([tender_key])
        rig.wait_text(wait)

    def _result(self, timeout=60):
        """The result screen of a card transaction; DayError if another screen (an error page)
        stays instead."""
        try:
            which, _ = self.rig.wait_any(["APPROVED", "DECLINED", "NOT COMPLETED"], timeout)
        except TimeoutError as exc:
            raise DayError(str(exc))
        return which

    def _record_card_sale(self, entries):
        """The newest approved card entry of the batch among `entries` (a sale, a completion)
        as one the cashier may later refund, void or adjust."""
        e = [x for x in entries if x.get("tender") == "card" and x.get("ok")][-1]
        self.card_sales.append({"inv": e["inv"], "amount": e["amount"], "tip": e.get("tip", 0),
                                "voided": False, "refunded": False, "stan": e.get("stan", ""),
                                "kind": e["kind"]})

    def _card_done(self, text, n0):
        """After a card result screen: the sale noted if approved, the card out, ENTER."""
        rig = self.rig
        if "APPROVED" in text:
            self._record_card_sale(rig.batch()[n0:])
        rig.remove()
        rig.keys(["ENTER"])
        rig.wait_text("READY")

    def _cash(self):
        minor = self._amount()
        tendered = (minor // 1000 + 1) * 1000         # the next round note
        self._sale_start(minor, "1", "Cash tendered")
        self._key_amount(tendered, "Change")
        self.report.cash_total += minor
        self.rig.keys(["ENTER"])
        self.rig.wait_text("READY")

    def _chip(self, profile, pin, lo, hi):
        rig = self.rig
        minor = self._amount(lo, hi)
        n0 = len(rig.batch())
        self._sale_start(minor, "2", "TAP, INSERT OR SWIPE")
        rig.insert(profile)
        self._card_done(rig.finish_card(pin), n0)

    def _chip_offline_pin(self):
        self._chip("visa-cvn10", "1234", 100, 4900)          # offline plaintext PIN, under the floor

    def _chip_online_pin(self):
        self._chip("mastercard-credit", "4321", 1000, 9000)  # online PIN to the acquirer

    def _tap(self):
        from host_sim.cards import load_profile
        from host_sim.cards.contactless import ContactlessCard
        rig = self.rig
        minor = self._amount(100, 4500)
        n0 = len(rig.batch())
        self._sale_start(minor, "2", "TAP, INSERT OR SWIPE")
        nfc = rig.board.devices["pn532"]
        nfc.tap(ContactlessCard(dict(load_profile("visa-cvn10"))))
        which, text = rig.wait_any(["APPROVED", "DECLINED", "NOT COMPLETED"], 30)
        nfc.remove()
        self._card_done(text, n0)

    def _swipe_fallback(self):
        rig = self.rig
        minor = self._amount()
        n0 = len(rig.batch())
        self._sale_start(minor, "2", "TAP, INSERT OR SWIPE")
        rig.insert("mute")                                    # the chip does not answer
        rig.wait_text("CHIP ERROR: SWIPE CARD", 30)
        rig.remove()
        rig.board.devices["msr"].swipe(card=STRIPE)
        self._result(30)
        self._card_done(rig.display.text(), n0)

    def _wallet_paid(self, minor):
        """PAID BY WALLET for `minor`, its receipt printed; ENTER ends the sale."""
        rig = self.rig
        text = rig.wait_text("PAID BY WALLET", 30)
        if _money(minor) not in text:
            raise DayError("wallet payment shown for another amount than %s:\n%s" % (_money(minor), text))
        rig.keys(["ENTER"])
        rig.wait_text("READY")

    def _merchant_qr(self):
        rig = self.rig
        minor = self._amount()
        self._sale_start(minor, "3", "1 Show QR")
        n_orders = len(rig.wallet.orders)
        rig.keys(["1"])
        rig.wait_text("Scan with your wallet app", 30)
        if len(rig.wallet.orders) != n_orders + 1:
            raise DayError("no wallet order opened for the merchant QR")
        ref = max(rig.wallet.orders)                          # the order this sale opened
        # the customer's phone pays the order it read from the code
        urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/sim/pay/%s" % (rig.wallet.port, ref), data=b"", method="POST"),
            timeout=10).read()
        self._wallet_paid(minor)

    def _customer_qr(self):
        rig = self.rig
        minor = self._amount()
        self._sale_start(minor, "3", "2 Scan customer code")
        rig.keys(["2"])
        rig.wait_text("SCAN CUSTOMER CODE")
        self._qr_code += 1
        rig.board.devices["scanner"].scan("WALLET-OK-%06d" % self._qr_code)
        self._wallet_paid(minor)

    def _split(self):
        rig = self.rig
        minor = self._amount(2000, 8000)
        cash = self._amount(500, minor - 500)
        rig.home()
        self._key_amount(minor, "4 Split tender")
        rig.keys(["4"])
        rig.wait_text("Split tender")
        self._key_amount(cash, "1 Cash")
        n0 = len(rig.batch())
        rig.keys(["1"])
        rig.wait_text("Sale " + _money(minor - cash))
        self.report.cash_total += cash
        rig.keys(["2"])
        rig.wait_text("TAP, INSERT OR SWIPE")
        rig.insert("visa-cvn10")
        text = rig.finish_card("1234", done=("Paid", "DECLINED", "NOT COMPLETED"))
        if "Paid" in text:
            self._record_card_sale(rig.batch()[n0:])
        rig.remove()
        rig.keys(["ENTER"])
        if "Paid" not in text:
            # the card part was refused: the rest is paid in cash
            rig.wait_text("Sale " + _money(minor - cash))
            rig.keys(["1"])
            rig.wait_text("Cash tendered")
            self._key_amount(minor - cash, "Paid")
            self.report.cash_total += minor - cash
            rig.keys(["ENTER"])
        rig.wait_text("READY")

    def _menu(self, item, wait):
        rig = self.rig
        rig.home()
        rig.keys(["MENU"])
        rig.wait_text("1 Sale")
        rig.keys([item])
        rig.wait_text(wait)

    def _supervisor(self):
        self.rig.wait_text("Supervisor PIN")
        self.rig.keys(list(SUPERVISOR) + ["ENTER"])

    def _open_sale(self, pred):
        cands = [s for s in self.card_sales if not s["voided"] and pred(s)]
        return self.rng.choice(cands) if cands else None

    def _referenced_result(self, n0):
        """The result of a refund/void/completion: (which, the new batch entry or None)."""
        which = self._result(30)
        e = None
        if which == "APPROVED":
            new = [x for x in self.rig.batch()[n0:] if x.get("ok")]
            e = new[-1] if new else None
        self.rig.keys(["ENTER"])
        self.rig.wait_text("READY")
        return which, e

    def _refund(self):
        s = self._open_sale(lambda s: not s["refunded"])
        if s is None:
            return self._chip_offline_pin()
        rig = self.rig
        n0 = len(rig.batch())
        self._menu("2", "Supervisor PIN")
        self._supervisor()
        rig.wait_text("Original invoice")
        self._key_invoice(s["inv"])
        rig.wait_text("Enter amount")
        amount = max(5, (s["amount"] + s["tip"]) // 2 // 5 * 5)
        self._key_amount(amount)
        which, _ = self._referenced_result(n0)
        if which == "APPROVED":
            s["refunded"] = True

    def _void(self):
        s = self._open_sale(lambda s: not s["refunded"])
        if s is None:
            return self._chip_offline_pin()
        rig = self.rig
        n0 = len(rig.batch())
        self._menu("3", "Supervisor PIN")
        self._supervisor()
        rig.wait_text("Original invoice")
        self._key_invoice(s["inv"])
        which, _ = self._referenced_result(n0)
        if which == "APPROVED":
            s["voided"] = True

    def _preauth_completion(self):
        rig = self.rig
        # some under the floor limit (50.00), approved offline by the card, some above it,
        # approved online by the issuer
        minor = self._amount(1000, 9000)
        n0 = len(rig.batch())
        self._menu("4", "Enter amount")
        self._key_amount(minor, "INSERT")
        rig.insert("visa-credit")
        text = rig.finish_card("1234")
        rig.remove()
        rig.keys(["ENTER"])
        rig.wait_text("READY")
        if "APPROVED" not in text:
            return
        pre = [x for x in rig.batch()[n0:] if x.get("kind") == "preauth"][-1]
        n0 = len(rig.batch())
        self._menu("5", "Original invoice")
        self._key_invoice(pre["inv"])
        rig.wait_text("Enter amount")
        final = minor * self.rng.randrange(80, 111) // 100 // 5 * 5
        self._key_amount(final)
        which, e = self._referenced_result(n0)
        if which == "APPROVED" and e is not None:
            self._record_card_sale([e])

    def _tip_adjust(self):
        s = self._open_sale(lambda s: not s["refunded"] and not s["tip"])
        if s is None:
            return self._cash()
        rig = self.rig
        self._menu("6", "Original invoice")
        self._key_invoice(s["inv"])
        rig.wait_text("Enter amount")
        tip = max(5, s["amount"] // 10 // 5 * 5)
        self._key_amount(tip)
        try:
            rig.wait_text("Tip " + _money(tip))
        except TimeoutError as exc:
            raise DayError(str(exc))
        s["tip"] = tip
        rig.keys(["ENTER"])

    def _x_report(self):
        rig = self.rig
        n0 = rig.printer.cuts
        self._menu("7", "1 X report")
        rig.keys(["1"])
        rig.wait_text("NET")
        if not rig.printer.wait_for_cuts(n0 + 1, timeout=20):
            raise DayError("X report not printed")
        rig.keys(["ENTER"])

    def _reprint(self):
        rig = self.rig
        n0 = rig.printer.cuts
        self._menu("7", "3 Transactions")
        rig.keys(["3"])
        which, _ = rig.wait_any(["1 0", "Not found"], 20)
        if which != "1 0":
            rig.keys(["CANCEL"])
            return
        rig.keys(["1"])
        rig.wait_text("Reprint")
        if not rig.printer.wait_for_cuts(n0 + 1, timeout=20):
            raise DayError("reprint not printed")
        rig.keys(["CANCEL"])

    def _host_records_net(self):
        """Net of the acquirer hosts' records of this terminal (each acquirer knows it by its
        own terminal ID: TERM0001 at alpha, TERM0002 at beta)."""
        net = 0
        for h in self.rig.hosts.values():
            with h.db.lock:
                rows = h.db.db.execute("SELECT effect FROM transactions WHERE reversed=0 AND duplicate=0"
                                       " AND pcode NOT LIKE '02%'").fetchall()
            net -= sum(e for (e,) in rows)
        return net

    def _z_report(self):
        rig = self.rig
        rig.printer.tear_off()
        self._menu("7", "2 Z report")
        rig.keys(["2"])
        self._supervisor()
        if not rig.printer.wait_for_cuts(1, timeout=120):
            raise DayError("Z report not printed")
        z = [r for r in rig.receipts() if "Z REPORT" in r][-1]
        self.report.z_tenders = z_tenders(z)
        self.report.z_settlement = " ".join(l.strip() for l in z.splitlines() if l.startswith("SETTLE"))
        rig.wait_text("Z report", 30)
        # the acquirer hosts' records once the batch is settled (tips adjusted on the terminal
        # and advices reach the host at the latest in the batch upload): every transaction of
        # the day that moves money, net (sales, completions, tips in; refunds out; a voided
        # or reversed sale and its void count nothing)
        self.report.host_card_net = self._host_records_net()
        self.report.wallet_total = sum(rig.wallet.payments.values())
        rig.keys(["ENTER"])
        rig.home()
        self.report.heap_after_z = self._wait_idle()
        self.log("Z report: %s; settlement: %s" % (self.report.z_tenders, self.report.z_settlement))
