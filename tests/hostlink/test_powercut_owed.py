"""The power-cut sweep waits for the terminal to be idle before it compares the host's
records, the journal and the batch.  "Idle" must include what the boot reconciliation has
still to queue: an approval of the open batch with no batch entry (the power went between
the host's reply and the batch write).  Ready is drawn before that reconciliation runs, so a
sweep that compared at Ready alone saw the approval charged with no batch entry."""
import json
import os
import struct
import zlib

from host_sim.powercut import Sweep


def _record(r):
    payload = json.dumps(r).encode()
    head = struct.pack(">H", len(payload))
    return b"\xa5" + head + payload + struct.pack(">I", zlib.crc32(head + payload))


class _Rig:
    def __init__(self, d):
        self.flash_dir = str(d)
        os.makedirs(os.path.join(self.flash_dir, "config"))
        with open(os.path.join(self.flash_dir, "config", "acquirers.json"), "w") as f:
            json.dump({"acquirers": {"alpha": {"tid": "T0000001"}}}, f)

    def journal(self, *records):
        with open(os.path.join(self.flash_dir, "journal.bin"), "wb") as f:
            for r in records:
                f.write(_record(r))

    def batch(self):
        p = os.path.join(self.flash_dir, "batch.jsonl")
        return [json.loads(x) for x in open(p)] if os.path.exists(p) else []

    def record(self, e):
        with open(os.path.join(self.flash_dir, "batch.jsonl"), "a") as f:
            f.write(json.dumps(e) + "\n")


REQ = {"t": "req", "stan": 27, "acq": "alpha", "kind": "sale", "amt": 3500, "batch": 1}
RESP = {"t": "resp", "stan": 27, "rc": "00"}


def test_an_approval_with_no_batch_entry_is_owed_until_reversed(tmp_path):
    rig = _Rig(tmp_path)
    sweep = Sweep(rig, log=lambda *a: None)
    rig.journal(REQ, RESP)
    assert sweep.owed() == ["STAN 000027 approved, no batch entry"]
    rig.journal(REQ, RESP, {"t": "rev", "stan": 27, "why": "unrecorded"})
    assert sweep.owed() == ["STAN 000027 reversing"]
    rig.journal(REQ, RESP, {"t": "rev", "stan": 27}, {"t": "rev_ok", "stan": 27})
    assert sweep.owed() == []


def test_a_recorded_approval_or_one_of_a_settled_batch_is_not_owed(tmp_path):
    rig = _Rig(tmp_path)
    sweep = Sweep(rig, log=lambda *a: None)
    rig.journal(REQ, RESP, {"t": "done", "stan": 27, "ok": True})
    rig.record({"tender": "card", "ok": True, "stan": "000027", "kind": "sale", "amount": 3500})
    assert sweep.owed() == []
    os.remove(os.path.join(rig.flash_dir, "batch.jsonl"))       # settled: a new batch is open
    rig.journal(REQ, RESP, {"t": "done", "stan": 27, "ok": True},
                {"t": "stl", "acq": "alpha", "batch": 1})
    assert sweep.owed() == []
    # a declined sale or a pre-authorisation moves no money: nothing to reverse
    rig.journal(REQ, {"t": "resp", "stan": 27, "rc": "05"})
    assert sweep.owed() == []
    rig.journal(dict(REQ, kind="preauth"), RESP)
    assert sweep.owed() == []
