# The background uploader: the counter's completed transactions into the upload queue
# (pos.sync.queue) and on to the cloud, in order, one at a time (docs/sales-sync.md).
#
#     await uploader.run(stack, is_idle)         # from main.py's sync task, never returns
#
# Answers (docs/sales-sync.md, "The answers"): 201 stored and 200 duplicate take the upload
# off the queue; 409 for other content and 422 refuse the content itself: kept, marked refused
# and shown on the Ready screen (a retry would be refused again); 401, 413, 503, another 409
# (no store yet, a change at the same time), no answer: the same bytes again later, with a
# back-off (503's Retry-After in seconds when given).  Work is done at Ready only, so an
# upload never competes with a sale; the queue is filled from the transaction list whenever
# it grew, and before a Z report clears it (pos.app.reports).
import asyncio
import gc
import json
import os
import time

from micropython import const

from pos import log
from pos.app import batch, money, status
from pos.sync import record
from pos.sync.queue import NEAR_FULL, UploadQueue

_BACKOFF_MS = const(2000)
_BACKOFF_MAX_MS = const(60000)


def fill(q, tax_bp=0):
    """Every transaction of the list after the queue's newest into the queue, in order.
    Returns the number still out (0: all in; more: the queue is full)."""
    hw = q.high_water()
    out = 0
    for e in batch.each():
        if e.get("inv", 0) <= hw:
            continue
        body = record.upload(e, money.CODE, tax_bp)
        if body is not None and (out or not q.append(body)):
            out += 1
    return out


def note(q, out):
    """The Ready screen's line about the queue, or None."""
    if out:
        return "CLOUD QUEUE FULL %d WAIT" % out
    if q.refused:
        return "CLOUD REFUSED %d SALE%s" % (len(q.refused), "" if len(q.refused) == 1 else "S")
    pct = q.percent_full()
    if pct >= NEAR_FULL:
        return "CLOUD QUEUE %d%% FULL" % pct
    return None


async def send(url, headers, inv, body, pin=None):
    """One delivery: (status, the cloud's words for a refusal or the wait in ms it asked for);
    status 0 when no answer came."""
    from pos.net import http
    # sent_at belongs to the delivery, not to the content the cloud compares
    tail = (',"sent_at":"%s"}' % record.utc_text(time.time())).encode()
    n = len(body) - 1
    buf = bytearray(n + len(tail))
    buf[:n] = memoryview(body)[:n]
    buf[n:] = tail
    body = buf
    gc.collect()
    free = gc.mem_free()
    try:
        st, hdrs, answer = await http.request("POST", url, headers=headers, body=body, timeout_ms=15000,
                                              ssl_context=pin)
    except http.HttpError as e:
        log.info("sync", "no answer", inv=inv, err=str(e))
        return 0, 0
    # what one upload took from the heap (its garbage included): smartpos bench sync-queue
    log.info("sync", "answer", inv=inv, status=st, heap_free=free, upload_alloc=free - gc.mem_free())
    if st in (409, 422):
        if st == 409 and b"other content" not in answer:
            return 503, 0                  # not about the content: no store yet, a concurrent change
        return st, answer[:100].decode()
    retry = 0
    if st == 503:
        try:
            retry = min(max(int(hdrs.get("retry-after", "0")), 1), 3600) * 1000
        except ValueError:
            retry = 0
    return st, retry


async def members_copy(base, headers, pin):
    """Once every upload is in, the cloud's member balances hold this terminal's points: the
    member copy is fetched again and the provisional points it holds let go (pos.members.refresh;
    only where a member programme is set, config/members.json)."""
    try:
        os.stat("config/members.json")
    except OSError:
        return
    from pos import modules
    from pos.members import refresh
    try:
        await refresh.refresh(base, headers, pin)
    finally:
        refresh = None
        # the member book stays: the basket's member screen keeps it (pos.app.basket.Basket.end)
        modules.unload(("pos.members.refresh",))


async def coupons_used(base, headers, pin):
    """Once every upload is in, the coupons the merchant's other terminals redeemed are brought
    into this one's used-coupon file (pos.sync.coupons), so a coupon used elsewhere is refused
    here; only where coupons can be checked (config/promotions.json)."""
    try:
        os.stat("config/promotions.json")    # asked before the module is loaded
    except OSError:
        return
    from pos import modules
    from pos.sync import coupons
    try:
        await coupons.fetch(base, headers, pin)
    finally:
        coupons = None
        modules.unload(("pos.sync.coupons",))


async def run(stack, is_idle, between=None):
    """Never returns.  `between()`: awaited at every turn (main.py: the catalog and campaigns
    pulls, pos.app.pull)."""
    from pos.tms import service
    with open(service.CONFIG) as f:
        cfg = json.load(f)
    token = service.target_token()
    url = "%s/%s/controller/v1/%s/sales" % (cfg["url"].rstrip("/"), cfg["tenant"], cfg["controller_id"])
    headers = {"Authorization": "TargetToken %s" % token, "Content-Type": "application/json"}
    tax_bp = cfg.get("tax_rate_bp", 0)
    pin = None
    if url.startswith("https://"):          # the cloud's CA pinned on flash only (pos.net.tls)
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    size = cfg.get("queue_bytes", 65536)
    cfg = None
    q = UploadQueue(size)
    status.sync_fill = lambda: fill(q, tax_bp)      # the Z report's last look (pos.app.reports)
    seen = -1
    out = 0
    wait = _BACKOFF_MS
    next_try = time.ticks_ms()
    while True:
        if between is not None:
            await between()
        if is_idle():
            try:
                if seen != status.batch_count:
                    seen = status.batch_count
                    out = fill(q, tax_bp)
                if q.waiting and token and time.ticks_diff(time.ticks_ms(), next_try) >= 0:
                    inv, body = q.head()
                    st, said = await send(url, headers, inv, body, pin)
                    body = None
                    if st in (200, 201):
                        q.settle(inv)
                        wait = _BACKOFF_MS
                        if out:
                            out = fill(q, tax_bp)
                        if not q.waiting:           # all in: what the sync keeps (smartpos bench sync-queue)
                            gc.collect()
                            log.info("sync", "idle", heap_free=gc.mem_free(), queue_bytes=q.size)
                            if is_idle():           # still at Ready: the member copy too
                                await members_copy(url[:-len("/sales")], headers, pin)
                            if is_idle():           # and the coupons used at other terminals
                                await coupons_used(url[:-len("/sales")], headers, pin)
                    elif st in (409, 422):
                        log.warning("sync", "refused", inv=inv, status=st, why=said)
                        q.settle(inv, "%d %s" % (st, said))
                    else:
                        next_try = time.ticks_add(time.ticks_ms(), said or wait)
                        wait = min(wait * 2, _BACKOFF_MAX_MS)
            except Exception as e:                  # flash, heap: never stop the counter; the
                log.error("sync", "round failed", err=repr(e))   # files are the truth: read again
                body = None
                q = UploadQueue(size)
                seen = -1
                next_try = time.ticks_add(time.ticks_ms(), wait)
                wait = min(wait * 2, _BACKOFF_MAX_MS)
            shown = note(q, out)
            if shown != status.sync_note:
                status.sync_note = shown
                if is_idle():
                    stack.redraw()
        await asyncio.sleep_ms(50 if q.waiting and time.ticks_diff(time.ticks_ms(), next_try) >= 0 else 1000)
