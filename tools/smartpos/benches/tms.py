"""Terminal management on the virtual terminal (frozen firmware, the sim's heap): what the DDI
agent costs between polls and during a poll (against the counter with every task running), a
parameter bundle applied end to end, and the cloud's DDI poll served in-process.

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


BENCHES = {"tms-terminal": terminal, "tms-cloud-poll": cloud_poll}
