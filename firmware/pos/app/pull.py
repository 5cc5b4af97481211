# What the counter pulls from the cloud while it stands at Ready: the catalog by delta sync
# (pos.catalog.update; docs/stock.md, "Delta sync") and the idle-screen campaigns
# (pos.marketing.refresh; docs/marketing.md).  main.py's sync task keeps only the two due
# times (main.pull_due); when one is due and the counter is idle it loads this module, runs the
# round and lets it go, so the Ready screen's heap carries none of it between rounds.
#
#     due = [first, first, False]                  # catalog, campaigns (ticks): soon after boot
#     await pull.run_round(stack, is_idle, due)    # the due ones, then their next times
#
# Intervals: `catalog_refresh_s` of the terminal parameters (config/terminal.json, signed
# bundle; default 900 s, 0: never) and `marketing_poll_s` of config/cloud.json (default 300 s).
# A pull that fails (the cloud not reached, a file refused) is tried again after at most a
# minute, so a terminal back from a day offline catches up within one.  The catalog is pulled
# only where a catalog is on flash, and a new one is installed only while the counter is still
# idle once the download is in (never under a sale's open catalog).
import json
import os
import time

from micropython import const

from pos import log

CATALOG_EVERY_S = const(900)
MARKETING_EVERY_S = const(300)
RETRY_S = const(60)


def _params():
    """(catalog interval s, campaigns interval s, cloud.json) from the parameters."""
    from pos.tms import service
    try:
        with open("config/terminal.json") as f:
            every = json.load(f).get("catalog_refresh_s", CATALOG_EVERY_S)
    except (OSError, ValueError, AttributeError):
        every = CATALOG_EVERY_S
    with open(service.CONFIG) as f:
        cfg = json.load(f)
    return every, cfg.get("marketing_poll_s", MARKETING_EVERY_S), cfg


def _has_catalog():
    try:
        open("catalog.bin").close()
        return True
    except OSError:
        return False


async def run_round(stack, is_idle, due):
    """Pull what is due in `due` ([catalog, campaigns] ticks) and set their next times."""
    import gc
    from pos.tms import service
    catalog_s, marketing_s, cfg = _params()
    token = service.target_token()
    now = time.ticks_ms()
    if not token:                          # logged by target_token; asked again later
        due[0] = due[1] = time.ticks_add(now, RETRY_S * 1000)
        return
    base = cfg["url"].rstrip("/")
    pin = None
    if base.startswith("https://"):        # the cloud's CA pinned on flash only (pos.net.tls)
        from pos.net.tls import PinnedCA
        pin = PinnedCA()
    if time.ticks_diff(now, due[1]) >= 0:
        ok = await _campaigns("%s/%s/controller/v1/%s" % (base, cfg["tenant"], cfg["controller_id"]),
                              {"Authorization": "TargetToken %s" % token}, pin, stack, is_idle)
        due[1] = time.ticks_add(time.ticks_ms(), (marketing_s if ok else min(marketing_s, RETRY_S)) * 1000)
        if ok and is_idle():               # and the coupons used at the merchant's other terminals
            await _coupons("%s/%s/controller/v1/%s" % (base, cfg["tenant"], cfg["controller_id"]),
                           {"Authorization": "TargetToken %s" % token}, pin)
    if time.ticks_diff(now, due[0]) >= 0:
        ok = True
        if catalog_s and _has_catalog() and is_idle():
            ok = await _catalog(base, cfg["tenant"], cfg["controller_id"], token, pin, is_idle)
        due[0] = time.ticks_add(time.ticks_ms(), (catalog_s if ok else min(catalog_s, RETRY_S)) * 1000
                                if catalog_s else 86400000)
    gc.collect()
    log.info("pull", "round", heap_free=gc.mem_free())


async def _campaigns(base, headers, pin, stack, is_idle):
    """True when the feed answered (a new file, the same, or one refused: asked again at the
    usual time), False when it was not reached; the Ready screen redrawn for a new file."""
    from pos import modules
    from pos.marketing import refresh
    try:
        changed = await refresh.refresh(base, headers, pin)
    finally:
        refresh = None
        modules.unload(("pos.marketing.refresh",))
    if changed and is_idle():
        stack.redraw()                      # the Ready screen shows the new campaigns
    return changed is not None


async def _coupons(base, headers, pin):
    """The used-coupon file brought up to date (pos.sync.coupons), where coupons can be checked
    (config/promotions.json); the uploader does the same once its queue drains."""
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


async def _catalog(base, tenant, controller_id, token, pin, is_idle):
    """True when the catalog in use is the cloud's (newly installed or already), False when
    the pull failed and is to be tried again soon."""
    from pos import modules
    from pos.catalog import CatalogError, update
    try:
        kind, version = await update.refresh(base, tenant, controller_id, token, pin, idle=is_idle)
        log.info("pull", "catalog", kind=kind, version=version)
        return kind != "deferred"
    except CatalogError as e:
        log.warning("pull", "catalog kept", why=str(e))
        return False
    finally:
        update = None
        modules.unload(("pos.catalog.update", "pos.catalog.delta", "pos.catalog.store", "pos.catalog.barcode",
                        "pos.catalog"))
