"""Signed firmware updates on the virtual board (frozen firmware in two ROMFS slots, the host
bootloader, the board's 192 KB heap): a good release installs on trial, passes the self-test
and confirms; a release whose self-test fails reverts on the next boot with the failure
recorded; a tampered image, tampered or expired metadata, an older version and a truncated
download are refused with nothing armed and the old slot still boots.  The board's main.py
only reports the image that booted (tests/tms/updates.py); `smartpos bench updates` installs
beside the running application."""
import json
import os
import re

import pytest

from cloud.tms import release
from tms.updates import SETTLE, put_download, quiet_board, reboot, run_install


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    base = tmp_path_factory.mktemp("releases")
    out = {}
    for version, fault in (("1.0.1", None), ("1.0.2", "deliberately broken release"),
                           ("0.0.9", None)):
        d = str(base / version)
        release.build_release(version, d, fault=fault)
        out[version] = d
    return out


@pytest.fixture
def vb(tmp_path):
    b = quiet_board(tmp_path / "flash")
    yield b
    b.stop()


def _lines(out, tag):
    return [l[len(tag) + 1:] for l in out.splitlines() if l.startswith(tag + " ")]


def _version(vb):
    return vb.eval("__import__('pos').VERSION").strip("'")


def _record(vb):
    rec, _ = vb.slot_store.record()
    return rec.as_dict()


def test_good_update_installs_on_trial_passes_selftest_and_confirms(vb, releases):
    put_download(vb.flash_dir, releases["1.0.1"])
    out = run_install(vb)
    assert _lines(out, "ARMED") == ["1.0.1"], out
    assert _record(vb)["versions"] == ["0.1.0", "1.0.1"] and _record(vb)["trial"] == 1
    assert _version(vb) == "0.1.0"                 # nothing changes until the reset
    reboot(vb)
    assert vb.cpu.boot_choice.trial and _version(vb) == "1.0.1"
    out = vb.exec(SETTLE, timeout=120)
    assert _lines(out, "TRIAL") == ["1.0.1"]
    assert "RESETTING" not in out
    assert "'result': 'confirmed'" in out and "'version': '1.0.1'" in out
    rec = _record(vb)
    assert (rec["confirmed"], rec["trial"], rec["result"]) == (1, None, "confirmed")
    reboot(vb)                              # and it stays
    assert not vb.cpu.boot_choice.trial and _version(vb) == "1.0.1"
    assert "TRIAL None" in vb.exec(SETTLE, timeout=120)


def test_release_whose_selftest_fails_reverts_with_the_failure_recorded(vb, releases):
    put_download(vb.flash_dir, releases["1.0.2"])
    assert _lines(run_install(vb), "ARMED") == ["1.0.2"]
    reboot(vb)
    assert _version(vb) == "1.0.2"
    out = vb.exec(SETTLE, timeout=120)
    assert "RESETTING" in out                      # the self-test failed: reset into the old slot
    assert "deliberately broken release" in out
    reboot(vb)
    assert _version(vb) == "0.1.0" and vb.cpu.boot_choice.slot == 0
    out = vb.exec("from pos.tms.update import Installer\nprint(Installer.from_board().last_result())")
    assert "'result': 'reverted'" in out and "'version': '1.0.2'" in out
    assert "self-test fault: deliberately broken release" in out


def test_trial_that_never_confirms_reverts_on_the_next_boot(vb, releases):
    put_download(vb.flash_dir, releases["1.0.1"])
    assert _lines(run_install(vb), "ARMED") == ["1.0.1"]
    reboot(vb)
    assert _version(vb) == "1.0.1"
    vb.power_cut()                                 # e.g. it hangs and the merchant pulls the plug
    reboot(vb, "power")
    assert _version(vb) == "0.1.0"
    assert _record(vb)["result"] == "reverted" and _record(vb)["result_reason"] == "trial boot not confirmed"


def _refused(vb, why_re):
    out = run_install(vb)
    refused = _lines(out, "REFUSED")
    assert refused and re.search(why_re, refused[0]), out
    rec = _record(vb)
    assert rec["trial"] is None and rec["state"] == 0 and rec["confirmed"] == 0
    reboot(vb)
    assert vb.cpu.boot_choice.slot == 0 and _version(vb) == "0.1.0"
    return refused[0]


def test_tampered_image_is_refused(vb, releases):
    image = bytearray(open(os.path.join(releases["1.0.1"], "firmware-1.0.1.romfs"), "rb").read())
    image[len(image) // 2] ^= 0x01
    put_download(vb.flash_dir, releases["1.0.1"], image=bytes(image))
    _refused(vb, "image hash mismatch")


def test_truncated_download_is_refused(vb, releases):
    image = open(os.path.join(releases["1.0.1"], "firmware-1.0.1.romfs"), "rb").read()
    put_download(vb.flash_dir, releases["1.0.1"], image=image[:-5000])
    _refused(vb, r"download incomplete: \d+ of %d bytes" % len(image))


def test_tampered_metadata_is_refused(vb, releases):
    md = json.loads(open(os.path.join(releases["1.0.1"], "metadata", "targets.json")).read())
    for t in md["signed"]["targets"].values():
        t["hashes"]["sha256"] = "00" * 32
    put_download(vb.flash_dir, releases["1.0.1"], metadata={"targets.json": json.dumps(md).encode()})
    _refused(vb, "targets.json: bad signature")


def test_expired_metadata_is_refused(vb, releases, tmp_path):
    d = str(tmp_path / "expired")
    release.build_release("1.0.1", d, expires_days=-1)
    put_download(vb.flash_dir, d)
    _refused(vb, "timestamp.json: expired at")


def test_older_version_is_refused(vb, releases):
    put_download(vb.flash_dir, releases["1.0.1"])
    assert _lines(run_install(vb), "ARMED") == ["1.0.1"]
    reboot(vb)
    assert "'result': 'confirmed'" in vb.exec(SETTLE, timeout=120)
    put_download(vb.flash_dir, releases["0.0.9"])          # older firmware, older metadata
    out = run_install(vb)
    assert "rollback attack" in out or "not newer" in out, out
    assert _record(vb)["trial"] is None
    reboot(vb)
    assert _version(vb) == "1.0.1"
