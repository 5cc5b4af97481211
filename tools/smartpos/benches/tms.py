"""Terminal management on the virtual terminal (frozen firmware, the sim's heap): what the DDI
agent costs between polls and during a poll (against the counter with every task running), a
poll's round trip, a parameter bundle applied end to end (downloaded, the restart, checked and
applied at boot, reported), a signed bundle's checks at boot, and the cloud's DDI poll served
in-process.

Recorded (256K, 2026-11-27): agent between polls 21,024 B before the client was unloaded
between polls, 11,040 B after; during a poll 23,584 B before, 24,672 B after (docs/tms.md).
"""
import time


def _logged_heap(board, what, timeout=60):
    """heap_free of the terminal's own log line `what` ("app ready": main.py before its tasks
    start; "app running": every task started and settled; "tms agent idle": after the agent's
    first poll, its client unloaded)."""
    import re
    pattern = r"%s heap_free=(\d+)" % what
    deadline = time.monotonic() + timeout
    while not re.search(pattern, board.console()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return int(re.search(pattern, board.console()).group(1))


def terminal():
    from host_sim.board import VirtualBoard
    from host_sim.fleet import ManagedTerminal
    from host_sim.rig import PRODUCT_HEAP, provision
    with VirtualBoard(heap=PRODUCT_HEAP, firmware="frozen", provision=lambda d: provision(d, {}), pty=False) as vb:
        plain = _logged_heap(vb, "app ready")
        plain_running = _logged_heap(vb, "app running")
    with ManagedTerminal(poll_s=2) as mt:
        deadline = time.monotonic() + 60
        while not mt.attributes() and time.monotonic() < deadline:
            time.sleep(0.2)
        enrolled = _logged_heap(mt.board, "app ready")
        idle = _logged_heap(mt.board, "tms agent idle")
        polling = int(mt.attributes()["heap_free"])     # measured by the agent itself, in a poll, after gc
        mt.api("PUT", "/api/v1/tms/parameters/operator/0",
               {"files": {"contactless.json": {"aids": {"A0000000031010": {"rctl": 30000}}}}})
        t0 = time.monotonic()
        pushed = mt.api("POST", "/api/v1/tms/parameters/push", {"terminal_ids": [mt.terminal["id"]]})[0]
        mt.wait_action(pushed["action_id"])
        push_s = time.monotonic() - t0
    return [("heap free at Ready, not enrolled (%s, frozen)" % PRODUCT_HEAP, plain, "B"),
            ("heap free with every task running, not enrolled", plain_running, "B"),
            ("heap free at Ready, enrolled (body buffer reserved)", enrolled, "B"),
            ("heap free between polls, enrolled (DDI client unloaded)", idle, "B"),
            ("DDI agent at idle: body buffer, service, task (running - between)", plain_running - idle, "B"),
            ("DDI agent during a poll (running - heap it reports)", plain_running - polling, "B"),
            ("  as this bench counted it before (Ready, not enrolled - heap in a poll)", plain - polling, "B"),
            ("parameter push to applied (no MQTT: the next poll, 2 s)", push_s, "s")]


def cloud_poll():
    import tempfile
    from fastapi.testclient import TestClient
    from cloud.app import create_app
    from cloud.settings import Settings
    app = create_app(Settings(data_dir=tempfile.mkdtemp(), bootstrap_admin_password="bench-password-1"))
    c = TestClient(app)
    h = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={"username": "admin",
                                                                         "password": "bench-password-1"}).json()["token"]}
    reg = c.post("/api/v1/terminals", json={"serial": "B-1"}, headers=h).json()
    tok = c.post("/api/v1/enroll", json={"activation_code": reg["activation_code"], "serial": "B-1"}).json()["target_token"]
    d = {"Authorization": "TargetToken " + tok}
    n = 300
    t0 = time.perf_counter()
    for _ in range(n):
        c.get("/default/controller/v1/B-1", headers=d)
    dt = (time.perf_counter() - t0) / n
    app.state.engine.dispose()
    return [("DDI poll served in-process (SQLite, one thread)", dt * 1000, "ms"),
            ("  polls per second, one worker thread", 1 / dt, "/s")]


def signed_params():
    """A signed parameter bundle (params.swu) checked and applied at boot by
    params.finish_staged() on MicroPython with the board's heap: three RSA-2048 signatures,
    the archive read in 512-byte pieces, the content checks and the swap."""
    import datetime
    import json
    import os
    import shutil
    import tempfile
    from cloud.tms import release
    from cloud.tms.parameters import bundle_swu, signed_bundle
    from host_sim.mpy import FIRMWARE_DIR, run
    tmp = tempfile.mkdtemp(prefix="smartpos-bench-params-")
    try:
        shutil.copytree(os.path.join(FIRMWARE_DIR, "config"), os.path.join(tmp, "config"))
        with open(os.path.join(FIRMWARE_DIR, "config", "contactless.json")) as f:
            cl = json.load(f)
        cl.pop("_comment", None)
        data = json.dumps({"version": 2, "files": {"contactless.json": cl, "terminal.json": {
            "receipt_footer": ["THANK YOU"]}}}).encode()
        now = datetime.datetime.now(datetime.timezone.utc)
        raw = bundle_swu(signed_bundle(data, "B-1", 2, release.load_keys(),
                                       expires=now + datetime.timedelta(days=1)), "B-1", 2)
        with open(os.path.join(tmp, "params.staged"), "wb") as f:
            f.write(raw)
        with open(os.path.join(tmp, "params.ticket"), "w") as f:
            json.dump({"action": "1", "controller": "B-1"}, f)
        out = run("import gc, time\ngc.collect()\nfree = gc.mem_free()\nt = time.ticks_ms()\n"
                  "from pos.tms import params\nr = params.finish_staged(reset=lambda: None)\n"
                  "print('T', time.ticks_diff(time.ticks_ms(), t), r[0])\n", cwd=tmp)
        ms, ok = out.split("T ")[1].split()[:2]
        if ok != "True":
            raise RuntimeError("the bundle was refused: %s" % out[-300:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [("signed parameter bundle (params.swu)", len(raw), "B"),
            ("  checked (3 RSA-2048 signatures) and applied at boot, 192K heap", int(ms), "ms")]


BENCHES = {"tms-terminal": terminal, "tms-cloud-poll": cloud_poll, "tms-signed-params": signed_params}
