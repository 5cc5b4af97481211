"""Broken contactless cards on the whole terminal: each profile fault of the card simulator
holds on the contactless interface, and the terminal ends with a clear outcome: "try again"
on the display, the alert tones (EMV Book A 9.3), nothing sent to the acquirer, nothing in
the batch."""
import pytest

from host_sim.cards.contactless import make_card
from host_sim.rig import Rig


def _tap(rig, minor, card):
    rig.home()
    rig.keys(list(str(minor)) + ["ENTER"])
    rig.wait_text("2 Card")
    rig.keys(["2"])
    rig.wait_text("TAP, INSERT OR SWIPE")
    rig.board.devices["pn532"].tap(card)
    which, text = rig.wait_any(["try again", "APPROVED", "DECLINED"], 40)
    rig.board.devices["pn532"].remove()
    return which, text


@pytest.mark.parametrize("name,minor,why", [
    ("malformed-tlv", 3500, "tag 5F24"),        # online qVSDC: the GPO answer is broken
    ("malformed-tlv", 1250, "tag 9F0F"),        # offline fDDA: record 1 is broken
    ("mute", 3500, "card removed"),             # no answer: the PN532 reports a time-out
])
def test_faulty_card_ends_in_try_again_and_charges_nothing(name, minor, why):
    with Rig() as rig:
        alpha = rig.hosts["alpha"]
        which, text = _tap(rig, minor, make_card(name))
        assert which == "try again", text
        assert "try again: " + why[:12] in text.replace("\n", " ") or why in rig.board.console()
        assert [r["mti"] for r in alpha.db.transactions()] == []      # no 0200 left the terminal
        assert rig.batch() == []
        tones = [f for f, sec in rig.board.devices["buzzer"].tones]
        assert tones[-2:] == [750, 750]                                # alert, not success


def test_malformed_gpo_answer_of_the_card_model():
    """The card model itself: the online GPO answer announces more bytes than it has."""
    from pyemv import tlv
    card = make_card("malformed-tlv")
    card.transmit(bytes.fromhex("00A404000E325041592E5359532E444446303100"))
    card.transmit(bytes.fromhex("00A4040007A000000003101000"))
    pdol = bytes.fromhex("36804000" "000000003500" "000000000000" "0840" "0000000000" "0840" "261127" "00"
                         "DEADBEEF")
    r = card.transmit(bytes.fromhex("80A80000") + bytes((len(pdol) + 2, 0x83, len(pdol))) + pdol + b"\x00")
    assert r[-2:] == b"\x90\x00" and r[0] == 0x77
    with pytest.raises(tlv.DecodeError, match="5F24"):
        tlv.decode(r[:-2])
    good = make_card("visa-credit")
    good.transmit(bytes.fromhex("00A404000E325041592E5359532E444446303100"))
    good.transmit(bytes.fromhex("00A4040007A000000003101000"))
    r = good.transmit(bytes.fromhex("80A80000") + bytes((len(pdol) + 2, 0x83, len(pdol))) + pdol + b"\x00")
    assert "5F24" in tlv.decode(r[:-2])["77"]
