"""`smartpos flash`: compile for the board, copy only what changed, reset, wait for ready; bad input."""
import os
import subprocess
import sys
import time

import pytest

from host_sim.board import VirtualBoard
from posbuild.mpy import build
from posbuild.toolchain import decode_mpy
from smartpos.flashing import Flasher, FlashError

SMARTPOS = os.path.join(os.path.dirname(sys.executable), "smartpos")

MAIN = "import time\ntime.sleep_ms(200)\nprint('smartpos ready')\nwhile True:\n    time.sleep_ms(50)\n"


def make_tree(root, main=MAIN):
    (root / "pos").mkdir(parents=True)
    (root / "pos" / "__init__.py").write_text("")
    (root / "pos" / "util_a.py").write_text("A = 1\n")
    (root / "pos" / "util_b.py").write_text("def b():\n    return 'b'\n")
    (root / "boot.py").write_text("print('boot')\n")
    (root / "main.py").write_text(main)
    return root


@pytest.fixture
def vb(tmp_path):
    b = VirtualBoard(tmp_path / "flash", pty=True, wiring={})
    b.start()
    yield b
    b.stop()


def flash(vb, src, port=None, **kw):
    lines = []
    r = Flasher(port or vb.url, lines.append, ready_timeout=kw.pop("ready_timeout", 60), **kw).flash(str(src))
    return r, lines


def test_decode_mpy_of_the_unix_port_and_the_stm32():
    assert decode_mpy(2822) == (6, 3, "x64")
    assert decode_mpy(6 | 3 << 8 | 7 << 10) == (6, 3, "armv7emsp")      # NUCLEO-F429ZI (Cortex-M4F)


def test_flash_compiles_copies_resets_and_waits_for_ready(vb, tmp_path):
    src = make_tree(tmp_path / "fw")
    r, lines = flash(vb, src)
    assert r["changed"] == 5 and r["files"] == 5 and r["ready"] is True
    fl = vb.flash_dir
    assert sorted(os.listdir(os.path.join(fl, "pos"))) == ["__init__.mpy", "util_a.mpy", "util_b.mpy"]
    assert open(os.path.join(fl, "main.py")).read() == MAIN           # kept as source
    assert open(os.path.join(fl, "pos", "util_b.mpy"), "rb").read()[:2] == b"M\x06"   # .mpy v6
    assert any(l.startswith("[5/5] ") for l in lines)
    assert vb.cpu.hard_resets == 1
    assert vb.wait_for("smartpos ready")


def test_second_flash_copies_only_changes_and_removes_stale(vb, tmp_path):
    src = make_tree(tmp_path / "fw")
    flash(vb, src)
    r, _ = flash(vb, src)
    assert r["changed"] == 0 and r["bytes_copied"] == 0
    (src / "pos" / "util_a.py").write_text("A = 2\n")
    (src / "pos" / "util_b.py").unlink()
    with open(os.path.join(vb.flash_dir, "pos", "util_a.py"), "w") as f:
        f.write("A = 'stale source twin'\n")         # would shadow util_a.mpy
    r, lines = flash(vb, src)
    assert r["changed"] == 1 and r["removed"] == 2
    assert [l for l in lines if l.startswith("[")] == ["[1/1] pos/util_a.mpy (%d bytes)"
                                                      % os.path.getsize(os.path.join(vb.flash_dir, "pos",
                                                                                     "util_a.mpy"))]
    assert sorted(os.listdir(os.path.join(vb.flash_dir, "pos"))) == ["__init__.mpy", "util_a.mpy"]
    assert vb.exec("import pos.util_a as a; print(a.A)").strip() == "2"


def test_flash_over_the_pty_too(vb, tmp_path):
    r, _ = flash(vb, make_tree(tmp_path / "fw"), port=vb.pty.path)
    assert r["ready"] and r["changed"] == 5


def test_file_that_does_not_compile_copies_nothing(vb, tmp_path):
    src = make_tree(tmp_path / "fw")
    (src / "pos" / "broken.py").write_text("def f(:\n    pass\n")
    with pytest.raises(FlashError) as e:
        flash(vb, src)
    assert "firmware/pos/broken.py does not compile" in str(e.value)
    assert "nothing was copied" in str(e.value)
    assert os.listdir(vb.flash_dir) == []


def test_flash_full_copies_nothing(tmp_path):
    src = make_tree(tmp_path / "fw")
    (src / "pos" / "big.py").write_text("DATA = %r\n" % (b"x" * 60000))
    with VirtualBoard(tmp_path / "flash", pty=False, wiring={}, flash_size=32 * 1024) as b:
        with pytest.raises(FlashError) as e:
            flash(b, src)
        assert str(e.value).startswith("flash full")
        assert os.listdir(b.flash_dir) == []


def test_unknown_port_and_silent_board(tmp_path):
    with pytest.raises(FlashError) as e:
        Flasher(str(tmp_path / "nope")).flash()
    assert "no port" in str(e.value)
    master, slave = os.openpty()             # a serial line with nothing answering
    try:
        t0 = time.monotonic()
        with pytest.raises(FlashError) as e:
            Flasher(os.ttyname(slave), connect_timeout=1).flash()
        assert "does not answer" in str(e.value)
        assert time.monotonic() - t0 < 60           # gives up, does not hang
    finally:
        os.close(master)
        os.close(slave)


def test_main_py_that_crashes_is_reported(vb, tmp_path):
    src = make_tree(tmp_path / "fw", main="import nonexistent_module\n")
    with pytest.raises(FlashError) as e:
        flash(vb, src)
    assert "stopped at boot" in str(e.value) and "nonexistent_module" in str(e.value)


def test_firmware_out_of_heap_on_the_virtual_board_names_the_heap_it_needs(vb, tmp_path):
    # the 64-bit port's objects are twice the board's: the whole firmware needs PRODUCT_HEAP here
    from host_sim.board.virtual_board import PRODUCT_HEAP
    src = make_tree(tmp_path / "fw", main="big = bytearray(1 << 30)\n")
    with pytest.raises(FlashError) as e:
        flash(vb, src)
    msg = str(e.value)
    assert "stopped at boot: MemoryError" in msg
    assert "smartpos board --heap %s" % PRODUCT_HEAP in msg, msg


def test_reflash_of_a_flash_whose_listing_is_tens_of_kb(vb, tmp_path):
    # the probe prints the board's listing and manifest (tens of KB for the firmware) in one go:
    # all of it must reach the flasher through the pty, or the second flash cannot read it
    src = make_tree(tmp_path / "fw")
    for i in range(160):
        (src / "pos" / ("module_with_a_long_name_%03d.py" % i)).write_text("X = %d\n" % i)
    r, _ = flash(vb, src, port=vb.pty.path)
    assert r["changed"] == r["files"] == 165
    (src / "pos" / "module_with_a_long_name_007.py").write_text("X = 'seven'\n")
    r, _ = flash(vb, src, port=vb.pty.path)
    assert (r["changed"], r["files"]) == (1, 165)


def test_cli_one_line_errors(tmp_path):
    r = subprocess.run([SMARTPOS, "flash", "--port", str(tmp_path / "nope")], capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "no port" in r.stderr


def test_build_uses_the_board_arch(tmp_path):
    src = make_tree(tmp_path / "fw")
    (src / "pos" / "fast.py").write_text("import micropython\n@micropython.native\ndef f(x):\n    return x + 1\n")
    out = dict(build(str(tmp_path / "out"), 6 | 3 << 8 | 7 << 10, str(src)))
    head = open(out["pos/fast.mpy"], "rb").read(4)
    assert head[:2] == b"M\x06" and head[2] >> 2 == 7                    # armv7emsp native code


def test_data_files_are_flashed_as_they_are(vb, tmp_path):
    src = make_tree(tmp_path / "fw")
    (src / "config").mkdir()
    (src / "config" / "emv.json").write_text('{"TEST": true}\n')
    (src / "pos" / "NOTES.md").write_text("not for the board\n")
    r, _ = flash(vb, src)
    assert open(os.path.join(vb.flash_dir, "config", "emv.json")).read() == '{"TEST": true}\n'
    assert not os.path.exists(os.path.join(vb.flash_dir, "pos", "NOTES.md"))
    assert vb.exec("import json; print(json.load(open('config/emv.json')))").strip() == "{'TEST': True}"
