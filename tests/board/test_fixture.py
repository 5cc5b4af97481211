"""The `board` fixture: firmware flashed, same tests on the virtual board or a real one (--board=PORT)."""
import os
import subprocess
import sys

import pytest

from host_sim.board import VirtualBoard


def test_board_runs_the_flashed_firmware(board):
    name = board.eval("__import__('pos.board').board.BOARD.NAME")
    assert name in ("'sim'", "'NUCLEO-F429ZI'")
    # modules come from the flash as compiled .mpy files (what `smartpos flash` puts there)
    assert board.eval("__import__('pos.log').log.__file__").endswith(".mpy'")


def test_board_heap_is_the_reference_boards(board):
    """A real board: its 192 KB.  The virtual board running the firmware as .mpy files gets
    the sim's heap on this 64-bit port (twice the bytes per object and per loaded bytecode;
    docs/bridge.md); the 192 KB budget is checked with the firmware frozen, as boards ship it."""
    from host_sim.board.cpu import parse_heap
    from host_sim.rig import PRODUCT_HEAP
    total = int(board.eval("__import__('gc').mem_free() + __import__('gc').mem_alloc()"))
    limit = parse_heap(PRODUCT_HEAP) if board.virtual else int(os.environ.get("SMARTPOS_BOARD_HEAP_LIMIT", 196608))
    assert total <= limit


def test_virtual_board_has_the_models(virtual_board):
    assert "printer" in virtual_board.devices          # the printer model exists already


@pytest.mark.skipif(os.environ.get("SMARTPOS_NESTED") == "1", reason="no recursion")
def test_same_tests_run_with_board_option(tmp_path):
    """--board=socket://... (what Renode's server socket terminal gives) runs these tests remotely."""
    from host_sim.rig import PRODUCT_HEAP
    with VirtualBoard(tmp_path / "flash", heap=PRODUCT_HEAP, pty=False, wiring={}) as other:
        from host_sim.board.cpu import parse_heap
        env = dict(os.environ, SMARTPOS_NESTED="1", SMARTPOS_BOARD_HEAP_LIMIT=str(parse_heap(PRODUCT_HEAP)))
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "--board=%s" % other.url, os.path.abspath(__file__)],
                           capture_output=True, text=True, timeout=170, env=env)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        assert "2 passed, 2 skipped" in r.stdout
        assert os.path.exists(os.path.join(other.flash_dir, ".flash-manifest"))   # it was flashed
