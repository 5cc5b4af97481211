# HTTP/1.1 client on asyncio streams, for the cloud service (RFC 9110/9112): one request per
# connection (Connection: close), Content-Length or chunked bodies, a deadline on every
# request, and bodies either returned (small JSON, bounded) or streamed into a sink through one
# preallocated buffer, so a 300 KB download costs the heap one buffer, not the file.
#
#     status, headers, body = await request("GET", "http://127.0.0.1:8700/x", headers={...})
#     status, headers, n = await request("GET", url, sink=slot.write, headers={"Range": "bytes=1024-"})
#     await request("GET", "https://cloud/x", ssl_context=tls.PinnedCA())   # https: the pinned CA only
import asyncio
import time

from micropython import const

_MAX_HEADERS = const(48)
_MAX_LINE = const(1024)
_BUF = const(2048)
_PIECE = const(1024)          # request body written in pieces of this size

_buf = None


class HttpError(Exception):
    """No usable answer: the connection failed, timed out or the reply broke the protocol."""


class CertificateRefused(HttpError):
    """The TLS handshake failed: the server is not the cloud the pinned CA vouches for."""


class Url:
    __slots__ = ("host", "port", "path", "tls")

    def __init__(self, url):
        if url.startswith("http://"):
            rest, self.tls, default = url[7:], False, 80
        elif url.startswith("https://"):
            rest, self.tls, default = url[8:], True, 443
        else:
            raise HttpError("not an http(s) URL: %r" % url[:60])
        i = rest.find("/")
        hostport, self.path = (rest, "/") if i < 0 else (rest[:i], rest[i:])
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
        self.host = host or hostport
        try:
            self.port = int(port) if port else default
        except ValueError:
            raise HttpError("bad port in URL %r" % url[:60])
        if not self.host or not 0 < self.port < 65536:
            raise HttpError("bad URL %r" % url[:60])


def join(base, path):
    """`path` relative to the origin of `base` ("http://h:p/anything" + "/x" -> "http://h:p/x")."""
    if path.startswith("http://") or path.startswith("https://"):
        return path
    i = base.find("/", base.find("//") + 2)
    return (base if i < 0 else base[:i]) + path


async def _readline(reader, deadline):
    line = await _within(reader.readline(), deadline)
    if not line:
        raise HttpError("connection closed in the reply head")
    if len(line) > _MAX_LINE:
        raise HttpError("reply header line too long")
    return line


async def _within(coro, deadline):
    left = time.ticks_diff(deadline, time.ticks_ms())
    if left <= 0:
        raise HttpError("no reply within the timeout")
    try:
        return await asyncio.wait_for_ms(coro, left)
    except asyncio.TimeoutError:
        raise HttpError("no reply within the timeout")


def reserve(size=_BUF):
    """Allocate the one body buffer now (at boot, while the heap is in one piece); later, a
    fragmented heap would get a smaller one (slower, never failing for want of 2 KB in one block)."""
    global _buf
    if _buf is not None:
        return len(_buf)
    while True:
        try:
            _buf = bytearray(size)
            return size
        except MemoryError:
            if size <= 128:
                raise
            import gc
            gc.collect()
            size //= 2


async def _read_into(reader, n, deadline, sink, collect):
    size = reserve()
    mv = memoryview(_buf)
    got = 0
    while got < n:
        want = min(size, n - got)
        k = await _within(reader.readinto(mv[:want]), deadline)
        if not k:
            raise HttpError("connection closed after %d of %d body bytes" % (got, n))
        if sink is not None:
            sink(mv[:k])
        else:
            collect.extend(mv[:k])
        got += k
    return got


def _tls_failure(e):
    """A handshake refusal: mbedTLS reports verify failures as ValueError, others as negative codes."""
    return isinstance(e, ValueError) or (isinstance(e, OSError) and e.args and isinstance(e.args[0], int)
                                         and e.args[0] < 0)


def _tls_refused(u, e):
    from pos.net.tls import refusal
    return CertificateRefused("TLS to %s:%d refused: %s" % (u.host, u.port, refusal(e)))


def _errno_name(e):
    code = e.args[0] if e.args else 0
    return {104: "connection reset", 111: "connection refused", 113: "no route to host",
            110: "timed out"}.get(code, "error %s" % code)


async def request(method, url, headers=None, body=None, sink=None, timeout_ms=15000, max_body=16384,
                  ssl_context=None, on_head=None):
    """Returns (status, headers as {lowercase name: value}, body bytes or byte count with `sink`).
    `on_head(status, headers)`, when given, runs before the body streams into `sink`."""
    u = Url(url)
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    ctx = None
    if u.tls:
        if ssl_context is None:
            raise HttpError("https needs the pinned CA context of the cloud configuration")
        from pos.net.tls import TlsError
        try:
            ctx = ssl_context.context()         # made at boot and kept (pos.net.tls)
        except TlsError as e:
            ssl_context.closed()
            raise HttpError(str(e))
    try:
        if ctx is not None:
            conn = asyncio.open_connection(u.host, u.port, ssl=ctx)
        else:
            conn = asyncio.open_connection(u.host, u.port)
        reader, writer = await _within(conn, deadline)
    except HttpError:
        if ctx is not None:
            ssl_context.closed()
        raise
    except Exception as e:
        if ctx is not None:
            ctx = None
            ssl_context.closed()
        if u.tls and _tls_failure(e):
            raise _tls_refused(u, e)
        raise HttpError("cannot connect to %s:%d (%s)" % (u.host, u.port, str(e) or type(e).__name__))
    status = None
    try:
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nUser-Agent: smartpos\r\n" % (
            method, u.path, u.host, u.port)
        for k in (headers or ()):
            head += "%s: %s\r\n" % (k, headers[k])
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        writer.write(head.encode() + b"\r\n")
        await _within(writer.drain(), deadline)     # over TLS the handshake runs here, before the body
        if body is not None:
            # a piece at a time: a write the socket takes only in part (a TLS record is at most
            # 4 KB) leaves the rest in the stream's buffer as a copy, at most one piece here,
            # never the whole body (a 9.6 KB screenshot found no such block beside the counter)
            body = memoryview(body)
            for i in range(0, len(body), _PIECE):
                writer.write(body[i:i + _PIECE])
                await _within(writer.drain(), deadline)
        status_line = await _readline(reader, deadline)
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError("not an HTTP reply")
        try:
            status = int(parts[1])
        except ValueError:
            raise HttpError("bad status code in the reply")
        hdrs = {}
        for _ in range(_MAX_HEADERS + 1):
            line = await _readline(reader, deadline)
            if line in (b"\r\n", b"\n"):
                break
            name, sep, value = line.partition(b":")
            if not sep:
                raise HttpError("malformed reply header")
            hdrs[name.strip().lower().decode()] = value.strip().decode()
        else:
            raise HttpError("too many reply headers")
        if on_head is not None:
            on_head(status, hdrs)
        collect = bytearray() if sink is None else None
        n = 0
        if method == "HEAD" or status in (204, 304):
            pass
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size_line = await _readline(reader, deadline)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise HttpError("bad chunk size")
                if size == 0:
                    while (await _readline(reader, deadline)) not in (b"\r\n", b"\n"):
                        pass
                    break
                if sink is None and n + size > max_body:
                    raise HttpError("reply body over %d bytes" % max_body)
                n += await _read_into(reader, size, deadline, sink, collect)
                await _readline(reader, deadline)
        elif "content-length" in hdrs:
            try:
                length = int(hdrs["content-length"])
            except ValueError:
                raise HttpError("bad Content-Length")
            if length < 0 or (sink is None and length > max_body):
                raise HttpError("reply body of %d bytes refused (limit %d)" % (length, max_body))
            n = await _read_into(reader, length, deadline, sink, collect)
        else:
            raise HttpError("reply without a length (neither Content-Length nor chunked)")
        return status, hdrs, (n if sink is not None else bytes(collect))
    except (OSError, ValueError) as e:  # refused, reset: a non-blocking connect reports on first use
        if u.tls and status is None and _tls_failure(e):    # the handshake runs on the first write
            raise _tls_refused(u, e)
        if isinstance(e, ValueError) and not u.tls:
            raise
        raise HttpError("link to %s:%d failed (%s)" % (u.host, u.port, _errno_name(e)))
    finally:
        try:
            writer.close()
            await writer.wait_closed()
        except Exception:
            pass
        if ctx is not None:
            reader = writer = ctx = None
            ssl_context.closed()                # the TLS arena back (pos.net.tls)
