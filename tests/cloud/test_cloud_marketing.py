"""In-store marketing in the cloud (docs/marketing.md): campaigns per merchant, scheduled and
targeted per store, pictures converted to the display's 1-bit rows (oversize and non-pictures
refused with 422), and the terminal's feed file (header, CRC, records, pictures)."""
import io
import struct
import zlib

from PIL import Image

from cloud.marketing import feed, image
from sales_fixtures import place_terminal

CAMPAIGN = {"name": "Autumn", "lines": ["AUTUMN SALE 20% OFF", "ALL COATS"], "starts_at": "2026-01-01T00:00",
            "ends_at": "2099-01-01T00:00", "hour_from": 8, "hour_to": 20}


def _png(size=(480, 192), box=(0, 0, 240, 192), fmt="PNG"):
    """White picture with its left half (`box`) black."""
    img = Image.new("RGB", size, (255, 255, 255))
    img.paste((0, 0, 0), box)
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def test_conversion_scales_to_the_band_and_packs_ink_as_one_bits_msb_first():
    rows = image.convert(_png())
    assert len(rows) == image.SIZE == 2880
    # 480x192 scaled to 240x96: the left half black (ink, 1), the right half paper (0)
    for y in (0, 47, 95):
        row = rows[y * 30:(y + 1) * 30]
        assert row[:15] == b"\xff" * 15 and row[15:] == b"\0" * 15, y
    # a JPEG converts too; a tall picture is centred with paper either side
    rows = image.convert(_png(size=(100, 400), box=(0, 0, 100, 400), fmt="JPEG"))
    row = rows[50 * 30:51 * 30]
    assert row[0] == 0 and row[-1] == 0 and row[15] == 0xFF


def test_non_pictures_other_formats_and_oversize_pictures_are_refused():
    for data, why in ((b"hello, not a picture", "not a PNG or JPEG"), (_png()[:60], "not a PNG or JPEG"),
                      (_png(fmt="GIF"), "a GIF picture"), (_png(size=(5000, 10), box=(0, 0, 1, 1)), "at most 4096"),
                      (b"\x89PNG" + b"\0" * (image.MAX_UPLOAD + 1), "at most")):
        try:
            image.convert(data)
        except image.ImageRefused as e:
            assert why in str(e), (why, str(e))
        else:
            raise AssertionError("accepted: " + why)


def test_campaign_api_targets_stores_and_the_feed_carries_lines_and_picture(client, tenancy):
    m, s = tenancy["merchant_a"]["id"], tenancy["store_a"]["id"]
    owner = tenancy["owner-a"]
    r = client.post("/api/v1/merchants/%d/campaigns" % m, json=dict(CAMPAIGN, store_ids=[s]), headers=owner)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    # refused: a picture that is not one, one too large; a line too long; a store of another merchant
    r = client.put("/api/v1/campaigns/%d/image" % cid, content=b"GIF89a-not-really", headers=owner)
    assert r.status_code == 422 and "PNG or JPEG" in r.json()["detail"]
    r = client.put("/api/v1/campaigns/%d/image" % cid, content=b"\0" * (image.MAX_UPLOAD + 1), headers=owner)
    assert r.status_code == 422 and "at most" in r.json()["detail"]
    r = client.post("/api/v1/merchants/%d/campaigns" % m, json=dict(CAMPAIGN, lines=["X" * 29]), headers=owner)
    assert r.status_code == 422
    r = client.post("/api/v1/merchants/%d/campaigns" % m, json=dict(CAMPAIGN, ends_at="2025-01-01T00:00"),
                    headers=owner)
    assert r.status_code == 409 and "ends_at must come after" in r.json()["detail"]
    r = client.post("/api/v1/merchants/%d/campaigns" % m,
                    json=dict(CAMPAIGN, store_ids=[tenancy["store_b"]["id"]]), headers=owner)
    assert r.status_code == 409 and "not a store of merchant" in r.json()["detail"]
    # staff may not run campaigns; the other merchant sees none of them
    assert client.post("/api/v1/merchants/%d/campaigns" % m, json=CAMPAIGN,
                       headers=tenancy["staff-a"]).status_code == 403
    assert client.get("/api/v1/merchants/%d/campaigns" % m, headers=tenancy["owner-b"]).status_code == 404
    assert client.put("/api/v1/campaigns/%d/image" % cid, content=_png(),
                      headers=tenancy["owner-b"]).status_code == 404
    r = client.put("/api/v1/campaigns/%d/image" % cid, content=_png(), headers=owner)
    assert r.status_code == 200 and r.json()["image"] is True
    png = client.get("/api/v1/campaigns/%d/image.png" % cid, headers=owner)
    assert png.headers["content-type"] == "image/png"
    prev = Image.open(io.BytesIO(png.content))
    assert prev.size == (240, 96) and prev.getpixel((10, 10)) == 0 and prev.getpixel((230, 10)) == 255
    # a second campaign for every store, without a picture; an ended one is left out of the feed
    client.post("/api/v1/merchants/%d/campaigns" % m, json=dict(CAMPAIGN, name="All", lines=["MEMBERS +2 POINTS"],
                                                               hour_from=0, hour_to=24), headers=owner)
    client.post("/api/v1/merchants/%d/campaigns" % m, json=dict(CAMPAIGN, name="Old", starts_at="2020-01-01T00:00",
                                                               ends_at="2020-02-01T00:00"), headers=owner)
    t = place_terminal(client, tenancy["admin"], s, "POS-MK1")
    url = "/default/controller/v1/POS-MK1/marketing"
    assert client.get(url).status_code == 401
    r = client.get(url, headers=t["dev"])
    assert r.status_code == 200, r.text
    data = r.content
    magic, fmt, count, crc, length = struct.unpack_from(">4sHHII", data)
    assert (magic, fmt, count, length) == (b"SPMK", 1, 2, len(data) - feed.HEADER)
    assert crc == zlib.crc32(data[feed.HEADER:]) == int(r.headers["x-marketing-digest"])
    assert length == 2 * feed.RECORD + image.SIZE
    rec = data[16:16 + 128]
    assert rec[:24] == b"202601010000209901010000" and tuple(rec[24:28]) == (8, 20, 2, 1)
    assert rec[28:56].rstrip(b"\0") == b"AUTUMN SALE 20% OFF" and rec[56:84].rstrip(b"\0") == b"ALL COATS"
    rec2 = data[16 + 128:16 + 256]
    assert tuple(rec2[24:28]) == (0, 24, 1, 0) and rec2[28:56].rstrip(b"\0") == b"MEMBERS +2 POINTS"
    assert data[16 + 256:] == image.convert(_png())
    assert client.get(url + "?since=%d" % crc, headers=t["dev"]).status_code == 204
    # merchant b's store has no campaign: the empty file's digest (CRC-32 of nothing) is 0, what a
    # terminal without a file asks with; ending a campaign changes the file
    tb = place_terminal(client, tenancy["admin"], tenancy["store_b"]["id"], "POS-MK2")
    other = client.get("/default/controller/v1/POS-MK2/marketing", headers=tb["dev"])
    assert other.status_code == 204 and other.headers["x-marketing-digest"] == "0"
    assert client.delete("/api/v1/campaigns/%d" % cid, headers=owner).json()["active"] is False
    r = client.get(url + "?since=%d" % crc, headers=t["dev"])
    assert r.status_code == 200 and struct.unpack_from(">H", r.content, 6)[0] == 1
