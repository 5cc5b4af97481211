"""Voucher-platform host simulator: group-buy deals, their vouchers (one code each), single
redemption at the counter, expiry, store restrictions and the daily reconciliation file (JSON
over HTTP, every request signed with the terminal's own HMAC-SHA256 key).

    from host_sim.hosts.vouchers import VoucherHost
    v = VoucherHost(port=0).start()

The door is the biller's (host_sim/hosts/biller): POST with a JSON object as the body, the
signature in the query string,

    POST /v1/redeem?terminal=TERM0001&ts=1764331200&nonce=9f2c01&sig=<hex>

sig = hex HMAC-SHA256(terminal key, METHOD "\\n" PATH "\\n" TERMINAL "\\n" TS "\\n" NONCE "\\n"
BODY).  Each terminal's key is diversified from the platform's TEST master key
(terminal_key); each terminal belongs to one store.  Refused: unknown terminal or bad
signature (401), timestamp outside +-`window_s` (401), a nonce used before (409), a body that
is not a JSON object or too large (400, 413).

    /v1/lookup         {code}  -> {code, deal, title, value, price, until, stores, status
                                   (valid | redeemed | expired | other_store)
                                   [, redeemed_at, redeemed_store, redeemed_terminal]}
    /v1/redeem         {code, idempotency_key}
                       -> {status: redeemed, redemption, code, deal, title, value, at, day, store}
                        | {status: refused, reason[, redeemed_at, redeemed_store]}
    /v1/reconciliation {day?}  -> {day, store, file}: the day's reconciliation file (daily_file)
                                  cut to the terminal's store (day: YYYY-MM-DD, default today)

A voucher is redeemed once, at a store its deal names, on or before its deal's last day (the
platform's clock, UTC).  A repeated idempotency key returns the first answer (a terminal that
lost the answer asks again and nothing is redeemed twice); the same key for another code is
refused (422).  Faults: hold_next (the next N redemptions are applied and their answers held
hold_s: the terminal times out), fail_next (503 to the next N requests).
"""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from host_sim.hosts.biller import sign
from host_sim.hosts.vouchers.deals import Deals, luhn_ok

TEST_MASTER_KEY = b"VOUCHER-TEST-KEY"      # TEST only
TEST_TERMINALS = {"TERM0001": "SH001", "TERM0002": "SH002"}     # terminal -> its store
MAX_BODY = 2048
WINDOW_S = 300
FILE_HEADER = "redemption,day,time,store,terminal,code,deal,value"


def terminal_key(terminal_id, master=TEST_MASTER_KEY):
    """The terminal's own 16-byte key: HMAC-SHA256(master, "voucher-terminal:" + id), first 16
    bytes (the operator provisions it into the group-buy app's parameters)."""
    return hmac.new(master, b"voucher-terminal:" + terminal_id.encode(), hashlib.sha256).digest()[:16]


def signed_query(key, path, terminal, body, ts=None, nonce=None):
    """The query string a terminal appends to `path` (for tests and other clients)."""
    import secrets
    ts = int(time.time()) if ts is None else ts
    nonce = secrets.token_hex(8) if nonce is None else nonce
    return "terminal=%s&ts=%d&nonce=%s&sig=%s" % (terminal, ts, nonce,
                                                  sign(key, "POST", path, terminal, ts, nonce, body))


def parse_file(text):
    """The rows of a reconciliation file as dicts (header checked)."""
    lines = [ln for ln in text.splitlines() if ln]
    if not lines or lines[0] != FILE_HEADER:
        raise ValueError("not a reconciliation file (header %r)" % (lines[0][:60] if lines else ""))
    names = FILE_HEADER.split(",")
    return [dict(zip(names, ln.split(","))) for ln in lines[1:]]


class VoucherHost:
    def __init__(self, port=0, terminals=None, window_s=WINDOW_S, clock=time.time, read_timeout_s=10.0):
        self.terminals = dict(terminals or TEST_TERMINALS)
        self.keys = {t: terminal_key(t) for t in self.terminals}
        self.window = window_s
        self.clock = clock
        self.read_timeout = read_timeout_s
        self.deals = Deals()
        self.lock = threading.Lock()
        self.seen = {}              # (terminal, nonce) -> ts, kept for the window
        self.idem = {}              # (terminal, idempotency key) -> (code, answer)
        self.redemptions = []       # every redemption, in order (the reconciliation file's rows)
        self.requests = []          # (path, terminal, status) of every signed request
        self.hold_next = 0
        self.hold_s = 5.0
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
                    self.close_connection = True    # the terminal gave up waiting

        self.srv = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="voucher-host").start()
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
            r = 400, {"error": "body is not a JSON object"}
        else:
            with self.lock:
                failing = self.fail_next > 0
                if failing:
                    self.fail_next -= 1
            r = (503, {"error": "platform busy, try again"}) if failing else self.route(u.path, term, data)
        with self.lock:
            self.requests.append((u.path, term, r[0]))
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
            return 401, {"error": "ts %d is %d s from the platform's clock (window %d s)"
                                  % (t, int(now - t), self.window)}
        with self.lock:
            for k in [k for k, v in self.seen.items() if now - v > self.window]:
                del self.seen[k]
            if (term, nonce) in self.seen:
                return 409, {"error": "replayed request (nonce already used)"}
            self.seen[(term, nonce)] = t
        return None

    # -- the platform's business ------------------------------------------------------------
    def today(self):
        return time.strftime("%Y-%m-%d", time.gmtime(self.clock()))

    def route(self, path, term, d):
        if path == "/v1/lookup":
            with self.lock:
                return self._lookup(term, d.get("code"))
        if path == "/v1/redeem":
            return self._redeem(term, d)
        if path == "/v1/reconciliation":
            day = d.get("day") or self.today()
            if not isinstance(day, str) or len(day) != 10:
                return 400, {"error": "day must be YYYY-MM-DD"}
            store = self.terminals[term]
            rows = self.daily_file(day).splitlines()
            return 200, {"day": day, "store": store,
                         "file": "\n".join(rows[:1] + [r for r in rows[1:] if r.split(",")[3] == store]) + "\n"}
        return 404, {"error": "no endpoint %s" % path[:40]}

    def _lookup(self, term, code):
        """(status, answer) for `code` seen from `term`'s store (caller holds the lock)."""
        if not isinstance(code, str) or not code.isdigit() or not code.isascii() or len(code) != 12:
            return 422, {"error": "a voucher code is 12 digits"}
        if not luhn_ok(code):
            return 422, {"error": "code %s fails its check digit" % code}
        v = self.deals.vouchers.get(code)
        if v is None:
            return 404, {"error": "no voucher %s" % code}
        deal = self.deals.deals[v["deal"]]
        a = {"code": code, "deal": v["deal"], "title": deal["title"], "value": deal["value"],
             "price": deal["price"], "until": deal["until"],
             "stores": [self.deals.stores[s] for s in deal["stores"]]}
        r = v["redeemed"]
        if r is not None:
            a.update(status="redeemed", redeemed_at=r["day"] + " " + r["time"],
                     redeemed_store=self.deals.stores[r["store"]], redeemed_terminal=r["terminal"])
        elif deal["until"] < self.today():
            a["status"] = "expired"
        elif self.terminals[term] not in deal["stores"]:
            a["status"] = "other_store"
        else:
            a["status"] = "valid"
        return 200, a

    def _redeem(self, term, d):
        k, code = d.get("idempotency_key"), d.get("code")
        if not isinstance(k, str) or not 0 < len(k) <= 64:
            return 400, {"error": "idempotency_key must be a string of 1-64 characters"}
        with self.lock:
            first = self.idem.get((term, k))
            if first is not None:
                if first[0] != code:
                    return 422, {"error": "idempotency key %s was used for voucher %s" % (k, first[0])}
                return 200, dict(first[1])
            st, a = self._lookup(term, code)
            if st != 200:
                return st, a
            status = a["status"]
            if status == "redeemed":
                answer = {"status": "refused", "reason": "already redeemed", "redeemed_at": a["redeemed_at"],
                          "redeemed_store": a["redeemed_store"]}
            elif status == "expired":
                answer = {"status": "refused", "reason": "expired on " + a["until"]}
            elif status == "other_store":
                answer = {"status": "refused", "reason": "not valid at this store (" + ", ".join(a["stores"]) + ")"}
            else:
                now = time.gmtime(self.clock())
                rec = {"redemption": "R%08d" % (len(self.redemptions) + 1), "day": time.strftime("%Y-%m-%d", now),
                       "time": time.strftime("%H:%M:%S", now), "store": self.terminals[term], "terminal": term,
                       "code": code, "deal": a["deal"], "value": a["value"]}
                self.deals.vouchers[code]["redeemed"] = rec
                self.redemptions.append(rec)
                answer = {"status": "redeemed", "redemption": rec["redemption"], "code": code, "deal": a["deal"],
                          "title": a["title"], "value": a["value"], "at": rec["day"] + " " + rec["time"],
                          "day": rec["day"], "store": self.deals.stores[rec["store"]]}
            self.idem[(term, k)] = (code, answer)
            hold = answer["status"] == "redeemed" and self.hold_next > 0
            if hold:
                self.hold_next -= 1
        if hold:
            time.sleep(self.hold_s)         # redeemed, but the answer comes too late for the terminal
        return 200, dict(answer)

    def daily_file(self, day):
        """The platform's reconciliation file for `day` (CSV, every store): one row per
        redemption, in the order they happened."""
        with self.lock:
            rows = [",".join(str(r[f]) for f in ("redemption", "day", "time", "store", "terminal", "code", "deal",
                                                 "value"))
                    for r in self.redemptions if r["day"] == day]
        return "\n".join([FILE_HEADER] + rows) + "\n"
