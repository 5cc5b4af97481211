"""The group-buy app on the virtual board (product heap) against the voucher platform: built
and signed by its developer, published in the cloud's app store and pushed by the operator to
the terminal's group, which verifies and installs it; then a voucher scanned, redeemed and its slip printed, the same voucher refused with when and where it was
used, another store's voucher and an expired one refused, and the day's redemptions
reconciled with the platform's reconciliation file."""
import json
import os
import shutil
import tempfile
import urllib.request

from host_sim.hosts.vouchers import VoucherHost, params, parse_file, signed_query, terminal_key
from host_sim.hosts.vouchers.counter import APP_DIR, open_app, scan_code
from host_sim.hosts.vouchers.deals import VOUCHERS
from host_sim.rig import PRODUCT_HEAP

TIMEOUT_MS = 3000


def _slips(rig, n0):
    for s in rig.receipts()[n0:]:
        print("  " + s.replace("\n", "\n  "))
        print("  " + "-" * 32)


def _screen(text):
    print("  | " + "\n  | ".join(ln for ln in text.splitlines() if ln.strip()))


def groupbuy_redeem(args):
    platform = VoucherHost(port=0).start()
    latte = [c for c, d in VOUCHERS.items() if d == "D1001"]
    hotpot = [c for c, d in VOUCHERS.items() if d == "D1002"][0]
    cake = [c for c, d in VOUCHERS.items() if d == "D1003"][0]
    from host_sim.fleet import ManagedTerminal
    from smartpos.demos.appstore import publish
    tmp = tempfile.mkdtemp(prefix="smartpos-groupbuy-")
    checks = []
    try:
        with ManagedTerminal(poll_s=2, rig=True) as mt:
            rig = mt.rig
            print("voucher platform on 127.0.0.1:%d; terminal heap %s" % (platform.port, PRODUCT_HEAP))
            # the operator's parameters for the app on this terminal (platform, terminal id, key)
            params.write(rig.flash_dir, platform.url, "TERM0001", TIMEOUT_MS)
            m, _ = publish(mt, APP_DIR, "groupbuy-dev", tmp)
            g = mt.api("POST", "/api/v1/tms/groups", {"name": "vouchers pilot", "kind": "static"})
            mt.api("PUT", "/api/v1/tms/groups/%d/members" % g["id"], {"terminal_ids": [mt.terminal["id"]]})
            ro = mt.api("POST", "/api/v1/appstore/apps/%s/push" % m["id"], {"group_id": g["id"]})
            a = mt.wait_action(ro["targets"][0]["action_id"], timeout=120)
            for h in a["history"]:
                print("  feedback %-10s %-7s %s" % (h["execution"], h["finished"], "; ".join(h["details"])))
            on_flash = sorted(os.listdir(os.path.join(rig.flash_dir, "apps", "groupbuy")))
            print("on the terminal's flash: apps/groupbuy/%s" % ", ".join(on_flash))
            checks.append(("pushed from the store, verified and installed", a["state"] == "success"
                           and on_flash == ["app.json", "main.mpy"]))
            open_app(rig)

            print("\n1. Voucher %s (Latte for two) scanned: look up, redeem, slip" % latte[0])
            n0 = len(rig.receipts())
            which, text = scan_code(rig, latte[0])
            _screen(text)
            rig.keys(["ENTER"])
            _screen(rig.wait_text("REDEEMED", 30))
            _slips(rig, n0)
            r = platform.redemptions[-1] if platform.redemptions else {}
            checks.append(("voucher redeemed once and its slip printed",
                           which == "ENTER redeem" and len(platform.redemptions) == 1 and r.get("code") == latte[0]
                           and len(rig.receipts()) == n0 + 1 and r["redemption"] in rig.receipts()[-1]))

            print("\n2. The same voucher scanned again")
            rig.keys(["ENTER"])
            rig.wait_text("Voucher code:")
            rig.board.devices["scanner"].scan(latte[0])
            text = rig.wait_text("ALREADY REDEEMED", 30)
            _screen(text)
            checks.append(("second redemption refused with when and where",
                           "on %s %s" % (r["day"], r["time"]) in text and "at Nanjing Rd" in text
                           and len(platform.redemptions) == 1))

            print("\n3. A Xujiahui-only voucher (Hotpot set for 4) at Nanjing Rd, its code keyed")
            rig.keys(["ENTER"])
            rig.wait_text("Voucher code:")
            rig.keys(list(hotpot) + ["ENTER"])
            text = rig.wait_text("NOT FOR THIS STORE", 30)
            _screen(text)
            print("\n4. An expired voucher (Autumn cake voucher, until 2020-10-31)")
            rig.keys(["ENTER"])
            rig.wait_text("Voucher code:")
            rig.keys(list(cake) + ["ENTER"])
            text2 = rig.wait_text("EXPIRED", 30)
            _screen(text2)
            checks.append(("another store's voucher and an expired one refused",
                           "valid at Xujiahui" in text and "2020-10-31" in text2 and len(platform.redemptions) == 1))

            print("\n5. A second voucher redeemed, then the day reconciled")
            rig.keys(["ENTER"])
            rig.wait_text("Voucher code:")
            rig.keys(list(latte[1]) + ["ENTER"])
            rig.wait_text("ENTER redeem", 30)
            rig.keys(["ENTER"])
            rig.wait_text("REDEEMED", 30)
            rig.keys(["CANCEL"])
            rig.wait_text("2 Reconcile today")
            day = platform.today()
            print("  the platform's reconciliation file for %s:" % day)
            text_file = platform.daily_file(day)
            print("  " + text_file.rstrip().replace("\n", "\n  "))
            n0 = len(rig.receipts())
            rig.keys(["2"])
            text = rig.wait_any(("RECONCILED", "DIFFERENCES"), 30)[1]
            _screen(text)
            _slips(rig, n0)
            checks.append(("the day's redemptions reconcile with the platform's file",
                           "RECONCILED" in text and "Platform 2  Terminal 2" in text
                           and len(parse_file(text_file)) == 2))

            print("\n6. A redemption made with TERM0001's key outside this app, then reconciled again")
            body = json.dumps({"code": latte[2], "idempotency_key": "outside-1"}).encode()
            q = signed_query(terminal_key("TERM0001"), "/v1/redeem", "TERM0001", body)
            urllib.request.urlopen(urllib.request.Request(platform.url + "/v1/redeem?" + q, data=body,
                                                          method="POST"), timeout=10).read()
            extra = platform.redemptions[-1]["redemption"]
            rig.keys(["ENTER"])
            rig.wait_text("2 Reconcile today")
            rig.keys(["2"])
            text = rig.wait_any(("RECONCILED", "DIFFERENCES"), 30)[1]
            _screen(text)
            checks.append(("a redemption the terminal has no record of is found",
                           "DIFFERENCES" in text and "Platform only " + extra in text))
            rig.keys(["ENTER", "CANCEL"])
            rig.wait_text("READY")
            idle = [ln for ln in rig.board.console().splitlines() if "idle heap_free=" in ln]
            print("back at Ready: heap free %s bytes of %s" % (idle[-1].split("heap_free=")[1].split()[0]
                                                             if idle else "?", PRODUCT_HEAP))
    finally:
        platform.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for what, ok in checks:
        print("  %-66s %s" % (what, "ok" if ok else "FAILED"))
    ok = len(checks) == 6 and all(ok for _, ok in checks)
    return ok, ("group-buy app (only pos.sdk) pushed from the app store and installed on the virtual terminal"
                " (heap %s): a voucher redeemed once with its slip,"
                " the second redemption refused with when and where, another store's and an expired voucher"
                " refused, the day reconciled with the platform's file and a difference found"
                % PRODUCT_HEAP if ok
                else "group-buy: " + "; ".join(w for w, k in checks if not k) + " FAILED")


SCENARIOS = {"groupbuy-redeem": groupbuy_redeem}
