"""The terminal face in a browser: live display, clickable keypad, printer roll,
LEDs and buzzer, card/QR/cash controls, power cut, APDU and ISO 8583 traces.

Plain stdlib HTTP (ThreadingHTTPServer) with server-sent events for live
updates; by default it binds 127.0.0.1.  The server knows the virtual board through
`Terminal` (host_sim/web/terminal.py), which adapts the device models.

Who may drive it (`FaceGuard`):
- every request names this server in its Host header (a DNS-rebinding page names its own);
- bound beyond the loopback interface, every request carries the face's password
  (HTTP Basic, RFC 7617; the browser asks for it);
- every POST comes from the face itself: an Origin (or Referer) of this server when the
  client sends one, no `Sec-Fetch-Site: cross-site`, a JSON body, and the per-session
  token (X-Smartpos-Token = HMAC of the session cookie under a per-server secret) that
  the page carries in a meta tag and scripts get from GET /api/session.
"""
import base64
import hashlib
import hmac
import io
import ipaddress
import json
import mimetypes
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


class ControlError(Exception):
    """A control request that cannot be carried out (shown to the user)."""


class Refused(Exception):
    """A request the face does not serve: (HTTP status, reason)."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


SESSION_COOKIE = "smartpos_session"
TOKEN_HEADER = "X-Smartpos-Token"


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FaceGuard:
    """The face's rules for who may read and drive it (module docstring)."""

    def __init__(self, host, port, password=None):
        if not is_loopback(host) and not password:
            raise ValueError("the terminal face bound to %s is reachable from other machines: "
                             "give it a password" % host)
        self.host = host
        self.port = port
        self.password = password
        self.secret = secrets.token_bytes(32)

    def bound(self, port):
        self.port = port

    def _names(self):
        """host:port forms that name this server (loopback binding)."""
        return {"%s:%d" % (h, self.port) for h in ("127.0.0.1", "localhost", "[::1]")}

    def check_host(self, headers):
        host = (headers.get("Host") or "").lower()
        if self.password:                  # reachable by address: the password is the gate
            return host
        if host not in self._names():
            raise Refused(421, "this server does not answer for host %r" % host)
        return host

    def check_password(self, headers):
        if not self.password:
            return
        auth = headers.get("Authorization") or ""
        given = ""
        if auth.startswith("Basic "):
            try:
                given = base64.b64decode(auth[6:], validate=True).decode("utf-8").partition(":")[2]
            except (ValueError, UnicodeError):
                given = ""
        if not hmac.compare_digest(given.encode(), self.password.encode()):
            raise Refused(401, "password needed for the terminal face")

    def token(self, session):
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    def check_post(self, headers, host, session):
        if (headers.get("Sec-Fetch-Site") or "").lower() == "cross-site":
            raise Refused(403, "cross-site request refused")
        origin = headers.get("Origin")
        if origin is not None:
            if origin.lower() != "http://" + host:
                raise Refused(403, "cross-site request refused (Origin %s)" % origin)
        else:
            ref = headers.get("Referer")
            if ref is not None and urlparse(ref).netloc.lower() != host:
                raise Refused(403, "cross-site request refused (Referer)")
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise Refused(415, "controls take a JSON body (Content-Type: application/json)")
        given = headers.get(TOKEN_HEADER) or ""
        if not session or not hmac.compare_digest(given.encode(), self.token(session).encode()):
            raise Refused(403, "missing or wrong session token: reload the page")


class FaceHandler(BaseHTTPRequestHandler):
    server_version = "smartpos-face/1"
    terminal = None              # set on the subclass made by make_server()
    guard = None                 # FaceGuard, likewise

    def _session(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and len(value) == 32:
                return value
        return None

    def _new_session_headers(self):
        """(session id, Set-Cookie header) when the client has none yet."""
        sid = self._session()
        if sid is not None:
            return sid, {}
        sid = secrets.token_hex(16)
        return sid, {"Set-Cookie": "%s=%s; Path=/; HttpOnly; SameSite=Strict" % (SESSION_COOKIE, sid)}

    def _admit(self, post=False):
        """Apply the guard; send the refusal and return False when the request is not served."""
        try:
            host = self.guard.check_host(self.headers)
            self.guard.check_password(self.headers)
            if post:
                self.guard.check_post(self.headers, host, self._session())
            return True
        except Refused as exc:
            hdrs = {"WWW-Authenticate": 'Basic realm="smartpos terminal face", charset="UTF-8"'} \
                if exc.status == 401 else None
            if post:
                self._drain()
            self._send(exc.status, {"error": str(exc)}, headers=hdrs)
            return False

    def _drain(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if 0 < n <= 65536:
            self.rfile.read(n)

    def log_message(self, fmt, *args):   # quiet: traces go to the panes, not stderr
        pass

    # ------------------------------------------------------------ helpers
    def _send(self, code, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json_body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ControlError("Content-Length is not a number")
        if n < 0 or n > 65536:
            raise ControlError("request too large" if n > 0 else "negative Content-Length")
        raw = self.rfile.read(n) if n else b"{}"
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise ControlError("request body is not JSON")
        if not isinstance(data, dict):
            raise ControlError("request body must be a JSON object")
        return data

    # --------------------------------------------------------------- GET
    def do_GET(self):
        if not self._admit():
            return
        url = urlparse(self.path)
        path = url.path
        t = self.terminal
        try:
            if path in ("/", "/static/index.html"):
                return self._page()
            if path == "/api/session":
                sid, hdrs = self._new_session_headers()
                return self._send(200, {"token": self.guard.token(sid)}, headers=hdrs)
            if path.startswith("/static/"):
                return self._static(path[len("/static/"):])
            if path == "/display.png":
                return self._send(200, t.display_png(), "image/png")
            if path == "/printer.png":
                return self._send(200, t.printer_png(), "image/png")
            if path == "/printer.txt":
                return self._send(200, t.printer_text(), "text/plain; charset=utf-8")
            if path == "/api/state":
                return self._send(200, t.state())
            if path == "/api/profiles":
                return self._send(200, t.profiles())
            if path.startswith("/api/trace/"):
                kind = path.rsplit("/", 1)[1]
                since = int(parse_qs(url.query).get("since", ["0"])[0])
                return self._send(200, t.trace(kind, since))
            if path == "/traffic.pcap":
                return self._send(200, t.pcap(), "application/vnd.tcpdump.pcap",
                                  {"Content-Disposition": "attachment; filename=smartpos-host.pcap"})
            if path == "/events":
                return self._events()
        except ControlError as exc:
            return self._send(409, {"error": str(exc)})
        self._send(404, {"error": "not found: %s" % path})

    def _page(self):
        """index.html with this session's token in it (a new session when there is none)."""
        sid, hdrs = self._new_session_headers()
        with open(os.path.join(STATIC, "index.html"), encoding="utf-8") as f:
            html = f.read().replace("{{token}}", self.guard.token(sid))
        self._send(200, html, "text/html; charset=utf-8", hdrs)

    def _static(self, name):
        full = os.path.normpath(os.path.join(STATIC, name))
        if not full.startswith(STATIC + os.sep) or not os.path.isfile(full):
            return self._send(404, {"error": "not found"})
        ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
        with open(full, "rb") as f:
            self._send(200, f.read(), ctype)

    def _events(self):
        """Server-sent events: one 'state' event whenever something changed."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        last = None
        t = self.terminal
        try:
            while not t.closing:
                st = t.state()
                if st != last:
                    self.wfile.write(b"event: state\ndata: " + json.dumps(st).encode() + b"\n\n")
                    self.wfile.flush()
                    last = st
                else:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                time.sleep(0.15)
        except (BrokenPipeError, ConnectionResetError):
            return

    # -------------------------------------------------------------- POST
    def do_POST(self):
        if not self._admit(post=True):
            return
        t = self.terminal
        path = urlparse(self.path).path
        try:
            data = self._json_body()
            if path == "/api/key":
                t.press_key(str(data.get("key", "")))
            elif path == "/api/card":
                t.card(str(data.get("action", "")), data.get("profile"))
            elif path == "/api/scan":
                t.scan(str(data.get("code", "")))
            elif path == "/api/swipe":
                t.swipe(data.get("profile"))
            elif path == "/api/power":
                t.power(str(data.get("action", "")))
            elif path == "/api/printer":
                t.printer_control(str(data.get("action", "")))
            elif path == "/api/drawer":
                t.drawer(str(data.get("action", "close")))
            elif path == "/api/wallet/pay":
                paid = t.pay_with_wallet()
                return self._send(200, {"ok": True, "paid": paid, "state": t.state()})
            else:
                return self._send(404, {"error": "not found: %s" % path})
        except ControlError as exc:
            return self._send(409, {"error": str(exc)})
        self._send(200, {"ok": True, "state": t.state()})


def make_server(terminal, port=8080, host="127.0.0.1", password=None):
    """The face on host:port (port 0: any free one).  Beyond the loopback interface a
    password is required (ValueError without one)."""
    guard = FaceGuard(host, port, password)
    handler = type("BoundFaceHandler", (FaceHandler,), {"terminal": terminal, "guard": guard})
    srv = ThreadingHTTPServer((host, port), handler)
    srv.daemon_threads = True
    guard.bound(srv.server_address[1])
    return srv


def serve_in_thread(terminal, port=8080, host="127.0.0.1", password=None):
    srv = make_server(terminal, port, host, password)
    th = threading.Thread(target=srv.serve_forever, daemon=True, name="web-face")
    th.start()
    return srv


def png_bytes(img):
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
