# Card-linked offers of issuing banks: the compiled campaign table on flash (docs/bank-offers.md).
#
# The counter never keeps the campaigns' JSON in RAM: the first card read after a parameter
# change compiles config/offers.json once (pos.offers.campaign) into config/offers.bin,
# fixed-size records, and a match reads them one at a time into two preallocated buffers, so
# RAM does not grow with the number of campaigns or BIN ranges.
#
#     t = pos.offers.current_table(params_version)   # None: no campaign file
#     m = t.match(pan_digits, 2000, 20261128)    # None or Match (campaign id, bank, discount)
#
# The PAN is only compared, in memory, against BIN ranges; nothing here keeps or logs it.
import struct

from micropython import const

TABLE = "config/offers.bin"
MAGIC = b"OFR1"
HEAD_FORMAT = "<4sIHH"          # magic, stamp, campaigns, ranges
_HEAD_LEN = const(12)
CAMP_FORMAT = "<12s24sHIIII"    # id, bank, percent basis points, cap, minimum, first day, last day
_CAMP_LEN = const(54)
RANGE_FORMAT = "<IIH"           # BIN low, BIN high (8 digits), campaign number
_RANGE_LEN = const(10)
BIN_DIGITS = const(8)           # ISO/IEC 7812-1:2017: the issuer identification number is 8 digits
MAX_CAMPAIGNS = const(32)
MAX_RANGES = const(256)


def stamp_of(version, size):
    """What the table remembers of the source it was compiled from: the parameter bundle's
    version and the JSON's size."""
    return ((version & 0xFFFF) << 16) | (size & 0xFFFF)


class Match:
    """The campaign a card falls under, and what it takes off `amount`."""

    def __init__(self, cid, bank, bp, discount):
        self.campaign = cid
        self.bank = bank
        self.bp = bp
        self.discount = discount

    def percent_text(self):
        whole, frac = divmod(self.bp, 100)
        return "%d%%" % whole if not frac else "%d.%02d%%" % (whole, frac)


class Table:
    """The compiled table on flash; `match` reads it record by record."""

    def __init__(self, path=TABLE):
        self.path = path
        self._head = bytearray(_HEAD_LEN)
        self._rec = bytearray(_CAMP_LEN)

    def stamp(self):
        try:
            with open(self.path, "rb") as f:
                if f.readinto(self._head) != _HEAD_LEN:
                    return None
        except OSError:
            return None
        magic, stamp, nc, nr = struct.unpack(HEAD_FORMAT, self._head)
        return stamp if magic == MAGIC else None

    def match(self, pan, amount, today):
        """Match for the first 8 digits of `pan` (a str of digits) on day `today` (YYYYMMDD),
        or None: no campaign, outside its days, under its minimum amount."""
        if len(pan) < 12:
            return None
        key = int(pan[:BIN_DIGITS])
        rec = self._rec
        mv = memoryview(rec)
        try:
            f = open(self.path, "rb")
        except OSError:
            return None
        try:
            if f.readinto(self._head) != _HEAD_LEN:
                return None
            magic, stamp, nc, nr = struct.unpack(HEAD_FORMAT, self._head)
            if magic != MAGIC:
                return None
            f.seek(_HEAD_LEN + nc * _CAMP_LEN)
            for _ in range(nr):
                if f.readinto(mv[:_RANGE_LEN]) != _RANGE_LEN:
                    return None
                lo, hi, n = struct.unpack_from(RANGE_FORMAT, rec)
                if not lo <= key <= hi:
                    continue
                f.seek(_HEAD_LEN + n * _CAMP_LEN)
                if f.readinto(rec) != _CAMP_LEN:
                    return None
                cid, bank, bp, cap, minimum, first, last = struct.unpack(CAMP_FORMAT, rec)
                if not first <= today <= last or amount < minimum:
                    return None
                off = min(amount * bp // 10000, cap)   # rounded down: never more than the rate
                if off <= 0:
                    return None
                return Match(cid.rstrip(b"\x00").decode(), bank.rstrip(b"\x00").decode(), bp, off)
            return None
        finally:
            f.close()
