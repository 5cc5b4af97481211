"""The board's identity the key store is sealed under: the unique-id register and the KEK
in OTP block 0, read by address (machine.mem8) as on the STM32F429 (RM0090 39.1, 3.8).
Runs on the virtual board and, with --board, on a real one."""
from host_sim.board.virtual_board import TEST_KEK

def test_unique_id_register_and_kek_in_locked_otp(board):
    # small steps: the terminal's UI holds most of the heap while the REPL runs these
    out = board.exec("import gc, machine\ngc.collect()\n"
                     "print('UID', machine.unique_id() == bytes(machine.mem8[0x1FFF7A10 + i] for i in range(12)))")
    assert "UID True" in out
    out = board.exec("from pos.board import BOARD\n"
                     "print('KEK', bytes(machine.mem8[BOARD.KEK_OTP + i] for i in range(32)) != b'\\xff' * 32,"
                     " machine.mem8[0x1FFF7A00] == 0)")
    assert "KEK True True" in out           # programmed and block 0 locked
    # the device key derives from them (sealing with it: tests/ui/test_keys_at_rest_board.py)
    out = board.exec("gc.collect()\nfrom pos.store import devicekey\n"
                     "print('DK', type(devicekey.from_board()).__name__)\n")
    assert "DK DeviceKey" in out


def test_virtual_board_otp_holds_its_kek_and_nothing_else_is_readable(virtual_board):
    out = virtual_board.exec(
        "import machine\n"
        "print(bytes(machine.mem8[0x1FFF7800 + i] for i in range(32)).hex())\n"
        "print(hex(machine.mem32[0x1FFF7820]))\n"
        "try:\n"
        "    machine.mem8[0x20000000]\n"
        "except ValueError as e:\n"
        "    print('ValueError', e)\n"
        "try:\n"
        "    machine.mem8[0x1FFF7800] = 0\n"
        "except ValueError as e:\n"
        "    print('ValueError', e)\n")
    lines = out.split("\n")
    assert lines[0] == TEST_KEK.hex()
    assert lines[1] == "0xffffffff"                      # block 1 erased
    assert lines[2] == "ValueError address 0x20000000 is not modelled by the virtual board"
    assert lines[3] == "ValueError system memory is read-only (OTP is written at manufacture)"
