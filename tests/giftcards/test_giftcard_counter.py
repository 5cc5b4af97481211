"""The gift card tender on the whole counter (the frozen firmware on real MicroPython, the
product heap) against the real cloud (SQLite) through a relay: a forged and an unknown number
refused with the sale intact, a card holding less than is due offered for its balance and the
rest paid in cash through the split path, the receipt with the tender and the balance left; a
redemption whose answer was lost sent again under the same invoice and spent once; the sales
uploaded with tender gift_card."""
import pytest

from host_sim.salesync import SyncCounter


def _luhn(body):
    s = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        s += d - 9 if d > 9 else d
    return body + str((10 - s % 10) % 10)


@pytest.fixture(scope="module")
def counter():
    with SyncCounter(log=None) as sc:
        merchant = [x for x in sc.api("GET", "/api/v1/merchants") if x["name"] == "TEST Merchant"][0]
        sc.merchant_id = merchant["id"]
        yield sc


def _issue(sc, balance):
    return sc.api("POST", "/api/v1/merchants/%d/gift-cards" % sc.merchant_id, {"balance": balance})


def _to_gift_card(rig, minor, shown):
    rig.home()
    rig.printer.tear_off()
    rig.keys(list(str(minor)))
    rig.wait_text(shown, 20)
    rig.keys(["ENTER"])
    rig.wait_text("5 Gift card")
    rig.keys(["5"])
    rig.wait_text("Scan or key gift card")


def test_less_balance_than_due_forged_and_unknown_cards_then_the_rest_in_cash(counter):
    sc, rig = counter, counter.rig
    card = _issue(sc, 3000)
    scanner = rig.board.devices["scanner"]
    _to_gift_card(rig, 5000, "50.00")
    forged = card["number"][:-1] + str((int(card["number"][-1]) + 1) % 10)
    rig.keys(list(forged) + ["ENTER"])
    assert "check digit wrong" in rig.wait_text("check digit")
    unknown = _luhn("9" + ("1" if card["number"][1] != "1" else "2") + card["number"][2:-1])
    scanner.scan(unknown)
    assert "not known here" in rig.wait_text("not known")
    scanner.scan(card["number"])
    short = rig.wait_text("LESS THAN DUE")
    assert "BALANCE USD 30.00" in short and "TAKE USD 30.00" in short
    rig.keys(["ENTER"])
    rig.wait_text("Sale USD 20.00")                       # the rest through the tender menu
    rig.keys(["1"])
    rig.wait_text("Cash tendered")
    rig.keys(["F1"])                                      # exact
    rig.wait_text("Receipt printed")
    rig.printer.wait_for_cuts(1)
    receipt = rig.receipts()[-1]
    rig.keys(["ENTER"])
    rig.wait_text("READY")
    last4 = card["number"][-4:]
    assert "GIFT CARD" in receipt and "USD 30.00" in receipt and "USD 20.00" in receipt
    assert "GIFT CARD %s LEFT USD 0.00" % last4 in receipt and card["number"] not in receipt
    got = sc.api("GET", "/api/v1/gift-cards/%d" % card["id"])
    assert got["balance"] == 0 and [(e["kind"], e["amount"]) for e in got["entries"]] == [("issue", 3000),
                                                                                         ("redeem", -3000)]


def test_a_redemption_whose_answer_was_lost_is_sent_again_and_spent_once(counter):
    sc, rig = counter, counter.rig
    card = _issue(sc, 10000)
    _to_gift_card(rig, 1250, "12.50")
    sc.relay.cut_next(b"/redeem", after=0)                # the cloud spends, its answer never arrives
    rig.keys(list(card["number"]) + ["ENTER"])
    rig.wait_text("NO ANSWER: ENTER TO RETRY", 60)
    rig.keys(["ENTER"])                                   # the same invoice again
    rig.wait_text("Receipt printed", 60)
    rig.printer.wait_for_cuts(1)
    receipt = rig.receipts()[-1]
    rig.keys(["ENTER"])
    rig.wait_text("READY")
    assert "LEFT USD 87.50" in receipt
    got = sc.api("GET", "/api/v1/gift-cards/%d" % card["id"])
    redeemed = [e for e in got["entries"] if e["kind"] == "redeem"]
    assert got["balance"] == 8750 and len(redeemed) == 1 and redeemed[0]["amount"] == -1250
    sent = ("/giftcards/%s/redeem " % card["number"]).encode()
    assert sum(1 for h in sc.relay.requests() if sent in h.split(b"\r\n")[0]) == 2    # sent twice, spent once
    # both sales go up with their gift-card tender, the first with its cash part
    assert sc.wait_drained(120)
    tenders = [(t["type"], t["amount"]) for u in sc.cloud_uploads() for t in u["tenders"]]
    assert tenders.count(("gift_card", 3000)) == 1 and ("cash", 2000) in tenders and ("gift_card", 1250) in tenders


def test_a_refund_of_a_gift_card_sale_goes_back_to_the_card(counter):
    sc, rig = counter, counter.rig
    card = _issue(sc, 2000)
    _to_gift_card(rig, 800, "8.00")
    rig.keys(list(card["number"]) + ["ENTER"])
    rig.wait_text("Receipt printed", 60)
    sale = rig.batch()[-1]
    assert (sale["tender"], sale["amount"], sale["gcbal"]) == ("gift", 800, 1200)
    rig.keys(["ENTER"])
    rig.home()
    rig.keys(["MENU", "2"])
    rig.wait_text("Supervisor PIN")
    rig.keys(list("2222") + ["ENTER"])
    rig.wait_text("Original invoice")
    rig.keys(list(str(sale["inv"])) + ["ENTER"])
    assert "USD 8.00" in rig.wait_text("Enter amount")
    rig.keys(["CLEAR", "CLEAR", "CLEAR", "5", "0", "0", "ENTER"])   # 5.00 of it
    rig.wait_text("Scan or key the same card")
    other = _issue(sc, 100)["number"]
    rig.keys(list(other) + ["ENTER"])
    assert "not the card of invoice" in rig.wait_text("not the card")
    rig.keys(list(card["number"]) + ["ENTER"])
    shown = rig.wait_text("BACK ON CARD", 60)
    assert "BALANCE USD 17.00" in shown
    rig.keys(["ENTER"])
    rig.wait_text("READY")
    e = rig.batch()[-1]
    assert (e["kind"], e["tender"], e["amount"], e["orig"]) == ("refund", "gift", 500, sale["inv"])
    assert sc.api("GET", "/api/v1/gift-cards/%d" % card["id"])["balance"] == 1700
