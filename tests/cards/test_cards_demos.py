"""The EMV contact `smartpos demo` scenarios on the whole virtual terminal: each gives the
expected outcome, and nothing printed carries a full PAN."""
import re

import pytest

from smartpos.demos import contact

PANS = ("4761739001010119", "4761739001010135", "5413330089010442", "4761739001010010",
        "4761739001010143")


class Args:
    save_display = None


@pytest.mark.parametrize("name,expect", [
    ("contact-offline-approve", r"APPROVED OFFLINE TC TVR=0000000000"),
    ("contact-online-approve", r"APPROVED ONLINE TC TVR=0000008000"),
    ("contact-decline", r"DECLINED ONLINE AAC"),
    ("contact-offline-pin", r"APPROVED OFFLINE TC TVR=0000000000"),
    ("contact-bad-cert", r"DECLINED ONLINE AAC TVR=04"),
])
def test_contact_demo(name, expect, capsys):
    ok, outcome = contact.SCENARIOS[name](Args())
    out = capsys.readouterr().out
    assert ok, (outcome, out[-1500:])
    assert re.match(expect, outcome), outcome
    assert not any(p in out for p in PANS)
