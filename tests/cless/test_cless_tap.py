"""Contactless on the whole terminal: a card or phone tapped on the PN532 model, Entry Point
and the Visa-like online kernel on the board, ARQC verified by the acquirer host; LEDs,
limits, collision and a card leaving the field."""
import pytest

from smartpos.demos import contactless


class Args:
    save_display = None


def _to_insert_card(rig, minor):
    rig.home()
    rig.keys(list(str(minor)) + ["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    rig.wait_text("INSERT")


@pytest.mark.parametrize("name,starts", [
    ("contactless-visa", "APPROVED ONLINE contactless USD 35.00"),
    ("contactless-visa-offline", "APPROVED OFFLINE contactless USD 12.50 (TC with fDDA"),
    ("contactless-phone", "APPROVED ONLINE phone wallet"),
    ("contactless-over-limit", "TRY ANOTHER INTERFACE"),
    ("contactless-mastercard", "APPROVED OFFLINE contactless Mastercard-like (M/Chip flow, CDA) USD 30.00, TC"),
])
def test_contactless_demo(name, starts, capsys):
    ok, outcome = contactless.SCENARIOS[name](Args())
    out = capsys.readouterr().out
    assert ok, (outcome, out[-1500:])
    assert outcome.startswith(starts)
    assert "4761739001010119" not in out and "4761739001010135" not in out and "5413330089010442" not in out
    if name != "contactless-over-limit":
        assert "LEDs [1, 1, 1, 1]" in out                 # Book A: all four on, success
        assert "tones: [1500]" in out                     # one success tone (Book A 9.3)
    else:
        assert "tones: [750, 750]" in out                 # alert: two short tones


def test_two_cards_and_a_card_leaving_the_field():
    from host_sim.rig import Rig
    from host_sim.cards.contactless import make_card
    with Rig() as rig:
        _to_insert_card(rig, 1250)
        nfc = rig.board.devices["pn532"]
        nfc.tap(make_card("visa-cvn10"), make_card("visa-credit"))     # both enter the field together
        rig.wait_text("PLEASE PRESENT ONE CARD")
        nfc.remove()
        nfc.inject("leave")                             # the next card leaves at its first APDU
        nfc.tap(make_card("visa-cvn10"))
        text = rig.wait_text("try again")
        assert "card removed" in text
        assert rig.batch() == []                        # nothing charged


def test_card_that_must_fall_back_to_contact():
    from host_sim.rig import Rig
    from host_sim.cards import load_profile
    from host_sim.cards.contactless import ContactlessCard
    with Rig() as rig:
        _to_insert_card(rig, 1250)
        p = dict(load_profile("visa-credit"), cl_contact_only=True)
        rig.board.devices["pn532"].tap(ContactlessCard(p))
        rig.wait_text("PLEASE INSERT OR SWIPE")
        rig.board.devices["pn532"].remove()
        rig.insert("visa-cvn10")                        # then the chip
        assert "APPROVED" in rig.finish_card("1234")


def test_fdda_failure_declines():
    """A card whose issuer certificate does not recover: its offline TC is not accepted."""
    from host_sim.rig import Rig
    from host_sim.cards.contactless import make_card
    with Rig() as rig:
        _to_insert_card(rig, 1250)
        rig.board.devices["pn532"].tap(make_card("bad-cert"))
        text = rig.wait_text("DECLINED", 60)
        assert "fDDA failed" in rig.board.console()
        assert rig.batch() == []


def test_select_next_when_the_first_application_is_blocked():
    """blocked-app: its first AID answers SELECT with 6283; the Entry Point selects the next."""
    from host_sim.rig import Rig
    from host_sim.cards.contactless import make_card
    with Rig() as rig:
        _to_insert_card(rig, 3500)
        rig.board.devices["pn532"].tap(make_card("blocked-app"))
        rig.wait_text("APPROVED", 60)
        assert "select next aid=A000000***1010 sw=6283" in rig.board.console()
        assert rig.batch()[-1]["aid"] == "A0000000032010"
