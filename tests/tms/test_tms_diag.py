"""The log book and the diagnostics handler on real MicroPython: lines are kept redacted, the
book rotates within its bound, `tail` answers the last lines; a malformed request is refused
with its reason."""
import os

from host_sim.mpy import run


def test_log_book_keeps_redacted_lines_and_rotates(tmp_path):
    out = run("""
import os
from pos import log
from pos.tms import logbook, diag
log.add_sink(logbook.append)
log.info("emv", "card read", pan="4111111111111111", track2="4111111111111111=2512", pin="1234")
log.warning("host", "declined 5413330089010434 by issuer")
for i in range(600):
    log.info("ddi", "poll", n=i)
print("SIZES", os.stat("log/recent.txt")[6], os.stat("log/recent.1")[6])
t = diag.tail(3)
print("TAIL", repr(t))
print("LINES", diag.tail(1000).count(b"\\n"))
""", cwd=str(tmp_path))
    sizes = [ln for ln in out.splitlines() if ln.startswith("SIZES")][0].split()
    assert 0 < int(sizes[1]) <= 4096 + 40 and int(sizes[2]) > 4096         # bounded, rotated once at least
    tail = [ln for ln in out.splitlines() if ln.startswith("TAIL")][0]
    assert tail == "TAIL b'INFO ddi poll n=597\\nINFO ddi poll n=598\\nINFO ddi poll n=599\\n'"
    lines = int([ln for ln in out.splitlines() if ln.startswith("LINES")][0].split()[1])
    assert 150 < lines < 500                      # the oldest lines have gone
    # the lines still print as pos.log prints them
    assert "INFO ddi poll n=599" in out
    # and the card lines never reached flash or console in clear
    book = b""
    for name in ("recent.1", "recent.txt"):
        p = tmp_path / "log" / name
        if p.exists():
            book += p.read_bytes()
    assert b"4111111111111111" not in book and b"5413330089010434" not in book and b"1234" not in out.encode()


def test_log_book_survives_no_file_and_a_full_flash(tmp_path):
    out = run("""
from pos.tms import logbook, diag
print("EMPTY", repr(diag.tail(10)))
open("log", "w").close()                      # a file where the folder should be: nothing can be kept
logbook.append("INFO app still here")
print("NOTHING", repr(diag.tail(10, "x/1", "x/2")))
print("OK")
""", cwd=str(tmp_path))
    assert "EMPTY b''" in out and "NOTHING b''" in out and "INFO app still here" in out and "OK" in out


def test_malformed_request_is_refused_with_a_reason(tmp_path):
    out = run("""
import asyncio
from pos.tms import diag
from pos.tms.ddi import Chunk

class Client:
    root, timeout_ms, ssl_context = "http://127.0.0.1:9", 1000, None
    def __init__(self, body):
        self.body = body
    async def download(self, art, sink, offset=0):
        sink(memoryview(self.body))
        return len(self.body)

def chunk(size):
    return Chunk({"part": "diag", "artifacts": [{"filename": "request.json", "size": size,
                                                 "_links": {"download": {"href": "/x"}}}]})

async def main():
    h = diag.DiagHandler(lambda: "00")
    for body, size in ((b"{not json", 9), (b'{"what": "disk", "upload": "diagnostics/1"}', 43), (b"x" * 600, 600)):
        try:
            await h.run(Client(body), None, chunk(size), None)
        except diag.DiagError as e:
            print("REFUSED", e)
    try:
        await h.run(Client(b'{"what": "logs", "upload": "diagnostics/1"}'), None, chunk(43), None)
    except diag.DiagError as e:
        print("REFUSED", e)
asyncio.run(main())
""", cwd=str(tmp_path))
    refused = [ln for ln in out.splitlines() if ln.startswith("REFUSED")]
    assert refused[0] == "REFUSED malformed request.json"
    assert refused[1] == "REFUSED unknown diagnostics request 'disk'"
    assert refused[2] == "REFUSED request.json missing or over 512 bytes"
    assert refused[3].startswith("REFUSED upload failed: link to 127.0.0.1:9 failed")
