"""The ESC/POS driver on the virtual board, over USART6, against the printer model."""
import pytest

from host_sim.board import VirtualBoard

SETUP = "from pos.board import BOARD\nfrom pos.drivers import escpos\np = escpos.from_board(BOARD)\n"


@pytest.fixture(scope="module")
def vb():
    with VirtualBoard(firmware=True, pty=False) as board:
        yield board


@pytest.fixture
def printer(vb):
    pr = vb.devices["printer"]
    pr.clear()
    pr.tear_off()
    return pr


def test_receipt_over_uart(vb, printer):
    vb.exec(SETUP + "p.init(); p.line('HELLO'); p.columns('TOTAL', '9.99'); p.cut()\n")
    assert printer.wait_for_cuts(1)
    assert printer.receipts() == ["HELLO\nTOTAL                       9.99"]


@pytest.mark.parametrize("fault,expect", [
    ("paper_out", "PaperOut printer out of paper: load a new roll"),
    ("cover_open", "CoverOpen printer cover open: close it"),
])
def test_status_faults_reach_the_driver(vb, printer, fault, expect):
    printer.inject(fault)
    out = vb.exec(SETUP + """
try:
    p.check_ready()
    print("ready")
except escpos.PrinterError as e:
    print(type(e).__name__, e)
""")
    assert out.strip() == expect


def test_near_end_is_ready_with_warning(vb, printer):
    printer.inject("paper_near_end")
    out = vb.exec(SETUP + "s = p.check_ready(); print(s.paper_near_end, s.paper_out, s.online)\n")
    assert out.strip() == "True False True"
