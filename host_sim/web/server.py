"""The terminal face in a browser: live display, clickable keypad, printer roll,
LEDs and buzzer, card/QR/cash controls, power cut, APDU and ISO 8583 traces.

Plain stdlib HTTP (ThreadingHTTPServer) with server-sent events for live
updates; it binds 127.0.0.1 only.  The server knows the virtual board through
`Terminal` (host_sim/web/terminal.py), which adapts the device models.
"""
import io
import json
import mimetypes
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


class ControlError(Exception):
    """A control request that cannot be carried out (shown to the user)."""


class FaceHandler(BaseHTTPRequestHandler):
    server_version = "smartpos-face/1"
    terminal = None              # set on the subclass made by make_server()

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
        n = int(self.headers.get("Content-Length") or 0)
        if n > 65536:
            raise ControlError("request too large")
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
        url = urlparse(self.path)
        path = url.path
        t = self.terminal
        try:
            if path == "/":
                return self._static("index.html")
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


def make_server(terminal, port=8080, host="127.0.0.1"):
    handler = type("BoundFaceHandler", (FaceHandler,), {"terminal": terminal})
    srv = ThreadingHTTPServer((host, port), handler)
    srv.daemon_threads = True
    return srv


def serve_in_thread(terminal, port=8080):
    srv = make_server(terminal, port)
    th = threading.Thread(target=srv.serve_forever, daemon=True, name="web-face")
    th.start()
    return srv


def png_bytes(img):
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
