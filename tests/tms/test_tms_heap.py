"""The enrolled terminal at the sim's heap (frozen firmware, 256K on the 64-bit port): deliveries of
every kind in one boot, each judged by what the cloud records and what the terminal's flash holds."""
import warnings


def test_keys_then_parameters_in_one_boot():
    """After a key delivery the interned-name pool is close to its next part (docs/tms.md,
    Interned names); the parameter handler that runs beside the counter only downloads the
    bundle (pos.tms.staging) and the checks run at the restart, so both fit in one boot."""
    from cloud.tms import keys as tr31keys
    from host_sim.fleet import ManagedTerminal
    from smartpos.commands.keys import write_to_flash
    warnings.filterwarnings("ignore", module="psec")
    kek = tr31keys.generate_kek("A")
    with ManagedTerminal(poll_s=2, before_boot=lambda flash: write_to_flash(flash, kek)) as mt:
        tid = mt.terminal["id"]
        mt.api("PUT", "/api/v1/terminals/%d/kek" % tid, {"key": kek.key.hex(), "algorithm": "A"})
        pushed = mt.api("POST", "/api/v1/tms/keys/push", {"terminal_ids": [tid], "acquirer": "alpha",
                                                          "slots": ["pin", "mac"], "key_version": 1})[0]
        keys = mt.wait_action(pushed["action_id"])
        assert keys["state"] == "success", keys["history"]
        assert {s: v[2] for s, v in mt.stored_key_blocks("alpha").items()} == pushed["kcvs"]
        mt.api("PUT", "/api/v1/tms/parameters/operator/0", {"files": {
            "contactless.json": {"aids": {"A0000000031010": {"rctl": 30000}}}}})
        pushed = mt.api("POST", "/api/v1/tms/parameters/push", {"terminal_ids": [tid]})[0]
        params = mt.wait_action(pushed["action_id"])
        assert params["state"] == "success", params["history"]
        assert mt.flash_json("config/contactless.json")["aids"]["A0000000031010"]["rctl"] == 30000
