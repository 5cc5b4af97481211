"""Magstripe fallback on the whole terminal: a chip card swiped first is told INSERT CHIP;
its chip then fails (a mute chip); the swipe is accepted as a fallback (DE 22 entry mode 80)
and approved online by the acquirer host."""

PAN = "4761739001010119"


def magstripe_fallback(args):
    from host_sim.rig import Rig
    with Rig() as rig:
        rig.home()
        rig.keys(list("2500") + ["ENTER"])
        rig.wait_text("2 Card")
        rig.keys(["2"])
        rig.wait_text("INSERT")
        stripe = {"pan": PAN, "expiry": "2812", "service_code": "201", "name": "TEST/CARDHOLDER"}
        msr = rig.board.devices["msr"]
        msr.swipe(card=stripe)                            # chip card swiped: refused
        t1 = rig.wait_text("INSERT CHIP")
        print("swipe before the chip: %s" % [l for l in t1.split("\n") if "CHIP" in l][0])
        rig.insert("mute")                                # the chip does not answer
        t2 = rig.wait_text("SWIPE CARD", 30)
        print("chip read failed: %s" % [l for l in t2.split("\n") if "SWIPE" in l][0])
        rig.remove()
        n0 = len(rig.receipts())
        msr.swipe(card=stripe)                            # fallback
        which, text = rig.wait_any(["APPROVED", "DECLINED"], 30)
        rig.printer.wait_for_cuts(n0 + 2, timeout=10)
        print(rig.receipts()[-1])
        if getattr(args, "save_display", None):
            rig.display.image().save(args.save_display)
        e = rig.batch()[-1] if rig.batch() else {}
        t = rig.hosts["alpha"].db.txn("TERM0001", e.get("stan", ""))
        ok = which == "APPROVED" and e.get("entry") == "FALLBACK" and t is not None and t["amount"] == 2500
        return ok, "%s FALLBACK TO MAGSTRIPE (entry mode 80) USD 25.00, auth %s" % (which, e.get("auth"))


SCENARIOS = {"magstripe-fallback": magstripe_fallback}
