"""The firmware's DDI client (pos.tms.ddi over pos.net.http) on real MicroPython with the
board's heap, against the cloud service's device API."""
import hashlib
import http.server
import json
import threading

import pytest

from host_sim.mpy import run

IMAGE = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(70000))


@pytest.fixture
def cloud(tmp_path):
    from cloud.server import CloudServer
    from cloud.settings import Settings
    srv = CloudServer(Settings(data_dir=str(tmp_path / "cloud"), port=0, ddi_poll_s=42,
                               bootstrap_admin_password="admin-password-1")).start()
    from fastapi.testclient import TestClient
    api = TestClient(srv.app)
    tok = api.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-password-1"}).json()["token"]
    admin = {"Authorization": "Bearer " + tok}
    reg = api.post("/api/v1/terminals", json={"serial": "T-1"}, headers=admin).json()
    ident = api.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "T-1"}).json()
    yield {"srv": srv, "api": api, "admin": admin, "terminal": reg["terminal"], "token": ident["target_token"]}
    srv.stop()


def _release(c, version="1.0.1", data=IMAGE, forced=False):
    api, admin = c["api"], c["admin"]
    m = api.post("/api/v1/tms/modules", json={"kind": "firmware", "name": "smartpos", "version": version},
                 headers=admin).json()
    api.put("/api/v1/tms/modules/%d/artifacts/firmware.img" % m["id"], content=data,
            headers=dict(admin, **{"Content-Type": "application/octet-stream"}))
    return api.post("/api/v1/tms/actions", json={"terminal_id": c["terminal"]["id"], "module_id": m["id"],
                                                 "forced": forced}, headers=admin).json()


PRELUDE = """
import asyncio, hashlib, binascii, gc
from pos.tms.ddi import DdiClient, Agent, DdiError, DOWNLOADED
client = DdiClient(%r, "default", "T-1", %r)

class ToHash:
    # streams the artifact into SHA-256 (as a slot writer would stream it into flash)
    def __init__(self, fail=None):
        self.fail = fail
    async def run(self, client, dep, chunk, report):
        art = chunk.artifact("firmware.img")
        h = hashlib.sha256()
        n = await client.download(art, h.update)
        await report(DOWNLOADED, ["%%d bytes" %% n])
        digest = binascii.hexlify(h.digest()).decode()
        if digest != art.sha256:
            return False, ["sha256 mismatch"]
        if self.fail:
            return False, [self.fail]
        return True, ["verified %%s" %% digest[:8]]
"""


def _mp(c, body, heap="192K"):
    code = PRELUDE % (c["srv"].url, c["token"]) + body
    return run(code, heap=heap, timeout=120)


def test_poll_config_and_a_deployment_end_to_end(cloud):
    a = _release(cloud)
    out = _mp(cloud, """
agent = Agent(client, attributes=lambda: {"model": "f429", "fw": "1.0.0", "heap_free": gc.mem_free()},
              handlers={"os": ToHash()})
async def main():
    print("sleep", await agent.step())
    print("last", agent.last_action)
    p = await client.poll()
    print("links", sorted(p.links))
asyncio.run(main())
""")
    assert "sleep 42" in out and "last ('%d', True)" % a["id"] in out
    assert "links ['configData', 'installedBase']" in out
    got = cloud["api"].get("/api/v1/tms/actions/%d" % a["id"], headers=cloud["admin"]).json()
    assert got["state"] == "success"
    execs = [(h["execution"], h["finished"]) for h in got["history"]]
    assert execs == [("proceeding", "none"), ("downloaded", "none"), ("closed", "success")]
    assert got["history"][2]["details"][0].startswith("verified ")
    assert got["history"][1]["details"] == ["%d bytes" % len(IMAGE)]
    t = cloud["api"].get("/api/v1/terminals/%d" % cloud["terminal"]["id"], headers=cloud["admin"]).json()
    assert t["last_seen_at"]


def test_a_failing_handler_closes_the_action_as_failure(cloud):
    a = _release(cloud)
    _mp(cloud, """
agent = Agent(client, handlers={"os": ToHash(fail="self-test: printer does not answer")})
asyncio.run(agent.step())
""")
    got = cloud["api"].get("/api/v1/tms/actions/%d" % a["id"], headers=cloud["admin"]).json()
    assert got["state"] == "failed" and got["history"][-1]["details"] == ["self-test: printer does not answer"]


def test_a_handler_short_of_heap_is_tried_again_then_fails(cloud):
    """A MemoryError in a handler is the terminal's passing state: the action stays open and is
    tried at the next polls (a fresh agent each, as the service builds them); the third
    shortage closes it as failed with the reason."""
    a = _release(cloud)
    out = _mp(cloud, """
class Short(ToHash):
    left = 2
    async def run(self, client, dep, chunk, report):
        if Short.left:
            Short.left -= 1
            raise MemoryError("memory allocation failed, allocating 1016 bytes")
        return await ToHash.run(self, client, dep, chunk, report)
retries = {}
async def main():
    for i in range(3):
        try:
            await Agent(client, handlers={"os": Short()}, retries=retries).step()
            print("step", i, "done", retries)
        except MemoryError:
            print("step", i, "short", retries)
asyncio.run(main())
""")
    aid = repr(str(a["id"]))                  # DDI action ids travel as strings
    assert "step 0 short {%s: 1}" % aid in out and "step 1 short {%s: 2}" % aid in out, out
    assert "step 2 done {}" in out, out
    got = cloud["api"].get("/api/v1/tms/actions/%d" % a["id"], headers=cloud["admin"]).json()
    assert got["state"] == "success", got
    # always short: closed as failed on the third try, nothing left open
    b = _release(cloud, version="1.0.2")
    out = _mp(cloud, """
class Never(ToHash):
    async def run(self, client, dep, chunk, report):
        raise MemoryError("memory allocation failed, allocating 1016 bytes")
retries = {}
async def main():
    for i in range(3):
        try:
            await Agent(client, handlers={"os": Never()}, retries=retries).step()
            print("step", i, "closed", retries)
        except MemoryError:
            print("step", i, "short")
asyncio.run(main())
""")
    assert "step 2 closed {}" in out, out
    got = cloud["api"].get("/api/v1/tms/actions/%d" % b["id"], headers=cloud["admin"]).json()
    assert got["state"] == "failed", got
    assert got["history"][-1]["details"] == ["MemoryError: memory allocation failed, allocating 1016 bytes (tried 3 times)"]


def test_busy_terminal_defers_a_soft_update(cloud):
    a = _release(cloud)
    _mp(cloud, """
agent = Agent(client, handlers={"os": ToHash()}, busy=lambda: "transaction in progress")
asyncio.run(agent.step())
""")
    got = cloud["api"].get("/api/v1/tms/actions/%d" % a["id"], headers=cloud["admin"]).json()
    assert got["state"] == "deferred" and got["history"][-1]["details"] == ["deferred: transaction in progress"]


def test_unknown_part_is_refused_with_a_reason(cloud):
    api, admin = cloud["api"], cloud["admin"]
    m = api.post("/api/v1/tms/modules", json={"kind": "app", "name": "topup", "version": "1.0"}, headers=admin).json()
    api.put("/api/v1/tms/modules/%d/artifacts/app.mpy" % m["id"], content=b"x",
            headers=dict(admin, **{"Content-Type": "application/octet-stream"}))
    a = api.post("/api/v1/tms/actions", json={"terminal_id": cloud["terminal"]["id"], "module_id": m["id"]},
                 headers=admin).json()
    _mp(cloud, "asyncio.run(Agent(client, handlers={'os': ToHash()}).step())\n")
    got = api.get("/api/v1/tms/actions/%d" % a["id"], headers=admin).json()
    assert got["state"] == "failed" and "no handler for part 'bApp'" in got["history"][-1]["details"][0]


def test_cancel_is_confirmed(cloud):
    a = _release(cloud)
    api, admin = cloud["api"], cloud["admin"]
    # the terminal saw the action (proceeding), then the operator cancels it
    from sqlalchemy import text
    with cloud["srv"].app.state.engine.begin() as c:
        c.execute(text("UPDATE actions SET state='downloading'"))
    api.post("/api/v1/tms/actions/%d/cancel" % a["id"], headers=admin)
    _mp(cloud, "asyncio.run(Agent(client, handlers={'os': ToHash()}).step())\n")
    assert api.get("/api/v1/tms/actions/%d" % a["id"], headers=admin).json()["state"] == "cancelled"


def test_download_resumes_from_an_offset(cloud):
    a = _release(cloud)
    out = _mp(cloud, """
async def main():
    d = await client.deployment((await client.poll()).links["deploymentBase"])
    art = d.chunks[0].artifact("firmware.img")
    h = hashlib.sha256()
    end = await client.download(art, h.update, offset=50000)
    print("end", end, binascii.hexlify(h.digest()).decode())
asyncio.run(main())
""")
    assert "end %d %s" % (len(IMAGE), hashlib.sha256(IMAGE[50000:]).hexdigest()) in out
    assert a["id"]


class _NoRangeServer(http.server.BaseHTTPRequestHandler):
    """A server that ignores Range (answers 200 with everything), as some CDNs do."""
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(IMAGE)))
        self.end_headers()
        self.wfile.write(IMAGE)

    def log_message(self, *a):
        pass


def test_download_from_a_server_that_ignores_range_drops_what_is_there(cloud):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoRangeServer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        out = _mp(cloud, """
from pos.tms.ddi import Artifact
art = Artifact({"filename": "f", "size": %d, "_links": {"download": {"href": "http://127.0.0.1:%d/f"}}})
h = hashlib.sha256()
print("end", asyncio.run(client.download(art, h.update, offset=1234)), binascii.hexlify(h.digest()).decode())
""" % (len(IMAGE), srv.server_address[1]))
    finally:
        srv.shutdown()
    assert "end %d %s" % (len(IMAGE), hashlib.sha256(IMAGE[1234:]).hexdigest()) in out


def test_wrong_token_and_unreachable_cloud_are_ddi_errors(cloud):
    out = _mp(cloud, """
bad = DdiClient(%r, "default", "T-1", "0" * 32)
for c in (bad, DdiClient("http://127.0.0.1:9", "default", "T-1", "x")):
    try:
        asyncio.run(c.poll())
    except DdiError as e:
        print("refused", e.status, str(e)[:40])
""" % cloud["srv"].url)
    lines = [l for l in out.splitlines() if l.startswith("refused")]
    assert lines[0].startswith("refused 401") and lines[1].startswith("refused 0 cloud unreachable")


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",                     # short body
    b"garbage\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n{}",                  # over the JSON limit
    b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 60 + b"\r\n",                   # too many headers
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{]",                       # not JSON
    b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n{\"config\": {\"polling\": 5}}  ",  # wrong shape
])
def test_malformed_server_answers_are_ddi_errors(cloud, reply):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)

    def serve():
        conn, _ = s.accept()
        conn.recv(4096)
        conn.sendall(reply)
        conn.close()
    threading.Thread(target=serve, daemon=True).start()
    out = _mp(cloud, """
c = DdiClient("http://127.0.0.1:%d", "default", "T-1", "x", timeout_ms=3000)
try:
    asyncio.run(c.poll())
    print("accepted")
except DdiError as e:
    print("DdiError", e)
""" % s.getsockname()[1])
    s.close()
    assert "DdiError" in out and "accepted" not in out
