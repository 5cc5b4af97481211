"""PN532: the model frame for frame against hand-built frames from the user manual, and the
firmware driver against the model on the virtual board (commands, chaining, faults)."""
import os
import shutil

import pytest

from host_sim import mpy
from host_sim.board import VirtualBoard
from host_sim.devices.pn532 import ACK, ERROR_FRAME, PN532, frame


class Card:
    type = "A"
    uid = bytes.fromhex("04A1B2C3D4E5F6")
    atqa = bytes.fromhex("0044")
    sak = 0x20
    ats = bytes.fromhex("7577810280")

    def __init__(self, big=0):
        self.big = big
        self.log = []

    def transmit(self, apdu):
        self.log.append(apdu)
        if apdu[1] == 0xB0:
            return bytes(range(256))[: self.big] * 1 + b"\x90\x00"
        return bytes(reversed(apdu)) + b"\x90\x00"


def _model():
    m = PN532()
    out = []
    m.connect_uart(out.append)
    return m, out


def test_manual_frames_by_hand():
    m, out = _model()
    # GetFirmwareVersion: 00 00 FF 02 FE D4 02 2A 00 (UM0701 7.2.2 example)
    m.uart_rx(bytes.fromhex("5555000000") + bytes.fromhex("0000FF02FED4022A00"))
    assert out[0] == ACK
    assert out[1] == bytes.fromhex("0000FF06FAD50332010607E800")
    # a damaged frame (bad DCS) gets the error frame
    m.uart_rx(bytes.fromhex("0000FF02FED4022B00"))
    assert out[-1] == ERROR_FRAME
    # NACK from the host: the last answer again
    m.uart_rx(bytes.fromhex("0000FFFF0000"))
    assert out[-1] == bytes.fromhex("0000FF06FAD50332010607E800")
    assert frame(b"\xd4" + bytes(300))[:5] == bytes.fromhex("0000FFFFFF")   # extended frame


@pytest.fixture(scope="module")
def vb():
    with VirtualBoard(pty=False, devices=["pn532"], firmware=False) as b:
        shutil.copytree(os.path.join(mpy.FIRMWARE_DIR, "pos"), os.path.join(b.flash_dir, "pos"))
        shutil.copytree(os.path.join(mpy.FIRMWARE_DIR, "boards"), os.path.join(b.flash_dir, "boards"))
        b.exec("from pos.drivers import pn532\nfrom pos.board import BOARD\nn = pn532.from_board(BOARD)\n"
               "print(n.begin())")
        yield b


def run(vb, code):
    return vb.exec("try:\n" + "".join("    " + l + "\n" for l in code.split("\n")) +
                   "except pn532.NfcError as e:\n    print('NfcError', e.reason, e)\n")


def test_list_and_exchange_with_chaining(vb):
    dev = vb.devices["pn532"]
    dev.remove()
    card = Card(big=256)
    dev.tap(card)
    out = run(vb, "t = n.list_target()\nprint(t.uid.hex(), t.sak, t.ats.hex())\n"
                  "print(n.transmit(bytes.fromhex('00A4040007A0000000031010')).hex())\n"
                  "r = n.transmit(bytes.fromhex('00B0000000'))\nprint(len(r), r[-2:].hex())\n"
                  "big = bytes(300)\nprint(n.transmit(b'\\x80\\xEE\\x00\\x00' + big)[-2:].hex())")
    lines = out.strip().split("\n")
    assert lines[0] == "04a1b2c3d4e5f6 32 7577810280"
    assert lines[1] == bytes(reversed(bytes.fromhex("00A4040007A0000000031010"))).hex() + "9000"
    assert lines[2] == "258 9000"                         # 256 + SW: came back in two parts (MI)
    assert lines[3] == "9000" and card.log[-1] == b"\x80\xEE\x00\x00" + bytes(300)


def test_collision_and_removal(vb):
    dev = vb.devices["pn532"]
    dev.remove()
    dev.tap(Card())
    dev.tap(Card())
    assert run(vb, "n.list_target()").strip() == "NfcError collision more than one card in the field"
    dev.remove()
    assert run(vb, "print(n.list_target())").strip() == "None"
    dev.tap(Card())
    dev.inject("leave")
    out = run(vb, "n.list_target()\nn.transmit(bytes.fromhex('00A4040000'))")
    assert out.strip() == "NfcError removed card left the field (time-out)"


def test_corrupted_response_is_nacked_and_retried(vb):
    dev = vb.devices["pn532"]
    dev.remove()
    dev.tap(Card())
    dev.inject("corrupt")
    out = run(vb, "print(n.firmware_version())")
    assert out.strip() == "(50, 1, 6, 7)"
    assert dev.commands[-1] == 0x02


def test_membership_cards_mifare_and_ntag(vb):
    from host_sim.devices.nfc_tags import MifareClassic1K, Ntag21x
    dev = vb.devices["pn532"]
    dev.remove()
    m = MifareClassic1K()
    dev.tap(m)
    out = run(vb, "t = n.list_target()\nprint(t.uid.hex(), t.sak)\n"
                  "n.mifare_auth(4, b'\\xff' * 6)\n"
                  "n.mifare_write(5, b'MEMBER-000042\\x00\\x00\\x00')\n"
                  "print(n.mifare_read(5))\n"
                  "n.mifare_auth(8, b'\\x00' * 6)")
    lines = out.strip().split("\n")
    assert lines[0] == "deadbeef 8"
    assert lines[1] == "b'MEMBER-000042\\x00\\x00\\x00'"
    assert lines[2] == "NfcError auth MIFARE authentication failed (wrong key)"
    dev.remove()
    dev.tap(Ntag21x(215, ndef_text="MEMBER 0007"))
    out = run(vb, "n.list_target()\nprint(n.ntag_version().hex())\nprint(n.ntag_ndef_text())")
    assert out.strip().split("\n") == ["0004040201001103", "MEMBER 0007"]
