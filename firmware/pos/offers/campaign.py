# Card-linked offers of issuing banks: the campaign file's rules and its compiled form
# (docs/bank-offers.md).
#
# Terminal management delivers config/offers.json inside the parameter bundle; check() is the
# rule pos.tms.params applies before the bundle is swapped in (a bad campaign refuses the whole
# bundle and the old table stays).  compile_table() writes the checked campaigns as the
# fixed-size records pos.offers.table reads; it runs once per parameter change, at the first
# card read after it.  Loaded only for those two moments: the counter's names stay few.
#
#     campaigns = check(json.load(f))            # OfferError naming the campaign and key
#     compile_table(d, stamp)                    # config/offers.bin
import struct

from pos.offers.table import (BIN_DIGITS, CAMP_FORMAT, HEAD_FORMAT, MAGIC, MAX_CAMPAIGNS, MAX_RANGES,
                              RANGE_FORMAT, TABLE)


class OfferError(ValueError):
    """A campaign table the terminal refuses; the message names the campaign and the key."""


def _fail(where, why):
    raise OfferError("offers.json: %s: %s" % (where, why))


def _day(v, where):
    """'YYYY-MM-DD' -> YYYYMMDD as an int."""
    if not isinstance(v, str) or len(v) != 10 or v[4] != "-" or v[7] != "-":
        _fail(where, "want a date YYYY-MM-DD")
    try:
        y, m, d = int(v[:4]), int(v[5:7]), int(v[8:])
    except ValueError:
        _fail(where, "want a date YYYY-MM-DD")
    if not (2000 <= y <= 2099 and 1 <= m <= 12 and 1 <= d <= 31):
        _fail(where, "not a calendar date")
    return y * 10000 + m * 100 + d


def _minor(v, where, low=0):
    if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= 99999999:
        _fail(where, "want an amount in minor units (%d..99999999)" % low)
    return v


def _name(v, where, n):
    # what the upload's campaign funder accepts (letters, digits, ' ._&'-'), at most n characters
    if not isinstance(v, str) or not 1 <= len(v) <= n or not (v[0].isalpha() or v[0].isdigit()):
        _fail(where, "want 1..%d letters, digits or ' ._&'-' starting with a letter or digit" % n)
    for ch in v:
        if not (ch.isalpha() or ch.isdigit() or ch in " ._&'-") or ord(ch) > 127:
            _fail(where, "character %r not allowed" % ch)
    return v


def _bin_range(r, where):
    """['476173', '476173'] (6 or 8 digits each, same length) -> (low, high) over 8 digits."""
    if not isinstance(r, list) or len(r) != 2:
        _fail(where, "want [first BIN, last BIN]")
    lo, hi = r
    for b in (lo, hi):
        if not isinstance(b, str) or len(b) not in (6, 8) or not b.isdigit():
            _fail(where, "a BIN is 6 or 8 digits, got %r" % (b,))
    if len(lo) != len(hi):
        _fail(where, "first and last BIN of a range have the same length")
    low = int(lo + "0" * (BIN_DIGITS - len(lo)))
    high = int(hi + "9" * (BIN_DIGITS - len(hi)))
    if low > high:
        _fail(where, "first BIN after the last")
    return low, high


def check(d):
    """The campaigns of `d` (offers.json) as [(id, bank, bp, cap, minimum, first, last, ranges)];
    OfferError for the first thing wrong."""
    if not isinstance(d, dict) or not isinstance(d.get("campaigns"), list):
        _fail("campaigns", "want an object with a list 'campaigns'")
    out = []
    ids = set()
    n_ranges = 0
    if len(d["campaigns"]) > MAX_CAMPAIGNS:
        _fail("campaigns", "at most %d campaigns" % MAX_CAMPAIGNS)
    for i, c in enumerate(d["campaigns"]):
        w = "campaigns[%d]" % i
        if not isinstance(c, dict):
            _fail(w, "want an object")
        cid = _name(c.get("id"), w + ".id", 12)
        if cid in ids:
            _fail(w + ".id", "campaign %s given twice" % cid)
        ids.add(cid)
        w = "campaign %s" % cid
        bank = _name(c.get("bank"), w + ".bank", 24)
        pct = c.get("percent")
        if not isinstance(pct, (int, float)) or isinstance(pct, bool) or not 0 < pct <= 50:
            _fail(w + ".percent", "want a discount of more than 0 and at most 50 percent")
        bp = int(pct * 100 + 0.5)            # basis points: 10 % = 1000
        cap = _minor(c.get("max_discount"), w + ".max_discount", 1)
        minimum = _minor(c.get("min_amount", 0), w + ".min_amount")
        first = _day(c.get("start"), w + ".start")
        last = _day(c.get("end"), w + ".end")
        if first > last:
            _fail(w, "ends before it starts")
        bins = c.get("bins")
        if not isinstance(bins, list) or not bins:
            _fail(w + ".bins", "want a non-empty list of [first BIN, last BIN]")
        ranges = [_bin_range(r, "%s.bins[%d]" % (w, j)) for j, r in enumerate(bins)]
        n_ranges += len(ranges)
        out.append((cid, bank, bp, cap, minimum, first, last, ranges))
    if n_ranges > MAX_RANGES:
        _fail("campaigns", "%d BIN ranges: at most %d" % (n_ranges, MAX_RANGES))
    # one card, one campaign: overlapping ranges of campaigns running on the same days would
    # make the discount depend on the order of the table
    for a in range(len(out)):
        for b in range(a + 1, len(out)):
            ca, cb = out[a], out[b]
            if ca[6] < cb[5] or cb[6] < ca[5]:
                continue
            for lo, hi in ca[7]:
                for lo2, hi2 in cb[7]:
                    if lo <= hi2 and lo2 <= hi:
                        _fail("campaign %s" % cb[0], "BIN range overlaps campaign %s on the same days" % ca[0])
    return out


def compile_table(d, stamp, path=TABLE):
    """Write the checked campaigns of `d` as the fixed-size table the counter reads."""
    camps = check(d)
    n_ranges = 0
    for c in camps:
        n_ranges += len(c[7])
    with open(path, "wb") as f:
        f.write(struct.pack(HEAD_FORMAT, MAGIC, stamp, len(camps), n_ranges))
        for c in camps:
            f.write(struct.pack(CAMP_FORMAT, c[0].encode(), c[1].encode(), c[2], c[3], c[4], c[5], c[6]))
        for n, c in enumerate(camps):
            for lo, hi in c[7]:
                f.write(struct.pack(RANGE_FORMAT, lo, hi, n))
