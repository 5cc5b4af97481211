# Keeping the flash catalog up to date from the cloud's catalog feed (docs/stock.md, "Delta
# sync"): ask for what changed after the version in use, stream the answer to flash, then
# apply a delta (pos.catalog.delta) or install a snapshot (pos.catalog.store).  A delta that
# does not fit the catalog in use (a catalog loaded by hand, a damaged file) is followed by a
# whole snapshot.  The catalog in use is never touched until the new one is whole.
#
#     kind, version = await update.refresh(base_url, tenant, controller_id, token)
import os

from pos.catalog import CatalogError
from pos.catalog import delta, store

PART = "catalog.part"


async def _fetch(url, token, pin, timeout_ms):
    from pos.net import http
    f = open(PART, "wb")
    seen = {}

    def head(st, hdrs):
        seen["kind"] = hdrs.get("x-catalog", "")
    try:
        st, hdrs, n = await http.request("GET", url, headers={"Authorization": "TargetToken " + token},
                                         sink=f.write, on_head=head, timeout_ms=timeout_ms, ssl_context=pin)
    except http.HttpError as e:
        raise CatalogError("catalog feed not reached (%s): the catalog in use stays" % e)
    finally:
        f.close()
    return st, seen.get("kind", "")


async def refresh(base, tenant, controller_id, token, pin=None, path=store.PATH, timeout_ms=60000, idle=None):
    """Bring the catalog at `path` to the cloud's version: ("none" | "delta" | "snapshot",
    the version in use after).  CatalogError when nothing was installed (the old catalog stays).
    `idle`: asked once the download is in; when it says the counter is busy (a sale opened the
    catalog meanwhile) nothing is installed: ("deferred", the version in use)."""
    since = store.version(path)
    for attempt in (0, 1):
        url = "%s/%s/controller/v1/%s/catalog?since=%d" % (base.rstrip("/"), tenant, controller_id, since)
        try:
            st, kind = await _fetch(url, token, pin, timeout_ms)
            if st == 204:
                return "none", since
            if st != 200:
                raise CatalogError("catalog feed answered %d: the catalog in use stays" % st)
            if idle is not None and not idle():
                return "deferred", store.version(path)        # apply and install run without a pause: never under a sale
            if kind == "delta":
                try:
                    return kind, delta.apply(PART, path)
                except CatalogError:
                    if attempt:
                        raise
                    since = 0                   # the delta does not fit: a whole catalog next
                    continue
            return "snapshot", store.install(PART, path)
        finally:
            try:
                os.remove(PART)
            except OSError:
                pass
    return "none", store.version(path)
