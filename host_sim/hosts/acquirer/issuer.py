"""Issuer accounts and the host's transaction log in SQLite (TEST data only).

No clear PAN is stored: cards are matched by a keyed hash (hsm.pan_token, the key stays
in the HSM) and shown by their masked PAN (first 6, last 4).

accounts:     pan_hash, pan_mask, balance, txn_limit, blocked ('' | 'blocked' | 'lost' |
              'stolen'), expiry (YYMM), pvv (Visa PVV of the TEST PIN), psn, pin_tries,
              issuer_online
transactions: one row per financial message the host received (0100/0200/0220/0320),
              never replaced: a transaction is the terminal (DE 41), STAN (DE 11),
              transmission date and time (DE 7) and amount (DE 4) it came with; a
              refused reuse of a STAN is kept as its own row marked `duplicate`;
              reversed and settled flags; batch number
batches:      closed batches per terminal with their totals
"""
import sqlite3
import threading

from host_sim.hosts.acquirer import hsm

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    pan_hash TEXT PRIMARY KEY, pan_mask TEXT NOT NULL, balance INTEGER NOT NULL,
    txn_limit INTEGER NOT NULL, blocked TEXT NOT NULL DEFAULT '', expiry TEXT NOT NULL,
    pvv TEXT NOT NULL DEFAULT '', psn TEXT NOT NULL DEFAULT '00', pin_tries INTEGER NOT NULL DEFAULT 0,
    issuer_online INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tid TEXT NOT NULL, stan TEXT NOT NULL, dt TEXT NOT NULL DEFAULT '', mti TEXT NOT NULL,
    pcode TEXT NOT NULL, pan_hash TEXT NOT NULL, pan_mask TEXT NOT NULL, amount INTEGER NOT NULL,
    rc TEXT NOT NULL, auth TEXT NOT NULL, rrn TEXT NOT NULL, effect INTEGER NOT NULL,
    reversed INTEGER NOT NULL DEFAULT 0, batch INTEGER NOT NULL DEFAULT 0,
    settled INTEGER NOT NULL DEFAULT 0, reply BLOB, duplicate INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS transactions_by_stan ON transactions (tid, stan);
CREATE TABLE IF NOT EXISTS batches (
    tid TEXT NOT NULL, batch INTEGER NOT NULL, totals TEXT NOT NULL, PRIMARY KEY (tid, batch));
"""
TXN_COLUMNS = ("id", "tid", "stan", "dt", "mti", "pcode", "pan_hash", "pan_mask", "amount", "rc", "auth",
               "rrn", "effect", "reversed", "batch", "settled", "reply", "duplicate")
ACCOUNT_COLUMNS = ("pan_hash", "pan_mask", "balance", "txn_limit", "blocked", "expiry", "pvv", "psn",
                   "pin_tries", "issuer_online")


class IssuerDBError(ValueError):
    """The host database cannot be used (names the file and what to do)."""


def mask(pan):
    """First 6 and last 4 digits (PCI DSS 3.3); shorter numbers entirely starred."""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:] if len(pan) > 10 else "*" * len(pan)


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
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        known = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version != SCHEMA_VERSION and known & {"accounts", "transactions"}:
            raise IssuerDBError("%s: host database of an earlier simulator version (it kept clear PANs); "
                                "delete the file, it is seeded again with the TEST accounts" % path)
        self.db.executescript(SCHEMA)
        self.db.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
        if seed and not self.db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]:
            for pan, bal, lim, blk, exp, pin in TEST_ACCOUNTS:
                self.add_account(pan, bal, lim, blk, exp, pin)

    # ------------------------------------------------------------ accounts
    def add_account(self, pan, balance, txn_limit=200000, blocked="", expiry="2812", pin="1234", psn="00"):
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?,?,?,0,1)",
                            (hsm.pan_token(pan), mask(pan), balance, txn_limit, blocked, expiry,
                             hsm.pvv(pan, pin), psn))

    def account(self, pan):
        """The account of card number `pan` (looked up by its keyed hash), or None."""
        return self.account_by_token(hsm.pan_token(pan)) if pan else None

    def account_by_token(self, token):
        with self.lock:
            row = self.db.execute("SELECT %s FROM accounts WHERE pan_hash=?" % ", ".join(ACCOUNT_COLUMNS),
                                  (token,)).fetchone()
        return None if row is None else dict(zip(ACCOUNT_COLUMNS, row))

    def balance(self, pan):
        a = self.account(pan)
        return None if a is None else a["balance"]

    def set(self, pan, **kw):
        with self.lock:
            for k, v in kw.items():
                if k not in ("balance", "txn_limit", "blocked", "expiry", "pin_tries", "issuer_online"):
                    raise ValueError("unknown account column %s" % k)
                self.db.execute("UPDATE accounts SET %s=? WHERE pan_hash=?" % k, (v, hsm.pan_token(pan)))

    def adjust(self, pan, delta):
        self.adjust_token(hsm.pan_token(pan), delta)

    def adjust_token(self, token, delta):
        with self.lock:
            self.db.execute("UPDATE accounts SET balance=balance+? WHERE pan_hash=?", (delta, token))

    # ------------------------------------------------------------ transactions
    def _rows(self, where, args):
        with self.lock:
            rows = self.db.execute("SELECT %s FROM transactions WHERE %s ORDER BY id DESC"
                                   % (", ".join(TXN_COLUMNS), where), args).fetchall()
        return [dict(zip(TXN_COLUMNS, r)) for r in rows]

    def txn(self, tid, stan):
        """The newest transaction (not a refused duplicate) of terminal `tid` with `stan`, or None."""
        rows = self._rows("tid=? AND stan=? AND duplicate=0", (tid, stan))
        return rows[0] if rows else None

    def find(self, tid, stan, mti=None, dt=None, open_only=False, duplicates=False):
        """Transactions of `tid` with `stan`, newest first; `mti` and `dt` (DE 7) narrow them
        when given; `open_only`: not settled yet; `duplicates`: refused duplicates too."""
        where, args = "tid=? AND stan=?" + ("" if duplicates else " AND duplicate=0"), [tid, stan]
        if mti:
            where += " AND mti=?"
            args.append(mti)
        if dt:
            where += " AND dt=?"
            args.append(dt)
        if open_only:
            where += " AND settled=0"
        return self._rows(where, args)

    def transactions(self, tid=None):
        """Every row, oldest first (duplicates included): the host's whole log."""
        rows = self._rows("tid=?", (tid,)) if tid is not None else self._rows("1", ())
        return rows[::-1]

    def record(self, tid, stan, mti, pcode, pan, amount, rc, auth, rrn, effect, batch, dt="", reply=None,
               duplicate=False):
        """Append one row (never replaces one); the PAN is kept as keyed hash and masked
        number only.  Returns the row id."""
        with self.lock:
            cur = self.db.execute(
                "INSERT INTO transactions (tid, stan, dt, mti, pcode, pan_hash, pan_mask, amount, rc, auth,"
                " rrn, effect, reversed, batch, settled, reply, duplicate) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?,0,?,?)",
                (tid, stan, dt, mti, pcode, hsm.pan_token(pan or ""), mask(pan or ""), amount, rc, auth, rrn,
                 effect, batch, reply, 1 if duplicate else 0))
            return cur.lastrowid

    def set_amount(self, row_id, amount, effect):
        with self.lock:
            self.db.execute("UPDATE transactions SET amount=?, effect=? WHERE id=?", (amount, effect, row_id))

    def mark_reversed(self, row_id):
        with self.lock:
            self.db.execute("UPDATE transactions SET reversed=1 WHERE id=?", (row_id,))

    def open_totals(self, tid):
        """(sales count, sales amount, refunds count, refunds amount) of unsettled, unreversed txns."""
        with self.lock:
            # a void (processing code 02) gives the voided sale back, which is then marked
            # reversed: neither counts, as on the terminal (a void is not a refund)
            rows = self.db.execute("SELECT effect FROM transactions WHERE tid=? AND settled=0 AND reversed=0"
                                   " AND duplicate=0 AND effect != 0 AND pcode NOT LIKE '02%'", (tid,)).fetchall()
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

    def settled_payments(self, tid=None):
        """[(RRN, amount to the merchant, terminal id, STAN)] of the payments in closed batches,
        oldest first: sales positive, refunds negative; declined, reversed, voided and refused
        duplicates left out.  An offline approval is here by its advice (0220): the terminal's
        STAN, and the RRN the host gave the advice."""
        where = "settled=1 AND reversed=0 AND duplicate=0 AND effect != 0 AND pcode NOT LIKE '02%'"
        args = ()
        if tid is not None:
            where += " AND tid=?"
            args = (tid,)
        with self.lock:
            rows = self.db.execute("SELECT rrn, effect, tid, stan FROM transactions WHERE %s ORDER BY id" % where,
                                   args).fetchall()
        return [(rrn, -effect, tid, stan) for rrn, effect, tid, stan in rows]

    def closed_batch(self, tid, batch):
        with self.lock:
            row = self.db.execute("SELECT totals FROM batches WHERE tid=? AND batch=?", (tid, batch)).fetchone()
        return row[0] if row else None

    def forget_one(self, tid):
        """Fault helper: lose the newest open transaction as if the host had never seen it (its
        record and what it moved on the account; reconcile error, the batch upload brings it)."""
        with self.lock:
            row = self.db.execute("SELECT id, stan, pan_hash, effect FROM transactions WHERE tid=? AND settled=0"
                                  " AND reversed=0 AND duplicate=0 AND effect != 0 ORDER BY id DESC LIMIT 1",
                                  (tid,)).fetchone()
            if row:
                self.db.execute("DELETE FROM transactions WHERE id=?", (row[0],))
                self.db.execute("UPDATE accounts SET balance=balance-? WHERE pan_hash=?", (row[3], row[2]))
            return row[1] if row else None
