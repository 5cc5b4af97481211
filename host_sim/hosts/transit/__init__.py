"""The transit operator's load host: it holds the purse master keys, checks each card's MAC1
and answers with MAC2 (the card then loads), checks the TAC the card gives for a completed
load, and keeps one load per payment reference (host_sim.cards.transit for the card side).

    host = TransitHost(port=0).start()
    every request signed by the terminal: ?terminal=ID&ts=UNIX&nonce=N&sig=HMAC-SHA256 hex, with
    the terminal's own key (terminal_key) over METHOD \n path \n terminal \n ts \n nonce \n body
    (the biller's scheme, host_sim.hosts.biller.sign); a stale ts (300 s) or a nonce seen before
    is refused: only the operator's own terminals obtain a MAC2.
    POST /v1/load  {"terminal", "reference", "serial", "amount", "terminal_no", "balance",
                    "counter", "key_version", "random", "mac1"}
         -> 200 {"mac2", "date", "time"} | 200 {"status": "applied"} (the card's counter moved past
            this reference's load: it completed, never a second MAC2) | 409 / 422 {"error"}
    POST /v1/confirm {"reference", "tac"}  (TAC of CREDIT FOR LOAD, or of GET TRANSACTION PROVE)
         -> 200 {"status": "done", "balance"} | 422 {"error": "TAC does not verify"}

Keys (TEST): the card's DLK and DTK are diversified from the master keys by the last 8 bytes
of the application serial number, left half 3DES_MK(s), right half 3DES_MK(not s) (PBOC
ED/EP part 1, key diversification).
"""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pyemv import tools

from host_sim.cards.transit import LOAD, des_mac, session_load_key, tac_key
from host_sim.hosts.biller import sign

TEST_TERMINAL_MASTER = b"TRANSIT-TERM-KEY"  # TEST only
TEST_TERMINALS = ("TERM0001", "TERM0002")
MAX_BODY = 4096
WINDOW_S = 300

MASTER_LOAD_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")      # TEST keys
MASTER_TAC_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")


def diversified(master, serial):
    s = bytes.fromhex(serial.rjust(20, "0"))[-8:]
    k = master + master[:8]             # two-key 3DES as three keys (K1 K2 K1)
    return tools.encrypt_tdes_ecb(k, s) + tools.encrypt_tdes_ecb(k, bytes(b ^ 0xFF for b in s))


def terminal_key(terminal_id):
    """The terminal's 16-byte request key: HMAC-SHA256(master, "transit-terminal:" + id), first 16
    bytes (provisioned into the transit app's parameters, never in its package)."""
    return hmac.new(TEST_TERMINAL_MASTER, b"transit-terminal:" + terminal_id.encode(), hashlib.sha256).digest()[:16]


def card_keys(serial):
    """(DLK, DTK) the operator personalises into the card with application serial `serial`."""
    return diversified(MASTER_LOAD_KEY, serial), diversified(MASTER_TAC_KEY, serial)


def make_card(serial="3101000000001234", balance=150, **kw):
    from host_sim.cards.transit import TransitCard
    dlk, dtk = card_keys(serial)
    return TransitCard(serial, balance, dlk, dtk, **kw)


class TransitHost:
    def __init__(self, port=0, clock=time.time):
        self._port = port
        self.clock = clock
        self.lock = threading.Lock()
        self.loads = {}             # reference -> record
        self.keys = {t: terminal_key(t) for t in TEST_TERMINALS}
        self.seen = {}              # (terminal, nonce) -> ts
        self.requests = []          # (path, status)
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
            def log_message(self, *a):
                pass

            def do_POST(self):
                text = (self.headers.get("Content-Length") or "0").strip()
                if not (text.isdigit() and text.isascii()) or int(text) > MAX_BODY:
                    self.close_connection = True
                    code, obj = 413, {"error": "Content-Length %r: at most %d bytes" % (text[:20], MAX_BODY)}
                else:
                    code, obj = host.handle(self.path, self.rfile.read(int(text)))
                with host.lock:
                    host.requests.append((urlsplit(self.path).path, code))
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self.srv is not None:
            self.srv.shutdown()
            self.srv.server_close()

    def handle(self, target, body):
        u = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        why = self.refused(u.path, q, body)
        if why:
            return 401, {"error": why}
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("not an object")
            fn = {"/v1/load": self.load, "/v1/confirm": self.confirm}.get(u.path)
            return (404, {"error": "no such path"}) if fn is None else fn(req)
        except (ValueError, KeyError, TypeError) as exc:
            return 400, {"error": "bad request: %s" % exc}

    def refused(self, path, q, body):
        """Why the request's signature is not accepted, or None."""
        term, ts, nonce, sig = q.get("terminal", ""), q.get("ts", ""), q.get("nonce", ""), q.get("sig", "")
        key = self.keys.get(term)
        if key is None or not ts.isdigit() or not nonce:
            return "unknown terminal or unsigned request"
        if abs(self.clock() - int(ts)) > WINDOW_S:
            return "request outside the %d s window" % WINDOW_S
        if not hmac.compare_digest(sign(key, "POST", path, term, ts, nonce, body), sig):
            return "bad signature"
        with self.lock:
            if (term, nonce) in self.seen:
                return "replayed request (nonce already used)"
            self.seen[(term, nonce)] = int(ts)
        return None

    # -- the two operations ------------------------------------------------------------
    def load(self, r):
        ref, serial = str(r["reference"]), str(r["serial"])
        amount, balance, counter = int(r["amount"]), int(r["balance"]), int(r["counter"])
        term = bytes.fromhex(r["terminal_no"])
        if len(term) != 6 or not 0 < amount <= 100000:
            return 422, {"error": "bad terminal number or amount"}
        with self.lock:
            rec = self.loads.get(ref)
            if rec is not None:
                if rec["serial"] != serial or rec["amount"] != amount:
                    return 409, {"error": "reference %s belongs to another load" % ref}
                if rec["status"] == "done" or counter > rec["counter"]:
                    return 200, {"status": "applied"}       # the card counted it: never a second credit
            dlk, _ = card_keys(serial)
            sk = session_load_key(dlk, bytes.fromhex(r["random"]), counter.to_bytes(2, "big"))
            a4 = amount.to_bytes(4, "big")
            if des_mac(sk, balance.to_bytes(4, "big") + a4 + bytes([LOAD]) + term) != bytes.fromhex(r["mac1"]):
                return 422, {"error": "MAC1 does not verify"}   # not our key: another operator's card, or altered
            t = time.gmtime(self.clock())
            date = "%04d%02d%02d" % t[:3]
            hms = "%02d%02d%02d" % t[3:6]
            mac2 = des_mac(sk, a4 + bytes([LOAD]) + term + bytes.fromhex(date + hms))
            self.loads[ref] = {"serial": serial, "amount": amount, "counter": counter, "balance": balance,
                               "term": term, "date": date, "time": hms, "mac2": mac2, "status": "issued",
                               "issued": (rec or {}).get("issued", 0) + 1}
            return 200, {"mac2": mac2.hex(), "date": date, "time": hms}

    def confirm(self, r):
        ref = str(r["reference"])
        with self.lock:
            rec = self.loads.get(ref)
            if rec is None:
                return 404, {"error": "no load %s" % ref}
            _, dtk = card_keys(rec["serial"])
            new = rec["balance"] + rec["amount"]
            want = des_mac(tac_key(dtk), new.to_bytes(4, "big") + rec["counter"].to_bytes(2, "big") +
                           rec["amount"].to_bytes(4, "big") + bytes([LOAD]) + rec["term"] +
                           bytes.fromhex(rec["date"] + rec["time"]))
            if bytes.fromhex(r["tac"]) != want:
                return 422, {"error": "TAC does not verify"}
            rec["status"] = "done"
            return 200, {"status": "done", "balance": new}

    def records(self):
        with self.lock:
            return {k: dict(v) for k, v in self.loads.items()}
