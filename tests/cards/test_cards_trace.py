"""Recorded cards: `smartpos card record` takes a session from the card simulator through
vpcd + pcscd (or straight from the simulator where PC/SC is absent), and the trace replays
as a card: over vpcd, in the virtual board's contact slot, with the documented tolerance."""
import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from host_sim.cards import ProfileError, make_card
from host_sim.cards.trace import (FORMAT, TraceCard, TraceError, cryptogram_type, load_trace, masked,
                                  record_session, save_trace, split_apdu)

SMARTPOS = os.path.join(os.path.dirname(sys.executable), "smartpos")
PROFILE = "mastercard-cvn17"                    # CDA, signature CVM, T=0
PAN = "5413330089010442"
READER = "Virtual PCD 00 01"                    # vpcd's second reader: the PC/SC tests use the first
VPCD_PORT = 35964


def _pcsc_present():
    try:
        import smartcard  # noqa: F401
    except ImportError:
        return False
    return bool(shutil.which("pcscd") or os.path.exists("/usr/sbin/pcscd")) and \
        os.path.exists("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")


PCSC = _pcsc_present()
needs_pcsc = pytest.mark.skipif(not PCSC, reason="pcscd / vsmartcard-vpcd / pyscard not installed")


class VpcdCard:
    """`smartpos card vpcd --profile P` on vpcd's second reader, until stop()."""

    def __init__(self, profile):
        self.proc = subprocess.Popen([SMARTPOS, "card", "vpcd", "--profile", profile, "--port", str(VPCD_PORT)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        while "connected" not in line:
            if not line and self.proc.poll() is not None:
                pytest.fail("smartpos card vpcd exited: %s" % self.proc.stdout.read())
            line = self.proc.stdout.readline()
        self._wait_for_card()

    def _wait_for_card(self, timeout=20):
        from smartcard.System import readers
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            rs = [r for r in readers() if READER in str(r)]
            if rs:
                c = rs[0].createConnection()
                try:
                    c.connect()
                    c.disconnect()
                    return
                except Exception:            # pcscd sees the card a moment after vpcd does
                    pass
            time.sleep(0.2)
        pytest.fail("no card appeared in %s" % READER)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def record(out, *extra):
    return subprocess.run([SMARTPOS, "card", "record", "--reader", READER, "--out", out] + list(extra),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory):
    """A full (unmasked) trace of the simulator's PROFILE card for amount 25.00."""
    path = str(tmp_path_factory.mktemp("trace") / "mc.trace.json")
    if PCSC:
        card = VpcdCard(PROFILE)
        try:
            r = record(path, "--amount", "2500")
        finally:
            card.stop()
        assert r.returncode == 0, r.stderr
        assert "warning: %s holds the card's full PAN and track data" % path in r.stderr
        assert "14 exchanges recorded" in r.stderr
    else:                                       # no PC/SC here: straight from the simulator object
        save_trace(record_session(make_card(PROFILE), amount=2500), path)
    return path


def test_the_recorded_session(trace_file):
    assert stat.S_IMODE(os.stat(trace_file).st_mode) == 0o600     # full data: owner only
    trace = load_trace(trace_file)
    assert trace["format"] == FORMAT and not trace["masked"]
    assert trace["atr"] == make_card(PROFILE).atr.hex().upper()
    heads = [e["c"][:8] for e in trace["exchanges"]]
    assert heads == ["00A40400", "00B2010C", "00B2020C", "00A40400", "80A80000", "00B2010C", "00B20114",
                     "00B20214", "80CA9F17", "80CA9F36", "80CA9F13", "00840000", "80AE9000", "80AE0000"]
    # whole responses (T=0 GET RESPONSE folded in): the application's FCI, the records with the PAN
    assert bytes.fromhex(trace["exchanges"][3]["r"])[-2:] == b"\x90\x00"
    assert PAN in "".join(e["r"] for e in trace["exchanges"])
    first, second = (bytes.fromhex(trace["exchanges"][i]["r"]) for i in (12, 13))
    assert cryptogram_type(first) == 0x80 and cryptogram_type(second) == 0x00     # ARQC, then AAC


def test_replay_on_the_virtual_board(trace_file):
    """The trace in the board's contact slot: the terminal reads the recorded card (PAN, AID),
    asks for a TC at 10.00 and gets the recorded ARQC (a card may answer lower), checks the CDA
    signature, which covers the recorded unpredictable number, so it fails, and declines with
    the recorded AAC on the receipt."""
    from host_sim.rig import Rig
    card = make_card("trace:" + trace_file)
    aac = bytes.fromhex(load_trace(trace_file)["exchanges"][13]["r"])
    with Rig() as rig:
        text = rig.sale_by_card(1000, card)
        assert "DECLINED" in text and "card authentication (CDA)" in text, text
        assert rig.printer.wait_for_cuts(2, 30)
        receipt = rig.receipts()[0]
    assert "541333******0442" in receipt and "A0000000041010" in receipt and "USD 10.00" in receipt
    ac = [line.split()[-1] for line in receipt.split("\n") if line.startswith("AAC")]
    assert ac and bytes.fromhex(ac[0]) in aac                      # the recorded AAC
    assert card.unmatched == []
    assert {tag for ins, tag in card.tolerated} <= {0x9F37, 0x9F02, 0x9A, 0x95, 0x8A, 0x9F34, 0x9F21}
    assert (0xAE, 0x9F02) in card.tolerated and (0xAE, 0x9F37) in card.tolerated


@needs_pcsc
def test_replay_over_vpcd(trace_file, tmp_path):
    """`smartpos card vpcd --profile trace:FILE`: the replayed card recorded again at another
    amount answers every command as the card did."""
    again = str(tmp_path / "again.json")
    card = VpcdCard("trace:" + trace_file)
    try:
        r = record(again, "--amount", "777")
    finally:
        card.stop()
    assert r.returncode == 0, r.stderr
    a, b = load_trace(trace_file), load_trace(again)
    assert [e["r"] for e in a["exchanges"]] == [e["r"] for e in b["exchanges"]]
    assert [e["c"] for e in a["exchanges"]] != [e["c"] for e in b["exchanges"]]      # amount, UN differ


@needs_pcsc
def test_masked_recording_to_standard_output():
    card = VpcdCard(PROFILE)
    try:
        r = record("-", "--mask")
    finally:
        card.stop()
    assert r.returncode == 0, r.stderr
    trace = json.loads(r.stdout)
    text = "".join(e["r"] for e in trace["exchanges"])
    assert trace["masked"] and PAN not in text and "5413330000000442" in text
    assert "warning" not in r.stderr


def test_full_trace_never_on_standard_output():
    r = subprocess.run([SMARTPOS, "card", "record", "--out", "-"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "full PAN and track data goes only to a file" in r.stderr and r.stdout == ""


def test_masking_covers_pan_track2_and_name():
    trace = masked(record_session(make_card(PROFILE), amount=100))
    text = "".join(e["r"] for e in trace["exchanges"])
    assert PAN not in text
    assert "5413330000000442D2812201" in text                       # track 2: PAN masked, expiry, SC kept
    assert b"TEST/CARDHOLDER".hex().upper() not in text


def _simulated_trace(tmp_path, profile=PROFILE, **kw):
    path = str(tmp_path / "t.json")
    save_trace(record_session(make_card(profile), **kw), path)
    return make_card("trace:" + path), load_trace(path)


def test_tolerance_is_only_for_the_fields_a_terminal_varies(tmp_path):
    card, trace = _simulated_trace(tmp_path, amount=2500)
    gen_ac = bytes.fromhex(trace["exchanges"][12]["c"])
    for e in trace["exchanges"][:12]:
        card.transmit(bytes.fromhex(e["c"]))
    # CDOL1 of this card: 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 ...; new amount and UN: answered
    other = bytearray(gen_ac)
    other[5:11] = bytes.fromhex("000000009999")
    other[5 + 6 + 6 + 2 + 5 + 2 + 3 + 1:][:4] = b"\x01\x02\x03\x04"
    assert card.transmit(bytes(other)) == bytes.fromhex(trace["exchanges"][12]["r"])
    card.reset()
    for e in trace["exchanges"][:12]:
        card.transmit(bytes.fromhex(e["c"]))
    # another currency (5F2A) is not a tolerated field: no answer from the trace
    other = bytearray(gen_ac)
    cur = 5 + 6 + 6 + 2 + 5
    other[cur:cur + 2] = bytes.fromhex("0978")
    assert card.transmit(bytes(other)) == b"\x69\x85"
    assert card.unmatched == ["80AE9000"]


def test_replay_follows_the_selected_file(tmp_path):
    card, trace = _simulated_trace(tmp_path)
    ex = trace["exchanges"]
    assert card.transmit(bytes.fromhex(ex[0]["c"])) == bytes.fromhex(ex[0]["r"])   # SELECT PSE
    assert card.transmit(bytes.fromhex("00B2010C00")) == bytes.fromhex(ex[1]["r"])   # the directory
    assert card.transmit(bytes.fromhex(ex[3]["c"])) == bytes.fromhex(ex[3]["r"])   # SELECT the AID
    assert card.transmit(bytes.fromhex("00B2010C00")) == bytes.fromhex(ex[5]["r"])   # its SFI 1 record
    assert card.transmit(bytes.fromhex("00A4040007A000000003101000")) == b"\x6a\x82"  # never recorded
    assert card.transmit(bytes.fromhex("00B2050C00")) == b"\x6a\x83"
    assert card.transmit(bytes.fromhex("80CA9F4F00")) == b"\x6a\x88"


def test_generate_ac_answers_only_what_a_card_could(tmp_path):
    card, trace = _simulated_trace(tmp_path)
    ex = trace["exchanges"]
    for e in ex[:12]:
        card.transmit(bytes.fromhex(e["c"]))
    first = bytes.fromhex(ex[12]["c"])
    header, data = split_apdu(first)
    tc_request = bytes([0x80, 0xAE, 0x50, 0x00, len(data)]) + data + b"\x00"   # TC + CDA
    assert card.transmit(tc_request) == bytes.fromhex(ex[12]["r"])              # ARQC: lower, allowed
    card.reset()
    recorded_tc = {"format": FORMAT, "version": 1, "atr": trace["atr"], "exchanges": [
        {"c": "80AE40000100", "r": "800B" + "40" + "0001" + "1122334455667788" + "9000"}]}   # format 1: CID ATC AC
    tc_card = TraceCard(recorded_tc)
    assert tc_card.transmit(bytes.fromhex("80AE80000100")) == b"\x69\x85"          # no TC for an ARQC request
    assert tc_card.transmit(bytes.fromhex("80AE40000100"))[-2:] == b"\x90\x00"


def test_verify_is_recorded_without_the_pin(tmp_path):
    card, trace = _simulated_trace(tmp_path, "visa-cvn10", pin="1234")
    verify = [e for e in trace["exchanges"] if e["c"].startswith("0020")]
    assert verify == [{"c": "0020008008", "r": "9000"}]
    assert "241234FF" not in json.dumps(trace["exchanges"])          # the ISO 9564 format 2 PIN block


def test_bad_trace_files(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(TraceError, match="not valid JSON"):
        make_card("trace:%s" % p)
    p.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ProfileError, match="not a smartpos APDU trace"):
        make_card("trace:%s" % p)
    p.write_text(json.dumps({"format": FORMAT, "version": 1, "atr": "3B00", "exchanges": [{"c": "00", "r": "9000"}]}))
    with pytest.raises(TraceError, match="exchange 0 is too short"):
        make_card("trace:%s" % p)
    with pytest.raises(TraceError, match="cannot read the trace"):
        make_card("trace:%s" % (tmp_path / "missing.json"))
    r = subprocess.run([SMARTPOS, "card", "vpcd", "--profile", "trace:%s" % p, "--port", "1"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "exchange 0 is too short" in r.stderr
