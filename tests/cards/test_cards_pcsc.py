"""The simulated card on PC/SC: `smartpos card vpcd` + pcscd + vsmartcard-vpcd, read with pyscard."""
import os
import shutil
import subprocess
import sys
import time

import pytest

smartcard = pytest.importorskip("smartcard")
pytestmark = pytest.mark.skipif(not (shutil.which("pcscd") or os.path.exists("/usr/sbin/pcscd"))
                                or not os.path.exists("/usr/lib/pcsc/drivers/serial/libifdvpcd.so"),
                                reason="pcscd / vsmartcard-vpcd not installed")
SMARTPOS = os.path.join(os.path.dirname(sys.executable), "smartpos")


from host_sim.cards.card import tlv_children as _tlv_children  # noqa: E402


@pytest.fixture
def vpcd_card():
    p = subprocess.Popen([SMARTPOS, "card", "vpcd", "--profile", "mastercard-credit"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    while line and "connected" not in line:
        if p.poll() is not None:
            pytest.fail("smartpos card vpcd exited: %s%s" % (line, p.stdout.read()))
        line = p.stdout.readline()
    yield p
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()


def _connect():
    from smartcard.System import readers
    end = time.monotonic() + 10
    last = None
    while time.monotonic() < end:
        rs = [r for r in readers() if "Virtual PCD 00 00" in str(r)]
        if rs:
            c = rs[0].createConnection()
            try:
                c.connect()
                return c
            except Exception as exc:       # the card shows up in the reader a moment later
                last = exc
        time.sleep(0.3)
    pytest.fail("no card in Virtual PCD 00 00: %s" % last)


def test_pyscard_reads_the_applications(vpcd_card):
    c = _connect()
    atr = bytes(c.getATR())
    assert atr == bytes.fromhex("3B6500FF") + b"SPOS1"
    pse = b"1PAY.SYS.DDF01"
    data, sw1, sw2 = c.transmit([0x00, 0xA4, 0x04, 0x00, len(pse)] + list(pse) + [0x00])
    if sw1 == 0x61:                                  # T=0 through pcscd: fetch the FCI
        data, sw1, sw2 = c.transmit([0x00, 0xC0, 0x00, 0x00, sw2])
    assert (sw1, sw2) == (0x90, 0x00)
    data, sw1, sw2 = c.transmit([0x00, 0xB2, 0x01, 0x0C, 0x00])
    if sw1 == 0x6C:
        data, sw1, sw2 = c.transmit([0x00, 0xB2, 0x01, 0x0C, sw2])
    assert (sw1, sw2) == (0x90, 0x00)
    (tag, record), = _tlv_children(bytes(data))
    assert tag == 0x70
    apps = []
    for t, entry in _tlv_children(record):
        assert t == 0x61
        d = dict(_tlv_children(entry))
        apps.append((d[0x4F].hex().upper(), d[0x50].decode()))
    assert apps == [("A0000000041010", "MASTERCARD"), ("A0000000043060", "MAESTRO")]
    # and a whole GET PROCESSING OPTIONS on the Mastercard application
    aid = bytes.fromhex("A0000000041010")
    data, sw1, sw2 = c.transmit([0x00, 0xA4, 0x04, 0x00, len(aid)] + list(aid) + [0x00])
    assert sw1 in (0x90, 0x61)
    data, sw1, sw2 = c.transmit([0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00])
    assert sw1 in (0x90, 0x61)
    c.disconnect()


def test_clear_error_without_vpcd():
    r = subprocess.run([SMARTPOS, "card", "vpcd", "--profile", "visa-credit", "--port", "1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "cannot reach vpcd on 127.0.0.1:1" in r.stderr


def test_unknown_profile():
    r = subprocess.run([SMARTPOS, "card", "vpcd", "--profile", "no-such-card"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "no card profile 'no-such-card'" in r.stderr


def test_pcsc_card_is_a_contact_card_for_the_reader_model(vpcd_card):
    """--contact-reader pcsc: a card reached through PC/SC (here the vpcd one) behaves as a
    card in the contact slot: ATR and APDUs pass through."""
    from host_sim.cards.pcsc_card import PcscCard
    import time as _t
    end = _t.monotonic() + 10
    while True:
        try:
            card = PcscCard("Virtual PCD 00 00")
            break
        except Exception:
            if _t.monotonic() > end:
                raise
            _t.sleep(0.3)
    assert card.atr == bytes.fromhex("3B6500FF") + b"SPOS1"
    r = card.transmit(bytes.fromhex("00A404000E315041592E5359532E444446303100"))
    assert r[-2:] in (b"\x90\x00",) or r[-2] == 0x61


def test_smartpos_card_read_lists_the_applications(vpcd_card):
    _connect().disconnect()                  # the card is there
    r = subprocess.run([SMARTPOS, "card", "read", "--reader", "Virtual PCD 00 00"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "application A0000000041010  MASTERCARD       priority 1" in r.stdout
    assert "application A0000000043060  MAESTRO          priority 2" in r.stdout
