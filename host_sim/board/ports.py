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
        cpu.sinks.append(self._out)
        threading.Thread(target=self._in, daemon=True, name="pty-in").start()

    def _out(self, data):
        try:
            os.write(self.master, data)
        except (BlockingIOError, OSError):
            pass        # nobody reading and the tty buffer is full: characters are lost, as on a UART

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
