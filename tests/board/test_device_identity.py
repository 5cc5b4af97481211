"""The board's identity the key store is sealed under: the unique-id register and the KEK
in OTP block 0, read by address (machine.mem8) as on the STM32F429 (RM0090 39.1, 3.8).
A virtual board of its own with the firmware's modules but no main.py (the REPL gets the
whole heap; the shared `board` runs the terminal's UI)."""
import shutil

import pytest

from host_sim import mpy
from host_sim.board import VirtualBoard
from host_sim.board.virtual_board import TEST_KEK


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    flash = tmp_path_factory.mktemp("identity-flash")
    shutil.copytree(mpy.FIRMWARE_DIR, flash, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("main.py", "boot.py", "__pycache__"))
    vb = VirtualBoard(flash, pty=False, wiring={})
    vb.start()
    vb.wait_ready(30)
    yield vb
    vb.stop()


def test_unique_id_register_and_kek_in_locked_otp(bare):
    out = bare.exec(
        "import machine\n"
        "from pos.board import BOARD\n"
        "print('UID', machine.unique_id() == bytes(machine.mem8[0x1FFF7A10 + i] for i in range(12)))\n"
        "print('KEK', bytes(machine.mem8[BOARD.KEK_OTP + i] for i in range(32)).hex())\n"
        "print('LOCK', machine.mem8[0x1FFF7A00])\n"
        "print('BLOCK1', hex(machine.mem32[0x1FFF7820]))\n")
    assert "UID True" in out
    assert "KEK " + TEST_KEK.hex() in out
    assert "LOCK 0" in out                   # block 0 locked (RM0090 3.8)
    assert "BLOCK1 0xffffffff" in out        # block 1 erased


def test_nothing_else_is_readable_and_otp_is_read_only(bare):
    out = bare.exec(
        "import machine\n"
        "for f in (lambda: machine.mem8[0x20000000], lambda: machine.mem32[0x1FFF7A0E]):\n"
        "    try:\n"
        "        f()\n"
        "    except ValueError as e:\n"
        "        print('ValueError', e)\n"
        "try:\n"
        "    machine.mem8[0x1FFF7800] = 0\n"
        "except ValueError as e:\n"
        "    print('ValueError', e)\n")
    lines = out.split("\n")
    assert lines[0] == "ValueError address 0x20000000 is not modelled by the virtual board"
    assert lines[1] == "ValueError address 0x1fff7a0e is not modelled by the virtual board"   # straddles
    assert lines[2] == "ValueError system memory is read-only (OTP is written at manufacture)"


def test_the_device_key_is_the_boards_own(bare, tmp_path):
    """Sealed on this board, the blob does not open under another board's identity."""
    out = bare.exec(
        "from pos.store import devicekey\n"
        "dk = devicekey.from_board()\n"
        "blob = dk.seal(b'x' * 40)\n"
        "print('OPEN', dk.open(blob) == b'x' * 40)\n"
        "other = devicekey.DeviceKey(b'\\x00' * 12, bytes(range(1, 33)))\n"
        "try:\n"
        "    other.open(blob)\n"
        "except devicekey.DeviceKeyError as e:\n"
        "    print('OTHER', e)\n")
    assert "OPEN True" in out
    assert "OTHER sealed key store does not authenticate" in out


def test_a_board_that_missed_the_kek_refuses(tmp_path):
    flash = tmp_path / "flash"
    shutil.copytree(mpy.FIRMWARE_DIR, flash, ignore=shutil.ignore_patterns("main.py", "boot.py", "__pycache__"))
    with VirtualBoard(flash, pty=False, wiring={}, kek=b"") as vb:
        vb.wait_ready(30)
        out = vb.exec("from pos.store import devicekey\n"
                      "try:\n"
                      "    devicekey.from_board()\n"
                      "except devicekey.DeviceKeyError as e:\n"
                      "    print('ERR', e)\n")
    assert "ERR no key-encryption key in OTP: the board missed that manufacturing step" in out
