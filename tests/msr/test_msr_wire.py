"""The exact bytes on UART5 for a swipe, built by hand from the documented frame, read by the
firmware on the virtual board and decoded by driver + parser there."""
import os
import shutil

from host_sim import mpy
from host_sim.board import VirtualBoard

PAN = "4761739001010119"
T1 = "%B" + PAN + "^TEST/CARDHOLDER^" + "2812" + "201" + "0000000000" + "?"
T2 = ";" + PAN + "=" + "2812" + "201" + "00000000000" + "?"


def _lrc(t, base, mask):
    x = 0
    for c in t:
        x ^= (ord(c) - base) & mask     # data bits only: ISO 7811 LRC
    return chr(base + x)


def _expected():
    body = ("10" + T1 + _lrc(T1, 0x20, 0x3F) + "20" + T2 + _lrc(T2, 0x30, 0x0F)).encode()
    bcc = 0
    for b in body:
        bcc ^= b
    return b"\x02" + body + bytes([0x03, bcc])


def test_wire_bytes_and_decode_on_the_board():
    with VirtualBoard(pty=False, devices=["msr"], firmware=False) as vb:
        for d in ("pos", "boards"):
            shutil.copytree(os.path.join(mpy.FIRMWARE_DIR, d), os.path.join(vb.flash_dir, d))
        vb.exec("from pos.drivers import msr\nfrom pos.board import BOARD\nr = msr.from_board(BOARD)\n"
                "from pos.payments import magstripe as M")
        frame = vb.devices["msr"].swipe(track1=T1, track2=T2)
        assert frame == _expected()
        # every byte of the frame, however long a loaded machine takes to pass them on (60 s at most)
        out = vb.exec("import time\nbuf = bytearray()\nt0 = time.ticks_ms()\n"
                      "while time.ticks_diff(time.ticks_ms(), t0) < 60000:\n"
                      " b = r.uart.read()\n if b: buf.extend(b)\n"
                      " if len(buf) >= %d: break\n time.sleep_ms(10)\n"
                      "print(bytes(buf).hex())\ns = msr.parse_frame(bytes(buf))\n"
                      "c = M.read_swipe(s, True, (2026, 11))\nprint(repr(c))\n"
                      "print(M.read_swipe(s, False, (2026, 11)))" % len(frame), timeout=90)
        lines = out.strip().split("\n")
        assert lines[0] == frame.hex()
        assert lines[1] == "MagstripeCard(476173******0119, fallback)"
        assert lines[2] == "InsertChip()"
        assert PAN not in "\n".join(lines[1:]) and PAN not in vb.console().replace(frame.hex(), "")
