"""The idle-screen feed a terminal keeps its campaigns on flash from (docs/marketing.md):

    GET /{tenant}/controller/v1/{controllerId}/marketing?since=D     Authorization: TargetToken <token>

answers 204 when D is the digest of the file the terminal would get, else the whole file (it is
small: at most MAX_CAMPAIGNS campaigns).  The file, big-endian:

    header 16 bytes: magic "SPMK", format u16 (1), campaign count u16, CRC-32 of the body u32
        (the file's digest), body length u32
    campaigns    RECORD bytes each: start "YYYYMMDDHHMM" 12s, end 12s (store-local wall time,
        shown while start <= now < end), hour from u8, hour to u8 (shown while from <= hour < to),
        line count u8, has picture u8, three lines of LINE bytes (UTF-8, zero padded),
        picture number u16 (its place among the pictures), zero padding
    pictures     image.SIZE bytes each: the display's 1-bit rows (cloud.marketing.image)

The terminal checks the whole file (size, magic, counts, CRC) before it replaces the one in use.
"""
import json
import struct
import zlib

from sqlalchemy import select

from cloud.catalog.feed import fixed
from cloud.marketing.models import Campaign

MAGIC = b"SPMK"
FORMAT = 1
HEADER = 16
RECORD = 128
LINE = 28
LINES = 3
MAX_CAMPAIGNS = 16

def stamp(dt):
    return dt.strftime("%Y%m%d%H%M").encode()

def targets(campaign, store_id):
    stores = json.loads(campaign.store_ids)
    return stores is None or store_id in stores

def campaigns_for(db, merchant_id, store_id, now):
    """The campaigns a terminal of `store_id` keeps: active, for its store, not ended at `now`,
    the soonest starting first (at most MAX_CAMPAIGNS)."""
    rows = db.scalars(select(Campaign).where(Campaign.merchant_id == merchant_id, Campaign.active.is_(True),
                                             Campaign.ends_at > now).order_by(Campaign.starts_at, Campaign.id))
    return [c for c in rows if targets(c, store_id)][:MAX_CAMPAIGNS]

def record(campaign, picture):
    lines = json.loads(campaign.lines)[:LINES]
    text = b"".join(fixed(s, LINE) for s in lines).ljust(LINE * LINES, b"\0")
    rec = struct.pack(">12s12sBBBB%dsH" % (LINE * LINES), stamp(campaign.starts_at), stamp(campaign.ends_at),
                      campaign.hour_from, campaign.hour_to, len(lines), picture is not None, text,
                      picture if picture is not None else 0)
    return rec.ljust(RECORD, b"\0")

def build(campaigns):
    """The terminal's file of `campaigns` (bytes)."""
    records, pictures = [], []
    for c in campaigns:
        n = None
        if c.image is not None:
            n = len(pictures)
            pictures.append(bytes(c.image))
        records.append(record(c, n))
    body = b"".join(records) + b"".join(pictures)
    return struct.pack(">4sHHII", MAGIC, FORMAT, len(records), zlib.crc32(body), len(body)) + body

def digest(data):
    return struct.unpack_from(">I", data, 8)[0]

