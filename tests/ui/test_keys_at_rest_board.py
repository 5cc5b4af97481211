"""Keys at rest on the virtual board (frozen firmware, host_sim.rig): provisioning's TEST
key-loading file is sealed at boot under the board's own device key (OTP KEK + unique id,
through machine.mem8 and machine.unique_id()), the Ready screen says TEST KEYS, and an
altered key store is refused with a message instead of a crash."""
import os

import pytest

from host_sim.hosts.acquirer.hsm import TEST_DEK, TEST_TMK
from host_sim.rig import Rig


@pytest.fixture(scope="module")
def rig():
    with Rig() as r:
        yield r


def test_ready_says_test_keys_and_the_flash_holds_no_clear_key(rig):
    text = rig.wait_text("TEST KEYS", timeout=30)
    assert text.startswith("READY")
    flash = rig.flash_dir
    assert not os.path.exists(os.path.join(flash, "keys.kld"))
    blob = open(os.path.join(flash, "keystore.bin"), "rb").read()
    assert blob[:5] == b"SPKS\x01"
    for root, _, files in os.walk(flash):
        for name in files:
            data = open(os.path.join(root, name), "rb").read()
            for k in (TEST_TMK["alpha"], TEST_TMK["beta"], TEST_DEK):
                assert k not in data and k.hex().upper().encode() not in data.upper(), name


def test_a_card_sale_works_with_the_sealed_store(rig):
    text = rig.sale_by_card(1250, "visa-credit", pin="1234")
    assert "APPROVED" in text
    rig.keys(["ENTER"])
    rig.remove()
    rig.wait_text("TEST KEYS")


def test_an_altered_key_store_is_refused_on_the_ready_screen(rig):
    path = os.path.join(rig.flash_dir, "keystore.bin")
    good = open(path, "rb").read()
    bad = bytearray(good)
    bad[30] ^= 0x01
    with open(path, "wb") as f:
        f.write(bad)
    try:
        rig.board.hard_reset()
        rig.board.wait_for("smartpos ready", 60)
        text = rig.wait_text("KEY STORE REFUSED", timeout=30)
        assert "TEST KEYS" not in text
        rig.keys(list("500") + ["ENTER"])
        rig.wait_text("2 Card")
        rig.keys(["2"])
        rig.wait_text("TAP, INSERT OR SWIPE")
        rig.insert("visa-credit")
        text = rig.wait_text("re-inject", timeout=30)      # said, not a frozen INSERT CARD
        assert text.startswith("KEY STORE REFUSED") and "does not authenticate" in text.replace("\n", "")
        rig.keys(["CANCEL"])
        rig.remove()
    finally:
        with open(path, "wb") as f:
            f.write(good)


def test_key_status_alone_marks_test_keys_when_the_engine_waits(rig):
    """On the board the heap is too small to preload the engine at boot: the Ready screen
    still learns about TEST keys (last test of the module: it stops main.py)."""
    out = rig.board.exec("from pos.app import services, status\n"
                         "status.test_keys = False\n"
                         "services.key_status()\n"
                         "print('TEST', status.test_keys, status.keys_error)\n")
    assert "TEST True None" in out
