"""SWUpdate images on real MicroPython with the board's heap: the cloud's packer
(cloud.tms.swu) and the terminal's reader (pos.tms.swu) agree on every member whatever the
piece sizes; malformed archives are refused with the reason; a staged bundle is checked and
applied by params.finish_staged() at boot, its result recorded for the next poll and the
staging files removed, a bad one refused with the old parameters kept."""
import datetime
import json
import os
import shutil

import pytest

from cloud.tms import release, swu
from cloud.tms.parameters import bundle_swu, signed_bundle
from host_sim.mpy import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

READ = """
import json, hashlib, binascii
from pos.tms import swu
got = {}
def accept(name, size):
    h = hashlib.sha256()
    got[name] = [size, h, 0]
    def sink(mv):
        h.update(mv)
        got[name][2] += len(mv)
    return sink
r = swu.Reader(accept)
data = open("in.swu", "rb").read()
mv = memoryview(data)
piece = %d
try:
    for i in range(0, len(data), piece):
        r.feed(mv[i:i + piece])
    out = {n: [got[n][0], got[n][2], binascii.hexlify(got[n][1].digest()).decode()] for n in got}
    print(json.dumps({"members": r.members, "done": r.done, "files": out}))
except swu.SwuError as e:
    print(json.dumps({"error": str(e)}))
"""


def _read(tmp_path, raw, piece):
    (tmp_path / "in.swu").write_bytes(raw)
    return json.loads(run(READ % piece, cwd=str(tmp_path)).strip().splitlines()[-1])


@pytest.mark.parametrize("piece", [1, 3, 110, 512, 4096])
def test_the_reader_gives_every_member_whatever_the_piece_size(tmp_path, piece):
    import hashlib
    files = [("timestamp.json", b"{}" * 300), ("odd", b"x" * 5), ("empty", b""), ("params.json", bytes(range(256)) * 9)]
    raw = swu.pack(swu.sw_description("3", "test"), files)
    r = _read(tmp_path, raw + b"\x00" * 512, piece)       # cpio pads the archive after the trailer
    assert r["members"] == ["sw-description", "timestamp.json", "odd", "empty", "params.json"] and r["done"]
    for name, data in files:
        assert r["files"][name] == [len(data), len(data), hashlib.sha256(data).hexdigest()]


def member(name, data, magic=b"070701"):
    return swu.member(name, data).replace(swu.MAGIC, magic, 1)


def _field(at, value):
    """sw-description with one header field (cpio(5) offsets) replaced."""
    h = bytearray(swu.member("sw-description", b"x"))
    h[at:at + 8] = value
    return bytes(h)


@pytest.mark.parametrize("raw,why", [
    (b"PK\x03\x04" + b"\x00" * 200, "not a cpio newc archive"),
    (swu.member("params.json", b"{}") + swu.member("TRAILER!!!", b""), "sw-description is not the first member"),
    (swu.member("sw-description", b"x") + swu.member("a", b"1") + swu.member("a", b"2"), "a is in the archive twice"),
    (_field(94, b"0000ZZZZ"), "malformed cpio header"),                  # c_namesize not hex
    (_field(94, b"00000FFF"), "member name of 4095 bytes"),
])
def test_malformed_archives_are_refused(tmp_path, raw, why):
    assert why in _read(tmp_path, raw, 64)["error"]


def test_old_style_newc_without_checksums_reads_too(tmp_path):
    raw = member("sw-description", b"d") + member("a", b"abc") + member("TRAILER!!!", b"")
    assert _read(tmp_path, raw, 7)["members"] == ["sw-description", "a"]


BOOT = """
import json, os
from pos.tms import params, staging
restarts = []
r = params.finish_staged(now=%d, reset=lambda: restarts.append(1))
print(json.dumps({"result": r, "restarts": len(restarts), "recorded": json.load(open(staging.RESULT)),
                  "left": sorted(n for n in os.listdir(".") if n.startswith("params.")),
                  "version": params.installed_version()}))
"""
NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)


def _staged(tmp_path, raw, cid="SIM-0001"):
    flash = tmp_path / "flash"
    shutil.copytree(os.path.join(REPO, "firmware", "config"), flash / "config")
    (flash / "params.staged").write_bytes(raw)
    (flash / "params.ticket").write_text(json.dumps({"action": "41", "controller": cid}))
    return flash


def _bundle(version=5, expires=NOW + datetime.timedelta(days=1)):
    data = json.dumps({"version": version, "files": {"terminal.json": {"receipt_footer": ["SIGNED"]}}}).encode()
    return bundle_swu(signed_bundle(data, "SIM-0001", version, release.load_keys(), expires=expires), "SIM-0001",
                      version)


def test_a_staged_bundle_is_applied_at_boot_and_its_result_recorded(tmp_path):
    flash = _staged(tmp_path, _bundle())
    r = json.loads(run(BOOT % NOW.timestamp(), cwd=str(flash)).strip().splitlines()[-1])
    assert r["result"] == [True, ["parameters version 5 applied (terminal.json)"]]
    assert r["recorded"] == {"action": "41", "ok": True, "details": ["parameters version 5 applied (terminal.json)"]}
    assert r["restarts"] == 1 and r["version"] == 5 and r["left"] == ["params.result"]
    assert json.loads((flash / "config" / "terminal.json").read_text())["receipt_footer"] == ["SIGNED"]


@pytest.mark.parametrize("raw,why", [
    (_bundle()[:-700], "params.staged ends before the cpio trailer (truncated)"),
    (_bundle(expires=NOW - datetime.timedelta(minutes=1)), "signature: timestamp.json: expired at"),
    (swu.pack(swu.sw_description("5", "x"), [("params.json", b"{}")]), "signature: unsigned bundle"),
])
def test_a_bad_staged_bundle_is_refused_at_boot_and_the_old_parameters_stay(tmp_path, raw, why):
    flash = _staged(tmp_path, raw)
    before = (flash / "config" / "terminal.json").read_bytes()
    r = json.loads(run(BOOT % NOW.timestamp(), cwd=str(flash)).strip().splitlines()[-1])
    assert r["result"][0] is False and r["result"][1][0].startswith("refused: " + why), r
    assert r["recorded"]["ok"] is False and r["version"] == 0 and r["left"] == ["params.result"]
    assert (flash / "config" / "terminal.json").read_bytes() == before


def test_a_power_cut_after_the_swap_still_reports_the_bundle_applied(tmp_path):
    flash = _staged(tmp_path, _bundle())
    out = run("""
import json
from pos.tms import params
params.apply({"terminal.json": {"receipt_footer": ["SIGNED"]}}, 5)   # the swap was done ...
with open(params.APPLYING, "w") as f:                                 # ... the result not yet recorded
    json.dump({"version": 5, "files": ["terminal.json"]}, f)
""" + BOOT % NOW.timestamp(), cwd=str(flash))
    r = json.loads(out.strip().splitlines()[-1])
    assert r["result"] == [True, ["parameters version 5 applied (terminal.json)"]], r
    assert r["recorded"]["ok"] is True and r["version"] == 5 and r["left"] == ["params.result"]


def test_a_bundle_replayed_at_its_installed_version_is_refused(tmp_path):
    flash = _staged(tmp_path, _bundle())
    run("from pos.tms import params\nparams.apply({}, 5)\n", cwd=str(flash))
    r = json.loads(run(BOOT % NOW.timestamp(), cwd=str(flash)).strip().splitlines()[-1])
    assert r["result"] == [False, ["refused: bundle.version: 5 is not newer than the installed 5"]], r
