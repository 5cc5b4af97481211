"""A cash sale from the idle screen on the virtual board: keys in, change on the
display, drawer kicked, receipt on the printer model; paper out -> reprint in full."""

import pytest

from display_wait import wait_text
from host_sim.board import VirtualBoard


@pytest.fixture(scope="module")
def vb():
    with VirtualBoard(firmware=True, pty=False) as board:
        board.wait_for("smartpos ready", 120)
        yield board


def keys(vb, seq):
    vb.devices["keypad"].type(seq)       # each key once the firmware has taken the last


def sell(vb, amount_keys, cash_keys):
    disp = vb.devices["display"]
    keys(vb, ["CANCEL", "CANCEL"])
    wait_text(disp, "READY")
    keys(vb, amount_keys + ["ENTER"])
    wait_text(disp, "1 Cash")
    keys(vb, ["1"])
    wait_text(disp, "Cash tendered")
    keys(vb, cash_keys + ["ENTER"])
    return wait_text(disp, "Change")


def test_cash_sale_change_drawer_receipt(vb):
    printer = vb.devices["printer"]
    printer.tear_off()
    kicks = len(printer.drawer_kicks)
    sell(vb, ["1", "2", "5", "0"], ["2", "0", "00"])
    wait_text(vb.devices["display"], "Total USD 12.50", "Cash USD 20.00", "USD 7.50")   # change, double size
    assert printer.wait_for_cuts(1)
    assert len(printer.drawer_kicks) == kicks + 1
    (r,) = printer.receipts()
    lines = r.split("\n")
    # double width: 16 columns a line, the name wrapped at a space, never cut
    assert [lines[0].strip(), lines[1].strip()] == ["SMARTPOS DEMO", "STORE"]
    assert any(l.strip().startswith("INVOICE ") for l in lines)
    assert "TOTAL                  USD 12.50" in lines
    assert "CASH                   USD 20.00" in lines
    assert "CHANGE                  USD 7.50" in lines
    wait_text(vb.devices["display"], "Receipt printed")
    keys(vb, ["ENTER"])
    wait_text(vb.devices["display"], "READY")


def test_invoice_numbers_increase(vb):
    printer = vb.devices["printer"]
    printer.tear_off()
    sell(vb, ["5"], ["5"])
    sell(vb, ["6"], ["6"])
    assert printer.wait_for_cuts(2)
    inv = [int(l.split()[1]) for r in printer.receipts() for l in r.split("\n") if l.strip().startswith("INVOICE")]
    assert len(inv) == 2 and inv[1] == inv[0] + 1


def test_paper_out_then_full_reprint(vb):
    printer = vb.devices["printer"]
    printer.tear_off()
    printer.inject("paper_out")
    sell(vb, ["3", "00"], ["5", "00"])
    wait_text(vb.devices["display"], "Load paper, F1 reprint")
    assert printer.transcript() == ""               # nothing printed, nothing half-printed
    printer.load_paper()
    keys(vb, ["F1"])
    assert printer.wait_for_cuts(1)
    r = printer.receipts()[0]
    assert "TOTAL                   USD 3.00" in r and "CHANGE                  USD 2.00" in r
    keys(vb, ["ENTER"])


def test_tendered_less_than_total_is_refused(vb):
    disp = vb.devices["display"]
    keys(vb, ["CANCEL", "CANCEL"])
    wait_text(disp, "READY")
    keys(vb, ["9", "00", "ENTER", "1", "5", "00", "ENTER"])
    wait_text(disp, "Less than the total:")
    keys(vb, ["CANCEL", "CANCEL", "CANCEL", "CANCEL"])
    wait_text(disp, "READY")
