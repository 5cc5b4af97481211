"""ESC/POS printer model: byte-for-byte interpretation, status, faults.

Receipts produced by python-escpos (independent ESC/POS software) must render
as well as our own driver's output.
"""
import pytest
from escpos.printer import Dummy

from host_sim.devices.escpos import DOTS, EscPosPrinter


def feed(printer, data, chunk=None):
    if chunk:
        for i in range(0, len(data), chunk):
            printer.uart_rx(data[i:i + chunk])
    else:
        printer.uart_rx(data)


def python_escpos_receipt():
    d = Dummy()
    d.hw("INIT")
    d.set(align="center", bold=True, double_height=True, double_width=True)
    d.text("SMART MART\n")
    d.set(align="left", normal_textsize=True, bold=False)
    d.text("Coffee                      3.50\n")
    d.text("Bagel                       2.25\n")
    d.set(align="right", bold=True)
    d.text("TOTAL 5.75\n")
    d.barcode("4006381333931", "EAN13", pos="BELOW")
    d.qr("https://example.invalid/r/000123", native=True, size=4)
    d.cut()
    return d.output


@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_python_escpos_receipt_transcript(chunk):
    p = EscPosPrinter()
    feed(p, python_escpos_receipt(), chunk)
    lines = p.transcript().split("\n")
    # double width: 10 chars take 20 columns of 32 -> 6 columns of left padding
    assert lines[0] == "      SMART MART"
    assert lines[1] == "Coffee                      3.50"
    assert lines[2] == "Bagel                       2.25"
    assert lines[3] == " " * 22 + "TOTAL 5.75"
    assert lines[4] == "[BARCODE EAN13 4006381333931]"
    assert lines[5].strip() == "4006381333931"          # HRI below
    assert lines[6] == "[QR https://example.invalid/r/000123]"
    assert lines[-1] == "[CUT]"
    assert p.cuts == 1
    assert p.unknown == []
    img = p.image()
    assert img.width == DOTS
    assert img.height > 200
    # some ink on the roll and the bottom of the barcode area is dark somewhere
    assert img.convert("L").getextrema()[0] == 0


def test_text_wraps_at_32_columns():
    p = EscPosPrinter()
    p.uart_rx(b"\x1b@" + b"A" * 40 + b"\n")
    assert p.transcript().split("\n") == ["A" * 32, "A" * 8]


def test_font_b_fits_42_columns():
    p = EscPosPrinter()
    p.uart_rx(b"\x1b@\x1bM\x01" + b"B" * 42 + b"\n")
    assert p.transcript() == "B" * 42


@pytest.mark.parametrize("n,expect", [(1, 0x12), (2, 0x12), (3, 0x12), (4, 0x12)])
def test_realtime_status_ready(n, expect):
    p = EscPosPrinter()
    got = []
    p.connect_uart(got.append)
    p.uart_rx(bytes([0x10, 0x04, n]))
    assert got == [bytes([expect])]


def test_paper_out_goes_offline_and_discards():
    p = EscPosPrinter()
    got = []
    p.connect_uart(got.append)
    p.inject("paper_out")
    p.uart_rx(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")
    assert got == [b"\x1a", b"\x32", b"\x7e"]      # offline; paper end stop; near end + end
    p.uart_rx(b"lost line\n")
    assert p.transcript() == ""
    assert p.discarded == len("lost line\n")
    p.load_paper()
    got.clear()
    p.uart_rx(b"\x10\x04\x04printed\n")
    assert got == [b"\x12"]
    assert p.transcript() == "printed"


def test_cover_open_status():
    p = EscPosPrinter()
    got = []
    p.connect_uart(got.append)
    p.inject("cover_open")
    p.uart_rx(b"\x10\x04\x02")
    assert got == [b"\x16"]


def test_near_end_still_prints():
    p = EscPosPrinter()
    got = []
    p.connect_uart(got.append)
    p.inject("paper_near_end")
    p.uart_rx(b"\x10\x04\x04ok\n")
    assert got == [b"\x1e"]
    assert p.transcript() == "ok"


def test_drawer_kick_and_raster():
    p = EscPosPrinter()
    p.uart_rx(b"\x1bp\x00\x32\x32")
    assert p.drawer_kicks == [(0, 100, 100)]
    # 16x2 raster: first row all black, second row white
    p.uart_rx(b"\x1dv0\x00\x02\x00\x02\x00" + b"\xff\xff\x00\x00")
    assert p.transcript() == "[IMAGE 16x2]"
    img = p.image().convert("L")
    # left-justified by default: pixel (0,0) is ink, row 1 is paper
    assert img.getpixel((0, 0)) == 0 and img.getpixel((0, 1)) == 255


def test_receipts_split_at_cuts():
    p = EscPosPrinter()
    p.uart_rx(b"one\n\x1dVA\x10two\n\x1dV\x00")
    assert p.receipts() == ["one", "two"]


def test_unknown_command_recorded_not_fatal():
    p = EscPosPrinter()
    p.uart_rx(b"\x1b\x99x\n")
    assert p.unknown == ["1b99"]
    assert p.transcript() == "x"
