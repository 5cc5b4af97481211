"""Campaigns delivered as terminal parameters (offers.json in the bundle), on real MicroPython:
a good campaign is applied and the counter's table follows it; a bad one refuses the bundle and
the campaign in use stays."""
import json
import os
import shutil

from host_sim.mpy import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GOOD = {"campaigns": [{"id": "EXB10", "bank": "EXAMPLE BANK", "percent": 10, "max_discount": 2000,
                       "start": "2026-11-01", "end": "2026-12-31", "bins": [["476173", "476173"]]}]}
BAD = {"campaigns": [{"id": "EXB15", "bank": "EXAMPLE BANK", "percent": 15, "max_discount": 2000,
                      "start": "2026-11-01", "end": "2026-12-31", "bins": [["4761", "4761"]]}]}

PUSH = """
import json
from pos import tms
from pos.tms import params
from pos.offers import current_table
for b in json.loads(%r):
    try:
        params.apply(params.validate(b, params.installed_version()), b["version"])
        print("APPLIED", b["version"])
    except params.ParamsError as e:
        print("REFUSED", e)
    m = current_table(tms.installed_params_version()).match("4761739001010119", 5000, 20261128)
    print("MATCH", m.campaign, m.discount)
"""


def test_a_bad_campaign_is_refused_and_the_old_one_stays(tmp_path):
    shutil.copytree(os.path.join(REPO, "firmware", "config"), tmp_path / "config")
    bundles = [{"version": 2, "files": {"offers.json": GOOD}},
               {"version": 3, "files": {"offers.json": BAD}}]
    out = run(PUSH % json.dumps(bundles), cwd=str(tmp_path)).strip().splitlines()
    assert out[0] == "APPLIED 2"
    assert out[1] == "MATCH EXB10 500"
    assert out[2].startswith("REFUSED offers.json: campaign EXB15.bins[0]: a BIN is 6 or 8 digits"), out[2]
    assert out[3] == "MATCH EXB10 500"
    assert json.loads((tmp_path / "config" / "offers.json").read_text())["campaigns"][0]["id"] == "EXB10"
