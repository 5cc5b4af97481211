"""QR wallet host simulator (JSON over HTTP, requests signed with HMAC-SHA256).

    from host_sim.hosts.wallet import WalletHost
    w = WalletHost(port=0).start()

Customer-presented payments can be looked up and reversed by their idempotency key:
POST /v1/pay/query and POST /v1/pay/reverse {idempotency_key} (status unknown = never
arrived, nothing charged).

Merchant-presented: POST /v1/orders {amount, currency, reference, idempotency_key} ->
{order, status}; GET /v1/orders/<order> -> {status: pending|paid|expired|cancelled};
POST /v1/orders/<order>/cancel.  The customer's app pays with POST /sim/pay/<order>
(unsigned: the phone, not the terminal).  Customer-presented: POST /v1/pay {code, amount,
currency, reference, idempotency_key} -> {status: success|failed, txn}.

Every terminal request carries X-Terminal, X-Timestamp (Unix seconds), X-Request-Id (unique
per request) and X-Signature = hex HMAC-SHA256 over
METHOD "\n" PATH "\n" TIMESTAMP "\n" REQUEST-ID "\n" BODY with that terminal's own key
(terminal_key(): each terminal's TEST key is diversified from the wallet's TEST master key,
so one terminal's key signs for no other).  Refused: a bad or missing signature or request id
(401), a timestamp outside +-`window_s` of the wallet's clock (401), a request id already
seen from that terminal (409: a replayed request does nothing), a Content-Length that is not
a non-negative number (400) or larger than MAX_BODY (413), a request that stalls for
`read_timeout_s` (408, or the connection closed while the request line and headers are read).  A repeated idempotency key
returns the first answer (nothing is charged twice).
Malformed requests are answered, never dropped: 400 also for a body that is not a JSON
object, an idempotency_key that is not a string or an amount that is not a positive integer.
"""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEST_MASTER_KEY = bytes.fromhex("5741_4c4c_4554_2d54_4553_542d_4b45_5921".replace("_", ""))   # TEST: "WALLET-TEST-KEY!"
TEST_TERMINALS = ("TERM0001", "TERM0002")
MAX_BODY = 8192
WINDOW_S = 300


def terminal_key(terminal_id, master=TEST_MASTER_KEY):
    """The terminal's own 16-byte HMAC key: HMAC-SHA256(master, "wallet-terminal:" + id),
    first 16 bytes (the key-loading tool puts it in the terminal's key store)."""
    return hmac.new(master, b"wallet-terminal:" + terminal_id.encode(), hashlib.sha256).digest()[:16]


def sign(key, method, path, timestamp, request_id, body):
    return hmac.new(key, b"\n".join([method.encode(), path.encode(), str(timestamp).encode(),
                                      str(request_id).encode(), body]), hashlib.sha256).hexdigest()


class WalletHost:
    def __init__(self, port=0, keys=None, order_ttl_s=120.0, confirm_delay_s=0.0, window_s=WINDOW_S,
                 clock=time.time, read_timeout_s=10.0):
        self.keys = keys or {t: terminal_key(t) for t in TEST_TERMINALS}
        self.window = window_s
        self.read_timeout = read_timeout_s
        self.clock = clock
        self.seen_ids = {}          # (terminal, request id) -> timestamp, kept for the window
        self.orders = {}
        self.payments = {}          # txn -> amount, while charged (a reversal takes it out)
        self.txns = 0               # wallet transactions numbered once, never reused
        self.idem = {}
        self.ttl = order_ttl_s
        self.confirm_delay = confirm_delay_s
        self.fail_next = 0          # injectable: answer 503 to the next N terminal requests
        self.lock = threading.Lock()
        self.requests = []
        self._port = port
        self.srv = None

    @property
    def port(self):
        return self.srv.server_address[1]

    def start(self):
        host = self

        class Handler(BaseHTTPRequestHandler):
            timeout = self.read_timeout             # a request line, headers or body that stalls

            def log_message(self, *a):
                pass

            def _reply(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                """(status, error) for a Content-Length refused, else (None, body)."""
                text = self.headers.get("Content-Length")
                text = "0" if text is None else text.strip()
                if not (text.isdigit() and text.isascii()):                 # "-1", "1e3", "0x10": not a length (RFC 9110 8.6)
                    return 400, "Content-Length %r is not a non-negative number" % text[:20]
                n = int(text)
                if n > MAX_BODY:
                    return 413, "request too large (%d bytes, at most %d)" % (n, MAX_BODY)
                try:
                    body = self.rfile.read(n) if n else b""
                except TimeoutError:                   # socket.timeout: the body stalled
                    return 408, "request body not received within %g s" % host.read_timeout
                if len(body) < n:
                    return 400, "request body shorter than its Content-Length"
                return None, body

            def _refuse(self, code, error):
                self.close_connection = True           # the rest of the request is not read
                return self._reply(code, {"error": error})

            def _handle(self, method):
                code, body = self._body()
                if code is not None:
                    return self._refuse(code, body)
                path = self.path
                if path.startswith("/sim/pay/"):
                    return self._reply(*host.customer_pays(path[len("/sim/pay/"):]))
                term = self.headers.get("X-Terminal", "")
                key = host.keys.get(term)
                ts = self.headers.get("X-Timestamp", "")
                rid = self.headers.get("X-Request-Id", "")
                sig = self.headers.get("X-Signature", "")
                if key is None or not hmac.compare_digest(sign(key, method, path, ts, rid, body), sig):
                    return self._reply(401, {"error": "bad signature"})
                refused = host.admit(term, ts, rid)
                if refused is not None:
                    return self._reply(*refused)
                with host.lock:
                    host.requests.append((method, path))
                    if host.fail_next > 0:
                        host.fail_next -= 1
                        return self._reply(503, {"error": "wallet host busy"})
                try:
                    data = json.loads(body) if body else {}
                except ValueError:                     # also bytes that are not UTF-8
                    return self._reply(400, {"error": "body is not JSON"})
                if not isinstance(data, dict):
                    return self._reply(400, {"error": "body is not a JSON object"})
                if not isinstance(data.get("idempotency_key", ""), str):
                    return self._reply(400, {"error": "idempotency_key is not a string"})
                self._reply(*host.route(method, path, term, data))

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.srv = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True, name="wallet-host").start()
        return self

    def stop(self):
        if self.srv:
            self.srv.shutdown()
            self.srv.server_close()

    def admit(self, term, ts, rid):
        """None when a correctly signed request is fresh; else (status, error): a timestamp
        outside the window or a request id this terminal already used (a replay)."""
        if not rid or len(rid) > 64:
            return 401, {"error": "X-Request-Id missing or longer than 64 characters"}
        try:
            t = int(ts)
        except ValueError:
            return 401, {"error": "X-Timestamp is not Unix seconds"}
        now = self.clock()
        if abs(now - t) > self.window:
            return 401, {"error": "X-Timestamp %d is %d s from the wallet's clock (window %d s)"
                         % (t, int(now - t), self.window)}
        with self.lock:
            for k in [k for k, v in self.seen_ids.items() if now - v > self.window]:
                del self.seen_ids[k]             # older than the window: refused by time anyway
            if (term, rid) in self.seen_ids:
                return 409, {"error": "replayed request (request id already used)"}
            self.seen_ids[(term, rid)] = t
        return None

    # -- the wallet's logic ------------------------------------------------
    def _idempotent(self, term, data, make):
        k = (term, data.get("idempotency_key"))
        with self.lock:
            if k[1] and k in self.idem:
                return self.idem[k]
            r = make()
            if k[1]:
                self.idem[k] = r
            return r

    def route(self, method, path, term, data):
        if method == "POST" and path == "/v1/orders":
            return self._idempotent(term, data, lambda: self._order(term, data))
        if method == "POST" and path == "/v1/pay":
            return self._idempotent(term, data, lambda: self._pay(term, data))
        if method == "POST" and path in ("/v1/pay/query", "/v1/pay/reverse"):
            k = (term, data.get("idempotency_key"))
            with self.lock:
                first = self.idem.get(k)
                if first is None:
                    return 200, {"status": "unknown"}          # never reached the wallet: nothing charged
                code, body = first
                if path.endswith("/reverse") and body.get("status") == "success":
                    self.payments.pop(body.get("txn"), None)
                    body = dict(body, status="reversed")
                    self.idem[k] = (code, body)
                return 200, dict(body)
        if path.startswith("/v1/orders/"):
            ref = path[len("/v1/orders/"):]
            cancel = ref.endswith("/cancel")
            ref = ref[:-len("/cancel")] if cancel else ref
            with self.lock:
                o = self.orders.get(ref)
                if o is None or o["terminal"] != term:
                    return 404, {"error": "no such order"}
                self._expire(o)
                if cancel and method == "POST":
                    if o["status"] == "pending":
                        o["status"] = "cancelled"
                    return 200, dict(o)
                if method == "GET":
                    return 200, dict(o)
        return 404, {"error": "unknown endpoint %s %s" % (method, path)}

    def _order(self, term, d):
        amount = d.get("amount")
        if not _minor_units(amount):
            return 400, {"error": "amount must be positive minor units"}
        ref = "W%06d" % (len(self.orders) + 1)
        o = {"order": ref, "status": "pending", "amount": amount, "currency": str(d.get("currency", "")),
             "reference": str(d.get("reference", ""))[:25], "terminal": term, "created": time.time()}
        self.orders[ref] = o
        return 201, dict(o)

    def _expire(self, o):
        if o["status"] == "pending" and time.time() - o["created"] > self.ttl:
            o["status"] = "expired"

    def customer_pays(self, ref):
        with self.lock:
            o = self.orders.get(ref)
            if o is None:
                return 404, {"error": "no such order"}
            self._expire(o)
            if o["status"] != "pending":
                return 409, {"error": "order is %s" % o["status"]}
        if self.confirm_delay:
            time.sleep(self.confirm_delay)            # the customer confirming in the app
        with self.lock:
            o["status"] = "paid"
            o["txn"] = self._next_txn()
            self.payments[o["txn"]] = o["amount"]
            return 200, dict(o)

    def _pay(self, term, d):
        code = str(d.get("code", ""))
        amount = d.get("amount")
        if not _minor_units(amount):
            return 400, {"error": "amount must be positive minor units"}
        if not code.startswith("WALLET-"):
            return 200, {"status": "failed", "reason": "not a wallet code of this wallet"}
        if "NOFUNDS" in code:
            return 200, {"status": "failed", "reason": "insufficient balance"}
        txn = self._next_txn()
        self.payments[txn] = amount
        return 200, {"status": "success", "txn": txn, "amount": amount}


    def settled_payments(self):
        """[(wallet transaction, amount)] of the payments that stand (a reversed one is out), in
        the order they were made: what the wallet pays the merchant."""
        with self.lock:
            return sorted(self.payments.items())

    def _next_txn(self):
        """A new wallet transaction number (caller holds the lock): a reversed payment
        leaves `payments`, so counting them would hand its number out again."""
        self.txns += 1
        return "T%08d" % self.txns


def _minor_units(amount):
    """A positive int amount (JSON true is not 1 cent)."""
    return isinstance(amount, int) and not isinstance(amount, bool) and 0 < amount <= 10 ** 12


def start_for_sim():
    """The wallet host on its default port for `smartpos sim`."""
    return WalletHost(port=8600).start()
