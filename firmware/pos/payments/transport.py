# TCP (optionally TLS) connection to an acquirer host, MicroPython `socket`.
#
# Messages are framed by pos.iso8583.framing (2-byte length header).  A
# connect failure on the primary host tries the secondary; a broken link is
# reopened on the next send (reconnect), and so is a kept-open connection the
# host has closed while idle (acquirers drop idle links).  All waits are bounded
# by timeouts.
import select
import socket
import time
from pos import log
from pos.payments.errors import ConnectError, NoResponse, BadReply


def closed_by_host(sock):
    """True when a kept-open connection is readable before a request went out: the
    host closed it (EOF, reset) or left bytes nobody asked for; either way a fresh
    connection is the safe place for the next request."""
    p = select.poll()
    p.register(sock, select.POLLIN)
    return bool(p.poll(0))


class Endpoint:
    __slots__ = ("host", "port", "tls")

    def __init__(self, host, port, tls=False):
        self.host = host
        self.port = port
        self.tls = tls

    def __repr__(self):
        return "%s:%d%s" % (self.host, self.port, " tls" if self.tls else "")


class Link:
    """One acquirer's connection: primary then secondary endpoint."""

    def __init__(self, endpoints, connect_timeout_ms=3000, header=2, max_message=2048):
        self.endpoints = endpoints
        self.connect_timeout = connect_timeout_ms / 1000
        self.header = header
        self.sock = None
        self.raw = None
        self.connected_to = None
        self._hdr = bytearray(2)
        self._buf = bytearray(max_message)

    def _open(self, ep):
        ai = socket.getaddrinfo(ep.host, ep.port)[0]
        s = socket.socket(ai[0], socket.SOCK_STREAM)
        self.raw = s              # timeouts are set on the TCP socket (also under TLS)
        try:
            s.settimeout(self.connect_timeout)
            s.connect(ai[-1])
            if ep.tls:
                import ssl
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.verify_mode = ssl.CERT_NONE   # host identity by MAC (working keys)
                s = ctx.wrap_socket(s, server_hostname=ep.host)
        except Exception:
            s.close()
            raise
        return s

    def connect(self):
        if self.sock is not None:
            return self.connected_to
        last = None
        for ep in self.endpoints:
            try:
                self.sock = self._open(ep)
                self.connected_to = ep
                if ep is not self.endpoints[0]:
                    log.warning("link", "primary host unreachable; using secondary", host=repr(ep))
                return ep
            except Exception as e:     # OSError, TLS handshake failure
                last = e
                log.warning("link", "connect failed", host=repr(ep), err=str(e))
        raise ConnectError("no connection to %s (%s)" % (", ".join(repr(e) for e in self.endpoints), last))

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.connected_to = None

    def send(self, frame):
        """Send one framed message (connects if needed)."""
        if self.sock is not None and closed_by_host(self.raw):
            log.info("link", "connection closed by the host while idle; reconnecting",
                     host=repr(self.connected_to))
            self.close()
        self.connect()
        try:
            self.sock.write(frame) if hasattr(self.sock, "write") else self.sock.sendall(frame)
        except Exception as e:
            self.close()
            # the host may have read part or all of it
            raise NoResponse("send failed: %s" % e, sent=True)

    def _read_into(self, mv, deadline):
        got = 0
        n = len(mv)
        while got < n:
            left = time.ticks_diff(deadline, time.ticks_ms())
            if left <= 0:
                raise NoResponse("no reply within the timeout", sent=True)
            try:
                self.raw.settimeout(left / 1000)
                k = self.sock.readinto(mv[got:]) if hasattr(self.sock, "readinto") else None
                if k is None:
                    chunk = self.sock.recv(n - got)
                    k = len(chunk)
                    mv[got:got + k] = chunk
            except Exception as e:     # OSError, or an SSL error the port raises otherwise
                self.close()
                if "ETIMEDOUT" in str(e) or (e.args and e.args[0] in (110, 11)):
                    raise NoResponse("no reply within the timeout", sent=True)
                raise NoResponse("link error while reading: %s" % e, sent=True)
            if not k:
                self.close()
                raise NoResponse("host closed the connection", sent=True)
            got += k

    def receive(self, timeout_ms):
        """Payload of the next message (after the length header), as a memoryview."""
        deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
        if self.sock is None:
            raise NoResponse("not connected", sent=True)
        self._read_into(memoryview(self._hdr), deadline)
        ln = (self._hdr[0] << 8) | self._hdr[1]
        if ln == 0 or ln > len(self._buf):
            self.close()
            raise BadReply("reply length header %d out of range" % ln, sent=True)
        mv = memoryview(self._buf)[:ln]
        self._read_into(mv, deadline)
        return mv
