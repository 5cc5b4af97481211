"""Simplified Chinese on the display: the glyph subset built from the catalogs at build
time (tools/posbuild/fonts.py), drawn by the firmware, read back by the display model."""
import os

import pytest

from display_wait import wait_text
from host_sim import mpy
from host_sim.board import VirtualBoard
from host_sim.board.virtual_board import PRODUCT_HEAP
from posbuild import fonts

pytestmark = pytest.mark.skipif(fonts.font_path() is None, reason="fonts-wqy-microhei not installed")
MESSAGES = os.path.join(mpy.FIRMWARE_DIR, "pos", "ui", "messages.py")


def test_subset_covers_every_catalog_character(tmp_path):
    chars = fonts.catalog_chars(MESSAGES)
    assert "就" in chars and "绪" in chars and "A" not in chars
    path = fonts.build_into(mpy.FIRMWARE_DIR, str(tmp_path))
    glyphs = fonts.parse(open(path, "rb").read())
    assert sorted(glyphs) == chars
    assert all(any(g) for g in glyphs.values())          # every glyph has ink
    assert os.path.getsize(path) == 10 + len(chars) * 34


def test_firmware_reads_the_same_glyphs(tmp_path):
    path = fonts.build_into(mpy.FIRMWARE_DIR, str(tmp_path))
    host = fonts.parse(open(path, "rb").read())
    out = mpy.run("from pos.ui import cjk\n"
                  "f = cjk.Font16(%r)\n"
                  "for ch in '就绪消费X':\n"
                  "    g = f.glyph(ch)\n"
                  "    print(bytes(f.buf).hex() if g else None)\n"
                  "print(cjk.width('A就'))\n" % path)
    lines = out.split()
    assert lines[:4] == [host[c].hex() for c in "就绪消费"]
    assert lines[4] == "None" and lines[5] == "24"


@pytest.fixture(scope="module")
def vb():
    # the product heap: switching language loads the Chinese catalog and its glyphs beside the
    # counter, as the sim's terminal does
    with VirtualBoard(firmware="frozen", heap=PRODUCT_HEAP, pty=False) as board:
        board.wait_for("smartpos ready", 120)
        yield board


def keys(vb, seq):
    vb.devices["keypad"].type(seq)       # each key once the firmware has taken the last


def test_switch_to_chinese_and_back(vb):
    disp = vb.devices["display"]
    keys(vb, ["MENU", "8"])
    wait_text(disp, "1 Language")
    keys(vb, ["1"])
    text = wait_text(disp, "2 中文")
    keys(vb, ["2"])
    text = wait_text(disp, "就绪", "MENU: 功能菜单")
    assert text.split("\n")[0].startswith("就绪")
    keys(vb, ["MENU"])
    wait_text(disp, "1 消费", "2 退货", "9 关于")
    # the choice is kept on flash across a reset
    assert '"language": "zh"' in open(os.path.join(vb.flash_dir, "config", "terminal.json")).read()
    keys(vb, ["8", "1", "1"])
    wait_text(disp, "READY")
