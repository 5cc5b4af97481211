"""TUF metadata from cloud/tms/release.py (python-tuf) checked by the firmware's pos.tms.tuf on
real MicroPython with the board's heap: a good set gives the firmware target; tampered,
expired, rolled-back, mismatched or wrong-board metadata is refused with its reason.
The boot-control codec of the firmware and of the host bootloader agree byte for byte."""
import datetime
import json
import os

import pytest
from securesystemslib.formats import encode_canonical
from tuf.api.metadata import Metadata

from cloud.tms import release
from host_sim import mpy
from host_sim.board.bootloader import BootRecord

ROOT = os.path.join(mpy.FIRMWARE_DIR, "config", "tuf_root.json")
NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
SIGNERS = release.load_keys()
IMAGE = b"\xd2\xcd\x31" + bytes(range(256)) * 40

CHECK = r"""
import json, binascii
from pos.tms.tuf import Trust, MetadataError, Pieces
d = %r
files = {}
for n in d["files"]:
    files[n] = binascii.a2b_base64(d["files"][n])
    if d["pieces"]:                 # as a download or an archive member delivers it
        p = Pieces(len(files[n]))
        mv = memoryview(files[n])
        for k in range(0, len(mv), d["pieces"]):
            p.take(mv[k:k + d["pieces"]])
        files[n] = p
root = json.loads(open(%r).read())["signed"]
tr = Trust(root, d["versions"], d["now"])
try:
    t = tr.update(files, d["board"])
    print(json.dumps({"ok": [t.name, t.length, binascii.hexlify(t.sha256).decode(), t.version],
                      "versions": tr.versions}))
except MetadataError as e:
    print(json.dumps({"error": str(e)}))
"""


def _check(files, versions=None, now=NOW, board="sim", pieces=0):
    import base64
    d = {"files": {n: base64.b64encode(v).decode() for n, v in files.items()},
         "versions": versions or {}, "board": board, "pieces": pieces,
         "now": int(now.timestamp())}
    return json.loads(mpy.run(CHECK % (d, ROOT)).strip().splitlines()[-1])


def _md(version="1.0.1", **kw):
    md = release.make_metadata(IMAGE, version, "firmware-%s.romfs" % version, SIGNERS, now=NOW, **kw)
    return {n: md[n] for n in ("timestamp.json", "snapshot.json", "targets.json")}


def test_shipped_root_is_the_test_root_the_release_tool_makes():
    assert open(ROOT, "rb").read() == release.trusted_root_json()
    root = Metadata.from_bytes(open(ROOT, "rb").read())
    root.verify_delegate("root", root)               # python-tuf agrees it is self-signed


@pytest.mark.parametrize("pieces", [0, 37, 512, 700])
def test_good_metadata_gives_the_firmware_target(pieces):
    """As bytes, and as tuf.Pieces filled in deliveries of 37, 512 and 700 bytes (stored in
    pieces of at most 512: parsed and hashed across their seams)."""
    import hashlib
    r = _check(_md(), pieces=pieces)
    assert r["ok"] == ["firmware-1.0.1.romfs", len(IMAGE), hashlib.sha256(IMAGE).hexdigest(), "1.0.1"]
    assert r["versions"] == {"root": 1, "timestamp": 1000001, "snapshot": 1000001, "targets": 1000001}


def _resign_without(files, name, mutate):
    """Change a signed field and keep the old signature (tampered in transit)."""
    md = json.loads(files[name])
    mutate(md["signed"])
    out = dict(files)
    out[name] = json.dumps(md).encode()
    return out


@pytest.mark.parametrize("name,mutate,reason", [
    ("targets.json", lambda s: s["targets"]["firmware-1.0.1.romfs"].update(length=99), "targets.json: bad signature"),
    ("timestamp.json", lambda s: s.update(expires="2099-01-01T00:00:00Z"), "timestamp.json: bad signature"),
    # the timestamp pins the snapshot's length and SHA-256: any change to its bytes is caught first
    ("snapshot.json", lambda s: s.update(version=s["version"] + 1), "snapshot.json: length"),
])
@pytest.mark.parametrize("pieces", [0, 37])
def test_tampered_metadata_is_refused(name, mutate, reason, pieces):
    r = _check(_resign_without(_md(), name, mutate), pieces=pieces)
    assert reason in r["error"]


def test_a_signature_by_the_wrong_key_is_refused():
    files = _md()
    md = Metadata.from_bytes(files["timestamp.json"])
    md.signatures.clear()
    md.sign(SIGNERS["targets"])                      # a key the root does not give the role
    files["timestamp.json"] = md.to_bytes()
    assert "timestamp.json: bad signature (0 of 1" in _check(files)["error"]


def test_expired_metadata_is_refused():
    files = _md(expires=NOW + datetime.timedelta(hours=1))
    assert "ok" in _check(files)
    r = _check(files, now=NOW + datetime.timedelta(hours=2))
    assert r["error"].startswith("timestamp.json: expired at")


def test_metadata_versions_never_go_back():
    seen = {"root": 1, "timestamp": 1000002, "snapshot": 1000002, "targets": 1000002}
    r = _check(_md("1.0.1"), versions=seen)
    assert "rollback attack" in r["error"] and "1000001" in r["error"]


def test_wrong_target_is_refused():
    r = _check(_md(), board="NUCLEO-F429ZI")
    assert "wrong target" in r["error"]


def test_canonical_json_matches_securesystemslib():
    obj = {"b": [1, True, None, "a\"b\\c"], "a": {"z": "é", "y": -5}, "c": ""}
    got = mpy.run("from pos.tms.tuf import canonical\nout = []\ncanonical(%r, out.append)\n"
                  "import sys\nsys.stdout.write(''.join(out))" % (obj,))
    assert got.encode() == encode_canonical(obj).encode()


def test_boot_record_codec_is_the_same_on_both_sides():
    rec = BootRecord(seq=9, confirmed=1, trial=0, state=2, result=3,
                     slots=[(184284, b"\x11" * 32, "1.0.1"), (190000, b"\x22" * 32, "1.0.0")],
                     result_version="1.0.2", result_reason="self-test fault: deliberately broken")
    raw = rec.encode()
    out = mpy.run("from pos.tms import bootctl\nr = bootctl.decode(%r)\n"
                  "print(r.seq, r.confirmed, r.trial, r.state, r.result, r.slots[0][0], r.slots[1][2],"
                  " r.result_version, '|' + r.result_reason)\n"
                  "import binascii\nprint(binascii.hexlify(r.encode()).decode())" % (raw,))
    first, hexed = out.strip().splitlines()
    assert first == "9 1 0 2 3 184284 1.0.0 1.0.2 |self-test fault: deliberately broken"
    assert bytes.fromhex(hexed) == raw
