"""An overloaded cloud answers 503 (or 429) with Retry-After: the terminal's DDI client, on real
MicroPython with the board's heap, waits that long (bounded to an hour) before its next poll,
in the agent's loop and in the terminal-management task the firmware runs; without a usable
Retry-After the back-off applies."""
import http.server
import json
import threading

import pytest

from host_sim.mpy import run

POLL_200 = (200, {}, json.dumps({"config": {"polling": {"sleep": "00:05:00"}}}).encode())
# what the server answers, one poll after the other, and the wait the terminal must take after it
SCRIPT = [((503, {"Retry-After": "7"}, b'{"detail": "overloaded"}'), 7),
          ((429, {"Retry-After": "86400"}, b'{"detail": "slow down"}'), 3600),     # bounded to 1 h
          ((503, {}, b'{"detail": "overloaded"}'), 5),                              # no Retry-After: back-off
          ((503, {"Retry-After": "Fri, 31 Dec 1999 23:59:59 GMT"}, b"{}"), 10),     # a date: back-off (doubled)
          ((500, {"Retry-After": "2"}, b"{}"), 20),                                 # not 503/429: back-off
          ((503, {"Retry-After": "0"}, b"{}"), 1),                                  # at least 1 s
          (POLL_200, 300)]                                                          # served: the polling interval


class _Scripted(http.server.BaseHTTPRequestHandler):
    answers = []
    seen = []

    def do_GET(self):
        self.seen.append(self.path)
        status, headers, body = self.answers.pop(0) if self.answers else POLL_200
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    _Scripted.answers = [a for a, _ in SCRIPT]
    _Scripted.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


# asyncio.wait_for records the wait asked for instead of waiting (the loops sleep on a push event
# with the wait as the timeout); the loop is stopped once every answer has been seen
RECORD = """
import asyncio
waits = []
class Enough(Exception):
    pass
async def recorded(aw, timeout):
    waits.append(timeout)
    if len(waits) == %d:
        raise Enough()
    raise asyncio.TimeoutError()
asyncio.wait_for = recorded
"""


def test_the_agent_loop_waits_as_the_server_says(server):
    out = run(RECORD % len(SCRIPT) + """
from pos.tms.ddi import DdiClient, DdiError, Agent
client = DdiClient(%r, "default", "T-1", "00" * 16)
try:
    asyncio.run(client.poll())
except DdiError as e:
    print("first", e.status, e.retry_s)
waits.clear()
try:
    asyncio.run(Agent(client).run(asyncio.Event()))
except Enough:
    print("waits", waits)
""" % server, heap="192K", timeout=120)
    assert "first 503 7" in out, out
    # the first answer was used by the single poll above: the loop starts from the second
    expected = [w for _, w in SCRIPT[1:]] + [300]
    assert "waits %s" % expected in out, out


def test_the_firmware_management_task_waits_as_the_server_says(server, tmp_path):
    out = run(RECORD % len(SCRIPT) + """
from pos.tms import service
service._config = lambda: (%r, "default", "T-1", None)
service.target_token = lambda: "00" * 16
try:
    asyncio.run(service.task())
except Enough:
    print("waits", waits)
""" % server, heap="192K", timeout=120, cwd=str(tmp_path))
    assert "waits %s" % [w for _, w in SCRIPT] in out, out
    assert len(_Scripted.seen) == len(SCRIPT) and all(p == "/default/controller/v1/T-1" for p in _Scripted.seen)
