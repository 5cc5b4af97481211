# TLS to the cloud with its CA pinned in the firmware configuration: the terminal trusts
# exactly the certificate authority whose DER certificate sits on flash (config/cloud_ca.der,
# written at manufacture), verifies the server's chain against it (CERT_REQUIRED) and the
# server's name against the URL's host (mbedTLS checks the DNS or IP subjectAltName given as
# server_hostname, RFC 6125 6.4; asyncio.open_connection passes the host).
#
# Memory: mbedTLS is the largest thing a connection costs (on a board, its context, the
# 16 KB receive record buffer, the 4 KB send buffer and the handshake live on the GC heap).
# So nothing of TLS is kept between requests: a fresh context per connection, dropped with
# it (docs/tms.md, "TLS and the heap").
#
#     pin = PinnedCA("config/cloud_ca.der")
#     status, hdrs, body = await http.request("GET", "https://cloud:8443/x", ssl_context=pin)
from micropython import const

CA_PATH = "config/cloud_ca.der"
_MAX_CA = const(4096)


class TlsError(Exception):
    """The pinned CA is missing or unusable, or the server's certificate was refused."""


class PinnedCA:
    """The cloud's CA, read from flash; `context()` gives a fresh client SSLContext per connection."""
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
        import tls
        ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        ctx.verify_mode = tls.CERT_REQUIRED
        try:
            ctx.load_verify_locations(self._der())
        except ValueError as e:
            raise TlsError("cloud CA %s does not parse: %s" % (self.path, e))
        return ctx


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
