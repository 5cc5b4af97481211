# Diagnostics on request (DDI chunk part "diag"): the operator's console asks for the recent
# log lines or a screenshot of the display; this handler, loaded only for such a request,
# reads what is asked (request.json: {"request", "what": "logs"|"screen", "lines", "upload"})
# and uploads it to the cloud with the terminal's TargetToken:
#
#     PUT {controller}/{upload}                         logs: text/plain, the last lines
#     PUT {controller}/{upload}?width=240&height=320    screen: the display's 1-bit framebuffer
#
# Log lines come from the log book that pos.tms.logbook writes (redacted when they were logged: masked PANs, no PIN,
# track data or keys).  The screenshot is the framebuffer the display driver draws into (rows
# of bits, most significant bit leftmost, 1 = ink), sent as it is, without a copy.
import json

from micropython import const

from pos.net import http

_MAX_REQUEST = const(512)
_MAX_LINES = const(200)


def tail(lines, previous="log/recent.1", current="log/recent.txt"):
    """The last `lines` lines of the log book (pos.tms.logbook) as bytes, oldest first."""
    import os
    sizes = []
    for path in (previous, current):
        try:
            sizes.append(os.stat(path)[6])
        except OSError:
            sizes.append(0)
    buf = bytearray(sizes[0] + sizes[1])
    mv = memoryview(buf)
    got = 0
    for path, n in zip((previous, current), sizes):
        if n:
            try:
                with open(path, "rb") as f:
                    got += f.readinto(mv[got:got + n])
            except OSError:
                pass
    end = got
    i = end - 1 if end and buf[end - 1] == 10 else end
    while i > 0 and lines > 0:
        i -= 1
        if buf[i] == 10:
            lines -= 1
    start = i + 1 if lines == 0 else 0
    return bytes(mv[start:end])


class DiagError(Exception):
    """A diagnostics request this terminal cannot answer; the message says why."""


class DiagHandler:
    def __init__(self, token):
        self.token = token          # fn() -> the DDI TargetToken (hex)

    async def run(self, client, dep, chunk, report):
        art = chunk.artifact("request.json")
        if art is None or not 0 < art.size <= _MAX_REQUEST:
            raise DiagError("request.json missing or over %d bytes" % _MAX_REQUEST)
        buf = bytearray(art.size)
        got = [0]

        def sink(mv):
            n = min(len(mv), len(buf) - got[0])
            buf[got[0]:got[0] + n] = mv[:n]
            got[0] += n
        await client.download(art, sink)
        try:
            req = json.loads(buf)
            what, upload = req["what"], req["upload"]
        except (ValueError, KeyError, TypeError):
            raise DiagError("malformed request.json")
        if what == "logs":
            body = tail(min(int(req.get("lines", 100)), _MAX_LINES))
            query, ctype = "", "text/plain; charset=utf-8"
            done = "sent %d log lines" % body.count(b"\n")
        elif what == "screen":
            from pos import hw
            d = hw.display()                      # the driver main.py made (its frame buffer)
            if d is None:
                raise DiagError("no display on this terminal")
            body = memoryview(d.buf)
            query, ctype = "?width=%d&height=%d" % (d.width, d.height), "application/octet-stream"
            done = "sent a %dx%d screenshot" % (d.width, d.height)
        else:
            raise DiagError("unknown diagnostics request %r" % (what,))
        headers = {"Authorization": "TargetToken " + self.token(), "Content-Type": ctype}
        try:
            st, _, _ = await http.request("PUT", "%s/%s%s" % (client.root, upload, query), headers, body,
                                          timeout_ms=client.timeout_ms, ssl_context=client.ssl_context)
        except http.HttpError as e:
            raise DiagError("upload failed: %s" % e)
        if st not in (200, 204):
            raise DiagError("upload answered %d" % st)
        return True, [done]
