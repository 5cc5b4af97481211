"""The firmware boots to Ready on the virtual board; the keypad drives the menu.

Asserts what the display model shows (text read from pixels, and pixels), the
command stream the ST7789 driver sent, and the heap in use at idle.
"""
import re

import pytest

from display_wait import wait_text
from host_sim.board import VirtualBoard
from host_sim.devices.st7789 import COLMOD, DISPON, SLPOUT, SWRESET

NAVY = (16, 20, 49)     # RGB565 0x10A6 as the panel shows it


@pytest.fixture(scope="module")
def vb():
    # the board's configuration: 192 KB heap, the firmware frozen into the image (bytecode in
    # flash, as a board build has it), so the heap figures below are the board's
    with VirtualBoard(firmware="frozen", pty=False) as board:
        board.wait_for("smartpos ready", 120)
        yield board


def home(vb):
    vb.devices["keypad"].type(["CANCEL"] * 3)      # each taken before the next
    return wait_text(vb.devices["display"], "READY")


def test_init_sequence_on_the_wire(vb):
    cmds = [c for c, _ in vb.devices["display"].commands]
    # SWRESET, SLPOUT, COLMOD(0x55) in that order, DISPON after the first frame
    assert cmds.index(SWRESET) < cmds.index(SLPOUT) < cmds.index(COLMOD) < cmds.index(DISPON)
    colmod = [p for c, p in vb.devices["display"].commands if c == COLMOD]
    assert colmod[0] == b"\x55"


def test_ready_screen(vb):
    text = home(vb)
    lines = text.split("\n")
    assert lines[0].startswith("READY")
    assert "PAPER" in lines[0]                      # printer answered DLE EOT: paper ok
    assert "SMARTPOS DEMO STORE" in lines
    assert any(re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d", l) for l in lines)
    assert lines[-1] == "MENU: functions"
    img = vb.devices["display"].image()
    assert img.getpixel((1, 1)) == NAVY             # title bar
    assert img.getpixel((120, 200)) == (255, 255, 255)   # body paper
    assert vb.devices["display"].backlight == 1


def test_menu_navigation(vb):
    home(vb)
    kp, disp = vb.devices["keypad"], vb.devices["display"]
    kp.tap("MENU")
    text = wait_text(disp, "9 About")
    assert text.split("\n")[:10] == ["MENU", "1 Sale", "2 Refund", "3 Void", "4 Pre-auth", "5 Completion",
                                     "6 Tip adjust", "7 Reports", "8 Settings",
                                     "9 About"]
    # selection bar is on item 1: its row is inverted (navy) at the left edge
    img = disp.image()
    assert img.getpixel((1, 30)) == NAVY and img.getpixel((1, 50)) == (255, 255, 255)
    kp.type(["DOWN"] * 8)     # one at a time: 8 taps are 16 events, the FIFO holds 10

    def on_item_9(img):
        return img.getpixel((1, 30 + 8 * 16)) == NAVY and img.getpixel((1, 30)) == (255, 255, 255)
    assert disp.wait_until(on_item_9, read=disp.image) is not None, "the selection bar is not on item 9"
    kp.tap("ENTER")
    text = wait_text(disp, "Firmware", "Board sim", "Heap free")
    assert text.split("\n")[0] == "About"
    free = int(re.search(r"Heap free (\d+)", text).group(1))
    assert 30000 < free < 196608
    kp.tap("CANCEL")
    wait_text(disp, "1 Sale")
    kp.tap("CANCEL")
    wait_text(disp, "READY")


def test_amount_entry_from_idle(vb):
    home(vb)
    kp, disp = vb.devices["keypad"], vb.devices["display"]
    kp.type(("1", "2", "00", "5"))
    wait_text(disp, "USD 120.05", "Enter amount")
    kp.tap("CLEAR")
    wait_text(disp, "USD 12.00")
    kp.tap("CANCEL")
    wait_text(disp, "READY")


def test_heap_at_idle_within_board(vb):
    # the firmware's heap is the board's 192 KB (tests/board/test_frozen_firmware.py checks the
    # accounting); at idle, with the UI up and the services waiting for the first card:
    free = int(vb.exec("import gc; gc.collect(); print(gc.mem_free())"))
    assert free > 40000, "less than 40 KB free at idle: %d" % free

