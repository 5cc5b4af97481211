"""What the wallet host refuses: another terminal's key, a stale or future timestamp, a
replayed request id, a missing request id, a Content-Length that is negative, not a number or
absurd; and the firmware's wallet client (real MicroPython) sends what passes."""
import json
import os
import socket
import time

import pytest

from host_sim import mpy
from host_sim.hosts.wallet import MAX_BODY, WalletHost, sign, terminal_key

KEY1 = terminal_key("TERM0001")


@pytest.fixture
def wallet():
    w = WalletHost(port=0).start()
    yield w
    w.stop()


def raw_request(w, head, body=b"", wait=10):
    """Send bytes as they are; (status, JSON body) of the answer."""
    s = socket.create_connection(("127.0.0.1", w.port), timeout=wait)
    try:
        s.sendall(head + body)
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
    finally:
        s.close()
    h, _, payload = data.partition(b"\r\n\r\n")
    return int(h.split(b" ", 2)[1]), json.loads(payload)


def signed(method, path, obj=None, key=KEY1, term="TERM0001", ts=None, rid=None, length=None):
    body = json.dumps(obj).encode() if obj is not None else b""
    ts = str(int(time.time())) if ts is None else str(ts)
    rid = os.urandom(8).hex() if rid is None else rid
    head = ("%s %s HTTP/1.1\r\nHost: wallet\r\nContent-Type: application/json\r\nContent-Length: %s\r\n"
            "X-Terminal: %s\r\nX-Timestamp: %s\r\nX-Request-Id: %s\r\nX-Signature: %s\r\nConnection: close\r\n\r\n"
            % (method, path, len(body) if length is None else length, term, ts, rid,
               sign(key, method, path, ts, rid, body))).encode()
    return head, body


def test_each_terminal_has_its_own_key(wallet):
    assert terminal_key("TERM0001") != terminal_key("TERM0002") and len(KEY1) == 16
    code, body = raw_request(wallet, *signed("POST", "/v1/orders", {"amount": 100}, key=KEY1, term="TERM0002"))
    assert code == 401 and body["error"] == "bad signature"
    code, body = raw_request(wallet, *signed("POST", "/v1/orders", {"amount": 100},
                                             key=terminal_key("TERM0002"), term="TERM0002"))
    assert code == 201 and body["terminal"] == "TERM0002"


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_timestamp_outside_the_window_is_refused(wallet, skew):
    ts = int(time.time()) + skew
    code, body = raw_request(wallet, *signed("POST", "/v1/pay", {"code": "WALLET-OK-1", "amount": 500}, ts=ts))
    assert code == 401 and "window 300 s" in body["error"]
    assert wallet.payments == {}


def test_timestamp_that_is_not_a_number_is_refused(wallet):
    code, body = raw_request(wallet, *signed("GET", "/v1/orders/W000001", ts="yesterday"))
    assert code == 401 and "Unix seconds" in body["error"]


def test_replayed_request_does_nothing(wallet):
    """A payment without an idempotency key, captured and sent again: charged once."""
    req = signed("POST", "/v1/pay", {"code": "WALLET-OK-2", "amount": 500})
    code, first = raw_request(wallet, *req)
    assert code == 200 and first["status"] == "success"
    code, again = raw_request(wallet, *req)
    assert code == 409 and "replayed" in again["error"]
    assert list(wallet.payments.values()) == [500]


def test_request_id_is_required(wallet):
    code, body = raw_request(wallet, *signed("POST", "/v1/orders", {"amount": 100}, rid=""))
    assert code == 401 and "X-Request-Id" in body["error"]
    assert wallet.orders == {}


@pytest.mark.parametrize("length,status", [("-1", 400), ("-99999", 400), ("abc", 400), ("1e3", 400),
                                           (str(MAX_BODY + 1), 413), ("99999999999999999999", 413)])
def test_content_length_refused(wallet, length, status):
    head, body = signed("POST", "/v1/pay", {"code": "WALLET-OK-3", "amount": 700}, length=length)
    code, answer = raw_request(wallet, head, body)
    assert code == status and "error" in answer
    assert wallet.payments == {} and wallet.requests == []


def test_firmware_client_sends_a_fresh_request_id_and_current_time(wallet):
    out = mpy.run("from pos.payments import wallet\n"
                  "c = wallet.WalletClient('127.0.0.1', %d, 'TERM0001', %r)\n"
                  "o = c.create_order(700, '840', 'INV1')\n"
                  "print(o['status'], c.order_status(o['order'])['status'])\n"
                  "print(c.pay('WALLET-OK-9', 300, '840', 'INV2')['status'])\n" % (wallet.port, KEY1), heap="192K")
    assert out.split() == ["pending", "pending", "success"]
    assert len(wallet.seen_ids) == 3 and all(t == "TERM0001" and len(r) == 16 for t, r in wallet.seen_ids)
    assert all(abs(ts - time.time()) < 60 for ts in wallet.seen_ids.values())


def test_firmware_client_refused_by_a_wallet_an_hour_ahead(wallet):
    w = WalletHost(port=0, clock=lambda: time.time() + 3600).start()
    try:
        out = mpy.run("from pos.payments import wallet\n"
                      "c = wallet.WalletClient('127.0.0.1', %d, 'TERM0001', %r)\n"
                      "try:\n c.create_order(700, '840', 'INV1')\nexcept wallet.WalletError as e:\n print(e)\n"
                      % (w.port, KEY1), heap="192K")
        assert "wallet host refused (401)" in out and "window 300 s" in out
        assert w.orders == {}
    finally:
        w.stop()


@pytest.mark.parametrize("body,error", [(b"[1, 2]", "not a JSON object"), (b"\xff\xfe", "not JSON"),
                                        (b'"WALLET-OK-4"', "not a JSON object")])
def test_body_that_is_not_a_json_object_is_refused(wallet, body, error):
    ts, rid = str(int(time.time())), os.urandom(8).hex()
    head = ("POST /v1/pay HTTP/1.1\r\nHost: wallet\r\nContent-Length: %d\r\nX-Terminal: TERM0001\r\n"
            "X-Timestamp: %s\r\nX-Request-Id: %s\r\nX-Signature: %s\r\nConnection: close\r\n\r\n"
            % (len(body), ts, rid, sign(KEY1, "POST", "/v1/pay", ts, rid, body))).encode()
    code, answer = raw_request(wallet, head, body)
    assert code == 400 and error in answer["error"] and wallet.payments == {}


@pytest.mark.parametrize("amount", [True, 0, -5, 10 ** 13, "500", 5.5])
def test_amount_that_is_not_positive_minor_units_is_refused(wallet, amount):
    code, answer = raw_request(wallet, *signed("POST", "/v1/pay", {"code": "WALLET-OK-5", "amount": amount}))
    assert code == 400 and "minor units" in answer["error"] and wallet.payments == {}


def test_a_body_that_stalls_times_out():
    w = WalletHost(port=0, read_timeout_s=0.5).start()
    try:
        head, body = signed("POST", "/v1/pay", {"code": "WALLET-OK-7", "amount": 700})
        code, answer = raw_request(w, head, body[:5])           # Content-Length says more
        assert code == 408 and "not received" in answer["error"] and w.payments == {}
    finally:
        w.stop()


def test_an_idle_connection_is_closed():
    w = WalletHost(port=0, read_timeout_s=0.5).start()
    try:
        s = socket.create_connection(("127.0.0.1", w.port), timeout=10)
        s.sendall(b"POST /v1/pay HTTP/1.1\r\n")                 # and no more
        t0 = time.monotonic()
        assert s.recv(100) == b"" and time.monotonic() - t0 < 5
        s.close()
    finally:
        w.stop()
