"""A bank's card-linked offer on the whole counter (docs/bank-offers.md).

    smartpos demo --scenario bank-offer

The issuing bank of BIN 476173 runs "10% off, up to 20.00" (config/offers.json, as terminal
management delivers it).  Three sales of 120.00:

1. its chip card: the offer shows while the card is in; the first GENERATE AC carries
   9F02 = 108.00 and the acquirer host is asked for 108.00 (ISO 8583 field 4, read from the
   bytes the host received); the receipt shows the price, the offer and what the bank pays;
2. a chip card of another bank (BIN 541333): no offer, 120.00 on the wire;
3. its contactless card: the first tap was signed for 120.00, so nothing goes to the host; the
   terminal shows the offer and asks for a second tap, which the card signs for 108.00 (9F02
   in its GPO data) and the host authorises at 108.00.
"""
import datetime
import json
import os

PRICE = 12000
DISCOUNTED = 10800
DISCOUNT = PRICE - DISCOUNTED
BANK_BIN = "476173"


def campaign(today=None):
    """offers.json of the demo: the bank's campaign running from a month ago to a month ahead."""
    today = today or datetime.date.today()
    return {"campaigns": [{"id": "EXB10", "bank": "EXAMPLE BANK", "percent": 10, "max_discount": 2000,
                           "min_amount": 1000, "start": (today - datetime.timedelta(days=30)).isoformat(),
                           "end": (today + datetime.timedelta(days=30)).isoformat(),
                           "bins": [[BANK_BIN, BANK_BIN]]}]}


def wire_amounts(rig):
    """Tap every acquirer host: [(host name, MTI, DE 4 as int)] of each request as received,
    decoded from the bytes on the wire (PAN masked by the host's trace)."""
    import iso8583
    seen = []

    def listen(name, host):
        def on_message(direction, summary, raw, ports):
            if direction != "out":
                return
            doc, _ = iso8583.decode(bytearray(raw), host.spec)
            if "4" in doc:
                seen.append((name, doc["t"], int(doc["4"])))
        return on_message
    for name, host in rig.hosts.items():
        host.on_message = listen(name, host)
    return seen


def first_generate_ac_amount(card):
    """9F02 of the card's first GENERATE AC (its CDOL1 data), from the card's APDU log."""
    from host_sim.cards.card import dol_values
    for c in card.log:
        if c[1] == 0xAE:
            v = dict(dol_values(card.cdol1, c[5:5 + c[4]]))
            return int(v[0x9F02].hex())
    return None


def gpo_amounts(card):
    """9F02 of each GET PROCESSING OPTIONS the contactless card answered (qVSDC PDOL data)."""
    from host_sim.cards.card import dol_values
    from host_sim.cards.contactless import PDOL
    out = []
    for c in card.log:
        if c[1] == 0xA8:
            data = c[5:5 + c[4]]
            out.append(int(dict(dol_values(PDOL, data[2:2 + data[1]]))[0x9F02].hex()))
    return out


def _chip_sale(rig, profile, wire, receipts_before):
    n = len(wire)
    from host_sim.cards import load_profile
    text = rig.sale_by_card(PRICE, profile, pin=load_profile(profile)["pin"])
    rig.remove()
    rig.printer.wait_for_cuts(receipts_before + 2)
    sale = rig.batch()[-1]
    return text, sale, wire[n:], first_generate_ac_amount(rig.last_card)


def bank_offer(args):
    from host_sim.cards import load_profile
    from host_sim.cards.contactless import ContactlessCard
    from host_sim.rig import Rig

    def deliver(rig):
        with open(os.path.join(rig.flash_dir, "config", "offers.json"), "w") as f:
            json.dump(campaign(), f)

    checks = []
    with Rig(before_boot=deliver) as rig:      # the product heap
        try:
            _counter(rig, checks)
        except TimeoutError:
            print(rig.board.console()[-3000:])      # what the board said before it stalled
            raise
    for what, ok in checks:
        print("%s %s" % ("ok  " if ok else "FAIL", what))
    ok = all(ok for _, ok in checks)
    return ok, ("bank's chip card authorised 108.00 online for a 120.00 sale (10% offer: first GENERATE AC "
                "9F02 and DE 4 at 108.00), another bank's card 120.00, bank's contactless card tapped twice "
                "(GPO 120.00 then 108.00) and authorised 108.00; bank-funded discount 12.00 on each of two "
                "sales" if ok else
                "; ".join(w for w, k in checks if not k))


def _counter(rig, checks):
    from host_sim.cards import load_profile
    from host_sim.cards.contactless import ContactlessCard
    wire = wire_amounts(rig)
    # 1. the bank's chip card
    text, sale, sent, gac = _chip_sale(rig, "visa-credit", wire, 0)
    checks.append(("bank chip card: APPROVED online", "APPROVED" in text and sale.get("online")))
    checks.append(("bank chip card: 9F02 in the first GENERATE AC is %s" % gac, gac == DISCOUNTED))
    checks.append(("bank chip card: DE 4 on the wire %s" % [a for _, _, a in sent],
                   [a for _, _, a in sent] == [DISCOUNTED]))
    checks.append(("bank chip card: sale record amount %s, bank discount %s" % (sale["amount"], sale.get("disc")),
                   sale["amount"] == DISCOUNTED and sale.get("disc") == DISCOUNT and sale.get("bank") == "EXAMPLE BANK"))
    rig.keys(["ENTER"])
    # 2. another bank's chip card
    text, sale, sent, gac = _chip_sale(rig, "mastercard-credit", wire, 2)
    checks.append(("other bank chip card: APPROVED at full price, GENERATE AC 9F02 %s, DE 4 %s" % (
        gac, [a for _, _, a in sent]), "APPROVED" in text and gac == PRICE and [a for _, _, a in sent] == [PRICE]
        and "disc" not in sale))
    rig.keys(["ENTER"])
    # 3. the bank's contactless card: a second tap for the new amount
    rig.home()
    rig.keys(list(str(PRICE)) + ["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    rig.wait_text("TAP")
    card = ContactlessCard(load_profile("visa-cvn10"))
    nfc = rig.board.devices["pn532"]
    n = len(wire)
    nfc.tap(card)
    offer_screen = rig.wait_text("REMOVE CARD")
    print("after the first tap:\n" + offer_screen)
    first_tap_sent = wire[n:]
    nfc.remove()
    again = rig.wait_text("TAP SAME CARD AGAIN")
    nfc.tap(card)
    which, result = rig.wait_any(["APPROVED", "DECLINED", "NOT COMPLETED"], 60)
    nfc.remove()
    rig.printer.wait_for_cuts(6)
    sale = rig.batch()[-1]
    gpo = gpo_amounts(card)
    checks.append(("bank contactless card: offer shown and a second tap asked",
                   "OFF WITH EXAMPLE BANK" in offer_screen and "USD 108.00" in again and not first_tap_sent))
    checks.append(("bank contactless card: GPO 9F02 per tap %s, DE 4 on the wire %s" % (
        gpo, [a for _, _, a in wire[n:]]), gpo == [PRICE, DISCOUNTED] and [a for _, _, a in wire[n:]] == [DISCOUNTED]))
    checks.append(("bank contactless card: %s, entry %s, amount %s, bank discount %s" % (
        which, sale.get("entry"), sale["amount"], sale.get("disc")),
        which == "APPROVED" and sale.get("entry") == "CONTACTLESS" and sale["amount"] == DISCOUNTED
        and sale.get("disc") == DISCOUNT))
    receipts = rig.receipts()
    for r in receipts:
        print(r)
        print("-" * 32)
    checks.append(("receipts explain the offer", sum("PAID BY BANK" in r for r in receipts) == 4
                   and sum("EXAMPLE BANK OFFER EXB10" in r for r in receipts) == 4))
    rig.keys(["ENTER"])


SCENARIOS = {"bank-offer": bank_offer}
