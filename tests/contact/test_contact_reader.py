"""The contact reader: firmware driver (pos.drivers.iso7816) on the virtual board against
the ISO 7816-3 interface model (host_sim.devices.contact_reader), T=0 and T=1, bytes on
the wire asserted."""
import pytest

from cards_for_tests import EchoCard, T0_ATR, t1_atr
from host_sim import mpy
from host_sim.board import VirtualBoard, ExecError


@pytest.fixture(scope="module")
def vb():
    with VirtualBoard(pty=False, devices=["contact"], firmware=False) as board:
        yield board


@pytest.fixture
def slot(vb):
    dev = vb.devices["contact"]
    dev.remove()
    dev.clear()
    del dev.exchange[:]
    del dev.apdus[:]
    yield dev
    vb.exec("try:\n r.power_off()\nexcept Exception:\n pass")


def run(vb, code):
    return vb.exec(code, timeout=20)


PRE = ("from pos.drivers import iso7816\n"
       "from pos.board import BOARD\n"
       "r = iso7816.from_board(BOARD)\n")


@pytest.fixture(scope="module", autouse=True)
def firmware(vb):
    # the firmware's pos package and board files on the board's flash (no main.py: the REPL is free)
    import os
    import shutil
    shutil.copytree(os.path.join(mpy.FIRMWARE_DIR, "pos"), os.path.join(vb.flash_dir, "pos"), dirs_exist_ok=True)
    shutil.copytree(os.path.join(mpy.FIRMWARE_DIR, "boards"), os.path.join(vb.flash_dir, "boards"),
                    dirs_exist_ok=True)


def wire(dev, direction):
    return b"".join(d for k, d in dev.exchange if k == direction)


def test_no_card_is_reported(vb, slot):
    out = run(vb, PRE + "print(r.present())\n"
                        "try:\n r.power_on()\nexcept iso7816.CardError as e:\n print(e.reason, e)")
    assert out.split("\n")[:2] == ["False", "removed no card in the slot"]


def test_t0_atr_and_uart_framing(vb, slot):
    slot.insert(EchoCard())
    out = run(vb, PRE + "print(r.present())\n"
                        "a = r.power_on()\n"
                        "print(a.raw.hex(), a.protocol, a.historical.hex(), a.tc1)")
    assert out.split("\n")[:2] == ["True", "%s 0 0102030405 255" % T0_ATR.hex()]
    assert slot.config == (9600, 8, 0, 2)           # 9600 8E2: parity even (0), 2 stop bits
    assert slot.powered


def test_t0_case2_case3_case4_on_the_wire(vb, slot):
    card = EchoCard(fci_len=20)
    slot.insert(card)
    out = run(vb, PRE + "r.power_on()\n"
                        "print(r.transmit(bytes.fromhex('00A404000E315041592E5359532E444446303100')).hex())\n"
                        "print(r.transmit(bytes.fromhex('00B2010C00')).hex())\n"
                        "print(r.transmit(bytes.fromhex('80CA9F1700')).hex())\n")
    lines = out.split("\n")
    assert lines[0] == bytes(range(20)).hex() + "9000"
    assert lines[1] == "01" * 10 + "9000"
    assert lines[2] == "01029000"
    to_card = wire(slot, "c")
    # case 4 sent as case 3 then GET RESPONSE with the La the card gave (61 14)
    assert to_card.startswith(bytes.fromhex("00A404000E") + bytes.fromhex("315041592E5359532E4444463031"))
    assert bytes.fromhex("00C0000014") in to_card
    # case 2 with Le=00: the card says 6C 0A, the reader re-sends with Le=0A
    assert bytes.fromhex("00B2010C00") in to_card and bytes.fromhex("00B2010C0A") in to_card
    to_reader = wire(slot, "r")
    assert bytes.fromhex("6114") in to_reader and bytes.fromhex("6C0A") in to_reader
    assert card.log[0] == bytes.fromhex("00A404000E315041592E5359532E4444463031")   # no Le: case 3


def test_t0_null_procedure_bytes(vb, slot):
    slot.insert(EchoCard())
    slot.inject("slow")
    out = run(vb, PRE + "r.power_on()\nprint(r.transmit(bytes.fromhex('80CA9F1700')).hex())")
    assert out.strip() == "01029000"
    assert b"\x60\x60" in wire(slot, "r")


def test_t1_ifs_negotiation_and_chaining_both_ways(vb, slot):
    card = EchoCard(atr=t1_atr(ifsc=0x20), fci_len=100)
    slot.insert(card)
    data = bytes(range(200))
    out = run(vb, PRE + "a = r.power_on()\nprint(a.protocol, a.ifsc, a.bwi, a.cwi)\n"
                        "print(r.transmit(bytes.fromhex('00A4040007A000000003101000')).hex())\n"
                        "print(r.transmit(b'\\x80\\xEE\\x00\\x00\\xC8' + bytes(range(200)) + b'\\x00').hex())\n")
    lines = out.split("\n")
    assert lines[0] == "1 32 4 5"
    assert lines[1] == bytes(range(100)).hex() + "9000"
    assert lines[2] == bytes(reversed(data)).hex() + "9000"
    assert slot.ifsd == 254
    to_card = wire(slot, "c")
    assert to_card.startswith(bytes.fromhex("00C101FE3E"))      # S(IFS request 254), LRC 3E
    # the 206-byte APDU went in 32-byte I-blocks with the M bit; the card acked each
    assert card.log[-1] == b"\x80\xEE\x00\x00\xC8" + data + b"\x00"
    assert bytes.fromhex("006020") in to_card                    # N(S)=1, M=1, 32 bytes
    assert bytes.fromhex("00800400") not in to_card
    acks = [d for k, d in slot.exchange if k == "r" and len(d) == 4 and d[1] & 0xC0 == 0x80]
    assert len(acks) == 6                                         # 206 bytes = 6 full blocks + 14


def test_t1_bad_lrc_from_the_card_is_recovered(vb, slot):
    slot.insert(EchoCard(atr=t1_atr()))
    run(vb, PRE + "r.power_on()")
    slot.inject("noise")
    out = run(vb, "print(r.transmit(bytes.fromhex('80CA9F1700')).hex())")
    assert out.strip() == "01029000"
    to_card = [d for k, d in slot.exchange if k == "c"]
    assert any(d[1] & 0xEF == 0x81 and len(d) == 4 for d in to_card)   # R-block with EDC error


def test_t1_wtx(vb, slot):
    slot.insert(EchoCard(atr=t1_atr()))
    slot.inject("slow")
    out = run(vb, PRE + "r.power_on()\nprint(r.transmit(bytes.fromhex('80CA9F1700')).hex())")
    assert out.strip() == "01029000"
    assert any(d[:3] == b"\x00\xC3\x01" for k, d in slot.exchange if k == "r")
    assert any(d[:3] == b"\x00\xE3\x01" for k, d in slot.exchange if k == "c")


def test_mute_card(vb, slot):
    slot.insert(EchoCard())
    slot.inject("mute")
    out = run(vb, PRE + "try:\n r.power_on()\nexcept iso7816.CardError as e:\n print(e.reason)")
    assert out.strip() == "mute"
    assert not wire(slot, "r")


def test_removed_mid_transaction(vb, slot):
    slot.insert(EchoCard())
    run(vb, PRE + "r.power_on()")
    slot.remove()
    out = run(vb, "try:\n r.transmit(bytes.fromhex('80CA9F1700'))\nexcept iso7816.CardError as e:\n print(e.reason, e)")
    assert out.strip() == "removed card removed"


@pytest.mark.parametrize("atr,err", [
    ("3B", "ATR too short"),
    ("3A6500FF0102030405", "TS 3A"),
    ("3BE000FF81317FFE45AA", "TCK check failed"),
    ("3B6500FF0102", "historical bytes"),
    ("3BE000FF8131", "interface bytes"),
])
def test_atr_parse_errors(atr, err):
    out = mpy.run("from pos.drivers import iso7816\n"
                  "try:\n iso7816.parse_atr(bytes.fromhex(%r))\n"
                  "except iso7816.CardError as e:\n print(e.reason, e)" % atr)
    assert out.startswith("atr ") and err in out


def test_atr_parse_inverse_and_t1():
    out = mpy.run("from pos.drivers import iso7816\n"
                  "a = iso7816.parse_atr(bytes.fromhex(%r))\n"
                  "print(a.protocols, a.ifsc, a.tck_ok)\n"
                  "a = iso7816.parse_atr(bytes.fromhex('3F6500FF0102030405'))\n"
                  "print(a.inverse, a.protocols)" % t1_atr(0xFE).hex())
    assert out.split("\n")[:2] == ["[1] 254 True", "True [0]"]
