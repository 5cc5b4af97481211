"""When the terminal lets a firmware deployment go (pos.tms.update_stage, the "os" handler at run
time, and pos.tms.policy), on real MicroPython with the board's heap: a soft deployment is deferred
while a transaction is in progress, while the open batch is past its limit and outside the
maintenance window, with the reason the cloud shows; one that may go is staged on flash for
the install at startup and the terminal restarts; a forced one skips the batch limit and the
window."""
import json
import os

from host_sim.mpy import run

PRELUDE = """
import sys, asyncio, os
class Reset(Exception):
    pass
class Machine:
    def reset(self):
        raise Reset()
sys.modules["machine"] = Machine()
from pos.tms.update_stage import FirmwareStager
from pos.tms.ddi import Deferred
class Txn:
    def __init__(self, state, acq="alpha", batch=1):
        self.state, self.acq, self.batch = state, acq, batch
    def charged(self):
        return self.state == "approved"
class Engine:
    def __init__(self, states):
        self.txns = {i: Txn(s) for i, s in enumerate(states)}
        self.batches = {"alpha": 1}
class Dep:
    def __init__(self, forced, window=""):
        self.action_id, self.forced, self.maintenance_window = "7", forced, window
class Chunk:
    name, version, artifacts = "smartpos", "1.0.1", ()
    def artifact(self, filename):
        return None
class Client:
    root = "http://cloud/default/controller/v1/T-1"
reports = []
async def report(execution, details=(), progress=None):
    reports.append((execution, list(details)))
def attempt(states, forced=False, window=""):
    try:
        asyncio.run(FirmwareStager(lambda: Engine(states)).run(Client(), Dep(forced, window), Chunk(), report))
        print("RAN")
    except Deferred as e:
        print("DEFERRED", e)
    except Reset:
        print("RESET", open("tms/staged.json").read(), reports[-1])
        os.remove("tms/staged.json")
"""


def _run(tmp_path, body, policy):
    os.makedirs(tmp_path / "config", exist_ok=True)
    with open(tmp_path / "config" / "update.json", "w") as f:
        json.dump(policy, f)
    return run(PRELUDE + body, heap="192K", cwd=str(tmp_path)).splitlines()


def test_busy_terminal_defers_a_soft_deployment_and_a_free_one_is_staged(tmp_path):
    out = _run(tmp_path, """
attempt(["sent"])
attempt(["approved", "approved", "approved"])
attempt(["approved", "approved"])
attempt([])
""", {"window": None, "batch_limit": 2, "force": False})
    assert out[0] == "DEFERRED deferred while busy: transaction in progress"
    assert out[1] == "DEFERRED deferred while busy: batch open with 3 transactions (limit 2): settle first"
    for line in out[2:4]:
        assert line.startswith("RESET ")
        staged = json.loads(line[6:line.index("}") + 1])
        assert staged == {"action": "7", "href": "http://cloud/default/controller/v1/T-1/deploymentBase/7",
                          "forced": False}
        assert line.endswith("('proceeding', ['firmware smartpos 1.0.1: restarting to install it'])")


def test_maintenance_window_defers_unless_forced(tmp_path):
    import time
    t = time.gmtime()
    now = t.tm_hour * 60 + t.tm_min
    out = _run(tmp_path, """
attempt([])
attempt([], window="unavailable")
attempt(["approved", "approved", "approved"], forced=True)
""", {"window": [(now + 60) % 1440, (now + 90) % 1440], "batch_limit": 2, "force": False})
    assert out[0] == "DEFERRED deferred: outside the maintenance window"
    assert out[1] == "DEFERRED deferred: outside the maintenance window"
    assert out[2].startswith("RESET ") and '"forced": true' in out[2]     # window and batch limit skipped
