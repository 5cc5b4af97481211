"""The board's resources are the reference board's: 192 KB heap, a flash that cannot be left."""
import os

import pytest

from host_sim.board import VirtualBoard, ExecError


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    root = tmp_path_factory.mktemp("outside")
    (root / "secret.txt").write_text("host file")
    flash = root / "flash"
    flash.mkdir()
    (flash / "inside.txt").write_text("in flash")
    b = VirtualBoard(flash, pty=False, wiring={}, flash_size=64 * 1024)
    b.start()
    yield b
    b.stop()


def test_heap_is_192k_and_enforced(vb):
    total = int(vb.exec("import gc; gc.collect(); print(gc.mem_free() + gc.mem_alloc())"))
    assert 180 * 1024 < total <= 196608
    with pytest.raises(ExecError) as e:
        vb.exec("import gc; gc.collect(); keep = [bytearray(8192) for i in range(30)]")   # 240 KB
    assert "MemoryError" in str(e.value)
    # and the board is still usable afterwards
    assert vb.eval("len([bytearray(8192) for i in range(8)])") == "8"


def test_heap_option_sets_the_limit(tmp_path):
    with VirtualBoard(tmp_path, heap="64K", pty=False, wiring={}) as b:
        total = int(b.exec("import gc; print(gc.mem_free() + gc.mem_alloc())"))
        assert 60 * 1024 < total <= 65536
        with pytest.raises(ExecError):
            b.exec("x = bytearray(70000)")


@pytest.mark.parametrize("path", [
    "../secret.txt", "../../secret.txt", "/flash/../secret.txt", "/secret.txt", "/etc/hostname",
    "../../../../../../etc/hostname", "sub/../../secret.txt",
])
def test_paths_cannot_leave_the_flash(vb, path):
    with pytest.raises(ExecError) as e:
        vb.exec("print(open(%r).read())" % path)
    assert "ENOENT" in str(e.value) or "ENODEV" in str(e.value)


def test_chdir_and_listdir_stay_inside(vb):
    out = vb.exec("import os\n"
                  "os.chdir('..'); os.chdir('../..')\n"
                  "print(os.getcwd(), sorted(os.listdir()), os.listdir('/'))\n"
                  "os.chdir('/flash')\n"
                  "print(open('inside.txt').read())\n")
    lines = out.splitlines()
    assert lines[1] == "in flash"
    assert "secret.txt" not in lines[0] and "inside.txt" in lines[0]
    assert lines[0].endswith("['flash']")


def test_writes_cannot_leave_the_flash(vb):
    vb.exec("f = open('../../escape.txt', 'w'); f.write('x'); f.close()\n"
            "import os; os.rename('../escape.txt', '/flash/../../moved.txt')\n")
    outside = os.path.dirname(vb.flash_dir)
    assert not os.path.exists(os.path.join(outside, "escape.txt"))
    assert not os.path.exists(os.path.join(outside, "moved.txt"))
    assert os.path.exists(os.path.join(vb.flash_dir, "moved.txt"))
    vb.exec("import os; os.remove('moved.txt')")


def test_flash_full_raises_enospc_and_statvfs_reports_it(vb):
    out = vb.exec("import os; s = os.statvfs('/flash'); print(s[0] * s[2], s[0] * s[3] < 64 * 1024)")
    assert out.split() == [str(64 * 1024), "True"]
    with pytest.raises(ExecError) as e:
        vb.exec("f = open('big.bin', 'wb')\n"
                "try:\n"
                "    for i in range(80):\n"
                "        f.write(bytearray(1024))\n"
                "finally:\n"
                "    f.close()\n")
    assert "28" in str(e.value) or "ENOSPC" in str(e.value)
    assert os.path.getsize(os.path.join(vb.flash_dir, "big.bin")) <= 64 * 1024
    vb.exec("import os; os.remove('big.bin')")


def test_unix_port_escape_hatches_are_not_there(vb):
    out = vb.exec("import os, vfs\nprint(hasattr(os, 'system'), hasattr(vfs, 'VfsPosix'), hasattr(os, 'VfsPosix'))")
    assert out.strip() == "False False False"
