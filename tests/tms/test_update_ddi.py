"""Firmware updates through DDI on the enrolled virtual terminal (frozen firmware in two ROMFS
slots, the host bootloader, the product heap): a rollout installs a release on trial, the
self-test passes and the cloud's action closes as success; a release whose self-test fails is
reverted at the next boot and its action fails with the reason; bad deliveries (a tampered
image byte, tampered or expired metadata, an older version, a truncated artifact) are refused
with the rule in the action's result, nothing armed and the old image running; the cloud
unreachable in the middle of the download leaves the old image running and the download
resumes with an HTTP Range where it stopped."""
import json
import os
import re
import time

import pytest

from cloud.tms import release
from host_sim.fleet import ManagedTerminal


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    base = tmp_path_factory.mktemp("releases")
    out = {}
    for key, version, fault, days in (("1.0.1", "1.0.1", None, 30),
                                      ("1.0.2-broken", "1.0.2", "deliberately broken release", 30),
                                      ("0.0.9", "0.0.9", None, 30),
                                      ("1.0.1-expired", "1.0.1", None, -1)):
        d = str(base / key)
        release.build_release(version, d, fault=fault, expires_days=days)
        out[key] = d
    return out


def _image(rel):
    info = json.load(open(os.path.join(rel, "release.json")))
    return info, open(os.path.join(rel, info["image"]), "rb").read()


def _details(action):
    return [d for h in action["history"] for d in h["details"]]


def _settled(mt, version, timeout=60):
    """Wait until the counter runs again and has reported `version` (after the update's resets)."""
    deadline = time.monotonic() + timeout
    while mt.attributes().get("firmware") != version and time.monotonic() < deadline:
        time.sleep(0.5)
    return mt.attributes().get("firmware")


def _flash_has(mt, rel):
    return os.path.exists(os.path.join(mt.board.flash_dir, rel))


def test_rollout_installs_on_trial_confirms_and_reports_success(releases):
    with ManagedTerminal(poll_s=2, slots=True) as mt:
        assert mt.booted() == (0, False, "0.1.0")
        info, _ = _image(releases["1.0.1"])
        module = mt.publish_release(releases["1.0.1"])
        rollout, action_id = mt.roll_out(module)
        a = mt.wait_action(action_id, timeout=240)
        assert a["state"] == "success", a
        steps = [(h["execution"], h["finished"]) for h in a["history"]]
        assert steps[-1] == ("closed", "success")
        assert ("downloaded", "none") in steps
        progress = [tuple(h["progress"]) for h in a["history"] if h["progress"]]
        assert progress[0] == (0, info["length"]) and progress[-1] == (info["length"], info["length"])
        assert [p[0] for p in progress] == sorted(p[0] for p in progress)          # only forward
        assert a["history"][-1]["details"][0] == "firmware 1.0.1 confirmed after its self-test; running slot 1"
        rec = mt.boot_record()
        assert (rec["confirmed"], rec["trial"], rec["state"], rec["result"], rec["result_version"]) == \
            (1, None, 0, "confirmed", "1.0.1")
        assert rec["versions"] == ["0.1.0", "1.0.1"]
        assert mt.board.cpu.boot_choice.slot == 1
        assert _settled(mt, "1.0.1") == "1.0.1"
        assert mt.api("GET", "/api/v1/tms/rollouts/%d" % rollout["id"])["state"] == "finished"
        for left in ("tms/staged.json", "tms/action.json", "tms/progress.json"):
            assert not _flash_has(mt, left), left


def test_release_whose_selftest_fails_is_reverted_and_reported_failed(releases):
    with ManagedTerminal(poll_s=2, slots=True) as mt:
        module = mt.publish_release(releases["1.0.2-broken"])
        rollout, action_id = mt.roll_out(module)
        a = mt.wait_action(action_id, timeout=240)
        assert a["state"] == "failed", a
        assert a["history"][-1]["execution"] == "closed" and a["history"][-1]["finished"] == "failure"
        assert a["history"][-1]["details"] == [
            "firmware 1.0.2 reverted: self-test fault: deliberately broken release; running 0.1.0"]
        assert any("trial boot armed" in d for d in _details(a))        # it did boot on trial
        rec = mt.boot_record()
        assert (rec["confirmed"], rec["trial"], rec["state"], rec["result"], rec["result_version"]) == \
            (0, None, 0, "reverted", "1.0.2")
        assert rec["result_reason"] == "self-test fault: deliberately broken release"
        assert mt.board.cpu.boot_choice.slot == 0
        assert _settled(mt, "0.1.0") == "0.1.0"
        r = mt.api("GET", "/api/v1/tms/rollouts/%d" % rollout["id"])
        assert r["state"] == "stopped" and "error threshold" in r["reason"]


# ------------------------------------------------------------------ bad input, end to end

@pytest.fixture(scope="module")
def managed(releases):
    with ManagedTerminal(poll_s=2, slots=True, relay=True) as mt:
        yield mt


def _deliver(mt, rel, name, image=None, metadata=None, forced=False):
    module = mt.publish_release(rel, image=image, metadata=metadata, name=name)
    a = mt.api("POST", "/api/v1/tms/actions", {"terminal_id": mt.terminal["id"], "module_id": module["id"],
                                                "forced": forced})
    return mt.wait_action(a["id"], timeout=240)


def _refused(mt, action, reason):
    """The action failed with `reason`; nothing armed, nothing staged, the old image runs."""
    assert action["state"] == "failed", action
    last = action["history"][-1]
    assert last["execution"] == "closed" and last["finished"] == "failure"
    assert re.search(reason, last["details"][0]), last["details"]
    rec = mt.boot_record()
    assert (rec["confirmed"], rec["trial"], rec["state"]) == (0, None, 0), rec
    assert rec["result"] == "none"                 # no trial was ever armed
    for left in ("tms/staged.json", "tms/action.json", "tms/progress.json"):
        assert not _flash_has(mt, left), left
    assert _settled(mt, "0.1.0") == "0.1.0"
    assert mt.board.cpu.boot_choice.slot == 0
    return last["details"][0]


def test_tampered_image_byte_is_refused_after_the_slot_hash(managed, releases):
    _, image = _image(releases["1.0.1"])
    bad = bytearray(image)
    bad[len(bad) // 3] ^= 0x40
    a = _deliver(managed, releases["1.0.1"], "tampered-image", image=bytes(bad))
    _refused(managed, a, "^UpdateError: image hash mismatch: the download is discarded$")
    assert any(h["execution"] == "downloaded" for h in a["history"])      # whole image, then checked


def test_tampered_metadata_is_refused_before_download(managed, releases):
    md = json.loads(open(os.path.join(releases["1.0.1"], "metadata", "targets.json")).read())
    for t in md["signed"]["targets"].values():
        t["length"] += 1
    a = _deliver(managed, releases["1.0.1"], "tampered-metadata",
                 metadata={"targets.json": json.dumps(md).encode()})
    # the snapshot pins the targets file's hash: the edit is caught before any signature
    reason = _refused(managed, a, "^UpdateError: targets.json: ")
    assert "hash mismatch" in reason or "bad signature" in reason
    assert not any(h["execution"] == "download" for h in a["history"])


def test_expired_metadata_is_refused(managed, releases):
    a = _deliver(managed, releases["1.0.1-expired"], "expired-metadata")
    _refused(managed, a, "^UpdateError: timestamp.json: expired at ")


def test_older_version_is_refused(managed, releases):
    a = _deliver(managed, releases["0.0.9"], "older")
    # after an earlier delivery's metadata the TUF versions refuse it; on a fresh terminal the
    # firmware version does: both are rollbacks refused before a byte of the image is fetched
    reason = _refused(managed, a, r"^UpdateError: (timestamp.json: version 9 is older than the trusted 1000001 "
                                  r"\(rollback attack\)|version 0.0.9 is not newer than the installed 0.1.0 "
                                  r"\(rollback refused\))$")
    assert not any(h["execution"] == "download" for h in a["history"]), reason


def test_truncated_artifact_is_refused_before_download(managed, releases):
    info, image = _image(releases["1.0.1"])
    a = _deliver(managed, releases["1.0.1"], "truncated", image=image[:-4096])
    _refused(managed, a, "^UpdateError: artifact %s is %d bytes, the signed target %d: refused before download$"
             % (re.escape(info["image"]), len(image) - 4096, len(image)))
    assert not any(h["execution"] == "download" for h in a["history"])


def test_cloud_unreachable_mid_download_keeps_the_old_image_and_resumes(managed, releases):
    mt = managed
    info, image = _image(releases["1.0.1"])
    mark = mt.board.mark()
    mt.relay.cut_next(info["image"].encode(), after=40000, down_s=4)     # in the first 64 KB window
    module = mt.publish_release(releases["1.0.1"], name="resumed")
    a = mt.api("POST", "/api/v1/tms/actions", {"terminal_id": mt.terminal["id"], "module_id": module["id"]})
    # the link breaks: the terminal starts the counter on the old image
    mt.board.wait_for("firmware download interrupted", 120, mark)
    after = mt.board.mark()
    mt.board.wait_for("smartpos ready", 60, after)
    assert mt.relay.cuts == 1
    assert mt.board.cpu.boot_choice.slot == 0
    rec = mt.boot_record()
    assert (rec["confirmed"], rec["trial"], rec["state"]) == (0, None, 0)
    a = mt.wait_action(a["id"], timeout=240)
    assert a["state"] == "success", a
    resumed = [d for d in _details(a) if d.startswith("resuming ")]
    assert len(resumed) == 1 and "(interrupted: download of %s interrupted" % info["image"] in resumed[0], resumed
    at = int(resumed[0].split(" at byte ")[1].split()[0])
    assert at == 32768              # 40,000 bytes less the reply head: back to the last whole 16 KB block
    ranges = [h for h in mt.relay.requests() if info["image"].encode() in h and b"Range: bytes=%d-" % at in h]
    assert ranges, "no request resumed at byte %d" % at
    rec = mt.boot_record()
    assert (rec["confirmed"], rec["result"], rec["result_version"]) == (1, "confirmed", "1.0.1")
    assert mt.board.cpu.boot_choice.slot == 1


def _window_closed_now(flash_dir):
    """config/update.json with a maintenance window that does not hold the terminal's clock now."""
    t = time.gmtime()
    now = t.tm_hour * 60 + t.tm_min
    with open(os.path.join(flash_dir, "config", "update.json"), "w") as f:
        json.dump({"window": [(now + 120) % 1440, (now + 180) % 1440], "batch_limit": 200, "force": False}, f)


def test_update_waits_for_the_maintenance_window_unless_forced(releases):
    with ManagedTerminal(poll_s=2, slots=True, before_boot=_window_closed_now) as mt:
        module = mt.publish_release(releases["1.0.1"])
        a = mt.api("POST", "/api/v1/tms/actions", {"terminal_id": mt.terminal["id"], "module_id": module["id"]})
        d = mt.wait_action(a["id"], timeout=120, until=("deferred", "success", "failed"))
        assert d["state"] == "deferred", d
        assert d["history"][-1]["execution"] == "rejected"
        assert d["history"][-1]["details"] == ["deferred: outside the maintenance window"]
        assert not _flash_has(mt, "tms/staged.json")
        rec = mt.boot_record()
        assert (rec["confirmed"], rec["trial"], rec["state"]) == (0, None, 0)
        assert mt.board.cpu.boot_choice.slot == 0
        # the operator forces it: the open deferred action is cancelled, the forced one installs
        f = mt.api("POST", "/api/v1/tms/actions", {"terminal_id": mt.terminal["id"], "module_id": module["id"],
                                                    "forced": True})
        assert mt.api("GET", "/api/v1/tms/actions/%d" % a["id"])["state"] == "cancelled"
        f = mt.wait_action(f["id"], timeout=240)
        assert f["state"] == "success", f
        rec = mt.boot_record()
        assert (rec["confirmed"], rec["result"], rec["result_version"]) == (1, "confirmed", "1.0.1")
        assert mt.board.cpu.boot_choice.slot == 1
