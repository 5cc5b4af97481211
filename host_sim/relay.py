"""A TCP relay between the terminal and a service, where a test breaks the link: the next
connection whose request line matches is cut after a given number of answer bytes (the cloud
becoming unreachable in the middle of a download), and every request head is kept so a test
can see what the terminal asked for (its HTTP Range headers).

    relay = Relay(cloud_port).start()              # the terminal talks to relay.port
    relay.cut_next(b"firmware-1.0.1.romfs", after=100_000, down_s=5)
    relay.requests()                               # [b"GET /... HTTP/1.1\\r\\n...", ...]
    relay.refuse_next(b"/feedback", b'"closed"', down_s=8)   # a closing feedback never arrives
"""
import socket
import threading
import time


class Relay:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = 0
        self._lsock = None
        self._lock = threading.Lock()
        self._heads = []
        self._cut = None            # (pattern, after) for the next matching request
        self._refuse = None         # (request-line pattern, body pattern, down_s)
        self._then_cut = self._then_refuse = None   # what a test does at the cut / the refusal
        self.refused = 0
        self._down_until = 0.0      # connections refused until then (the link is down)
        self.cuts = 0
        self._stop = threading.Event()

    def start(self):
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", 0))
        self._lsock.listen(16)
        self.port = self._lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="relay").start()
        return self

    def stop(self):
        self._stop.set()
        try:
            self._lsock.close()
        except OSError:
            pass

    def cut_next(self, pattern, after, down_s=0.0, then=None):
        """Cut the next connection whose request line contains `pattern` once `after` bytes of
        the answer went through; then refuse connections for `down_s` seconds.  `then()` runs
        at the cut, before the connection closes (a test pulls the terminal's power there: the
        service has answered, the terminal never reads it)."""
        with self._lock:
            self._cut = (pattern, after, down_s)
            self._then_cut = then

    def down_for(self, seconds):
        """The link is down: connections refused for `seconds` from now (0: up again)."""
        with self._lock:
            self._down_until = time.monotonic() + seconds

    def refuse_next(self, pattern, body, down_s=0.0, then=None):
        """The next request whose request line contains `pattern` and whose body contains `body`
        never reaches the service: its connection is closed unanswered, then connections are
        refused for `down_s` seconds (the cloud unreachable just when that request goes).
        `then()` runs when it is refused (a test pulls the terminal's power mid-request)."""
        with self._lock:
            self._refuse = (pattern, body, down_s)
            self._then_refuse = then

    def _refused(self, c, head):
        """(refused?, head): True when this request is the one to refuse; a request whose body
        was read to look at it comes back with its body whole after the head."""
        with self._lock:
            rule = self._refuse
        if rule is None or rule[0] not in head.split(b"\r\n", 1)[0]:
            return False, head
        top, _, body = head.partition(b"\r\n\r\n")
        length = 0
        for line in top.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(body) < length:
            data = c.recv(4096)
            if not data:
                break
            body += data
        if rule[1] not in body:
            return False, top + b"\r\n\r\n" + body
        with self._lock:
            self._refuse = None
            self.refused += 1
            self._down_until = time.monotonic() + rule[2]
            then, self._then_refuse = self._then_refuse, None
        if then is not None:
            then()
        return True, head

    def requests(self):
        with self._lock:
            return list(self._heads)

    def _accept(self):
        while not self._stop.is_set():
            try:
                c, _ = self._lsock.accept()
            except OSError:
                return
            if time.monotonic() < self._down_until:
                c.close()               # the link is down: connection reset at once
                continue
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            u = socket.create_connection(self.target, timeout=30)
        except OSError:
            c.close()
            return
        head = b""
        limit = then = None
        try:
            c.settimeout(30)
            while b"\r\n\r\n" not in head:
                data = c.recv(4096)
                if not data:
                    return
                head += data
            refused, head = self._refused(c, head)
            if refused:
                return
            with self._lock:
                self._heads.append(head.split(b"\r\n\r\n")[0])
                if self._cut is not None and self._cut[0] in head.split(b"\r\n", 1)[0]:   # the request line
                    limit, down_s = self._cut[1], self._cut[2]
                    then, self._then_cut = self._then_cut, None
                    self._cut = None
            u.sendall(head)
            threading.Thread(target=self._upstream, args=(c, u), daemon=True).start()
            sent = 0
            while True:
                data = u.recv(8192)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    c.sendall(data[:limit - sent])
                    with self._lock:
                        self.cuts += 1
                        self._down_until = time.monotonic() + down_s
                    if then is not None:
                        then()
                    break
                c.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    @staticmethod
    def _upstream(c, u):
        """The rest of the request (a body) to the service."""
        try:
            while True:
                data = c.recv(8192)
                if not data:
                    break
                u.sendall(data)
        except OSError:
            pass
