"""The host link on the virtual board (the sim's heap, firmware as .mpy in its flash,
board-support layer loaded): online approve/decline, and a power cut (reset
button = the CPU process killed) at every journal write of a chip sale."""
import pytest

from host_sim.board import VirtualBoard
from hostlink.terminal import Terminal

PAN = "4761739001010119"


@pytest.fixture
def board(tmp_path):
    from host_sim.rig import PRODUCT_HEAP
    # the engine as .mpy in RAM beside the board support: the sim's heap on this 64-bit port
    # (docs/bridge.md); the 192 KB budget is checked with the firmware frozen
    vb = VirtualBoard(str(tmp_path / "flash"), heap=PRODUCT_HEAP, firmware=False, pty=False, devices=[])
    vb.start()
    yield vb
    vb.stop()


def test_online_approve_and_decline_on_the_virtual_board(board, alpha):
    t = Terminal(board.flash_dir, {"alpha": alpha}, drop_missing=True, board=board)
    before = alpha.db.balance(PAN)
    a, b, mem = t.run("""
req, r = sale(1234); out(resp_dict(r))
req, r = sale(5000, pan="4761739001010010"); out(resp_dict(r))
import gc; gc.collect(); out(gc.mem_free())
""")
    assert a["approved"] and a["rc"] == "00" and alpha.db.balance(PAN) == before - 1234
    assert not b["approved"] and b["rc"] == "51"
    assert mem > 16 * 1024                 # headroom left on the board's heap


def test_power_cut_on_the_virtual_board(board, alpha):
    t = Terminal(board.flash_dir, {"alpha": alpha}, drop_missing=True, board=board, timeout_ms=1500)
    body = 'req, r = sale(1500, entry="chip")\neng.complete(req, r, True)\n'
    seen = []
    net = 0
    for k in (1, 2, 3):                         # a chip sale makes 3 journal writes
        before = alpha.db.balance(PAN)
        cut, at = t.run_until_cut(body, k)
        assert cut, at
        (st,) = t.run("out(state())")           # reboot: recover, reverse
        assert st["pending"] == []
        # the same terminal keeps its journal: compare what this sale added
        assert before - alpha.db.balance(PAN) == st["net"] - net
        seen.append((at, st["net"] - net))
        net = st["net"]
    assert seen == [("req", 0), ("resp", 0), ("done", 1500)]
