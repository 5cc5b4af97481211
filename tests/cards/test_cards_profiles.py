"""Profile loading: every shipped profile loads, bad files give clear errors; basic APDUs and SWs."""
import json

import pytest

from host_sim.cards import ProfileError, list_profiles, load_profile, make_card


def test_every_shipped_profile_loads():
    names = list_profiles()
    for n in ("visa-credit", "visa-cvn10", "mastercard-credit", "mastercard-cvn17", "unionpay-debit",
              "bad-cert", "expired", "blocked-app", "pin-blocked", "malformed-tlv", "mute"):
        assert n in names
        assert load_profile(n)["name"]


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(ProfileError, match="visa-credit"):
        load_profile("no-such-card")


@pytest.mark.parametrize("text,msg", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
])
def test_bad_json(tmp_path, text, msg):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(ProfileError, match=msg):
        load_profile(str(f))


@pytest.mark.parametrize("field,value,msg", [
    ("pan", "4761739001010011", "Luhn"),
    ("rid", "A00000000", "even-length hex"),
    ("cvn", 99, "cvn must be"),
    ("applications", [], "non-empty"),
    ("pin", "12", "pin must be"),
])
def test_bad_fields(tmp_path, field, value, msg):
    p = load_profile("visa-credit")
    p[field] = value
    f = tmp_path / "edited.json"
    f.write_text(json.dumps(p))
    with pytest.raises(ProfileError, match=msg):
        load_profile(str(f))


def test_missing_field(tmp_path):
    p = load_profile("visa-credit")
    del p["pan"]
    f = tmp_path / "edited.json"
    f.write_text(json.dumps(p))
    with pytest.raises(ProfileError, match="missing field 'pan'"):
        load_profile(str(f))


def test_select_pse_and_unknown_aid():
    card = make_card("visa-credit")
    r = card.transmit(bytes.fromhex("00A404000E315041592E5359532E444446303100"))
    assert r[-2:] == b"\x90\x00" and r[0] == 0x6F
    r = card.transmit(bytes.fromhex("00A4040007A000000999999900"))
    assert r[-2:] == b"\x6a\x82"
