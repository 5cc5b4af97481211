"""What the acquirer host simulator refuses, as a real acquirer does: a transaction is its
terminal, STAN, DE 7 and amount (a reused STAN is a duplicate, a reversal gives back exactly
the original), sign-on must be MACed under the terminal master key, slow or idle
connections and TLS handshakes cannot hold the host up, and no clear PAN or track 2 is kept.
Each test drives the host over its socket with pyiso8583 messages, as a terminal would."""
import socket
import ssl
import struct
import threading
import time

import iso8583
import pytest

from host_sim.hosts.acquirer import AcquirerHost, hsm
from host_sim.hosts.acquirer import spec as hspec
from host_sim.hosts.acquirer.server import mask_raw

PAN = "4761739001010119"
TID = "TERM0009"
DT = "1122113015"


def _frame(raw):
    return struct.pack(">H", len(raw)) + raw


def _recv(s):
    h = b""
    while len(h) < 2:
        c = s.recv(2 - len(h))
        if not c:
            raise EOFError("host closed the connection")
        h += c
    n = struct.unpack(">H", h)[0]
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("host closed the connection")
        b += c
    return b


class Client:
    """One terminal's connection, speaking the `iso87` profile."""

    def __init__(self, host, tid=TID, sock=None):
        self.spec = hspec.get(host.spec_name)
        self.s = sock or socket.create_connection(("127.0.0.1", host.port), timeout=10)
        self.tid = tid
        self.tak = None

    def send(self, doc, key=None):
        doc = dict(doc, **{"41": self.tid})
        if key is not None:                              # DE 128 when a secondary bitmap is there
            doc["128" if any(k.isdigit() and int(k) > 64 for k in doc) else "64"] = "00" * 8
        raw = bytes(iso8583.encode(doc, self.spec)[0])
        if key is not None:
            raw = raw[:-8] + hsm.mac_x919(key, raw[:-8])
        self.s.sendall(_frame(raw))
        body = _recv(self.s)
        return iso8583.decode(bytearray(body), self.spec)[0], body

    def sign_on(self, tmk=hsm.TEST_TMK["alpha"], stan="000001", dt=DT, mac=True):
        d, body = self.send({"t": "0800", "7": dt, "11": stan, "70": "001"}, tmk if mac else None)
        if d.get("39") == "00":
            assert hsm.mac_x919(tmk, body[:-8]) == body[-8:]     # the 0810 is MACed under the TMK
            k = d["48"]
            i = k.index("TAK")
            self.tak = hsm.unwrap(tmk, bytes.fromhex(k[i + 3:i + 35]))
        return d

    def sale(self, stan, amount, dt=DT, pan=PAN):
        return self.send({"t": "0200", "2": pan, "3": "000000", "4": "%012d" % amount, "7": dt,
                          "11": stan, "14": "2812", "22": "011", "25": "00", "49": "978"}, self.tak)[0]

    def reversal(self, stan, amount, orig_dt=DT, orig_mti="0200"):
        return self.send({"t": "0400", "2": PAN, "3": "000000", "4": "%012d" % amount, "7": DT, "11": stan,
                          "22": "011", "25": "00", "49": "978",
                          "90": "%s%s%s%022d" % (orig_mti, stan, orig_dt, 0)}, self.tak)[0]

    def close(self):
        self.s.close()


@pytest.fixture
def host():
    h = AcquirerHost(port=0, name="alpha", spec="iso87").start()
    yield h
    h.stop()


@pytest.fixture
def term(host):
    c = Client(host)
    assert c.sign_on()["39"] == "00"
    yield c
    c.close()


# ------------------------------------------------------------ transaction identity
def test_reused_stan_with_another_amount_is_declined_as_a_duplicate(host, term):
    before = host.db.balance(PAN)
    first = term.sale("000005", 1000)
    assert first["39"] == "00"
    again = term.sale("000005", 2000)                      # the same STAN, another amount
    assert again["39"] == "94" and "38" not in again
    assert host.db.balance(PAN) == before - 1000           # charged once, for the first
    rows = host.db.transactions(TID)
    assert [(r["stan"], r["amount"], r["rc"], r["duplicate"]) for r in rows] == \
        [("000005", 1000, "00", 0), ("000005", 2000, "94", 1)]   # appended, nothing replaced
    assert host.db.txn(TID, "000005")["amount"] == 1000


def test_reused_stan_at_another_time_is_a_duplicate_too(host, term):
    before = host.db.balance(PAN)
    assert term.sale("000006", 1000)["39"] == "00"
    assert term.sale("000006", 1000, dt="1122120000")["39"] == "94"
    assert host.db.balance(PAN) == before - 1000


def test_retransmission_gets_the_first_answer_and_no_second_charge(host, term):
    before = host.db.balance(PAN)
    a = term.sale("000007", 1500)
    b = term.sale("000007", 1500)
    assert a["39"] == b["39"] == "00" and a["38"] == b["38"] and a["37"] == b["37"]
    assert host.db.balance(PAN) == before - 1500
    assert len(host.db.transactions(TID)) == 1


def test_reversal_gives_back_exactly_the_original(host, term):
    """The issue's case: 10.00 charged, the STAN reused for 20.00, then the 10.00 reversed."""
    before = host.db.balance(PAN)
    assert term.sale("000008", 1000)["39"] == "00"
    assert term.sale("000008", 2000)["39"] == "94"
    assert term.reversal("000008", 1000)["39"] == "00"
    assert host.db.balance(PAN) == before                  # 10.00 back, not 20.00
    assert term.reversal("000008", 1000)["39"] == "00"      # a repeated reversal: nothing twice
    assert host.db.balance(PAN) == before
    assert host.db.txn(TID, "000008")["reversed"] == 1


def test_reversal_of_the_declined_duplicate_undoes_nothing(host, term):
    """The 94 reply to the reused STAN was lost, so the terminal reverses that request:
    the host took nothing for it and gives nothing back; the first sale stays charged."""
    before = host.db.balance(PAN)
    assert term.sale("000012", 1000)["39"] == "00"
    assert term.sale("000012", 2000)["39"] == "94"
    assert term.reversal("000012", 2000)["39"] == "25"
    assert host.db.balance(PAN) == before - 1000
    assert host.db.txn(TID, "000012")["reversed"] == 0


def test_reversal_for_another_amount_is_refused(host, term):
    before = host.db.balance(PAN)
    assert term.sale("000009", 1000)["39"] == "00"
    assert term.reversal("000009", 2000)["39"] == "64"     # original amount incorrect
    assert host.db.balance(PAN) == before - 1000
    assert host.db.txn(TID, "000009")["reversed"] == 0


def test_reversal_names_its_original_by_date_and_time(host, term):
    before = host.db.balance(PAN)
    assert term.sale("000010", 1000)["39"] == "00"
    assert term.reversal("000010", 1000, orig_dt="0101000000")["39"] == "25"   # no such original
    assert host.db.balance(PAN) == before - 1000


def test_stan_may_come_back_after_the_batch_closed(host, term):
    assert term.sale("000011", 1000)["39"] == "00"
    host.db.close_batch(TID, 1, "settled")
    assert term.sale("000011", 3000, dt="1123090000")["39"] == "00"      # a new batch: a new transaction
    assert [r["amount"] for r in host.db.transactions(TID)] == [1000, 3000]


@pytest.mark.parametrize("doc,what", [
    ({"t": "0200", "2": PAN, "3": "000000", "4": "00000000ab12", "11": "000060", "49": "978"}, "amount"),
    ({"t": "0200", "3": "000000", "4": "000000000100", "11": "000061", "35": PAN + "=2812201?", "49": "978"},
     "track 2"),
    ({"t": "0320", "2": PAN, "3": "000000", "4": "000000000100", "11": "000062", "60": "02"}, "DE 60"),
    ({"t": "0500", "3": "920000", "11": "000063", "60": "abc", "63": "000"}, "DE 60"),
])
def test_malformed_elements_are_a_format_error_and_change_nothing(host, term, doc, what):
    before = host.db.balance(PAN)
    d, _ = term.send(dict(doc, **{"7": DT}), term.tak)
    assert d["39"] == "30"                                  # format error, not a host malfunction
    assert host.db.transactions() == [] and host.db.balance(PAN) == before
    assert host.stats["errors"] == 0


# ------------------------------------------------------------ sign-on
def test_sign_on_without_a_mac_is_refused_and_keys_stay(host, term):
    keys = dict(host.terminal_keys[TID])
    other = Client(host)
    d = other.sign_on(mac=False, stan="000020")
    assert d["39"] == "63" and "48" not in d
    assert host.terminal_keys[TID] == keys                 # the real terminal's keys are untouched
    assert term.sale("000021", 100)["39"] == "00"           # and it goes on working
    other.close()


def test_sign_on_under_another_terminal_master_key_is_refused(host):
    c = Client(host)
    assert c.sign_on(tmk=hsm.TEST_TMK["beta"])["39"] == "63"
    assert TID not in host.terminal_keys
    c.close()


def test_replayed_sign_on_is_refused(host):
    c = Client(host)
    assert c.sign_on(stan="000030")["39"] == "00"
    keys = dict(host.terminal_keys[TID])
    assert c.sign_on(stan="000030")["39"] == "94"          # the same DE 11 and DE 7 again
    assert host.terminal_keys[TID] == keys
    assert c.sign_on(stan="000031")["39"] == "00"          # a new sign-on is fine
    c.close()


def test_unknown_terminal_cannot_sign_on():
    tmk9 = hsm.new_key()
    h = AcquirerHost(port=0, name="alpha", terminals={"TERM0001": hsm.TEST_TMK["alpha"], TID: tmk9}).start()
    try:
        c = Client(h, tid="TERM0042")
        assert c.sign_on()["39"] == "63"
        c.close()
        c = Client(h)
        assert c.sign_on(tmk=hsm.TEST_TMK["alpha"])["39"] == "63"    # TERM0009 has its own TMK
        assert c.sign_on(tmk=tmk9, stan="000002")["39"] == "00"
        c.close()
    finally:
        h.stop()


# ------------------------------------------------------------ connections
def _closed_within(s, seconds):
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_a_message_that_stops_half_way_times_out():
    h = AcquirerHost(port=0, read_timeout_s=0.5).start()
    try:
        s = socket.create_connection(("127.0.0.1", h.port), timeout=5)
        s.sendall(b"\x00\x40" + b"\x02\x00")            # 64 bytes announced, 2 sent
        assert _closed_within(s, 10)
        s.close()
    finally:
        h.stop()


def test_an_idle_connection_is_closed():
    h = AcquirerHost(port=0, idle_timeout_s=0.5).start()
    try:
        s = socket.create_connection(("127.0.0.1", h.port), timeout=5)
        assert _closed_within(s, 10)
        s.close()
    finally:
        h.stop()


def test_an_idle_tls_client_does_not_stop_service_to_others():
    h = AcquirerHost(port=0, tls=True).start()
    idle = []
    try:
        for _ in range(3):                               # connected, never says hello
            idle.append(socket.create_connection(("127.0.0.1", h.port), timeout=5))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        result = {}

        def other_terminal():
            try:
                raw = socket.create_connection(("127.0.0.1", h.port), timeout=5)
                c = Client(h, sock=ctx.wrap_socket(raw, server_hostname="localhost"))
                result["rc"] = c.sign_on()["39"]
                c.close()
            except Exception as e:                       # reported below
                result["error"] = repr(e)

        t = threading.Thread(target=other_terminal, daemon=True)
        t.start()
        t.join(15)
        assert result == {"rc": "00"}
    finally:
        for s in idle:
            s.close()
        h.stop()


def test_connections_past_the_limit_are_closed_at_once():
    h = AcquirerHost(port=0, max_connections=2).start()
    held = []
    try:
        held = [socket.create_connection(("127.0.0.1", h.port), timeout=5) for _ in range(2)]
        extra = socket.create_connection(("127.0.0.1", h.port), timeout=5)
        assert _closed_within(extra, 10)
        extra.close()
        held.pop().close()
        deadline = time.monotonic() + 10
        while h.open_connections() >= 2 and time.monotonic() < deadline:   # the host notices the close
            time.sleep(0.02)
        c = Client(h)
        assert c.sign_on()["39"] == "00"
        c.close()
    finally:
        for s in held:
            s.close()
        h.stop()


def test_a_tls_handshake_that_never_finishes_times_out():
    h = AcquirerHost(port=0, tls=True, handshake_timeout_s=0.5).start()
    try:
        s = socket.create_connection(("127.0.0.1", h.port), timeout=5)
        s.sendall(b"\x16\x03\x01")                      # the start of a ClientHello, then nothing
        assert _closed_within(s, 10)
        s.close()
    finally:
        h.stop()


# ------------------------------------------------------------ data at rest and in traces
def test_host_database_keeps_no_clear_pan(tmp_path):
    db = str(tmp_path / "host.db")
    h = AcquirerHost(port=0, db=db).start()
    try:
        c = Client(h)
        assert c.sign_on()["39"] == "00"
        assert c.sale("000040", 1234)["39"] == "00"
        c.close()
        row = h.db.txn(TID, "000040")
        assert row["pan_mask"] == "476173******0119" and row["pan_hash"] == hsm.pan_token(PAN)
        assert "pan" not in row
    finally:
        h.stop()
    dump = "\n".join(h.db.db.iterdump())
    assert PAN not in dump and "476173******0119" in dump
    with open(db, "rb") as f:
        data = f.read()
    assert PAN.encode() not in data


def test_old_database_with_clear_pans_is_refused_clearly(tmp_path):
    import sqlite3
    from host_sim.hosts.acquirer.issuer import IssuerDB, IssuerDBError
    path = str(tmp_path / "old.db")
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE transactions (tid TEXT, stan TEXT, pan TEXT)")
    con.commit()
    con.close()
    with pytest.raises(IssuerDBError, match="earlier simulator version"):
        IssuerDB(path)


@pytest.mark.parametrize("spec", ["iso87", "iso87bcd"])
def test_trace_bytes_mask_all_of_track_2_after_the_last_four(spec):
    t2 = PAN + "=28122011234567890"
    doc = {"t": "0200", "3": "000000", "4": "000000001000", "11": "000001", "35": t2, "41": TID}
    raw = bytes(iso8583.encode(hspec.to_host(spec, {int(k): v for k, v in doc.items() if k != "t"})
                               | {"t": "0200"}, hspec.get(spec))[0])
    out = mask_raw(raw, PAN, t2)
    assert len(out) == len(raw)
    assert b"2812201" not in out and "2812201" not in out.hex()
    assert b"1234567890" not in out and "1234567890" not in out.hex()
    if spec == "iso87":
        assert b"476173******0119*****************" in out
    else:
        assert "476173ffffff0119" + "f" * 18 in out.hex()


def test_host_trace_hook_gets_track_2_masked(host, term):
    seen = []
    host.on_message = lambda d, s, raw, ports: seen.append(raw)
    t2 = PAN + "=28122015555555555"
    term.send({"t": "0200", "3": "000000", "4": "%012d" % 100, "7": DT, "11": "000050", "22": "901",
               "25": "00", "35": t2, "49": "978"}, term.tak)
    assert seen and all(b"5555555555" not in r and b"28122015" not in r for r in seen)
    assert any(b"476173******0119" in r for r in seen)


# ------------------------------------------------------------ the firmware's sign-on (MicroPython)
SALE = """
req, r = sale(100)
out(resp_dict(r))
out([l for l in _LOG])
"""


def test_firmware_sign_on_is_maced_under_its_terminal_master_key(tmp_path, host):
    from hostlink.terminal import Terminal
    seen = []
    host.trace = lambda d, mti, doc: seen.append((d, mti, dict(doc)))
    r, logs = Terminal(tmp_path, {"alpha": host}).run(SALE)
    assert r["approved"] and r["rc"] == "00"
    sign_on = [doc for d, mti, doc in seen if d == ">" and mti == "0800"]
    assert sign_on and sign_on[0]["70"] == "001" and len(sign_on[0]["128"]) == 16
    assert [doc[39] for d, mti, doc in seen if d == "<" and mti == "0810"] == ["00"]   # reply fields by number


def test_firmware_with_another_terminal_master_key_is_refused_sign_on(tmp_path):
    from hostlink.terminal import Terminal
    h = AcquirerHost(port=0, name="alpha", terminals={"TERM0001": hsm.new_key()}).start()
    try:
        r, logs = Terminal(tmp_path, {"alpha": h}).run(SALE)
        assert not r["approved"] and r["unable"] and r["text"] == "Host unavailable"
        assert any("sign-on to alpha refused: 63" in line for line in logs)
        assert "TERM0001" not in h.terminal_keys
        assert h.db.transactions() == []                   # nothing reached the issuer
    finally:
        h.stop()


def test_terminal_reconnects_after_the_host_closed_an_idle_connection(tmp_path):
    """The host drops connections idle for `idle_timeout_s`; the terminal's next sale opens a
    new one instead of sending into the closed one (which would end in a reversal)."""
    from hostlink.terminal import Terminal
    h = AcquirerHost(port=0, name="alpha", idle_timeout_s=0.5).start()
    try:
        before = h.db.balance(PAN)
        a, b, st = Terminal(tmp_path, {"alpha": h}).run("""
import time
req, r1 = sale(100)
time.sleep_ms(1500)                  # idle: the host closes the connection
req, r2 = sale(200)
out(resp_dict(r1)); out(resp_dict(r2)); out(state())
""")
        assert a["approved"] and b["approved"], (a, b)
        assert st["pending"] == [] and h.db.balance(PAN) == before - 300
    finally:
        h.stop()


def test_async_link_reconnects_after_the_host_closed_an_idle_connection(tmp_path):
    from hostlink.terminal import Terminal
    h = AcquirerHost(port=0, name="alpha", idle_timeout_s=0.5).start()
    try:
        before = h.db.balance(PAN)
        res, st = Terminal(tmp_path, {"alpha": h}, drop_missing=True).run("""
import asyncio
from pos.payments.aio import AsyncAuthorizer
aa = AsyncAuthorizer(eng)
async def main():
    res = []
    for amt in (100, 200):
        req = AuthRequest("sale", amt, "978", "4761739001010119", "2812", entry_mode="manual")
        r = await aa.authorize(req)
        res.append(resp_dict(r))
        await asyncio.sleep_ms(1500)     # idle: the host closes the connection
    return res
out(asyncio.run(main())); out(state())
""")
        assert [r["approved"] for r in res] == [True, True], res
        assert st["pending"] == [] and h.db.balance(PAN) == before - 300
    finally:
        h.stop()


def test_cli_refuses_an_old_database_with_a_message(tmp_path, capsys):
    import sqlite3
    from smartpos.cli import build_parser
    path = str(tmp_path / "old.db")
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE accounts (pan TEXT PRIMARY KEY, balance INTEGER)")
    con.commit()
    con.close()
    args = build_parser().parse_args(["host", "acquirer", "--port", "0", "--db", path])
    assert args.func(args) == 2
    assert "earlier simulator version" in capsys.readouterr().err


def test_pcap_export_of_swiped_sales_carries_no_track_2_remainder(tmp_path):
    """Swiped sales from the firmware to both profiles (ASCII and packed BCD track 2), recorded
    by the web face as the `smartpos sim` wiring does, exported as pcap."""
    from host_sim.web.terminal import Terminal as Face
    from hostlink.terminal import Terminal
    face = Face(None)
    alpha = AcquirerHost(port=0, name="alpha", spec="iso87").start()
    beta = AcquirerHost(port=0, name="beta", spec="iso87bcd").start()
    try:
        for h in (alpha, beta):
            h.on_message = face.record_host_message
        a, b = Terminal(tmp_path, {"alpha": alpha, "beta": beta}).run("""
req, r = sale(100, track2="4761739001010119=28122011234567890", entry="swipe")
out(resp_dict(r))
req, r = sale(200, pan="5413330089010434", track2="5413330089010434=28122015555555555", entry="swipe")
out(resp_dict(r))
""")
        assert a["approved"] and b["approved"] and a["acq"] == "alpha" and b["acq"] == "beta"
        pcap = face.pcap()
        for secret in ("28122011234567890", "1234567890", "28122015555555555", "5555555555"):
            assert secret.encode() not in pcap and secret not in pcap.hex()
        for pan in ("4761739001010119", "5413330089010434"):
            assert pan.encode() not in pcap and pan not in pcap.hex()
        assert b"476173******0119*****************" in pcap                 # iso87: ASCII
        assert "541333ffffff0434" + "f" * 18 in pcap.hex()                  # iso87bcd: packed
    finally:
        alpha.stop()
        beta.stop()


def test_cli_takes_the_timeouts():
    from smartpos.cli import build_parser
    args = build_parser().parse_args(["host", "acquirer", "--port", "0", "--read-timeout", "2",
                                      "--idle-timeout", "30"])
    assert args.read_timeout == 2.0 and args.idle_timeout == 30.0


# ------------------------------------------------------------ batch upload and advices
def _upload(term, stan, amount, orig_stan, orig_mti="0200", pcode="000000"):
    return term.send({"t": "0320", "2": PAN, "3": pcode, "4": "%012d" % amount, "7": DT, "11": stan,
                      "14": "2812", "37": "%012d" % 0, "38": "Y1    ", "39": "00", "49": "978",
                      "60": orig_mti + orig_stan, "62": "000042"}, term.tak)[0]


def test_batch_upload_of_a_transaction_the_host_never_saw_charges_it(host, term):
    before = host.db.balance(PAN)
    assert _upload(term, "000031", 1250, "000030")["39"] == "00"
    assert host.db.balance(PAN) == before - 1250           # the cardholder pays what the terminal took
    assert host.db.open_totals(TID) == (1, 1250, 0, 0)
    # a transaction the host already had is not charged a second time by its upload
    assert term.sale("000032", 700)["39"] == "00"
    assert _upload(term, "000033", 700, "000032")["39"] == "00"
    assert host.db.balance(PAN) == before - 1250 - 700
    assert host.db.open_totals(TID) == (2, 1950, 0, 0)


def test_authorization_advice_holds_and_moves_no_money(host, term):
    before = host.db.balance(PAN)
    d = term.send({"t": "0120", "2": PAN, "3": "000000", "4": "%012d" % 3260, "7": DT, "11": "000040",
                   "14": "2812", "22": "051", "38": "Y1    ", "39": "Y1", "49": "978"}, term.tak)[0]
    assert d["t"] == "0130" and d["39"] == "00"
    assert host.db.balance(PAN) == before                   # a pre-authorization approved offline
    assert host.db.open_totals(TID) == (0, 0, 0, 0)         # is not a sale in the batch
