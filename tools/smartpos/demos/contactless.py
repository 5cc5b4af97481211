"""Contactless demos on the whole terminal: a card or phone tapped on the PN532 model; the
Entry Point and the Visa-like kernel on the board; online authorization by the acquirer host.
"""
import re


def _tap(args, profile, amount, expect, phone=False):
    from host_sim.rig import Rig
    from host_sim.cards.contactless import ContactlessCard
    from host_sim.cards import load_profile
    with Rig() as rig:
        rig.home()
        rig.keys(list(str(amount)) + ["ENTER"])
        rig.wait_text("2 Card")
        rig.keys(["2"])
        rig.wait_text("INSERT")
        p = dict(load_profile(profile))
        if phone:
            p.update({"cl_phone": True, "token_pan": "4761739001010119"})
        card = ContactlessCard(p)
        nfc = rig.board.devices["pn532"]
        leds = rig.board.devices["leds"]
        nfc.tap(card)
        which, text = rig.wait_any(["APPROVED", "DECLINED", "PLEASE INSERT", "try again", "ONE CARD"], 30)
        nfc.remove()
        log = rig.board.console()
        m = re.findall(r"INFO card contactless done field_ms=(\d+)", log)
        field = m[-1] if m else "?"
        # the lights at the outcome (Book A 9.2: all four, then dark 750 ms later)
        led_state = list(max(leds.sequence() or [(0, 0, 0, 0)], key=sum))
        import time as _t
        _t.sleep(0.7)                                   # the success tone lasts 500 ms
        tones = [f for f, sec in getattr(rig.board.devices["buzzer"], "tones", [])]
        print("tones: %s" % tones)
        print("display: %s" % text.replace("\n", " | "))
        print("card in field: %s ms; LEDs %s" % (field, led_state))
        if getattr(args, "save_display", None):
            rig.display.image().save(args.save_display)
        e = rig.batch()[-1] if rig.batch() else {}
        ok, outcome = expect(which, text, e, rig)
        return ok, outcome


def contactless_visa(args):
    def expect(which, text, e, rig):
        t = rig.hosts["alpha"].db.txn("TERM0001", e.get("stan", ""))
        return (which == "APPROVED" and e.get("entry") == "CONTACTLESS" and t is not None,
                "APPROVED ONLINE contactless USD 35.00 (above the contactless floor: ARQC verified by the host, no CVM)")
    return _tap(args, "visa-cvn10", 3500, expect)


def contactless_visa_offline(args):
    def expect(which, text, e, rig):
        t = rig.hosts["alpha"].db.txn("TERM0001", e.get("stan", ""))
        return (which == "APPROVED" and not e.get("online") and e.get("ctype") == "TC" and t is not None,
                "APPROVED OFFLINE contactless USD 12.50 (TC with fDDA verified on the terminal; advice 0220 sent)")
    return _tap(args, "visa-cvn10", 1250, expect)


def contactless_phone(args):
    def expect(which, text, e, rig):
        return (which == "APPROVED" and e.get("cvm") == "consumer device CVM",
                "APPROVED ONLINE phone wallet USD 80.00 above the CVM limit (consumer device CVM)")
    return _tap(args, "visa-credit", 8000, expect, phone=True)


def contactless_over_limit(args):
    def expect(which, text, e, rig):
        return (which == "PLEASE INSERT" and not rig.batch(),
                "TRY ANOTHER INTERFACE: USD 250.00 over the contactless limit, insert the card")
    return _tap(args, "visa-credit", 25000, expect)


def contactless_mastercard(args):
    def expect(which, text, e, rig):
        return (which == "APPROVED" and e.get("entry") == "CONTACTLESS" and bool(e.get("cryptogram")),
                "APPROVED %s contactless Mastercard-like (M/Chip flow, CDA) USD 30.00, %s" % (
                    "ONLINE" if e.get("online") else "OFFLINE", e.get("ctype")))
    return _tap(args, "mastercard-cvn17", 3000, expect)


SCENARIOS = {"contactless-visa": contactless_visa, "contactless-visa-offline": contactless_visa_offline, "contactless-mastercard": contactless_mastercard, "contactless-phone": contactless_phone,
             "contactless-over-limit": contactless_over_limit}
