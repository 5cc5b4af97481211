"""TCA8418 model: register semantics from the TI datasheet (SCPS215), CPython."""
import re

import pytest

from host_sim import mpy
from host_sim.devices.base import DeviceError
from host_sim.devices.tca8418 import KEYS, TCA8418

CFG, INT_STAT, KEY_LCK_EC, KEY_EVENT_A = 0x01, 0x02, 0x03, 0x04


class Pins:
    def __init__(self):
        self.level = {}

    def __call__(self, role, value):
        self.level[role] = value


def configured():
    k = TCA8418()
    pins = Pins()
    k.connect_pins(pins)
    k.i2c_write(bytes([0x1D, 0x1F]))           # KP_GPIO1: rows 0-4
    k.i2c_write(bytes([0x1E, 0x1F]))           # KP_GPIO2: cols 0-4
    k.i2c_write(bytes([CFG, 0x89]))            # AI | OVR_FLOW_IEN | KE_IEN
    return k, pins


def read(k, reg, n=1):
    assert k.i2c_write(bytes([reg]))
    return k.i2c_read(n)


def test_press_queues_event_and_asserts_int():
    k, pins = configured()
    k.tap("5")
    assert pins.level["int"] == 0
    assert read(k, KEY_LCK_EC)[0] & 0x0F == 2
    assert read(k, INT_STAT)[0] & 0x01
    assert read(k, KEY_EVENT_A)[0] == 0x80 | 22    # press, row 2 col 1 -> 2*10+1+1
    assert read(k, KEY_EVENT_A)[0] == 22           # release
    assert read(k, KEY_EVENT_A)[0] == 0            # FIFO empty
    assert pins.level["int"] == 0                  # K_INT still set until cleared
    k.i2c_write(bytes([INT_STAT, 0x01]))           # write 1 to clear
    assert pins.level["int"] == 1


def test_power_on_reset_releases_int_and_the_next_key_pulls_it_low_again():
    # a power cut while a key waits in the FIFO: INT is low when the power goes; after the
    # reset the chip's INT is released (pulled up), and the next key is a falling edge again
    k, pins = configured()
    k.tap("5")
    assert pins.level["int"] == 0
    k.power_on_reset()
    assert pins.level["int"] == 1
    k.i2c_write(bytes([0x1D, 0x1F]))
    k.i2c_write(bytes([0x1E, 0x1F]))
    k.i2c_write(bytes([CFG, 0x89]))
    k.tap("7")
    assert pins.level["int"] == 0


def test_clearing_with_events_pending_keeps_int():
    k, pins = configured()
    k.tap("1")
    k.i2c_write(bytes([INT_STAT, 0x01]))
    assert pins.level["int"] == 0


def test_fifo_overflow_sets_ovr_flow_int_and_drops_newest():
    k, pins = configured()
    for _ in range(6):
        k.tap("0")                                  # 12 events, FIFO holds 10
    assert read(k, KEY_LCK_EC)[0] & 0x0F == 10
    assert read(k, INT_STAT)[0] & 0x08


def test_unscanned_key_gives_no_event():
    k = TCA8418()
    k.i2c_write(bytes([CFG, 0x01]))                # keypad lines not configured
    k.tap("1")
    assert read(k, KEY_LCK_EC)[0] & 0x0F == 0


def test_unknown_key_is_an_error():
    with pytest.raises(DeviceError):
        TCA8418().tap("X")


def test_nak_fault():
    k, _ = configured()
    k.inject("nak")
    assert k.i2c_write(bytes([CFG])) is False


def test_firmware_keymap_matches_model():
    out = mpy.run("from pos.drivers.tca8418 import KEYMAP\nprint(sorted(KEYMAP.items()))")
    pairs = dict((int(n), name) for n, name in re.findall(r"\((\d+), '([^']+)'\)", out))
    assert pairs == {code: name for name, code in KEYS.items()}
