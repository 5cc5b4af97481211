"""Transit-card recharge (apps/transit) on the virtual board, product heap, against the transit
operator's load host: a purse loaded after a cash payment (transit-recharge), and torn loads
(transit-recharge-torn): the card lifted before CREDIT FOR LOAD reached it, and lifted after it
loaded but before its answer came back; each recovered on the next tap with GET TRANSACTION
PROVE, loaded exactly once."""
from host_sim.hosts.transit import TransitHost, make_card
from host_sim.hosts.transit.counter import install, open_app, package_bytes, pay_by_cash
from host_sim.rig import PRODUCT_HEAP, Rig

CREDIT, PROVE = 0x52, 0x5A
NAMES = {0xA4: "SELECT", 0x5C: "GET BALANCE", 0x50: "INITIALIZE FOR LOAD", 0x52: "CREDIT FOR LOAD",
         0x5A: "GET TRANSACTION PROVE"}


def _session(body):
    host = TransitHost(port=0).start()
    try:
        with Rig(before_boot=lambda r: install(r, host)) as rig:
            print("transit host on 127.0.0.1:%d; terminal heap %s; app installed compiled, %d bytes on flash"
                  % (host.port, PRODUCT_HEAP, package_bytes(rig)))
            open_app(rig)
            rig.wait_text("Tap the transit card")
            checks = body(rig, host, rig.board.devices["pn532"])
            rig.keys(["CANCEL"])
            rig.wait_text("READY")
            started = [ln for ln in rig.board.console().splitlines() if "apps start app=transit" in ln]
            if started:
                print("heap free when the app started: %s bytes of %s (its own use is held under the runtime's"
                      " 16 KB budget)" % (started[-1].split("heap_free=")[1].split()[0], PRODUCT_HEAP))
            return checks
    finally:
        host.stop()


def _buy(rig, nfc, card, key, amount):
    nfc.tap(card)
    print("  " + rig.wait_text("Load " + amount).replace("\n", "\n  "))
    nfc.remove()
    rig.keys([key])
    pay_by_cash(rig, amount, amount.replace(".", ""))
    rig.wait_text("Hold the card")
    print("  paid USD %s in cash; the app asks for the card" % amount)


def _wire(card, since=0):
    return ", ".join(NAMES.get(i, "%02X" % i) for i in card.apdus[since:])


def _slip(rig, n0):
    for s in rig.receipts()[n0:]:
        print("  " + s.replace("\n", "\n  "))


def recharge(args):
    def body(rig, host, nfc):
        card = make_card("31049000000000012345", balance=150)
        print("\n1. Card 3104 9000 0000 0001 2345, balance 1.50: load USD 20.00")
        _buy(rig, nfc, card, "2", "20.00")
        n0, a0 = len(rig.receipts()), len(card.apdus)
        nfc.tap(card)
        print("  " + rig.wait_text("Balance USD 21.50").replace("\n", "\n  "))
        print("  on the wire: " + _wire(card, a0))
        _slip(rig, n0)
        rec = list(host.records().values())[-1]
        checks = [("purse 1.50 -> 21.50, online counter 0 -> 1", card.balance == 2150 and card.counter == 1),
                  ("host: MAC1 verified, one MAC2, TAC verified", rec["status"] == "done" and rec["issued"] == 1),
                  ("slip with the TAC and the new balance",
                   "TAC " in rig.receipts()[n0] and "Balance USD 21.50" in rig.receipts()[n0])]
        nfc.remove()
        rig.keys(["ENTER"])
        bad = make_card("31049000000000044444", balance=100)
        bad.dlk = bytes(16)
        print("\n2. A card whose load key is not the operator's: load USD 10.00")
        _buy(rig, nfc, bad, "1", "10.00")
        nfc.tap(bad)
        print("  " + rig.wait_text("RETURN USD 10.00 CASH").replace("\n", "\n  "))
        checks.append(("wrong MAC1: not loaded, cash stated for return", bad.balance == 100 and CREDIT not in bad.apdus))
        nfc.remove()
        return checks

    checks = _session(body)
    return _verdict(checks, "transit-card load after a cash payment (SELECT, GET BALANCE, INITIALIZE, MAC1 -> host"
                            " -> MAC2, CREDIT, TAC verified); a card with a wrong MAC1 not loaded")


def torn(args):
    def body(rig, host, nfc):
        checks = []
        card = make_card("31049000000000022222", balance=500)
        print("\n1. Load USD 10.00; the card is lifted as CREDIT FOR LOAD is sent (it never reaches the card)")
        _buy(rig, nfc, card, "1", "10.00")
        nfc.inject("leave", ins=CREDIT)
        nfc.tap(card)
        print("  " + rig.wait_text("Card lifted").replace("\n", "\n  "))
        print("  card: balance %s, counter %d" % (card.balance, card.counter))
        a0 = len(card.apdus)
        nfc.tap(card)
        print("  " + rig.wait_text("Balance USD 15.00").replace("\n", "\n  "))
        print("  next tap, on the wire: " + _wire(card, a0))
        rec = [r for r in host.records().values() if r["serial"].endswith("22222")][-1]
        checks.append(("not loaded (proof 9406): loaded on the next tap, once",
                       card.balance == 1500 and card.counter == 1 and PROVE in card.apdus[a0:]
                       and rec["status"] == "done"))
        nfc.remove()
        rig.keys(["ENTER"])
        rig.wait_text("Tap the transit card")

        card = make_card("31049000000000033333", balance=0)
        print("\n2. Load USD 50.00; the card loads, then is lifted before its TAC comes back")
        _buy(rig, nfc, card, "3", "50.00")
        nfc.inject("leave_after", ins=CREDIT)
        nfc.tap(card)
        print("  " + rig.wait_text("Card lifted").replace("\n", "\n  "))
        print("  card: balance %s, counter %d (it did load)" % (card.balance, card.counter))
        n0, a0 = len(rig.receipts()), len(card.apdus)
        nfc.tap(card)
        print("  " + rig.wait_text("Balance USD 50.00").replace("\n", "\n  "))
        print("  next tap, on the wire: " + _wire(card, a0))
        _slip(rig, n0)
        rec = [r for r in host.records().values() if r["serial"].endswith("33333")][-1]
        checks.append(("loaded (proof gives MAC2+TAC): confirmed, never credited twice",
                       card.balance == 5000 and card.counter == 1 and card.apdus.count(CREDIT) == 1
                       and rec["status"] == "done" and rec["issued"] == 1))
        nfc.remove()
        return checks

    checks = _session(body)
    return _verdict(checks, "torn loads recovered with GET TRANSACTION PROVE: lifted before CREDIT -> loaded"
                            " once on the next tap; lifted after CREDIT -> confirmed from the proof, not twice")


def _verdict(checks, what):
    for w, ok in checks:
        print("  %-64s %s" % (w, "ok" if ok else "FAILED"))
    ok = bool(checks) and all(ok for _, ok in checks)
    return ok, (what if ok else "; ".join(w for w, k in checks if not k) + " FAILED")


SCENARIOS = {"transit-recharge": recharge, "transit-recharge-torn": torn}
