"""The host wiring and the firmware's board files must agree, fact by fact."""
import ast
import os

from host_sim.board.wiring import BOARD_CONSTANTS, WIRING
from host_sim.board.bridge import pin_id
from host_sim.mpy import FIRMWARE_DIR, run


def board_constants(name):
    """firmware/boards/<name>.py's constants as the firmware sees them (on MicroPython)."""
    out = run("import boards.%s as b\n"
              "print(repr({k: getattr(b, k) for k in dir(b) if k == k.upper() and k[0] != '_'}))" % name)
    return ast.literal_eval(out.strip())


def test_every_wiring_fact_matches_sim_board():
    sim = board_constants("sim")
    checked = 0
    for name, spec in WIRING.items():
        for key in ("spi", "i2c", "uart", "address"):
            if key in spec:
                assert sim[BOARD_CONSTANTS[(name, key)]] == spec[key], (name, key)
                checked += 1
        for role, pin in spec.get("pins", {}).items():
            const = BOARD_CONSTANTS[(name, role)]
            want = sim[const[0]][const[1]] if isinstance(const, tuple) else sim[const]
            assert want == pin, (name, role)
            pin_id(pin)          # a real STM32 pin name
            checked += 1
    assert checked >= 20


# what may differ: the board's name, and the TLS arena (mbedTLS takes the GC heap on the board,
# the C library's on the unix port: the sim reserves nothing for it)
PORT_SETTINGS = ("NAME", "TLS_ARENA")


def test_sim_board_is_the_nucleo_pin_map():
    sim, nucleo = board_constants("sim"), board_constants("nucleo_f429zi")
    assert set(sim) == set(nucleo)
    assert {k: v for k, v in sim.items() if k not in PORT_SETTINGS} == \
        {k: v for k, v in nucleo.items() if k not in PORT_SETTINGS}


def test_no_pin_is_used_twice():
    nucleo = board_constants("nucleo_f429zi")
    pins = []
    for k, v in nucleo.items():
        if isinstance(v, tuple):
            pins += list(v)
        elif isinstance(v, str) and v.startswith("P") and k not in ("NAME", "MCU"):
            pins.append(v)
    assert len(pins) == len(set(pins)), sorted(p for p in pins if pins.count(p) > 1)


def test_firmware_picks_sim_board_on_unix_port():
    assert run("from pos.board import BOARD\nprint(BOARD.NAME, BOARD.KEYPAD_ADDR)").strip() == "sim 52"
