# The terminal's member copy brought up to date from the cloud once its uploads are in
# (pos.sync.uploader, after the queue drains): GET .../members/copy.jsonl streamed to
# members.jsonl.new on flash (RAM independent of the number of members), checked whole (the
# header's member count), renamed over the copy; then the provisional points the new copy's
# balances hold (invoices up to its "inv") leave members.pend.  A copy cut short or refused
# leaves the old one in use.
#
#     await refresh.refresh("http://cloud/default/controller/v1/POS1", headers, pin)   # True/False
import json
import os

from pos import log
from pos.members import book

_NEW = book.COPY + ".new"


def _count_lines(path):
    n = 0
    buf = bytearray(256)
    with open(path, "rb") as f:
        while True:
            got = f.readinto(buf)
            if not got:
                return n
            n += bytes(memoryview(buf)[:got]).count(b"\n")


def _drop_booked(since_inv):
    """Keep only the provisional lines the copy does not hold yet."""
    keep = 0
    try:
        with open(book.PENDING) as src, open(book.PENDING + ".new", "w") as dst:
            for ln in src:
                f = ln.split()
                if len(f) == 3 and int(f[0]) > since_inv:
                    dst.write(ln)
                    keep += 1
    except OSError:
        return 0
    os.rename(book.PENDING + ".new", book.PENDING)
    return keep


async def refresh(base, headers, pin=None):
    from pos.net import http
    f = open(_NEW, "wb")
    try:
        st, _, _ = await http.request("GET", base + "/members/copy.jsonl", headers, sink=f.write,
                                      timeout_ms=20000, ssl_context=pin)
    except http.HttpError as e:
        st = 0
        log.info("members", "copy not fetched", err=str(e))
    finally:
        f.close()
    head = book.header(_NEW) if st == 200 else None
    if head is None or _count_lines(_NEW) != head.get("n", -1) + 1:
        log.warning("members", "copy refused", status=st)
        os.remove(_NEW)
        return False
    os.rename(_NEW, book.COPY)
    kept = _drop_booked(head.get("inv", 0))
    log.info("members", "copy", version=head.get("v"), members=head.get("n"), pending=kept)
    return True
