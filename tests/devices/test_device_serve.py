"""`smartpos device serve NAME --tcp PORT`: each model alone on a TCP port, driven by a client
that speaks the chip's protocol (frames built by hand from the datasheets, python-escpos)."""
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from host_sim.devices.msr import ETX, STX, lrc

SMARTPOS = os.path.join(os.path.dirname(sys.executable), "smartpos")
ACK = bytes.fromhex("0000FF00FF00")


class Served:
    """A `smartpos device serve` process; its stdout lines are collected as they come."""

    def __init__(self, *argv):
        self.proc = subprocess.Popen([SMARTPOS, "device", "serve"] + list(argv) + ["--tcp", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.wait_line(" model on 127.0.0.1:")
        self.port = int(first.split("127.0.0.1:")[1].split()[0])

    def _read(self):
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)               # end of output
            self.changed.notify_all()

    def wait_line(self, needle, timeout=30):
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines:
                    if line is None:
                        pytest.fail("smartpos device serve ended: %s" % "\n".join(self.lines[:-1]))
                    if needle in line:
                        return line
                left = end - time.monotonic()
                if left <= 0:
                    pytest.fail("no line with %r; output:\n%s" % (needle, "\n".join(self.lines)))
                self.changed.wait(left)

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture
def serve():
    started = []

    def start(*argv):
        s = Served(*argv)
        started.append(s)
        return s
    yield start
    for s in started:
        if s.proc.poll() is None:
            s.stop()


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed after %r" % buf)
        buf += chunk
    return buf


# -- PN532: information frames built by hand (UM0701 6.2.1.1) --------------------------------
def pn532_frame(data):
    body = b"\xd4" + data
    return bytes([0, 0, 0xFF, len(body), (-len(body)) & 0xFF]) + body + bytes([(-sum(body)) & 0xFF, 0])


def pn532_answer(sock):
    """The PN532's answer to one command: its ACK, then TFI+PD of the response frame."""
    assert recv_exact(sock, 6) == ACK
    head = recv_exact(sock, 5)
    assert head[:3] == b"\x00\x00\xff" and (head[3] + head[4]) & 0xFF == 0, head.hex()
    body = recv_exact(sock, head[3] + 2)
    assert (sum(body[:-1])) & 0xFF == 0 and body[-1] == 0, body.hex()
    assert body[0] == 0xD5
    return body[1:-2]


def test_pn532_card_in_the_field(serve):
    from host_sim.cards.contactless import make_card
    srv = serve("pn532", "--card", "visa-credit")
    with srv.connect() as s:
        # wake-up preamble, then GetFirmwareVersion: 00 00 FF 02 FE D4 02 2A 00 (UM0701 7.2.2)
        s.sendall(b"\x55\x55\x00\x00\x00" + bytes.fromhex("0000FF02FED4022A00"))
        assert pn532_answer(s) == bytes.fromhex("0332010607")      # IC PN532, v1.6, 14443A/B + 18092
        s.sendall(pn532_frame(b"\x14\x01\x14\x01"))                 # SAMConfiguration: normal mode
        assert pn532_answer(s) == b"\x15"
        s.sendall(pn532_frame(b"\x4a\x01\x00"))                     # InListPassiveTarget 106 kbps A
        card = make_card("visa-credit")
        r = pn532_answer(s)
        uid = card.uid
        assert r == b"\x4b\x01\x01" + card.atqa + bytes([card.sak, len(uid)]) + uid + \
            bytes([len(card.ats) + 1]) + card.ats
        ppse = b"2PAY.SYS.DDF01"
        s.sendall(pn532_frame(b"\x40\x01" + bytes([0x00, 0xA4, 0x04, 0x00, len(ppse)]) + ppse + b"\x00"))
        r = pn532_answer(s)
        assert r[:2] == b"\x41\x00" and r[-2:] == b"\x90\x00" and ppse in r
    srv.wait_line("pn532: event=apdu ins=164 sw=9000")


def test_pn532_empty_field_waits_as_the_chip(serve):
    srv = serve("pn532")
    with srv.connect() as s:
        s.sendall(b"\x55\x55\x00\x00\x00" + pn532_frame(b"\x14\x01\x14\x01"))
        assert pn532_answer(s) == b"\x15"
        s.sendall(pn532_frame(b"\x4a\x01\x00"))                     # MaxRetries FF (power-on): waits
        assert recv_exact(s, 6) == ACK
        s.settimeout(0.5)
        with pytest.raises(socket.timeout):
            s.recv(1)                                               # no answer while no card comes
        s.settimeout(10)
        s.sendall(ACK)                                              # abort it
        # RFConfiguration MaxRetries: ATR FF, PSL 01, passive activation 00 (one try)
        s.sendall(pn532_frame(b"\x32\x05\xff\x01\x00"))
        assert pn532_answer(s) == b"\x33"
        s.sendall(pn532_frame(b"\x4a\x01\x00"))
        assert pn532_answer(s) == b"\x4b\x00"                       # no target
    assert srv.stop() == 0


def test_pn532_ntag_in_the_field(serve):
    srv = serve("pn532", "--tag", "ntag215", "--ndef-text", "MEMBER 0042")
    with srv.connect() as s:
        s.sendall(b"\x55\x55\x00\x00\x00" + pn532_frame(b"\x14\x01\x14\x01"))
        pn532_answer(s)
        s.sendall(pn532_frame(b"\x4a\x01\x00"))
        assert pn532_answer(s)[:2] == b"\x4b\x01"
        s.sendall(pn532_frame(b"\x40\x01\x30\x03"))                 # NTAG READ page 3: CC + NDEF TLV
        r = pn532_answer(s)
        assert r[:2] == b"\x41\x00" and r[2:6] == bytes.fromhex("E1103E00")


def test_printer_with_python_escpos(serve, tmp_path):
    escpos = pytest.importorskip("escpos.printer")
    png = tmp_path / "roll.png"
    srv = serve("printer", "--png", str(png))
    p = escpos.Network("127.0.0.1", port=srv.port, timeout=10)
    p.set(align="center", bold=True)
    p.text("CORNER SHOP\n")
    p.set(align="left", bold=False)
    p.text("TOTAL        USD 12.50\n")
    p.cut()
    p.close()
    srv.wait_line("printer: cut 1")
    srv.wait_line("TOTAL        USD 12.50")
    centred = srv.wait_line("CORNER SHOP")
    assert centred.startswith(" " * 10)                       # 32 columns, centred
    end = time.monotonic() + 10
    while not (png.exists() and png.stat().st_size) and time.monotonic() < end:
        time.sleep(0.05)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scanner_sends_its_codes(serve):
    srv = serve("scanner", "--scan", "hello", "--scan", "000201")
    with srv.connect() as s:
        assert recv_exact(s, len(b"hello\r000201\r")) == b"hello\r000201\r"


def test_msr_swipes_for_each_client(serve):
    srv = serve("msr", "--swipe", "visa-credit")
    for _ in range(2):
        with srv.connect() as s:
            buf = b""
            while len(buf) < 3 or buf[-2] != ETX:
                buf += s.recv(512)
        assert buf[0] == STX
        bcc = 0
        for b in buf[1:-2]:
            bcc ^= b
        assert buf[-1] == bcc
        body = buf[1:-2].decode("ascii")
        assert body.startswith("10%B") and "?" in body and "20;" in body
        t2 = body[body.index("20;") + 2:]
        assert t2[-1] == lrc(t2[:-1], 0x30)                   # track 2 ends with its LRC


def test_contact_reader_t0_session(serve):
    from host_sim.cards import make_card
    srv = serve("contact", "--card", "visa-credit")
    atr = make_card("visa-credit").atr
    with srv.connect() as s:
        assert recv_exact(s, len(atr)) == atr                 # connecting is the cold reset
        pse = b"1PAY.SYS.DDF01"
        s.sendall(bytes([0x00, 0xA4, 0x04, 0x00, len(pse)]))   # T=0 header (case 4 sent as case 3)
        assert recv_exact(s, 1) == b"\xa4"                    # procedure byte: send the data
        s.sendall(pse)
        sw = recv_exact(s, 2)
        assert sw[0] == 0x61                                  # response data waiting
        s.sendall(bytes([0x00, 0xC0, 0x00, 0x00, sw[1]]))     # GET RESPONSE
        r = recv_exact(s, 1 + sw[1] + 2)
        assert r[0] == 0xC0 and pse in r and r[-2:] == b"\x90\x00"
    srv.wait_line("contact: event=apdu ins=164 sw=9000")
    with srv.connect() as s:                                  # a new client: a new cold reset
        assert recv_exact(s, len(atr)) == atr


def test_bad_input():
    r = subprocess.run([SMARTPOS, "device", "serve", "toaster", "--tcp", "0"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "no device model 'toaster' (known: contact, msr, pn532, printer, scanner)" in r.stderr
    r = subprocess.run([SMARTPOS, "device", "serve", "pn532", "--tcp", "0", "--scan", "x"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--scan does not apply to the pn532 model" in r.stderr
    r = subprocess.run([SMARTPOS, "device", "serve", "contact", "--tcp", "0", "--card", "no-such-card"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no card profile 'no-such-card'" in r.stderr
    r = subprocess.run([SMARTPOS, "device", "serve", "printer", "--tcp", "0", "--fault", "on_fire"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unknown fault 'on_fire'" in r.stderr


def test_port_in_use(serve):
    srv = serve("scanner")
    r = subprocess.run([SMARTPOS, "device", "serve", "pn532", "--tcp", str(srv.port)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "cannot listen on 127.0.0.1:%d" % srv.port in r.stderr


def test_connect_to_a_uart_server_socket():
    """--connect: the model dials a server that is the other end of the line, as a Renode
    UART server-socket terminal is, and dials again when that server drops the line."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
    port = srv.getsockname()[1]
    p = subprocess.Popen([SMARTPOS, "device", "serve", "pn532", "--connect", "127.0.0.1:%d" % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(2):
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(10)
                conn.sendall(b"\x55\x55\x00\x00\x00" + bytes.fromhex("0000FF02FED4022A00"))
                assert pn532_answer(conn) == bytes.fromhex("0332010607")
    finally:
        p.terminate()
        p.wait(10)
        srv.close()
    r = subprocess.run([SMARTPOS, "device", "serve", "pn532", "--connect", "nowhere"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "--connect wants HOST:PORT" in r.stderr


def test_device_list_names_each_model_and_its_faults():
    r = subprocess.run([SMARTPOS, "device", "list"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()}
    assert sorted(rows) == ["contact", "msr", "pn532", "printer", "scanner"]
    assert "faults: paper_out, paper_near_end, cover_open" in rows["printer"]
    assert "faults: corrupt, no_ack, leave" in rows["pn532"]


def test_contact_reader_with_a_recorded_card(serve, tmp_path):
    """A trace (smartpos card record) in the served slot answers as the recorded card."""
    from host_sim.cards import make_card
    from host_sim.cards.trace import record_session, save_trace
    path = str(tmp_path / "card.trace.json")
    trace = record_session(make_card("visa-credit"), amount=100)
    save_trace(trace, path)
    srv = serve("contact", "--card", "trace:" + path)
    atr = bytes.fromhex(trace["atr"])
    with srv.connect() as s:
        assert recv_exact(s, len(atr)) == atr
        pse = b"1PAY.SYS.DDF01"
        s.sendall(bytes([0x00, 0xA4, 0x04, 0x00, len(pse)]))
        assert recv_exact(s, 1) == b"\xa4"
        s.sendall(pse)
        sw = recv_exact(s, 2)
        s.sendall(bytes([0x00, 0xC0, 0x00, 0x00, sw[1]]))
        r = recv_exact(s, 1 + sw[1] + 2)
        assert r[1:] == bytes.fromhex(trace["exchanges"][0]["r"])      # the recorded FCI and SW
