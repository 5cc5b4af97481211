"""Biller host simulator: mobile top-up, utility bill pay and card repayment for terminals
(JSON over HTTP, every request signed with the terminal's own HMAC-SHA256 key).

    from host_sim.hosts.biller import BillerHost
    b = BillerHost(port=0).start()

All requests are POST with a JSON object as the body; the signature travels in the query
string, since an installed app's HTTP (pos.sdk.http_post) sets no headers:

    POST /v1/pay?terminal=TERM0001&ts=1764331200&nonce=9f2c01&sig=<hex>

sig = hex HMAC-SHA256(terminal key, METHOD "\\n" PATH "\\n" TERMINAL "\\n" TS "\\n" NONCE "\\n"
BODY), PATH without the query.  Each terminal's key is diversified from the biller's TEST
master key (terminal_key), so one terminal's key signs for no other.  Refused: an unknown
terminal or a bad signature (401), a timestamp outside +-`window_s` of the biller's clock
(401), a nonce that terminal already used (409: a replayed request does nothing), a body that
is not a JSON object or too large (400, 413).

    /v1/catalog  {}                                   -> operators, denominations, billers
    /v1/lookup   {product, code, account}             -> account (masked), holder, due
    /v1/pay      {idempotency_key, product, code, account, amount, reference}
                 -> {status: done, biller_ref[, voucher_pin, voucher_serial]}
                    | {status: refused, reason}
    /v1/query    {idempotency_key}  -> the pay's answer, or {status: unknown}
    /v1/reverse  {idempotency_key}  -> {status: reversed}: a done payment is undone (amount
                 due back, voucher void); an unknown key is closed, so a pay that arrives
                 late with it is refused and nothing is ever applied for it

product is "mobile" (code an operator, account the phone number), "bill" (code a biller,
account the customer's account number) or "card" (code CARD, account the card number: kept
only in the issuer's table, masked in every answer and record).  A repeated idempotency key
returns the first answer: nothing is fulfilled twice; the same key with a different request
is refused (422).  Faults to inject: refuse_next (the next N pays are refused: the operator's
system is down), stall_next/stall_s (the next N pays are held stall_s before the biller looks
at them: the terminal times out), hold_next (the next N pays are fulfilled and their answers
held stall_s: the terminal times out, its query finds them done), fail_next (503 to the next N
requests).
"""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from host_sim.hosts.biller.catalog import Catalog, masked, masked_msisdn

TEST_MASTER_KEY = b"BILLER-TEST-KEY!"       # TEST only
TEST_TERMINALS = ("TERM0001", "TERM0002")
MAX_BODY = 4096
WINDOW_S = 300
PRODUCTS = ("mobile", "bill", "card")


def terminal_key(terminal_id, master=TEST_MASTER_KEY):
    """The terminal's own 16-byte key: HMAC-SHA256(master, "biller-terminal:" + id), first 16
    bytes (the operator provisions it into the top-up app's parameters)."""
    return hmac.new(master, b"biller-terminal:" + terminal_id.encode(), hashlib.sha256).digest()[:16]


def sign(key, method, path, terminal, ts, nonce, body):
    return hmac.new(key, b"\n".join([method.encode(), path.encode(), terminal.encode(), str(ts).encode(),
                                      str(nonce).encode(), body]), hashlib.sha256).hexdigest()


def signed_query(key, method, path, terminal, body, ts=None, nonce=None):
    """The query string a terminal appends to `path` (for tests and other clients)."""
    import secrets
    ts = int(time.time()) if ts is None else ts
    nonce = secrets.token_hex(8) if nonce is None else nonce
    return "terminal=%s&ts=%d&nonce=%s&sig=%s" % (terminal, ts, nonce,
                                                  sign(key, method, path, terminal, ts, nonce, body))


class BillerHost:
    def __init__(self, port=0, keys=None, window_s=WINDOW_S, clock=time.time, read_timeout_s=10.0):
        self.keys = keys or {t: terminal_key(t) for t in TEST_TERMINALS}
        self.window = window_s
        self.clock = clock
        self.read_timeout = read_timeout_s
        self.catalog = Catalog()
        self.lock = threading.Lock()
        self.seen = {}              # (terminal, nonce) -> ts, kept for the window
        self.idem = {}              # (terminal, idempotency key) -> record
        self.refs = 0
        self.requests = []          # (path, terminal, status) of every signed request
        self.fulfilled = []         # records applied (a reversal marks, never removes, one)
        self.refuse_next = 0
        self.refuse_reason = "operator system unavailable"
        self.stall_next = 0
        self.stall_s = 5.0
        self.hold_next = 0
        self.fail_next = 0
        self._port = port
        self.srv = None

    @property
    def port(self):
        return self.srv.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        host = self

        class Handler(BaseHTTPRequestHandler):
            timeout = self.read_timeout

            def log_message(self, *a):
                pass

            def _reply(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._reply(405, {"error": "requests are POST with a signed JSON body"})

            def do_POST(self):
                text = (self.headers.get("Content-Length") or "0").strip()
                if not (text.isdigit() and text.isascii()):
                    self.close_connection = True
                    return self._reply(400, {"error": "Content-Length %r is not a number" % text[:20]})
                n = int(text)
                if n > MAX_BODY:
                    self.close_connection = True
                    return self._reply(413, {"error": "request too large (%d bytes, at most %d)" % (n, MAX_BODY)})
                try:
                    body = self.rfile.read(n) if n else b""
                except TimeoutError:
                    return self._reply(408, {"error": "request body not received in time"})
                r = host.handle("POST", self.path, body)
                try:
                    self._reply(*r)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True    # the terminal gave up waiting: its query tells

        self.srv = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="biller-host").start()
        return self

    def stop(self):
        if self.srv:
            self.srv.shutdown()
            self.srv.server_close()

    # -- the door: signature, freshness, replay ------------------------------------------
    def handle(self, method, target, body):
        """(status, answer) for one request (`target` is the path with its query)."""
        u = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        term = q.get("terminal", "")
        key = self.keys.get(term)
        if key is None or not hmac.compare_digest(
                sign(key, method, u.path, term, q.get("ts", ""), q.get("nonce", ""), body), q.get("sig", "")):
            return 401, {"error": "bad signature"}
        refused = self._admit(term, q.get("ts", ""), q.get("nonce", ""))
        if refused is not None:
            return refused
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self._log(u.path, term, (400, {"error": "body is not a JSON object"}))
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self._log(u.path, term, (503, {"error": "biller busy, try again"}), locked=True)
        return self._log(u.path, term, self.route(u.path, term, data))

    def _log(self, path, term, r, locked=False):
        if locked:
            self.requests.append((path, term, r[0]))
        else:
            with self.lock:
                self.requests.append((path, term, r[0]))
        return r

    def _admit(self, term, ts, nonce):
        if not nonce or len(nonce) > 64:
            return 401, {"error": "nonce missing or longer than 64 characters"}
        try:
            t = int(ts)
        except ValueError:
            return 401, {"error": "ts is not Unix seconds"}
        now = self.clock()
        if abs(now - t) > self.window:
            return 401, {"error": "ts %d is %d s from the biller's clock (window %d s)" % (t, int(now - t), self.window)}
        with self.lock:
            for k in [k for k, v in self.seen.items() if now - v > self.window]:
                del self.seen[k]
            if (term, nonce) in self.seen:
                return 409, {"error": "replayed request (nonce already used)"}
            self.seen[(term, nonce)] = t
        return None

    # -- the biller's business --------------------------------------------------------------
    def route(self, path, term, d):
        if path == "/v1/catalog":
            return 200, self.catalog.public()
        if path == "/v1/lookup":
            with self.lock:
                return self.catalog.lookup(d.get("product"), d.get("code"), d.get("account"))
        if path == "/v1/pay":
            return self._pay(term, d)
        if path in ("/v1/query", "/v1/reverse"):
            k = d.get("idempotency_key")
            if not isinstance(k, str) or not k:
                return 400, {"error": "idempotency_key must be a non-empty string"}
            with self.lock:
                rec = self.idem.get((term, k))
                if path == "/v1/query":
                    return 200, dict(rec["answer"]) if rec else {"status": "unknown"}
                return 200, self._reverse(term, k, rec)
        return 404, {"error": "no endpoint %s" % path[:40]}

    def _pay(self, term, d):
        k = d.get("idempotency_key")
        product, code, account, amount = d.get("product"), d.get("code"), d.get("account"), d.get("amount")
        if not isinstance(k, str) or not 0 < len(k) <= 64:
            return 400, {"error": "idempotency_key must be a string of 1-64 characters"}
        if not (isinstance(amount, int) and not isinstance(amount, bool) and 0 < amount <= 10 ** 9):
            return 400, {"error": "amount must be positive minor units"}
        if product not in PRODUCTS:
            return 400, {"error": "product must be mobile, bill or card"}
        if not isinstance(account, str) or not 0 < len(account) <= 32:
            return 400, {"error": "account must be a string of 1-32 characters"}
        shown = masked(account) if product == "card" else account
        fingerprint = hashlib.sha256(json.dumps([product, code, account, amount]).encode()).hexdigest()
        with self.lock:
            first = self.idem.get((term, k))
            if first is not None:
                if first["fingerprint"] not in (None, fingerprint):     # None: closed by a reversal
                    return 422, {"error": "idempotency key %s was used for another request" % k}
                return 200, dict(first["answer"])
            stall = self.stall_next > 0
            if stall:
                self.stall_next -= 1
        if stall:
            time.sleep(self.stall_s)        # the terminal gives up meanwhile (and may reverse)
        with self.lock:
            first = self.idem.get((term, k))
            if first is not None:           # reversed (or paid by a retry) while this was held
                if first["fingerprint"] not in (None, fingerprint):     # None: closed by a reversal
                    return 422, {"error": "idempotency key %s was used for another request" % k}
                if first["fingerprint"] is None:        # the day's record says what never happened
                    first.update(product=product, code=code, amount=amount, fingerprint=fingerprint,
                                 account=shown if product != "mobile" else masked_msisdn(account),
                                 reference=str(d.get("reference", ""))[:32])
                return 200, dict(first["answer"])
            code_, found = self.catalog.lookup(product, code, account)
            if code_ != 200:
                answer = {"status": "refused", "reason": found["error"]}
            elif self.refuse_next > 0:
                self.refuse_next -= 1
                answer = {"status": "refused", "reason": self.refuse_reason}
            else:
                why = self.catalog.check_amount(product, code, account, amount)
                answer = {"status": "refused", "reason": why} if why else self._fulfil(product, code, account, amount)
            rec = {"terminal": term, "key": k, "product": product, "code": code,
                   "account": shown if product != "mobile" else masked_msisdn(account),
                   "amount": amount, "reference": str(d.get("reference", ""))[:32],
                   "fingerprint": fingerprint, "answer": answer, "_account": account}
            self.idem[(term, k)] = rec
            if answer["status"] == "done":
                self.fulfilled.append(rec)
            hold = self.hold_next > 0
            if hold:
                self.hold_next -= 1
        if hold:
            time.sleep(self.stall_s)        # done, but the answer comes too late for the terminal
        return 200, dict(answer)

    def _fulfil(self, product, code, account, amount):
        """Apply the payment (caller holds the lock): the biller's reference, and for a PIN
        top-up the voucher's serial and PIN."""
        self.refs += 1
        self.catalog.apply(product, code, account, amount)
        a = {"status": "done", "biller_ref": "BR%08d" % self.refs, "amount": amount}
        if self.catalog.is_pin(product, code):
            import secrets
            a["voucher_serial"] = "VS%010d" % self.refs
            a["voucher_pin"] = "".join(str(secrets.randbelow(10)) for _ in range(16))
        return a

    def _reverse(self, term, k, rec):
        """Undo (caller holds the lock).  Unknown: the key is closed with a reversed answer, so a
        pay held in flight with it finds that answer and is never applied."""
        if rec is None:
            self.idem[(term, k)] = {"terminal": term, "key": k, "product": None, "code": None, "account": None,
                                    "amount": 0, "reference": "", "fingerprint": None,
                                    "answer": {"status": "reversed", "reason": "reversed before it arrived"}}
            return {"status": "reversed", "reason": "reversed before it arrived"}
        a = rec["answer"]
        if a["status"] == "done":
            self.catalog.undo(rec["product"], rec["code"], rec["_account"], rec["amount"])
            rec["answer"] = {"status": "reversed", "biller_ref": a["biller_ref"], "amount": a["amount"]}
        elif a["status"] == "refused":
            return dict(a)                  # nothing was applied: nothing to undo
        return dict(rec["answer"])

    def records(self):
        """The biller's day: every idempotency key's outcome (card numbers masked)."""
        with self.lock:
            return [{k: v for k, v in r.items() if not k.startswith("_") and k != "fingerprint"}
                    for r in self.idem.values()]

