"""A stock goosebit server (PyPI `goosebit`, a hawkBit DDI server for SWUpdate and RAUC devices)
for interoperability tests: its own virtualenv (`make goosebit-venv`: .venv-goosebit/, so its
dependencies never meet ours), a throwaway SQLite database migrated with aerich as goosebit's
documentation says, an ephemeral port, DDI device authentication in strict mode (TargetToken).

    with GoosebitServer(tmp_path) as gb:
        token = gb.setup_admin()
        sw = gb.upload("params-3.swu", raw)
        gb.assign("GB-0001", sw, target_token)
        ... the terminal polls gb.url + "/DEFAULT/controller/v1/GB-0001" ...

`CuttingProxy` sits between terminal and server and breaks the first artifact download after a
number of bytes, so that a client's Range resume is seen on the wire.
"""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(REPO, ".venv-goosebit")
PYTHON = os.path.join(VENV, "bin", "python")
TENANT = "DEFAULT"

# Serve goosebit's ASGI app with uvicorn on a socket bound to port 0; its number goes out first.
_LAUNCH = """
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print("port", s.getsockname()[1], flush=True)
import uvicorn
from goosebit import app
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[s])
"""


def available():
    """Made whole by `make goosebit-venv` (its stamp is written after goosebit installed)."""
    return os.path.exists(os.path.join(VENV, ".installed-stamp"))


class GoosebitError(Exception):
    """goosebit did not start or refused an operator request."""


class GoosebitServer:
    def __init__(self, workdir, poll_time="00:00:05"):
        self.dir = str(workdir)
        self.poll_time = poll_time
        self.proc = None
        self.url = None
        self.token = None
        self.log_path = os.path.join(self.dir, "goosebit.log")

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOSEBIT_", "VIRTUAL_ENV", "PYTHON"))}
        env.update({
            "GOOSEBIT_DB_URI": "sqlite:///" + os.path.join(self.dir, "goosebit.sqlite3"),
            "GOOSEBIT_ARTIFACTS_DIR": os.path.join(self.dir, "artifacts"),
            "GOOSEBIT_POLL_TIME": self.poll_time,
            "GOOSEBIT_DEVICE_AUTH": json.dumps({"enable": True, "mode": "strict"}),
            "GOOSEBIT_SECRET_KEY": uuid.uuid4().hex,
            "GOOSEBIT_TRACK_DEVICE_IP": "false",
        })
        return env

    def start(self, timeout=90):
        os.makedirs(self.dir, exist_ok=True)
        env = self._env()
        migrations = subprocess.run(
            [PYTHON, "-c", "import goosebit, os; print(os.path.join(os.path.dirname(goosebit.__file__), 'db', 'migrations'))"],
            cwd=self.dir, env=env, capture_output=True, text=True, timeout=120)
        if migrations.returncode:
            raise GoosebitError("goosebit is not importable: %s" % migrations.stderr[-400:])
        location = migrations.stdout.strip().splitlines()[-1]
        with open(os.path.join(self.dir, "aerich.toml"), "w") as f:
            f.write('[tool.aerich]\ntortoise_orm = "goosebit.db.config.TORTOISE_CONF"\n'
                    'location = "%s"\nsrc_folder = "./."\n' % location)
        up = subprocess.run([os.path.join(VENV, "bin", "aerich"), "-c", "aerich.toml", "upgrade"],
                            cwd=self.dir, env=env, capture_output=True, text=True, timeout=120)
        if up.returncode:
            raise GoosebitError("aerich upgrade failed: %s" % (up.stdout + up.stderr)[-600:])
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([PYTHON, "-c", _LAUNCH], cwd=self.dir, env=env, stdout=subprocess.PIPE,
                                     stderr=log)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("port "):
            self.stop()
            raise GoosebitError("goosebit did not start: %s" % self.log()[-800:])
        self.url = "http://127.0.0.1:%d" % int(line.split()[1])
        deadline = time.monotonic() + timeout
        while True:                        # up once its DDI side answers (401: no token)
            try:
                urllib.request.urlopen(self.url + "/%s/controller/v1/probe" % TENANT, timeout=5)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise GoosebitError("goosebit did not answer: %s" % self.log()[-800:])
                time.sleep(0.1)
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc.stdout.close()
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # operator side: goosebit's REST API (/setup, /api/v1/...) with a bearer token

    def _call(self, method, path, body=None, content_type="application/json"):
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise GoosebitError("%s %s: %d %s" % (method, path, e.code, e.read()[:300]))
        return json.loads(raw) if raw else None

    def setup_admin(self, username="admin@goosebit.local", password="goosebit-test"):
        """goosebit's first-run setup: the initial user (all permissions) and its token."""
        form = ("username=%s&password=%s" % (username, password)).encode()
        self.token = self._call("POST", "/setup", form, "application/x-www-form-urlencoded")["access_token"]
        return self.token

    def upload(self, filename, raw):
        """PUT /api/v1/software (multipart, field `file`): goosebit parses the image's
        sw-description; returns the software id."""
        boundary = uuid.uuid4().hex
        body = (b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                + filename.encode() + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + raw
                + b"\r\n--" + boundary.encode() + b"--\r\n")
        return self._call("PUT", "/api/v1/software", body, "multipart/form-data; boundary=" + boundary)["id"]

    def software(self):
        return self._call("GET", "/api/v1/software")["software"]

    def assign(self, device_id, software_id, target_token):
        """Register the device (strict mode: only known devices with their token may poll) and
        assign it the software."""
        self._call("PUT", "/api/v1/devices", {"devices": [device_id], "auth_token": target_token,
                                               "software": str(software_id)})

    def device(self, device_id):
        for d in self._call("GET", "/api/v1/devices")["devices"]:
            if d["id"] == device_id:
                return d
        return None

    def device_log(self, device_id):
        return self._call("GET", "/api/v1/devices/%s/log" % device_id)


class CuttingProxy:
    """TCP proxy to `upstream` (host, port) on an ephemeral port.  The first reply to a request
    whose path ends with `cut_path` (and whose head holds `cut_header`, when given: a Range) is
    cut after `cut_after` bytes; every request head and reply status line is kept in
    `exchanges` as (request head, status line)."""

    def __init__(self, upstream, cut_path="/download", cut_after=1200, cut_header=None):
        self.upstream = upstream
        self.cut_path, self.cut_after, self.cut_header = cut_path, cut_after, cut_header
        self.exchanges = []
        self.cuts = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._stop = False
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        u = socket.create_connection(self.upstream, timeout=30)
        c.settimeout(30)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                b = c.recv(4096)
                if not b:
                    return
                head += b
            first = head.split(b"\r\n", 1)[0].decode(errors="replace")
            cut = False
            with self._lock:
                if first.split(" ")[1].split("?")[0].endswith(self.cut_path) and not self.cuts and \
                        (self.cut_header is None or self.cut_header in head):
                    self.cuts += 1
                    cut = True
            u.sendall(head)
            hdr_end = head.index(b"\r\n\r\n") + 4
            length = 0
            for line in head[:hdr_end].split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            rest = length - (len(head) - hdr_end)
            while rest > 0:
                b = c.recv(min(rest, 65536))
                if not b:
                    return
                u.sendall(b)
                rest -= len(b)
            sent = 0
            status = None
            reply = b""
            while True:
                b = u.recv(4096)
                if not b:
                    break
                if status is None:
                    reply += b
                    if b"\r\n" in reply:
                        status = reply.split(b"\r\n", 1)[0].decode(errors="replace")
                        with self._lock:
                            self.exchanges.append((head[:hdr_end].decode(errors="replace"), status))
                if cut and sent + len(b) >= self.cut_after:
                    c.sendall(b[:self.cut_after - sent])
                    return                  # the link breaks mid-body
                c.sendall(b)
                sent += len(b)
        except OSError:
            pass
        finally:
            c.close()
            u.close()

    def close(self):
        self._stop = True
        self.sock.close()
