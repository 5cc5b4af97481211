"""The idle heap while the cloud is unreachable (docs/offline.md, "Memory"): on the frozen
firmware on the product heap, the counter's own cloud requests (the DDI poll of the
terminal-management loop, the campaigns, the used coupons and the catalog of the scheduled pull)
answered once, then failing N times in a row; the idle heap after the failures stays within
MARGIN bytes of the idle heap after the answered one.  A failed DDI poll used to keep 7.4 KB
(the unloaded pos.tms.ddi module, held by the failure left in the loop's frame)."""
import json
import os
import re
import socket
import threading

import pytest

from host_sim import catalog
from host_sim.board import VirtualBoard
from host_sim.fleet import add_token_to_kld, write_cloud_config
from host_sim.rig import PRODUCT_HEAP, provision

MARGIN = 512
FAILS = 2
TOKEN = "5a" * 16


class Cloud:
    """The cloud's device API as the counter sees it: each kind of request answered
    `ok[kind]` more times, then its connection closed unanswered (the cloud unreachable)."""
    ANSWERS = {
        "ddi": (200, [("Content-Type", "application/hal+json")], None),      # the polling interval: sleep
        "marketing": (204, [], b""),
        "coupons": (200, [("X-Coupons-Through", "0")], b""),
        "catalog": (204, [], b""),
    }

    def __init__(self):
        self.ok = dict.fromkeys(self.ANSWERS, 1)    # the counter's first requests at boot answered
        self.sleep = "00:05:00"                     # and its polls then 5 minutes apart
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def kind(line):
        path = line.split()[1].decode()
        for k in ("marketing", "coupons", "catalog"):
            if "/%s" % k in path:
                return k
        return "ddi"

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.settimeout(10)
                head = b""
                try:
                    while b"\r\n\r\n" not in head:
                        data = c.recv(4096)
                        if not data:
                            break
                        head += data
                    kind = self.kind(head.split(b"\r\n", 1)[0])
                    if self.ok[kind] <= 0:
                        continue                    # closed unanswered
                    self.ok[kind] -= 1
                    st, hdrs, body = self.ANSWERS[kind]
                    if body is None:
                        body = b'{"config": {"polling": {"sleep": "%s"}}, "_links": {}}' % self.sleep.encode()
                    out = ["HTTP/1.1 %d X" % st, "Content-Length: %d" % len(body), "Connection: close"]
                    out += ["%s: %s" % h for h in hdrs]
                    c.sendall(("\r\n".join(out) + "\r\n\r\n").encode() + body)
                except (OSError, IndexError):
                    pass

    def close(self):
        self.sock.close()


# What the counter logs once each of its tasks waits (the cloud answered at boot): only then is
# main.py interrupted, never in the middle of its work.
AT_REST = ("app running", "tms agent idle", "pull round")

# Run at the counter's REPL once main.py is interrupted: main.py's globals (pull_due) are the
# REPL's; the counter's own tasks are let go so that only the loop under test polls.
SETUP = r"""
import asyncio, gc, time
asyncio.new_event_loop()
from pos import log
from pos.tms import service
from pos.app import shell
seen = {}
def _count(line):
    for k in ("agent idle", "poll failed", "feed not reached", "used coupons not fetched", "catalog kept",
              "coupons used coupons", "pull catalog"):
        if k in line:
            seen[k] = seen.get(k, 0) + 1
log.add_sink(_count)
class _Stack:
    top = None
    def redraw(self):
        pass
_stack = _Stack()
def _free():
    gc.collect()
    gc.collect()
    return gc.mem_free()
async def _settled(key, n):
    while seen.get(key, 0) < n:
        await asyncio.sleep_ms(20)
    most = 0
    for _ in range(4):                     # the loop back in its wait: the most of a few looks
        await asyncio.sleep_ms(300)
        most = max(most, _free())
    return most
async def ddi_probe(n):
    t = asyncio.create_task(service.task())
    before = await _settled("agent idle", 1)
    after = await _settled("poll failed", n)
    t.cancel()
    print("HEAP ddi", before, after, seen.get("poll failed", 0))
async def pull_probe(kind, n, failed):
    idle = lambda: True
    def due():
        now, later = time.ticks_ms(), time.ticks_add(time.ticks_ms(), 3600000)
        return [now if kind == "catalog" else later, later if kind == "catalog" else now, False]
    await pull_due(_stack, idle, due())     # answered
    before = _free()
    for _ in range(n):
        await pull_due(_stack, idle, due())
    after = _free()
    print("HEAP", kind, before, after, seen.get(failed, 0))
"""


@pytest.fixture(scope="module")
def counter(tmp_path_factory):
    cloud = Cloud()

    def prov(flash):
        provision(flash, {})
        write_cloud_config(flash, "http://127.0.0.1:%d" % cloud.port,
                           identity={"tenant": "default", "controller_id": "POS-HEAP"})
        add_token_to_kld(os.path.join(flash, "keys.kld"), TOKEN)
        with open(os.path.join(flash, "config", "promotions.json"), "w") as f:
            json.dump({"programs": []}, f)          # coupons checked: the used ones are pulled
        catalog.write(os.path.join(flash, "catalog.bin"), catalog.sample(3), version=1)

    try:
        with VirtualBoard(tmp_path_factory.mktemp("flash"), firmware="frozen", heap=PRODUCT_HEAP, pty=False,
                          provision=prov) as board:
            for line in AT_REST:
                board.wait_for(line, 120)
            board.exec(SETUP, timeout=60)
            yield cloud, board
    finally:
        cloud.close()


def _heap(board, call, timeout=90):
    out = board.exec(call, timeout=timeout)
    m = re.search(r"^HEAP \w+ (\d+) (\d+) (\d+)$", out, re.M)
    assert m, out
    return [int(x) for x in m.groups()]


def test_failed_ddi_polls_leave_the_idle_heap_as_it_was(counter):
    cloud, board = counter
    cloud.sleep = "00:00:05"                        # the first poll answered (the next in 5 s), then the
    cloud.ok["ddi"] = 1                             # cloud away
    before, after, failed = _heap(board, "asyncio.run(ddi_probe(%d))" % FAILS)
    assert failed >= FAILS
    assert after >= before - MARGIN, "idle heap %d B after %d failed polls, %d B before" % (after, FAILS, before)


@pytest.mark.parametrize("kind,failed", [("marketing", "feed not reached"), ("coupons", "used coupons not fetched"),
                                         ("catalog", "catalog kept")])
def test_failed_pulls_leave_the_idle_heap_as_it_was(counter, kind, failed):
    cloud, board = counter
    cloud.ok.update(marketing=1, coupons=1, catalog=1)
    if kind == "coupons":
        cloud.ok["marketing"] = 1 + FAILS           # the campaigns answered: the coupons are asked for
    before, after, seen = _heap(board, "asyncio.run(pull_probe(%r, %d, %r))" % (kind, FAILS, failed))
    assert seen >= FAILS
    assert after >= before - MARGIN, "idle heap %d B after %d failed %s pulls, %d B before" % (
        after, FAILS, kind, before)
