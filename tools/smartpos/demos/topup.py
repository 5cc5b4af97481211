"""The top-up and bill pay app on the virtual board against the biller host: a PIN mobile
top-up paid in cash (the voucher PIN printed once), a utility bill paid by card, and a bill
paid by card that the biller does not answer in time: queried, reversed, refunded."""
import os
import time

from host_sim.hosts.biller import BillerHost
from host_sim.hosts.biller.counter import (install, open_app, package_bytes, pay_by_card, pay_by_cash,
                                           supervisor_refund)
from host_sim.rig import PRODUCT_HEAP, Rig

TIMEOUT_MS = 3000           # the app's wait for the biller (its parameters)


def _slips(rig, n0):
    for s in rig.receipts()[n0:]:
        print("  " + s.replace("\n", "\n  "))
        print("  " + "-" * 32)


def topup(args):
    biller = BillerHost(port=0).start()
    biller.stall_s = 2 * TIMEOUT_MS / 1000
    size = package_bytes()
    checks = []
    try:
        def put(rig):
            install(rig, biller, "TERM0001", TIMEOUT_MS)
            print("installed (developer mode, copied as the app-sandbox demo does): apps/topup, %d bytes;"
                  " parameters for TERM0001 in its storage" % size)

        with Rig(before_boot=put) as rig:
            print("biller host on 127.0.0.1:%d; terminal heap %s" % (biller.port, PRODUCT_HEAP))

            print("\n1. Mobile top-up, Lumen Tel (PIN voucher) 170****5678, USD 10.00, cash")
            open_app(rig)
            n0 = len(rig.receipts())
            rig.keys(["1"])
            rig.wait_text("1 Lumen Tel")
            rig.keys(["1"] + list("17012345678") + ["ENTER"])
            rig.wait_text("2 USD 10.00")
            rig.keys(["2"])
            pay_by_cash(rig, "10.00", "1000")
            rig.wait_text("PIN on the receipt", 30)
            _slips(rig, n0)
            rec = biller.records()[-1]
            pin = rec["answer"].get("voucher_pin", "-")
            voucher = [s for s in rig.receipts()[n0:] if "Voucher PIN" in s]
            checks.append(("top-up done with the voucher PIN printed once",
                           rec["answer"]["status"] == "done" and len(voucher) == 1
                           and pin[:4] + " " + pin[4:8] in voucher[0] and rec["answer"]["biller_ref"] in voucher[0]))
            rig.keys(["ENTER"])

            print("\n2. Bill pay, City Power account 1000200048, amount due USD 120.00, card")
            n0, b0 = len(rig.receipts()), len(rig.batch())
            rig.keys(["2", "1"] + list("1000200048") + ["ENTER"])
            print("  " + rig.wait_text("Due USD 120.00").replace("\n", "\n  "))
            rig.keys(["ENTER"])
            pay_by_card(rig, "120.00")
            rig.wait_text("Biller ref", 30)
            _slips(rig, n0)
            rec = biller.records()[-1]
            e = rig.batch()[b0:]
            checks.append(("bill paid by card and credited at the biller",
                           rec["answer"]["status"] == "done" and rec["amount"] == 12000
                           and [(x["tender"], x["amount"], x["ok"]) for x in e] == [("card", 12000, True)]
                           and biller.catalog.billers["POWER"]["accounts"]["1000200048"][1] == 0
                           and rec["answer"]["biller_ref"] in rig.receipts()[-1]))
            rig.keys(["ENTER"])

            print("\n3. Bill pay, City Power account 1000200030, USD 84.50, card; the biller holds the"
                  " request past the app's %d ms" % TIMEOUT_MS)
            n0, b0 = len(rig.receipts()), len(rig.batch())
            biller.stall_next = 1
            rig.keys(["2", "1"] + list("1000200030") + ["ENTER"])
            rig.wait_text("Due USD 84.50")
            rig.keys(["ENTER"])
            pay_by_card(rig, "84.50")
            print("  the app queried and reversed at the biller; the counter asks for the supervisor's PIN")
            supervisor_refund(rig)
            _slips(rig, n0)
            held = time.monotonic() + 30     # the held pay wakes after its reversal: is it applied?
            while [p for p, t, st in biller.requests].count("/v1/pay") < 3 and time.monotonic() < held:
                time.sleep(0.05)
            e = rig.batch()[b0:]
            key = [r for r in biller.records() if r["account"] == "1000200030"]
            checks.append(("biller timeout after payment: reversed at the biller and refunded",
                           [(x.get("kind", "sale"), x["amount"], x["ok"]) for x in e]
                           == [("sale", 8450, True), ("refund", 8450, True)]
                           and len(key) == 1 and key[0]["answer"]["status"] == "reversed"
                           and biller.catalog.billers["POWER"]["accounts"]["1000200030"][1] == 8450
                           and "REFUNDED" in rig.receipts()[-1]))
            rig.keys(["ENTER", "CANCEL"])
            rig.wait_text("READY")
            paths = [p for p, term, st in biller.requests]
            print("\nbiller requests: %s" % ", ".join("%s x%d" % (p, paths.count(p)) for p in sorted(set(paths))))
            appdata = os.path.join(rig.flash_dir, "appdata", "topup")
            kept = "".join(open(os.path.join(appdata, f)).read() for f in os.listdir(appdata))
            checks.append(("no voucher PIN kept in the app's storage", pin not in kept))
    finally:
        biller.stop()
    for what, ok in checks:
        print("  %-70s %s" % (what, "ok" if ok else "FAILED"))
    ok = len(checks) == 4 and all(ok for _, ok in checks)
    return ok, ("top-up app (%d bytes, only pos.sdk): PIN top-up in cash with its voucher printed once, a bill paid"
                " by card, and a biller timeout after a card payment queried, reversed and refunded"
                % size if ok else "top-up app: " + "; ".join(w for w, k in checks if not k) + " FAILED")


SCENARIOS = {"topup": topup}
