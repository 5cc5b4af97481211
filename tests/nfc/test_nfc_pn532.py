"""PN532: the model frame for frame against hand-built frames from the user manual, and the
firmware driver against the model on the virtual board (commands, chaining, faults)."""
import os
import shutil
import threading
import time

import pytest

from host_sim import mpy
from host_sim.board import VirtualBoard
from host_sim.devices.nfc_tags import Ntag21x
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


def _cmd(data):
    """A host information frame around D4 + data, built as UM0701 6.2.1.1 describes it."""
    body = b"\xd4" + data
    return bytes([0, 0, 0xFF, len(body), (-len(body)) & 0xFF]) + body + bytes([(-sum(body)) & 0xFF, 0])


def _wait_out(out, n, timeout=10.0):
    end = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < end:
        time.sleep(0.005)
    return out


SAM_NORMAL = _cmd(b"\x14\x01\x14\x01")
LIST_A = _cmd(b"\x4a\x01\x00")                     # InListPassiveTarget: 1 target, 106 kbps type A


def test_list_waits_for_a_card_with_the_power_on_retries():
    """MxRtyPassiveActivation is FF after power-on: no card, no answer, until one comes."""
    m, out = _model()
    m.uart_rx(SAM_NORMAL)
    assert out[-1] == frame(b"\xd5\x15")
    out.clear()
    m.uart_rx(LIST_A)
    assert out == [ACK]                             # the command is taken, the chip polls on
    assert m.waiting_list == b"\x01\x00"
    card = Ntag21x(213)
    m.tap(card)
    assert out[1] == frame(b"\xd5\x4b\x01\x01" + card.atqa + bytes([card.sak, 7]) + card.uid)
    assert m.waiting_list is None


def test_ack_or_a_new_command_aborts_the_waiting_list():
    m, out = _model()
    m.uart_rx(SAM_NORMAL)
    out.clear()
    m.uart_rx(LIST_A)
    m.uart_rx(ACK)                                  # abort: the chip answers nothing (UM0701 6.2.1.3)
    m.tap(Ntag21x(213))
    assert out == [ACK]
    m.remove()
    out.clear()
    m.uart_rx(LIST_A)
    m.uart_rx(_cmd(b"\x02"))                       # GetFirmwareVersion instead: it is answered
    assert out == [ACK, ACK, frame(b"\xd5\x03" + PN532.FIRMWARE)]
    m.tap(Ntag21x(213))
    assert len(out) == 3                            # the list was ended: no late answer


def test_max_retries_bounds_the_wait_then_zero_targets():
    m, out = _model()
    m.uart_rx(SAM_NORMAL)
    # RFConfiguration CfgItem 05: MxRtyATR FF, MxRtyPSL 01, MxRtyPassiveActivation 02
    m.uart_rx(_cmd(b"\x32\x05\xff\x01\x02"))
    assert out[-1] == frame(b"\xd5\x33")
    assert m.max_retries == {"atr": 0xFF, "psl": 0x01, "passive": 0x02}
    out.clear()
    t0 = time.monotonic()
    m.uart_rx(LIST_A)
    _wait_out(out, 2)
    assert out == [ACK, frame(b"\xd5\x4b\x00")]  # three attempts, then no target
    assert time.monotonic() - t0 >= 3 * 0.005
    # a malformed MaxRetries item is refused (status 27), the setting kept
    m.uart_rx(_cmd(b"\x32\x05\x00"))
    assert out[-1] == frame(b"\xd5\x33\x27") and m.max_retries["passive"] == 0x02


def test_driver_lists_a_card_that_arrives_while_the_chip_waits(vb):
    """The firmware driver with MaxRetries FF: the answer comes when the card does."""
    dev = vb.devices["pn532"]
    dev.remove()
    card = Ntag21x(216)

    def tap_when_waiting():
        end = time.monotonic() + 30
        while dev.waiting_list is None and time.monotonic() < end:
            time.sleep(0.002)
        dev.tap(card)
    th = threading.Thread(target=tap_when_waiting)
    th.start()
    try:
        out = run(vb, "n.max_retries(0xFF)\nt = n.list_target()\nprint(t.uid.hex(), t.sak)\n"
                      "print(n.ntag_read(3)[:4].hex())")
    finally:
        th.join()
        run(vb, "n.max_retries(0x01)")
    assert out.strip().split("\n") == [card.uid.hex() + " 0", "e1106d00"]


@pytest.mark.parametrize("model,cc_size,pages", [(213, 0x12, 45), (215, 0x3E, 135), (216, 0x6D, 231)])
def test_ntag_capability_container_sizes(model, cc_size, pages):
    tag = Ntag21x(model)
    st, data = tag.tag_command(b"\x30\x03")
    assert st == 0 and data[:4] == bytes([0xE1, 0x10, cc_size, 0x00])
    assert len(tag.pages) == pages
    with pytest.raises(ValueError):
        Ntag21x(214)


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
               "print(n.begin())\nn.max_retries(0x01)")       # as pos.hw does: an empty field answers soon
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


_SCRIPTED_UART = r'''
import sys
sys.path.insert(0, %(fw)r)
from pos.drivers import pn532

def fr(body):
    return bytes([0, 0, 0xFF, len(body), (-len(body)) & 0xFF]) + body + bytes([(-sum(body)) & 0xFF, 0])

ACK = bytes.fromhex("0000ff00ff00")

class Uart:
    """Bytes the chip sends, in the order given; each command written releases the next lot."""
    def __init__(self, lots):
        self.lots = lots
        self.rx = bytearray(lots.pop(0))
        self.tx = []
    def write(self, b):
        self.tx.append(bytes(b))
        if self.lots:
            self.rx += self.lots.pop(0)
    def any(self):
        return len(self.rx)
    def read(self, n):
        b = bytes(self.rx[:n])
        self.rx = self.rx[n:]
        return b

# left over from a ListPassiveTarget sent twice after a slow ACK: a second ACK and answer
stale = ACK + fr(b"\xd5\x4b\x00")
# GetFirmwareVersion: first a late ACK and another stale answer arrive, then its own
lots = [stale, ACK + fr(b"\xd5\x4b\x00") + fr(b"\xd5\x03\x32\x01\x06\x07")]
u = Uart(lots)
n = pn532.Pn532Hsu(u)
print(n.firmware_version())
print(len(u.tx), u.rx == b"")
u = Uart([b"", ACK + fr(b"\xd4\x03\x00")])
try:
    pn532.Pn532Hsu(u).firmware_version()
except pn532.NfcError as e:
    print(e.reason, e)
'''


def test_leftovers_of_an_earlier_command_are_never_taken_as_the_answer():
    """Under load an ACK can come after the driver gave up and sent the command again; the
    second ACK and answer are then left in the UART. They are skipped: the next
    command gets its own answer. A frame that is no answer from the chip is still an error."""
    out = mpy.run(_SCRIPTED_UART % {"fw": mpy.FIRMWARE_DIR}).split("\n")
    assert out[0] == "(50, 1, 6, 7)"
    assert out[1] == "1 True"
    assert out[2] == "protocol unexpected response to command 02"
