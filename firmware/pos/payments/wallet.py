# QR wallet host client: JSON over HTTP/1.1 on a socket, each request signed with
# HMAC-SHA256 (the terminal's own key from the key store, never logged) over
# METHOD \n PATH \n TIMESTAMP \n REQUEST-ID \n BODY: the timestamp (Unix seconds) lets the
# wallet refuse stale requests and the request id (random, one per request) replays;
# idempotency keys on every money-moving request so a retry never charges twice.
import json
import os
import socket

import hashlib

from pos import crypto
from pos.payments.clock import unix_time


class WalletError(Exception):
    """No usable answer from the wallet host (the caller queries or cancels; nothing charged).
    The only exception request() raises, whatever the host sends back."""


# One receive buffer for every answer, made when the module loads (at boot, with the other
# payment services): a merchant QR polls the host every second, and a fresh buffer per answer
# (with the growing bytes it was joined into) scattered blocks over the heap all day.
# The wallet's answers are a status line, a few headers and a small JSON object.
ANSWER_MAX = 2048
_answer = bytearray(ANSWER_MAX)


def _hex(b):
    from binascii import hexlify
    return hexlify(b).decode()


def request_id():
    """A fresh id for one request (16 hex digits from the port's random source)."""
    return _hex(os.urandom(8))


class WalletClient:
    def __init__(self, host, port, terminal_id, key, timeout_s=5):
        self.host = host
        self.port = port
        self.tid = terminal_id
        self._key = key
        self.timeout = timeout_s

    def idempotency_key(self, reference, what):
        """Stable for retries of the same request (same terminal, reference and `what`: the
        code or the amount), different for another code or amount: a retry after a timeout
        can never charge twice, and a second code is a new payment."""
        return "%s-%s-%s" % (self.tid, reference, _hex(hashlib.sha256(str(what).encode()).digest()[:6]))

    def request(self, method, path, obj=None):
        """The answer's JSON object.  Raises WalletError only: whatever else raises on the
        way (a bug, MemoryError, the socket layer) may come after the host acted on the
        request, so it is an answer not understood (the one outcome rule: pay() asks again
        with the same idempotency key, then queries and reverses)."""
        try:
            return self._request(method, path, obj)
        except WalletError:
            raise
        except Exception as exc:
            raise WalletError("wallet host path failed: %s %s" % (type(exc).__name__, exc))

    def _request(self, method, path, obj):
        body = json.dumps(obj).encode() if obj is not None else b""
        ts = str(unix_time())
        rid = request_id()
        sig = _hex(crypto.hmac_sha256(self._key, b"\n".join((method.encode(), path.encode(), ts.encode(), rid.encode(),
                                                       body))))
        head = ("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                "X-Terminal: %s\r\nX-Timestamp: %s\r\nX-Request-Id: %s\r\nX-Signature: %s\r\n"
                "Connection: close\r\n\r\n" % (method, path, self.host, len(body), self.tid, ts, rid, sig)).encode()
        s = socket.socket()
        try:
            s.settimeout(self.timeout)
            s.connect(socket.getaddrinfo(self.host, self.port)[0][-1])
            s.send(head + body)
            n = _receive(s)
        except OSError as exc:
            raise WalletError("wallet host unreachable: %s" % exc)
        finally:
            s.close()
        resp = bytes(memoryview(_answer)[:n])   # the answer's own size, not the buffer's
        head, end, payload = resp.partition(b"\r\n\r\n")
        resp = None
        try:
            status = head.split(b" ", 2)[1]
            if not end or len(status) != 3:      # the host closed before its headers ended
                raise ValueError
            code = int(status)
            if len(payload) != _content_length(head, len(payload)):
                raise WalletError("wallet host answer cut short (%d bytes of its body)" % len(payload))
            data = json.loads(payload) if payload else {}
        except (ValueError, IndexError):
            raise WalletError("wallet host answer not understood")
        if not isinstance(data, dict):       # every answer of the wallet API is a JSON object
            raise WalletError("wallet host answer not understood")
        if code >= 500:
            raise WalletError("wallet host error %d" % code)
        if code >= 400:
            raise WalletError("wallet host refused (%d): %s" % (code, data.get("error", "")))
        return data

    # merchant-presented
    def create_order(self, amount, currency, reference, attempt=""):
        """`attempt`: this order's own tag (a reference may be offered again after a
        cancelled order: a new order, not the old one); asking again with the same
        attempt returns the same order."""
        return self.request("POST", "/v1/orders", {"amount": amount, "currency": currency, "reference": reference,
                                                  "idempotency_key": self.idempotency_key(
                                                      reference, "%s/%s" % (amount, attempt) if attempt else amount)})

    def order_status(self, order):
        return self.request("GET", "/v1/orders/" + order)

    def cancel_order(self, order):
        return self.request("POST", "/v1/orders/%s/cancel" % order, {})

    # customer-presented
    def pay(self, code, amount, currency, reference):
        """Charge a customer's wallet code.  No answer (timeout, 5xx): ask again with the same
        idempotency key (the wallet answers what it did the first time), then query; a payment
        still unresolved is reversed, so nothing stays charged that the terminal did not see."""
        key = self.idempotency_key(reference, code)
        body = {"code": code, "amount": amount, "currency": currency, "reference": reference,
                "idempotency_key": key}
        try:
            return self.request("POST", "/v1/pay", body)
        except WalletError:
            pass
        try:
            r = self.request("POST", "/v1/pay", body)        # safe to repeat: idempotent
            return r
        except WalletError:
            pass
        try:
            q = self.request("POST", "/v1/pay/query", {"idempotency_key": key})
        except WalletError:
            q = {"status": "unknown"}
        if q.get("status") in ("success", "failed"):
            return q
        try:
            self.request("POST", "/v1/pay/reverse", {"idempotency_key": key})
        except WalletError:
            pass
        raise WalletError("wallet payment unresolved: reversed, ask the customer to pay again")


def _content_length(head, default):
    """Content-Length of the answer's headers (RFC 9110 8.6), or `default` when absent."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return default


def _receive(s):
    """Read the whole answer (the host closes the connection) into the shared buffer: its
    length.  An answer that does not fit is refused, never truncated."""
    mv = memoryview(_answer)
    n = 0
    while True:
        if n == ANSWER_MAX:
            if s.readinto(bytearray(1)):
                raise WalletError("wallet host answer longer than %d bytes" % ANSWER_MAX)
            return n
        got = s.readinto(mv[n:])
        if not got:
            return n
        n += got


def from_config(path="config/wallet.json"):
    from pos.store.keystore import KeyStore
    with open(path) as f:
        c = json.load(f)
    ks = KeyStore("keys.kld", ".")
    return WalletClient(c.get("host", "127.0.0.1"), c.get("port", 8600), c.get("terminal_id", "TERM0001"),
                        ks.secret("wallet"))
