# The coupons redeemed at the merchant's other terminals, brought onto this one once its own
# uploads are in (pos.sync.uploader, after the queue drains): the cloud's ledger rows since the
# last one seen (GET .../coupons/redeemed?after=N, docs/promotions.md "Single use") stream to
# coupons.used.new on flash, are checked whole (20-byte records: the serial space padded, as
# coupons.used holds them), then appended to coupons.used, which the basket's coupon check reads
# (pos.promo.coupon.Redeemed); the last row goes to coupons.seen.  A delivery cut short leaves
# both files as they were; a power cut between the two writes appends the same serials again
# at the next round, which refuses nothing more.
#
#     await coupons.fetch("http://cloud/default/controller/v1/POS1", headers, pin)   # records taken
import os

from pos import log

USED = "coupons.used"           # pos.promo.coupon.USED
SEEN = "coupons.seen"
_NEW = USED + ".new"
_RECORD = 20                    # pos.promo.coupon.SERIAL


def _seen():
    try:
        with open(SEEN) as f:
            return int(f.read().strip() or "0")
    except (OSError, ValueError):
        return 0


async def fetch(base, headers, pin=None):
    from pos.net import http
    after = _seen()
    f = open(_NEW, "wb")
    try:
        st, hdrs, got = await http.request("GET", "%s/coupons/redeemed?after=%d" % (base, after), headers,
                                           sink=f.write, timeout_ms=20000, ssl_context=pin)
    except http.HttpError as e:
        st, hdrs, got = 0, {}, 0
        log.info("coupons", "used coupons not fetched", err=str(e))
    finally:
        f.close()
    try:
        through = int(hdrs.get("x-coupons-through", ""))
    except ValueError:
        through = -1
    if st != 200 or through < after or got % _RECORD or os.stat(_NEW)[6] != got:
        log.warning("coupons", "used coupons refused", status=st)
        os.remove(_NEW)
        return 0
    if got:
        buf = bytearray(_RECORD)
        with open(_NEW, "rb") as src, open(USED, "ab") as dst:
            while src.readinto(buf) == _RECORD:
                dst.write(buf)
    os.remove(_NEW)
    if through != after:
        with open(SEEN + ".tmp", "w") as f:
            f.write("%d" % through)
        os.rename(SEEN + ".tmp", SEEN)
    log.info("coupons", "used coupons", records=got // _RECORD, through=through)
    return got // _RECORD
