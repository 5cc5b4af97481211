"""The acquirer host simulator on its own: bad requests do not take it down, faults API,
CLI plug-in discovery."""
import socket
import struct

import iso8583

from host_sim.hosts.acquirer import hsm
from host_sim.hosts.acquirer import spec as hspec
from host_sim.hosts.acquirer.faults import Faults


def _send(port, raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(struct.pack(">H", len(raw)) + raw)
    return s


def _recv(s):
    h = s.recv(2)
    n = struct.unpack(">H", h)[0]
    b = b""
    while len(b) < n:
        b += s.recv(n - len(b))
    return b


def test_garbage_and_unknown_mti_do_not_stop_the_host(alpha):
    s = _send(alpha.port, b"\xff" * 20)          # undecodable: no reply, connection stays usable
    raw, _ = iso8583.encode({"t": "0600", "11": "000001", "41": "TERM0009"}, hspec.get("iso87"))
    s.sendall(struct.pack(">H", len(raw)) + bytes(raw))
    doc, _ = iso8583.decode(bytearray(_recv(s)), hspec.get("iso87"))
    assert doc["t"] == "0610" and doc["39"] == "12"       # unknown message type: invalid transaction
    raw, _ = iso8583.encode({"t": "0800", "7": "1122113015", "11": "000002", "41": "TERM0009",
                             "70": "001", "128": "00" * 8}, hspec.get("iso87"))
    raw = bytes(raw[:-8]) + hsm.mac_x919(hsm.TEST_TMK["alpha"], bytes(raw[:-8]))   # sign-on MACed under the TMK
    s.sendall(struct.pack(">H", len(raw)) + raw)
    doc, _ = iso8583.decode(bytearray(_recv(s)), hspec.get("iso87"))
    assert doc["t"] == "0810" and doc["39"] == "00" and doc["48"].startswith("TPK")
    assert alpha.stats["errors"] == 1
    s.close()


def test_faults_api_counts_and_mti_filter():
    f = Faults()
    f.set("drop", count=2)
    assert f.take("0810") is None
    assert f.take("0210").kind == "drop" and f.take("0110").kind == "drop"
    assert f.take("0210") is None
    try:
        f.set("explode")
    except ValueError as e:
        assert "unknown fault" in str(e)
    else:
        raise AssertionError("bad fault accepted")


def test_smartpos_host_discovers_acquirer_cli():
    from smartpos.cli import build_parser
    args = build_parser().parse_args(["host", "acquirer", "--port", "0", "--fault", "drop"])
    assert args.port == 0 and args.fault == ["drop"] and callable(args.func)


def test_trace_hook_for_the_web_face_is_masked(tmp_path, alpha, beta):
    from hostlink.terminal import Terminal
    seen = []
    for h in (alpha, beta):
        h.on_message = lambda d, s, raw, ports: seen.append((d, s, raw))
    t = Terminal(tmp_path, {"alpha": alpha, "beta": beta})
    t.run('sale(100); sale(200, pan="5413330089010434")')
    fin = [x for x in seen if x[1].startswith(("0200", "0210"))]
    assert [x[0] for x in fin] == ["out", "in", "out", "in"]
    assert "PAN 476173******0119" in fin[0][1] and "rc 00" in fin[1][1]
    for _, s, raw in seen:
        assert "4761739001010119" not in s and b"4761739001010119" not in raw
        assert bytes.fromhex("5413330089010434") not in raw and "5413330089010434" not in raw.hex()
    assert any(b"476173******0119" in raw for _, _, raw in seen)
