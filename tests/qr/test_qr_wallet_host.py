"""The wallet host simulator: signatures, idempotency, both flows; and the firmware's wallet
client (HMAC-SHA256 of its own) against it on real MicroPython."""
import json
import os
import time
import urllib.error
import urllib.request

import pytest

from host_sim import mpy
from host_sim.hosts.wallet import WalletHost, sign, terminal_key

TEST_KEY = terminal_key("TERM0001")


@pytest.fixture
def wallet():
    w = WalletHost(port=0).start()
    yield w
    w.stop()


def call(w, method, path, obj=None, key=TEST_KEY, term="TERM0001"):
    body = json.dumps(obj).encode() if obj is not None else b""
    ts, rid = str(int(time.time())), os.urandom(8).hex()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (w.port, path), data=body if method == "POST" else None,
                                 method=method, headers={"X-Terminal": term, "X-Timestamp": ts, "X-Request-Id": rid,
                                                         "X-Signature": sign(key, method, path, ts, rid, body)})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_bad_signature_is_refused(wallet):
    code, body = call(wallet, "POST", "/v1/orders", {"amount": 100}, key=b"x" * 16)
    assert code == 401 and body["error"] == "bad signature"
    assert wallet.orders == {}


def test_idempotency_key_charges_once(wallet):
    a = call(wallet, "POST", "/v1/pay", {"code": "WALLET-OK-1", "amount": 500, "idempotency_key": "k1"})
    b = call(wallet, "POST", "/v1/pay", {"code": "WALLET-OK-1", "amount": 500, "idempotency_key": "k1"})
    assert a == b and a[1]["status"] == "success" and len(wallet.payments) == 1
    assert call(wallet, "POST", "/v1/pay", {"code": "WALLET-NOFUNDS-2", "amount": 500})[1]["status"] == "failed"


def test_order_paid_cancelled_and_unknown(wallet):
    code, o = call(wallet, "POST", "/v1/orders", {"amount": 1250, "currency": "840", "reference": "1"})
    assert code == 201 and o["status"] == "pending"
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/sim/pay/%s" % (wallet.port, o["order"]),
                                                  data=b"", method="POST")).read()
    assert call(wallet, "GET", "/v1/orders/" + o["order"])[1]["status"] == "paid"
    code, o2 = call(wallet, "POST", "/v1/orders", {"amount": 100})
    assert call(wallet, "POST", "/v1/orders/%s/cancel" % o2["order"], {})[1]["status"] == "cancelled"
    assert call(wallet, "GET", "/v1/orders/W999999")[0] == 404
    assert call(wallet, "GET", "/v1/orders/" + o["order"], key=terminal_key("TERM0002"),
                term="TERM0002")[0] == 404                  # another terminal's


def test_firmware_client_signs_as_the_host_expects(wallet, tmp_path):
    out = mpy.run("from pos.payments import wallet\n"
                  "c = wallet.WalletClient('127.0.0.1', %d, 'TERM0001', %r)\n"
                  "o = c.create_order(700, '840', 'INV1')\n"
                  "print(o['status'], c.order_status(o['order'])['status'])\n"
                  "print(c.pay('WALLET-OK-9', 300, '840', 'INV2')['status'])\n"
                  "bad = wallet.WalletClient('127.0.0.1', %d, 'TERM0001', b'0' * 16)\n"
                  "try:\n bad.create_order(1, '840', 'X')\nexcept wallet.WalletError as e:\n print('WalletError', e)\n"
                  "down = wallet.WalletClient('127.0.0.1', 1, 'TERM0001', b'k')\n"
                  "try:\n down.order_status('W1')\nexcept wallet.WalletError as e:\n print('WalletError unreachable')\n"
                  % (wallet.port, TEST_KEY, wallet.port), heap="192K")
    lines = out.strip().split("\n")
    assert lines == ["pending pending", "success", "WalletError wallet host refused (401): bad signature",
                     "WalletError unreachable"]


def test_qr_customer_demo(capsys):
    from smartpos.demos import qr

    class Args:
        save_display = None
    ok, outcome = qr.SCENARIOS["qr-customer"](Args())
    assert ok, outcome
    assert outcome.startswith("APPROVED wallet code USD 8.75")


def test_scanner_driver_rejects_garbage_and_overflow():
    from host_sim.devices.scanner import Scanner2D
    got = []
    s = Scanner2D()
    s.connect_uart(got.append)
    s.inject("noise")
    s.scan("WALLET-OK-1")
    s.scan("x" * 1100)
    data = b"".join(got)
    out = mpy.run("from pos.drivers import scanner\n"
                  "class U:\n"
                  "    def __init__(self, d): self.d = d; self.i = 0\n"
                  "    def any(self): return len(self.d) - self.i\n"
                  "    def read(self, n):\n"
                  "        b = self.d[self.i:self.i + n]; self.i += n; return b\n"
                  "s = scanner.Scanner(U(bytes.fromhex(%r)))\n"
                  "for _ in range(4):\n"
                  "    try:\n"
                  "        print(repr(s.poll()))\n"
                  "    except scanner.ScannerError as e:\n"
                  "        print('ScannerError', e.reason)\n" % data.hex(), heap="192K")
    lines = out.strip().split("\n")
    assert lines[0] == "ScannerError garbage"          # the noise line
    assert lines[1] == "'WALLET-OK-1'"
    assert lines[2] == "ScannerError overflow"


def test_pay_retried_after_host_errors_charges_once(wallet):
    wallet.fail_next = 1                                # the first request answers 503
    out = mpy.run("from pos.payments import wallet\n"
                  "c = wallet.WalletClient('127.0.0.1', %d, 'TERM0001', %r)\n"
                  "print(c.pay('WALLET-OK-5', 400, '840', 'INV9')['status'])\n" % (wallet.port, TEST_KEY),
                  heap="192K")
    assert out.strip() == "success" and len(wallet.payments) == 1


def test_unresolved_payment_is_reversed(wallet):
    code, first = call(wallet, "POST", "/v1/pay", {"code": "WALLET-OK-6", "amount": 900, "idempotency_key": "k9"})
    assert first["status"] == "success" and len(wallet.payments) == 1
    assert call(wallet, "POST", "/v1/pay/query", {"idempotency_key": "k9"})[1]["status"] == "success"
    assert call(wallet, "POST", "/v1/pay/reverse", {"idempotency_key": "k9"})[1]["status"] == "reversed"
    assert wallet.payments == {}
    assert call(wallet, "POST", "/v1/pay/query", {"idempotency_key": "never"})[1]["status"] == "unknown"


def _one_answer_server(answer):
    """A TCP server that answers one request with `answer` (bytes) and closes."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        c, _ = srv.accept()
        c.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.sendall(answer)
        c.close()
        srv.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


@pytest.mark.parametrize("answer,expect", [
    # an answer that fits the client's one receive buffer, in pieces
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + json.dumps({"status": "paid", "pad": "x" * 1500}).encode(),
     "ok paid 1500"),
    # longer than the buffer: refused, never cut short and misread
    (b"HTTP/1.1 200 OK\r\n\r\n" + json.dumps({"status": "paid", "pad": "x" * 3000}).encode(),
     "WalletError wallet host answer longer than 2048 bytes"),
    # the host closes before the end of its headers, or in the middle of its body
    (b"HTTP/1.1 20", "WalletError wallet host answer not understood"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"status\": \"pa",
     "WalletError wallet host answer cut short (14 bytes of its body)"),
])
def test_firmware_client_reads_answers_into_its_one_buffer(answer, expect):
    port = _one_answer_server(answer)
    out = mpy.run("from pos.payments import wallet\n"
                  "c = wallet.WalletClient('127.0.0.1', %d, 'TERM0001', b'k' * 16)\n"
                  "try:\n"
                  "    d = c.order_status('W000001')\n"
                  "    print('ok', d['status'], len(d['pad']))\n"
                  "except wallet.WalletError as e:\n"
                  "    print('WalletError', e)\n" % port, heap="192K")
    assert out.strip() == expect
