"""Magnetic stripe: the reader model's frames, the firmware driver and the track parsing and
chip-first rules on real MicroPython / the virtual board; nothing of the track data in logs."""
import pytest

from host_sim import mpy
from host_sim.board import VirtualBoard
from host_sim.devices import msr as model

PAN = "4761739001010119"


def test_lrc_known_answers():
    # track 2 ";1234=?" : codes B 1 2 3 4 D F -> XOR computed by hand = 0xB^1^2^3^4^0xD^0xF
    x = 0xB ^ 1 ^ 2 ^ 3 ^ 4 ^ 0xD ^ 0xF
    assert model.lrc(";1234=?", 0x30) == chr(0x30 + x)
    # track 1 "%B1^A^?" : codes 5, 0x22, 0x11, 0x3E, 0x21, 0x3E, 0x1F
    y = 0x05 ^ 0x22 ^ 0x11 ^ 0x3E ^ 0x21 ^ 0x3E ^ 0x1F
    assert model.lrc("%B1^A^?", 0x20) == chr(0x20 + y)


PARSE = r"""
from pos.drivers import msr
from pos.payments import magstripe as M
f = bytes.fromhex(%r)
try:
    s = msr.parse_frame(f)
    print(s)
    c = M.read_card(s)
    print(c.pan[:6], c.expiry, c.service_code, c.name, c.chip, c.pin_required)
    print(M.evaluate(c, False, "2611"), M.evaluate(c, True, "2611"))
    r = M.auth_request(c, 1250, "840", M.evaluate(c, True, "2611"))
    print(r.entry_mode, r.track2 == c.track2)
except (msr.MsrError, M.MagstripeError) as e:
    print(type(e).__name__, e)
"""


def _frame(**faults):
    m = model.MagstripeReader()
    for f in faults:
        m.inject(f)
    m.connect_uart(lambda b: None)
    return m.swipe(card={"pan": PAN, "expiry": "2812", "service_code": "201", "name": "TEST/CARDHOLDER"})


def test_chip_card_swiped_needs_the_chip_unless_it_failed():
    out = mpy.run(PARSE % _frame().hex()).strip().split("\n")
    assert out[0] == "Swipe(tracks=[1, 2], errors={})"
    assert out[1] == "476173 2812 201 TEST/CARDHOLDER True False"
    assert out[2] == "insert_chip fallback"
    assert out[3] == "fallback True"


def test_magstripe_only_card_and_expired_card():
    m = model.MagstripeReader()
    m.connect_uart(lambda b: None)
    f = m.swipe(track2=model.track2(PAN, "2812", "101"))
    out = mpy.run(PARSE % f.hex()).strip().split("\n")
    assert out[2] == "swipe swipe"
    f = m.swipe(track2=model.track2(PAN, "2001", "101"))
    out = mpy.run(PARSE % f.hex()).strip().split("\n")
    assert out[-1] == "MagstripeError card expired"


@pytest.mark.parametrize("fault,expect", [
    ("bad_lrc", "Swipe(tracks=[1], errors={2: 'lrc'})"),
    ("unreadable", "Swipe(tracks=[1], errors={2: 'unreadable'})"),
])
def test_track_errors_fall_back_to_track_1(fault, expect):
    out = mpy.run(PARSE % _frame(**{fault: True}).hex()).strip().split("\n")
    assert out[0] == expect
    assert out[1].startswith("476173 2812 201")


def test_bad_frames_are_refused():
    f = bytearray(_frame())
    f[-1] ^= 0x55
    assert mpy.run(PARSE % bytes(f).hex()).strip() == "MsrError frame check (BCC) failed"
    m = model.MagstripeReader()
    m.connect_uart(lambda b: None)
    bad = m.swipe(track2=";4761739001010118=2812101?")     # Luhn fails
    assert mpy.run(PARSE % bad.hex()).strip().split("\n")[-1].startswith("MagstripeError card number fails")


def test_swipe_through_the_virtual_board():
    with VirtualBoard(pty=False, devices=["msr"], firmware=False) as vb:
        import os
        import shutil
        shutil.copytree(os.path.join(mpy.FIRMWARE_DIR, "pos"), os.path.join(vb.flash_dir, "pos"))
        shutil.copytree(os.path.join(mpy.FIRMWARE_DIR, "boards"), os.path.join(vb.flash_dir, "boards"))
        vb.exec("from pos.drivers import msr\nfrom pos.board import BOARD\nr = msr.from_board(BOARD)\n"
                "from pos import log")
        dev = vb.devices["msr"]
        dev.inject("noise")                     # garbage before the frame is skipped
        dev.swipe(card={"pan": PAN, "expiry": "2812", "service_code": "201"})
        # the swipe's bytes are on their way over the UART: poll until they are all in (a
        # loaded machine can take more than a second to pass them on), 60 s at most
        out = vb.exec("import time\nt0 = time.ticks_ms()\nwhile True:\n s = r.poll()\n"
                      " if s or time.ticks_diff(time.ticks_ms(), t0) > 60000: break\n time.sleep_ms(10)\n"
                      "print(s)\nlog.info('msr', 'swipe', swipe=repr(s))", timeout=90)
        assert out.split("\n")[0] == "Swipe(tracks=[1, 2], errors={})"
        assert PAN not in vb.console() and "2812201" not in vb.console()


def test_magstripe_fallback_demo(capsys):
    from smartpos.demos import magstripe

    class Args:
        save_display = None
    ok, outcome = magstripe.SCENARIOS["magstripe-fallback"](Args())
    out = capsys.readouterr().out
    assert ok, (outcome, out[-1500:])
    assert "CHIP CARD: INSERT CHIP" in out and "CHIP ERROR: SWIPE CARD" in out
    assert "MAGSTRIPE               FALLBACK" in out and PAN not in out
