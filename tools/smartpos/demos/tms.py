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
