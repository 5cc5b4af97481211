"""Issuer accounts and the host's transaction log in SQLite (TEST data only).

accounts:     pan, balance, txn_limit, blocked ('' | 'blocked' | 'lost' | 'stolen'),
              expiry (YYMM), pvv (Visa PVV of the TEST PIN), psn, pin_tries, issuer_online
transactions: one row per financial message the host accepted (0100/0200/0220/0320),
              keyed by (tid, stan); reversed flag; batch number
batches:      closed batches per terminal with their totals
"""
import os
import sqlite3
import threading

from host_sim.hosts.acquirer import hsm

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    pan TEXT PRIMARY KEY, balance INTEGER NOT NULL, txn_limit INTEGER NOT NULL,
    blocked TEXT NOT NULL DEFAULT '', expiry TEXT NOT NULL, pvv TEXT NOT NULL DEFAULT '',
    psn TEXT NOT NULL DEFAULT '00', pin_tries INTEGER NOT NULL DEFAULT 0,
    issuer_online INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS transactions (
    tid TEXT NOT NULL, stan TEXT NOT NULL, mti TEXT NOT NULL, pcode TEXT NOT NULL,
    pan TEXT NOT NULL, amount INTEGER NOT NULL, rc TEXT NOT NULL, auth TEXT NOT NULL,
    rrn TEXT NOT NULL, effect INTEGER NOT NULL, reversed INTEGER NOT NULL DEFAULT 0,
    batch INTEGER NOT NULL DEFAULT 0, settled INTEGER NOT NULL DEFAULT 0, reply BLOB,
    dt TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tid, stan));
CREATE TABLE IF NOT EXISTS batches (
    tid TEXT NOT NULL, batch INTEGER NOT NULL, totals TEXT NOT NULL, PRIMARY KEY (tid, batch));
"""

# TEST accounts (EMVCo-style test PANs; TEST PIN 1234 unless noted)
TEST_ACCOUNTS = [
    # pan,               balance, limit,  blocked,  expiry, pin
    ("4761739001010119", 500000, 200000, "", "2812", "1234"),    # visa, alpha
    ("4761739001010010", 1000, 200000, "", "2812", "1234"),      # visa, low balance
    ("4761739001010200", 500000, 200000, "blocked", "2812", "1234"),
    ("4761739001010309", 500000, 200000, "", "2001", "1234"),    # expired
    ("5413330089010434", 500000, 200000, "", "2812", "4321"),    # mastercard, beta
    ("6799998900000060018", 500000, 200000, "", "2812", "1234"),  # maestro-ish, default route
    # the EMV card simulator's profiles (host_sim/cards/profiles)
    ("4761739001010135", 500000, 200000, "", "2812", "1234"),    # visa-cvn10
    ("5413330089010442", 500000, 200000, "", "2812", "1234"),    # mastercard-cvn17
    ("6250941006528599", 500000, 200000, "", "2812", "1234"),    # unionpay-debit
    ("4761739001010150", 500000, 200000, "", "2812", "1234"),    # blocked-app (its 2nd app)
    ("4761739001010168", 500000, 200000, "", "2812", "1234"),    # pin-blocked
    ("4761739001010143", 500000, 200000, "", "2812", "1234"),    # bad-cert (declined on the TVR)
]


def luhn_ok(pan):
    total = 0
    for i, c in enumerate(reversed(pan)):
        d = ord(c) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class IssuerDB:
    def __init__(self, path=":memory:", seed=True):
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.executescript(SCHEMA)
        if seed and not self.db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]:
            for pan, bal, lim, blk, exp, pin in TEST_ACCOUNTS:
                self.add_account(pan, bal, lim, blk, exp, pin)

    def add_account(self, pan, balance, txn_limit=200000, blocked="", expiry="2812", pin="1234", psn="00"):
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?,?,0,1)",
                            (pan, balance, txn_limit, blocked, expiry, hsm.pvv(pan, pin), psn))

    def account(self, pan):
        with self.lock:
            row = self.db.execute("SELECT pan, balance, txn_limit, blocked, expiry, pvv, psn, pin_tries,"
                                  " issuer_online FROM accounts WHERE pan=?", (pan,)).fetchone()
        if row is None:
            return None
        keys = ("pan", "balance", "txn_limit", "blocked", "expiry", "pvv", "psn", "pin_tries", "issuer_online")
        return dict(zip(keys, row))

    def balance(self, pan):
        a = self.account(pan)
        return None if a is None else a["balance"]

    def set(self, pan, **kw):
        with self.lock:
            for k, v in kw.items():
                if k not in ("balance", "txn_limit", "blocked", "expiry", "pin_tries", "issuer_online"):
                    raise ValueError("unknown account column %s" % k)
                self.db.execute("UPDATE accounts SET %s=? WHERE pan=?" % k, (v, pan))

    def adjust(self, pan, delta):
        with self.lock:
            self.db.execute("UPDATE accounts SET balance=balance+? WHERE pan=?", (delta, pan))

    def txn(self, tid, stan):
        with self.lock:
            row = self.db.execute("SELECT tid, stan, mti, pcode, pan, amount, rc, auth, rrn, effect, reversed,"
                                  " batch, settled, reply, dt FROM transactions WHERE tid=? AND stan=?",
                                  (tid, stan)).fetchone()
        if row is None:
            return None
        keys = ("tid", "stan", "mti", "pcode", "pan", "amount", "rc", "auth", "rrn", "effect", "reversed",
                "batch", "settled", "reply", "dt")
        return dict(zip(keys, row))

    def record(self, tid, stan, mti, pcode, pan, amount, rc, auth, rrn, effect, batch, dt="", reply=None):
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO transactions (tid, stan, mti, pcode, pan, amount, rc, auth,"
                            " rrn, effect, reversed, batch, settled, reply, dt)"
                            " VALUES (?,?,?,?,?,?,?,?,?,?,0,?,0,?,?)",
                            (tid, stan, mti, pcode, pan, amount, rc, auth, rrn, effect, batch, reply, dt))

    def set_amount(self, tid, stan, amount, effect):
        with self.lock:
            self.db.execute("UPDATE transactions SET amount=?, effect=? WHERE tid=? AND stan=?",
                            (amount, effect, tid, stan))

    def mark_reversed(self, tid, stan):
        with self.lock:
            self.db.execute("UPDATE transactions SET reversed=1 WHERE tid=? AND stan=?", (tid, stan))

    def open_totals(self, tid):
        """(sales count, sales amount, refunds count, refunds amount) of unsettled, unreversed txns."""
        with self.lock:
            # a void (processing code 02) gives the voided sale back, which is then marked
            # reversed: neither counts, as on the terminal (a void is not a refund)
            rows = self.db.execute("SELECT effect FROM transactions WHERE tid=? AND settled=0 AND reversed=0"
                                   " AND effect != 0 AND pcode NOT LIKE '02%'", (tid,)).fetchall()
        sc = sa = rc = ra = 0
        for (e,) in rows:
            if e < 0:
                sc += 1
                sa -= e
            else:
                rc += 1
                ra += e
        return sc, sa, rc, ra

    def close_batch(self, tid, batch, totals):
        with self.lock:
            self.db.execute("UPDATE transactions SET settled=1 WHERE tid=? AND settled=0", (tid,))
            self.db.execute("INSERT OR REPLACE INTO batches VALUES (?,?,?)", (tid, batch, totals))

    def closed_batch(self, tid, batch):
        with self.lock:
            row = self.db.execute("SELECT totals FROM batches WHERE tid=? AND batch=?", (tid, batch)).fetchone()
        return row[0] if row else None

    def forget_one(self, tid):
        """Fault helper: lose the host's record of the newest open transaction (reconcile error)."""
        with self.lock:
            row = self.db.execute("SELECT stan FROM transactions WHERE tid=? AND settled=0 AND reversed=0"
                                  " AND effect != 0 ORDER BY rowid DESC LIMIT 1", (tid,)).fetchone()
            if row:
                self.db.execute("DELETE FROM transactions WHERE tid=? AND stan=?", (tid, row[0]))
            return row[0] if row else None
