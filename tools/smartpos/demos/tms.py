"""Terminal-management scenarios: the cloud service and the virtual terminal enrolled in it.

parameter-push: the operator sets fleet parameters (a contactless limit, receipt lines) and a
terminal override, pushes them; the terminal polls, validates the bundle and applies it (the
new files on its flash, its reported parameter version).  Then a bundle with an unknown
contactless AID is pushed: refused with that reason, the old parameters kept.
"""


def _parameter_push(args):
    from host_sim.fleet import ManagedTerminal
    with ManagedTerminal(poll_s=2) as mt:
        tid = mt.terminal["id"]
        print("terminal %s enrolled as %s/%s; it polls every 2 s" % (mt.serial, mt.identity["tenant"],
                                                                    mt.identity["controller_id"]), flush=True)
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
