"""Exception injection on the whole counter (host_sim.rig): a firmware function of a sale
raises, once, an exception of a given type, and the terminal must still end every sale
charged exactly once or not at all, its journal and batch agreeing with the hosts, back at
Ready with nothing left to send.

The board's support layer (host_sim/board/bsp/_faults.py) wraps the named functions as
their modules load; a point is armed through a control file and says when it fired.

    with Rig(power_cuts=True, cpu_env=Injector.env(ctl_dir)) as rig:
        inj = Injector(rig, ctl_dir)
        result = inj.run(Sweep(rig), "swipe", STEPS["swipe"][0], "ValueError")
        result.problems                 # [] when every check held

Used by tests/hostlink/test_board_faults.py.
"""
import os

ERRORS = ("ValueError", "KeyError", "IndexError", "TypeError", "OSError", "MemoryError",
          "RuntimeError", "AttributeError")

# The steps of each tender's sale: (stage at which the point is armed, "module:function",
# "before" (the call raises) or "after" (the call did its work, then raises)).  Stage None:
# armed before the sale starts; "swipe" / "cash" / "scan": armed once the sale got there.
HOST_PATH = (
    ("pos.app.services:Recorder.authorize", "before"),     # nothing sent yet
    ("pos.payments.engine:PaymentEngine._build", "before"),
    ("pos.store.journal:Journal.append", "after"),         # the request's record, not sent
    ("pos.payments.transport:Link.send", "after"),         # the request reached the host
    ("pos.payments.transport:Link.receive", "before"),
    ("pos.iso8583.codec:decode", "before"),
    ("pos.iso8583.mac:verify", "before"),
    ("pos.payments.acquirer:Acquirer.accept", "before"),
    ("pos.payments.engine:PaymentEngine._answered", "before"),
)
STEPS = {
    "swipe": [(None, "pos.app.counters:next_invoice", "before")]             # the mute chip's entry
    + [("swipe", "pos.drivers.msr:parse_frame", "before"),
       ("swipe", "pos.payments.magstripe:read_card", "before"),
       ("swipe", "pos.payments.magstripe:evaluate", "before"),
       ("swipe", "pos.payments.magstripe:auth_request", "before")]
    + [("swipe", p, how) for p, how in HOST_PATH]
    + [("swipe", "pos.app.services:terminal_ids", "before"),
       ("swipe", "pos.app.counters:next_invoice", "before"),
       ("swipe", "pos.app.batch:record", "before"),
       ("swipe", "pos.app.batch:record", "after"),
       ("swipe", "pos.app.counters:record_sale", "before"),
       ("swipe", "pos.app.card:print_both", "before"),
       ("swipe", "pos.app.card:CardResult.__init__", "before")],
    "split": [(None, p, how) for p, how in HOST_PATH]
    + [(None, "pos.app.card:_entry", "before"),
       (None, "pos.app.batch:record", "before"),
       (None, "pos.app.batch:record", "after"),
       (None, "pos.app.counters:record_sale", "before"),
       (None, "pos.app.card:print_both", "before"),
       (None, "pos.app.sale:SaleFlow._paid", "before"),
       ("cash", "pos.app.counters:next_invoice", "before"),
       ("cash", "pos.app.batch:record", "before"),
       ("cash", "pos.app.counters:record_sale", "before"),
       ("cash", "pos.app.sale:SplitDone.finish", "before"),
       ("cash", "pos.app.receipt:print_split", "before")],
    "cqr": [("scan", "pos.drivers.scanner:Scanner.poll", "before"),
            ("scan", "pos.payments.wallet:from_config", "before"),
            ("scan", "pos.payments.wallet:WalletClient.request", "before"),    # nothing sent
            ("scan", "pos.payments.wallet:_receive", "before"),               # the wallet charged
            ("scan", "pos.payments.wallet:_content_length", "before"),
            ("scan", "pos.payments.wallet:WalletClient.pay", "after"),
            ("scan", "pos.app.counters:next_invoice", "before"),
            ("scan", "pos.app.batch:record", "before"),
            ("scan", "pos.app.batch:record", "after"),
            ("scan", "pos.app.counters:record_sale", "before"),
            ("scan", "pos.app.qr_pay:print_receipt", "before")],
}
CARD_PAN = {"swipe": "4761739001010119", "split": "4761739001010135"}


def all_points():
    return sorted(set(p for steps in STEPS.values() for _s, p, _h in steps))


class Result:
    def __init__(self, label):
        self.label = label
        self.outcome = ""
        self.charged = None
        self.problems = []

    def line(self):
        return "%-66s %-15s charged %-7s %s" % (self.label[:66], self.outcome[:15],
                                               "?" if self.charged is None else "%.2f" % (self.charged / 100),
                                               "AGREE" if not self.problems else "WRONG: " + "; ".join(self.problems))


class Injector:
    @staticmethod
    def env(ctl_dir, points=None):
        """The board CPU's environment that sets the injection points up."""
        return {"SMARTPOS_FAULT_POINTS": ",".join(points or all_points()),
                "SMARTPOS_FAULT_CTL": os.path.join(os.path.abspath(ctl_dir), "inject")}

    def __init__(self, rig, ctl_dir):
        self.rig = rig
        self.ctl = os.path.join(os.path.abspath(ctl_dir), "inject")

    def arm(self, point, err, how="before"):
        with open(self.ctl + ".tmp", "w") as f:
            f.write("%s %s %s" % (point, err, how))
        os.replace(self.ctl + ".tmp", self.ctl)

    def disarm(self):
        """True when the armed point fired."""
        try:
            with open(self.ctl) as f:
                fired = f.read().startswith("fired ")
        except OSError:
            return False
        os.remove(self.ctl)
        return fired

    def _charged(self, tender):
        """What the customer has paid so far, by the host's records (minor units)."""
        rig = self.rig
        if tender == "cqr":
            with rig.wallet.lock:
                return sum(rig.wallet.payments.values())
        return -rig.hosts["alpha"].db.balance(CARD_PAN[tender])

    def run(self, sweep, tender, step, err):
        """One sale of `tender` with `step` (stage, point, how) raising `err` once."""
        from host_sim.powercut import TENDERS
        stage, point, how = step
        res = Result("%s %s %s %s" % (tender, point.split(":")[1], how, err))
        rig = self.rig
        sweep.idle()
        before = self._charged(tender)
        n_batch = len(rig.batch())
        if stage is None:
            self.arm(point, err, how)
            sweep.at_stage = None
        else:
            sweep.at_stage = lambda s: self.arm(point, err, how) if s == stage else None
        try:
            res.outcome = sweep.sale(tender)
        except TimeoutError as exc:
            res.outcome = "STUCK"
            res.problems.append("sale stuck: %s" % str(exc).splitlines()[0])
        finally:
            sweep.at_stage = None
            fired = self.disarm()
        if not fired:
            res.problems.append("point never reached")
        try:
            sweep.idle(90)                 # back at Ready, nothing owed to the hosts
        except TimeoutError as exc:
            res.problems.append("not back at Ready with nothing to send: %s" % str(exc).splitlines()[-1])
        res.problems += sweep.agreement()
        t = TENDERS[tender]
        whole = t["amount"] if tender != "split" else t["card"]      # the card's share of a split
        res.charged = self._charged(tender) - before
        new = rig.batch()[n_batch:]
        recorded = [e for e in new if e.get("ok") and e.get("tender") in ("card", "qr")]
        if res.charged not in (0, whole):
            res.problems.append("customer charged %d of %d" % (res.charged, whole))
        if res.outcome in ("APPROVED", "PAID BY WALLET") and res.charged != whole:
            res.problems.append("shown %s, charged %d" % (res.outcome, res.charged))
        if res.charged and len(recorded) != 1:
            res.problems.append("charged, %d batch entries" % len(recorded))
        if not res.charged and recorded:
            res.problems.append("not charged, yet in the batch")
        return res

