"""The bank campaign table on real MicroPython with the board's heap: the check a parameter
bundle goes through, the compiled table on flash, matching by BIN, window, minimum and cap."""
import json
import os

import pytest

from host_sim import mpy

CAMPAIGNS = {"campaigns": [
    {"id": "EXB10", "bank": "EXAMPLE BANK", "percent": 10, "max_discount": 2000, "min_amount": 1000,
     "start": "2026-11-01", "end": "2026-12-31", "bins": [["476173", "476173"], ["41111111", "41111199"]]},
    {"id": "UPAY5", "bank": "UNION BANK", "percent": 5, "max_discount": 500,
     "start": "2026-11-01", "end": "2026-11-30", "bins": [["625094", "625094"]]},
]}

RUN = """
import json, os
from pos.offers import current_table, table
os.chdir(%r)
with open("config/offers.json", "w") as f:
    f.write(%r)
t = current_table(7)
def show(pan, amount, day):
    m = t.match(pan, amount, day)
    print(None if m is None else (m.campaign, m.bank, m.percent_text(), m.discount))
show("4761739001010119", 5000, 20261128)     # 10 %% of 50.00
show("4761739001010119", 30000, 20261128)    # capped at 20.00
show("4761739001010119", 999, 20261128)      # under the minimum
show("4761739001010119", 5000, 20270101)     # after the end
show("5413330089010434", 5000, 20261128)     # another bank
show("4111111150000000", 5000, 20261128)     # 8-digit range
show("4111120000000000", 5000, 20261128)     # just past it
show("6250941006528599", 1999, 20261128)     # 5 %% of 19.99 rounds down to 0.99
print("stamp", t.stamp() == table.stamp_of(7, os.stat("config/offers.json")[6]))
"""


def test_table_matches_bin_window_minimum_and_cap(tmp_path):
    os.makedirs(tmp_path / "config")
    out = mpy.run(RUN % (str(tmp_path), json.dumps(CAMPAIGNS))).split("\n")
    assert out[:9] == [
        "('EXB10', 'EXAMPLE BANK', '10%', 500)",
        "('EXB10', 'EXAMPLE BANK', '10%', 2000)",
        "None", "None", "None",
        "('EXB10', 'EXAMPLE BANK', '10%', 500)",
        "None",
        "('UPAY5', 'UNION BANK', '5%', 99)",
        "stamp True"]
    # the compiled table: 12-byte head, 54 bytes a campaign, 10 bytes a BIN range
    assert os.path.getsize(tmp_path / "config" / "offers.bin") == 12 + 2 * 54 + 3 * 10


BAD = [
    ({"campaigns": [dict(CAMPAIGNS["campaigns"][0], percent=80)]}, "EXB10.percent"),
    ({"campaigns": [dict(CAMPAIGNS["campaigns"][0], bins=[["47617", "47617"]])]}, "6 or 8 digits"),
    ({"campaigns": [dict(CAMPAIGNS["campaigns"][0], start="2026-12-31", end="2026-01-01")]}, "ends before it starts"),
    ({"campaigns": [dict(CAMPAIGNS["campaigns"][0], max_discount=0)]}, "max_discount"),
    ({"campaigns": [CAMPAIGNS["campaigns"][0], dict(CAMPAIGNS["campaigns"][1], bins=[["47617300", "47617399"]])]},
     "overlaps campaign EXB10"),
    ({"campaigns": [CAMPAIGNS["campaigns"][0], CAMPAIGNS["campaigns"][0]]}, "given twice"),
]

CHECK = """
from pos.offers import campaign
for d in %r:
    try:
        campaign.check(d)
        print("ACCEPTED")
    except campaign.OfferError as e:
        print(e)
"""


def test_bad_campaigns_are_refused_with_the_reason():
    out = mpy.run(CHECK % ([d for d, _ in BAD],)).strip().split("\n")
    assert len(out) == len(BAD)
    for line, (_, why) in zip(out, BAD):
        assert line.startswith("offers.json: ") and why in line, line
