"""`smartpos release build`: the release folder holds the ROMFS image with the version set,
and TUF metadata that python-tuf itself accepts (signatures by the roles the root names,
the target's length and SHA-256, the snapshot pinned by the timestamp)."""
import hashlib
import json
import os

from tuf.api.metadata import Metadata

from smartpos.cli import main


def test_release_build(tmp_path, capsys):
    out = tmp_path / "rel"
    assert main(["release", "build", "--version", "1.0.3", "--out", str(out), "--fault", "no printer"]) == 0
    printed = capsys.readouterr().out
    assert "release 1.0.3: firmware-1.0.3.romfs" in printed and "SWUpdate image: firmware-1.0.3.swu" in printed
    info = json.loads((out / "release.json").read_text())
    image = (out / "firmware-1.0.3.romfs").read_bytes()
    swu = (out / "firmware-1.0.3.swu").read_bytes()
    assert info["swu"] == "firmware-1.0.3.swu" and swu.startswith(b"070702")
    assert swu.index(b"targets.json\x00") < swu.index(b"firmware-1.0.3.romfs\x00") < swu.index(image) and \
        swu.count(image) == 1                 # the image whole, after the metadata
    assert image.startswith(b"\xd2\xcd\x31") and info["length"] == len(image)
    assert info["sha256"] == hashlib.sha256(image).hexdigest() and info["fault"] == "no printer"
    assert b'VERSION = "1.0.3"' not in image                  # compiled: the string is in the .mpy
    assert b"1.0.3" in image and b"no printer" in image
    md = {n: Metadata.from_bytes((out / "metadata" / n).read_bytes())
          for n in ("root.json", "timestamp.json", "snapshot.json", "targets.json")}
    root = md["root.json"]
    for role in ("root", "timestamp", "snapshot", "targets"):
        root.verify_delegate(role, md[role + ".json"])
    md["targets.json"].signed.targets["firmware-1.0.3.romfs"].verify_length_and_hashes(image)
    md["timestamp.json"].signed.snapshot_meta.verify_length_and_hashes(
        (out / "metadata" / "snapshot.json").read_bytes())
    assert md["targets.json"].signed.version == 1000003
    assert (out / "metadata" / "root.json").read_bytes() == open(
        os.path.join(os.path.dirname(__file__), "..", "..", "firmware", "config", "tuf_root.json"), "rb").read()


def test_release_build_refuses_a_bad_version(tmp_path, capsys):
    assert main(["release", "build", "--version", "1.x", "--out", str(tmp_path)]) != 0
    assert "want MAJOR.MINOR.PATCH" in capsys.readouterr().err
