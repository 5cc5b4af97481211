"""Terminal-management scenarios: the cloud service and the virtual terminal enrolled in it.

remote-update / update-rollback: a firmware release rolled out to the virtual terminal (two
ROMFS slots, the bootloader): installed on trial and confirmed after its self-test, or, for a
release whose self-test fails, reverted to the old slot at the next boot and reported failed.

parameter-push: the operator sets fleet parameters (a contactless limit, receipt lines) and a
terminal override, pushes them; the terminal polls, validates the bundle and applies it (the
new files on its flash, its reported parameter version).  Then a bundle with an unknown
contactless AID is pushed: refused with that reason, the old parameters kept.
"""


def _parameter_push(args):
    from host_sim.fleet import ManagedTerminal
    with ManagedTerminal(poll_s=2) as mt:
        tid = mt.terminal["id"]
        print("terminal %s enrolled as %s/%s; it polls %s every 2 s" % (mt.serial, mt.identity["tenant"],
                                                                    mt.identity["controller_id"],
                                                                    mt.cloud.url), flush=True)
        before = mt.flash_json("config/contactless.json")["aids"]["A0000000031010"]["rctl"]
        mt.api("PUT", "/api/v1/tms/parameters/operator/0", {"files": {
            "contactless.json": {"aids": {"A0000000031010": {"rctl": 30000, "cvm_limit": 5000}}},
            "terminal.json": {"receipt_header": ["SMARTPOS TEST FLEET"]}}})
        mt.api("PUT", "/api/v1/tms/parameters/terminal/%d" % tid, {"files": {
            "terminal.json": {"receipt_footer": ["THANK YOU - COUNTER 1"]}}})
        pushed = mt.api("POST", "/api/v1/tms/parameters/push", {"terminal_ids": [tid]})[0]
        print("pushed parameters version %d as action %d" % (pushed["version"], pushed["action_id"]), flush=True)
        a = mt.wait_action(pushed["action_id"])
        for h in a["history"]:
            print("  feedback %-10s %-7s %s" % (h["execution"], h["finished"], "; ".join(h["details"])))
        cl = mt.flash_json("config/contactless.json")["aids"]["A0000000031010"]
        term = mt.flash_json("config/terminal.json")
        applied = (a["state"] == "success" and cl["rctl"] == 30000 and cl["floor"] == 2000
                   and term.get("receipt_header") == ["SMARTPOS TEST FLEET"]
                   and term.get("receipt_footer") == ["THANK YOU - COUNTER 1"])
        print("contactless limit for A0000000031010: %d -> %d (floor kept at %d)" % (before, cl["rctl"], cl["floor"]))
        mt.api("PUT", "/api/v1/tms/parameters/terminal/%d" % tid, {"files": {
            "contactless.json": {"aids": {"A0000009999999": {"kernel": 3, "rctl": 100, "cvm_limit": 0, "floor": 0}}}}})
        bad = mt.api("POST", "/api/v1/tms/parameters/push", {"terminal_ids": [tid]})[0]
        b = mt.wait_action(bad["action_id"])
        reason = b["history"][-1]["details"][0] if b["history"] else ""
        print("bad bundle version %d: %s (%s)" % (bad["version"], b["state"], reason))
        kept = mt.flash_json("config/contactless.json")
        refused = (b["state"] == "failed" and "unknown AID" in reason and "A0000009999999" not in kept["aids"]
                   and kept["aids"]["A0000000031010"]["rctl"] == 30000)
        import time
        deadline = time.monotonic() + 20
        while mt.attributes().get("params_version") != str(pushed["version"]) and time.monotonic() < deadline:
            time.sleep(0.5)
        reported = mt.attributes().get("params_version") == str(pushed["version"])
        ok = applied and refused and reported
        return ok, ("parameters v%d applied (limit 30000, receipt lines), v%d refused (%s), terminal reports v%s"
                    % (pushed["version"], bad["version"], reason, mt.attributes().get("params_version"))
                    if ok else "applied=%s refused=%s reported=%s" % (applied, refused, reported))


SCENARIOS = {"parameter-push": _parameter_push}


def _key_injection(args):
    """A KEK loaded at manufacture, registered with the cloud; PIN and MAC keys pushed as TR-31
    blocks; the terminal verifies and stores them (KCVs match the cloud's).  Then a replayed
    version, a block with a wrong MAC and a block whose usage does not fit its slot: each
    refused and reported, the stored keys unchanged."""
    from cloud.tms import keys as tr31keys
    from host_sim.fleet import ManagedTerminal
    from smartpos.commands.keys import write_to_flash
    kek = tr31keys.generate_kek("A")
    with ManagedTerminal(poll_s=2, before_boot=lambda flash: write_to_flash(flash, kek)) as mt:
        tid = mt.terminal["id"]
        print("terminal %s enrolled; it polls %s" % (mt.serial, mt.cloud.url), flush=True)
        print("KEK %s loaded at manufacture; KCV %s" % (kek.describe(), kek.kcv()), flush=True)
        reg = mt.api("PUT", "/api/v1/terminals/%d/kek" % tid, {"key": kek.key.hex(), "algorithm": "A"})
        print("KEK registered with the cloud: KCV %s" % reg["kcv"], flush=True)
        pushed = mt.api("POST", "/api/v1/tms/keys/push", {"terminal_ids": [tid], "acquirer": "alpha",
                                                          "slots": ["pin", "mac"], "key_version": 1})[0]
        a = mt.wait_action(pushed["action_id"])
        print("push v01 (pin, mac): %s; %s" % (a["state"], "; ".join(a["history"][-1]["details"])), flush=True)
        stored = mt.stored_key_blocks("alpha")
        good = a["state"] == "success" and {s: stored.get(s, [None, None, None])[2] for s in ("pin", "mac")} == \
            pushed["kcvs"]
        print("terminal holds KCVs %s; the cloud made %s" % ({s: v[2] for s, v in stored.items()}, pushed["kcvs"]))
        refusals = []
        # a replay: version 01 again
        again = mt.api("POST", "/api/v1/tms/keys/push", {"terminal_ids": [tid], "acquirer": "alpha",
                                                         "slots": ["pin"], "key_version": 1})[0]
        refusals.append(("replayed version", mt.wait_action(again["action_id"])))
        # a block with one character of its MAC changed, and a MAC key offered as the PIN key
        blk = tr31keys.wrap_working_key(kek, "pin", tr31keys.generate_working_key("pin"), 5)
        bad_mac = blk[:-1] + ("0" if blk[-1] != "0" else "1")
        wrong_usage = tr31keys.wrap_working_key(kek, "mac", tr31keys.generate_working_key("mac"), 5)
        for what, blocks in (("wrong MAC", {"pin": bad_mac}), ("MAC key in the PIN slot", {"pin": wrong_usage})):
            refusals.append((what, mt.deploy_key_blocks("alpha", blocks)))
        ok = good
        for what, r in refusals:
            reason = r["history"][-1]["details"][0] if r["history"] else ""
            print("%-24s -> %s: %s" % (what, r["state"], reason), flush=True)
            ok = ok and r["state"] == "failed"
        after = mt.stored_key_blocks("alpha")
        unchanged = after == stored
        print("stored keys unchanged after the refusals: %s" % unchanged)
        ok = ok and unchanged
        return ok, ("PIN and MAC keys injected (KCV %s, %s), 3 bad deliveries refused, keys unchanged"
                    % (pushed["kcvs"]["pin"], pushed["kcvs"]["mac"]) if ok else "key injection checks failed")


SCENARIOS["key-injection"] = _key_injection


def _release(version, fault=None):
    """A release folder for `version` (built from this repository's firmware)."""
    import tempfile
    from cloud.tms import release
    out = tempfile.mkdtemp(prefix="smartpos-release-%s-" % version)
    return out, release.build_release(version, out, fault=fault)


def firmware_update(version, fault=None):
    """Roll a release out to the virtual terminal (two ROMFS slots, the bootloader) and follow
    it to the closed action.  Returns (mt-independent) facts for the scenario's verdict."""
    import shutil
    import time
    from host_sim.board import bootloader
    from host_sim.fleet import ManagedTerminal
    rel, info = _release(version, fault)
    try:
        with ManagedTerminal(poll_s=2, slots=True) as mt:
            slot, _, before = mt.booted()
            print("terminal %s enrolled at %s; running firmware %s from slot %d" % (mt.serial, mt.cloud.url, before,
                                                                                   slot), flush=True)
            module = mt.publish_release(rel)
            print("release %s published: %s (%d bytes, SHA-256 %s...)%s" % (
                version, info["image"], info["length"], info["sha256"][:16],
                " with a self-test fault" if fault else ""), flush=True)
            t0 = time.monotonic()
            rollout, action_id = mt.roll_out(module)
            print("rollout %d: group 'managed terminal', stage 100%%, action %d" % (rollout["id"], action_id),
                  flush=True)
            a = mt.wait_action(action_id, timeout=300)
            elapsed = time.monotonic() - t0
            for h in a["history"]:
                prog = " %d/%d" % tuple(h["progress"]) if h["progress"] else ""
                print("  feedback %-10s %-7s%s %s" % (h["execution"], h["finished"], prog, "; ".join(h["details"])))
            rec = mt.boot_record()
            m = mt.board.mark()
            deadline = time.monotonic() + 60          # the counter comes up on the slot that won
            while mt.attributes().get("firmware") != rec["versions"][rec["confirmed"]] and time.monotonic() < deadline:
                time.sleep(0.5)
            out = mt.board.console()
            if out.rfind("soft reboot") > out.rfind("smartpos ready"):    # a restart still coming up
                mt.board.wait_for("smartpos ready", 60, m)
            now_slot = mt.board.cpu.boot_choice.slot
            attrs = mt.attributes()
            print("boot-control record: confirmed slot %d, trial %s, last result %s %s%s" % (
                rec["confirmed"], rec["trial"], rec["result"], rec["result_version"],
                (" (%s)" % rec["result_reason"]) if rec["result_reason"] else ""))
            print("running slot %d, firmware %s as reported to the cloud" % (now_slot, attrs.get("firmware")))
            download_ms = meta_ms = install_ms = None
            for d in _details(a):
                if " bytes in " in d and "; metadata checked in " in d:
                    download_ms = int(d.split(" bytes in ")[1].split()[0])
                    meta_ms = int(d.split("; metadata checked in ")[1].split()[0])
                elif "(SHA-256 in " in d:
                    install_ms = int(d.split("(SHA-256 in ")[1].split()[0])
            return {"action": a, "record": rec, "slot": now_slot, "firmware": attrs.get("firmware"),
                    "before": before, "elapsed": elapsed, "download_ms": download_ms, "meta_ms": meta_ms,
                    "install_ms": install_ms,
                    "image": info["length"], "slots_flash": bootloader.SLOT_COUNT * bootloader.SLOT_SIZE}
    finally:
        shutil.rmtree(rel, ignore_errors=True)


def _details(action):
    return [d for h in action["history"] for d in h["details"]]


def _figures(r):
    return ("TUF metadata checked in %s ms, image downloaded into the slot in %s ms, SHA-256 over the slot + "
            "trial armed in %s ms, rollout to closed action (restarts and self-test included) %.1f s; "
            "image %d bytes; flash for the two slots %d KiB (image %.0f%% of a slot)"
            % (r["meta_ms"], r["download_ms"], r["install_ms"], r["elapsed"], r["image"],
               r["slots_flash"] // 1024, 200.0 * r["image"] / r["slots_flash"]))


def _remote_update(args):
    """A new release rolled out to the virtual terminal: downloaded into the inactive slot,
    booted on trial, self-tested, confirmed, reported as success."""
    r = firmware_update("1.0.1")
    a, rec = r["action"], r["record"]
    ok = (a["state"] == "success" and rec["result"] == "confirmed" and rec["confirmed"] == 1
          and rec["trial"] is None and r["slot"] == 1 and r["firmware"] == "1.0.1")
    return ok, ("firmware %s -> 1.0.1 installed on trial in slot 1, self-test passed, confirmed; action %s; %s"
                % (r["before"], a["state"], _figures(r)) if ok else
                "action %s, boot record %s, running slot %s firmware %s" % (a["state"], rec, r["slot"], r["firmware"]))


def _update_rollback(args):
    """A release whose trial-boot self-test fails: reverted to the old slot at the next boot and
    reported as failed with the reason."""
    fault = "deliberately broken release"
    r = firmware_update("1.0.2", fault=fault)
    a, rec = r["action"], r["record"]
    reason = a["history"][-1]["details"][0] if a["history"] else ""
    ok = (a["state"] == "failed" and rec["result"] == "reverted" and rec["result_version"] == "1.0.2"
          and rec["confirmed"] == 0 and rec["trial"] is None and r["slot"] == 0
          and r["firmware"] == r["before"] and fault in reason)
    return ok, ("firmware 1.0.2 booted on trial, self-test failed, reverted to slot 0 (%s); action failed: %s; %s"
                % (r["firmware"], reason, _figures(r)) if ok else
                "action %s (%s), boot record %s, running slot %s firmware %s"
                % (a["state"], reason, rec, r["slot"], r["firmware"]))


SCENARIOS["remote-update"] = _remote_update
SCENARIOS["update-rollback"] = _update_rollback
