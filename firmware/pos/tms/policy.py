# When a firmware update may be applied (config/update.json): not while a transaction is in
# progress, not while the open batch holds more than `batch_limit` transactions, and only in
# the maintenance `window` ([from, to] minutes after midnight, terminal clock), unless the
# deployment is forced or the policy says "force".  Small on purpose: the DDI agent checks it
# before it restarts the terminal for an install, without loading the installer.
#
#     p = load(); why = p.busy(engine)   # None, or the reason the update must wait
#     p.in_window(time.time())
import json
import time

POLICY = "config/update.json"


class PaymentsActivity:
    """What pos.payments says about the terminal being busy (read-only use of the engine)."""

    def __init__(self, engine):
        self.engine = engine

    def busy(self, batch_limit):
        eng = self.engine
        open_txns = 0
        for stan in eng.txns:
            x = eng.txns[stan]
            if x is None:
                continue
            if x.state in ("sent", "await_card"):
                return "transaction in progress"
            if x.batch == eng.batches.get(x.acq) and x.charged():
                open_txns += 1
        if batch_limit and open_txns > batch_limit:
            return "batch open with %d transactions (limit %d): settle first" % (open_txns, batch_limit)
        return None


def in_window(policy, now):
    """True inside the maintenance window; no window configured means always."""
    w = policy.get("window")
    if not w:
        return True
    t = time.localtime(int(now))
    m = t[3] * 60 + t[4]
    return w[0] <= m < w[1] if w[0] <= w[1] else (m >= w[0] or m < w[1])


class Policy:
    def __init__(self, d):
        self.d = d
        self.batch_limit = d.get("batch_limit", 0)
        self.force = bool(d.get("force"))

    def busy(self, engine, batch=True):
        """Why an update must wait now, or None; batch=False: only a transaction in progress
        (what even a forced update waits for)."""
        return None if engine is None else PaymentsActivity(engine).busy(self.batch_limit if batch else 0)

    def in_window(self, now):
        return self.force or in_window(self.d, now)


def load():
    try:
        with open(POLICY) as f:
            return Policy(json.load(f) or {})
    except (OSError, ValueError, AttributeError):
        return Policy({})
