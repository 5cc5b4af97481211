"""Sales sync end to end: the counter (host_sim.rig) enrolled in the cloud service (embedded
SQLite) through a relay, cash and card sales made at the keypad, and the power cut at each
step of an upload (docs/sales-sync.md, "The terminal side"):

  queued        the record appended whole, the power gone before it was sent
  torn-append   half the record on flash (it is rebuilt from the transaction list)
  mid-request   the request on its way, the cloud never saw it
  answer-lost   the cloud committed, the power gone before the answer was read
  before-ack    the answer read (201), the power gone before the pointer was written
  torn-ack      half of the pointer's new file on flash
  before-rename the pointer's new file whole, the power gone before its rename
  compact       a compaction's new file written, the power gone before its rename
  no-answer     (no power cut) the cloud committed, the answer lost on the link: sent again,
                200 duplicate, taken off once

then the terminal is left to drain its queue and the cloud's database is compared with the
terminal's transaction list: every transaction once, the same amounts.

    with SyncCounter() as sc:
        report = sc.sweep()            # report.ok, report.figures(), report.problems
"""
import json
import os
import sqlite3
import struct
import time
import zlib

from host_sim.fleet import ManagedTerminal

# step: (what the cut is, how it is armed)
STEPS = ("queued", "torn-append", "mid-request", "answer-lost", "before-ack", "torn-ack",
         "before-rename", "compact", "no-answer")
BOOKED = {"sale": "sale", "completion": "sale", "refund": "refund", "void": "void"}


def money(minor):
    return "USD %d.%02d" % (minor // 100, minor % 100)


def read_queue(path):
    """[(invoice, upload)] of the good records of a terminal's upload.q (0x5A, len, JSON, CRC)."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return []
    out, pos = [], 0
    while pos + 3 <= len(data) and data[pos] == 0x5A:
        ln = struct.unpack(">H", data[pos + 1:pos + 3])[0]
        end = pos + 3 + ln + 4
        if end > len(data) or zlib.crc32(data[pos + 1:pos + 3 + ln]) != struct.unpack(">I", data[end - 4:end])[0]:
            break
        body = json.loads(data[pos + 3:pos + 3 + ln])
        out.append((body["invoice"], body))
        pos = end
    return out


class Report:
    def __init__(self):
        self.cuts = []              # (step, what happened)
        self.problems = []
        self.sales = 0              # transactions the terminal completed (its list)
        self.stored = 0             # in the cloud
        self.duplicates = 0         # answers 200 (already stored) the terminal read
        self.deliveries = 0         # POST /sales that reached the cloud (through the relay)
        self.total = 0
        self.bytes_per_record = 0
        self.record_bytes = {}      # invoice -> bytes of its record, seen in the upload queue

    @property
    def ok(self):
        return not self.problems and self.sales > 0 and self.stored == self.sales

    def figures(self):
        return ("%d transactions, %d power cuts, cloud holds %d once each (total %s), %d deliveries, "
                "%d answered 200 duplicate, %d B a record on flash"
                % (self.sales, len([c for c in self.cuts if c[1] == "cut"]), self.stored, money(self.total),
                   self.deliveries, self.duplicates, self.bytes_per_record))


class SyncCounter(ManagedTerminal):
    """The counter enrolled in the cloud through a relay, flash operations numbered for cuts.
    queue_bytes: the upload queue's size on flash (small: compaction and the near-full warning
    come soon)."""

    def __init__(self, queue_bytes=4096, poll_s=60, log=print, tls=False, heap=None):
        # tls: the cloud over HTTPS, its CA pinned, without the relay (which reads request lines)
        super().__init__(poll_s=poll_s, rig=True, power_cuts=True, relay=not tls, tls=tls, heap=heap)
        self.queue_bytes = queue_bytes
        self.log = log or (lambda *a: None)

    def _enroll(self, flash_dir, broker, terminal_url):
        super()._enroll(flash_dir, broker, terminal_url)
        p = os.path.join(flash_dir, "config", "cloud.json")
        with open(p) as f:
            cfg = json.load(f)
        cfg["queue_bytes"] = self.queue_bytes
        with open(p, "w") as f:
            json.dump(cfg, f)

    # -- the cashier ---------------------------------------------------------------
    def cash_sale(self, minor):
        rig = self.rig
        rig.home()
        rig.keys(list(str(minor)))
        rig.wait_text(money(minor), 20)
        rig.keys(["ENTER"])
        rig.wait_text("1 Cash")
        rig.keys(["1"])
        rig.wait_text("Cash tendered")
        tendered = (minor // 1000 + 1) * 1000
        rig.keys(list(str(tendered)))
        rig.wait_text(money(tendered), 20)
        rig.keys(["ENTER"])
        rig.wait_text("Change")
        rig.keys(["ENTER"])

    def card_sale(self, minor, profile="visa-credit", pin="1234"):
        rig = self.rig
        text = rig.sale_by_card(minor, profile, pin)
        rig.remove()
        rig.keys(["ENTER"])
        return "APPROVED" in text

    # -- what each side holds -------------------------------------------------------
    def cloud_rows(self, sql, args=()):
        """Rows of a query on the cloud's SQLite database (read-only use)."""
        db = sqlite3.connect(os.path.join(self._tmp, "cloud", "cloud.db"))
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def cloud_sales(self):
        """[(invoice, kind, total, tip)] the cloud's database holds for this terminal."""
        return self.cloud_rows("SELECT invoice, kind, total, tip FROM sales WHERE terminal_id = ? ORDER BY id",
                               (self.terminal["id"],))

    def cloud_uploads(self):
        """The uploaded content of each sale the cloud stored for this terminal (parsed JSON)."""
        return [json.loads(b) for (b,) in self.cloud_rows("SELECT body FROM sales WHERE terminal_id = ? ORDER BY id",
                                                          (self.terminal["id"],))]

    def cloud_conflicts(self):
        return self.cloud_rows("SELECT invoice, deliveries FROM sale_conflicts WHERE terminal_id = ?",
                               (self.terminal["id"],))

    def listed(self):
        """{invoice: (kind booked, total, tip)} of the terminal's transaction list."""
        out = {}
        for e in self.rig.batch():
            if e.get("ok") and e.get("kind") in BOOKED:
                out[e["inv"]] = (BOOKED[e["kind"]], e["amount"], e.get("tip", 0) or 0)
        return out

    def ack(self):
        try:
            with open(os.path.join(self.rig.flash_dir, "upload.ack")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"done": 0, "refused": {}}

    def sales_posts(self):
        if not self.relay:
            return []
        return [h for h in self.relay.requests() if h.startswith(b"POST ") and b"/sales " in h.split(b"\r\n")[0]]

    def wait_drained(self, timeout=120):
        """True once the terminal's pointer is past its newest transaction (at once when its
        transaction list is empty: nothing is owed)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            listed = self.listed()
            if not listed or self.ack()["done"] >= max(listed):
                return True
            time.sleep(0.3)
        return False

    def wait_cut(self, timeout=90):
        return self.board.wait_power_cut(timeout)

    def power_cycle(self):
        self.rig.power_cycle(timeout=120)

    # -- the sweep -----------------------------------------------------------------------
    def _arm(self, step):
        b, relay = self.board, self.relay
        if step == "queued":
            b.arm_power_cut(1, "whole", match="write /upload.q")
        elif step == "torn-append":
            b.arm_power_cut(1, "torn", match="write /upload.q")
        elif step == "mid-request":
            relay.refuse_next(b"/sales", b'"invoice"', then=b.power_cut)
        elif step == "answer-lost":
            relay.cut_next(b"/sales", after=0, then=b.power_cut)
        elif step == "before-ack":
            b.arm_power_cut(1, "before", match="write /upload.ack.tmp")
        elif step == "torn-ack":
            b.arm_power_cut(1, "torn", match="write /upload.ack.tmp")
        elif step == "before-rename":
            b.arm_power_cut(1, "before", match="rename /upload.ack")
        elif step == "compact":
            b.arm_power_cut(1, "before", match="rename /upload.q")
        elif step == "no-answer":
            relay.cut_next(b"/sales", after=0)

    def sweep(self, steps=STEPS, amounts=None, card_every=4):
        """A sale per step with the cut armed; the power back on after each cut; then drain and
        compare.  Every `card_every`-th sale is a chip card (EMV data in the upload)."""
        r = Report()
        amounts = amounts or [1000 + 125 * i for i in range(len(steps))]
        self.wait_drained(30)
        for i, step in enumerate(steps):
            # what the last cut left unsent goes up first: armed now, the cut would fall on that
            # delivery, in the middle of this step's keying
            self.wait_drained(60)
            self._arm(step)
            if card_every and i % card_every == card_every - 1:
                self.card_sale(6000 + amounts[i])       # over the floor limit: online, host references
            else:
                self.cash_sale(amounts[i])
            if step == "compact":       # compaction comes once enough is acknowledged: more sales
                for k in range(16):
                    if self.board.wait_power_cut(0.1):
                        break
                    self.rig.wait_text("READY", 60)
                    self.cash_sale(500 + k * 5)
                    self.wait_drained(60)
            if step == "no-answer":
                self.wait_drained(120)
                r.cuts.append((step, "answer lost on the link, sent again"))
                self.log("  %-13s the answer lost on the link: sent again" % step)
                continue
            self.measure_queue(r)
            if self.wait_cut(90):
                r.cuts.append((step, "cut"))
                self.log("  %-13s power cut; back on" % step)
                self.board.disarm_power_cut()
                self.power_cycle()
                self.measure_queue(r)       # what the cut left unsent, before it goes up
            else:
                self.board.disarm_power_cut()
                r.cuts.append((step, "not reached"))
                r.problems.append("step %s: the power cut was never reached" % step)
                self.log("  %-13s NOT REACHED" % step)
        self.rig.wait_text("READY", 60)
        if not self.wait_drained(180):
            r.problems.append("the queue did not drain: pointer at %s, list up to %s"
                              % (self.ack()["done"], max(self.listed() or [0])))
        self.compare(r)
        return r

    def compare(self, r):
        listed = self.listed()
        rows = self.cloud_sales()
        r.sales, r.stored = len(listed), len(rows)
        seen = {}
        for inv, kind, total, tip in rows:
            if inv in seen:
                r.problems.append("invoice %d stored twice" % inv)
            seen[inv] = (kind, total, tip)
            r.total += total + tip if kind == "sale" else -(total + tip)
        for inv, want in sorted(listed.items()):
            got = seen.get(inv)
            if got is None:
                r.problems.append("invoice %d %s %s not in the cloud" % (inv, want[0], money(want[1])))
            elif got != want:
                r.problems.append("invoice %d: cloud %s, terminal %s" % (inv, got, want))
        for inv in seen:
            if inv not in listed:
                r.problems.append("invoice %d in the cloud, not in the terminal's list" % inv)
        posts = self.sales_posts()
        r.deliveries = len(posts)
        r.duplicates = len([ln for ln in self.board.console().splitlines()
                            if "sync answer" in ln and "status=200" in ln])
        self.measure_queue(r)
        sizes = list(r.record_bytes.values())
        r.bytes_per_record = sum(sizes) // len(sizes) if sizes else 0
        return r

    def measure_queue(self, r):
        """Each record in the upload queue now, by invoice, into r.record_bytes: the queue is
        compacted once acknowledged, so the records are measured as the sweep finds them (read
        only after the end they were gone, and the figure said 0 B)."""
        for inv, body in read_queue(os.path.join(self.rig.flash_dir, "upload.q")):
            r.record_bytes[inv] = len(json.dumps(body, separators=(",", ":"))) + 7
