"""The virtual board's REPL ports: a pty (like the ST-LINK's USB serial port) and a raw TCP port.

Both carry exactly the bytes a USART3 REPL would: no telnet, no framing.
Several clients may be connected at once; the board's output goes to all.
"""
import os
import socket
import threading
import tty


class PtyPort:
    """A pseudo-terminal whose slave is the board's serial port (``link`` makes a stable symlink)."""

    def __init__(self, cpu, link=None):
        self.cpu = cpu
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)             # no echo, no line discipline: a plain serial line
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.link = link
        if link:
            try:
                if os.path.islink(link) or os.path.exists(link):
                    os.unlink(link)
            except OSError:
                pass
            os.symlink(self.path, link)
        self._closed = False
        # the board's output waits here for the reader (a pty holds only a few KB): a USB serial
        # adapter's driver buffers what the board sends while a program reads the port, so
        # `mpremote` gets a long listing whole; with nobody reading for STALE_S it is dropped
        self._pending = bytearray()
        self._ready = threading.Condition()
        cpu.sinks.append(self._out)
        threading.Thread(target=self._in, daemon=True, name="pty-in").start()
        threading.Thread(target=self._writer, daemon=True, name="pty-out").start()

    PENDING_MAX = 256 * 1024      # what the adapter's side holds at most; the oldest goes first
    STALE_S = 2.0                 # nobody read for this long: what waits is lost, as on a UART

    def _out(self, data):
        with self._ready:
            self._pending += data
            over = len(self._pending) - self.PENDING_MAX
            if over > 0:
                del self._pending[:over]
            self._ready.notify()

    def _writer(self):
        import select
        import time
        stalled = None
        while not self._closed:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait(0.5)
                chunk = bytes(self._pending[:4096])
            if self._closed:
                return
            try:
                _, w, _ = select.select([], [self.master], [], 0.2)
                n = os.write(self.master, chunk) if w else 0
            except BlockingIOError:
                n = 0
            except (OSError, ValueError):
                return
            now = time.monotonic()
            with self._ready:
                if n:
                    del self._pending[:n]
                    stalled = None
                elif stalled is None:
                    stalled = now
                elif now - stalled > self.STALE_S:
                    self._pending = bytearray()     # nobody reading: lost, as on a UART
                    stalled = None

    def _in(self):
        import select
        while not self._closed:
            r, _, _ = select.select([self.master], [], [], 0.5)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return
            if data:
                self.cpu.write(data)

    def close(self):
        self._closed = True
        with self._ready:
            self._ready.notify_all()
        if self._out in self.cpu.sinks:
            self.cpu.sinks.remove(self._out)
        if self.link:
            try:
                if os.path.islink(self.link) and os.readlink(self.link) == self.path:
                    os.unlink(self.link)
            except OSError:
                pass
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


class SocketPort:
    """Raw TCP on 127.0.0.1 (``socket://127.0.0.1:PORT`` for pyserial/mpremote)."""

    def __init__(self, cpu, port=0, host="127.0.0.1"):
        self.cpu = cpu
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((host, port))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.url = "socket://%s:%d" % (host, self.port)
        self.clients = []
        self._lock = threading.Lock()
        cpu.sinks.append(self._out)
        threading.Thread(target=self._accept, daemon=True, name="repl-tcp").start()

    def _out(self, data):
        with self._lock:
            clients = list(self.clients)
        for c in clients:
            try:
                c.sendall(data)
            except OSError:
                self._drop(c)

    def _drop(self, c):
        with self._lock:
            if c in self.clients:
                self.clients.remove(c)
        try:
            c.close()
        except OSError:
            pass

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.settimeout(5)         # a client that stops reading is dropped, not waited for
            with self._lock:
                self.clients.append(c)
            threading.Thread(target=self._client, args=(c,), daemon=True).start()

    def _client(self, c):
        while True:
            try:
                data = c.recv(4096)
            except socket.timeout:
                if c in self.clients:
                    continue        # idle client: still connected
                break
            except OSError:
                break
            if not data:
                break
            self.cpu.write(data)
        self._drop(c)

    def close(self):
        if self._out in self.cpu.sinks:
            self.cpu.sinks.remove(self._out)
        self.srv.close()
        for c in list(self.clients):
            self._drop(c)
