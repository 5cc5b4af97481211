# Terminal risk management, EMV 4.4 Book 3 section 10.6: floor limit checking
# with the transaction log (10.6.1), random transaction selection (10.6.2)
# and velocity checking (10.6.3).
from pos import crypto
from pos.emv import tvr as T


class TransactionLog:
    """Recent approved amounts per card, for split-sale floor limit checks.

    Book 3 10.6.1 keys the log by PAN; this log keeps only a SHA-256 digest
    of the PAN (never the PAN itself) and a bounded number of entries, in
    buffers made once: recording a transaction allocates nothing that stays
    (a new entry object per card, kept for a dozen more cards, would sit
    amid each transaction's garbage and split the free heap).
    """
    _DIGEST = 16

    def __init__(self, size=16):
        self.size = size
        self._digests = bytearray(self._DIGEST * size)
        self._amounts = [0] * size
        self._n = 0                 # entries recorded so far (the newest at (_n - 1) % size)

    @staticmethod
    def _key(pan):
        return crypto.sha256(pan.encode())[:16]

    def last_amount(self, pan):
        k = self._key(pan)
        d = self._DIGEST
        for j in range(min(self._n, self.size)):
            i = (self._n - 1 - j) % self.size
            if self._digests[i * d:(i + 1) * d] == k:
                return self._amounts[i]
        return 0

    def record(self, pan, amount):
        if not self.size:
            return
        i = self._n % self.size
        self._digests[i * self._DIGEST:(i + 1) * self._DIGEST] = self._key(pan)
        self._amounts[i] = amount
        self._n += 1


def floor_limit(tx, log):
    amount = tx.amount
    if log is not None:
        amount += log.last_amount(tx.pan)       # split sales (Book 3 10.6.1)
    if amount >= tx.scheme.floor_limit:
        tx.tvr.set(T.FLOOR_LIMIT_EXCEEDED)
        tx.trace("TRM: floor limit %d reached (%d)" % (tx.scheme.floor_limit, amount))


def random_selection(tx, draw):
    """Book 3 10.6.2; `draw()` returns an integer 1..99."""
    s = tx.scheme
    amount = tx.amount
    if amount >= s.floor_limit:
        return
    if amount < s.random_threshold:
        pct = s.random_target
    else:
        span = s.floor_limit - s.random_threshold
        pct = s.random_target + (s.random_max - s.random_target) * (amount - s.random_threshold) // max(span, 1)
    if pct and draw() <= pct:
        tx.tvr.set(T.RANDOMLY_SELECTED_ONLINE)
        tx.trace("TRM: randomly selected for online (%d%%)" % pct)


def _get_counter(card, tag):
    data, sw = card.get_data(tag)
    if sw != 0x9000 or len(data) != 5 or data[0] != tag >> 8 or data[1] != tag & 0xFF or data[2] != 2:
        return None
    return (data[3] << 8) | data[4]


def velocity(tx):
    """Book 3 10.6.3: needs Lower/Upper Consecutive Offline Limits (9F14/9F23)."""
    lower = tx.data.get(0x9F14)
    upper = tx.data.get(0x9F23)
    if lower is None or upper is None:
        return
    atc = _get_counter(tx.card, 0x9F36)
    last_online = _get_counter(tx.card, 0x9F13)
    if atc is None or last_online is None:
        tx.tvr.set(T.LOWER_OFFLINE_LIMIT_EXCEEDED)
        tx.tvr.set(T.UPPER_OFFLINE_LIMIT_EXCEEDED)
        tx.trace("TRM: ATC or last online ATC not available")
        if last_online == 0:
            tx.tvr.set(T.NEW_CARD)
        return
    if last_online == 0:
        tx.tvr.set(T.NEW_CARD)
    if atc <= last_online:
        tx.tvr.set(T.LOWER_OFFLINE_LIMIT_EXCEEDED)
        tx.tvr.set(T.UPPER_OFFLINE_LIMIT_EXCEEDED)
        return
    offline = atc - last_online
    if offline > lower[0]:
        tx.tvr.set(T.LOWER_OFFLINE_LIMIT_EXCEEDED)
    if offline > upper[0]:
        tx.tvr.set(T.UPPER_OFFLINE_LIMIT_EXCEEDED)
    tx.trace("TRM: %d offline transactions since the last online (limits %d/%d)" % (offline, lower[0], upper[0]))


def run(tx, log, draw):
    # Book 3 10.6: performed when AIP b4 says so
    if not tx.aip[0] & 0x08:
        return
    floor_limit(tx, log)
    random_selection(tx, draw)
    velocity(tx)
    tx.tsi.set(T.TSI_TERMINAL_RISK_MANAGEMENT)
