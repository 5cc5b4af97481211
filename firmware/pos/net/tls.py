# TLS to the cloud with its CA pinned in the firmware configuration: the terminal trusts
# exactly the certificate authority whose DER certificate sits on flash (config/cloud_ca.der,
# written at manufacture), verifies the server's chain against it (CERT_REQUIRED) and the
# server's name against the URL's host (mbedTLS checks the DNS or IP subjectAltName given as
# server_hostname, RFC 6125 6.4; asyncio.open_connection passes the host).
#
# Memory (docs/tms.md, "TLS and the heap"): mbedTLS takes its memory from the GC heap on a
# board (and on the virtual board, host_sim/tls_probe), and a connection's first two requests
# are its record buffers, 16,717 B and 4,429 B, each in one piece; at Ready the counter's heap
# has room in total but its largest free block is a few KB.  So at boot, while the heap is
# whole, prepare() makes the client context (kept and reused) and takes an arena of the board
# file's TLS_ARENA bytes (the two buffers' blocks) at the TOP of the free heap: every block the
# counter makes later, and every small block of a connection (first fit from the bottom), lands
# below it.  Just before a connection the arena is let go; the two buffers are the only requests
# too big for the holes below, so they land in its hole, and once the connection is closed the
# hole is whole again and the arena is taken back.  The handshake's other requests (about
# 8 KB live at its peak, each under 1 KB) must find room in the counter's own holes: on the
# sim's faithful heap they do not at Ready (docs/tms.md, "TLS and the heap").
#
#     pin = PinnedCA("config/cloud_ca.der")
#     status, hdrs, body = await http.request("GET", "https://cloud:8443/x", ssl_context=pin)
from micropython import const

CA_PATH = "config/cloud_ca.der"
_MAX_CA = const(4096)
_ABOVE = const(512)           # left free above the arena (prepare)
_STEP = const(4096)           # the filler shrinks by this while it does not fit


def _arena_size():
    from pos.board import BOARD
    return BOARD.TLS_ARENA    # the two record buffers' GC blocks (boards/nucleo_f429zi.py)


RESERVE = _arena_size()

_arena = None                 # the reserve while no connection runs (bytearray), else None
_context = None               # (CA path, SSLContext) made at boot, reused by every connection


class TlsError(Exception):
    """The pinned CA is missing or unusable, or the server's certificate was refused."""


class PinnedCA:
    """The cloud's CA, read from flash; `context()` gives the client SSLContext for it."""
    __slots__ = ("path",)

    def __init__(self, path=CA_PATH):
        self.path = path

    def _der(self):
        import os
        try:
            size = os.stat(self.path)[6]
            if not 0 < size <= _MAX_CA:
                raise TlsError("%s is %d bytes: not a CA certificate" % (self.path, size))
            with open(self.path, "rb") as f:
                der = f.read(size)             # exactly its size: no 4 KB block asked of the heap
        except OSError:
            raise TlsError("no cloud CA on this terminal (%s): https is refused" % self.path)
        if len(der) != size or der[0] != 0x30:          # a DER SEQUENCE (X.509)
            raise TlsError("%s is not a DER certificate" % self.path)
        return der

    def context(self):
        """The client context for this CA (made once, kept); the arena is let go first."""
        global _context
        if _context is None or _context[0] != self.path:
            _context = None
            import gc
            gc.collect()
            _context = (self.path, self._make())
        release()
        return _context[1]

    def _make(self):
        import tls
        ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        ctx.verify_mode = tls.CERT_REQUIRED
        try:
            ctx.load_verify_locations(self._der())
        except ValueError as e:
            raise TlsError("cloud CA %s does not parse: %s" % (self.path, e))
        return ctx

    def closed(self):
        """The connection is closed: take the arena back for the next one."""
        reclaim()


def prepare(path=CA_PATH):
    """At boot, while the heap is in one piece: the context for the cloud's CA, and the arena
    where the board needs one.  Returns False when no cloud CA is configured (http only)."""
    global _arena
    import os
    try:
        os.stat(path)
    except OSError:
        return False
    try:
        PinnedCA(path).context()
    except TlsError as e:           # the boot goes on; each https request says the same
        from pos import log
        log.error("tls", "cloud CA unusable", err=str(e))
        return False
    if _arena is None and RESERVE:
        _arena = _arena_at_top()
    return True


def _arena_at_top():
    """The arena taken just under the top of the heap's largest free block: a filler holds the
    space below it while it is taken, then goes (the counter loads into that space)."""
    import gc
    gc.collect()
    size = gc.mem_free() - RESERVE - _ABOVE
    while size > _STEP:
        try:
            filler = bytearray(size)
            try:
                return bytearray(RESERVE)
            finally:
                filler = None
                gc.collect()
        except MemoryError:
            size -= _STEP
    return bytearray(RESERVE)           # no room for a filler: wherever it fits


def release():
    global _arena
    if _arena is not None:
        _arena = None
        import gc
        gc.collect()


def reclaim():
    """Take the arena back after a connection (the hole is whole again once mbedTLS's buffers
    are freed)."""
    global _arena
    if _arena is not None or not RESERVE:
        return True
    import gc
    gc.collect()
    try:
        _arena = bytearray(RESERVE)             # first fit: the arena's own hole, when clean
        return True
    except MemoryError:
        from pos import log
        log.warning("tls", "arena not taken back: the next connection may lack a block", size=RESERVE)
        return False


def refusal(e):
    """A clear reason for a failed TLS handshake (mbedTLS's verify text, or its error code)."""
    text = " ".join(str(e).split())
    if "not correctly signed" in text or "trusted CA" in text:
        return "server certificate not issued by the pinned cloud CA"
    if "CN" in text and "match" in text:
        return "server certificate is for another host name"
    if "expired" in text:
        return "server certificate expired"
    return "TLS handshake failed (%s)" % (text[:80] or type(e).__name__)
