"""EMV contact chip demos on the whole virtual terminal (host_sim.rig): the firmware frozen
on the virtual board, a card from the card simulator in the ISO 7816 reader model, the EMV
kernel and payment engine on the board, the acquirer host with its HSM.

    smartpos demo --scenario contact-offline-pin

Each scenario keys a sale on the keypad, inserts the card, enters the PIN when the
display asks, prints the APDU exchange (headers and status words only), the receipt
transcript and the outcome; it is ok only when the outcome is the expected one.
"""
import re
import time

_INS = {0xA4: "SELECT", 0xB2: "READ RECORD", 0xA8: "GET PROCESSING OPTIONS", 0xCA: "GET DATA",
        0x20: "VERIFY", 0x84: "GET CHALLENGE", 0x88: "INTERNAL AUTHENTICATE", 0xAE: "GENERATE AC",
        0x82: "EXTERNAL AUTHENTICATE", 0xC0: "GET RESPONSE"}


def run_sale(args, profile, amount, pin=None, check=None):
    from host_sim.rig import Rig
    with Rig() as rig:
        n0 = len(rig.receipts())
        t0 = time.monotonic()
        text = rig.sale_by_card(amount, profile, pin=pin)
        took = time.monotonic() - t0
        slot = rig.slot
        card = rig.last_card
        print("card %s (%s), protocol T=%d" % (profile, card.profile.get("description", ""), card.protocol))
        for c, r in slot.apdus:
            print("  > %-24s %s  < SW %s" % (_INS.get(c[1], "%02X" % c[1]), c[:4].hex().upper(),
                                             r[-2:].hex().upper()))
        rig.printer.wait_for_cuts(n0 + 2, timeout=10)
        receipts = rig.receipts()[n0:]
        e = rig.batch()[-1] if rig.batch() else {}
        log = rig.board.console()
        m = re.findall(r"INFO emv outcome (.*)", log)
        if m:
            print("  kernel: %s" % m[-1].strip())
        for r in receipts[-1:]:
            print("--- customer receipt ---")
            print(r)
        if getattr(args, "save_display", None):
            rig.display.save_png(args.save_display) if hasattr(rig.display, "save_png") else \
                rig.display.image().save(args.save_display)
        screen = text.split("\n")
        result = next((l.strip() for l in screen if l.strip() in ("APPROVED", "DECLINED", "NOT COMPLETED")), "?")
        outcome = _outcome(result, log, e)
        print("  keys to card result: %.1f s wall clock" % took)
        ok = check(result, outcome, e, receipts, rig) if check else True
        return ok, outcome


def _outcome(result, log, e):
    m = re.findall(r"INFO emv outcome .*?cid=(\w*) .*?online=(\w+) .*?result=(\w+) tsi=(\w+) tvr=(\w+)", log)
    if m:
        cid, onl, res, tsi, tvr = m[-1]
        online = "ONLINE" if onl == "yes" else "OFFLINE"
        ctype = {"40": "TC", "80": "ARQC", "00": "AAC"}.get(cid, cid or "-")
        if res in ("approved", "declined"):
            return "%s %s %s TVR=%s TSI=%s" % (res.upper(), online, ctype, tvr, tsi)
        return "%s TVR=%s" % (res.upper(), tvr)
    return result


def offline_approve(args):
    # Mastercard-like card, amount under the floor limit, signature: TC offline, advice queued
    return run_sale(args, "mastercard-cvn17", 2500, check=lambda res, out, e, rc, rig:
                    out.startswith("APPROVED OFFLINE TC") and any("CARDHOLDER SIGNATURE" in r for r in rc))


def online_approve(args):
    # above the floor limit: ARQC, the acquirer's HSM verifies it, ARPC (method 2, CVN 18) back
    def check(res, out, e, rc, rig):
        t = rig.hosts["alpha"].db.txn("TERM0001", e.get("stan", ""))
        return out.startswith("APPROVED ONLINE TC") and t is not None and t["rc"] == "00"
    return run_sale(args, "visa-credit", 150000, pin="1234", check=check)


def decline(args):
    # the issuer declines (51 insufficient funds): the card gives an AAC
    return run_sale(args, "visa-lowbalance", 150000, check=lambda res, out, e, rc, rig:
                    out.startswith("DECLINED ONLINE AAC") and res == "DECLINED")


def offline_pin(args):
    # T=1 card, offline plaintext PIN verified by the card, approved offline
    return run_sale(args, "visa-cvn10", 1250, pin="1234", check=lambda res, out, e, rc, rig:
                    out.startswith("APPROVED OFFLINE TC") and any("PIN VERIFIED" in r for r in rc))


def bad_cert(args):
    # the issuer certificate does not recover: CDA failed (TVR byte 1 bit 3); online; the
    # issuer declines a card that failed offline data authentication
    return run_sale(args, "bad-cert", 1250, check=lambda res, out, e, rc, rig:
                    out.startswith("DECLINED") and re.search(r"TVR=([0-9A-F]{10})", out) is not None
                    and int(re.search(r"TVR=([0-9A-F]{2})", out).group(1), 16) & 0x04)


SCENARIOS = {
    "contact-offline-approve": offline_approve,
    "contact-online-approve": online_approve,
    "contact-decline": decline,
    "contact-offline-pin": offline_pin,
    "contact-bad-cert": bad_cert,
}
