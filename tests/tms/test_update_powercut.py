"""Power cut at every flash write of an update and at every write of the swap, on the virtual
board: each write (trust state, progress, every erase block, every image chunk, the
boot-control record) is cut once whole ("clean") and once half written ("torn"). After each
cut the board boots an image whose bytes match its boot-control record (the old one, or the
new one on trial once the arming record is complete), nothing half-installed is ever armed,
and the install resumes and completes."""
import pytest

from cloud.tms import release
from tms.updates import SETTLE, install_code, put_download, quiet_board, reboot, run_install

CHUNK = 64 * 1024     # few writes per image; the heap is grown for these chunks (not what is tested)


@pytest.fixture(scope="module")
def rel(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("rel") / "1.0.1")
    release.build_release("1.0.1", d)
    return d


def _board(path):
    return quiet_board(path, heap="512K")


def _booted_verified(vb):
    rec, _ = vb.slot_store.record()
    c = vb.cpu.boot_choice
    assert rec is not None and c is not None
    assert vb.slot_store.slot_matches(rec, c.slot), "booted a slot not matching its record"
    assert vb.eval("__import__('pos').VERSION").strip("'") == c.version
    return c, rec


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clean", "torn"])
def test_power_cut_at_every_write_of_the_update(tmp_path, rel, how):
    points = []
    k = 0
    while True:
        k += 1
        vb = _board(tmp_path / ("f%02d" % k))
        try:
            put_download(vb.flash_dir, rel)
            if not vb.run_until_cut(install_code(CHUNK), k, torn=how == "torn", timeout=40):
                assert "ARMED 1.0.1" in vb.console()
                break                                  # write k does not exist: all were cut
            reboot(vb, "power")
            c, rec = _booted_verified(vb)
            if c.version == "1.0.1":
                # the cut came after the arming record was complete: the trial boots, confirms
                assert c.trial and rec.as_dict()["state"] == 2
                assert "'result': 'confirmed'" in vb.exec(SETTLE, timeout=120)
            else:
                assert c.slot == 0 and rec.as_dict()["trial"] is None     # nothing half-installed armed
                out = run_install(vb, CHUNK)                               # the download resumes
                assert "ARMED 1.0.1" in out, out
                resumed = int(out.split("RESUME ")[1].split()[0])
                rec, _ = vb.slot_store.record()
                assert rec.trial == 1 and vb.slot_store.slot_matches(rec, 1)
            points.append((k, c.version))
        finally:
            vb.stop()
    assert len(points) >= 15, points
    # the last write is the arming record: cut whole, the new image boots on trial
    assert points[-1][1] == ("1.0.1" if how == "clean" else "0.1.0")
    assert all(v == "0.1.0" for _, v in points[:-1])
    print("%s cuts: %d write points" % (how, len(points)))


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clean", "torn"])
def test_power_cut_at_every_write_of_the_confirmation(tmp_path, rel, how):
    for k in (1, 2, 3):
        vb = _board(tmp_path / ("c%d" % k))
        try:
            put_download(vb.flash_dir, rel)
            assert "ARMED 1.0.1" in run_install(vb, CHUNK)
            reboot(vb)
            assert vb.cpu.boot_choice.trial
            if not vb.run_until_cut(SETTLE, k, torn=how == "torn", timeout=40):
                assert k == 3                          # the confirmation is an erase and a program
                break
            reboot(vb, "power")
            c, rec = _booted_verified(vb)
            if k == 2 and how == "clean":
                assert (c.version, c.trial, rec.confirmed) == ("1.0.1", False, 1), vb.console()[-1500:]
            else:
                assert (c.version, c.slot) == ("0.1.0", 0)                           # reverted
                assert rec.as_dict()["result"] == "reverted"
        finally:
            vb.stop()
