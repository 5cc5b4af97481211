"""A trading day closed in the cloud: the counter's sales uploaded exactly once, the day
reconciled against what the acquirer hosts and the wallet host settled, one planted difference
found, the day closed and its ledger checked by Beancount's own bean-check
(docs/bookkeeping.md).

    with SyncCounter(queue_bytes=65536) as sc:
        report = close_a_day(sc)        # report.ok, report.figures(), report.problems

The day is host_sim.trading_day's seeded mix on the keypad, ending with the Z report (the
terminal settles each acquirer's batch, ISO 8583 0500).  Then each host writes its settlement
file from what it recorded (host_sim.hosts.settlement); the planted difference is one card
payment the acquirer leaves out of its file, as if it had not been settled.  What must hold:

- every transaction of the terminal's list is in the cloud once, with its amount;
- each reconciliation reports exactly the planted difference (missing_in_settlement, its
  terminal id and STAN, its amount) and nothing else, the other payments matched (card payments
  by terminal id, STAN and date, offline approvals included; a voided sale and its void expected
  absent from the file);
- the day closes, and the ledger of the day passes bean-check with the receivables left open
  exactly by the planted payment.
"""
import datetime
import os
import subprocess
import sys
import tempfile
import time

from host_sim.hosts.settlement import settlement_csv
from host_sim.trading_day import KINDS, TradingDay

# a tip adjusted after its sale was uploaded is not sent again (docs/sales-sync.md): a day with
# tip adjustments is reconciled with those differences, so this day has none
MIX = tuple((k, w) for k, w in KINDS if k != "tip_adjust")
FEES_BP = {"acquirer": 150, "wallet": 60}


class Report:
    def __init__(self):
        self.problems = []
        self.transactions = 0
        self.cloud = 0
        self.day = None
        self.reconciled = []            # (source, name, matched, differences)
        self.planted = None             # (acquirer, rrn, minor, tid, stan)
        self.found = None
        self.closed = None
        self.bean_check = None
        self.seconds = 0.0

    @property
    def ok(self):
        return not self.problems

    def figures(self):
        recs = ", ".join("%s %s %d matched %d differing" % r for r in self.reconciled)
        name, rrn, minor, tid, stan = self.planted
        return ("%d transactions in the cloud once each; %s; the planted difference found and nothing else "
                "(%s %s STAN %s RRN %s, %s missing in settlement); day %s closed (%s); ledger passes bean-check "
                "(%.0f s)" % (self.cloud, recs, name, tid, stan, rrn, _money(minor), self.day, self.closed,
                              self.seconds))


def _money(minor):
    return "USD %s%d.%02d" % ("-" if minor < 0 else "", abs(minor) // 100, abs(minor) % 100)


def _booked_days(sc):
    return [datetime.date.fromisoformat(str(d)) for (d,) in sc.cloud_rows(
        "SELECT DISTINCT booked_day FROM sales WHERE terminal_id = ?", (sc.terminal["id"],))]


def bean_check(text):
    """(ok, output) of Beancount's bean-check on a ledger's text."""
    with tempfile.NamedTemporaryFile("w", suffix=".beancount", delete=False) as f:
        f.write(text)
    try:
        exe = os.path.join(os.path.dirname(sys.executable), "bean-check")
        p = subprocess.run([exe, f.name], capture_output=True, text=True, timeout=120)
        return p.returncode == 0, (p.stdout + p.stderr).strip()
    finally:
        os.unlink(f.name)


def close_a_day(sc, transactions=24, seed=5, log=print):
    t0 = time.monotonic()
    r = Report()
    rig = sc.rig
    kept = {}                           # the transaction list as the Z report found it (it clears it)
    day = TradingDay(rig, seed=seed, transactions=transactions, mix=MIX, log=log,
                     before_z=lambda: kept.update(sc.listed()))
    dr = day.run()
    r.transactions = dr.done
    if dr.stopped or dr.faults or dr.heap_after_z is None:
        r.problems.append("the trading day did not end with its Z report: %s" % (dr.stopped or dr.faults))
        return r
    log("trading day: %d transactions and the Z report (%s)" % (dr.done, dr.z_settlement))
    # 1. every transaction in the cloud once
    listed = kept
    end = time.monotonic() + 300
    while sc.ack()["done"] < max(listed) and time.monotonic() < end:
        time.sleep(0.5)
    if sc.ack()["done"] < max(listed):
        r.problems.append("the terminal's upload queue did not drain (pointer %s, newest invoice %d)"
                          % (sc.ack(), max(listed)))
        return r
    cloud = sc.cloud_sales()
    r.cloud = len(cloud)
    got = {}
    for inv, kind, total, tip in cloud:
        if inv in got:
            r.problems.append("invoice %d twice in the cloud" % inv)
        got[inv] = (kind, total, tip)
    if got != listed:
        r.problems.append("the cloud %s != the terminal's list %s" % (sorted(got.items())[:5],
                                                                      sorted(listed.items())[:5]))
    refused = sc.ack().get("refused") or {}
    if refused:
        r.problems.append("uploads refused by the cloud: %s" % refused)
    days = _booked_days(sc)
    if len(days) != 1:
        r.problems.append("the day's sales were booked on %s, not one day" % days)
        return r
    r.day = days[0]
    # 2. the hosts' settlement files, one card payment left out of one
    files = [("acquirer", name, host.db.settled_payments()) for name, host in sorted(rig.hosts.items())]
    files.append(("wallet", "wallet", rig.wallet.settled_payments()))
    src, name, paid = max(files[:-1], key=lambda f: len(f[2]))
    if not paid:
        r.problems.append("no card payment was settled: nothing to plant a difference in")
        return r
    planted = next(p for p in paid if p[1] > 0)
    paid.remove(planted)
    rrn, minor, tid, stan = planted
    r.planted = (name, rrn, minor, tid, stan)
    log("planted: acquirer %s leaves %s STAN %s RRN %s (%s) out of its settlement file"
        % (name, tid, stan, rrn, _money(minor)))
    store = "/api/v1/stores/%d" % sc.terminal["store_id"]
    differences = []
    for source, host, payments in files:
        text = settlement_csv(r.day, "USD", 2, payments, fee_bp=FEES_BP[source])
        rep = sc.api("POST", store + "/reconciliations", {"source": source, "name": host, "day": r.day.isoformat(),
                                                          "file": text})
        r.reconciled.append((source, host, rep["matched"], len(rep["differences"])))
        log("reconciled %s %s: %d matched, recorded %s, settled %s, fees %s; differences %s"
            % (source, host, rep["matched"], rep["recorded_total"], rep["settled_total"], rep["fees"],
               rep["differences"]))
        differences += [(host, d) for d in rep["differences"]]
    want = [(name, {"kind": "missing_in_settlement", "tid": tid, "stan": stan,
                    "recorded": "%d.%02d" % (minor // 100, minor % 100), "settled": None})]
    found = [(h, {k: d[k] for k in ("kind", "tid", "stan", "recorded", "settled")}) for h, d in differences]
    if found != want:
        r.problems.append("reconciliation found %s, the planted difference is %s" % (found, want))
    r.found = found
    # 3. the day closed, the ledger checked
    c = sc.api("POST", store + "/days/%s/close" % r.day.isoformat())
    r.closed = "%d sales, %d refunds, %d voids, net %s" % (c["sales"], c["refunds"], c["voids"], _money(c["net"]))
    ledger = sc.api_text("/api/v1/merchants/%d/ledger?day_from=%s&day_to=%s"
                         % (sc.api("GET", store)["merchant_id"], r.day.isoformat(), r.day.isoformat()))
    ok, out = bean_check(ledger)
    r.bean_check = out
    if not ok:
        r.problems.append("bean-check refused the ledger: %s" % out[:300])
    open_receivable = _receivables(ledger)
    if open_receivable != {name: minor}:
        r.problems.append("receivables left open %s, want only the planted %s" % (open_receivable, minor))
    r.seconds = time.monotonic() - t0
    return r


def _receivables(ledger):
    """{acquirer or wallet: minor units} left on the receivables after the day's postings."""
    from beancount import loader
    from beancount.core import data
    entries, errors, _ = loader.load_string(ledger)
    out = {}
    for e in entries:
        if isinstance(e, data.Transaction):
            for p in e.postings:
                if p.account.startswith("Assets:Receivables:"):
                    who = p.account.rsplit(":", 1)[1].lower()
                    out[who] = out.get(who, 0) + int(p.units.number * 100)
    return {k: v for k, v in out.items() if v}
