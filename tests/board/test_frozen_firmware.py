"""Frozen firmware on the virtual board: pos/ in a ROMFS image mapped at /rom, as a board build
freezes it into flash; the board-support layer's own heap is not charged to the firmware."""
import os
import re

import pytest

from host_sim.board import VirtualBoard
from host_sim.board.cpu import bsp_heap_allowance, gc_table_cost, rom_qstrs


BARE_POOL = 312    # n_total_bytes of qstr_info() on a bare unix port: names it made at start


@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
    flash = tmp_path_factory.mktemp("frozen") / "flash"
    with VirtualBoard(flash, heap="192K", firmware="frozen", pty=False) as vb:
        vb.wait_for("smartpos ready", 30)
        yield vb


def test_pos_comes_from_rom_and_not_from_flash(frozen):
    out = frozen.exec("import sys, os, pos.emv.tlv\n"
                      "print(pos.emv.tlv.__file__)\n"
                      "print(sys.path)\n"
                      "print(sorted(os.listdir('/flash')))\n"
                      "print(sorted(os.listdir('/rom/pos'))[:3])").splitlines()
    assert out[0] == "/rom/pos/emv/tlv.mpy"
    assert out[1] == "['', '.frozen', '/rom', '/rom/lib', '/flash', '/flash/lib']"
    assert "pos" not in out[2] and "main.py" in out[2] and "config" in out[2]
    assert out[3] == "['__init__.mpy', '_names.mpy', 'app']"     # _names: the image's names (pos.names_image)
    assert not os.path.exists(os.path.join(frozen.flash_dir, "pos"))


def test_rom_is_read_only(frozen):
    out = frozen.exec("try:\n open('/rom/pos/x.py', 'w')\nexcept OSError as e:\n print('refused', e.errno)")
    assert out.startswith("refused")


def test_board_support_stays_within_its_allowance(frozen):
    used = int(frozen.exec("import machine; print(machine._bsp_heap)"))
    assert 10000 < used <= bsp_heap_allowance()


def test_firmware_keeps_the_board_heap_for_itself(frozen):
    # what the firmware sees as its heap: 192 KB, minus what the board support may take
    free, alloc = map(int, frozen.exec("import gc; gc.collect(); print(gc.mem_free(), gc.mem_alloc())").split())
    rom = os.path.getsize(frozen.rom)
    qstrs = rom_qstrs(frozen.rom)
    assert 20000 < qstrs < 120000                    # the image's qstrs (in flash on a frozen build)
    board = 196608 - gc_table_cost(196608)          # 192K less its GC tables: 194,304 on x64
    assert free + alloc - rom - bsp_heap_allowance() - qstrs == pytest.approx(board, abs=1024)   # as with firmware in flash
    # the EMV kernel and the payment engine load beside the running application. What would be
    # free with the firmware in flash: the board-support's allowance it does not use and the part
    # of the image's name grant (`qstrs`) the name pool has not taken are in gc.mem_free() here.
    # The pool grows by parts (the eighth is 28 KB on x64), so mem_free alone jumps by a part
    # depending on how many names the interrupted main.py and the REPL met before this import.
    out = frozen.exec("import pos.emv.kernel, pos.payments.engine, gc, micropython, machine\n"
                      "gc.collect(); micropython.qstr_info()\n"
                      "print('free', gc.mem_free(), machine._bsp_heap)")
    pool = int(re.search(r"n_total_bytes=(\d+)", out).group(1)) - BARE_POOL
    free2, bsp = map(int, out.split("free ")[1].split())
    as_in_flash = free2 - (bsp_heap_allowance() - bsp) - max(0, qstrs - pool)
    assert as_in_flash > 8 * 1024, (free2, bsp, pool, qstrs)    # 10.4 KB on x64 (2026-11-29), seven or eight parts
