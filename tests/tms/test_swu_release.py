"""A firmware release as one SWUpdate image, read by the terminal (pos.tms.swurelease) on real
MicroPython with the board's heap, against a DDI client stand-in that answers Range requests
from the archive's bytes: the os handler tells a release from a parameter bundle by one small
ranged read; the head reader keeps the metadata members and finds where the image member's
data lies in the archive (the byte range the installer then asks for), whatever the sizes;
archives that hold no release are refused with the reason."""
import json

import pytest

from cloud.tms import release, swu
from cloud.tms.parameters import bundle_swu
from host_sim.mpy import run

READ = """
import asyncio, json
from pos.tms import swurelease
data = open("in.swu", "rb").read()
class Art:
    filename, size = "in.swu", len(data)
class Client:
    ranges = []
    async def download(self, art, sink, offset=0, last=None):
        end = len(data) if last is None else min(last + 1, len(data))
        self.ranges.append([offset, last])
        mv = memoryview(data)
        for i in range(offset, end, 700):
            sink(mv[i:min(i + 700, end)])
        return end
async def main():
    c = Client()
    out = {"release": await swurelease.names_release(c, Art())}
    try:
        head = await swurelease.read_head(c, Art())
        out["files"] = {n: len(b) for n, b in head.files.items()}
        out["image"] = list(head.image)
    except Exception as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    out["ranges"] = c.ranges
    print(json.dumps(out))
asyncio.run(main())
"""


def _read(tmp_path, raw):
    (tmp_path / "in.swu").write_bytes(raw)
    return json.loads(run(READ, cwd=str(tmp_path)).strip().splitlines()[-1])


@pytest.mark.parametrize("meta_size", [10, 4095, 9000])
def test_the_head_gives_the_metadata_and_the_image_range(tmp_path, meta_size):
    md = {"1.root.json": b"r" * 300, "timestamp.json": b"t" * 200, "snapshot.json": b"s" * 201,
          "targets.json": b"g" * meta_size}
    image = bytes(range(256)) * 40
    raw = release.release_swu("1.0.1", "firmware-1.0.1.romfs", image, md)
    r = _read(tmp_path, raw)
    assert r["release"] is True
    assert r["files"] == {n: len(b) for n, b in md.items()}
    name, off, size = r["image"]
    assert name == "firmware-1.0.1.romfs" and size == len(image) and raw[off:off + size] == image
    assert r["ranges"][0] == [0, 1023]                            # the routing look
    head = r["ranges"][1:]
    assert head[0] == [0, 4095] and all(b - a == 4095 for a, b in head[:-1])
    assert head[-1][0] <= off - 110 - len(name)                  # stopped at the image's header


def test_a_parameter_bundle_is_not_a_release(tmp_path):
    raw = bundle_swu({"timestamp.json": b"{}", "snapshot.json": b"{}", "targets.json": b"{}",
                      "params.json": b"{}"}, "GB-1", 3)
    r = _read(tmp_path, raw)
    assert r["release"] is False
    # were it sent to the installer anyway, params.json would stand where the image stands;
    # the installer matches that member to the signed target's name and refuses it
    assert r["image"][0] == "params.json" and r["files"] == {"timestamp.json": 2, "snapshot.json": 2,
                                                            "targets.json": 2}


def test_an_archive_that_is_no_swu_is_refused(tmp_path):
    r = _read(tmp_path, b"PK\x03\x04" + b"\x00" * 3000)
    assert r["release"] is False
    assert r["error"] == "UpdateError: in.swu: not a cpio newc archive (SWUpdate .swu)"


def test_oversized_metadata_member_is_refused(tmp_path):
    raw = swu.pack(swu.sw_description("1.0.1", "smartpos firmware 1.0.1 for board sim"),
                   [("targets.json", b"x" * 20000), ("firmware-1.0.1.romfs", b"i" * 100)])
    r = _read(tmp_path, raw)
    assert r["release"] is True
    assert r["error"] == "UpdateError: targets.json of 20000 bytes in the .swu is over 16384"


def test_metadata_only_archive_has_no_image(tmp_path):
    raw = swu.pack(swu.sw_description("1.0.1", "smartpos firmware 1.0.1 for board sim"),
                   [("timestamp.json", b"t" * 50), ("targets.json", b"g" * 50)])
    r = _read(tmp_path, raw)
    assert r["error"] == "UpdateError: in.swu holds no firmware image after its metadata " \
                        "(members: sw-description, timestamp.json, targets.json)", r
