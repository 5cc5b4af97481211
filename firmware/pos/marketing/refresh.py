# The idle-screen campaigns brought up to date from the cloud's marketing feed (docs/marketing.md):
# GET .../marketing?since=<digest of the file in use>, streamed to flash, checked whole, then
# renamed over the file in use.  A feed not reached, cut short or damaged leaves the old file.
#
#     changed = await refresh.refresh("http://cloud/default/controller/v1/POS1", headers, pin)
import os

from pos import log
from pos.marketing import MarketingError, idle

PART = "marketing.part"


async def refresh(base, headers, pin=None, timeout_ms=20000):
    """True when a new campaigns file is in use, False when the one in use stays (the same, or
    a file refused), None when the feed was not reached."""
    from pos.net import http
    f = open(PART, "wb")
    try:
        st, _, _ = await http.request("GET", "%s/marketing?since=%d" % (base, idle.digest()), headers,
                                      sink=f.write, timeout_ms=timeout_ms, ssl_context=pin)
    except http.HttpError as e:
        st = 0
        log.info("marketing", "feed not reached", err=str(e))
    finally:
        f.close()
    if st != 200:
        os.remove(PART)                     # 204: the file in use is the newest
        return None if st == 0 or st >= 500 else False
    try:
        d = idle.install(PART)
    except MarketingError as e:
        log.warning("marketing", "refused", why=str(e))
        return False
    log.info("marketing", "campaigns", digest=d)
    return True
