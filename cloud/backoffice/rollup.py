"""The daily rollup of the back office's sale facts (cloud.backoffice.models.StoreDay), kept by
the ingest: the facts a commit writes are summed per merchant, store and local business day and
added to their rows with one upsert (INSERT ... ON CONFLICT DO UPDATE, PostgreSQL and SQLite
alike), in the same transaction, so the rollup never differs from the facts it sums.

Concurrent uploads of one store are serialised by the ingest's lock on the store's row; the
rollup's key holds the store, so uploads of different stores never wait on each other here.
"""
from sqlalchemy.dialects import postgresql, sqlite

from cloud.backoffice.models import StoreDay

SUMMED = ("sale_count", "refund_count", "sales", "refunds", "gross", "discounts", "tax", "tips")


def deltas(sale_rows):
    """{(merchant_id, store_id, day): row of sums} of sale_facts rows (dicts)."""
    out = {}
    for f in sale_rows:
        key = (f["merchant_id"], f["store_id"], f["day"])
        d = out.get(key)
        if d is None:
            d = out[key] = dict(merchant_id=key[0], store_id=key[1], day=key[2], **{c: 0 for c in SUMMED})
        if f["kind"] == "sale":
            d["sale_count"] += 1
            d["sales"] += f["net"]
        else:
            d["refund_count"] += 1
            d["refunds"] -= f["net"]
        d["gross"] += f["gross"]
        d["discounts"] += f["discounts"]
        d["tax"] += f["tax"]
        d["tips"] += f["tip"]
    return out


def add(db, sale_rows):
    """Add the sums of `sale_rows` (the sale_facts rows just written) to their store-days."""
    rows = sorted(deltas(sale_rows).values(), key=lambda d: (d["merchant_id"], d["store_id"], d["day"]))
    if not rows:
        return
    conn = db.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(StoreDay.__table__)
    stmt = stmt.on_conflict_do_update(index_elements=["merchant_id", "store_id", "day"],
                                      set_={c: StoreDay.__table__.c[c] + stmt.excluded[c] for c in SUMMED})
    conn.execute(stmt, rows)
